// 16. Cancelling a running chat: a long command runs; Cancel on the chat page ends the run as
//     cancelled, the command's processes die, its card says it was not run to the end, and the
//     chat takes a new message afterwards.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import * as h from "./harness.mjs";

// Whether any process's command line holds `marker`.
function running(marker) {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;  // pgrep exits 1 when nothing matches
  }
}

test("Cancel stops a running chat and kills its command", async () => {
  const page = await h.newPage();
  const chatId = await h.startChat(page, "To be cancelled");
  const marker = `cancel-${h.random()}`;
  await h.send(page, `run \`sleep 300 # ${marker}\``);
  const card = await h.toolCard(page, marker);
  await card.locator(".badge").filter({ hasText: "running" }).waitFor();
  await h.eventually("the command to run on the daemon", async () => running(marker));
  await h.screenshots(page, "cancel-running");

  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByTestId("chat-status").filter({ hasText: /^cancelled$/ }).waitFor();
  await card.locator(".badge").filter({ hasText: "not run" }).waitFor();
  const chat = await h.idleChat(chatId);
  assert.equal(chat.status, "cancelled");
  const run = await h.rest("GET", `/api/v1/runs/${chat.workflow_run_id}`);
  assert.equal(run.status, "cancelled");
  await h.eventually("the cancelled command's process to end", async () => !running(marker));
  await h.screenshots(page, "cancel-cancelled");

  // The chat goes on.
  const word = h.random();
  await h.send(page, `run \`echo after-${word}\``);
  await h.waitIdle(page);
  assert.equal((await h.toolOutput(await h.toolCard(page, `after-${word}`))).trim(), `after-${word}`);
});
