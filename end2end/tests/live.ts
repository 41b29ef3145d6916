// Shared steps: open a page and wait until its Stateside stream is live,
// which is when clicks reach the server (the page has hydrated and synced).
import { expect, type Page } from "@playwright/test";

export async function openLive(page: Page, path = "/") {
  await page.goto(path);
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", {
    timeout: 30_000,
  });
}
