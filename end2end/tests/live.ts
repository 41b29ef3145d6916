// Shared steps: open a page and wait until its Stateside connection is live,
// which is when clicks reach the server (the page has hydrated and synced),
// on the transport this project expects.
import type { Page } from "@playwright/test";
import { expect, test, type Transport } from "./fixtures";

export async function openLive(page: Page, path = "/") {
  await page.goto(path);
  await expectLive(page);
}

/** The banner says the page is live, on the project's transport. */
export async function expectLive(page: Page, timeout = 30_000) {
  const banner = page.locator(".banner");
  await expect(banner).toHaveAttribute("data-status", "live", { timeout });
  await expect(banner).toHaveAttribute("data-transport", expectedTransport());
}

export function expectedTransport(): Transport {
  return (test.info().project.use as { transport?: Transport }).transport ?? "websocket";
}
