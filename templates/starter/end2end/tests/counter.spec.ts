// The page through every layer: a click in Chromium runs a handler on the
// server, in the tab's session, and the patch it sends re-renders the page.
import { expect, test, type Page } from "@playwright/test";

/** Opens the page once its Stateside connection is live, when clicks count. */
async function open(page: Page) {
  await page.goto("/");
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live");
}

test("+1 counts on the server, and a reload keeps the tab's count", async ({ page }) => {
  await open(page);
  const count = page.getByRole("status", { name: "count" });
  await expect(count).toHaveText("0");
  await page.getByRole("button", { name: "+1" }).click();
  await page.getByRole("button", { name: "+1" }).click();
  await expect(count).toHaveText("2");
  await page.reload();
  await expect(count).toHaveText("2");
});

test("the ticker runs beside +1, and Stop cancels it", async ({ page }) => {
  await open(page);
  const ticks = page.getByRole("status", { name: "ticks" });
  const start = page.getByRole("button", { name: "Start ticking" });
  const stop = page.getByRole("button", { name: "Stop" });
  await expect(ticks).toHaveText("0");
  await start.click();
  await expect(start).toBeDisabled();
  await expect(ticks).not.toHaveText("0", { timeout: 5_000 });
  // Foreground events are not held up by the background task.
  await page.getByRole("button", { name: "+1" }).click();
  await expect(page.getByRole("status", { name: "count" })).toHaveText("1");
  await expect(start).toBeDisabled();

  await stop.click();
  await expect(start).toBeEnabled();
  await expect(stop).toBeDisabled();
  const stopped = await ticks.textContent();
  // Three ticks' worth of waiting: a cancelled ticker adds nothing.
  await page.waitForTimeout(3_000);
  await expect(ticks).toHaveText(stopped!);
});
