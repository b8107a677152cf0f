// A run's node graph, drawn from its workflow's nodes and edges (layered by distance from the
// entries), each node coloured by its state as the API reports it; clicking a node shows what
// the run recorded for it (its output or error, a question's arguments). Above it, while the run
// runs, its control (docs/workflows.md, "Run control"): pause and resume, and for each step that
// failed under `on_failure: pause` a card to retry it (with edited args), skip it with an output
// or fail the run.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";

interface GraphNode { id: string; type: string }
// What GET /api/v1/runs/{id} says of a node the run reached (workflow::node_states): `status` is
// running, completed, failed or waiting; `key` names the node, or where in a loop's iteration
// ("id#2/inner") or a group ("id/inner") the run is. An answered question has its key only.
interface NodeRecord {
  key: string; status: string; path?: string; node_id?: string; type?: string;
  output?: unknown; error?: string; args?: unknown; child_run_id?: string;
}
// A step that failed and waits for the user (GET /api/v1/runs/{id}'s control.held).
interface HeldStep { key: string; error: string; path?: string; node_id?: string; type?: string; args?: unknown }
interface Control { paused: boolean; paused_by_user: boolean; held: HeldStep[] }
interface Run {
  id: string; status: string; workflow: string; error?: string | null; control?: Control;
  nodes?: NodeRecord[]; graph?: { name: string; entries: string[]; nodes: GraphNode[]; edges: { from: string; to: string; label?: string }[] };
}

function layers(graph: NonNullable<Run["graph"]>): Map<string, number> {
  const depth = new Map<string, number>();
  const queue = [...graph.entries];
  for (const id of queue) depth.set(id, 0);
  for (let i = 0; i < queue.length && i < 10000; i++) {
    const from = queue[i];
    for (const edge of graph.edges.filter((e) => e.from === from)) {
      if (!depth.has(edge.to)) {
        depth.set(edge.to, (depth.get(from) ?? 0) + 1);
        queue.push(edge.to);
      }
    }
  }
  for (const node of graph.nodes) if (!depth.has(node.id)) depth.set(node.id, 0);
  return depth;
}

