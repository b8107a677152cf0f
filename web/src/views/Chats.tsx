// The user's chats, newest first, and a new chat: a title (left blank, the server takes it from
// the first message), a workflow (the built-ins and the project's), its preset (of the
// workflow's tag), a model from the server's catalogue and the workflow's other inputs.
import { useEffect, useState } from "preact/hooks";
import { api, type Chat, type WorkflowPresets } from "../api";
import { navigate } from "../router";
import { subscribe } from "../updates";
import { InputsForm, type InputSpec } from "./InputsForm";
import { ModelSelect, PresetSelect, useModels, usePresets } from "./Pickers";

interface Workflow { name: string; description?: string; inputs?: InputSpec[]; builtin?: boolean; presets?: WorkflowPresets }

export function Chats() {
  const [chats, setChats] = useState<Chat[] | null>(null);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [workflow, setWorkflow] = useState("builtin://agent");
  const [inputs, setInputs] = useState<Record<string, unknown>>({});
  const [preset, setPreset] = useState("");  // "": the workflow's default
  const [model, setModel] = useState("");    // "": the server's default
  const [title, setTitle] = useState("");
  const [error, setError] = useState("");
  const presets = usePresets();
  const models = useModels();
  const load = () => api<{ chats: Chat[] }>("GET", "/api/v1/chats").then((c) => setChats(c.chats ?? []));
  useEffect(() => {
    load().catch((e) => setError(e.message));
    api<{ workflows: Workflow[] }>("GET", "/api/v1/workflows")
      .then((w) => setWorkflows((w.workflows ?? []).filter((x) => x.name.startsWith("builtin://") || !x.builtin)))
      .catch(() => undefined);
    return subscribe((u) => { if (u.kind.startsWith("chat_")) load().catch(() => undefined); });
  }, []);
  const chosen = workflows.find((w) => w.name === workflow);
  // The model is the workflow's input of type model, picked from the catalogue, not typed.
  const modelInput = chosen?.inputs?.find((spec) => spec.type === "model")?.name ?? "";
  const otherInputs = (chosen?.inputs ?? []).filter((spec) => spec.name !== modelInput);
  const defaultPreset = chosen?.presets?.default ?? "";
  const shownPreset = presets.find((p) => p.name === (preset || defaultPreset));
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      // Left blank, the chat takes its title from its first message.
      const chat = await api<Chat>("POST", "/api/v1/chats", {
        title: title.trim(), workflow,
        inputs: modelInput && model ? { ...inputs, [modelInput]: model } : inputs,
        ...(preset ? { presets: preset } : {}),
      });
      navigate(`/chats/${chat.id}`);
    } catch (err: any) {
      setError(err.message);
    }
  };
  return (
    <div class="columns">
      <section aria-labelledby="chats-title">
        <h1 id="chats-title">Chats</h1>
        {chats === null ? <p>Loading…</p> : chats.length === 0 ? <p class="hint">No chats yet.</p> : (
          <ul class="chats list" aria-labelledby="chats-title" data-testid="chat-list">
            {chats.map((chat) => (
              <li>
                <a href={`/chats/${chat.id}`} onClick={(e) => { e.preventDefault(); navigate(`/chats/${chat.id}`); }}>
                  <span class="title">{chat.title || "New chat"}</span>
                  <span class={`status ${chat.status}`}>{chat.status}</span>
                  <small>{chat.workflow}</small>
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="new-chat-title" class="card">
        <h2 id="new-chat-title">New chat</h2>
        <form onSubmit={create}>
          <label>Title<input value={title} placeholder="from the first message" maxLength={500}
            onInput={(e) => setTitle((e.target as HTMLInputElement).value)} /></label>
          <label>Workflow
            <select value={workflow} onChange={(e) => {
              setWorkflow((e.target as HTMLSelectElement).value);
              setInputs({});
              setPreset("");
              setModel("");
            }}>
              {workflows.length === 0 && <option value="builtin://agent">builtin://agent</option>}
              {workflows.map((w) => <option value={w.name}>{w.name}</option>)}
            </select>
          </label>
          {chosen?.description && <p class="hint">{chosen.description}</p>}
          <label>Preset
            <PresetSelect presets={presets} tag={chosen?.presets?.tag ?? ""} value={preset}
              unpicked={defaultPreset ? `default (${defaultPreset})` : "none"} onChange={setPreset} />
          </label>
          {shownPreset?.description && <p class="hint" data-testid="preset-description">{shownPreset.description}</p>}
          {modelInput && (
            <label>Model
              <ModelSelect models={models.models} value={model} unpicked="server default"
                onChange={setModel} />
            </label>
          )}
          <InputsForm specs={otherInputs} values={inputs} onChange={setInputs} />
          {error && <p role="alert" class="error">{error}</p>}
          <button type="submit">Start chat</button>
        </form>
      </section>
    </div>
  );
}
