// The user's daemons, shared by the pages that act on one (the chat's daemon picker, the
// terminal, files and MCP pages): listed once, refreshed when a daemon's status changes.
import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { api, type Daemon } from "./api";
import { subscribe } from "./updates";

interface Daemons { daemons: Daemon[]; chosen: string; choose: (id: string) => void; reload: () => void }
const Context = createContext<Daemons>({ daemons: [], chosen: "", choose: () => {}, reload: () => {} });

export function DaemonProvider({ children }: { children: ComponentChildren }) {
  const [daemons, setDaemons] = useState<Daemon[]>([]);
  const [chosen, setChosen] = useState(localStorage.getItem("reliant.daemon") ?? "");
  const reload = () => api<{ daemons: Daemon[] }>("GET", "/api/v1/daemons").then((d) => setDaemons(d.daemons ?? []));
  useEffect(() => {
    reload();
    const timer = setInterval(reload, 15000);
    const off = subscribe((u) => { if (u.kind.startsWith("daemon")) reload(); });
    return () => { clearInterval(timer); off(); };
  }, []);
  const choose = (id: string) => { setChosen(id); localStorage.setItem("reliant.daemon", id); };
  // The page's daemon: the one chosen, else the first connected one.
  const active = daemons.find((d) => d.id === chosen) ? chosen
    : (daemons.find((d) => d.status === "active") ?? daemons[0])?.id ?? "";
  return <Context.Provider value={{ daemons, chosen: active, choose, reload }}>{children}</Context.Provider>;
}

export function useDaemons() {
  return useContext(Context);
}

export function DaemonLabel({ daemon }: { daemon: Daemon }) {
  const labels = Object.entries(daemon.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
  return (
    <span class="daemon-label">
      <span class={`dot ${daemon.status}`} aria-hidden="true" />
      {daemon.name || daemon.id} <small>({daemon.type}, {daemon.status}{labels ? `, ${labels}` : ""})</small>
    </span>
  );
}

// A daemon's status as a picker shows it: a suspended (managed) one is woken by a call to it.
export function statusShown(daemon: Daemon): string {
  return daemon.status === "suspended" ? "suspended: wakes when used" : daemon.status;
}

// A select of the user's daemons for pages that act on one.
export function DaemonSelect({ label = "Daemon" }: { label?: string }) {
  const { daemons, chosen, choose } = useDaemons();
  return (
    <label class="inline">
      {label}{" "}
      <select value={chosen} onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
        {daemons.length === 0 && <option value="">no daemon</option>}
        {daemons.map((d) => (
          <option value={d.id}>{d.name || d.id} — {d.type}, {statusShown(d)}</option>
        ))}
      </select>
    </label>
  );
}
