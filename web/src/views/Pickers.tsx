// The preset and model pickers of the new-chat form and the chat's composer: the presets a
// workflow takes (those of its tag), grouped as the user's own, the project's and the built-ins,
// and the server's model catalogue — "server default" alone when it has none.
import { useEffect, useState } from "preact/hooks";
import { api, type Model, type Models, type Preset, type WorkflowPresets } from "../api";

// The presets the user can pick, a project's among them when `projectId` is given.
export function usePresets(projectId = ""): Preset[] {
  const [presets, setPresets] = useState<Preset[]>([]);
  useEffect(() => {
    const query = projectId ? `?project_id=${encodeURIComponent(projectId)}` : "";
    api<{ presets: Preset[] }>("GET", `/api/v1/presets${query}`)
      .then((p) => setPresets(p.presets ?? []))
      .catch(() => setPresets([]));
  }, [projectId]);
  return presets;
}

// The server's model catalogue (no models until it loads, or when the server has none).
export function useModels(): Models {
  const [models, setModels] = useState<Models>({ default: "", models: [] });
  useEffect(() => {
    api<Models>("GET", "/api/v1/models")
      .then((m) => setModels({ default: m.default ?? "", models: m.models ?? [] }))
      .catch(() => undefined);
  }, []);
  return models;
}

// Which presets a chat's workflow takes: a built-in's from the workflow list, a project's from
// its stored workflow; null until known. Any preset, none by default, for a workflow that is
// neither (one a run's start gave as YAML).
export function useWorkflowPresets(workflow: string, projectId = ""): WorkflowPresets | null {
  const [presets, setPresets] = useState<WorkflowPresets | null>(null);
  useEffect(() => {
    if (!workflow) return;
    const found = workflow.startsWith("builtin://")
      ? api<{ workflows: { name: string; presets?: WorkflowPresets }[] }>("GET", "/api/v1/workflows")
        .then((w) => (w.workflows ?? []).find((x) => x.name === workflow)?.presets)
      : projectId ? api<{ presets?: WorkflowPresets }>("GET",
          `/api/v1/projects/${encodeURIComponent(projectId)}/workflows/${encodeURIComponent(workflow)}`)
        .then((w) => w.presets)
      : Promise.resolve(undefined);
    const none = { tag: "", default: "" };
    found.then((p) => setPresets(p ?? none)).catch(() => setPresets(none));
  }, [workflow, projectId]);
  return presets;
}

const origins: [Preset["origin"], string][] = [["user", "Your presets"], ["project", "Project presets"], ["builtin", "Built-in"]];

// The presets tagged `tag` (any when it is ""), grouped by where they come from; the value ""
// is `unpicked` (what applies when none is picked: the workflow's default, the chat's).
export function PresetSelect({ presets, tag, value, unpicked, onChange }: {
  presets: Preset[]; tag: string; value: string; unpicked: string; onChange: (name: string) => void;
}) {
  const offered = presets.filter((p) => !tag || p.tag === tag);
  return (
    <select aria-label="Preset" value={value} data-testid="preset"
      title={presets.find((p) => p.name === value)?.description ?? ""}
      onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
      <option value="">{unpicked}</option>
      {origins.map(([origin, label]) => {
        const here = offered.filter((p) => p.origin === origin);
        return here.length > 0 && (
          <optgroup label={label}>
            {here.map((p) => <option value={p.name} title={p.description}>{p.name}</option>)}
          </optgroup>
        );
      })}
    </select>
  );
}

// What a model is, in a line: its tags, whether it thinks, its context and prices.
function modelDetails(model: Model): string {
  const parts = [`${model.provider} (${model.provider_kind ?? "?"})`];
  if (model.tags?.length) parts.push(`tags: ${model.tags.join(", ")}`);
  if (model.thinking) parts.push("thinks");
  if (model.context_tokens) parts.push(`${model.context_tokens} tokens of context`);
  const prices = model.prices;
  if (prices?.input_per_mtok || prices?.output_per_mtok) {
    parts.push(`$${prices.input_per_mtok ?? 0} in, $${prices.output_per_mtok ?? 0} out per million tokens`);
  }
  return parts.join("; ");
}

// The catalogue's models by name (and tags); the value "" is `unpicked` (the server's default,
// or the chat's model). A server without a catalogue offers no choice.
export function ModelSelect({ models, value, unpicked, onChange }: {
  models: Model[]; value: string; unpicked: string; onChange: (name: string) => void;
}) {
  return (
    <select aria-label="Model" value={value} data-testid="model" disabled={models.length === 0}
      onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
      <option value="">{unpicked}</option>
      {models.map((m) => (
        <option value={m.name} title={modelDetails(m)}>{m.name}{m.tags?.length ? ` (${m.tags.join(", ")})` : ""}</option>
      ))}
    </select>
  );
}
