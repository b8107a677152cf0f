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

  // As a person would: type once the shell has drawn its prompt (typeahead before the shell set
  // up its terminal is left to the shell's tty handling, which is not what this tests).
  const read = async () => (await screenRows(page)).map((r) => r.replace(/\u00a0/g, " ").trimEnd());
  await h.eventually("the shell's prompt", async () => (await read()).some((r) => r.trim() !== ""), 15000);
  const word = `web-${h.random()}`;
  await page.keyboard.type(`echo ${word}\n`, { delay: 5 });
  // The echoed command line holds `echo web-N`; the output is a row of its own.
  const rows = await h.eventually(`"${word}" on the terminal's screen`, async () => {
    const rows = await read();
    return rows.some((r) => r.trim() === word) && rows.some((r) => r.includes(`echo ${word}`)) ? rows : null;
  }, 15000).catch(async (error) => {
    // What the page and the daemon saw, for the failure's report: the screen, the socket's state
    // and each of the daemon's terminals with the output it holds.
    const seen = { screen: (await read()).filter((r) => r.trim()), state: await page.getByTestId("terminal-state").innerText() };
    for (const d of (await h.rest("GET", "/api/v1/daemons")).daemons) {
      for (const t of (await h.rest("GET", `/api/v1/daemons/${d.id}/terminals`)).sessions ?? []) {
        const out = await h.rest("GET", `/api/v1/daemons/${d.id}/terminals/${t.id}/output?offset=0&wait_ms=0`);
        seen[`terminal ${t.id}`] = { ...t, output: Buffer.from(out.data ?? "", "base64").toString() };
      }
    }
    error.message += `\n${JSON.stringify(seen, null, 1)}`;
    throw error;
  });
  assert.ok(rows.findIndex((r) => r.includes(`echo ${word}`)) < rows.findIndex((r) => r.trim() === word));
  await h.screenshot(page, "terminal");
});
