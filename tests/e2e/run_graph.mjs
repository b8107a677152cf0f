// 13. The run graph: each node shows the state the API reports for it — completed, skipped (its
//     condition was false), waiting (an approval), pending (not reached yet), then, once the
//     approval is given, the run completed; a node that fails (a question nobody answers in
//     time) shows failed and what it never reached skipped; a running node shows running, and cancelled once its run is cancelled.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

const kStates = `name: node-states
entry: build
nodes:
  - {id: build, type: run, command: "echo built"}
  - {id: lint, type: run, command: "echo linted", condition: "1 > 2"}
  - {id: approve, type: approval, title: "Ship it?"}
  - {id: ship, type: run, command: "echo shipped", condition: "nodes.approve.status == 'approved'"}
edges:
  - {from: build, to: lint}
  - {from: lint, to: approve}
  - {from: approve, to: ship}
`;

const kFails = `name: node-fails
entry: first
nodes:
  - {id: first, type: run, command: "echo one"}
  - {id: broken, type: ask_question, question: "Nobody answers this, do they?", timeout: 1s}
  - {id: after, type: run, command: "echo never"}
edges:
  - {from: first, to: broken}
  - {from: broken, to: after}
`;

const kSlow = (word) => `name: node-running
entry: wait
nodes:
  - {id: wait, type: run, command: "sleep 300 # ${word}"}
  - {id: next, type: run, command: "echo next"}
edges:
  - {from: wait, to: next}
`;

// The states the graph shows, by node id.
async function states(page) {
  const nodes = page.getByTestId("graph-node");
  const out = {};
  for (const node of await nodes.all()) out[await node.getAttribute("data-node")] = await node.getAttribute("data-state");
  return out;
}

async function waitForStates(page, wanted) {
  let seen = {};
  await h.eventually(`the graph to show ${JSON.stringify(wanted)}`, async () => {
    seen = await states(page);
    return JSON.stringify(seen) === JSON.stringify(wanted);
  }).catch((error) => {
    error.message += `: it shows ${JSON.stringify(seen)}`;
    throw error;
  });
}

test("the run graph shows each node's real state as the run goes on and ends", async () => {
  const started = await h.rest("POST", "/api/v1/workflows/runs", { source: kStates });
  const page = await h.newPage();
  // From the run's chat, by its link.
  await page.goto(`${h.env.baseUrl}/chats/${started.chat_id}`);
  await page.getByRole("region", { name: "Waiting: Ship it?" }).waitFor();
  await page.getByRole("link", { name: "run graph" }).click();
  await page.waitForURL(new RegExp(`/runs/${started.run_id}$`));
  await waitForStates(page, { build: "completed", lint: "skipped", approve: "waiting", ship: "pending" });
  await page.getByRole("button", { name: "build: completed" }).click();
  const picked = page.getByRole("complementary", { name: "Node build" });
  await picked.getByText('"stdout": "built\\n"').waitFor();
  await h.screenshots(page, "run-graph-waiting");

  await h.rest("POST", `/api/v1/runs/${started.run_id}/approve`, { node: "approve" });
  await waitForStates(page, { build: "completed", lint: "skipped", approve: "completed", ship: "completed" });
  await page.locator("#run-title .status").filter({ hasText: /^completed$/ }).waitFor();
  await page.getByRole("button", { name: "lint: skipped" }).click();
  await page.getByRole("complementary", { name: "Node lint" }).getByTestId("picked-state").filter({ hasText: "skipped" }).waitFor();
  await h.screenshots(page, "run-graph-completed");
});

test("the run graph shows a failed node, a running one, and a cancelled run's nodes", async () => {
  const failed = await h.rest("POST", "/api/v1/workflows/runs", { source: kFails });
  const page = await h.newPage();
  await page.goto(`${h.env.baseUrl}/runs/${failed.run_id}`);
  await waitForStates(page, { first: "completed", broken: "failed", after: "skipped" });
  await page.locator("#run-title .status").filter({ hasText: /^failed$/ }).waitFor();
  await page.getByRole("button", { name: "broken: failed" }).click();
  await page.getByRole("complementary", { name: "Node broken" }).getByText(/no answer within its timeout/).waitFor();
  await h.screenshots(page, "run-graph-failed");

  const word = `graph-${h.random()}`;
  const slow = await h.rest("POST", "/api/v1/workflows/runs", { source: kSlow(word) });
  await page.goto(`${h.env.baseUrl}/runs/${slow.run_id}`);
  await waitForStates(page, { wait: "running", next: "pending" });
  await h.screenshots(page, "run-graph-running");
  await h.rest("POST", `/api/v1/runs/${slow.run_id}/cancel`);
  await waitForStates(page, { wait: "cancelled", next: "skipped" });
  const run = await h.rest("GET", `/api/v1/runs/${slow.run_id}`);
  assert.equal(run.status, "cancelled");
});
