// /inbox: page events (a load counts, a reconnect does not), a webhook that
// raises an event in the open tab, a debounced filter and a throttled
// slider. Each test opens its own browser context, so its own session.
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { expectLive, openLive } from "./live";

/** The inbox code the page shows, once the load hook has given one. */
async function inboxCode(page: Page): Promise<string> {
  const line = page.getByText(/^Your inbox code: [a-z0-9]{6}$/);
  await expect(line).toBeVisible();
  const text = (await line.textContent()) ?? "";
  return text.replace("Your inbox code: ", "");
}

async function post(request: APIRequestContext, code: string, text: string) {
  const response = await request.post(`/api/inbox/${code}`, { data: text });
  expect(response.status(), await response.text()).toBe(202);
}

test("a load counts, a navigation back counts, a reconnect does not", async ({
  page,
  context,
}) => {
  await openLive(page, "/inbox");
  await expect(page.getByText(/^Loaded 1 time\.$/)).toBeVisible();
  const code = await inboxCode(page);

  await page.reload();
  await expectLive(page);
  await expect(page.getByText(/^Loaded 2 times\.$/)).toBeVisible();

  const nav = page.getByRole("navigation");
  await nav.getByRole("link", { name: "Counter" }).click();
  await expect(page.getByRole("heading", { name: "Counter" })).toBeVisible();
  await nav.getByRole("link", { name: "Inbox", exact: true }).click();
  await expect(page.getByText(/^Loaded 3 times\.$/)).toBeVisible();

  await context.setOffline(true);
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "reconnecting", {
    timeout: 30_000,
  });
  await context.setOffline(false);
  await expectLive(page);
  // Anything a reconnect sent would have been applied by now.
  await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");
  await page.waitForTimeout(500);
  await expect(page.getByText(/^Loaded 3 times\.$/)).toBeVisible();
  expect(await inboxCode(page), "the session kept its code").toBe(code);
});

test("a webhook delivers to the open tab; unknown codes and big bodies are refused", async ({
  page,
  request,
}) => {
  await openLive(page, "/inbox");
  const code = await inboxCode(page);
  await expect(page.getByText(`/api/inbox/${code} -d 'hello'`)).toBeVisible();

  await post(request, code, "hello from curl");
  const messages = page.getByRole("list", { name: "Messages" });
  await expect(messages.getByText("hello from curl")).toBeVisible();

  const unknown = code === "zzzzzz" ? "yyyyyy" : "zzzzzz";
  const missing = await request.post(`/api/inbox/${unknown}`, { data: "hello" });
  expect(missing.status()).toBe(404);
  expect(await missing.text()).toContain("no inbox with that code");

  const big = await request.post(`/api/inbox/${code}`, { data: "x".repeat(3 * 1024) });
  expect(big.status()).toBe(413);
  const blank = await request.post(`/api/inbox/${code}`, { data: "   " });
  expect(blank.status()).toBe(400);
  // Neither reached the tab.
  await expect(messages.getByRole("listitem")).toHaveCount(1);
});

test("the filter sends one event for a burst of typing, and the list filters", async ({
  page,
  request,
}) => {
  await openLive(page, "/inbox");
  const code = await inboxCode(page);
  await post(request, code, "Milk and Honey from the market");
  await post(request, code, "bread and butter");
  const messages = page.getByRole("list", { name: "Messages" });
  await expect(messages.getByRole("listitem")).toHaveCount(2);

  const filter = page.getByRole("searchbox", { name: "Filter messages" });
  const updates = page.getByText(/^Filter updates received: \d+$/);
  await filter.pressSequentially("milk and honey", { delay: 20 });
  await expect(updates).toHaveText("Filter updates received: 1");
  await expect(messages.getByRole("listitem")).toHaveCount(1);
  await expect(messages).toContainText("Milk and Honey from the market");
  // Exactly one: nothing else was on its way.
  await page.waitForTimeout(600);
  await expect(updates).toHaveText("Filter updates received: 1");
  await expect(filter).toHaveValue("milk and honey");
});

test("the slider sends a few events while it moves, and ends where it stopped", async ({
  page,
}) => {
  await openLive(page, "/inbox");
  await inboxCode(page);
  const slider = page.getByRole("slider", { name: "Text size" });
  // How many input events the slider fires, to compare with what arrives.
  await slider.evaluate((input) => {
    (window as unknown as { inputs: number }).inputs = 0;
    input.addEventListener("input", () => (window as unknown as { inputs: number }).inputs++);
  });
  await slider.focus();
  for (let i = 0; i < 20; i++) await page.keyboard.press("ArrowRight");
  const final = await slider.inputValue();
  const inputs = await page.evaluate(() => (window as unknown as { inputs: number }).inputs);
  expect(inputs, "the slider moved on most presses").toBeGreaterThanOrEqual(10);

  const messages = page.getByRole("list", { name: "Messages" });
  await expect
    .poll(() => messages.evaluate((list) => getComputedStyle(list).fontSize))
    .toBe(`${final}px`);
  await expect(page.getByText(`Messages shown at ${final} px.`)).toBeVisible();
  await page.waitForTimeout(500);
  const line = page.getByText(/^Text size updates received: \d+$/);
  const received = Number(((await line.textContent()) ?? "").replace(/\D+/g, ""));
  expect(received).toBeGreaterThanOrEqual(2);
  expect(received).toBeLessThan(20);
  expect(received, `fewer events than the slider's ${inputs} moves`).toBeLessThan(inputs);
  await expect(slider).toHaveValue(final);
});
