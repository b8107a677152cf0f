// 12. Questions: a workflow run (started over REST from YAML) asks the user two questions — one
//     with options, one free text — in its chat; each is answered on the page and the run goes
//     on with the answers as its nodes' outputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

const kAskTwice = `name: release-questions
entry: region
nodes:
  - id: region
    type: ask_question
    title: Region
    question: "Which region does the release go to first?"
    options: [eu-west, us-east, ap-south]
  - {id: codename, type: ask_question, question: "What is the release called?"}
  - id: say
    type: save_message
    args: {role: assistant, content: "{{ nodes.codename.answer }} goes to {{ nodes.region.answer }}"}
edges:
  - {from: region, to: codename}
  - {from: codename, to: say}
outputs:
  region: "{{ nodes.region.answer }}"
  codename: "{{ nodes.codename.answer }}"
`;

test("a workflow's questions are answered on the chat page, and the run goes on with the answers", async () => {
  const started = await h.rest("POST", "/api/v1/workflows/runs", { source: kAskTwice });
  const page = await h.newPage();
  await page.goto(`${h.env.baseUrl}/chats/${started.chat_id}`);

  const pick = page.getByRole("region", { name: "Waiting: Region" });
  await pick.getByRole("heading", { name: "Question: Region" }).waitFor();
  await pick.getByText("Which region does the release go to first?").waitFor();
  const answer = pick.getByRole("button", { name: "Answer" });
  assert.ok(await answer.isDisabled(), "an empty answer can be sent");
  await h.screenshots(page, "question-waiting");
  await pick.getByLabel("Answer").selectOption("us-east");
  await answer.click();
  await pick.waitFor({ state: "detached" });

  const name = page.getByRole("region", { name: "Waiting: What is the release called?" });
  const codename = `release-${h.random()}`;
  await name.getByLabel("Answer").fill(codename);
  await name.getByRole("button", { name: "Answer" }).click();
  await name.waitFor({ state: "detached" });

  await page.getByRole("article", { name: "assistant message" }).getByText(`${codename} goes to us-east`).waitFor();
  await h.waitIdle(page);
  const run = await h.rest("GET", `/api/v1/runs/${started.run_id}`);
  assert.equal(run.status, "completed");
  assert.deepEqual(run.result.outputs, { region: "us-east", codename });
  assert.equal(await page.getByTestId("waiting").count(), 0, "an answered question came back");
  await h.screenshots(page, "question-answered");
});
