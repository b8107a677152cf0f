// The nats npm client (a client nobody here wrote) publishes a JSON ToolRequest, as a worker in
// another language would: request-reply on tools.request.sync.<user>, answered by a real daemon
// through a real gateway. Prints the response JSON; exits 1 unless it carries the command's
// output.
//   node nats_tool_request.mjs NATS_URL USER_ID DAEMON_ID [TIMEOUT_MS]
import { connect, StringCodec } from "nats";
import { randomUUID } from "node:crypto";

const [url, userId, daemonId, timeoutMs = "15000"] = process.argv.slice(2);
const nc = await connect({ servers: url });
const sc = StringCodec();
const request = {
  requestId: `nats-js-${randomUUID()}`,
  toolName: "bash",
  inputJson: JSON.stringify({ command: "echo hello from nats.js" }),
  timeoutMs: "10000",
  userId,
  daemonId,
};
const reply = await nc.request(`tools.request.sync.${userId}`, sc.encode(JSON.stringify(request)), { timeout: Number(timeoutMs) });
const response = JSON.parse(sc.decode(reply.data));
console.log(JSON.stringify(response));
await nc.close();
process.exit(response.content === "hello from nats.js\n" && response.daemonId === daemonId ? 0 : 1);
