// Auth (issue 16, item 3) on /account: sign up and log in with a password
// the server checks with argon2; the login is an HttpOnly cookie the page's
// scripts cannot read; a protected action works only when logged in, and
// an anonymous tab is told so; a logout in another tab of the browser ends
// the login in this one at once, without a reload.
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

const PASSWORD = "correct horse battery";
const REFUSED = "account/reveal refused: you need to log in to do that";

/** An email no other test (or run of the suite) has signed up with. */
function freshEmail(): string {
  const project = test.info().project.name;
  return `ada-${project}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
}

/** The page's own line about the login (toasts live outside <main>). */
function loginStatus(page: Page): Locator {
  return page.getByRole("main").getByRole("status");
}

async function submit(page: Page, form: "Sign up" | "Log in", email: string, password: string) {
  const fields = page.getByRole("form", { name: form });
  await fields.getByLabel("Email").fill(email);
  await fields.getByLabel("Password").fill(password);
  await fields.getByRole("button", { name: form }).click();
}

async function signUp(page: Page): Promise<string> {
  const email = freshEmail();
  await openLive(page, "/account");
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
  await submit(page, "Sign up", email, PASSWORD);
  await expect(loginStatus(page)).toHaveText(`Logged in as ${email}.`);
  return email;
}

test("sign up, log in, and the protected action works", async ({ page, context }) => {
  const email = await signUp(page);
  // The login cookie is HttpOnly and SameSite=Lax: no script of the page
  // can read it.
  const cookie = (await context.cookies()).find((c) => c.name === "stateside_login");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  expect(await page.evaluate(() => document.cookie)).not.toContain("stateside_login");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
  await submit(page, "Log in", email, PASSWORD);
  await expect(loginStatus(page)).toHaveText(`Logged in as ${email}.`);
  await page.getByRole("button", { name: "Open my note" }).click();
  await expect(page.getByText(`A note only ${email} can read (opened 1 times).`)).toBeVisible();
});

test("a logout in a second tab ends the first tab's login without a reload", async ({
  page,
  context,
}) => {
  const email = await signUp(page);
  await page.getByRole("button", { name: "Open my note" }).click();
  const note = page.getByText(`A note only ${email} can read (opened 1 times).`);
  await expect(note).toBeVisible();
  await page.evaluate(() => {
    (window as unknown as { kept: string }).kept = "the same page";
  });

  const second = await context.newPage();
  await openLive(second, "/account");
  await expect(loginStatus(second)).toHaveText(`Logged in as ${email}.`);
  await second.getByRole("button", { name: "Log out" }).click();
  await expect(loginStatus(second)).toHaveText("You are not logged in.");

  // The first tab shows it at once, and its session has lost access.
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
  await expect(page.getByRole("alert").filter({ hasText: "You were logged out in another tab" })).toBeVisible();
  await expect(note).toHaveCount(0);
  await page.getByRole("button", { name: "Open my note" }).click();
  await expect(page.getByRole("alert").filter({ hasText: REFUSED })).toBeVisible();
  await expect(page.getByText(/A note only/)).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { kept?: string }).kept)).toBe(
    "the same page",
  );
});

test("a wrong password shows a clear error beside the field", async ({ page }) => {
  const email = await signUp(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
  await submit(page, "Log in", email, "not the password");
  const password = page.getByRole("form", { name: "Log in" }).getByLabel("Password");
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(password).toHaveAccessibleDescription("Wrong email or password");
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
});

test("an anonymous tab is refused the protected action with a visible notice", async ({
  page,
}) => {
  await openLive(page, "/account");
  await expect(loginStatus(page)).toHaveText("You are not logged in.");
  await page.getByRole("button", { name: "Open my note" }).click();
  await expect(page.getByRole("alert").filter({ hasText: REFUSED })).toBeVisible();
  await expect(page.getByText(/A note only/)).toHaveCount(0);
});
