// What the user feels of the transport: clicks made offline are applied
// exactly once when the network is back, the stream goes on, a reload shows
// the session's real state without a flash of wrong values, and tabs are
// isolated from each other.
import { expect, test } from "./fixtures";
import { openLive } from "./live";

test("clicks made offline apply exactly once after going back online", async ({ page, context }) => {
  await openLive(page);
  const count = page.getByTestId("count");
  const background = page.getByTestId("background");
  await page.getByTestId("background-start").click();
  await expect(page.getByTestId("background-start")).toBeDisabled();

  await context.setOffline(true);
  const plus = page.getByRole("button", { name: "+1", exact: true });
  for (let i = 0; i < 3; i++) await plus.click();
  // Nothing can reach the server while offline.
  await page.waitForTimeout(500);
  await expect(count).toHaveText("0");

  await context.setOffline(false);
  await expect(count).toHaveText("3", { timeout: 20_000 });
  // The background stream went on through the outage and finishes.
  await expect(background).toHaveText("10/10", { timeout: 20_000 });
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live");
  // Exactly once: no late duplicate shows up.
  await page.waitForTimeout(1000);
  await expect(count).toHaveText("3");
});

test("a reload shows the real state, never a flash of the default", async ({ page }) => {
  await openLive(page);
  const plus = page.getByRole("button", { name: "+1", exact: true });
  for (let i = 0; i < 2; i++) await plus.click();
  await expect(page.getByTestId("count")).toHaveText("2");

  // Record what the count shows on every frame from the first paint on.
  await page.addInitScript(() => {
    const seen: { synced: string | null; text: string | null; hidden: boolean }[] = [];
    (window as any).__seen = seen;
    const sample = () => {
      const count = document.querySelector('[data-testid="count"]');
      if (count) {
        const gate = count.closest(".sync-gate");
        seen.push({
          synced: gate?.getAttribute("data-synced") ?? null,
          text: count.textContent,
          hidden: getComputedStyle(count).color === "rgba(0, 0, 0, 0)",
        });
      }
      requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  });
  await page.reload();
  await expect(page.getByTestId("count")).toHaveText("2");
  const seen: { synced: string; text: string; hidden: boolean }[] = await page.evaluate(
    () => (window as any).__seen,
  );
  expect(seen.length).toBeGreaterThan(0);
  for (const frame of seen) {
    // Every frame either shows the real value or hides the placeholder.
    expect(frame.text === "2" || frame.hidden).toBeTruthy();
  }
  const firstCorrectPaint = await page.evaluate(() => {
    const mark = performance.getEntriesByName("stateside-synced")[0];
    return mark ? mark.startTime : null;
  });
  expect(firstCorrectPaint).not.toBeNull();
  console.log(`first correct paint after reload: ${firstCorrectPaint!.toFixed(0)} ms`);
});

test("two tabs are isolated sessions", async ({ context }) => {
  const first = await context.newPage();
  const second = await context.newPage();
  await openLive(first);
  await openLive(second);
  await first.getByRole("button", { name: "+1", exact: true }).click();
  await first.getByRole("button", { name: "+1", exact: true }).click();
  await second.getByRole("button", { name: "+1", exact: true }).click();
  await expect(first.getByTestId("count")).toHaveText("2");
  await expect(second.getByTestId("count")).toHaveText("1");
  const tokens = await Promise.all(
    [first, second].map((page) => page.evaluate(() => sessionStorage.getItem("stateside.token"))),
  );
  expect(tokens[0]).not.toBeNull();
  expect(tokens[0]).not.toEqual(tokens[1]);
});
