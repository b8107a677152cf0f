// The floor of an MCP tools/call round trip: the MCP TypeScript SDK's own client calling a stdio
// server (no daemon in between), after a warm-up. Prints one JSON line: {n, p50_us, p99_us,
// mean_us}.   node mcp_echo_peer.mjs COUNT TOOL ARGUMENTS_JSON -- COMMAND ARG…
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [countText, tool, argsText, dashes, command, ...args] = process.argv.slice(2);
if (dashes !== "--") { console.error("usage: mcp_echo_peer.mjs COUNT TOOL ARGUMENTS_JSON -- COMMAND ARG..."); process.exit(2); }
const count = Number(countText);
const toolArguments = JSON.parse(argsText);
const client = new Client({ name: "bench-peer", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command, args, stderr: "ignore" }));
for (let i = 0; i < 20; i++) await client.callTool({ name: tool, arguments: toolArguments });
const samples = [];
for (let i = 0; i < count; i++) {
  const start = process.hrtime.bigint();
  await client.callTool({ name: tool, arguments: toolArguments });
  samples.push(Number(process.hrtime.bigint() - start) / 1000);
}
await client.close();
samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
console.log(JSON.stringify({ n: samples.length, p50_us: Math.round(at(0.5)), p99_us: Math.round(at(0.99)),
                             mean_us: Math.round(samples.reduce((a, b) => a + b, 0) / samples.length) }));
process.exit(0);
