// The server restarts under an open page: the page notices, keeps the click
// made while the server was down, reconnects by itself and works on. On the
// in-memory store the session is gone after the restart, and the page tells
// the user it started a new one; on the file store it resumes silently.
// A kill -9 mid-stream brings the lorem streams and the endless dashboard
// panels back, and the job (not restartable) says it stopped.
// This spec runs its own server (scripts/e2e.sh says where the binary is).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "./fixtures";
import { freePort, start, stop } from "./server";
import { openLive } from "./live";

const binary = process.env.STATESIDE_SERVER_BIN;

test("after a restart that loses the session, the page says so and the click made while down goes to the new one", async ({ page }) => {
  expect(binary, "STATESIDE_SERVER_BIN is set by scripts/e2e.sh").toBeTruthy();
  const port = await freePort();
  let server = await start(port);
  try {
    await openLive(page, `http://127.0.0.1:${port}/`);
    const plus = page.getByRole("button", { name: "+1", exact: true });
    await plus.click();
    await expect(page.getByTestId("count")).toHaveText("1");

    await stop(server);
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "reconnecting");
    await plus.click(); // made while the server is down: kept, sent later
    await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "1");

    server = await start(port);
    // The in-memory store forgets sessions on restart: the page opened a
    // new one by itself, says so, and delivered the click it had kept.
    await expect(
      page.getByText(
        "The server lost this tab's session (it restarted, or the session expired); " +
          "a new one was started. 1 pending action was sent to it.",
      ),
    ).toBeVisible({ timeout: 30_000 });
    const banner = page.getByRole("status");
    await expect(banner).toContainText("The server lost this tab's session; a new session was started.");
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    await expect(page.getByTestId("count")).toHaveText("1");
    await plus.click();
    await expect(page.getByTestId("count")).toHaveText("2");
    await banner.getByRole("button", { name: "Dismiss" }).click();
    await expect(banner).toBeHidden();
  } finally {
    await stop(server);
  }
});

test("acknowledged clicks survive kill -9 on the file store, and the page resumes", async ({ page }) => {
  const store = ["--store", `file:${join(mkdtempSync(join(tmpdir(), "stateside-")), "sessions.redb")}`];
  const port = await freePort();
  let server = await start(port, store);
  try {
    await openLive(page, `http://127.0.0.1:${port}/`);
    const plus = page.getByRole("button", { name: "+1", exact: true });
    for (let i = 0; i < 3; i++) await plus.click();
    await expect(page.getByTestId("count")).toHaveText("3");
    // Acknowledged means saved: nothing is left waiting for an ack.
    await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");

    await stop(server, "SIGKILL");
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "reconnecting");
    server = await start(port, store);
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    await expect(page.getByTestId("count")).toHaveText("3");
    // The session was resumed, not replaced: nothing to tell the user.
    await expect(page.getByText("The server lost this tab's session")).toHaveCount(0);
    await plus.click();
    await expect(page.getByTestId("count")).toHaveText("4");
    // A reload after the crash still finds the session.
    await page.reload();
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "live");
    await expect(page.getByTestId("count")).toHaveText("4");
  } finally {
    await stop(server);
  }
});

test("kill -9 on the file store mid-stream: lorem and dashboard tasks run again, or say they stopped", async ({ context }) => {
  const store = ["--store", `file:${join(mkdtempSync(join(tmpdir(), "stateside-")), "sessions.redb")}`];
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let server = await start(port, store);
  try {
    const lorem = await context.newPage();
    await openLive(lorem, `${base}/lorem`);
    const newTask = lorem.getByRole("button", { name: "+ New task" });
    await newTask.click();
    await newTask.click();
    const ring = (id: number) => lorem.getByRole("progressbar", { name: `Task ${id}` });
    const ticked = async (id: number) => Number(await ring(id).getAttribute("aria-valuenow"));

    const dashboard = await context.newPage();
    await openLive(dashboard, `${base}/dashboard`);
    await dashboard.getByRole("button", { name: "Start all" }).click();
    const job = dashboard.getByRole("progressbar", { name: "Export job" });
    await expect.poll(async () => Number(await job.getAttribute("aria-valuenow"))).toBeGreaterThan(5);
    for (const id of [1, 2]) await expect.poll(() => ticked(id)).toBeGreaterThanOrEqual(1);
    const before = [await ticked(1), await ticked(2)];

    // The job (six seconds long) and both streams are mid-way.
    await stop(server, "SIGKILL");
    server = await start(port, store);
    // A toast tells the user, as soon as the tab is back.
    await expect(dashboard.getByText("dashboard/job stopped: the server restarted")).toBeVisible({
      timeout: 30_000,
    });

    // The endless panels run again: the engine panel lists them, and not
    // the job, which is not restartable.
    const engine = dashboard.locator("section").filter({ has: dashboard.getByRole("heading", { name: "Engine" }) });
    for (const task of ["dashboard/chart #", "dashboard/log #", "dashboard/engine #"]) {
      await expect(engine.getByRole("listitem").filter({ hasText: task })).toHaveCount(1, { timeout: 30_000 });
    }
    await expect(engine.getByRole("listitem").filter({ hasText: "dashboard/job" })).toHaveCount(0);
    // The job says it stopped, and why, and can be started again.
    await expect(dashboard.getByText(/^stopped at \d+ % by a server restart$/)).toBeVisible();
    const jobPanel = dashboard.locator("section").filter({ has: dashboard.getByRole("heading", { name: "Export job" }) });
    await expect(jobPanel.getByRole("button", { name: "Start" })).toBeVisible();

    // The streams go on from where they were, to their ends.
    for (const [index, id] of [1, 2].entries()) {
      await expect.poll(() => ticked(id), { timeout: 30_000 }).toBeGreaterThan(before[index]);
    }
    await expect(lorem.getByRole("button", { name: "↻ Restart" })).toHaveCount(2, { timeout: 30_000 });
    for (const id of [1, 2]) {
      expect(await ticked(id)).toBe(Number(await ring(id).getAttribute("aria-valuemax")));
    }
    await expect(lorem.getByText(/stopped: the server restarted/)).toHaveCount(0);
  } finally {
    await stop(server);
  }
});
