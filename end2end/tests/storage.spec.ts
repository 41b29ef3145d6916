// Client storage (issue 16, item 4): the theme picker's choice is a client
// field kept in localStorage. A new tab of the same browser starts with it,
// a reload keeps it, a change in one tab reaches the other without a
// reload, and garbage planted in localStorage gives the default theme, a
// notice that says why, and a page that works.
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { expectLive, openLive } from "./live";

// --bg in style/main.css, light and dark.
const LIGHT = "rgb(246, 247, 251)";
const DARK = "rgb(15, 18, 32)";

const picker = (page: Page) => page.getByRole("combobox", { name: "Theme" });

async function expectTheme(page: Page, choice: string, background: string) {
  await expect(picker(page)).toHaveValue(choice);
  await expect(page.locator("body")).toHaveCSS("background-color", background);
}

const stored = (page: Page) => page.evaluate(() => localStorage.getItem("theme"));

test("the theme is kept in the browser: new tabs, reloads and other tabs follow it", async ({
  context,
  page,
}) => {
  await openLive(page);
  await expectTheme(page, "system", LIGHT);
  await picker(page).selectOption("Dark");
  await expectTheme(page, "dark", DARK);
  // The server's change was written back to the browser.
  await expect.poll(() => stored(page)).toBe("dark");

  const other = await context.newPage();
  await openLive(other);
  await expectTheme(other, "dark", DARK);

  await other.reload();
  await expectLive(other);
  await expectTheme(other, "dark", DARK);

  // A change in one tab reaches the other, which is not reloaded.
  await picker(other).selectOption("Light");
  await expectTheme(other, "light", LIGHT);
  await expectTheme(page, "light", LIGHT);
  await expect.poll(() => stored(page)).toBe("light");
});

test("garbage in localStorage gives the default theme, a notice, and a page that works", async ({
  page,
}) => {
  // Same origin, so the same localStorage, before the app's page loads.
  await page.goto("/healthz");
  await page.evaluate(() => localStorage.setItem("theme", "purple"));
  await openLive(page);
  await expect(page.getByRole("alert")).toContainText(
    'Ignored what this browser stored: localStorage "theme" is not a valid value',
  );
  await expectTheme(page, "system", LIGHT);
  // The session's own value replaced the garbage.
  await expect.poll(() => stored(page)).toBe("system");
  await picker(page).selectOption("Dark");
  await expectTheme(page, "dark", DARK);
});
