// Terminal sessions against the real api, with clients nobody here wrote (`ws`, grpc-js).
//   revoke: a token opens a WebSocket terminal and a gRPC StreamTerminal; each runs a command;
//           the token is revoked (DELETE /tokens/{id}); each session then ends at once
//           (an `unauthenticated` error and a close; UNAUTHENTICATED) and nothing typed after
//           the revocation reaches the terminal — its output, read with another token, shows
//           the command before and not the one after (issue 38: 35 of 35 still ran).
//   idle SECONDS: a terminal opened over the WebSocket stays quiet for SECONDS while the api
//           long-polls its output, then still runs a command (issue 38: idle terminals died
//           after about 18 s, each timed-out long-poll having leaked a waiting reader).
//   node terminal_sessions.mjs revoke API_URL CA|- TOKEN DAEMON_ID PROTO_FILE GRPC_HOST:PORT
//   node terminal_sessions.mjs idle SECONDS API_URL CA|- TOKEN DAEMON_ID
import fs from "node:fs";
import https from "node:https";
import http from "node:http";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import WebSocket from "ws";

const mode = process.argv[2];
const args = process.argv.slice(3);
const idleSeconds = mode === "idle" ? Number(args.shift()) : 0;
const [api, caFile, token, daemonId, protoFile, grpcAddress] = args;
const ca = caFile === "-" ? undefined : fs.readFileSync(caFile);
const stamp = String(process.pid);

function fail(message) {
  console.error("FAIL: " + message);
  process.exit(1);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A REST call: the parsed JSON answer (or fail on a status other than `want`).
function rest(method, path, body, bearer = token, want = [200, 201]) {
  const url = new URL(api + path);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method,
      ca,
      headers: { Authorization: "Bearer " + bearer, "Content-Type": "application/json" },
    }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => {
        if (!want.includes(response.statusCode)) fail(`${method} ${path}: HTTP ${response.statusCode} ${text}`);
        resolve(text ? JSON.parse(text) : {});
      });
    });
    request.on("error", reject);
    if (body !== undefined) request.write(JSON.stringify(body));
    request.end();
  });
}
const newToken = async (name) => rest("POST", "/api/v1/tokens", { name });
const revoke = async (id) => rest("DELETE", `/api/v1/tokens/${id}`, undefined, token, [200, 204]);
// Everything the terminal has shown, read with the main token.
async function shown(terminalId) {
  const page = await rest("GET", `/api/v1/daemons/${daemonId}/terminals/${terminalId}/output?offset=0&wait_ms=0`);
  return Buffer.from(page.data ?? "", "base64").toString("utf8");  // absent: nothing shown yet
}
async function until(what, predicate, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await predicate();
    if (found) return found;
    if (Date.now() > deadline) fail(`${what}: waited ${ms} ms`);
    await sleep(50);
  }
}

// A WebSocket terminal: its text messages, its screen, whether it closed.
function openSocket(bearer) {
  const socket = new WebSocket(api.replace(/^http/, "ws") + "/api/v2/terminal/ws", {
    ca,
    headers: { Authorization: "Bearer " + bearer },
  });
  const state = { socket, messages: [], screen: "", closed: false };
  socket.on("message", (data, binary) => {
    if (binary) state.screen += data.toString("utf8");
    else state.messages.push(JSON.parse(data.toString("utf8")));
  });
  socket.on("close", () => (state.closed = true));
  socket.on("error", () => {});
  state.message = (type, ms) => until(`a ${type} message`, () => state.messages.find((m) => m.type === type), ms);
  state.send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));
  return new Promise((resolve) => socket.on("open", () => resolve(state)));
}

