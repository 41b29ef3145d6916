// /lorem: Reflex's lorem-stream. Background tasks stream three words per
// half-second tick into their cards; pause, resume and kill cancel and start
// tasks through the engine.
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

const card = (page: Page, id: number) => page.locator(`[data-testid="lorem-card"][data-id="${id}"]`);
const progress = async (card: Locator) => Number(await card.getAttribute("data-progress"));
const end = async (card: Locator) => Number(await card.getAttribute("data-end"));
const text = async (card: Locator) => ((await card.getByTestId("text").textContent()) ?? "").trim();
const words = async (card: Locator) => (await text(card)).split(/\s+/).filter(Boolean).length;

async function newTask(page: Page, id: number) {
  await page.getByTestId("new-task").click();
  await expect(card(page, id)).toBeVisible();
}

/** Waits until the card has streamed all its ticks, three words each. */
async function expectFinished(card: Locator) {
  await expect(card).toHaveAttribute("data-running", "false", { timeout: 20_000 });
  const last = await end(card);
  expect(await progress(card)).toBe(last);
  expect(await words(card)).toBe(3 * last);
  await expect(card.getByTestId("toggle")).toHaveText(/Restart/);
}

test("three tasks stream at once; kill removes one and the others go on", async ({ page }) => {
  await openLive(page, "/lorem");
  for (const id of [1, 2, 3]) await newTask(page, id);
  // Newest first.
  await expect(page.getByTestId("lorem-card").first()).toHaveAttribute("data-id", "3");
  for (const id of [1, 2, 3]) {
    await expect.poll(() => progress(card(page, id))).toBeGreaterThanOrEqual(1);
    expect(await end(card(page, id))).toBeGreaterThanOrEqual(7);
    expect(await end(card(page, id))).toBeLessThanOrEqual(12);
  }

  await card(page, 2).getByTestId("kill").click();
  await expect(card(page, 2)).toHaveCount(0);
  await expectFinished(card(page, 1));
  await expectFinished(card(page, 3));
  // The killed task was cancelled: nothing brings its card back.
  await page.waitForTimeout(1_000);
  await expect(page.getByTestId("lorem-card")).toHaveCount(2);
});

test("pause stops the stream and resume continues from where it was", async ({ page }) => {
  await openLive(page, "/lorem");
  await newTask(page, 1);
  const task = card(page, 1);
  await expect.poll(() => progress(task)).toBeGreaterThanOrEqual(2);

  await task.getByTestId("toggle").click(); // pause
  await expect(task).toHaveAttribute("data-running", "false");
  await expect(task.getByTestId("toggle")).toHaveText(/Resume/);
  const paused = await progress(task);
  const pausedText = await text(task);
  expect(await words(task)).toBe(3 * paused);
  // Three ticks' worth of waiting: a paused card gets nothing.
  await page.waitForTimeout(1_500);
  expect(await progress(task)).toBe(paused);
  expect(await text(task)).toBe(pausedText);

  await task.getByTestId("toggle").click(); // resume
  await expect.poll(() => progress(task)).toBeGreaterThan(paused);
  await expectFinished(task);
  expect(await text(task)).toContain(pausedText);
  expect((await text(task)).startsWith(pausedText)).toBe(true);

  // Restart: from zero, to a new random end.
  await task.getByTestId("toggle").click();
  await expect(task).toHaveAttribute("data-running", "true");
  await expectFinished(task);
});

test("a quick pause and resume leaves one loop, not two", async ({ page }) => {
  await openLive(page, "/lorem");
  await newTask(page, 1);
  const task = card(page, 1);
  await expect.poll(() => progress(task)).toBeGreaterThanOrEqual(1);
  const toggle = task.getByTestId("toggle");
  await toggle.click();
  await toggle.click();

  // Sample the text until the card finishes. One loop adds at most three
  // words per 0.5 s tick; a second loop would double that rate. Noise can
  // only slow a loop down, so an upper bound on the rate is safe to assert
  // (one tick of slack for a render landing just after a sample).
  const samples: { at: number; words: number }[] = [];
  for (;;) {
    samples.push({ at: Date.now(), words: await words(task) });
    if ((await task.getAttribute("data-running")) === "false" && (await progress(task)) > 0) break;
    await page.waitForTimeout(100);
  }
  for (const [i, early] of samples.entries()) {
    for (const late of samples.slice(i + 1)) {
      const ticks = Math.floor((late.at - early.at) / 500) + 2;
      expect(late.words - early.words).toBeLessThanOrEqual(3 * ticks);
    }
  }
  await expectFinished(task);
});
