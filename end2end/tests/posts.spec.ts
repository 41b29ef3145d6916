// /posts: ten products from the server's mock API, fetched by a chain of
// foreground events and by one background task. Clicks made during either
// run must be applied before it ends: between steps when chained, at once
// in the background.
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

async function clickDuringRun(page: Page, style: "chained" | "background") {
  await openLive(page, "/posts");
  const column = page.getByTestId(style);
  const items = column.locator(".post-item");
  const clicks = page.getByTestId("clicks");
  await expect(clicks).toHaveText("0");

  await column.getByTestId("start").click();
  await expect(column.getByTestId("start")).toBeDisabled();
  await expect(items.first()).toBeVisible();
  for (let i = 0; i < 3; i++) await page.getByTestId("click").click();
  await expect(clicks).toHaveText("3");
  // The clicks landed while the run was still going.
  expect(await items.count()).toBeLessThan(10);
  await expect(column.getByTestId("start")).toBeDisabled();

  await expect(items).toHaveCount(10, { timeout: 30_000 });
  await expect(column.getByTestId("status")).toHaveText(/^10\/10 in \d+\.\d s · 3 clicks applied$/);
  await expect(column.getByTestId("start")).toBeEnabled();
  // Real JSON from the API, rendered.
  await expect(items.first()).toContainText("Aurora Desk Lamp");
}

test("chained: reaches 10 items, clicks apply between its steps", async ({ page }) => {
  await clickDuringRun(page, "chained");
});

test("background: reaches 10 items, clicks apply during the run", async ({ page }) => {
  await clickDuringRun(page, "background");
});

test("both styles can run side by side", async ({ page }) => {
  await openLive(page, "/posts");
  await page.getByTestId("chained").getByTestId("start").click();
  await page.getByTestId("background").getByTestId("start").click();
  for (const style of ["chained", "background"]) {
    await expect(page.getByTestId(style).locator(".post-item")).toHaveCount(10, { timeout: 30_000 });
  }
});

test("each run's button and progress bar are named after their run", async ({ page }) => {
  await openLive(page, "/posts");
  await expect(page.getByRole("button", { name: "Fetch 10 (Chained)" })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Fetch 10 (Background)" })).toBeEnabled();
  await expect(page.getByRole("progressbar", { name: "Chained" })).toHaveAttribute("aria-valuenow", "0");
  await expect(page.getByRole("progressbar", { name: "Background" })).toHaveAttribute("aria-valuenow", "0");
});
