// 3. The session daemon picker: set the chat's daemon (kept across a reload, shown beside the
//    picker, and the next tool call's card names it), then clear it (calls resolve per call).
//    The monolith has one daemon, its embedded one; the picker offers it and "default".
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("set and clear the session daemon; the next tool call shows its daemon", async () => {
  const page = await h.newPage();
  const chatId = await h.startChat(page, "Daemon picker");
  const { daemons } = await h.rest("GET", "/api/v1/daemons");
  const daemon = daemons.find((d) => d.status === "active");
  assert.ok(daemon, `no active daemon: ${JSON.stringify(daemons)}`);
  const picker = page.getByRole("combobox", { name: "Session daemon" });
  const activeDaemon = async () => (await h.rest("GET", `/api/v1/chats/${chatId}`)).active_daemon_id;

  await picker.selectOption(daemon.id);
  await h.eventually("the chat's daemon to be set", async () => (await activeDaemon()) === daemon.id);
  await page.locator(".chat-head .daemon-label").filter({ hasText: daemon.name || daemon.id }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Daemon picker" }).waitFor();
  await h.eventually("the picker to show the daemon after a reload", async () => (await picker.inputValue()) === daemon.id);

  const word = h.random();
  await h.send(page, `run \`echo session-${word}\``);
  await h.waitIdle(page);
  const onSession = await h.toolCard(page, `session-${word}`);
  assert.equal(await h.toolDaemon(onSession, daemon.name), daemon.id);
  assert.equal((await h.toolOutput(onSession)).trim(), `session-${word}`);
  await h.screenshot(page, "daemon-picker-set");

  await picker.selectOption("");
  await h.eventually("the chat's daemon to be cleared", async () => (await activeDaemon()) === "");
  await page.locator(".chat-head .daemon-label").waitFor({ state: "detached" });
  await h.send(page, `run \`echo default-${word}\``);
  await h.waitIdle(page);
  const onDefault = await h.toolCard(page, `default-${word}`);
  assert.equal(await h.toolDaemon(onDefault, daemon.name), daemon.id);
  assert.equal(await picker.inputValue(), "");
  await h.screenshot(page, "daemon-picker-cleared");
});
