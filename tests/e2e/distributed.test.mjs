// The web app on the distributed topology (run by run_distributed.sh against tools/cluster.sh):
// the page served by api replica 1, signed in with email and password, streams a chat whose run
// the workers drive (they lease its engine tasks; an api server runs none), its tool calls run
// on the cluster's one daemon, which one of the two gateways holds.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, afterEach, test } from "node:test";
import { promisify } from "node:util";
import * as h from "./harness.mjs";

afterEach(h.finishTest);
after(h.closeBrowser);

// One query on the cluster's Postgres: its rows, one a line, columns split by "|".
const run = promisify(execFile);
const sql = async (query) => (await run("psql", [h.env.databaseUrl, "-qtAc", query])).stdout.trim();

// Every worker that held one of the run's engine tasks, polled until `done()` says stop.
async function leaseOwners(runId, done) {
  const owners = new Set();
  while (!done()) {
    const rows = await sql(`SELECT DISTINCT lease_owner FROM engine_tasks WHERE run_id = '${runId}' AND status = 'leased'`);
    for (const owner of rows.split("\n").filter(Boolean)) owners.add(owner);
    await new Promise((r) => setTimeout(r, 50));
  }
  return owners;
}

test("distributed: api replica 1's page streams a chat the workers run, on the daemon a gateway holds", async (t) => {
  const page = await h.signInWithPassword(h.env.email, h.env.password);
  const { daemons } = await h.rest("GET", "/api/v1/daemons");
  assert.equal(daemons.length, 1, `not the cluster's one daemon: ${JSON.stringify(daemons)}`);
  const [daemon] = daemons;
  assert.equal(daemon.status, "active");
  const gateway = await sql(`SELECT gateway_id FROM daemons WHERE id = '${daemon.id}'`);
  assert.match(gateway, /^gateway-[12]$/, "no gateway holds the daemon");

  const updates = await h.recordUpdates(page);
  const chatId = await h.startChat(page, "Distributed chat");
  const word = `cluster-${h.random()}`;
  const line = `${word} is what this command printed, word by word`;  // long enough for several deltas
  // The sleep: a lease to see, and output that streams (daemon → gateway → bus → api) before the end.
  await h.send(page, `list the files and run \`echo started-${word}; sleep 2; echo ${line}\``);
  const runId = await h.eventually("the chat's run to start",
    async () => (await h.rest("GET", `/api/v1/chats/${chatId}`)).workflow_run_id);
  let ended = false;
  const owners = leaseOwners(runId, () => ended);
  owners.catch(() => {});  // awaited below, unless the run never ends
  try {
    const streaming = await h.toolCard(page, `echo started-${word}`);
    await streaming.locator("pre.tool-output", { hasText: `started-${word}` }).waitFor();
    assert.equal(await streaming.locator(".badge").innerText(), "running",
                 "the command's output came only with its result");
    await h.waitIdle(page);
  } finally {
    ended = true;
  }
  const workers = [...(await owners)];
  assert.ok(workers.length > 0, "never saw one of the run's engine tasks leased");
  for (const worker of workers) assert.match(worker, /^worker-[12]$/, `a task leased by ${worker}, not a worker`);
  assert.equal(await sql(`SELECT status FROM workflow_runs WHERE id = '${runId}'`), "completed");
  t.diagnostic(`run ${runId}: its tasks leased by ${workers.sort().join(", ")}; the daemon held by ${gateway}`);

  // The cards: the daemon's real output, and the daemon named.
  const listing = await h.toolOutput(await h.toolCard(page, "ls"));
  assert.match(listing, /notes\.txt/);
  const bash = await h.toolCard(page, `echo ${word}`);
  assert.equal((await h.toolOutput(bash)).trim(), `started-${word}\n${line}`);
  for (const card of [await h.toolCard(page, "ls"), bash]) assert.equal(await h.toolDaemon(card, "laptop"), daemon.id);
  const answer = page.getByRole("article", { name: "assistant message" }).last();
  await answer.getByText("printed:").waitFor();
  assert.match(await answer.innerText(), new RegExp(`notes\\.txt[\\s\\S]*${word}`));

  // Streamed to this page by api replica 1: text deltas over its update stream, then the message.
  assert.ok(h.requestedUrls.some((url) => url.startsWith(`${h.env.baseUrl}/api/v1/updates?`)),
            "the page did not follow api replica 1's update stream");
  await h.assertAnswerStreamed(updates, chatId);
  await h.screenshot(page, "distributed-chat");
});
