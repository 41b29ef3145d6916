// The `test` every spec uses. The suite runs twice (playwright.config.ts):
// once as a browser normally connects, over one WebSocket per tab, and once
// as behind a proxy that refuses WebSocket upgrades, where the page must fall
// back to POST + SSE by itself and work the same.
import { test as base, expect, type BrowserContext } from "@playwright/test";

export { expect };

/** Which transport a project expects the page to end up on. */
export type Transport = "websocket" | "sse";

export const test = base.extend<{ transport: Transport }>({
  transport: ["websocket", { option: true }],
  context: async ({ context, transport }, use) => {
    if (transport === "sse") await refuseWebSockets(context);
    await use(context);
  },
});

/** Every WebSocket the pages of `context` open is closed at once, as a proxy
 * that blocks upgrades would leave it. Plain HTTP still passes. */
export async function refuseWebSockets(context: BrowserContext) {
  await context.routeWebSocket(/.*/, (socket) =>
    socket.close({ code: 1008, reason: "upgrades are blocked here" }),
  );
}
