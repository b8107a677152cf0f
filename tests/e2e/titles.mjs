// 18. Chat titles: a chat started without a title takes one from its first message (its first
//     line, trimmed) as soon as it is sent, on the chat's page and in the list; Rename gives it
//     another, which the API keeps.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

test("a chat takes its title from its first message and is renamed on its page", async () => {
  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.waitForURL(/\/chats\/[^/]+$/);
  const chatId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  const title = page.getByTestId("chat-title");
  await title.filter({ hasText: /^New chat$/ }).waitFor();

  const word = h.random();
  await h.send(page, `  Summarise the notes ${word}\nrun \`echo titled-${word}\``);
  await title.filter({ hasText: new RegExp(`^Summarise the notes ${word}$`) }).waitFor();
  await h.waitIdle(page);
  assert.equal((await h.rest("GET", `/api/v1/chats/${chatId}`)).title, `Summarise the notes ${word}`);

  await page.getByRole("button", { name: "Rename" }).click();
  const form = page.getByRole("form", { name: "Rename the chat" });
  const field = form.getByLabel("Title");
  assert.equal(await field.inputValue(), `Summarise the notes ${word}`);
  await field.fill("   ");
  assert.ok(await form.getByRole("button", { name: "Save" }).isDisabled(), "a blank title can be saved");
  await field.fill(`Notes, renamed ${word}`);
  await h.screenshots(page, "chat-rename");
  await form.getByRole("button", { name: "Save" }).click();
  await title.filter({ hasText: new RegExp(`^Notes, renamed ${word}$`) }).waitFor();
  assert.equal((await h.rest("GET", `/api/v1/chats/${chatId}`)).title, `Notes, renamed ${word}`);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chats" }).click();
  await page.getByTestId("chat-list").getByRole("link", { name: new RegExp(`Notes, renamed ${word}`) }).waitFor();
  await h.screenshots(page, "chat-titles");
});
