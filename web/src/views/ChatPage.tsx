// One chat: its messages (Markdown, code blocks; a sub-agent's report marked as one), the
// model's text as it streams, tool calls as collapsible cards with their output, approvals and
// questions the run waits for, the title (and its rename), the session daemon picker, the
// composer (with the mode, and the preset and model for the next message: the chat's unless
// another is picked) and Cancel. A reload resumes from the last update seen: messages are keyed
// by id, so an update applied twice changes nothing.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, type Block, type ChatView, type Message } from "../api";
import { DaemonLabel, useDaemons, statusShown } from "../daemons";
import { markdownHtml } from "../markdown";
import { navigate } from "../router";
import { subscribe } from "../updates";
import { ModelSelect, PresetSelect, useModels, usePresets, useWorkflowPresets } from "./Pickers";

interface Waiting { key: string; type: string; args: any }
interface Running { daemon_id?: string; request_id?: string; output?: string }
interface ToolState { running?: Running; result?: any }

function Markdown({ text }: { text: string }) {
  const html = useMemo(() => markdownHtml(text), [text]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

// `ended`: the chat's run is over, so a call without a result was never run (declined, cancelled).
// The daemon it ran on shows by name (its id as the tooltip, or alone once it is gone).
function ToolCard({ call, state, ended }: { call: any; state: ToolState; ended: boolean }) {
  const { daemons } = useDaemons();
  const result = state.result;
  const status = result ? (result.is_error ? "error" : "done") : ended ? "not-run" : state.running ? "running" : "waiting";
  const daemon: string | undefined = result?.daemon_id ?? state.running?.daemon_id;
  const daemonName = daemons.find((d) => d.id === daemon)?.name || daemon;
  const summary = call.name === "bash" ? String(call.input?.command ?? "") : JSON.stringify(call.input ?? {});
  return (
    <details class={`tool-card ${status}`} open={status !== "done"} data-testid="tool-card">
      <summary>
        <span class="tool-name">{call.name}</span> <code class="tool-summary">{summary}</code>
        <span class={`badge ${status}`}>{status.replace("-", " ")}</span>
        {daemon && <small class="tool-daemon" data-testid="tool-daemon" title={daemon}> on {daemonName}</small>}
      </summary>
      <pre class="tool-output" data-testid="tool-output">{result ? String(result.content ?? "")
        : status === "running" ? (state.running?.output || "running…")
        : status === "not-run" ? "(not run)" : "waiting for approval or its turn…"}</pre>
    </details>
  );
}

function WaitingPrompt({ runId, node, onAnswered }: { runId: string; node: Waiting; onAnswered: () => void }) {
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState("");
  const send = async (verb: string, body: any) => {
    setError("");
    try {
      await api("POST", `/api/v1/runs/${runId}/${verb}`, { node: node.key, ...body });
      onAnswered();
    } catch (e: any) {
      setError(e.message);
    }
  };
  const title = node.args?.title ?? node.args?.question ?? node.key;
  const calls = node.args?.tool_calls ?? node.args?.calls;
  return (
    <section class="card waiting" role="region" aria-label={`Waiting: ${title}`} data-testid="waiting">
      <h3>{node.type === "ask_question" ? "Question" : "Approval needed"}: {title}</h3>
      {node.args?.title && node.args?.question && <p class="question">{String(node.args.question)}</p>}
      {node.args?.message && <p>{String(node.args.message)}</p>}
      {node.args?.description && <p>{String(node.args.description)}</p>}
      {Array.isArray(calls) && (
        <ul>{calls.map((c: any) => <li><code>{c.name}</code> <code>{JSON.stringify(c.input ?? {})}</code></li>)}</ul>
      )}
      {node.type === "ask_question" ? (
        <form onSubmit={(e) => { e.preventDefault(); send("answer", { answer }); }}>
          {Array.isArray(node.args?.options) ? (
            <label>Answer<select value={answer} onChange={(e) => setAnswer((e.target as HTMLSelectElement).value)}>
              <option value="">choose…</option>
              {node.args.options.map((o: any) => <option value={String(o)}>{String(o)}</option>)}
            </select></label>
          ) : (
            <label>Answer<input value={answer} onInput={(e) => setAnswer((e.target as HTMLInputElement).value)} /></label>
          )}
          <button type="submit" disabled={!answer}>Answer</button>
        </form>
      ) : (
        <div class="row">
          <button onClick={() => send("approve", {})} data-testid="approve">Approve</button>
          <button class="danger" onClick={() => send("deny", {})} data-testid="deny">Deny</button>
        </div>
      )}
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}

// A sub-agent's end as it reaches its parent's thread: a user-role message (it starts the parent's
// next turn) whose text is "[PRESET] what it reported" and whose block says display_style report.
// Its preset and its report, or null for any other message.
function subAgentReport(message: Message): { preset: string; text: string } | null {
  const block = message.content.find((b) => b.kind === "text" && b.body?.display_style === "report");
  if (!block) return null;
  const text = String(block.body.text ?? "");
  const tagged = /^\[([^\]\n]+)\]\s*/.exec(text);
  return tagged ? { preset: tagged[1], text: text.slice(tagged[0].length) } : { preset: "", text };
}

// A report shows as the sub-agent's, not as something the user typed.
function ReportView({ report }: { report: { preset: string; text: string } }) {
  return (
    <article class="message report" aria-label="Sub-agent report" data-testid="message-report">
      <header class="report-head">
        <span class="report-label">Sub-agent report</span>
        {report.preset && <span class="badge" data-testid="report-preset">{report.preset}</span>}
      </header>
      <Markdown text={report.text} />
    </article>
  );
}

function MessageView({ message, tools, ended }: { message: Message; tools: Map<string, ToolState>; ended: boolean }) {
  // A message of tool results only shows nothing of its own: its results are in the cards.
  if (!message.content.some((block) => block.kind !== "tool_result")) return null;
  const report = subAgentReport(message);
  if (report) return <ReportView report={report} />;
  return (
    <article class={`message ${message.role}`} aria-label={`${message.role} message`} data-testid={`message-${message.role}`}>
      {message.content.map((block: Block) => {
        if (block.kind === "text") {
          return message.role === "assistant" ? <Markdown text={String(block.body.text ?? "")} />
            : <p class="user-text">{String(block.body.text ?? "")}</p>;
        }
        if (block.kind === "tool_call") {
          return <ToolCard call={block.body} state={tools.get(String(block.body.id)) ?? {}} ended={ended} />;
        }
        if (block.kind === "error") return <p role="alert" class="error">{String(block.body.message ?? "")}</p>;
        return null;  // tool results show in their call's card
      })}
    </article>
  );
}

// The chat's title, and a form that renames it (PATCH /api/v1/chats/{id}).
function ChatTitle({ chatId, title, onRenamed }: { chatId: string; title: string; onRenamed: (title: string) => void }) {
  const [draft, setDraft] = useState<string | null>(null);  // null: not renaming
  const [error, setError] = useState("");
  if (draft === null) {
    return (
      <>
        <h1 data-testid="chat-title">{title || "New chat"}</h1>
        <button class="quiet" onClick={() => { setError(""); setDraft(title); }}>Rename</button>
      </>
    );
  }
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const chat = await api<{ title: string }>("PATCH", `/api/v1/chats/${encodeURIComponent(chatId)}`, { title: draft });
      onRenamed(chat.title);
      setDraft(null);
    } catch (err: any) {
      setError(err.message);
    }
  };
  return (
    <form class="row rename" aria-label="Rename the chat" onSubmit={save}>
      <label class="inline">Title{" "}
        <input value={draft} maxLength={500} autoFocus required
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => { if (e.key === "Escape") setDraft(null); }} />
      </label>
      <button type="submit" disabled={!draft.trim()}>Save</button>
      <button type="button" class="quiet" onClick={() => setDraft(null)}>Cancel</button>
      {error && <p role="alert" class="error">{error}</p>}
    </form>
  );
}

