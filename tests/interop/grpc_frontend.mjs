// A browser-side tool written with grpc-js (a client nobody here wrote) against a gateway's
// frontend port: it lists and reads the daemon's files, writes one, lists its processes and
// streams a terminal (StreamTerminal, bidirectional) — typing a command, reading its output,
// closing it. Another user's token must get NOT_FOUND. Prints one line per step; exits 1 on the
// first thing that is not as expected.
//   node grpc_frontend.mjs PROTO_FILE FRONTEND_HOST:PORT TOKEN DAEMON_ID OTHER_TOKEN
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [protoFile, address, token, daemonId, otherToken] = process.argv.slice(2);
const definition = protoLoader.loadSync(protoFile, { keepCase: false, longs: String, enums: String, arrays: true });
const api = grpc.loadPackageDefinition(definition).reliant.api.v1;
const credentials = grpc.credentials.createInsecure();
const files = new api.FileSystemService(address, credentials);
const background = new api.BackgroundService(address, credentials);
const terminals = new api.TerminalService(address, credentials);

function auth(t) {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${t}`);
  return metadata;
}
function unary(client, method, request, t = token) {
  return new Promise((resolve, reject) =>
    client[method](request, auth(t), { deadline: Date.now() + 20000 }, (error, answer) =>
      error ? reject(error) : resolve(answer)));
}
function check(condition, what) {
  if (!condition) {
    console.log(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

const listed = await unary(files, "ListDirectory", { daemonId, path: "." });
check(listed.entries.some((e) => e.name === "notes.md"), `ListDirectory shows notes.md (${listed.entries.map((e) => e.name).join(", ")})`);
const read = await unary(files, "GetFileContent", { daemonId, path: "notes.md" });
check(Buffer.from(read.content).toString() === "through the bus", "GetFileContent reads what api 1 wrote");
await unary(files, "SaveFileContent", { daemonId, path: "from-grpc-js.txt", content: "grpc-js was here" });
const back = await unary(files, "GetFileContent", { daemonId, path: "from-grpc-js.txt" });
check(Buffer.from(back.content).toString() === "grpc-js was here", "SaveFileContent, then read back");
const processes = await unary(background, "ListProcesses", { daemonId });
check(Array.isArray(processes.processes), `ListProcesses answers (${processes.processes.length})`);
try {
  await unary(files, "GetFileContent", { daemonId, path: "notes.md" }, otherToken);
  check(false, "another user's token is refused");
} catch (e) {
  check(e.code === grpc.status.NOT_FOUND, `another user's token gets NOT_FOUND (${e.code})`);
}
try {
  await unary(files, "GetFileContent", { daemonId, path: "../outside.txt" });
  check(false, "a path outside the workspace is refused");
} catch (e) {
  check(e.code === grpc.status.PERMISSION_DENIED, `a path outside the workspace gets PERMISSION_DENIED (${e.code})`);
}

// The terminal: create, type, read until the answer shows, close, see it closed.
const marker = `grpc-js-${process.pid}`;
const seen = await new Promise((resolve) => {
  const stream = terminals.StreamTerminal(auth(token));
  let output = "";
  let opened = null;
  let closedSeen = false;
  const timer = setTimeout(() => {
    console.log(`FAILED: the terminal never showed ${marker}; it showed ${JSON.stringify(output)}`);
    process.exit(1);
  }, 20000);
  stream.on("data", (message) => {
    if (message.opened) {
      opened = message.opened;
      console.log(`ok: terminal ${opened.id} opened (${opened.rows}x${opened.cols})`);
      stream.write({ resize: { rows: 40, cols: 120 } });
      stream.write({ data: { data: Buffer.from(`echo ${marker}-$((40+2))\n`) } });
    } else if (message.data) {
      output += Buffer.from(message.data.data).toString();
      if (output.includes(`${marker}-42`) && !closedSeen) {
        closedSeen = true;
        stream.write({ close: {} });
      }
    } else if (message.closed) {
      clearTimeout(timer);
      resolve({ output, closed: true });
    }
  });
  stream.on("error", (e) => {
    console.log(`FAILED: terminal stream error ${e.code}: ${e.message}`);
    process.exit(1);
  });
  stream.on("end", () => {
    clearTimeout(timer);
    resolve({ output, closed: closedSeen });
  });
  stream.write({ create: { daemonId, rows: 24, cols: 80 } });
});
check(seen.output.includes(`${marker}-42`), "the terminal ran the typed command");
check(seen.closed, "the terminal closed when asked");
const after = await unary(terminals, "ListSessions", { daemonId });
check(after.sessions.length === 0, "no terminal is left open");
console.log("grpc_frontend: ok");
process.exit(0);
