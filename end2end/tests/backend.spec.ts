// The home page's `#[backend]` and `#[computed]` fields (issue 15): the
// server keeps an audit log of the session's events and never sends it;
// the page shows only the number of events, computed from that log. The
// count reaching 3 proves the log holds the clicks; every message the
// browser received, on this project's transport, proves the log itself
// never left the server: neither in the patches the clicks made nor in the
// snapshot a reload brings. On the file store the log survives a kill -9,
// and the count, recomputed from it, goes on from where it was.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { freePort, start, stop } from "./server";
import { expectLive, expectedTransport, openLive } from "./live";

/** The field's name and a key of its entries: either would be in any
 * message that carried the log, as a patch path, a key or a value. */
const AUDIT_MARKERS = ["audit", "at_unix_ms"];

type Received = { via: "websocket" | "sse"; text: string };

/** Every message the page receives from here on: WebSocket frames, and
 * each message of an SSE stream as Chromium's network layer parsed it
 * (whatever listener the page has on its EventSource). */
async function recordMessages(page: Page): Promise<Received[]> {
  const received: Received[] = [];
  page.on("websocket", (socket) =>
    socket.on("framereceived", ({ payload }) =>
      received.push({
        via: "websocket",
        text: typeof payload === "string" ? payload : payload.toString("utf8"),
      }),
    ),
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.eventSourceMessageReceived", ({ data }) =>
    received.push({ via: "sse", text: data }),
  );
  return received;
}

/** The message as JSON: a socket frame starts with a kind byte (0 for a
 * message, 1 for an error) before its JSON; an SSE message is JSON. */
function parse(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^[\u0000\u0001]/, ""));
  } catch {
    return undefined;
  }
}

/** Whether something in `value` says `events_applied` is `count`: a patch
 * op on the field (on the wire `[code, path, value]`), or a state (a
 * snapshot's, or a whole `add`). */
function carriesCount(value: unknown, count: number): boolean {
  if (Array.isArray(value)) {
    if (value[1] === "/home/events_applied" && value[2] === count) return true;
    return value.some((item) => carriesCount(item, count));
  }
  if (value === null || typeof value !== "object") return false;
  const object = value as Record<string, unknown>;
  if (object.events_applied === count) return true;
  return Object.values(object).some((item) => carriesCount(item, count));
}

/** Whether something in `value` is a snapshot (`{"s": [version, acked,
 * state]}`) whose home state says `events_applied` is `count`. */
function snapshotCarriesCount(value: unknown, count: number): boolean {
  if (Array.isArray(value)) return value.some((item) => snapshotCarriesCount(item, count));
  if (value === null || typeof value !== "object") return false;
  const object = value as Record<string, any>;
  if (Array.isArray(object.s)) return object.s[2]?.home?.events_applied === count;
  return Object.values(object).some((item) => snapshotCarriesCount(item, count));
}

function expectNoAudit(received: Received[]) {
  for (const { via, text } of received) {
    for (const marker of AUDIT_MARKERS) {
      expect(text.includes(marker), `a ${via} message carried "${marker}": ${text}`).toBe(false);
    }
  }
}

test("the event count is computed from an audit log the page never receives", async ({ page }) => {
  const received = await recordMessages(page);
  await openLive(page);
  const via = expectedTransport();
  await expect(page.getByText("0 events applied in this session.")).toBeVisible();

  const plus = page.getByRole("button", { name: "+1", exact: true });
  for (let i = 0; i < 3; i++) await plus.click();
  await expect(page.getByText("3 events applied in this session.")).toBeVisible();
  const applied = page.locator("section", {
    has: page.getByRole("heading", { name: "Applied, in order" }),
  });
  await expect(applied.getByRole("listitem")).toHaveText(["+1", "+1", "+1"]);

  // The clicks' updates came down this project's transport, carrying the
  // count: the check below is not vacuous.
  const patches = received.filter((message) => message.via === via);
  expect(patches.length).toBeGreaterThan(0);
  expect(
    patches.some(({ text }) => carriesCount(parse(text), 3)),
    `no ${via} message carried events_applied 3: ${patches.map(({ text }) => text).join("\n")}`,
  ).toBe(true);
  expectNoAudit(received);

  // A reload opens the same session afresh: the whole document comes down
  // as a snapshot, which has the count and still not the log.
  received.length = 0;
  await page.reload();
  await expectLive(page);
  await expect(page.getByText("3 events applied in this session.")).toBeVisible();
  const snapshots = received.filter((message) => message.via === via);
  expect(
    snapshots.some(({ text }) => snapshotCarriesCount(parse(text), 3)),
    `no ${via} snapshot carried events_applied 3: ${snapshots.map(({ text }) => text).join("\n")}`,
  ).toBe(true);
  expectNoAudit(received);
});

// A server of the test's own on the file store (as in restart.spec.ts).
test("the file store keeps the audit log through a kill -9, and the count goes on from it", async ({
  page,
}) => {
  const store = ["--store", `file:${join(mkdtempSync(join(tmpdir(), "stateside-")), "sessions.redb")}`];
  const port = await freePort();
  let server = await start(port, store);
  try {
    const received = await recordMessages(page);
    await openLive(page, `http://127.0.0.1:${port}/`);
    const plus = page.getByRole("button", { name: "+1", exact: true });
    for (let i = 0; i < 3; i++) await plus.click();
    await expect(page.getByText("3 events applied in this session.")).toBeVisible();
    await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");

    await stop(server, "SIGKILL");
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "reconnecting");
    server = await start(port, store);
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    // The restored session computed the count from the stored log: one
    // more click is the fourth event, not the first.
    await plus.click();
    await expect(page.getByText("4 events applied in this session.")).toBeVisible();
    await page.reload();
    await expectLive(page);
    await expect(page.getByText("4 events applied in this session.")).toBeVisible();
    expect(received.some(({ text }) => carriesCount(parse(text), 4))).toBe(true);
    expectNoAudit(received);
  } finally {
    await stop(server);
  }
});
