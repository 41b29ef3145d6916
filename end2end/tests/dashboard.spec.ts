// /dashboard: four panels, each fed by its own background task. They all
// update at once, stopping one leaves the rest running, and the foreground
// counter answers throughout.
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

const PANELS = ["chart", "log", "job", "engine"] as const;
const panel = (page: Page, name: string) => page.getByTestId(`panel-${name}`);
const ticks = async (page: Page, name: string) =>
  Number(await panel(page, name).getByTestId("ticks").getAttribute("data-ticks"));

test("all panels update concurrently and +1 stays responsive", async ({ page }) => {
  await openLive(page, "/dashboard");
  await page.getByTestId("start-all").click();
  for (const name of PANELS) {
    await expect(panel(page, name)).toHaveAttribute("data-running", "true");
  }
  const start = Object.fromEntries(await Promise.all(PANELS.map(async (n) => [n, await ticks(page, n)])));
  for (const name of PANELS) {
    await expect.poll(() => ticks(page, name), { timeout: 15_000 }).toBeGreaterThanOrEqual(start[name] + 2);
  }
  for (let i = 0; i < 3; i++) await page.getByTestId("click").click();
  await expect(page.getByTestId("clicks")).toHaveText("3");
  await expect(panel(page, "chart")).toHaveAttribute("data-running", "true");
  // The engine panel sees this session's tasks.
  await expect(panel(page, "engine")).toContainText("dashboard/chart");
  await page.getByTestId("stop-all").click();
  for (const name of PANELS) {
    await expect(panel(page, name)).toHaveAttribute("data-running", "false");
  }
});

test("stopping one panel, or cancelling the job, leaves the others running", async ({ page }) => {
  await openLive(page, "/dashboard");
  await page.getByTestId("start-all").click();
  await expect.poll(() => ticks(page, "chart")).toBeGreaterThanOrEqual(2);

  await panel(page, "chart").getByTestId("panel-toggle").click();
  await expect(panel(page, "chart")).toHaveAttribute("data-running", "false");
  await panel(page, "job").getByTestId("panel-toggle").click();
  await expect(panel(page, "job")).toHaveAttribute("data-running", "false");
  await expect(panel(page, "job").getByTestId("job-status")).toHaveText(/^cancelled at \d+ %$/);
  const chart = await ticks(page, "chart");
  const job = await ticks(page, "job");

  // Long enough for the chart to have ticked several times had it run.
  const log = await ticks(page, "log");
  const engine = await ticks(page, "engine");
  await expect.poll(() => ticks(page, "log"), { timeout: 15_000 }).toBeGreaterThanOrEqual(log + 3);
  await expect.poll(() => ticks(page, "engine"), { timeout: 15_000 }).toBeGreaterThanOrEqual(engine + 2);
  expect(await ticks(page, "chart")).toBe(chart);
  expect(await ticks(page, "job")).toBe(job);
  await expect(panel(page, "engine")).not.toContainText("dashboard/chart");

  // And it starts again where it left off.
  await panel(page, "chart").getByTestId("panel-toggle").click();
  await expect.poll(() => ticks(page, "chart")).toBeGreaterThan(chart);
});

test("the job runs to 100 % and can run again", async ({ page }) => {
  await openLive(page, "/dashboard");
  const job = panel(page, "job");
  await job.getByTestId("panel-toggle").click();
  await expect(job.getByTestId("job-status")).toHaveText("done", { timeout: 30_000 });
  await expect(job).toHaveAttribute("data-running", "false");
  expect(await ticks(page, "job")).toBe(100);
  await job.getByTestId("panel-toggle").click();
  await expect.poll(() => ticks(page, "job")).toBeLessThan(100);
});
