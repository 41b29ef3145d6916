// A server process of the spec's own, for specs that restart or kill it
// (scripts/e2e.sh says where the binary and the site are).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { expect } from "./fixtures";

/** A free port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the server on `port` with `args`, once it answers /healthz. */
export async function start(port: number, args: string[] = []): Promise<ChildProcess> {
  const server = spawn(process.env.STATESIDE_SERVER_BIN!, args, {
    env: {
      ...process.env,
      LEPTOS_SITE_ROOT: process.env.STATESIDE_SITE_ROOT,
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

/** Stops the server with `signal`, and waits until it has exited. */
export function stop(server: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return new Promise((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) return resolve();
    server.once("exit", () => resolve());
    server.kill(signal);
  });
}
