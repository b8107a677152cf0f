// What every e2e test shares: headless Debian chromium through playwright-core, the monolith
// run.sh started (E2E_* variables), one sign-in with its one-time link, a page that fails its
// test on any console error or page error, screenshots, every URL the browser asked for, and
// the REST API with the local user's token for setting things up.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/e2e/run.sh`);
  return value;
}

export const env = {
  baseUrl: need("E2E_BASE_URL"),          // http://127.0.0.1:PORT
  dataDir: need("E2E_DATA_DIR"),          // the monolith's DATA_DIR
  workspace: need("E2E_WORKSPACE"),       // where its embedded daemon runs tools
  log: need("E2E_LOG"),                   // the monolith's log
  screenshots: need("E2E_SCREENSHOTS"),   // where the PNGs go (under the build tree)
  reliant: need("E2E_RELIANT"),           // the binary, for admin commands
};
mkdirSync(env.screenshots, { recursive: true });

// The local user's token (the monolith writes it on first start).
export const localToken = () => readFileSync(join(env.dataDir, "auth", "token"), "utf8").trim();

// The REST API as a script calls it: a bearer token, JSON in and out; throws on an unexpected status.
export async function rest(method, path, body, { token = localToken(), expect = [200, 201, 202, 204] } = {}) {
  const response = await fetch(env.baseUrl + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

// Polls `check` (async, returns a value or falsy) until it gives a value or `ms` pass.
export async function eventually(what, check, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Every URL the browser requested, WebSocket URLs included, over the whole run.
export const requestedUrls = [];

let browser = null;
let signedIn = null;  // a promise of { page, code, storageState }
const open = [];      // the pages of the current test: { page, errors }

export async function getBrowser() {
  browser ??= await launch();
  return browser;
}

export async function closeBrowser() {
  await browser?.close();
  browser = null;
}

// A new page whose URLs are recorded and whose console errors and page errors fail the test
// (checked by `finishTest`), except those matching `allowed`.
async function guardedPage(context, { allowed = [] } = {}) {
  context.on("request", (request) => requestedUrls.push(request.url()));
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  page.on("websocket", (socket) => requestedUrls.push(socket.url()));
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !allowed.some((re) => re.test(message.text()))) {
      errors.push(`console error: ${message.text()} (${message.location().url})`);
    }
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  open.push({ page, errors });
  return page;
}

// After each test: a screenshot of every page it left open if it failed, then no console or
// page error may have happened on any of them; their contexts are closed.
export async function finishTest(t) {
  const pages = open.splice(0);
  if (!t.passed) {
    for (const [i, { page }] of pages.entries()) {
      await page.screenshot({ path: join(env.screenshots, `FAILED-${t.name.replace(/\W+/g, "-")}-${i}.png`) }).catch(() => {});
    }
  }
  const errors = pages.flatMap(({ errors }) => errors);
  for (const { page } of pages) await page.context().close().catch(() => {});
  assert.deepEqual(errors, [], "the browser logged errors");
}

// Signs in with the monolith's one-time link (DATA_DIR/auth/web-link), once per run, in a fresh
// context; later pages reuse the session cookie it got. Returns the page it signed in on.
export function signIn() {
  signedIn ??= (async () => {
    const link = readFileSync(join(env.dataDir, "auth", "web-link"), "utf8").trim();
    const code = /#sign-in=([A-Za-z0-9_-]+)/.exec(link)[1];
    const context = await (await getBrowser()).newContext({ viewport: { width: 1280, height: 860 } });
    const page = await guardedPage(context);
    await page.goto(link);
    await page.getByRole("heading", { name: "Chats" }).waitFor();
    return { page, code, storageState: await context.storageState() };
  })();
  return signedIn;
}

// A fresh signed-in context (its own tabs, storage and cache) and a guarded page in it.
export async function newPage({ viewport = { width: 1280, height: 860 }, allowed = [] } = {}) {
  const { storageState } = await signIn();
  const context = await (await getBrowser()).newContext({ storageState, viewport });
  return guardedPage(context, { allowed });
}

// The session's cookie value and CSRF token, as the browser holds them.
export async function browserSecrets() {
  const { storageState } = await signIn();
  const cookie = storageState.cookies.find((c) => c.name === "reliant_session");
  assert.ok(cookie, "no reliant_session cookie after signing in");
  const who = await fetch(env.baseUrl + "/api/v1/auth/session", { headers: { Cookie: `reliant_session=${cookie.value}` } });
  assert.equal(who.status, 200);
  return { cookie: cookie.value, csrf: (await who.json()).csrf_token };
}

// The update stream's events as the page receives them (through the DevTools protocol's
// EventSource messages), across reloads: { kind, seq, chat_id, body }.
export async function recordUpdates(page) {
  const events = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Network.eventSourceMessageReceived", (m) => {
    try { events.push(JSON.parse(m.data)); } catch { /* a comment line */ }
  });
  await cdp.send("Network.enable");
  return events;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(env.screenshots, `${name}.png`) });
}

// Starts a chat from the chat list's form and returns its id (the page is on it afterwards).
export async function startChat(page, title) {
  await page.goto(env.baseUrl + "/chats");
  await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.waitForURL(/\/chats\/[^/]+$/);
  await page.getByRole("heading", { name: title }).waitFor();
  return decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
}

// Sends a message from the composer, in a mode.
export async function send(page, text, mode = "auto") {
  await page.getByLabel("Mode", { exact: true }).selectOption(mode);
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

// Waits until the page shows the chat's run as ended (the status the update stream set).
export async function waitIdle(page, ms = 30000) {
  await page.getByTestId("chat-status").filter({ hasText: /^idle$/ }).waitFor({ timeout: ms });
}

// A tool call's card, by the text of its call (e.g. the command), once it is shown.
export async function toolCard(page, text) {
  const card = page.locator("details.tool-card").filter({ has: page.locator("summary", { hasText: text }) });
  await card.waitFor();
  return card;
}

// What a card shows as the call's output (opening it: a finished call's card is folded).
export async function toolOutput(card) {
  if (!(await card.evaluate((d) => d.open))) await card.locator("summary").click();
  return card.locator("pre.tool-output").innerText();
}

// Fails unless the element is on screen and on top (not under the sticky composer, say).
export async function assertUncovered(locator) {
  const onTop = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return r.bottom <= innerHeight && r.top >= 0 && (el === hit || el.contains(hit));
  });
  assert.ok(onTop, `${locator} is off screen or covered`);
}

// The chat as the API has it, once its run has ended.
export function idleChat(chatId, ms = 30000) {
  return eventually(`chat ${chatId} to end its run`, async () => {
    const chat = await rest("GET", `/api/v1/chats/${chatId}`);
    return chat.status !== "running" ? chat : null;
  }, ms);
}

export const random = () => String(100000 + Math.floor(Math.random() * 899999999));
