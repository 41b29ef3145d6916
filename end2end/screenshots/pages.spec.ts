// One screenshot per demo page, wide and phone-sized, in the light and the
// dark scheme, each taken once the page shows something worth seeing.
import { expect, test, type Page } from "@playwright/test";
import { openLive } from "../tests/live";

const OUT = "../docs/screenshots";

const SIZES = [
  { name: "wide", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

/** Drives each page into a state that shows what it does. */
const PAGES: Record<string, { path: string; prepare: (page: Page) => Promise<void> }> = {
  home: { path: "/", prepare: async () => {} },
  posts: {
    path: "/posts",
    prepare: async (page) => {
      await page.getByTestId("chained").getByTestId("start").click();
      await page.getByTestId("background").getByTestId("start").click();
      await page.getByTestId("click").click();
      await expect(page.getByTestId("background").locator(".post-item")).toHaveCount(10, { timeout: 20_000 });
    },
  },
  lorem: {
    path: "/lorem",
    prepare: async (page) => {
      for (let i = 0; i < 3; i++) await page.getByTestId("new-task").click();
      await expect(page.locator('[data-testid="lorem-card"][data-progress="4"]').first()).toBeVisible({ timeout: 20_000 });
    },
  },
  random: {
    path: "/random/background",
    prepare: async (page) => {
      await page.getByTestId("run").check();
      await expect(page.getByTestId("log").locator("li")).toHaveCount(3, { timeout: 20_000 });
      await expect(page.getByTestId("loading")).toBeVisible();
    },
  },
  dashboard: {
    path: "/dashboard",
    prepare: async (page) => {
      await page.getByTestId("start-all").click();
      // Enough points for the chart to fill half its width.
      await expect(page.getByTestId("panel-chart").getByTestId("ticks")).toHaveAttribute("data-ticks", /^(2[4-9]|[3-9]\d)$/, {
        timeout: 30_000,
      });
    },
  },
};

for (const [name, { path, prepare }] of Object.entries(PAGES)) {
  for (const size of SIZES) {
    for (const scheme of ["light", "dark"] as const) {
      test(`${name} ${size.name} ${scheme}`, async ({ page }) => {
        await page.setViewportSize({ width: size.width, height: size.height });
        await page.emulateMedia({ colorScheme: scheme });
        await openLive(page, path);
        await prepare(page);
        await page.screenshot({ path: `${OUT}/${name}-${size.name}-${scheme}.png` });
      });
    }
  }
}