// The graph node a record belongs to: its key's first part (a loop's or group's inner nodes
// belong to it).
const ownerOf = (key: string) => key.split(/[#/]/)[0];

// Which of several records' states a graph node shows: what still goes on first, then a failure.
const precedence = ["waiting", "running", "failed", "completed"];

// A graph node's state and its records (the latest per key: a node that started a child run is
// reported running, then ended by the child's end). Before the run reaches a node it is
// `pending`; a run that ended without reaching it `skipped` it; one that ended while a node was
// still running or waiting left it `cancelled`.
function nodeState(run: Run, id: string): { state: string; records: NodeRecord[] } {
  const latest = new Map<string, NodeRecord>();
  for (const record of run.nodes ?? []) {
    if (ownerOf(String(record.key ?? "")) === id) latest.set(record.key, record);
  }
  const records = [...latest.values()];
  const ended = run.status !== "running";
  if (records.length === 0) return { state: ended ? "skipped" : "pending", records };
  const state = precedence.find((s) => records.some((r) => r.status === s)) ?? records[records.length - 1].status;
  if (ended && (state === "running" || state === "waiting")) return { state: "cancelled", records };
  return { state, records };
}

// What the user typed as a JSON object, or why it is not one.
function parseObject(text: string, what: string): { value?: Record<string, unknown>; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: any) {
    return { error: `${what}: not valid JSON (${e.message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: `${what}: must be a JSON object` };
  return { value: value as Record<string, unknown> };
}

// Sends a control request (POST /api/v1/runs/{id}/VERB).
type Act = (verb: string, body: Record<string, unknown>) => void;

// A step that failed and holds the run: its error, and the three ways on — retry it (its args
// edited: they are merged over the step's), skip it with an output the next nodes read, or fail
// it and the run. What the user types stays across the page's refreshes; nothing is sent unless
// it is a JSON object.
function HeldCard({ step, busy, act }: { step: HeldStep; busy: boolean; act: Act }) {
  const [args, setArgs] = useState(() => JSON.stringify(step.args ?? {}, null, 2));
  const [output, setOutput] = useState("{}");
  const [invalid, setInvalid] = useState("");
  const retry = () => {
    const parsed = parseObject(args, "Retry args");
    setInvalid(parsed.error ?? "");
    if (!parsed.value) return;
    // The step's own args unchanged: a plain retry.
    const edited = JSON.stringify(parsed.value) !== JSON.stringify(step.args ?? {});
    act("retry", edited ? { node: step.key, args: parsed.value } : { node: step.key });
  };
  const skip = () => {
    const parsed = parseObject(output, "Skip output");
    setInvalid(parsed.error ?? "");
    if (parsed.value) act("skip", { node: step.key, output: parsed.value });
  };
  return (
    <section class="card held" role="region" aria-label={`Failed step ${step.key}`} data-testid="held-step">
      <h2>Step <code>{step.key}</code> failed{step.type ? ` (${step.type})` : ""}</h2>
      <p class="error held-error">{step.error}</p>
      <p class="hint">The run waits: retry the step, skip it with an output, or fail the run.</p>
      <div class="held-options">
        <div class="held-option">
          <label>Retry with args (JSON)
            <textarea class="json" value={args} spellcheck={false} rows={Math.min(8, args.split("\n").length + 1)}
              onInput={(e) => setArgs((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button onClick={retry} disabled={busy}>Retry</button>
        </div>
        <div class="held-option">
          <label>Skip with output (JSON)
            <textarea class="json" value={output} spellcheck={false} rows={2}
              onInput={(e) => setOutput((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button onClick={skip} disabled={busy}>Skip</button>
        </div>
      </div>
      <div class="row">
        <button class="danger" onClick={() => act("fail", { node: step.key })} disabled={busy}>Fail run</button>
      </div>
      {invalid && <p role="alert" class="error">{invalid}</p>}
    </section>
  );
}

// A running run's control: whether it is paused (by its user, or by a failed step), Pause or
// Resume, and a card for each failed step. Buttons wait while a request is out; a refused
// request shows the server's reason. After each request the page loads the run again.
function RunControls({ run, reload }: { run: Run; reload: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const control = run.control;
  if (run.status !== "running" || !control) return null;
  const act: Act = async (verb, body) => {
    setBusy(true);
    setError("");
    try {
      await api("POST", `/api/v1/runs/${encodeURIComponent(run.id)}/${verb}`, body);
    } catch (e: any) {
      setError(e.message);
    }
    await reload();
    setBusy(false);
  };
  const failed = control.held.length > 0;
  return (
    <>
      <div class="run-control" role="region" aria-label="Run control">
        <span role="status">
          {control.paused && <span class="badge paused" data-testid="run-paused">{failed ? "Paused: a step failed" : "Paused"}</span>}
        </span>
        {control.paused
          ? <button onClick={() => act("resume", {})} disabled={busy}>Resume</button>
          : <button class="quiet" onClick={() => act("pause", {})} disabled={busy}>Pause</button>}
        <span class="hint">
          {busy ? "Sending…"
            : failed ? "Resume retries every failed step as it was."
            : control.paused ? "Nothing new starts until it resumes; steps already running finish." : ""}
        </span>
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {control.held.map((step) => <HeldCard key={step.key} step={step} busy={busy} act={act} />)}
    </>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState("");
  const [picked, setPicked] = useState("");
  // Loads the run now (after a control request) besides the polling.
  const reload = useRef<() => Promise<void>>(async () => {});
  useEffect(() => {
    let stopped = false;
    // Polled each second until the run ends: an ended run changes no more. A load started
    // earlier that answers later is dropped, and only one poll is ever due.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let asked = 0, shown = 0;
    const load = (): Promise<void> => {
      const n = ++asked;
      return api<Run>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`)
        .then((r) => {
          if (stopped || n < shown) return;
          shown = n;
          setRun(r);
          setError("");
          clearTimeout(timer);
          if (r.status === "running") timer = setTimeout(load, 1000);
        })
        .catch((e) => {
          if (stopped) return;
          setError(e.status === 404 ? "No such run." : e.message);
          clearTimeout(timer);
          if (e.status !== 404) timer = setTimeout(load, 1000);
        });
    };
    reload.current = load;
    load();
    return () => { stopped = true; clearTimeout(timer); };
  }, [runId]);
  if (!run) return <p role={error ? "alert" : undefined}>{error || "Loading…"}</p>;
  const controls = <RunControls run={run} reload={() => reload.current()} />;
  if (!run.graph) return <section><h1>Run {run.id}</h1><p>{run.workflow}: {run.status}</p>{controls}</section>;
  const depth = layers(run.graph);
  const byLayer = new Map<number, GraphNode[]>();
  for (const node of run.graph.nodes) {
    const d = depth.get(node.id) ?? 0;
    byLayer.set(d, [...(byLayer.get(d) ?? []), node]);
  }
  const width = 180, height = 54, gapX = 40, gapY = 36;
  const pos = new Map<string, { x: number; y: number }>();
  let maxX = 0, maxY = 0;
  for (const [d, nodes] of byLayer) {
    nodes.forEach((node, i) => {
      const x = 20 + i * (width + gapX), y = 20 + d * (height + gapY);
      pos.set(node.id, { x, y });
      maxX = Math.max(maxX, x + width);
      maxY = Math.max(maxY, y + height);
    });
  }
  const selected = picked ? nodeState(run, picked) : undefined;
  return (
    <section class="run" aria-labelledby="run-title">
      <h1 id="run-title">{run.graph.name || run.workflow} <span class={`status ${run.status}`}>{run.status}</span></h1>
      {run.error && <p role="alert" class="error">{run.error}</p>}
      {controls}
      <div class="graph-wrap">
        <svg class="graph" width={maxX + 20} height={maxY + 20} role="img" aria-label="The run's nodes and edges">
          {run.graph.edges.map((edge) => {
            const a = pos.get(edge.from), b = pos.get(edge.to);
            if (!a || !b) return null;
            return <line x1={a.x + width / 2} y1={a.y + height} x2={b.x + width / 2} y2={b.y} class="edge" />;
          })}
          {run.graph.nodes.map((node) => {
            const p = pos.get(node.id)!;
            const { state } = nodeState(run, node.id);
            return (
              <g class={`node ${state}`} data-testid="graph-node" data-node={node.id} data-state={state} tabIndex={0} role="button" aria-label={`${node.id}: ${state}`}
                 onClick={() => setPicked(node.id)} onKeyDown={(e) => { if (e.key === "Enter") setPicked(node.id); }}>
                <rect x={p.x} y={p.y} width={width} height={height} rx={6} />
                <text x={p.x + 10} y={p.y + 22}>{node.id}</text>
                <text x={p.x + 10} y={p.y + 42} class="small">{node.type} · {state}</text>
              </g>
            );
          })}
        </svg>
      </div>
      {picked && (
        <aside class="card" aria-label={`Node ${picked}`}>
          <h2>{picked} <span class={`status ${selected?.state}`} data-testid="picked-state">{selected?.state}</span></h2>
          {selected && selected.records.length > 0
            ? selected.records.map((r) => (
              <div class="record">
                {r.key !== picked && <h3>{r.key}: {r.status}</h3>}
                {r.error && <p class="error">{r.error}</p>}
                {r.status === "skipped" ? <p>Its condition was false: it did not run.</p>
                  : <pre>{JSON.stringify(r.output ?? r.args ?? {}, null, 2)}</pre>}
              </div>
            ))
            : <p>{selected?.state === "skipped" ? "The run ended without reaching this node." : "Not reached yet."}</p>}
        </aside>
      )}
    </section>
  );
}
