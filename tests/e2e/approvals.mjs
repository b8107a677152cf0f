// 2. Manual mode: each batch of tool calls waits for a person. Approved, the call runs (its
//    output in its card, its file in the workspace); denied, it never runs.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("manual mode: an approved tool call runs, a denied one does not", async () => {
  const page = await h.newPage();
  await h.startChat(page, "Manual mode");
  const word = h.random();

  // Two commands: two turns, each asking once (an answered approval must not come back).
  await h.send(page, `run \`echo approved-${word} | tee approved.txt\` and \`echo second-${word}\``, "manual");
  const approval = page.getByRole("region", { name: /^Waiting: / });
  await approval.waitFor();
  const card = await h.toolCard(page, `approved-${word}`);
  assert.match(await h.toolOutput(card), /waiting for approval/);
  assert.ok(!existsSync(join(h.env.workspace, "approved.txt")), "the command ran before it was approved");
  await h.screenshot(page, "approval-waiting");
  await approval.getByRole("button", { name: "Approve" }).click();
  const second = await h.toolCard(page, `second-${word}`);
  assert.equal((await h.toolOutput(card)).trim(), `approved-${word}`);
  assert.equal(readFileSync(join(h.env.workspace, "approved.txt"), "utf8").trim(), `approved-${word}`);
  await approval.waitFor();
  await page.waitForTimeout(1500);  // the page polls the run's waiting nodes every second
  assert.equal(await approval.count(), 1, "an answered approval came back");
  await approval.getByRole("button", { name: "Approve" }).click();
  await h.waitIdle(page);
  assert.equal((await h.toolOutput(second)).trim(), `second-${word}`);
  await approval.waitFor({ state: "detached" });

  await h.send(page, `run \`echo denied-${word} | tee denied.txt\``, "manual");
  await approval.waitFor();
  await approval.getByRole("button", { name: "Deny" }).click();
  await h.waitIdle(page);
  const declined = page.getByText("The tool calls were declined.");
  await declined.waitFor();
  await h.assertUncovered(declined);  // the page scrolled to the newest message
  const denied = await h.toolCard(page, `denied-${word}`);
  assert.equal((await h.toolOutput(denied)).trim(), "(not run)");
  assert.equal(await denied.locator(".badge").innerText(), "not run");
  assert.ok(!existsSync(join(h.env.workspace, "denied.txt")), "a denied command ran");
  await h.screenshot(page, "approval-denied");
});
