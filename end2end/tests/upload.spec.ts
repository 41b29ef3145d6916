// Uploads on /files: the chosen files go up in one request to the server's
// upload handler, each with its own progress bar; the server lists what it
// saved in the session's state. Cancel aborts the request; a file over the
// server's limit gets a clear message. Written to disk first, so Chromium
// reads them as a user's files.
import { rmSync, writeFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { openLive } from "./live";

const MiB = 1024 * 1024;

/** The files a test wrote, removed after it: some are large. */
const written: string[] = [];
test.afterEach(() => {
  for (const path of written.splice(0)) rmSync(path, { force: true });
});

/** A file of `size` bytes in the test's output directory; its path. */
function file(name: string, size: number): string {
  const path = test.info().outputPath(name);
  writeFileSync(path, Buffer.alloc(size, name.length));
  written.push(path);
  return path;
}

/** Slows this page's uploads to `bytesPerSecond`, as a slow network does,
 * so that an upload is still going up while the test looks at it. */
async function slowUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

async function upload(page: Page, paths: string[]) {
  await page.getByLabel("Files", { exact: true }).setInputFiles(paths);
  await page.getByRole("button", { name: "Upload" }).click();
}

const uploadStatus = (page: Page) => page.getByRole("status", { name: "Upload status" });
const received = (page: Page) => page.getByRole("list", { name: "Received files" });

test("a 5 MB file goes up with its progress shown, and the server lists it", async ({ page }) => {
  await openLive(page, "/files");
  await slowUploads(page, 2 * MiB);
  await upload(page, [file("big.bin", 5 * MiB)]);
  const bar = page.getByRole("progressbar", { name: "Upload of big.bin" });
  // Part of the way, then all of it.
  await expect(bar).toHaveAttribute("aria-valuenow", /^[1-9][0-9]?$/);
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  await expect(uploadStatus(page)).toHaveText("Uploaded.");
  await expect(received(page).getByRole("listitem")).toHaveText(["big.bin (5242880 bytes)"]);
});

test("two files go up at once, each with its own progress", async ({ page }) => {
  await openLive(page, "/files");
  await upload(page, [file("first.txt", 300 * 1024), file("second.txt", 1000)]);
  await expect(page.getByRole("progressbar", { name: "Upload of first.txt" })).toHaveAttribute(
    "aria-valuenow",
    "100",
  );
  await expect(page.getByRole("progressbar", { name: "Upload of second.txt" })).toHaveAttribute(
    "aria-valuenow",
    "100",
  );
  await expect(received(page).getByRole("listitem")).toHaveText([
    "first.txt (307200 bytes)",
    "second.txt (1000 bytes)",
  ]);
});

test("a file over the server's limit gets a clear message and is not saved", async ({ page }) => {
  await openLive(page, "/files");
  await upload(page, [file("huge.bin", 17 * MiB)]);
  await expect(uploadStatus(page)).toHaveText(
    "huge.bin is 17.0 MiB, over the server's limit of 16.0 MiB per file.",
  );
  // The page goes on: a file within the limit is taken, and only it is listed.
  await upload(page, [file("small.txt", 10)]);
  await expect(uploadStatus(page)).toHaveText("Uploaded.");
  await expect(received(page).getByRole("listitem")).toHaveText(["small.txt (10 bytes)"]);
});

test("cancel stops an upload on its way, and the server keeps nothing of it", async ({ page }) => {
  await openLive(page, "/files");
  await slowUploads(page, 1 * MiB);
  await upload(page, [file("slow.bin", 8 * MiB)]);
  const bar = page.getByRole("progressbar", { name: "Upload of slow.bin" });
  await expect(bar).toHaveAttribute("aria-valuenow", /^[1-9][0-9]?$/);
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(uploadStatus(page)).toHaveText("Upload cancelled.");
  await expect(page.getByRole("button", { name: "Cancel" })).toBeDisabled();
  // The next upload is listed alone: the cancelled file never was.
  await upload(page, [file("after.txt", 10)]);
  await expect(uploadStatus(page)).toHaveText("Uploaded.");
  await expect(received(page).getByRole("listitem")).toHaveText(["after.txt (10 bytes)"]);
});
