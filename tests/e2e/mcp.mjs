// 10. The MCP page: the workspace's .reliant/mcp.json (run.sh writes one) waits for the user's
//     approval of its content, and its server is UNTRUSTED; approving it on the page lets the
//     server start and offer its tools; Disable stops it, and once enabled again it starts.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("the MCP page approves a workspace's mcp.json, and its server starts", async () => {
  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "MCP servers" }).click();
  await page.getByRole("heading", { name: "MCP servers" }).waitFor();
  const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name: /^probe/ }) });
  await row.getByText("UNTRUSTED", { exact: true }).waitFor();
  const waiting = page.getByRole("region", { name: "Waiting for your approval" });
  await waiting.getByText(/mcp_probe_server\.py/).waitFor();  // what would run, for review
  await h.screenshot(page, "mcp-untrusted");
  await h.screenshots(page, "mcp-waiting");
  await waiting.getByRole("button", { name: "Approve and start its servers" }).click();
  await page.getByRole("status").filter({ hasText: "Approved" }).waitFor();
  await waiting.waitFor({ state: "detached" });
  await row.getByRole("button", { name: "Restart" }).click();
  await row.getByText("HEALTHY", { exact: true }).waitFor();
  const tools = Number(await row.getByRole("cell").nth(2).innerText());
  assert.ok(tools > 0, "the healthy server offers no tools");
  await h.screenshot(page, "mcp-approved");

  await row.getByRole("button", { name: "Disable" }).click();
  await row.getByText("DISABLED", { exact: true }).waitFor();
  assert.ok(await row.getByRole("button", { name: "Restart" }).isDisabled(), "a disabled server can be restarted");
  await row.getByRole("button", { name: "Enable" }).click();
  // Enabled, it is idle until its tools are wanted; Restart starts it now.
  await row.getByText("DISCONNECTED", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Restart" }).click();
  await row.getByText("HEALTHY", { exact: true }).waitFor();
  await h.screenshots(page, "mcp-healthy");
});
