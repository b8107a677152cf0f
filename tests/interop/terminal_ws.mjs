// The api's terminal WebSocket (/api/v2/terminal/ws) driven by the `ws` npm client: a terminal
// on the user's daemon is opened after an auth message, a command typed into it answers with
// its real output, a resize reaches the shell, a reconnect (with the token in the upgrade's
// Authorization header this time) attaches at the byte offset it had reached and sees no byte
// twice, and `close` ends the shell. A wrong token and another daemon are refused, and a frame
// over the size limit closes the socket with 1009.
//   node terminal_ws.mjs API_URL CA_CERT_FILE|- TOKEN DAEMON_ID       (- for plain HTTP)
import fs from "node:fs";
import WebSocket from "ws";

const [api, caFile, token, daemonId] = process.argv.slice(2);
const url = api.replace(/^http/, "ws") + "/api/v2/terminal/ws";
const ca = caFile === "-" ? undefined : fs.readFileSync(caFile);

function fail(message) {
  console.error("FAIL: " + message);
  process.exit(1);
}

// A socket whose messages queue up: text frames parsed, binary frames appended to `screen`.
function connect(headers = {}) {
  const socket = new WebSocket(url, { ca, headers });
  const state = { socket, messages: [], screen: "", bytes: 0, closed: false, waiters: [] };
  const wake = () => state.waiters.splice(0).forEach((w) => w());
  socket.on("message", (data, binary) => {
    if (binary) {
      state.screen += data.toString("utf8");
      state.bytes += data.length;
    } else {
      state.messages.push(JSON.parse(data.toString("utf8")));
    }
    wake();
  });
  socket.on("close", () => {
    state.closed = true;
    wake();
  });
  socket.on("error", (e) => fail("socket error: " + e.message));
  state.until = (what, predicate, ms = 10000) =>
    new Promise((resolve) => {
      const deadline = setTimeout(
        () => fail(`${what}: waited ${ms} ms; messages ${JSON.stringify(state.messages)}, screen ${JSON.stringify(state.screen)}`),
        ms,
      );
      const check = () => {
        const found = predicate();
        if (found) {
          clearTimeout(deadline);
          resolve(found);
        } else {
          state.waiters.push(check);
        }
      };
      check();
    });
  state.message = (type) => state.until(`a ${type} message`, () => state.messages.find((m) => m.type === type));
  state.send = (message) => socket.send(JSON.stringify(message));
  return new Promise((resolve) => socket.on("open", () => resolve(state)));
}

// Auth in the first message; a terminal opened and typed into.
const first = await connect();
first.send({ type: "auth", token });
const ready = await first.message("ready");
if (!ready.user_id) fail("ready without a user: " + JSON.stringify(ready));
first.send({ type: "open", daemon_id: daemonId, rows: 30, cols: 90 });
const opened = await first.message("opened");
const terminalId = opened.terminal.id;
if (!terminalId || opened.terminal.rows !== 30) fail("opened: " + JSON.stringify(opened));
const stamp = String(Date.now() % 100000);
first.socket.send(Buffer.from(`echo ws-$((6*7))-${stamp}\r`), { binary: true });
await first.until("the command's output", () => first.screen.includes(`ws-42-${stamp}`));
first.send({ type: "resize", rows: 40, cols: 100 });
first.send({ type: "input", data: "stty size\r" });
await first.until("the new size", () => first.screen.includes("40 100"));
const start = (await first.message("output")).offset;
if (start !== 0) fail("the first output starts at " + start);
const reached = first.bytes;
first.socket.close();
await first.until("the close", () => first.closed);

// Reconnect with the header, attach where the first socket stopped: nothing twice, nothing lost.
const second = await connect({ Authorization: "Bearer " + token });
await second.message("ready");
second.send({ type: "attach", daemon_id: daemonId, terminal_id: terminalId, offset: reached });
await second.message("opened");
second.send({ type: "input", data: `echo again-$((1+1))-${stamp}\r` });
await second.until("output after the attach", () => second.screen.includes(`again-2-${stamp}`));
const resumed = (await second.message("output")).offset;
if (resumed !== reached) fail(`attached at ${resumed}, asked ${reached}`);
if (second.screen.includes(`ws-42-${stamp}`)) fail("output before the offset came again: " + second.screen);
second.send({ type: "close" });
await second.until("the socket closing after close", () => second.closed);

// A wrong token: an error, then the socket closes. Another daemon: not found.
const intruder = await connect();
intruder.send({ type: "auth", token: token + "x" });
const refused = await intruder.message("error");
if (refused.code !== "unauthenticated") fail("a wrong token: " + JSON.stringify(refused));
await intruder.until("the wrong token's socket closing", () => intruder.closed);
const stranger = await connect({ Authorization: "Bearer " + token });
await stranger.message("ready");
stranger.send({ type: "open", daemon_id: "no-such-daemon" });
const missing = await stranger.message("error");
if (missing.code !== "not_found") fail("another daemon: " + JSON.stringify(missing));
stranger.socket.close();

// A frame over the server's 1 MiB limit: the socket is closed with 1009 (message too big).
const flooder = await connect({ Authorization: "Bearer " + token });
await flooder.message("ready");
let closeCode = 0;
flooder.socket.on("close", (code) => (closeCode = code));
flooder.socket.send(Buffer.alloc(2 * 1024 * 1024, 0x61), { binary: true });
await flooder.until("the oversized frame's socket closing", () => flooder.closed);
if (closeCode !== 1009) fail("an oversized frame closed the socket with " + closeCode);
console.log(`terminal_ws: ok (terminal ${terminalId}, reattached at byte ${reached})`);
process.exit(0);
