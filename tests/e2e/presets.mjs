// 19. Presets and models: the new-chat form offers the presets the workflow takes (the user's
//     own, then the built-ins; none of another tag) and, on a server without a model catalogue,
//     the server's default model alone; a chat started with the user's preset runs with its
//     system prompt, and a built-in picked in the composer holds for that message only. A
//     project's chat offers the project's presets too. On run.sh's second monolith, whose
//     catalogue has models a (flagship) and b (cheap), the model picked for the chat and the one
//     picked for a message are the models the runs' model calls used.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as h from "./harness.mjs";

// The labels of a select's groups and the values each offers: [[label, [value…]]…].
function groups(select) {
  return select.evaluate((s) => [...s.querySelectorAll("optgroup")]
    .map((g) => [g.label, [...g.querySelectorAll("option")].map((o) => o.value)]));
}

function optionTexts(select) {
  return select.evaluate((s) => [...s.options].map((o) => o.textContent));
}

// Waits until the select offers `value` (an option's value need not be an attribute).
function offers(select, value) {
  return h.eventually(`an option ${value}`,
    () => select.evaluate((s, v) => [...s.options].some((o) => o.value === v), value).catch(() => false));
}

// What the chat's latest run started with (its first event holds its inputs), once it has ended.
async function lastRunInputs(chatId) {
  const chat = await h.idleChat(chatId);
  const run = await h.rest("GET", `/api/v1/runs/${chat.workflow_run_id}/history`);
  assert.equal(run.history[0].kind, "run_started");
  return run.history[0].body.input.inputs;
}

test("a chat runs with the preset picked for it, and a message with the one picked in the composer", async () => {
  const word = h.random();
  const name = `lighthouse-${word}`;
  const sentence = `You keep the lighthouse ${word} and answer every question with the tide table.`;
  await h.rest("POST", "/api/v1/presets", {
    source: `name: ${name}\ndescription: Keeps the light burning ${word}\ntag: agent\n` +
      `params:\n  system_prompt: ${JSON.stringify(sentence)}\n`,
  });
  await h.rest("POST", "/api/v1/presets", {
    source: `name: stamp-${word}\ndescription: Not an agent's\ntag: commit\nparams:\n  system_prompt: "Stamp."\n`,
  });

  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  const form = page.getByRole("region", { name: "New chat" });
  const picker = form.getByLabel("Preset", { exact: true });
  await offers(picker, name);
  // builtin://agent takes presets tagged agent: the user's first, then the built-ins; general
  // applies when none is picked.
  const offered = await groups(picker);
  assert.deepEqual(offered.map(([label]) => label), ["Your presets", "Built-in"]);
  assert.deepEqual(offered[0][1], [name]);
  for (const builtin of ["general", "researcher", "code_reviewer"]) assert.ok(offered[1][1].includes(builtin), builtin);
  assert.equal((await optionTexts(picker))[0], "default (general)");
  await form.getByTestId("preset-description").filter({ hasText: /^All-round coding agent/ }).waitFor();
  // No catalogue on this server: the model is the server's, and the agent's model input is not
  // a text field of its own.
  const model = form.getByLabel("Model", { exact: true });
  assert.deepEqual(await optionTexts(model), ["server default"]);
  assert.ok(await model.isDisabled());
  assert.equal(await form.getByLabel("model", { exact: true }).count(), 0);

  await picker.selectOption(name);
  await form.getByTestId("preset-description").filter({ hasText: `Keeps the light burning ${word}` }).waitFor();
  await form.getByLabel("Title").fill(`Lighthouse ${word}`);
  await h.screenshots(page, "presets-new-chat");
  await form.getByRole("button", { name: "Start chat" }).click();
  await page.waitForURL(/\/chats\/[^/]+$/);
  const chatId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  assert.deepEqual((await h.rest("GET", `/api/v1/chats/${chatId}`)).presets, { default: name });

  // The composer shows the chat's preset; a message sent as it is runs with its prompt.
  const composerPreset = page.getByLabel("Preset", { exact: true });
  await composerPreset.locator("option", { hasText: `${name} (chat's)` }).waitFor({ state: "attached" });
  assert.equal(await composerPreset.inputValue(), "");
  assert.deepEqual(await optionTexts(page.getByLabel("Model", { exact: true })), ["server default"]);
  await h.send(page, `run \`echo keeper-${word}\``);
  await h.waitIdle(page);
  assert.equal((await lastRunInputs(chatId)).system_prompt, sentence);
  await page.getByTestId("message-assistant").filter({ hasText: `keeper-${word} printed` }).waitFor();

  // A built-in for one message: its prompt and its tool filter, which refuses bash, as the
  // scripted model's answer shows; the chat keeps its own preset.
  const researcher = await h.rest("GET", "/api/v1/presets/researcher");
  assert.equal(researcher.origin, "builtin");
  await composerPreset.selectOption("researcher");
  await h.send(page, `run \`echo researching-${word}\``);
  await h.waitIdle(page);
  const inputs = await lastRunInputs(chatId);
  assert.equal(inputs.system_prompt, researcher.params.system_prompt);
  assert.deepEqual(inputs.tools, researcher.params.tools);
  await page.getByTestId("message-assistant")
    .filter({ hasText: new RegExp(`researching-${word} failed:\\s*bash is not allowed here`) }).waitFor();
  assert.deepEqual((await h.rest("GET", `/api/v1/chats/${chatId}`)).presets, { default: name });
  await h.screenshots(page, "presets-composer");

  // A project's chat: the project's presets come first in a group of their own.
  const project = await h.rest("POST", "/api/v1/projects", { name: `harbour-${word}` });
  await h.rest("POST", "/api/v1/presets", {
    project_id: project.id,
    source: `name: harbour-${word}\ndescription: The harbour's own\ntag: agent\nparams:\n  system_prompt: "Harbour."\n`,
  });
  const projectChat = await h.rest("POST", "/api/v1/chats", { title: `Harbour ${word}`, project_id: project.id });
  await page.goto(`${h.env.baseUrl}/chats/${projectChat.id}`);
  await offers(composerPreset, `harbour-${word}`);
  const projectOffered = await groups(composerPreset);
  assert.deepEqual(projectOffered.map(([label]) => label), ["Your presets", "Project presets", "Built-in"]);
  assert.deepEqual(projectOffered[1][1], [`harbour-${word}`]);
  assert.equal((await optionTexts(composerPreset))[0], "general (default)");
});

