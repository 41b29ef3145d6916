// The site renders: the server answered with the app's shell and nav.
import { expect, test } from "./fixtures";

test("home page renders with the nav bar", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("Stateside");
  await expect(page.locator("nav.nav")).toBeVisible();
});
