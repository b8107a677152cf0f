// 17. The processes page: a command the agent started in the background (bash with
//     run_in_background) is listed on its daemon; its output is shown and grows on the page as
//     the command prints, without a reload; Kill ends it (its process dies) and the page says so.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import * as h from "./harness.mjs";

const running = (marker) => {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;
  }
};

test("the processes page lists a background command, follows its output and kills it", async () => {
  const marker = `ticker-${h.random()}`;
  const command = `for i in $(seq 1 120); do echo ${marker}-$i; sleep 0.5; done`;
  const chat = await h.rest("POST", "/api/v1/chats", { title: "Background work" });
  const input = JSON.stringify({ command, run_in_background: true, description: "a ticker" });
  await h.rest("POST", `/api/v1/chats/${chat.id}/messages`, { text: `start the ticker: \`tool:bash ${input}\`` });
  await h.idleChat(chat.id);

  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Processes" }).click();
  await page.getByRole("heading", { name: "Processes" }).waitFor();
  const row = page.getByTestId("process").filter({ hasText: marker });
  await row.getByText("running", { exact: true }).waitFor();
  await row.getByRole("button", { name: /^Show output of / }).click();

  // Followed: lines printed after the page showed the first ones arrive by themselves.
  const output = page.getByTestId("process-output");
  const lastLine = async () => {
    const lines = (await output.innerText()).split("\n").filter((l) => l.startsWith(`${marker}-`));
    return lines.length ? Number(lines.at(-1).split("-").at(-1)) : 0;
  };
  const first = await h.eventually("the first lines of output", lastLine);
  await h.eventually("more output, followed live", async () => (await lastLine()) >= first + 3);
  await page.getByTestId("output-state").filter({ hasText: "following" }).waitFor();
  await h.screenshots(page, "processes-following");

  await row.getByRole("button", { name: /^Kill / }).click();
  await page.getByRole("status").filter({ hasText: /^Killed / }).waitFor();
  await row.getByText("killed", { exact: true }).waitFor();
  await page.getByTestId("output-state").filter({ hasText: "ended" }).waitFor();
  await h.eventually("the killed command's process to end", async () => !running(marker));
  const daemons = (await h.rest("GET", "/api/v1/daemons")).daemons;
  const listed = [];
  for (const d of daemons) {
    const answer = await h.rest("GET", `/api/v1/daemons/${d.id}/processes`, undefined, { expect: [200, 404, 503] });
    listed.push(...(answer?.processes ?? []));
  }
  const killed = listed.find((p) => (p.command ?? "").includes(marker));
  assert.ok(killed?.killed, `not killed: ${JSON.stringify(killed)}`);
  await h.screenshots(page, "processes-killed");
});
