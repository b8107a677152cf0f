// 23. Triggers on their page: a schedule made from the form with an invalid cron shows the
//     server's reason and makes nothing; with an interval of 2 s of a project's workflow (its
//     params given as JSON) it fires, and its Events view lists the launched firings, each
//     linked to its run's page; disabled, the list says so and it fires no more. A webhook made
//     from the form shows its URL and token once (copied by its button; the token works, and
//     is in no listing nor on the page again); deleted after a confirmation, it is gone. A
//     workflow-event trigger lists the runs it watches.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

// The project's workflow the schedule runs: one quick command, an input the params set.
const kTick = `name: tick
description: Says a word.
inputs:
  word: {type: string, default: tick}
entry: say
nodes:
  - {id: say, type: run, command: "echo {{ inputs.word }}"}
`;

const launched = (events) => events.filter((e) => e.status === "launched");

test("triggers: a schedule fires from the form, its events link runs; a webhook's token is shown once", async () => {
  const project = await h.rest("POST", "/api/v1/projects", { name: `triggers-${h.random()}`, path: h.env.workspace });
  await h.rest("POST", `/api/v1/projects/${project.id}/workflows`, { source: kTick });
  // The refused create's 400, which chromium logs, is expected.
  const page = await h.newPage({ allowed: [/status of 400 .*\/api\/v1\/triggers\)$/] });
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: h.env.baseUrl });
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Triggers" }).click();
  await page.getByRole("heading", { name: "Triggers", level: 1 }).waitFor();
  const form = page.getByRole("form", { name: "New trigger" });
  const list = page.getByTestId("trigger-list");

  // An invalid cron: the server's reason next to the form, nothing made.
  const name = `tick-${h.random()}`;
  await form.getByLabel("Schedule", { exact: true }).check();
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByLabel("Project").selectOption({ label: project.name });
  const workflow = form.getByLabel("Workflow", { exact: true });
  await workflow.locator("option", { hasText: /^tick$/ }).waitFor({ state: "attached" });
  await workflow.selectOption("tick");
  await form.getByLabel("Cron").fill("61 * * * *");
  await form.getByLabel("Params (JSON)").fill('{"word": "tock"}');
  await form.getByRole("button", { name: "Create trigger" }).click();
  await form.getByRole("alert").filter({ hasText: /minute: 61 is out of range 0-59 at column 1/ }).waitFor();
  assert.deepEqual((await h.rest("GET", "/api/v1/triggers")).triggers.filter((t) => t.name === name), []);

  // Params that are not JSON are refused before anything is sent.
  await form.getByLabel("Cron").fill("");
  await form.getByLabel("Interval").fill("2s");
  await form.getByLabel("Params (JSON)").fill('{"word": ');
  await form.getByRole("button", { name: "Create trigger" }).click();
  await form.getByRole("alert").filter({ hasText: "Params: not valid JSON" }).waitFor();

  // Every 2 s: made, listed with what fires it and when it fires next.
  await form.getByLabel("Params (JSON)").fill('{"word": "tock"}');
  await form.getByRole("button", { name: "Create trigger" }).click();
  await form.getByRole("status").filter({ hasText: `Created ${name}.` }).waitFor();
  assert.equal(await form.getByRole("alert").count(), 0);
  const made = (await h.rest("GET", "/api/v1/triggers")).triggers.find((t) => t.name === name);
  assert.ok(made, "the schedule was not made");
  assert.equal(made.kind, "schedule");
  assert.equal(made.workflow, "tick");
  assert.equal(made.project_id, project.id);
  assert.deepEqual(made.params, { word: "tock" });
  assert.equal(made.spec.schedule.interval, "2s");
  const item = list.getByRole("listitem", { name });
  await item.getByTestId("trigger-fires").filter({ hasText: /^every 2s$/ }).waitFor();
  await item.getByTestId("trigger-enabled").filter({ hasText: /^enabled$/ }).waitFor();
  await item.getByTestId("trigger-next").filter({ hasText: /\((in \d+ s|now)\)$/ }).waitFor();

  // Its Events view: launched firings, newest first, each linked to its run.
  await item.getByRole("link", { name: `Events of ${name}` }).click();
  await page.waitForURL(new RegExp(`/triggers/${made.id}$`));
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  const shownLaunched = page.locator('[data-testid="firing"][data-status="launched"]');
  await h.eventually("two launched firings on the page", async () => (await shownLaunched.count()) >= 2, 30000);
  const events = (await h.rest("GET", `/api/v1/triggers/${made.id}/events`)).events;
  assert.ok(launched(events).length >= 2, JSON.stringify(events));
  const runLink = shownLaunched.last().getByRole("link", { name: "Run" });
  const href = await runLink.getAttribute("href");
  assert.match(href, /^\/runs\/[^/]+$/);
  const runId = decodeURIComponent(href.split("/").pop());
  assert.ok(launched(events).some((e) => e.run_id === runId), `${runId} is no launched firing's run`);
  await h.screenshots(page, "trigger-events");
  await runLink.click();
  await page.waitForURL(new RegExp(`/runs/${runId}$`));
  await page.locator("#run-title .status").filter({ hasText: /^completed$/ }).waitFor({ timeout: 30000 });
  const run = await h.rest("GET", `/api/v1/runs/${runId}`);
  assert.equal(run.nodes.find((n) => n.key === "say")?.output?.stdout?.trim(), "tock");
  await page.goBack();
  await page.getByRole("heading", { name, level: 1 }).waitFor();

  // Disabled from the list: shown so, no next instant, and it fires no more.
  await page.getByRole("link", { name: "← All triggers" }).click();
  await item.getByRole("button", { name: "Disable" }).click();
  await item.getByTestId("trigger-enabled").filter({ hasText: /^disabled$/ }).waitFor();
  await item.getByRole("button", { name: "Enable" }).waitFor();
  await item.getByTestId("trigger-next").filter({ hasText: "not while disabled" }).waitFor();
  const off = (await h.rest("GET", `/api/v1/triggers/${made.id}`));
  assert.equal(off.enabled, false);
  assert.equal(off.next_fire_at_ms, null);
  const count = (await h.rest("GET", `/api/v1/triggers/${made.id}/events`)).events.length;
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await h.rest("GET", `/api/v1/triggers/${made.id}/events`)).events.length, count,
               "a disabled schedule fired");

  // A webhook: its URL and token shown once, with copy buttons.
  const hookName = `hook-${h.random()}`;
  await form.getByLabel("Webhook", { exact: true }).check();
  await form.getByLabel("Name", { exact: true }).fill(hookName);
  await form.getByLabel("Params (JSON)").fill("");
  assert.equal(await form.getByLabel("Interval").count(), 0, "a webhook's form shows the schedule's fields");
  await form.getByRole("button", { name: "Create trigger" }).click();
  const shown = page.getByRole("region", { name: "Webhook token" });
  await shown.waitFor();
  await shown.getByText("It is shown only this once").waitFor();
  const token = await shown.getByTestId("webhook-token").innerText();
  const url = await shown.getByTestId("webhook-url").innerText();
  assert.match(token, /^rlwh_[0-9a-f]{48}$/);
  const hook = (await h.rest("GET", "/api/v1/triggers")).triggers.find((t) => t.name === hookName);
  assert.ok(hook, "the webhook was not made");
  assert.equal(url, `${h.env.baseUrl}/hooks/${hook.id}`);
  assert.equal(hook.webhook_path, `/hooks/${hook.id}`);
  await shown.getByRole("button", { name: "Copy token" }).click();
  await shown.getByRole("status").filter({ hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  const hookItem = list.getByRole("listitem", { name: hookName });
  await hookItem.getByTestId("trigger-fires").filter({ hasText: `POST /hooks/${hook.id}` }).waitFor();
  await hookItem.getByTestId("trigger-next").filter({ hasText: "on each delivery" }).waitFor();
  // A workflow-event trigger (made over REST) lists the runs it watches.
  const follow = await h.rest("POST", "/api/v1/triggers", {
    name: `after-${h.random()}`, workflow: "tick", project_id: project.id,
    workflow_event: { workflows: ["tick"], outcomes: ["failed", "blocked"] },
  });
  await list.getByRole("listitem", { name: follow.trigger.name }).getByTestId("trigger-fires")
    .filter({ hasText: /^runs of tick ending failed or blocked$/ }).waitFor();
  await h.screenshots(page, "triggers");

  // The token works: a delivery starts a run of the webhook's workflow.
  const delivery = await fetch(`${url}`, {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ from: "e2e" }),
  });
  assert.equal(delivery.status, 202, await delivery.text());
  await hookItem.getByTestId("trigger-last").filter({ hasText: /^launched / }).waitFor();

  // Shown once: in no listing, and gone from the page once dismissed or reloaded.
  assert.ok(!JSON.stringify(await h.rest("GET", "/api/v1/triggers")).includes(token), "the listing holds the token");
  assert.ok(!JSON.stringify(await h.rest("GET", `/api/v1/triggers/${hook.id}`)).includes(token));
  await shown.getByRole("button", { name: "I have copied it" }).click();
  assert.equal(await shown.count(), 0);
  assert.ok(!(await page.content()).includes(token), "the token is still on the page");
  await page.reload();
  await hookItem.waitFor();
  assert.ok(!(await page.content()).includes(token), "the token is on the page after a reload");

  // Delete asks first: kept, then deleted.
  await hookItem.getByRole("button", { name: "Delete" }).click();
  const confirm = hookItem.getByRole("group", { name: `Delete ${hookName}?` });
  await confirm.getByRole("button", { name: "Keep it" }).click();
  assert.equal(await confirm.count(), 0);
  assert.ok(await h.rest("GET", `/api/v1/triggers/${hook.id}`));
  await hookItem.getByRole("button", { name: "Delete" }).click();
  await confirm.getByRole("button", { name: "Yes, delete" }).click();
  await hookItem.waitFor({ state: "detached" });
  await h.rest("GET", `/api/v1/triggers/${hook.id}`, undefined, { expect: [404] });
  await item.waitFor();
});
