// A stranger who reaches a managed daemon's port, written with grpc-js (a client nobody here
// wrote): it opens ToolsDaemonService.ConnectGateway as a gateway would, showing KEY (or no dial
// key), and reports whether the daemon served it. Prints "served" and exits 1 when any frame
// came within 3 s; prints "refused: <why>" and exits 0 when the stream ended without one.
//   node grpc_stranger.mjs PROTO_FILE DAEMON_HOST:PORT [KEY]
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [protoFile, address, key] = process.argv.slice(2);
const definition = protoLoader.loadSync(protoFile, { keepCase: false, longs: String, enums: String });
const api = grpc.loadPackageDefinition(definition).reliant.daemon.v1;
const client = new api.ToolsDaemonService(address, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
if (key !== undefined) metadata.set("x-reliant-dial-key", key);
const stream = client.ConnectGateway(metadata);

const watch = setTimeout(() => {
  console.log("refused: nothing was sent within 3 s");
  process.exit(0);
}, 3000);
stream.on("data", (frame) => {
  console.log(`served: ${Object.keys(frame).filter((k) => frame[k] != null).join(",")}`);
  process.exit(1);
});
stream.on("error", (e) => {
  clearTimeout(watch);
  console.log(`refused: ${e.message}`);
  process.exit(0);
});
stream.on("end", () => {
  clearTimeout(watch);
  console.log("refused: the stream ended");
  process.exit(0);
});
