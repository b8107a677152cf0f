// 21. Sub-agents: in a chat whose agent may spawn `general`, a message makes the (scripted)
//     model spawn one that runs a command; its end comes back to the chat's thread as a
//     user-role message "[general] …" stored with display_style report, which the chat page
//     shows as a sub-agent's report (labelled, with its preset), not as something the user typed,
//     both as it arrives and after a reload.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("a sub-agent's report shows as a report, not as the user's message", async () => {
  const word = h.random();
  const title = `Sub-agents ${word}`;
  const chat = await h.rest("POST", "/api/v1/chats", { title, inputs: { spawn_presets: ["general"] } });
  // The call's JSON holds the sub-agent's command in backticks, written \u0060 (six characters).
  const q = "\\u0060";
  const call = `{"preset":"general","title":"quick","prompt":"${q}echo found-${word}${q}"}`;

  const page = await h.newPage();
  await page.goto(`${h.env.baseUrl}/chats/${encodeURIComponent(chat.id)}`);
  await page.getByRole("heading", { name: title }).waitFor();
  await h.send(page, `spawn one: \`tool:spawn ${call}\``);
  // Shown as it arrives over the update stream.
  const report = page.getByTestId("message-report").filter({ hasText: `found-${word}` });
  await report.waitFor({ timeout: 30000 });
  await h.waitIdle(page);

  // The run and its one sub-agent completed; the stored report is the user-role message.
  const ended = await h.idleChat(chat.id);
  assert.equal((await h.rest("GET", `/api/v1/runs/${ended.workflow_run_id}`)).status, "completed");
  const children = (await h.rest("GET", "/api/v1/workflows/runs")).runs
    .filter((r) => r.parent_run_id === ended.workflow_run_id);
  assert.deepEqual(children.map((r) => r.status), ["completed"]);
  const stored = ended.messages.filter((m) => (m.thread ?? "") === "" &&
    m.content.some((b) => b.kind === "text" && b.body.display_style === "report"));
  assert.equal(stored.length, 1, JSON.stringify(ended.messages));
  assert.equal(stored[0].role, "user");
  assert.match(stored[0].content[0].body.text, new RegExp(`^\\[general\\] .*found-${word}`));

  // On the page: a report, labelled, with its preset, its text without the "[general]" tag;
  // the user's own messages are the one they sent.
  const check = async () => {
    await report.waitFor();
    assert.equal(await report.count(), 1);
    assert.equal(await report.getAttribute("aria-label"), "Sub-agent report");
    await report.getByText("Sub-agent report", { exact: true }).waitFor();
    assert.equal(await report.getByTestId("report-preset").innerText(), "general");
    assert.ok(!(await report.locator(".markdown").innerText()).includes("[general]"));
    const mine = page.getByTestId("message-user");
    await h.eventually("the user's one message", async () => (await mine.count()) === 1);
    assert.match(await mine.innerText(), /^spawn one: /);
    assert.equal(await report.evaluate((el) => el.classList.contains("user")), false);
  };
  await check();
  await h.screenshots(page, "subagent-report");
  await page.reload();
  await page.getByRole("heading", { name: title }).waitFor();
  await check();
});
