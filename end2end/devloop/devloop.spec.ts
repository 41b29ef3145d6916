// `make run` as a new user meets it: click, edit a view, and the page that
// cargo-leptos reloads by itself shows the edit with the clicks still
// counted, and the ticker started before the edit still ticking. The file
// store that `make run` uses keeps the session across the server's restart;
// the ticker is restartable. Runs on the app scripts/starter-test.sh made,
// so the edit touches no file of this repository.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "../tests/fixtures";
import { expectLive, openLive } from "../tests/live";
import { freePort } from "../tests/server";

const app = process.env.STARTER_APP;

/** `make run` in the app, on free ports; its own process group, so that
 * stopping it stops cargo-leptos and the server it runs. */
function makeRun(port: number, reloadPort: number): ChildProcess {
  return spawn("make", ["run"], {
    cwd: app,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_RELOAD_PORT: String(reloadPort),
    },
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

test("an edit under make run reloads the page and keeps its clicks and its ticker", async ({ page }) => {
  expect(app, "STARTER_APP is set by scripts/starter-test.sh").toBeTruthy();
  const view = join(app!, "app/src/counter.rs");
  const [port, reloadPort] = [await freePort(), await freePort()];
  const run = makeRun(port, reloadPort);
  try {
    const url = `http://127.0.0.1:${port}/`;
    // make run builds first: everything, the first time (see devloop.config.ts).
    await expect(async () => expect((await fetch(url)).ok).toBeTruthy()).toPass({
      timeout: 1_500_000,
    });
    await openLive(page, url);
    const plus = page.getByRole("button", { name: "+1" });
    await plus.click();
    await plus.click();
    const count = page.getByRole("status", { name: "count" });
    await expect(count).toHaveText("2");
    await page.getByRole("button", { name: "Start ticking" }).click();
    const ticks = page.getByRole("status", { name: "ticks" });
    await expect(ticks).not.toHaveText("0", { timeout: 5_000 });
    await expect(page.getByRole("heading", { name: "Clicks" })).toHaveCount(0);

    const ticked = Number(await ticks.textContent());

    const source = readFileSync(view, "utf8");
    expect(source).toContain('<h2>"Count"</h2>');
    writeFileSync(view, source.replace('<h2>"Count"</h2>', '<h2>"Clicks"</h2>'));

    // No reload from here on: cargo-leptos rebuilds, restarts the server
    // and tells the page to reload itself.
    await expect(page.getByRole("heading", { name: "Clicks" })).toBeVisible({ timeout: 300_000 });
    await expectLive(page);
    await expect(count).toHaveText("2");
    await expect(page.getByRole("button", { name: "Start ticking" })).toBeDisabled();
    await expect
      .poll(async () => Number(await ticks.textContent()), { timeout: 10_000 })
      .toBeGreaterThan(ticked);
  } finally {
    await stopGroup(run);
  }
});

/** Ctrl-C to `make run` and everything it started, as a user would; a kill
 * if that has not ended it within 20 s. */
async function stopGroup(run: ChildProcess) {
  const exited = new Promise((resolve) => run.once("exit", resolve));
  process.kill(-run.pid!, "SIGINT");
  const timer = setTimeout(() => process.kill(-run.pid!, "SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}
