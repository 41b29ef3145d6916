// The dev loop of an app made from templates/starter: scripts/starter-test.sh
// generates the app, then runs this with STARTER_APP set to its folder.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./devloop",
  // The first run builds every dependency into make run's own cache
  // (target-watch); after that, a run compiles the app and its edit.
  timeout: 1_800_000,
  // The page's own transport: live reload is the dev server's, not ours.
  projects: base.projects?.filter((project) => project.name === "websocket"),
});
