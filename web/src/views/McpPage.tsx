// The chosen daemon's MCP servers: status, tool count, enable, disable, restart, reload.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { DaemonSelect, useDaemons } from "../daemons";

interface Server { name: string; status: string; error: string; tools: number; restarts: number; source?: string }

export function McpPage() {
  const { chosen } = useDaemons();
  const [servers, setServers] = useState<Server[] | null>(null);
  const [note, setNote] = useState("");
  const load = () => api<{ servers: Server[] }>("GET", `/api/v1/daemons/${chosen}/mcp`)
    .then((r) => setServers(r.servers)).catch((e) => { setServers([]); setNote(e.message); });
  useEffect(() => { if (chosen) load(); }, [chosen]);
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
  return (
    <section aria-labelledby="mcp-title">
      <header class="row"><h1 id="mcp-title">MCP servers</h1><DaemonSelect />
        <button onClick={reload}>Reload mcp.json</button></header>
      {servers === null ? <p>Loading…</p> : servers.length === 0 ? <p class="hint">No MCP servers are configured on this daemon.</p> : (
        <table>
          <thead><tr><th>Server</th><th>Status</th><th>Tools</th><th>Restarts</th><th>Actions</th></tr></thead>
          <tbody>
            {servers.map((s) => (
              <tr>
                <td>{s.name}{s.error && <div class="error small">{s.error}</div>}</td>
                <td><span class={`badge ${s.status.toLowerCase()}`}>{s.status}</span></td>
                <td>{s.tools}</td><td>{s.restarts}</td>
                <td class="row">
                  {s.status === "DISABLED"
                    ? <button onClick={() => act(s.name, "enable")}>Enable</button>
                    : <button onClick={() => act(s.name, "disable")}>Disable</button>}
                  <button onClick={() => act(s.name, "restart")} disabled={s.status === "DISABLED"}>Restart</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {note && <p role="status">{note}</p>}
    </section>
  );
}
