// Makes the README's screenshots: `scripts/e2e.sh --config screenshots.config.ts`
// (it serves the built site, then runs this instead of the tests). The
// images land in docs/screenshots/.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./screenshots",
  timeout: 120_000,
  // On the primary transport only.
  projects: base.projects?.filter((project) => project.name === "websocket"),
});
