// What every e2e test shares: headless Debian chromium through playwright-core, the server
// run.sh (a monolith) or run_distributed.sh (tools/cluster.sh) started (E2E_* variables), one
// sign-in with the monolith's one-time link or a server's email and password, a page that fails
// its test on any console error or page error, screenshots, every URL the browser asked for, and
// the REST API with the user's token for setting things up.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/e2e/run.sh or run_distributed.sh`);
  return value;
}

// What both run scripts set, then what only one of them has, read when first used: the
// monolith's data dir and log, the cluster's database and user.
export const env = {
  baseUrl: need("E2E_BASE_URL"),          // http://127.0.0.1:PORT (the cluster: api replica 1)
  screenshots: need("E2E_SCREENSHOTS"),   // where the PNGs go (under the build tree)
  reliant: need("E2E_RELIANT"),           // the binary, for admin commands
  workspace: need("E2E_WORKSPACE"),       // where the daemon runs tools
  get dataDir() { return need("E2E_DATA_DIR"); },          // the monolith's DATA_DIR
  get log() { return need("E2E_LOG"); },                   // the monolith's log
  get databaseUrl() { return need("E2E_DATABASE_URL"); },  // the cluster's Postgres
  get email() { return need("E2E_EMAIL"); },               // the cluster's user, who signs in
  get password() { return need("E2E_PASSWORD"); },         // with this password
  get modelsUrl() { return need("E2E_MODELS_URL"); },      // run.sh's second monolith, which
  get modelsDataDir() { return need("E2E_MODELS_DATA_DIR"); },  // has a model catalogue
};
mkdirSync(env.screenshots, { recursive: true });

// The user's token: the cluster's (E2E_TOKEN), or the monolith's local user's (it writes it on
// first start).
export const userToken = () =>
  process.env.E2E_TOKEN || readFileSync(join(env.dataDir, "auth", "token"), "utf8").trim();