async function revokeWebSocket() {
  const issued = await newToken("ws-" + stamp);
  const ws = await openSocket(issued.token);
  await ws.message("ready");
  ws.send({ type: "open", daemon_id: daemonId });
  const terminalId = (await ws.message("opened")).terminal.id;
  ws.send({ type: "input", data: `echo ws-before-$((1+1))-${stamp}\r` });
  await until("the command before", () => ws.screen.includes(`ws-before-2-${stamp}`));
  const revokedAt = Date.now();
  await revoke(issued.id);
  ws.send({ type: "input", data: `echo ws-after-$((2+2))-${stamp}\r` });
  const error = await ws.message("error", 3000);
  if (error.code !== "unauthenticated") fail("the revoked socket's error: " + JSON.stringify(error));
  await until("the revoked socket closing", () => ws.closed, 3000);
  const closedMs = Date.now() - revokedAt;
  ws.send({ type: "input", data: `echo ws-later-$((3+3))-${stamp}\r` });
  await sleep(1000);
  const screen = await shown(terminalId);
  if (!screen.includes(`ws-before-2-${stamp}`)) fail("the terminal lost what ran before: " + screen);
  if (screen.includes(`ws-after-4-${stamp}`) || screen.includes(`ws-later-6-${stamp}`)) {
    fail("a command typed after the revocation ran: " + screen);
  }
  console.log(`ok: WebSocket terminal ended ${closedMs} ms after its token was revoked; nothing after ran`);
}

async function revokeGrpc() {
  const definition = protoLoader.loadSync(protoFile, { keepCase: false, longs: String, enums: String, arrays: true });
  const terminals = new (grpc.loadPackageDefinition(definition).reliant.api.v1.TerminalService)(
    grpcAddress, ca ? grpc.credentials.createSsl(ca) : grpc.credentials.createInsecure());
  const issued = await newToken("grpc-" + stamp);
  const metadata = new grpc.Metadata();
  metadata.set("authorization", "Bearer " + issued.token);
  const stream = terminals.StreamTerminal(metadata);
  const state = { output: "", opened: null, error: null, ended: false };
  stream.on("data", (message) => {
    if (message.opened) state.opened = message.opened;
    if (message.data) state.output += Buffer.from(message.data.data).toString();
  });
  stream.on("error", (e) => (state.error = e));
  stream.on("end", () => (state.ended = true));
  stream.write({ create: { daemonId, rows: 24, cols: 80 } });
  await until("the gRPC terminal opening", () => state.opened);
  stream.write({ data: { data: Buffer.from(`echo grpc-before-$((5+5))-${stamp}\n`) } });
  await until("the gRPC command before", () => state.output.includes(`grpc-before-10-${stamp}`));
  const revokedAt = Date.now();
  await revoke(issued.id);
  stream.write({ data: { data: Buffer.from(`echo grpc-after-$((6+6))-${stamp}\n`) } });
  await until("the revoked gRPC stream ending", () => state.error || state.ended, 4000);
  if (!state.error || state.error.code !== grpc.status.UNAUTHENTICATED) {
    fail("the revoked stream ended with " + (state.error ? `${state.error.code} ${state.error.message}` : "no error"));
  }
  const endedMs = Date.now() - revokedAt;
  await sleep(1000);
  const screen = await shown(state.opened.id);
  if (!screen.includes(`grpc-before-10-${stamp}`)) fail("the gRPC terminal lost what ran before: " + screen);
  if (screen.includes(`grpc-after-12-${stamp}`)) fail("a command typed after the revocation ran: " + screen);
  console.log(`ok: gRPC StreamTerminal ended UNAUTHENTICATED ${endedMs} ms after its token was revoked; nothing after ran`);
}

async function idle() {
  const ws = await openSocket(token);
  await ws.message("ready");
  ws.send({ type: "open", daemon_id: daemonId });
  await ws.message("opened");
  const start = Date.now();
  while (Date.now() - start < idleSeconds * 1000) {
    await sleep(1000);
    if (ws.closed) fail(`the idle terminal closed after ${Math.round((Date.now() - start) / 1000)} s: ${JSON.stringify(ws.messages)}`);
    const error = ws.messages.find((m) => m.type === "error");
    if (error) fail(`the idle terminal failed after ${Math.round((Date.now() - start) / 1000)} s: ${JSON.stringify(error)}`);
  }
  ws.send({ type: "input", data: `echo still-here-$((20+1))-${stamp}\r` });
  await until("a command after the idle time", () => ws.screen.includes(`still-here-21-${stamp}`));
  ws.send({ type: "close" });
  console.log(`ok: a terminal idle for ${idleSeconds} s still runs commands`);
}

if (mode === "revoke") {
  await revokeWebSocket();
  await revokeGrpc();
} else if (mode === "idle") {
  await idle();
} else {
  fail("mode: revoke or idle");
}
console.log(`terminal_sessions ${mode}: ok`);
process.exit(0);
