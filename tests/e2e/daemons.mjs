// 11. The daemons page: the embedded daemon is listed; a managed daemon is created from the
//     form and the page follows the monolith's control plane as it starts it, suspends and
//     resumes it with its buttons; AWS is refused with the server's reason; deleted, it leaves
//     the list.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("the daemons page creates, suspends, resumes and deletes a managed daemon", async () => {
  const page = await h.newPage({ allowed: [/status of 409/] });  // AWS, refused on purpose
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Daemons" }).click();
  await page.getByRole("heading", { name: "Daemons", level: 1 }).waitFor();
  await page.locator(".daemon-list li").filter({ hasText: "local" }).first().waitFor();

  const name = `box-${h.random().toLowerCase().replace(/[^a-z0-9]/g, "")}`.slice(0, 30);
  const form = page.getByRole("form", { name: "New managed daemon" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Labels").fill("pool=e2e");
  await form.getByRole("button", { name: "Create" }).click();
  await page.getByRole("status").filter({ hasText: `Created ${name}` }).waitFor();
  const row = page.locator(".daemon-list li").filter({ hasText: name });
  await row.getByText("wanted running, seen running on local").waitFor();
  await row.getByText(/cloud, active/).waitFor();
  await h.screenshot(page, "daemons-created");

  await row.getByRole("button", { name: "Suspend" }).click();
  await row.getByText("wanted suspended, seen suspended").waitFor();
  await row.getByText(/cloud, suspended/).waitFor();
  await row.getByRole("button", { name: "Resume" }).click();
  await row.getByText("wanted running, seen running").waitFor();

  await form.getByLabel("Name").fill(`${name}-aws`);
  await form.getByLabel("Platform").selectOption("aws");
  await form.getByRole("button", { name: "Create" }).click();
  await page.getByRole("status").filter({ hasText: "platform aws is not supported yet" }).waitFor();

  const { daemons } = await h.rest("GET", "/api/v1/daemons");
  const made = daemons.find((d) => d.name === name);
  assert.ok(made?.managed, `not listed as managed: ${JSON.stringify(daemons)}`);
  assert.deepEqual(made.labels, { pool: "e2e" });

  await row.getByRole("button", { name: "Delete" }).click();
  await row.waitFor({ state: "detached" });
  await h.screenshot(page, "daemons-deleted");
});