export function ChatPage({ chatId }: { chatId: string }) {
  const [chat, setChat] = useState<ChatView | null>(null);
  const [messages, setMessages] = useState<Map<string, Message>>(new Map());
  const [previews, setPreviews] = useState<Map<string, string>>(new Map());
  const [running, setRunning] = useState<Map<string, Running>>(new Map());
  const [waiting, setWaiting] = useState<Waiting[]>([]);
  const [status, setStatus] = useState("idle");
  const [runId, setRunId] = useState("");
  const [text, setText] = useState("");
  const [mode, setMode] = useState(localStorage.getItem("reliant.mode") ?? "auto");
  const [preset, setPreset] = useState("");  // "": the chat's
  const [model, setModel] = useState("");    // "": the chat's, else the server's default
  const [error, setError] = useState("");
  const { daemons } = useDaemons();
  const presets = usePresets(chat?.project_id ?? "");
  const models = useModels();
  const workflowPresets = useWorkflowPresets(chat?.workflow ?? "", chat?.project_id ?? "");
  const bottom = useRef<HTMLDivElement>(null);

  const upsert = (message: Message) =>
    setMessages((old) => new Map(old).set(message.id, message));
  // Updates that arrive while the chat loads are newer than what it may say: the messages merge
  // (by id), and a status an update gave is kept.
  const statusUpdated = useRef(false);
  const load = async () => {
    const view = await api<ChatView>("GET", `/api/v1/chats/${encodeURIComponent(chatId)}`);
    setChat(view);
    if (!statusUpdated.current) {
      setStatus(view.status);
      setRunId(view.workflow_run_id);
    }
    setMessages((old) => {
      const next = new Map(view.messages.map((m) => [m.id, m]));
      for (const [id, m] of old) if (!next.has(id)) next.set(id, m);
      return next;
    });
  };
  useEffect(() => {
    load().catch((e) => setError(e.status === 404 ? "No such chat." : e.message));
    return subscribe((u) => {
      // What a running tool prints names its request, not a chat: it goes to the card that ran it,
      // in order (a piece already shown is not shown again).
      if (u.kind === "tool_output") {
        setRunning((old) => {
          for (const [id, state] of old) {
            if (state.request_id !== String(u.body.request_id)) continue;
            const shown = state.output ?? "";
            const offset = Number(u.body.offset ?? 0);
            const data = String(u.body.data ?? "");
            if (offset + data.length <= shown.length) return old;
            const next = shown.slice(0, Math.min(offset, shown.length)) + data;
            return new Map(old).set(id, { ...state, output: next });
          }
          return old;
        });
        return;
      }
      if (u.chat_id !== chatId) return;
      if (u.kind === "chat_status") statusUpdated.current = true;
      if (u.kind === "message" && (u.body.thread ?? "") === "") {
        upsert(u.body as Message);
        setPreviews((old) => { const next = new Map(old); next.delete(u.body.id); return next; });
      } else if (u.kind === "text_delta" && u.body.message_id) {
        setPreviews((old) => new Map(old).set(u.body.message_id, (old.get(u.body.message_id) ?? "") + String(u.body.text ?? "")));
      } else if (u.kind === "tool_running") {
        setRunning((old) => new Map(old).set(String(u.body.tool_call_id),
          { daemon_id: u.body.daemon_id, request_id: u.body.request_id }));
      } else if (u.kind === "chat_status") {
        setStatus(String(u.body.status));
        if (u.body.run_id) setRunId(String(u.body.run_id));
        if (u.body.status !== "running") setWaiting([]);
      } else if (u.kind === "chat_title") {
        setChat((old) => (old ? { ...old, title: String(u.body.title ?? "") } : old));
      } else if (u.kind === "chat_daemon") {
        setChat((old) => (old ? { ...old, active_daemon_id: String(u.body.active_daemon_id ?? u.body.daemon_id ?? "") } : old));
      }
    });
  }, [chatId]);

  // While the run goes on, the nodes it waits on (approvals in manual mode, questions).
  useEffect(() => {
    if (status !== "running" || !runId) return;
    let stopped = false;
    const poll = async () => {
      try {
        const page = await api<{ events: any[] }>("GET", `/api/v1/runs/${runId}/events?since_seq=0`);
        // A node waits while its latest event is its node_waiting (answered ones go on).
        const latest = new Map<string, any>();
        for (const event of page.events) if (event.key) latest.set(event.key, event);
        if (!stopped) setWaiting([...latest.values()].filter((e) => e.kind === "node_waiting"));
      } catch {
        // a run of another deployment's kind has no node events: nothing waits
      }
    };
    poll();
    const timer = setInterval(poll, 1000);
    return () => { stopped = true; clearInterval(timer); };
  }, [status, runId]);

  useEffect(() => { bottom.current?.scrollIntoView({ block: "end" }); }, [messages, previews, waiting]);

  const tools = useMemo(() => {
    const map = new Map<string, ToolState>();
    for (const [id, state] of running) map.set(id, { running: state });
    for (const message of messages.values()) {
      for (const block of message.content) {
        if (block.kind === "tool_result") {
          const id = String(block.body.tool_call_id);
          map.set(id, { ...(map.get(id) ?? {}), result: block.body });
        }
      }
    }
    return map;
  }, [messages, running]);
  const ordered = [...messages.values()].filter((m) => (m.thread ?? "") === "").sort((a, b) => a.ordinal - b.ordinal);
  // Calls before the latest user message belong to runs that are over (a sub-agent's report
  // goes on the same run).
  const lastAsked = Math.max(0, ...ordered.filter((m) => m.role === "user" && !subAgentReport(m)).map((m) => m.ordinal));

  const send = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setError("");
    // Running from before the request: a quick run's updates (its end included) can arrive
    // before the POST's answer does, and must not be overwritten by it.
    const before = status;
    setStatus("running");
    try {
      localStorage.setItem("reliant.mode", mode);
      const sent = await api<{ run_id: string }>("POST", `/api/v1/chats/${chatId}/messages`,
        { text, mode, ...(preset ? { presets: preset } : {}), ...(model ? { model } : {}) });
      setText("");
      setRunId(sent.run_id);
    } catch (err: any) {
      setStatus(before);
      setError(err.message);
    }
  };
  const cancel = () => api("POST", `/api/v1/chats/${chatId}/cancel`).catch((e) => setError(e.message));
  const setDaemon = async (id: string) => {
    try {
      if (id) await api("PUT", `/api/v1/chats/${chatId}/daemon`, { daemon_id: id });
      else await api("DELETE", `/api/v1/chats/${chatId}/daemon`);
      setChat((old) => (old ? { ...old, active_daemon_id: id } : old));
    } catch (err: any) {
      setError(err.message);
    }
  };

  if (!chat) return <p role={error ? "alert" : undefined}>{error || "Loading…"}</p>;
  const session = daemons.find((d) => d.id === chat.active_daemon_id);
  // What the next message runs with unless the composer picks otherwise.
  const chatPreset = chat.presets?.default ? `${chat.presets.default} (chat's)`
    : workflowPresets?.default ? `${workflowPresets.default} (default)` : "none";
  const chatModel = typeof chat.workflow_inputs?.model === "string" ? chat.workflow_inputs.model : "";
  return (
    <div class="chat">
      <header class="chat-head">
        <ChatTitle chatId={chatId} title={chat.title}
          onRenamed={(title) => setChat((old) => (old ? { ...old, title } : old))} />
        <span class={`status ${status}`} data-testid="chat-status">{status}</span>
        {runId && <a href={`/runs/${runId}`} onClick={(e) => { e.preventDefault(); navigate(`/runs/${runId}`); }}>run graph</a>}
        <label class="inline">Session daemon{" "}
          <select aria-label="Session daemon" data-testid="session-daemon" value={chat.active_daemon_id}
            onChange={(e) => setDaemon((e.target as HTMLSelectElement).value)}>
            <option value="">default (resolved per call)</option>
            {daemons.map((d) => <option value={d.id}>{d.name || d.id} — {d.type}, {statusShown(d)}</option>)}
          </select>
        </label>
        {session && <DaemonLabel daemon={session} />}
      </header>
      <div class="messages" aria-live="polite" data-testid="messages">
        {ordered.map((m) => <MessageView key={m.id} message={m} tools={tools} ended={status !== "running" || m.ordinal < lastAsked} />)}
        {[...previews.entries()].filter(([id]) => !messages.has(id)).map(([id, preview]) => (
          <article class="message assistant streaming" data-testid="preview" key={id}><Markdown text={preview} /></article>
        ))}
        {waiting.map((node) => <WaitingPrompt runId={runId} node={node} onAnswered={() => setWaiting((w) => w.filter((x) => x.key !== node.key))} />)}
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      <form class="composer" onSubmit={send}>
        <label class="grow">Message
          <textarea rows={2} value={text} data-testid="composer"
            onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e); }} />
        </label>
        <div class="composer-options">
          <label>Mode
            <select aria-label="Mode" value={mode} data-testid="mode" onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
              <option value="auto">auto</option>
              <option value="manual">manual (approve each tool call)</option>
              <option value="plan">plan (read-only tools)</option>
            </select>
          </label>
          <label>Preset
            <PresetSelect presets={presets} tag={workflowPresets?.tag ?? ""} value={preset} onChange={setPreset}
              unpicked={chatPreset} />
          </label>
          <label>Model
            <ModelSelect models={models.models} value={model} onChange={setModel}
              unpicked={chatModel ? `${chatModel} (chat's)` : "server default"} />
          </label>
        </div>
        <button type="submit" disabled={status === "running"} data-testid="send">Send</button>
        {status === "running" && <button type="button" class="danger" onClick={cancel}>Cancel</button>}
      </form>
      {/* The end of the page: scrolled to, the sticky composer sits below the last message
          instead of over it. */}
      <div ref={bottom} />
    </div>
  );
}
