// The app at a phone's size (390×844): the chat list and a chat fit the width (nothing scrolls
// sideways) and the composer stays reachable.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

const fitsWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

test("a phone-sized viewport: the chat list and a chat fit 390 px", async () => {
  const chat = await h.rest("POST", "/api/v1/chats", { title: "On a phone" });
  await h.rest("POST", `/api/v1/chats/${chat.id}/messages`,
               { text: "list the files and run `echo a-rather-long-line-of-output-that-must-wrap-on-a-phone-screen`" });
  await h.idleChat(chat.id);
  const page = await h.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByTestId("chat-list").waitFor();
  assert.ok(await fitsWidth(page), "the chat list scrolls sideways at 390 px");
  await h.screenshot(page, "phone-chats");
  await page.getByRole("link", { name: /On a phone/ }).click();
  await page.getByRole("heading", { name: "On a phone" }).waitFor();
  await page.getByText("printed:").waitFor();
  assert.ok(await fitsWidth(page), "the chat scrolls sideways at 390 px");
  await page.getByLabel("Message", { exact: true }).waitFor();
  await h.screenshot(page, "phone-chat");
});
