// 6. A reload in the middle of a run: the page resumes the update stream from the last update it
//    had (since_seq, kept in sessionStorage) and shows every message once, with no gap.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("a reload mid-run resumes by since_seq with no gap and no duplicate", async () => {
  const page = await h.newPage();
  const chatId = await h.startChat(page, "Reload mid-run");
  const word = h.random();
  await h.send(page, `run \`echo before-${word}\` and then \`sleep 2; echo after-${word}\``);
  // The first call has run and the second is running: reload now. (The first card shows its
  // call before its result: its output is waited for, not read at once.)
  const before = await h.toolCard(page, `echo before-${word}`);
  await h.eventually("the first call's output", async () => (await h.toolOutput(before)).trim() === `before-${word}`);
  await h.toolCard(page, `echo after-${word}`);
  assert.equal((await h.rest("GET", `/api/v1/chats/${chatId}`)).status, "running", "the run ended before the reload");
  const seen = Number(await page.evaluate(() => sessionStorage.getItem("reliant.updates.seq")));
  assert.ok(seen > 0);
  const resumed = page.waitForRequest((r) => r.url().includes("/api/v1/updates?"));
  await page.reload();
  assert.equal(new URL((await resumed).url()).searchParams.get("since_seq"), String(seen),
               "the page did not resume from the last update it had");
  await h.waitIdle(page);

  // Everything the chat stored, once and in order: the articles the page shows are the
  // messages with something to show (tool results show in their calls' cards).
  const chat = await h.idleChat(chatId);
  const shown = chat.messages.filter((m) => m.content.some((b) => b.kind !== "tool_result"));
  const articles = page.getByRole("article");
  await h.eventually("every message to be shown", async () => (await articles.count()) === shown.length);
  const roles = await articles.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
  assert.deepEqual(roles, shown.map((m) => `${m.role} message`));
  assert.equal(await page.locator("details.tool-card").count(), 2);
  assert.equal((await h.toolOutput(await h.toolCard(page, `echo after-${word}`))).trim(), `after-${word}`);
  const answer = await articles.last().innerText();
  assert.match(answer, new RegExp(`before-${word}[\\s\\S]*after-${word}`));
  assert.equal(await page.getByText(`printed:`).count(), 2, "the answer is shown more than once");
  assert.equal(await page.getByTestId("preview").count(), 0, "a streamed preview was left behind");
  await h.screenshot(page, "reload-resumed");
});
