// Many tabs of one browser on one host. A browser opens at most six HTTP/1.1
// connections per host. A WebSocket does not count against them, so on the
// primary transport every one of 20 tabs stays live. The POST + SSE fallback
// holds one stream per tab on those six and needs a free one for each POST,
// so it holds five tabs: the limit the README states.
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { expectedTransport, openLive } from "./live";

const TABS = { websocket: 20, sse: 5 };

test("every tab of many on one host is live, and each one's clicks show in that tab", async ({
  context,
}) => {
  test.setTimeout(180_000);
  const tabs: Page[] = [];
  for (let i = 0; i < TABS[expectedTransport()]; i++) {
    const page = await context.newPage();
    await openLive(page);
    tabs.push(page);
  }
  // A different number of clicks per tab, so a click landing in the wrong
  // session would show.
  const clicks = (i: number) => 1 + (i % 3);
  for (const [i, page] of tabs.entries()) {
    const plus = page.getByRole("button", { name: "+1", exact: true });
    for (let n = 0; n < clicks(i); n++) await plus.click();
  }
  for (const [i, page] of tabs.entries()) {
    await expect(page.getByTestId("count")).toHaveText(String(clicks(i)));
    await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");
  }
});
