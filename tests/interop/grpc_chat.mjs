// A chat client written with grpc-js (a client nobody here wrote) against the api's gRPC
// services: CreateChat (or reuse CHAT_ID), StreamUpdates from the message's update on, then
// SendMessage; prints one JSON line per update and exits 0 when the run ends idle, 1 when it
// fails, 2 on an RPC error.
//   node grpc_chat.mjs PROTO_ROOT API_HOST:PORT TOKEN MESSAGE [CHAT_ID]
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [protoRoot, address, token, text, existingChat] = process.argv.slice(2);
const definition = protoLoader.loadSync("reliant/api/v1/api.proto", {
  includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, defaults: true,
});
const api = grpc.loadPackageDefinition(definition).reliant.api.v1;
const credentials = grpc.credentials.createInsecure();
const chats = new api.ChatService(address, credentials);
const streaming = new api.StreamingService(address, credentials);
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);
const call = (client, method, request) =>
  new Promise((resolve, reject) => client[method](request, metadata, (error, reply) => (error ? reject(error) : resolve(reply))));

try {
  const chatId = existingChat || (await call(chats, "CreateChat", { title: "grpc-js" })).id;
  const sent = await call(chats, "SendMessage", { chatId, text });
  console.log(JSON.stringify({ sent: { chatId, runId: sent.runId, seq: sent.seq } }));
  const stream = streaming.StreamUpdates({ sinceSeq: String(BigInt(sent.seq) - 1n), chatId, previews: true }, metadata);
  stream.on("data", (update) => {
    console.log(JSON.stringify({ seq: update.seq, kind: update.kind, body: JSON.parse(update.bodyJson) }));
    const body = JSON.parse(update.bodyJson);
    if (update.kind === "chat_status" && body.runId !== undefined) body.run_id = body.runId;
    if (update.kind === "chat_status" && body.run_id === sent.runId && body.status !== "running") {
      stream.cancel();
      process.exit(body.status === "idle" ? 0 : 1);
    }
  });
  stream.on("error", (error) => {
    if (error.code === grpc.status.CANCELLED) return;
    console.error(`stream error: ${error.code} ${error.details}`);
    process.exit(2);
  });
} catch (error) {
  console.error(`rpc error: ${error.code} ${error.details}`);
  process.exit(2);
}
