// 4. The terminal tab: xterm.js on the daemon's terminal socket. Types `echo web-$RANDOM` and
//    reads the command's output back from the terminal's screen.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as h from "./harness.mjs";

// The terminal's screen, one string per row (xterm's DOM renderer draws rows as elements).
const screenRows = (page) => page.locator(".xterm-rows > div").allInnerTexts();

test("the terminal tab runs a typed command and shows its output", async () => {
  const page = await h.newPage();
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Terminal" }).click();
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  await page.getByTestId("terminal-state").filter({ hasText: /^open$/ }).waitFor();
  await page.locator(".xterm").click();

  const word = `web-${h.random()}`;
  await page.keyboard.type(`echo ${word}\n`, { delay: 5 });
  // The echoed command line holds `echo web-N`; the output is a row of its own.
  const rows = await h.eventually(`"${word}" on the terminal's screen`, async () => {
    const rows = (await screenRows(page)).map((r) => r.replace(/\u00a0/g, " ").trimEnd());
    return rows.some((r) => r.trim() === word) && rows.some((r) => r.includes(`echo ${word}`)) ? rows : null;
  }, 15000);
  assert.ok(rows.findIndex((r) => r.includes(`echo ${word}`)) < rows.findIndex((r) => r.trim() === word));
  await h.screenshot(page, "terminal");
});
