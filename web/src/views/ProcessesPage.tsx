// The chosen daemon's background processes (the commands its bash tool started with
// run_in_background): listed with their state, one's output shown and followed live as it
// runs, and a running one killed — through the daemon's BackgroundService over REST.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { DaemonSelect, useDaemons } from "../daemons";

// Protobuf's JSON mapping: defaults are left out, 64-bit numbers are strings, bytes are base64.
interface Process {
  id: string; command?: string; description?: string; running?: boolean; killed?: boolean;
  timedOut?: boolean; state?: string; exitCode?: number; startedAtMs?: string; endedAtMs?: string;
  outputBytes?: string; droppedBytes?: string;
}
interface OutputPage { data?: string; offset?: string; next?: string; dropped?: string; process?: Process }

const processesOf = (daemon: string) => `/api/v1/daemons/${encodeURIComponent(daemon)}/processes`;

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

// One process's output from its first kept byte: while `follow` is on, each answer is asked for
// again from where it ended (the daemon holds a question up to 2 s while the process runs and has
// printed nothing new), until the process has ended and everything it printed was read. Keyed by
// daemon and process: another process is another instance.
function ProcessOutput({ daemon, process, onEnded }: { daemon: string; process: Process; onEnded: () => void }) {
  const [text, setText] = useState("");
  const [dropped, setDropped] = useState(0);
  const [follow, setFollow] = useState(true);
  const [ended, setEnded] = useState(!process.running);
  const [error, setError] = useState("");
  const next = useRef(0);
  const decoder = useRef(new TextDecoder());
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let stopped = false;
    const path = `${processesOf(daemon)}/${encodeURIComponent(process.id)}/follow`;
    (async () => {
      // Bounded: a day of 2-second waits, then the user follows again.
      for (let turn = 0; turn < 50000 && !stopped; turn++) {
        let page: OutputPage;
        try {
          page = await api<OutputPage>("GET", `${path}?offset=${next.current}&wait_ms=${follow ? 2000 : 0}`);
        } catch (e: any) {
          if (!stopped) setError(e.message);
          return;
        }
        if (stopped) return;
        setError("");
        const data = page.data ? bytesOf(page.data) : new Uint8Array();
        if (data.length > 0) setText((old) => old + decoder.current.decode(data, { stream: true }));
        if (Number(page.dropped ?? 0) > 0) setDropped((old) => old + Number(page.dropped));
        next.current = Number(page.next ?? next.current);
        const over = page.process ? !page.process.running : false;
        if (over && data.length === 0) {
          setEnded(true);
          onEnded();
          return;
        }
        if (!follow && data.length === 0) return;  // caught up: read again when asked to follow
      }
    })();
    return () => { stopped = true; };
  }, [daemon, process.id, follow]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);
  return (
    <section class="card process-output" aria-label={`Output of ${process.id}`}>
      <header class="row">
        <h2>{process.command || process.id}</h2>
        <span class={`status ${ended ? "completed" : "running"}`} data-testid="output-state">
          {ended ? "ended" : follow ? "following" : "paused"}
        </span>
        <label class="check">
          <input type="checkbox" checked={follow} disabled={ended}
            onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} />
          Follow
        </label>
      </header>
      {dropped > 0 && <p class="hint">{dropped} earlier bytes are no longer kept.</p>}
      <pre ref={box} class="tool-output process-text" data-testid="process-output">{text || (ended ? "(no output)" : "…")}</pre>
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}

export function ProcessesPage() {
  const { chosen } = useDaemons();
  const [processes, setProcesses] = useState<Process[] | null>(null);
  const [picked, setPicked] = useState("");
  const [note, setNote] = useState("");
  const load = () => {
    if (!chosen) return Promise.resolve();
    return api<{ processes?: Process[] }>("GET", processesOf(chosen))
      .then((r) => setProcesses(r.processes ?? []))
      .catch((e) => setNote(e.message));
  };
  useEffect(() => {
    setProcesses(null);
    setPicked("");
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [chosen]);
  const kill = async (process: Process) => {
    try {
      await api("POST", `${processesOf(chosen)}/${encodeURIComponent(process.id)}/kill`);
      setNote(`Killed ${process.command || process.id}.`);
      await load();
    } catch (e: any) {
      setNote(e.message);
    }
  };
  const shown = processes?.find((p) => p.id === picked);
  return (
    <section class="processes" aria-labelledby="processes-title">
      <header class="row"><h1 id="processes-title">Processes</h1><DaemonSelect /></header>
      <p class="hint">Commands the agent started in the background on this daemon.</p>
      {!chosen ? <p>No daemon is connected.</p> : processes === null ? <p>Loading…</p>
        : processes.length === 0 ? <p class="hint">No background processes.</p> : (
          <table class="process-list">
            <thead><tr><th>Command</th><th>State</th><th>Started</th><th>Output</th><th /></tr></thead>
            <tbody>
              {[...processes].reverse().map((p) => (
                <tr data-testid="process" aria-selected={p.id === picked}>
                  <td><code title={p.description || p.id}>{p.command || p.id}</code></td>
                  <td><span class={`status ${p.running ? "running" : p.killed || p.timedOut ? "failed" : "completed"}`}>
                    {p.state || (p.running ? "running" : "ended")}</span></td>
                  <td>{p.startedAtMs ? new Date(Number(p.startedAtMs)).toLocaleTimeString() : ""}</td>
                  <td>{p.outputBytes ?? "0"} bytes</td>
                  <td class="row">
                    <button class="quiet" onClick={() => setPicked(p.id)} aria-label={`Show output of ${p.command || p.id}`}>Output</button>
                    {p.running && <button class="danger" onClick={() => kill(p)} aria-label={`Kill ${p.command || p.id}`}>Kill</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      {note && <p role="status">{note}</p>}
      {shown && <ProcessOutput key={`${chosen}/${shown.id}`} daemon={chosen} process={shown} onEnded={() => { load(); }} />}
    </section>
  );
}
