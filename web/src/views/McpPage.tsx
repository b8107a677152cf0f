// The chosen daemon's MCP servers, followed as the page stays open: status, tool count, enable,
// disable, restart, reload; and its mcp.json files, where a workspace's file waits for the
// user's approval of its exact content before its servers may start.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { DaemonSelect, useDaemons } from "../daemons";

// Protobuf's JSON mapping: fields holding their default (0, "", an empty list) are left out.
interface Server {
  name: string; status: string; error?: string; tools?: number; restarts?: number;
  serverName?: string; serverVersion?: string; protocolVersion?: string; tags?: string[]; source?: string;
}
interface McpFile {
  file: string; layer: string; sha256?: string; status: string; error?: string;
  servers?: Record<string, Record<string, unknown>>;  // absent: not shown
}

// What a server of a file runs, or where it is, as one line.
function launchLine(fields: Record<string, unknown>): string {
  const where = typeof fields.url === "string" ? fields.url : String(fields.command ?? "");
  const args = Array.isArray(fields.args) ? fields.args.map((a) => String(a)).join(" ") : "";
  const rest = Object.entries(fields).filter(([k]) => !["url", "command", "args"].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
  return [where, args].filter(Boolean).join(" ") + (rest ? `  (${rest})` : "");
}

export function McpPage() {
  const { chosen } = useDaemons();
  const [servers, setServers] = useState<Server[] | null>(null);
  const [files, setFiles] = useState<McpFile[]>([]);
  const [note, setNote] = useState("");
  const load = () => {
    api<{ servers?: Server[] }>("GET", `/api/v1/daemons/${chosen}/mcp`)
      .then((r) => setServers(r.servers ?? [])).catch((e) => { setServers([]); setNote(e.message); });
    api<{ files?: McpFile[] }>("GET", `/api/v1/daemons/${chosen}/mcp/files`)
      .then((r) => setFiles(r.files ?? [])).catch(() => setFiles([]));
  };
  // Followed while the page is open: a server started, restarted or enabled becomes healthy (or
  // not) a moment after the request that asked for it.
  useEffect(() => {
    if (!chosen) return;
    load();
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, [chosen]);
  const act = async (name: string, verb: string) => {
    setNote("");
    try {
      await api("POST", `/api/v1/daemons/${chosen}/mcp/${encodeURIComponent(name)}/${verb}`);
    } catch (e: any) {
      setNote(e.message);
    }
    load();
  };
  const reload = async () => {
    await api("POST", `/api/v1/daemons/${chosen}/mcp/reload`).catch((e) => setNote(e.message));
    setTimeout(load, 500);
  };
  // The approval is of the content shown: the daemon refuses it if the file changed since.
  const approve = async (file: McpFile) => {
    setNote("");
    try {
      await api("POST", `/api/v1/daemons/${chosen}/mcp/files/approve`, { file: file.file, sha256: file.sha256 ?? "" });
      setNote(`Approved ${file.file}`);
    } catch (e: any) {
      setNote(e.message);
    }
    load();
  };
  const waiting = files.filter((f) => f.status === "UNTRUSTED");
  return (
    <section aria-labelledby="mcp-title">
      <header class="row"><h1 id="mcp-title">MCP servers</h1><DaemonSelect />
        <button onClick={reload}>Reload mcp.json</button></header>
      {waiting.length > 0 && (
        <section class="card" aria-labelledby="mcp-approvals">
          <h2 id="mcp-approvals">Waiting for your approval</h2>
          <p class="hint">These files lie in the workspace, which the repository's authors (or a tool) may
            have written. Their servers start only once you approve this exact content; a change to a file
            needs approval again. They never see this daemon's environment variables.</p>
          {waiting.map((f) => (
            <div class="mcp-file" data-file={f.file}>
              <p><code>{f.file}</code> <small>({f.layer}, sha256 <code>{(f.sha256 ?? "").slice(0, 12)}…</code>)</small></p>
              {f.error ? <p class="error small">{f.error}</p> : (
                <ul>
                  {Object.entries(f.servers ?? {}).map(([name, fields]) => (
                    <li><strong>{name}</strong>: <code>{launchLine(fields)}</code></li>
                  ))}
                </ul>
              )}
              {f.servers == null && !f.error && <p class="hint">Too large to show here: read the file before approving it.</p>}
              <button onClick={() => approve(f)} disabled={!!f.error}>Approve and start its servers</button>
            </div>
          ))}
        </section>
      )}
      {servers === null ? <p>Loading…</p> : servers.length === 0 ? <p class="hint">No MCP servers are configured on this daemon.</p> : (
        <table>
          <thead><tr><th>Server</th><th>Status</th><th>Tools</th><th>Restarts</th><th>Actions</th></tr></thead>
          <tbody>
            {servers.map((s) => (
              <tr>
                <td>{s.name}{s.error && <div class="error small">{s.error}</div>}</td>
                <td><span class={`badge ${s.status.toLowerCase()}`}>{s.status}</span></td>
                <td>{s.tools ?? 0}</td><td>{s.restarts ?? 0}</td>
                <td class="row">
                  {s.status === "DISABLED"
                    ? <button onClick={() => act(s.name, "enable")}>Enable</button>
                    : <button onClick={() => act(s.name, "disable")} disabled={s.status === "UNTRUSTED"}>Disable</button>}
                  <button onClick={() => act(s.name, "restart")} disabled={s.status === "DISABLED" || s.status === "UNTRUSTED"}>Restart</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {files.length > 0 && (
        <details>
          <summary>Configuration files</summary>
          <table>
            <thead><tr><th>File</th><th>Layer</th><th>Status</th><th>sha256</th></tr></thead>
            <tbody>
              {files.map((f) => (
                <tr><td><code>{f.file}</code></td><td>{f.layer}</td>
                  <td><span class={`badge ${f.status.toLowerCase()}`}>{f.status}</span></td>
                  <td><code>{(f.sha256 ?? "").slice(0, 12)}…</code></td></tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {note && <p role="status">{note}</p>}
    </section>
  );
}
