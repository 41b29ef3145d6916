// Client actions sent by server handlers take effect in the page.
import { expect, test } from "./fixtures";
import { openLive } from "./live";

test("a handler's toast appears", async ({ page }) => {
  await openLive(page, "/actions");
  await page.getByRole("button", { name: "Toast" }).click();
  await expect(page.locator(".toast")).toContainText("Hello from the server (action #1)");
  await expect(page.getByTestId("sent")).toHaveText("1");
});

test("a handler's redirect navigates", async ({ page }) => {
  await openLive(page, "/actions");
  await page.getByRole("button", { name: "Redirect" }).click();
  await expect(page).toHaveURL(/\/\?from=redirect$/);
  await expect(page.getByTestId("count")).toBeVisible();
});

test("focus, set value and download actions", async ({ page }) => {
  await openLive(page, "/actions");
  const input = page.locator("#actions-input");
  await page.getByRole("button", { name: "Focus the input" }).click();
  await expect(input).toBeFocused();
  await page.getByRole("button", { name: "Set its value" }).click();
  await expect(input).toHaveValue("set by the server #2");
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download a file" }).click();
  expect((await download).suggestedFilename()).toBe("stateside.txt");
  const log = page.waitForEvent("console", (message) => message.text().includes("console action"));
  await page.getByRole("button", { name: "Console log" }).click();
  expect((await log).text()).toBe("stateside console action #4");
});

test("an unknown handler gets a clear error toast and the session goes on", async ({ page }) => {
  await openLive(page);
  // The page's own first event (it tells the server its page) took seq 1.
  await expect(page.locator(".banner")).toHaveAttribute("data-unacked", "0");
  // A hand-made event, as a broken or hostile client would send it.
  const refused = await page.evaluate(async () => {
    const token = sessionStorage.getItem("stateside.token");
    const response = await fetch("/stateside/send", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, events: [{ seq: 2, handler: "no/such", args: null }] }),
    });
    return response.json();
  });
  // Refused for good, with a reason a client can act on (it drops the event).
  expect(refused).toEqual([
    { Refused: { reason: "UnknownHandler", message: "unknown handler `no/such`" } },
  ]);
  await expect(page.locator(".toast")).toContainText("unknown handler `no/such`");
  // That event used seq 2 of this tab's session; a reload resumes the
  // session with the server's next seq, and the page goes on working.
  await page.reload();
  await expect(page.locator(".banner")).toHaveAttribute("data-status", "live");
  await page.getByRole("button", { name: "+1", exact: true }).click();
  await expect(page.getByTestId("count")).toHaveText("1");
});

test("a warning toast is an alert that stays until it is dismissed", async ({ page }) => {
  await openLive(page, "/actions");
  await page.getByRole("button", { name: "Warning that stays" }).click();
  const warning = page.getByRole("alert").filter({ hasText: "Disk almost full" });
  await expect(warning).toBeVisible();
  // Past the 6 s an ordinary toast stays.
  await page.waitForTimeout(6_500);
  await expect(warning).toBeVisible();
  await page.getByRole("button", { name: /^Dismiss: Disk almost full/ }).click();
  await expect(warning).toHaveCount(0);
});

test("a redirect to a page of the app goes through the router, without a reload", async ({ page }) => {
  await openLive(page, "/actions");
  await page.evaluate(() => {
    (window as unknown as { kept: string }).kept = "the same page";
  });
  await page.getByRole("button", { name: "Redirect" }).click();
  await expect(page).toHaveURL(/\/\?from=redirect$/);
  await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { kept?: string }).kept)).toBe("the same page");
});

test("the page's load hook reads what the server saw of the request", async ({ page }) => {
  await openLive(page, "/actions");
  // Chromium asks for en-US; the server saw the tab on loopback.
  await expect(
    page.getByText("The server saw this tab connect from 127.0.0.1, asking for language en-US."),
  ).toBeVisible();
});

test("a form's fields reach the handler typed, and its errors come back beside each field", async ({ page }) => {
  await openLive(page, "/actions");
  const name = page.getByRole("textbox", { name: "Name" });
  const email = page.getByRole("textbox", { name: "Email" });
  const age = page.getByRole("spinbutton", { name: "Age" });
  await email.fill("not an address");
  await age.fill("5");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await expect(name).toHaveAccessibleDescription("Enter your name, up to 40 characters");
  await expect(email).toHaveAccessibleDescription(/has an @ and a domain/);
  await expect(age).toHaveAccessibleDescription("Age is 13 to 120");

  await name.fill("Ada");
  await email.fill("ada@example.com");
  await age.fill("36");
  await page.getByRole("checkbox", { name: "Send me the newsletter" }).check();
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("Signed up Ada (ada@example.com), with the newsletter.")).toBeVisible();
  for (const field of [name, email, age]) await expect(field).toHaveAttribute("aria-invalid", "false");
  await expect(page.getByRole("status").filter({ hasText: "Welcome aboard" })).toBeVisible();
});
