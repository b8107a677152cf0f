// The user's daemons: each with its status (a managed one's `suspended` included) and, for a
// managed daemon, what its user wants and what the control plane last saw; create, suspend,
// resume and delete managed daemons (POST /api/v1/daemons, …/suspend, …/resume, DELETE).
import { useEffect, useState } from "preact/hooks";
import { api, type Daemon } from "../api";
import { DaemonLabel, useDaemons } from "../daemons";

function ManagedLine({ daemon }: { daemon: Daemon }) {
  const m = daemon.managed;
  if (!m) return null;
  return (
    <small class="managed">
      wanted {m.desiredState}, seen {m.observedState} on {m.spec?.platform ?? "local"}
      {m.spec?.permissions ? `, ${m.spec.permissions}` : ""}{m.spec?.alwaysOn ? ", always on" : ""}
      {m.lastError ? ` — ${m.lastError}` : ""}
    </small>
  );
}

export function DaemonsPage() {
  const { daemons, reload } = useDaemons();
  const [note, setNote] = useState("");
  const [name, setName] = useState("");
  const [platform, setPlatform] = useState("local");
  const [permissions, setPermissions] = useState("execution");
  const [labels, setLabels] = useState("");
  const [alwaysOn, setAlwaysOn] = useState(false);
  // The control plane carries a wish out within a round or two, and a gateway dials a started
  // daemon a moment later: while a managed daemon is not yet seen as its user wants it, or is
  // wanted running and seen running but not connected yet, the list is read again every second.
  const settling = daemons.some(
    (d) =>
      d.managed &&
      (d.managed.observedState !== d.managed.desiredState ||
        (d.managed.desiredState === "running" && d.status !== "active" && d.status !== "idle")),
  );
  useEffect(() => {
    if (!settling) return;
    const timer = setInterval(reload, 1000);
    return () => clearInterval(timer);
  }, [settling, reload]);
  const act = async (daemon: Daemon, verb: "suspend" | "resume" | "delete") => {
    setNote("");
    try {
      if (verb === "delete") await api("DELETE", `/api/v1/daemons/${encodeURIComponent(daemon.id)}`);
      else await api("POST", `/api/v1/daemons/${encodeURIComponent(daemon.id)}/${verb}`);
    } catch (e: any) {
      setNote(e.message);
    }
    reload();
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setNote("");
    const labelMap: Record<string, string> = {};
    for (const pair of labels.split(",").map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) { setNote(`label "${pair}" is not key=value`); return; }
      labelMap[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    try {
      await api("POST", "/api/v1/daemons", { name, platform, permissions, labels: labelMap, alwaysOn });
      setName("");
      setNote(`Created ${name}: the control plane starts it`);
    } catch (err: any) {
      setNote(err.message);
    }
    reload();
  };
  return (
    <section class="daemons-page">
      <h1>Daemons</h1>
      {note && <p class="note" role="status">{note}</p>}
      <ul class="daemon-list">
        {daemons.length === 0 && <li>No daemon yet.</li>}
        {daemons.map((d) => (
          <li data-daemon={d.id}>
            <DaemonLabel daemon={d} />
            <ManagedLine daemon={d} />
            {d.managed && d.managed.desiredState !== "deleted" && (
              <span class="actions">
                {d.managed.desiredState === "running"
                  ? <button onClick={() => act(d, "suspend")}>Suspend</button>
                  : <button onClick={() => act(d, "resume")}>Resume</button>}
                <button class="danger" onClick={() => act(d, "delete")}>Delete</button>
              </span>
            )}
          </li>
        ))}
      </ul>
      <form class="create-daemon" onSubmit={create} aria-label="New managed daemon">
        <h2>New managed daemon</h2>
        <label>Name <input value={name} required pattern="[a-z][a-z0-9\-]*"
          onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
        <label>Platform <select value={platform} onChange={(e) => setPlatform((e.target as HTMLSelectElement).value)}>
          <option value="local">local</option>
          <option value="kubernetes">kubernetes</option>
          <option value="aws">aws (not yet)</option>
        </select></label>
        <label>Permissions <select value={permissions} onChange={(e) => setPermissions((e.target as HTMLSelectElement).value)}>
          <option value="execution">execution</option>
          <option value="read-only">read-only</option>
        </select></label>
        <label>Labels <input value={labels} placeholder="pool=gpu,env=dev"
          onInput={(e) => setLabels((e.target as HTMLInputElement).value)} /></label>
        <label class="inline"><input type="checkbox" checked={alwaysOn}
          onChange={(e) => setAlwaysOn((e.target as HTMLInputElement).checked)} /> Always on (never suspended when idle)</label>
        <button type="submit">Create</button>
      </form>
    </section>
  );
}
