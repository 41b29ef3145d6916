// Runs the tests against an already running server (scripts/e2e.sh starts
// it), in Debian's Chromium: Playwright cannot download its own browser here.
import { defineConfig, devices } from "@playwright/test";
import type { Transport } from "./tests/fixtures";

const chromium = {
  ...devices["Desktop Chrome"],
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};

export default defineConfig<{ transport: Transport }>({
  testDir: "./tests",
  // One server and one session store: tests must not race each other.
  workers: 1,
  retries: 0,
  reporter: "list",
  use: {
    baseURL: process.env.STATESIDE_URL ?? "http://127.0.0.1:3000",
    trace: "retain-on-failure",
  },
  // The whole suite runs on each transport: `websocket` as a browser
  // normally connects, `sse` behind a proxy that refuses WebSocket upgrades
  // (tests/fixtures.ts), where the page falls back to POST + SSE.
  projects: [
    { name: "websocket", use: { ...chromium, transport: "websocket" } },
    { name: "sse", use: { ...chromium, transport: "sse" } },
  ],
});
