// /random/chain and /random/background: Reflex's random-number-range. Both
// pages share the range, values and total; the chained page holds other
// clicks during its delay, the background page does not.
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

const values = async (page: Page) =>
  ((await page.getByTestId("values").textContent()) ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean)
    .map(Number);
const total = async (page: Page) => Number(await page.getByTestId("total").textContent());
const log = (page: Page) => page.getByTestId("log").locator("li");

/** Clicks Single step and waits for its value to arrive. */
async function step(page: Page) {
  const before = await log(page).count();
  await page.getByTestId("step").click();
  await expect(log(page)).not.toHaveCount(before, { timeout: 10_000 });
  await expect(log(page).last()).toHaveText(/^value [+-]\d+$/, { timeout: 10_000 });
  await expect(page.getByTestId("loading")).toHaveCount(0);
}

for (const mode of ["chain", "background"]) {
  test(`${mode}: single step adds a value, and the total is their sum`, async ({ page }) => {
    await openLive(page, `/random/${mode}`);
    await expect(page.getByTestId("total")).toHaveText("0");
    for (let i = 1; i <= 3; i++) {
      await step(page);
      expect(await values(page)).toHaveLength(i);
    }
    const shown = await values(page);
    for (const v of shown) expect(v >= -10 && v <= 10).toBe(true);
    expect(await total(page)).toBe(shown.reduce((a, b) => a + b, 0));

    await page.getByTestId("clear").click();
    await expect(page.getByTestId("total")).toHaveText("0");
    await expect(page.getByTestId("values")).toHaveText("");
  });

  test(`${mode}: the Run switch runs until switched off`, async ({ page }) => {
    await openLive(page, `/random/${mode}`);
    const run = page.getByTestId("run");
    await run.check();
    await expect.poll(async () => (await values(page)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await run.uncheck();
    await expect(run).not.toBeChecked();
    // The step in progress finishes, then nothing more comes.
    await expect(page.getByTestId("loading")).toHaveCount(0, { timeout: 10_000 });
    const settled = (await values(page)).length;
    await page.waitForTimeout(2_500);
    expect((await values(page)).length).toBe(settled);
    expect(await total(page)).toBe((await values(page)).reduce((a, b) => a + b, 0));
  });
}

test("the sliders set the range and Balance makes it symmetric", async ({ page }) => {
  await openLive(page, "/random/background");
  await page.getByTestId("min-slider").fill("-30");
  await expect(page.getByTestId("min")).toHaveText("-30");
  await expect(page.getByTestId("max")).toHaveText("10");
  await page.getByTestId("balance").click();
  await expect(page.getByTestId("max")).toHaveText("30");
  await page.getByTestId("max-slider").fill("60");
  await expect(page.getByTestId("max")).toHaveText("60");
  await page.getByTestId("balance").click();
  await expect(page.getByTestId("min")).toHaveText("-60");
  await step(page);
  const [value] = await values(page);
  expect(value >= -60 && value <= 60).toBe(true);
});

test("chained holds a Clear behind its delay; background applies it at once", async ({ page }) => {
  for (const [mode, order] of [
    ["chain", [/^value /, /^cleared$/]],
    ["background", [/^cleared$/, /^value /]],
  ] as const) {
    await openLive(page, `/random/${mode}`);
    await page.getByTestId("step").click();
    // The value is being drawn (the spinner shows) when Clear is clicked.
    await expect(page.getByTestId("loading")).toBeVisible();
    await page.getByTestId("clear").click();
    await expect(page.getByTestId("loading")).toHaveCount(0, { timeout: 10_000 });
    const applied = await log(page).allTextContents();
    expect(applied.slice(-2)[0]).toMatch(order[0]);
    expect(applied.slice(-2)[1]).toMatch(order[1]);
    // Chained: cleared after the value, so nothing is left. Background:
    // the value came after the clear and is the whole total.
    const shown = await values(page);
    expect(shown).toHaveLength(mode === "chain" ? 0 : 1);
    expect(await total(page)).toBe(shown.reduce((a, b) => a + b, 0));
  }
});

test("both pages share one total", async ({ page }) => {
  await openLive(page, "/random/chain");
  await step(page);
  const first = await total(page);
  await page.getByRole("link", { name: /background version/ }).click();
  await expect(page).toHaveURL(/\/random\/background$/);
  await expect(page.getByTestId("total")).toHaveText(String(first));
  await step(page);
  const both = await values(page);
  expect(both).toHaveLength(2);
  expect(await total(page)).toBe(both[0] + both[1]);
  await page.getByRole("link", { name: /chained version/ }).click();
  await expect(page.getByTestId("total")).toHaveText(String(both[0] + both[1]));
});
