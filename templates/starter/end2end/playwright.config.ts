// Playwright starts the server `cargo leptos build` made, on APP_PORT (3100
// unless set), and runs the tests against it in Debian's Chromium, which
// Stateside's setup installs.
import { defineConfig, devices } from "@playwright/test";

const port = process.env.APP_PORT ?? "3100";
const targetDir = process.env.CARGO_TARGET_DIR ?? "../target";

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  reporter: "list",
  use: {
    ...devices["Desktop Chrome"],
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] },
  },
  webServer: {
    command: `${targetDir}/debug/{{project-name}}`,
    cwd: "..",
    env: {
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    },
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
  },
});