// The REST API as a script calls it: a bearer token, JSON in and out; throws on an unexpected
// status. `base`: another server's address (with that server's token).
export async function rest(method, path, body, { token = userToken(), expect = [200, 201, 202, 204], base = env.baseUrl } = {}) {
  const response = await fetch(base + path, {
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
// (checked by `finishTest`), except those whose line ("console error: TEXT (URL)") matches one
// of `allowed` (an array the caller may change later).
async function guardedPage(context, { allowed = [] } = {}) {
  context.on("request", (request) => requestedUrls.push(request.url()));
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  page.on("websocket", (socket) => requestedUrls.push(socket.url()));
  const errors = [];
  page.on("console", (message) => {
    const line = `console error: ${message.text()} (${message.location().url})`;
    if (message.type() === "error" && !allowed.some((re) => re.test(line))) errors.push(line);
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

// Opens a monolith's one-time sign-in link (DATA_DIR/auth/web-link, which works once) in a
// fresh context. Returns the page, on the chat list, and the link's code.
export async function signInWithLink(dataDir) {
  const link = readFileSync(join(dataDir, "auth", "web-link"), "utf8").trim();
  const code = /#sign-in=([A-Za-z0-9_-]+)/.exec(link)[1];
  const context = await (await getBrowser()).newContext({ viewport: { width: 1280, height: 860 } });
  const page = await guardedPage(context);
  await page.goto(link);
  await page.getByRole("heading", { name: "Chats" }).waitFor();
  return { page, code };
}

// Signs in on run.sh's monolith, once per run; later pages reuse the session cookie it got.
// Returns the page it signed in on.
export function signIn() {
  signedIn ??= (async () => {
    const { page, code } = await signInWithLink(env.dataDir);
    return { page, code, storageState: await page.context().storageState() };
  })();
  return signedIn;
}

// Signs in through the page's form with email and password (a server's user; a monolith's
// opens its link), in a fresh context. Returns the page, on the chat list. Until then, the
// signed-out page's two questions are refused, which chromium logs as errors: allowed.
export async function signInWithPassword(email, password) {
  const context = await (await getBrowser()).newContext({ viewport: { width: 1280, height: 860 } });
  const signedOut = [/status of 401 .*\/api\/v1\/(auth\/session|updates\/head)\)$/];
  const page = await guardedPage(context, { allowed: signedOut });
  await page.goto(env.baseUrl + "/");
  const form = page.getByRole("form", { name: "Sign in to Reliant" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Chats" }).waitFor();
  signedOut.length = 0;
  return page;
}

// A fresh signed-in context (its own tabs, storage and cache) and a guarded page in it.
export async function newPage({ viewport = { width: 1280, height: 860 }, allowed = [] } = {}) {
  const { storageState } = await signIn();
  const context = await (await getBrowser()).newContext({ storageState, viewport });
  return guardedPage(context, { allowed });
}

// The session's cookie (its name carries the server's port) and CSRF token, as the browser
// holds them.
export async function browserSecrets() {
  const { storageState } = await signIn();
  const port = new URL(env.baseUrl).port;
  const name = port ? `reliant_session_${port}` : "reliant_session";
  const cookie = storageState.cookies.find((c) => c.name === name);
  assert.ok(cookie, `no ${name} cookie after signing in`);
  const who = await fetch(env.baseUrl + "/api/v1/auth/session", { headers: { Cookie: `${name}=${cookie.value}` } });
  assert.equal(who.status, 200);
  return { cookie: cookie.value, cookieName: name, csrf: (await who.json()).csrf_token };
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

// The viewports the app is shown at: a desktop's and a phone's.
export const desktop = { width: 1280, height: 860 };
export const phone = { width: 390, height: 844 };

// Screenshots of the page at a desktop's width and at a phone's (NAME-desktop.png and
// NAME-phone.png), its whole length; at the phone's width nothing may scroll sideways. The page
// is left at the size it had. A whole-length shot shows the chat's sticky composer where the
// viewport's bottom was, over the messages there: in these it stays in its place below them.
export async function screenshots(page, name) {
  const size = page.viewportSize() ?? desktop;
  for (const [label, viewport] of [["desktop", desktop], ["phone", phone]]) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: join(env.screenshots, `${name}-${label}.png`), fullPage: true,
                            style: ".composer { position: static; }" });
    if (label === "phone") {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(wide <= 0, `${name}: the page scrolls ${wide} px sideways at a phone's width`);
    }
  }
  await page.setViewportSize(size);
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

// Waits until a card says its call ran on the daemon NAME; returns the id it names (its tooltip).
export async function toolDaemon(card, name) {
  const label = card.locator(".tool-daemon");
  await label.filter({ hasText: `on ${name}` }).waitFor();
  assert.equal(await label.innerText(), `on ${name}`);
  return label.getAttribute("title");
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

// Fails unless the chat's last message, its answer, came over the update stream (`updates`, from
// recordUpdates) as several text deltas that make up its text, then as the stored message.
export async function assertAnswerStreamed(updates, chatId) {
  const stored = (await rest("GET", `/api/v1/chats/${chatId}`)).messages.at(-1);
  const text = stored.content.find((b) => b.kind === "text").body.text;
  const deltas = updates.filter((u) => u.kind === "text_delta" && u.body.message_id === stored.id);
  assert.ok(deltas.length > 1, `the answer did not stream (${deltas.length} deltas)`);
  assert.equal(deltas.map((d) => d.body.text).join(""), text);
  assert.ok(updates.some((u) => u.kind === "message" && u.body.id === stored.id));
}

// The chat as the API has it, once its run has ended.
export function idleChat(chatId, ms = 30000) {
  return eventually(`chat ${chatId} to end its run`, async () => {
    const chat = await rest("GET", `/api/v1/chats/${chatId}`);
    return chat.status !== "running" ? chat : null;
  }, ms);
}

export const random = () => String(100000 + Math.floor(Math.random() * 899999999));
