// Security: a forged POST (no CSRF token) is refused, another user's chat is a 404 in the URL
// and the API, and no token — the session cookie's, its CSRF token, a PAT — ever appears in a
// URL the browser requested (WebSockets included) or in the server's log.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as h from "./harness.mjs";

const admin = (...args) => execFileSync(h.env.reliant,
  ["admin", ...args, "--db-driver", "sqlite", "--data-dir", h.env.dataDir], { encoding: "utf8" }).trim();
let otherToken = "";

const chatCount = async () => (await h.rest("GET", "/api/v1/chats")).chats.length;
// A POST to create a chat with the browser's session cookie and the given extra headers.
async function cookiePost({ cookie, cookieName }, headers) {
  const response = await fetch(h.env.baseUrl + "/api/v1/chats", {
    method: "POST",
    headers: { Cookie: `${cookieName}=${cookie}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ title: "forged" }),
  });
  return response.status;
}

test("a cross-site POST without the CSRF token is refused", async () => {
  const secrets = await h.browserSecrets();
  const { csrf } = secrets;
  const before = await chatCount();
  // What a forged request carrying the cookie gets: 403 without the token or with a wrong one.
  assert.equal(await cookiePost(secrets, { Origin: "http://evil.example" }), 403);
  assert.equal(await cookiePost(secrets, { Origin: "http://evil.example", "X-CSRF-Token": "0".repeat(32) }), 403);
  assert.equal(await chatCount(), before);

  // In the browser: a signed-in page's own script without the token, and another site's form.
  const page = await h.newPage({ allowed: [/status of 40[13]/] });
  await page.goto(h.env.baseUrl + "/chats");
  await page.getByTestId("chat-list").waitFor();
  const status = await page.evaluate(async () => (await fetch("/api/v1/chats", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: "no token" }),
  })).status);
  assert.equal(status, 403);
  await page.route("http://evil.test/**", (route) => route.fulfill({
    contentType: "text/html",
    body: `<form method="POST" enctype="text/plain" action="${h.env.baseUrl}/api/v1/chats">
             <input name='{"title":"cross-site","x":"' value='"}'></form>
           <script>document.forms[0].submit()</script>`,
  }));
  const refused = page.waitForResponse((r) => r.url().endsWith("/api/v1/chats") && r.request().method() === "POST");
  await page.goto("http://evil.test/");
  // SameSite=Strict keeps the cookie from another site's request: not even signed in.
  assert.ok([401, 403].includes((await refused).status()), `the cross-site form got HTTP ${(await refused).status()}`);
  assert.equal(await chatCount(), before, "a forged POST created a chat");
  // The right token from the page's own origin works (the control).
  assert.equal(await cookiePost(secrets, { Origin: h.env.baseUrl, "X-CSRF-Token": csrf }), 201);
});

test("another user's chat id in the URL is a 404", async () => {
  admin("user", "create", "--email", "other@e2e.test");
  otherToken = admin("token", "create", "--user", "other@e2e.test", "--name", "e2e").split("\n").pop();
  assert.match(otherToken, /^rlnt_pat_/);
  const theirs = await h.rest("POST", "/api/v1/chats", { title: "Not yours" }, { token: otherToken });
  await h.rest("GET", `/api/v1/chats/${theirs.id}`, undefined, { token: otherToken });
  await h.rest("GET", `/api/v1/chats/${theirs.id}`, undefined, { expect: [404] });
  await h.rest("POST", `/api/v1/chats/${theirs.id}/messages`, { text: "hi" }, { expect: [404] });

  const page = await h.newPage({ allowed: [/status of 404/] });
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/v1/chats/${theirs.id}`));
  await page.goto(`${h.env.baseUrl}/chats/${theirs.id}`);
  assert.equal((await answer).status(), 404);
  await page.getByRole("alert").filter({ hasText: "No such chat." }).waitFor();
  await h.screenshot(page, "other-users-chat");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chats" }).click();
  await page.getByTestId("chat-list").waitFor();
  assert.equal(await page.getByText("Not yours").count(), 0, "another user's chat is listed");
});

test("no token appears in a requested URL or in the server's log", async () => {
  const { cookie, csrf } = await h.browserSecrets();
  const { code } = await h.signIn();
  const secrets = { "the local user's PAT": h.userToken(), "the session cookie's token": cookie, "the CSRF token": csrf };
  if (otherToken) secrets["the other user's PAT"] = otherToken;
  const urls = h.requestedUrls.map((u) => { try { return decodeURIComponent(u); } catch { return u; } });
  assert.ok(urls.length > 20, `only ${urls.length} URLs were recorded`);
  for (const [what, secret] of Object.entries({ ...secrets, "the sign-in code": code })) {
    assert.ok(secret.length >= 16);
    const leaked = urls.filter((u) => u.includes(secret));
    assert.deepEqual(leaked, [], `${what} appeared in a URL`);
  }
  for (const socket of urls.filter((u) => u.startsWith("ws"))) assert.equal(new URL(socket).search, "");
  const log = readFileSync(h.env.log, "utf8");
  for (const [what, secret] of Object.entries(secrets)) assert.ok(!log.includes(secret), `${what} is in the server's log`);
  // The one-time code is printed in the log on purpose; by now it is spent.
  const reuse = await fetch(h.env.baseUrl + "/api/v1/auth/session/local", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }),
  });
  assert.ok(reuse.status >= 400 && reuse.status < 500, `the spent sign-in code got HTTP ${reuse.status}`);
  console.log(`checked ${urls.length} URLs (${urls.filter((u) => u.startsWith("ws")).length} WebSocket) and ${log.length} bytes of log`);
});
