// 1. Sign in with the monolith's one-time link, start a chat, and see the answer stream in with
//    tool cards holding the commands' real output (the scripted model: "list the files" → ls,
//    each `command` → bash).
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("sign in with the one-time link, chat, see the streamed answer and the tool cards", async () => {
  const { page, code } = await h.signIn();
  assert.equal(new URL(page.url()).pathname, "/chats", "signing in did not land on the chat list");
  assert.ok(!page.url().includes(code), "the sign-in code stayed in the address bar");
  await h.screenshot(page, "signed-in");

  const updates = await h.recordUpdates(page);
  const chatId = await h.startChat(page, "First chat");
  const word = `e2e-${h.random()}`;
  const line = `${word} is what this command printed, word by word`;  // long enough for several deltas
  await h.send(page, `list the files and run \`echo ${line}\``);
  await h.waitIdle(page);

  const listing = await h.toolOutput(await h.toolCard(page, "ls"));
  assert.match(listing, /notes\.txt/);
  const bash = await h.toolCard(page, `echo ${word}`);
  assert.equal((await h.toolOutput(bash)).trim(), line);
  assert.match(await h.toolDaemon(bash, "embedded"), /^embedded-/);

  const answer = page.getByRole("article", { name: "assistant message" }).last();
  await answer.getByText(`printed:`).waitFor();
  assert.match(await answer.innerText(), new RegExp(`notes\\.txt[\\s\\S]*${word}`));

  // The answer came over the update stream as text deltas, then as the stored message.
  await h.assertAnswerStreamed(updates, chatId);
  await h.screenshot(page, "chat");
});
