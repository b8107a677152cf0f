// 14. The settings page: a personal access token is created (shown once, and it works on the
//     API), listed and revoked (it no longer works); the settings object is saved, shown again
//     after a reload, and text that is not a JSON object is refused on the page, storing nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import * as h from "./harness.mjs";

const meWith = async (token) =>
  (await fetch(h.env.baseUrl + "/api/v1/me", { headers: { Authorization: `Bearer ${token}` } })).status;

test("the settings page creates and revokes a token and saves the settings", async () => {
  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();

  const name = `e2e-${h.random()}`;
  const tokens = page.getByRole("region", { name: "Personal access tokens" });
  await tokens.getByLabel("Name").fill(name);
  await tokens.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").innerText()).trim();
  assert.ok(token.length > 20, `no token shown: ${token}`);
  assert.equal(await meWith(token), 200, "the new token does not work");
  const row = tokens.getByRole("row").filter({ hasText: name });
  await row.getByText("active", { exact: true }).waitFor();

  const wanted = { editor: { tab_width: 4 }, e2e: name };
  const editor = page.getByLabel("Settings (JSON)");
  await editor.fill(JSON.stringify(wanted));
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
  assert.deepEqual((await h.rest("GET", "/api/v1/settings")).settings, wanted);
  await h.screenshots(page, "settings");

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await row.getByText("revoked", { exact: true }).waitFor();
  assert.equal(await meWith(token), 401, "a revoked token still works");

  await page.reload();
  await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
  await h.eventually("the saved settings on the page", async () =>
    isDeepStrictEqual(JSON.parse(await editor.inputValue()), wanted));
  for (const [text, says] of [["{not json", /not JSON/], ["[1, 2]", /one JSON object/]]) {
    await editor.fill(text);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: says }).waitFor();
  }
  assert.deepEqual((await h.rest("GET", "/api/v1/settings")).settings, wanted, "refused settings were stored");
});
