// Browser latency, measured in Chromium against a running release server
// (`make bench` starts it through scripts/e2e.sh):
// - click to DOM update: 200 clicks on the counter's +1, each timed inside
//   the page from `click()` to the mutation that shows the new count, so
//   no Playwright round trip is in the figure;
// - time to hydrate: from navigation start to the page being live (wasm
//   loaded and hydrated, stream open), and when the wasm finished loading;
// - the release wasm, raw and gzipped.
// Figures go to the console and, as a markdown section, to $BENCH_BROWSER_MD.
import { expect, test } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

const CLICKS = 200;

function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.round((p / 100) * sorted.length + 0.5)));
  return sorted[rank - 1];
}

test("click to DOM update, hydration and wasm size", async ({ page }) => {
  // Note when the connection banner turns live, from the first byte on.
  await page.addInitScript(() => {
    const w = window as unknown as { __liveAt?: number };
    new MutationObserver(() => {
      const banner = document.querySelector(".banner");
      if (w.__liveAt === undefined && banner?.getAttribute("data-status") === "live") {
        w.__liveAt = performance.now();
      }
    }).observe(document, { subtree: true, attributes: true, childList: true });
  });
  await page.goto("/");
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live", { timeout: 30_000 });
  const load = await page.evaluate(() => {
    const wasm = performance
      .getEntriesByType("resource")
      .find((entry) => entry.name.endsWith(".wasm")) as PerformanceResourceTiming | undefined;
    return {
      liveMs: (window as unknown as { __liveAt: number }).__liveAt,
      wasmLoadedMs: wasm?.responseEnd ?? NaN,
    };
  });

  const latencies: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    latencies.push(
      await page.evaluate(
        () =>
          new Promise<number>((done) => {
            const count = document.querySelector('[data-testid="count"]')!;
            const button = [...document.querySelectorAll("button")].find(
              (b) => b.textContent?.trim() === "+1",
            )!;
            const before = count.textContent;
            const observer = new MutationObserver(() => {
              if (count.textContent !== before) {
                observer.disconnect();
                done(performance.now() - start);
              }
            });
            observer.observe(count, { childList: true, characterData: true, subtree: true });
            const start = performance.now();
            button.click();
          }),
      ),
    );
  }
  await expect(page.getByTestId("count")).toHaveText(String(CLICKS));

  const wasm = readFileSync(resolve(__dirname, "../../target/site/pkg/stateside.wasm"));
  const sorted = [...latencies].sort((a, b) => a - b);
  const figures = {
    clicks: CLICKS,
    click_p50_ms: percentile(sorted, 50),
    click_p99_ms: percentile(sorted, 99),
    click_max_ms: sorted[sorted.length - 1],
    live_after_navigation_ms: load.liveMs,
    wasm_loaded_after_navigation_ms: load.wasmLoadedMs,
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
  };
  console.log(JSON.stringify(figures));
  const out = process.env.BENCH_BROWSER_MD;
  if (out) {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    writeFileSync(
      out,
      [
        "## Browser (Chromium, release build, loopback)\n",
        "| measure | value |",
        "|---|---|",
        `| click to DOM update, ${CLICKS} clicks: p50 / p99 / max | ${figures.click_p50_ms.toFixed(2)} / ${figures.click_p99_ms.toFixed(2)} / ${figures.click_max_ms.toFixed(2)} ms |`,
        `| live (hydrated, stream open) after navigation start | ${figures.live_after_navigation_ms.toFixed(0)} ms |`,
        `| wasm loaded after navigation start | ${figures.wasm_loaded_after_navigation_ms.toFixed(0)} ms |`,
        `| release wasm, raw / gzip -9 | ${kib(figures.wasm_bytes)} / ${kib(figures.wasm_gzip_bytes)} |`,
        "",
      ].join("\n"),
    );
  }
});
