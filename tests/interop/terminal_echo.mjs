// Keystroke echo latency of a terminal through /api/v2/terminal/ws (the `ws` npm client): opens
// a terminal on DAEMON_ID, waits for the shell to settle, then types one character at a time and
// times each until the terminal echoes it back. Prints one JSON line: {n, p50_us, p99_us, mean_us}.
//   node terminal_echo.mjs API_URL TOKEN DAEMON_ID [COUNT]
import WebSocket from "ws";

const [api, token, daemonId, countText] = process.argv.slice(2);
const count = Number(countText || 300);
const url = api.replace(/^http/, "ws") + "/api/v2/terminal/ws";
const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false });
let waiting = null;  // resolves on the next binary frame
let buffered = "";
socket.on("message", (data, binary) => {
  if (!binary) {
    const message = JSON.parse(data.toString());
    if (message.type === "error") {
      console.error(`terminal_echo: ${message.code}: ${message.message}`);
      process.exit(1);
    }
    if (message.type === "ready") socket.send(JSON.stringify({ type: "open", daemon_id: daemonId, rows: 24, cols: 200 }));
    return;
  }
  buffered += data.toString();
  if (waiting) waiting();
});
await new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = async () => {  // until no output for 300 ms
  for (let last = -1; last !== buffered.length;) { last = buffered.length; await sleep(300); }
};
await sleep(500);
await quiet();
const samples = [];
for (let i = 0; i < count; i++) {
  const key = String.fromCharCode(97 + (i % 26));
  buffered = "";
  const echoed = new Promise((resolve) => { waiting = () => { if (buffered.includes(key)) resolve(); }; });
  const start = process.hrtime.bigint();
  socket.send(Buffer.from(key), { binary: true });
  await echoed;
  samples.push(Number(process.hrtime.bigint() - start) / 1000);
  waiting = null;
  if (i % 50 === 49) {  // clear the typed line (Ctrl-U), so it never wraps
    socket.send(Buffer.from("\x15"), { binary: true });
    await quiet();
  }
}
socket.send(JSON.stringify({ type: "close" }));
samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
console.log(JSON.stringify({ n: samples.length, p50_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)), mean_us: Math.round(mean) }));
process.exit(0);
