// A run's node graph, drawn from its workflow's nodes and edges (layered by distance from the
// entries), each node coloured by its live state; clicking a node shows its inputs and outputs.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";

interface GraphNode { id: string; type: string }
interface Run {
  id: string; status: string; workflow: string; error?: string | null;
  nodes?: any[]; graph?: { name: string; entries: string[]; nodes: GraphNode[]; edges: { from: string; to: string; label?: string }[] };
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

// The latest state of a graph node: its own key, or an iteration of it (key#n/…).
function stateOf(run: Run, id: string): any | undefined {
  const mine = (run.nodes ?? []).filter((n) => n.node_id === id || n.key === id || String(n.key ?? "").startsWith(id + "#"));
  return mine[mine.length - 1];
}

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState("");
  const [picked, setPicked] = useState("");
  useEffect(() => {
    let stopped = false;
    const load = () => api<Run>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`)
      .then((r) => { if (!stopped) setRun(r); })
      .catch((e) => setError(e.status === 404 ? "No such run." : e.message));
    load();
    const timer = setInterval(load, 1000);
    return () => { stopped = true; clearInterval(timer); };
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
  const selected = picked ? stateOf(run, picked) : undefined;
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
            const state = stateOf(run, node.id)?.state ?? "pending";
            return (
              <g class={`node ${state}`} tabIndex={0} role="button" aria-label={`${node.id}: ${state}`}
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
          <h2>{picked}</h2>
          {selected ? <pre>{JSON.stringify(selected, null, 2)}</pre> : <p>Not reached.</p>}
        </aside>
      )}
    </section>
  );
}
