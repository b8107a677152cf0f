// A tools daemon written with grpc-js (a client nobody here wrote) against the gateway's
// ToolsDaemonService.ConnectDaemon: it registers with a PAT, heartbeats, and answers every tool
// request itself. Prints "registered <daemon id>" once acknowledged, and one line per request.
//   node grpc_daemon.mjs PROTO_FILE GATEWAY_HOST:PORT TOKEN
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { randomUUID } from "node:crypto";

const [protoFile, address, token] = process.argv.slice(2);
const definition = protoLoader.loadSync(protoFile, { keepCase: false, longs: String, enums: String });
const api = grpc.loadPackageDefinition(definition).reliant.daemon.v1;
const client = new api.ToolsDaemonService(address, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);
const stream = client.ConnectDaemon(metadata);

stream.write({
  register: {
    name: "grpc-js-daemon",
    labels: { impl: "grpc-js" },
    type: "DAEMON_TYPE_LOCAL",
    hostname: "interop",
    platform: process.platform,
    workingDir: process.cwd(),
    capabilities: ["bash"],
    version: "interop",
    sessionId: randomUUID(),
  },
});
let beats = 0;
const heartbeat = setInterval(() => stream.write({ heartbeat: { sentAtMs: String(Date.now()), sequence: String(++beats) } }), 1000);

stream.on("data", (frame) => {
  if (frame.registerAck) {
    console.log(`registered ${frame.registerAck.daemonId} user ${frame.registerAck.userId}`);
  } else if (frame.toolRequest) {
    const r = frame.toolRequest;
    console.log(`request ${r.requestId} ${r.toolName} ${r.inputJson}`);
    stream.write({
      toolResponse: {
        requestId: r.requestId,
        success: true,
        content: `grpc-js ran ${r.toolName} with ${r.inputJson}`,
        metadataJson: "{}",
      },
    });
  } else if (frame.error) {
    console.log(`refused ${frame.error.code}: ${frame.error.message}`);
    process.exit(3);
  }
});
stream.on("error", (e) => {
  console.log(`stream error: ${e.message}`);
  clearInterval(heartbeat);
  process.exit(2);
});
stream.on("end", () => {
  clearInterval(heartbeat);
  process.exit(0);
});