test("with a model catalogue, the model picked for a chat and for one message is the one its run asked", async () => {
  const base = h.env.modelsUrl;
  const token = readFileSync(join(h.env.modelsDataDir, "auth", "token"), "utf8").trim();
  const rest = (method, path, body) => h.rest(method, path, body, { base, token });
  // Which models the run's model calls used (each call_llm node's output names its model).
  const modelsAsked = async (chatId) => {
    const chat = await rest("GET", `/api/v1/chats/${chatId}`);
    const run = await rest("GET", `/api/v1/runs/${chat.workflow_run_id}`);
    const calls = run.nodes.filter((n) => n.type === "call_llm");
    assert.ok(calls.length > 0, JSON.stringify(run.nodes));
    return [...new Set(calls.map((n) => n.output?.model))];
  };

  const { page } = await h.signInWithLink(h.env.modelsDataDir);
  const form = page.getByRole("region", { name: "New chat" });
  const model = form.getByLabel("Model", { exact: true });
  await offers(model, "b");
  assert.deepEqual(await optionTexts(model), ["server default", "a (flagship)", "b (cheap)"]);
  assert.ok(!(await model.isDisabled()));
  await model.selectOption("b");
  await form.getByLabel("Title").fill("Cheap chat");
  await h.screenshots(page, "models-new-chat");
  await form.getByRole("button", { name: "Start chat" }).click();
  await page.waitForURL(/\/chats\/[^/]+$/);
  const chatId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  assert.deepEqual((await rest("GET", `/api/v1/chats/${chatId}`)).workflow_inputs, { model: "b" });

  // The chat's model, then another for one message, then the chat's again.
  const composerModel = page.getByLabel("Model", { exact: true });
  await composerModel.locator("option", { hasText: "b (chat's)" }).waitFor({ state: "attached" });
  await h.send(page, "run `echo on-b`");
  await h.waitIdle(page);
  assert.deepEqual(await modelsAsked(chatId), ["b"]);
  await composerModel.selectOption("a");
  await h.send(page, "run `echo on-a`");
  await h.waitIdle(page);
  assert.deepEqual(await modelsAsked(chatId), ["a"]);
  await page.getByTestId("message-assistant").filter({ hasText: "on-a printed" }).waitFor();
  await h.screenshots(page, "models-composer");
  await composerModel.selectOption("");
  await h.send(page, "run `echo on-b-again`");
  await h.waitIdle(page);
  assert.deepEqual(await modelsAsked(chatId), ["b"]);
});
