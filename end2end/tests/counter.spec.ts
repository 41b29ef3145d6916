// The first slice, through every layer: a click in Chromium becomes a server
// function call, runs in the session's serial queue or as a background task,
// and comes back as a patch on the SSE stream that re-renders the page.
import { expect, test } from "./fixtures";
import { openLive } from "./live";

test("+1 updates the page after hydration", async ({ page }) => {
  await openLive(page);
  const count = page.getByTestId("count");
  await expect(count).toHaveText("0");
  await page.getByRole("button", { name: "+1", exact: true }).click();
  await expect(count).toHaveText("1");
  await page.getByRole("button", { name: "+1", exact: true }).click();
  await expect(count).toHaveText("2");
});

test("+1 clicks apply while the background count runs, and it reaches 10/10", async ({ page }) => {
  await openLive(page);
  const start = page.getByTestId("background-start");
  const background = page.getByTestId("background");
  await start.click();
  // Running: the server disabled the button through a patch.
  await expect(start).toBeDisabled();
  const plus = page.getByRole("button", { name: "+1", exact: true });
  for (let i = 0; i < 3; i++) await plus.click();
  await expect(page.getByTestId("count")).toHaveText("3");
  // Applied while the task was still running, not after it.
  await expect(start).toBeDisabled();
  expect(await background.textContent()).not.toBe("10/10");
  await expect(background).toHaveText("10/10", { timeout: 20_000 });
  await expect(page.locator(".progress-bar")).toHaveAttribute("style", /width: 100%/);
  await expect(start).toBeEnabled();
});

test("a +1 clicked right after slow +1 is applied after it", async ({ page }) => {
  await openLive(page);
  await page.getByRole("button", { name: "slow +1" }).click();
  await page.getByRole("button", { name: "+1", exact: true }).click();
  // The slow handler flushed before sleeping: the page shows it running.
  await expect(page.getByRole("button", { name: /running/ })).toBeVisible();
  await expect(page.getByTestId("applied").locator("li")).toHaveText(["slow +1", "+1"], {
    timeout: 10_000,
  });
  await expect(page.getByTestId("count")).toHaveText("2");
});

test("a reload keeps the tab's session; a second tab gets its own", async ({ page, context }) => {
  await openLive(page);
  await page.getByRole("button", { name: "+1", exact: true }).click();
  await expect(page.getByTestId("count")).toHaveText("1");
  await page.reload();
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live");
  await expect(page.getByTestId("count")).toHaveText("1");

  const other = await context.newPage();
  await openLive(other);
  await expect(other.getByTestId("count")).toHaveText("0");
  await other.close();
});

test("fits a phone-sized screen", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await openLive(page);
  await expect(page.getByRole("button", { name: "+1", exact: true })).toBeInViewport();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
});
