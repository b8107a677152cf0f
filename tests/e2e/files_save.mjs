// 15. Saving a file on the files page: a file of the workspace is opened in the editor, changed
//     and saved; the daemon wrote it to disk, Save is idle again until the next change, and the
//     file opened anew shows what was saved.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("the files page saves an edited file to the daemon's workspace", async () => {
  const word = h.random();
  mkdirSync(join(h.env.workspace, "drafts"), { recursive: true });
  const file = join(h.env.workspace, "drafts", "plan.md");
  writeFileSync(file, "# Plan\n- first step\n");

  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/files");
  await page.getByRole("heading", { name: "Files" }).waitFor();
  const tree = page.getByRole("tree");
  await tree.getByRole("button", { name: "drafts" }).click();
  await tree.getByRole("button", { name: "plan.md" }).click();
  await page.getByRole("heading", { name: "drafts/plan.md" }).waitFor();
  const editor = page.getByLabel("Contents of drafts/plan.md");
  assert.equal(await editor.inputValue(), "# Plan\n- first step\n");
  const save = page.getByRole("button", { name: "Save", exact: true });
  assert.ok(await save.isDisabled(), "Save is offered before any change");

  const edited = `# Plan\n- first step\n- second step ${word}\n`;
  await editor.fill(edited);
  await save.click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.equal(readFileSync(file, "utf8"), edited, "the file on disk");
  assert.ok(await save.isDisabled(), "Save is still offered after saving");
  await h.screenshots(page, "files-saved");

  await page.reload();
  await tree.getByRole("button", { name: "drafts" }).click();
  await tree.getByRole("button", { name: "plan.md" }).click();
  await h.eventually("the saved text in the editor", async () => (await editor.inputValue()) === edited);
});
