// The browser benchmark, kept out of the default test run: the main
// config's settings with this folder as the only test directory.
import { defineConfig } from "@playwright/test";
import base from "../playwright.config";

export default defineConfig({
  ...base,
  testDir: ".",
  timeout: 120_000,
  // On the primary transport only.
  projects: base.projects?.filter((project) => project.name === "websocket"),
});
