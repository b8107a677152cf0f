// A run's node graph, drawn from its workflow's nodes and edges (layered by distance from the
// entries), each node coloured by its state as the API reports it; clicking a node shows what
// the run recorded for it (its output or error, a question's arguments).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";

interface GraphNode { id: string; type: string }
// What GET /api/v1/runs/{id} says of a node the run reached (workflow::node_states): `status` is
// running, completed, failed or waiting; `key` names the node, or where in a loop's iteration
// ("id#2/inner") or a group ("id/inner") the run is. An answered question has its key only.
interface NodeRecord {
  key: string; status: string; path?: string; node_id?: string; type?: string;
  output?: unknown; error?: string; args?: unknown; child_run_id?: string;
}
interface Run {
  id: string; status: string; workflow: string; error?: string | null;
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

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState("");
  const [picked, setPicked] = useState("");
  useEffect(() => {
    let stopped = false;
    // Polled each second until the run ends: an ended run changes no more.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => api<Run>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`)
      .then((r) => {
        if (stopped) return;
        setRun(r);
        if (r.status === "running") timer = setTimeout(load, 1000);
      })
      .catch((e) => {
        if (stopped) return;
        setError(e.status === 404 ? "No such run." : e.message);
        if (e.status !== 404) timer = setTimeout(load, 1000);
      });
    load();
    return () => { stopped = true; clearTimeout(timer); };
  }, [runId]);
  if (!run) return <p role={error ? "alert" : undefined}>{error || "Loading…"}</p>;
  if (!run.graph) return <section><h1>Run {run.id}</h1><p>{run.workflow}: {run.status}</p></section>;
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
