// 5. The files tab: the daemon's workspace as a tree; a folder opens in place and a file opens
//    in the viewer with its contents.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("the files tab opens a folder and a file", async () => {
  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Files" }).click();
  await page.getByRole("heading", { name: "Files" }).waitFor();
  const tree = page.getByRole("tree");
  await tree.getByRole("button", { name: "docs" }).click();
  await tree.getByRole("button", { name: "guide.md" }).waitFor();
  await tree.getByRole("button", { name: "notes.txt", exact: true }).click();
  await page.getByRole("heading", { name: "notes.txt" }).waitFor();
  const contents = page.getByLabel("Contents of notes.txt");
  assert.equal(await contents.inputValue(), "Notes for the e2e test.\nsecond line\n");
  await h.screenshot(page, "files");
});
