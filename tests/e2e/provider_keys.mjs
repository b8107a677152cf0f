// 20. Provider keys on the settings page: an Anthropic key is set from a password field, listed
//     as kept (with when it was set), replaced and removed; a key the server refuses shows the
//     server's message and changes nothing. The key is never on the page (nor in its fields once
//     stored), in any answer the page got, in the API's listing or in the monolith's log.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as h from "./harness.mjs";

const keysPath = "/api/v1/settings/provider-keys";

test("the settings page sets, replaces and removes a provider key without ever showing it", async () => {
  // The refused key's 400, which chromium logs, is expected.
  const page = await h.newPage({ allowed: [/status of 400 .*\/api\/v1\/settings\/provider-keys\/anthropic\)$/] });
  // Every answer the page got about provider keys (PUT and DELETE included).
  const answers = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith(keysPath)) answers.push(response.text().catch(() => ""));
  });
  const keys = [];  // every key typed
  // Nowhere the key could leak to: the page's markup, what its fields hold, the answers it got,
  // the API's listing.
  const assertNowhere = async () => {
    const html = await page.content();
    const fields = await page.evaluate(() => [...document.querySelectorAll("input, textarea")].map((f) => f.value));
    const got = await Promise.all(answers);
    const listed = JSON.stringify(await h.rest("GET", keysPath));
    for (const key of keys) {
      assert.ok(!html.includes(key), "the key is on the page");
      assert.ok(!fields.some((v) => v.includes(key)), "a field still holds the key");
      assert.ok(!got.some((body) => body.includes(key)), "an answer to the page holds the key");
      assert.ok(!listed.includes(key), "the listing holds the key");
    }
  };
  const kept = async () => (await h.rest("GET", keysPath)).provider_keys;

  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const section = page.getByRole("region", { name: "Provider keys" });
  const anthropic = section.getByRole("form", { name: "Anthropic key" });
  const openai = section.getByRole("form", { name: "OpenAI key" });
  const state = anthropic.getByTestId("provider-key-state");
  const field = anthropic.getByLabel("Anthropic API key");
  await state.filter({ hasText: /^No key kept/ }).waitFor();
  await openai.getByTestId("provider-key-state").filter({ hasText: /^No key kept/ }).waitFor();
  assert.equal(await field.getAttribute("type"), "password");
  assert.equal(await anthropic.getByRole("button", { name: "Remove Anthropic key" }).count(), 0);

  // Set: listed as kept, the field emptied.
  keys.push(`sk-ant-e2e-${h.random()}-${h.random()}`);
  await field.fill(keys[0]);
  await anthropic.getByRole("button", { name: "Save key" }).click();
  await anthropic.getByRole("status").filter({ hasText: "Anthropic key stored." }).waitFor();
  await state.filter({ hasText: /^Key kept, last set / }).waitFor();
  assert.equal(await field.inputValue(), "");
  const first = await kept();
  assert.deepEqual(first.map((k) => k.provider), ["anthropic"]);
  assert.deepEqual(Object.keys(first[0]).sort(), ["created_at_ms", "provider", "updated_at_ms"]);
  await assertNowhere();

  // Replace: still one, set again.
  await new Promise((r) => setTimeout(r, 5));  // a later updated_at_ms
  keys.push(`sk-ant-e2e-${h.random()}-${h.random()}`);
  await field.fill(keys[1]);
  await anthropic.getByRole("button", { name: "Replace key" }).click();
  await h.eventually("the replaced key", async () => {
    const now = await kept();
    return now.length === 1 && now[0].updated_at_ms > first[0].updated_at_ms;
  });
  await anthropic.getByRole("status").filter({ hasText: "Anthropic key stored." }).waitFor();
  assert.equal(await field.inputValue(), "");
  await assertNowhere();

  // Refused: the server's message, the key kept as it was.
  const before = await kept();
  await field.fill("has a space");
  await anthropic.getByRole("button", { name: "Replace key" }).click();
  await anthropic.getByRole("alert").filter({ hasText: /"api_key" must be the provider's key: 8 to 512 printable characters/ }).waitFor();
  assert.deepEqual(await kept(), before);
  await state.filter({ hasText: /^Key kept/ }).waitFor();
  await h.screenshots(page, "provider-keys");
  await field.fill("");

  // Remove: none kept, no remove button; the page read after a reload says so too.
  await anthropic.getByRole("button", { name: "Remove Anthropic key" }).click();
  await anthropic.getByRole("status").filter({ hasText: "Anthropic key removed." }).waitFor();
  await state.filter({ hasText: /^No key kept/ }).waitFor();
  assert.deepEqual(await kept(), []);
  assert.equal(await anthropic.getByRole("button", { name: "Remove Anthropic key" }).count(), 0);
  await page.reload();
  await state.filter({ hasText: /^No key kept/ }).waitFor();
  await assertNowhere();
  const log = readFileSync(h.env.log, "utf8");
  for (const key of keys) assert.ok(!log.includes(key), "the monolith logged the key");
});
