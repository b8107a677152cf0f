// 22. Run control on the run page: Pause stops a run from starting its next step (the badge says
//     Paused) and Resume carries it to its end; a step that fails under on_failure: pause holds
//     the run (Paused: a step failed) with a card saying why, whose Retry refuses invalid JSON
//     without sending it and, with the args edited, runs the step again and the run completes;
//     a request the server refuses (409) shows its reason.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

// The second step outlives its 1 s timeout on every attempt (~20 s in all), then waits.
const kFlaky = `name: control-held
entry: first
nodes:
  - {id: first, type: run, command: "echo first"}
  - {id: flaky, type: run, timeout: 1s, command: "test -f ok && echo ok || sleep 30"}
  - {id: after, type: run, command: "echo after"}
edges:
  - {from: first, to: flaky}
  - {from: flaky, to: after}
`;

// A slow first step (long enough for the page to open and Pause to be clicked), then two quick ones.
const kSlow = (seconds, word) => `name: control-pause
entry: slow
nodes:
  - {id: slow, type: run, command: "sleep ${seconds} # ${word}"}
  - {id: next, type: run, command: "echo next"}
  - {id: last, type: run, command: "echo last"}
edges:
  - {from: slow, to: next}
  - {from: next, to: last}
`;

const state = (page, node) => page.locator(`[data-testid="graph-node"][data-node="${node}"]`).getAttribute("data-state");
const waitState = (page, node, wanted) =>
  h.eventually(`${node} to show ${wanted}`, async () => (await state(page, node)) === wanted, 30000);
const runStatus = (page, status) => page.locator("#run-title .status").filter({ hasText: new RegExp(`^${status}$`) });

// Refused requests are logged by chromium as failed loads: the one this test provokes is allowed,
// and so are the run's loads it blocks meanwhile.
const refusals = [/status of 409 .*\/api\/v1\/runs\/[^/]+\/pause\)$/, /net::ERR_FAILED .*\/api\/v1\/runs\/[^/]+\)$/];

test("run control: pause and resume a run, retry a failed step with edited args", async () => {
  // The failing run first: its step takes its attempts while the pause is tried.
  const held = await h.rest("POST", "/api/v1/workflows/runs", { source: kFlaky, on_failure: "pause" });
  const slow = await h.rest("POST", "/api/v1/workflows/runs", { source: kSlow(5, `pause-${h.random()}`) });
  const page = await h.newPage({ allowed: refusals });

  // Pause while the first step runs: it finishes, nothing after it starts; Resume goes on.
  await page.goto(`${h.env.baseUrl}/runs/${slow.run_id}`);
  const bar = page.getByRole("region", { name: "Run control" });
  await bar.getByRole("button", { name: "Pause" }).click();
  await bar.getByText("Paused", { exact: true }).waitFor();
  await bar.getByRole("button", { name: "Resume" }).waitFor();
  assert.equal((await h.rest("GET", `/api/v1/runs/${slow.run_id}`)).control.paused_by_user, true);
  await waitState(page, "slow", "completed");
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await state(page, "next"), "pending", "a paused run started its next step");
  const paused = await h.rest("GET", `/api/v1/runs/${slow.run_id}`);
  assert.equal(paused.status, "running");
  assert.deepEqual(paused.nodes.map((n) => n.key), ["slow"]);
  await bar.getByRole("button", { name: "Resume" }).click();
  await runStatus(page, "completed").waitFor();
  assert.equal(await bar.count(), 0, "an ended run still shows its control");
  assert.equal(await state(page, "last"), "completed");

  // A request the server refuses shows why: the page, its loads blocked, still offers Pause
  // for a run paused meanwhile.
  const other = await h.rest("POST", "/api/v1/workflows/runs", { source: kSlow(30, `refused-${h.random()}`) });
  await page.goto(`${h.env.baseUrl}/runs/${other.run_id}`);
  await bar.getByRole("button", { name: "Pause" }).waitFor();
  const runUrl = new RegExp(`/api/v1/runs/${other.run_id}$`);
  await page.route(runUrl, (route) => route.abort());
  await h.rest("POST", `/api/v1/runs/${other.run_id}/pause`, {});
  await bar.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("alert").filter({ hasText: "the run is already paused" }).waitFor();
  await page.unroute(runUrl);
  await bar.getByText("Paused", { exact: true }).waitFor();
  await h.rest("POST", `/api/v1/runs/${other.run_id}/cancel`);
  await runStatus(page, "cancelled").waitFor();

  // The failed step holds the run.
  await page.goto(`${h.env.baseUrl}/runs/${held.run_id}`);
  const card = page.getByRole("region", { name: "Failed step flaky" });
  await card.waitFor({ timeout: 60000 });
  await bar.getByText("Paused: a step failed", { exact: true }).waitFor();
  const control = (await h.rest("GET", `/api/v1/runs/${held.run_id}`)).control;
  assert.equal(control.held.length, 1);
  assert.ok(control.held[0].error, "the held step has no error");
  assert.equal((await card.locator(".held-error").innerText()).trim(), control.held[0].error.trim());
  const args = card.getByLabel("Retry with args (JSON)");
  assert.deepEqual(JSON.parse(await args.inputValue()), control.held[0].args);
  await h.screenshots(page, "run-control");

  // Invalid JSON is refused before anything is sent.
  let sent = 0;
  page.on("request", (request) => { if (request.method() === "POST" && /\/retry$/.test(request.url())) sent++; });
  await args.fill('{"command": ');
  await card.getByRole("button", { name: "Retry" }).click();
  await card.getByRole("alert").filter({ hasText: "not valid JSON" }).waitFor();
  assert.equal(sent, 0, "invalid args were sent");
  assert.equal((await h.rest("GET", `/api/v1/runs/${held.run_id}`)).control.held.length, 1);

  // Retried with other args, the step runs them and the run completes.
  await args.fill('{"command": "echo fixed"}');
  await card.getByRole("button", { name: "Retry" }).click();
  await runStatus(page, "completed").waitFor({ timeout: 30000 });
  assert.equal(sent, 1);
  assert.equal(await card.count(), 0);
  const run = await h.rest("GET", `/api/v1/runs/${held.run_id}`);
  assert.equal(run.status, "completed");
  const flaky = run.nodes.filter((n) => n.key === "flaky").at(-1);
  assert.equal(flaky.output?.stdout?.trim(), "fixed", JSON.stringify(run.nodes));
  await waitState(page, "after", "completed");
});
