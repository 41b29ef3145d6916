// /board: a shared state. Two browsers (two contexts: two sessions, as two
// people) join one room; a change in one shows in the other without a
// reload, offline changes arrive once, and "Who is here" follows tabs
// closing. Each test has its own room, so tests never see each other's
// cards.
import type { Browser, Page } from "@playwright/test";
import { expect, refuseWebSockets, test, type Transport } from "./fixtures";
import { expectLive, openLive } from "./live";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, start, stop } from "./server";

/** A second person: a new context, on the project's transport. */
async function secondPerson(browser: Browser, transport: Transport): Promise<Page> {
  const context = await browser.newContext();
  if (transport === "sse") await refuseWebSockets(context);
  return context.newPage();
}

async function joinRoom(page: Page, room: string, origin = "") {
  await openLive(page, `${origin}/board`);
  const name = page.getByRole("textbox", { name: "Room" });
  await name.fill(room);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.getByText(`You are in room ${room}.`)).toBeVisible();
}

function uniqueRoom(): string {
  return `room-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
}

async function addCard(page: Page, text: string) {
  await page.getByRole("textbox", { name: "New card" }).fill(text);
  await page.getByRole("button", { name: "Add card" }).click();
}

const column = (page: Page, title: string) => page.getByRole("region", { name: title });
const here = (page: Page) => page.getByRole("region", { name: "Who is here" }).getByRole("listitem");

test("an edit in one browser shows in the other without a reload", async ({
  page,
  browser,
  transport,
}) => {
  const room = uniqueRoom();
  const other = await secondPerson(browser, transport);
  await joinRoom(page, room);
  await joinRoom(other, room);

  await addCard(page, "Write the release notes");
  await expect(column(other, "To do").getByText("Write the release notes")).toBeVisible();

  await other.getByRole("button", { name: "Move Write the release notes to Doing" }).click();
  await expect(column(page, "Doing").getByText("Write the release notes")).toBeVisible();
  await expect(column(page, "To do").getByText("Write the release notes")).toHaveCount(0);

  await page.getByRole("button", { name: "Delete Write the release notes" }).click();
  await expect(other.getByText("Write the release notes")).toHaveCount(0);
  await other.context().close();
});

test("who is here follows people joining and closing their browser", async ({
  page,
  browser,
  transport,
}) => {
  const room = uniqueRoom();
  await joinRoom(page, room);
  await expect(here(page)).toHaveCount(1);
  await expect(here(page).first()).toContainText("(you)");

  const other = await secondPerson(browser, transport);
  await joinRoom(other, room);
  await expect(here(page)).toHaveCount(2);
  await expect(here(other)).toHaveCount(2);

  await other.context().close();
  await expect(here(page)).toHaveCount(1);
});

test("cards added offline arrive once when the browser is back", async ({
  page,
  browser,
  transport,
}) => {
  const room = uniqueRoom();
  const other = await secondPerson(browser, transport);
  await joinRoom(page, room);
  await joinRoom(other, room);

  await page.context().setOffline(true);
  await addCard(page, "Offline one");
  await addCard(page, "Offline two");
  await page.context().setOffline(false);
  await expectLive(page);

  for (const text of ["Offline one", "Offline two"]) {
    await expect(column(other, "To do").getByText(text)).toHaveCount(1);
    await expect(column(page, "To do").getByText(text)).toHaveCount(1);
  }
  // Nothing more arrives later: each was applied exactly once.
  await other.reload();
  await expectLive(other);
  await expect(column(other, "To do").getByRole("listitem")).toHaveCount(2);
  await other.context().close();
});

test("a room name the rules refuse changes nothing", async ({ page }) => {
  await openLive(page, "/board");
  await page.getByRole("textbox", { name: "Room" }).fill("no spaces allowed");
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText("You are in no room.")).toBeVisible();
});

test("after kill -9 on the file store the board is there and the tab still edits it", async ({
  page,
}) => {
  const store = ["--store", `file:${join(mkdtempSync(join(tmpdir(), "stateside-")), "sessions.redb")}`];
  const port = await freePort();
  let server = await start(port, store);
  try {
    await joinRoom(page, "kept", `http://127.0.0.1:${port}`);
    await addCard(page, "Before the crash");
    await expect(column(page, "To do").getByText("Before the crash")).toBeVisible();
    await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");

    await stop(server, "SIGKILL");
    server = await start(port, store);
    await expectLive(page);
    await expect(column(page, "To do").getByText("Before the crash")).toBeVisible();
    // The restored session linked again (the demo's on_restore hook).
    await addCard(page, "After the crash");
    await expect(column(page, "To do").getByRole("listitem")).toHaveCount(2);
    await expect(here(page)).toHaveCount(1);
  } finally {
    await stop(server);
  }
});
