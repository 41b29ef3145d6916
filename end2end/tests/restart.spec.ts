// The server restarts under an open page: the page notices, keeps the click
// made while the server was down, reconnects by itself and works on.
// This spec runs its own server (scripts/e2e.sh says where the binary is).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { expect, test } from "@playwright/test";
import { openLive } from "./live";

const binary = process.env.STATESIDE_SERVER_BIN;
const siteRoot = process.env.STATESIDE_SITE_ROOT;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

async function start(port: number): Promise<ChildProcess> {
  const server = spawn(binary!, [], {
    env: {
      ...process.env,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    },
    stdio: "ignore",
  });
  await expect(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.ok).toBeTruthy();
  }).toPass({ timeout: 20_000 });
  return server;
}

function stop(server: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    server.once("exit", () => resolve());
    server.kill("SIGTERM");
  });
}

test("the page reconnects by itself after a server restart", async ({ page }) => {
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

    server = await start(port);
    await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    // The in-memory store forgets sessions on restart: the page opened a
    // new one by itself and delivered the click it had kept.
    await expect(page.getByTestId("count")).toHaveText("1");
    await plus.click();
    await expect(page.getByTestId("count")).toHaveText("2");
  } finally {
    await stop(server);
  }
});
