// 7. A tool's output streams into its card while it runs: the first line shows while the card
//    still says "running", and the result replaces it with the whole output once it is done.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("a running command's output streams into its card before it ends", async () => {
  const page = await h.newPage();
  await h.startChat(page, "Streaming output");
  const word = h.random();
  await h.send(page, `run \`echo first-${word}; sleep 3; echo last-${word}\``);
  const card = await h.toolCard(page, `echo first-${word}`);
  await card.locator(".badge.running").waitFor();
  await card.locator("pre.tool-output", { hasText: `first-${word}` }).waitFor();
  assert.equal(await card.locator(".badge").innerText(), "running",
               "the first line showed only after the command ended");
  assert.doesNotMatch(await card.locator("pre.tool-output").innerText(), new RegExp(`last-${word}`));
  await h.screenshot(page, "tool-output-streaming");
  await h.waitIdle(page);
  assert.equal((await h.toolOutput(card)).trim(), `first-${word}\nlast-${word}`);
});
