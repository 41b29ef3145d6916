// The dev loop of an app made from templates/starter: scripts/starter-test.sh
// generates the app, then runs this with STARTER_APP set to its folder.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./devloop",
  // A rebuild after an edit compiles the app for the server and the browser.
  timeout: 600_000,
  // The page's own transport: live reload is the dev server's, not ours.
  projects: base.projects?.filter((project) => project.name === "websocket"),
});
