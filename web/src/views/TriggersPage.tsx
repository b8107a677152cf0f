// The user's triggers (docs/workflows.md, "Triggers on the server"): schedules, webhooks and
// workflow events that start runs of a workflow on their own. /triggers lists them — what fires
// each, its workflow, whether it is enabled, when it fires next and how its last firing went —
// with Enable/Disable, Fire now and Delete (confirmed), and a form that makes one; a new
// webhook's token is shown there once. /triggers/:id is one trigger with its firings (each
// launched run linked to its run page), followed while the page is open.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Firing, type Project, type Trigger } from "../api";
import { navigate } from "../router";

// --- how a trigger and its times read ---

const kindNames: Record<string, string> = { schedule: "schedule", webhook: "webhook", workflow_event: "workflow event" };

// A moment in the viewer's own zone, readable: "14 May 2025, 09:30:00".
export const localTime = (ms: number) =>
  new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });

// How far a moment is from now: "in 4 s", "3 min ago".
export function relative(ms: number, now = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 1) return "now";
  const text = abs < 90 ? `${abs} s` : abs < 5400 ? `${Math.round(abs / 60)} min`
    : abs < 172800 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} days`;
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === "string" && value ? [value] : [];

// What fires a trigger, as one line: its crons and interval (in its zone), its webhook's path,
// or the runs it watches.
export function firesOn(t: Trigger): string {
  if (t.kind === "schedule") {
    const s = t.spec?.schedule ?? {};
    const parts: string[] = [];
    const crons = list(s.cron);
    if (crons.length) parts.push(`cron ${crons.join(" | ")} (${s.timezone || "UTC"})`);
    if (s.interval) parts.push(`every ${s.interval}`);
    return parts.join(" and ") || "a schedule";
  }
  if (t.kind === "webhook") return `POST ${t.webhook_path ?? `/hooks/${t.id}`}${t.signed ? " (HMAC-signed)" : ""}`;
  const e = t.spec?.workflow_event ?? {};
  const workflows = list(e.workflows), outcomes = list(e.outcomes);
  return `${workflows.length ? `runs of ${workflows.join(", ")}` : "any run"} ending ${outcomes.length ? outcomes.join(" or ") : "in any way"}`;
}

// When a trigger fires next: a schedule's next instant, or what it waits for.
function nextFire(t: Trigger): string {
  if (!t.enabled) return "not while disabled";
  if (t.kind === "webhook") return "on each delivery";
  if (t.kind === "workflow_event") return "when a watched run ends";
  return t.next_fire_at_ms ? `${localTime(t.next_fire_at_ms)} (${relative(t.next_fire_at_ms)})` : "—";
}

// What a firing was started by, from its key.
function firedBy(f: Firing): string {
  if (f.key.startsWith("manual:")) return "fired by hand";
  if (f.key.startsWith("at:")) return "scheduled";
  if (f.key.startsWith("run:")) return "a run ended";
  if (f.kind === "webhook") return "delivery";
  return f.kind;
}

// A link within the app.
function Link({ to, children, label }: { to: string; children: any; label?: string }) {
  return <a href={to} aria-label={label} onClick={(e) => { e.preventDefault(); navigate(to); }}>{children}</a>;
}

// Fetches now and every `ms` while the page is open, handing each answer to `apply` (an error to
// `fail`); an answer to an earlier fetch that comes after a later one's is dropped. Returns a
// function that fetches now.
function usePolling<T>(fetch: () => Promise<T>, apply: (value: T) => void, fail: (e: any) => void,
                       ms: number, deps: unknown[]): () => Promise<void> {
  const now = useRef<() => Promise<void>>(async () => {});
  useEffect(() => {
    let stopped = false;
    let asked = 0, shown = 0;
    const run = () => {
      const n = ++asked;
      const current = () => !stopped && n > shown && ((shown = n), true);
      return fetch().then((value) => { if (current()) apply(value); }, (e) => { if (current()) fail(e); });
    };
    now.current = () => (stopped ? Promise.resolve() : run());
    run();
    const timer = setInterval(run, ms);
    return () => { stopped = true; clearInterval(timer); };
  }, deps);
  return () => now.current();
}

// --- a trigger's buttons ---

// Enable or Disable, Fire now and Delete (which asks first); a webhook's new token on its own
// page. After each request `changed` is called; a refused request shows the server's reason.
function TriggerActions({ trigger, changed, deleted, detailed = false }: {
  trigger: Trigger; changed: () => void; deleted: () => void; detailed?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const [fired, setFired] = useState<Firing | null>(null);
  const [token, setToken] = useState<{ path: string; token: string } | null>(null);
  const path = `/api/v1/triggers/${encodeURIComponent(trigger.id)}`;
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await work();
    } catch (e: any) {
      setError(e.message);
    }
    setBusy(false);
    changed();
  };
  return (
    <div class="trigger-actions">
      <div class="row">
        {!detailed && <Link to={`/triggers/${encodeURIComponent(trigger.id)}`} label={`Events of ${trigger.name}`}>Events</Link>}
        {trigger.enabled
          ? <button class="quiet" disabled={busy} onClick={() => act(() => api("POST", `${path}/disable`))}>Disable</button>
          : <button disabled={busy} onClick={() => act(() => api("POST", `${path}/enable`))}>Enable</button>}
        <button class="quiet" disabled={busy}
          onClick={() => act(async () => { setFired(await api<Firing>("POST", `${path}/fire`)); })}>Fire now</button>
        {detailed && trigger.kind === "webhook" && (
          <button class="quiet" disabled={busy}
            onClick={() => act(async () => { setToken((await api<{ webhook: { path: string; token: string } }>("POST", `${path}/rotate`)).webhook); })}>
            New token</button>
        )}
        {!confirming && <button class="danger" disabled={busy} onClick={() => setConfirming(true)}>Delete</button>}
      </div>
      {confirming && (
        <div class="row confirm" role="group" aria-label={`Delete ${trigger.name}?`}>
          <span>Delete <strong>{trigger.name}</strong>? It fires no more; its past firings stay.</span>
          <button class="danger" disabled={busy} onClick={() => act(async () => {
            await api("DELETE", path);
            setConfirming(false);
            deleted();
          })}>Yes, delete</button>
          <button class="quiet" disabled={busy} onClick={() => setConfirming(false)}>Keep it</button>
        </div>
      )}
      {fired && (
        <p role="status" class="small">
          Fired: <span class={`status ${fired.status}`}>{fired.status}</span>
          {fired.detail ? ` ${fired.detail}` : ""}
          {fired.run_id && <> — <Link to={`/runs/${encodeURIComponent(fired.run_id)}`}>its run</Link></>}
        </p>
      )}
      {token && <TokenOnce webhook={token} done={() => setToken(null)} />}
      {error && <p role="alert" class="error">{error}</p>}
    </div>
  );
}

// Copies `text`: the clipboard API where the page may use it, else a selection copied.
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState("");
  return (
    <>
      <button type="button" class="quiet" aria-label={`Copy ${what}`}
        onClick={async () => setState((await copy(text)) ? "Copied" : "Select it and copy it")}>Copy</button>
      {state && <span class="hint" role="status">{state}</span>}
    </>
  );
}

// A webhook's path and token, shown once: the server keeps only the token's hash.
function TokenOnce({ webhook, done }: { webhook: { path: string; token: string }; done: () => void }) {
  const url = location.origin + webhook.path;
  return (
    <section class="card token-once" role="region" aria-label="Webhook token">
      <h3>The webhook's token</h3>
      <p class="warning"><strong>It is shown only this once:</strong> copy it now. The server keeps only its hash;
        a new one replaces it (New token on the trigger's page).</p>
      <div class="secret-line"><span>URL</span><code data-testid="webhook-url">{url}</code><CopyButton text={url} what="URL" /></div>
      <div class="secret-line"><span>Token</span><code data-testid="webhook-token">{webhook.token}</code><CopyButton text={webhook.token} what="token" /></div>
      <p class="hint">Send <code>POST {webhook.path}</code> with <code>Authorization: Bearer TOKEN</code>,
        or <code>POST {webhook.path}/TOKEN</code> from a sender that cannot set headers.</p>
      <button type="button" onClick={done}>I have copied it</button>
    </section>
  );
}

// --- the create form ---

interface WorkflowInfo { name: string; builtin?: boolean }
const kOther = "\u0000other";
// Zones offered for the time zone (any IANA zone the server knows may be typed).
const kZones = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Moscow",
  "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
  "America/Toronto", "Asia/Kolkata", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Asia/Dubai",
  "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg"];
const browserZone = (() => {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch { return ""; }
})();

// What the user typed as a JSON object ("" is none), or why it is not one.
function parseParams(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: any) {
    return { error: `Params: not valid JSON (${e.message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "Params: must be a JSON object" };
  return { value: value as Record<string, unknown> };
}

type Kind = "schedule" | "webhook" | "workflow_event";
// What the form holds: every source's fields, so switching between them loses nothing typed.
const blankForm = {
  name: "", project: "", workflow: "builtin://agent", otherWorkflow: "", message: "", params: "",
  cron: "", interval: "", timezone: "", overlap: "skip", catchUp: "one", catchupWindow: "", jitter: "",
  hmac: false, header: "", algorithm: "sha256", prefix: "", encoding: "hex", secret: "",
  watched: "", outcomes: [] as string[],
};
type Form = typeof blankForm;
type Field = keyof Form;
// A field's setter from an input's event (a checkbox's: its checked state).
type Setter = (field: Field) => (e: Event) => void;

// The body of POST /api/v1/triggers for the form (its params already parsed).
function requestBody(kind: Kind, f: Form, workflow: string, params: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { name: f.name.trim(), workflow };
  if (f.project) body.project_id = f.project;
  if (f.message.trim()) body.message = f.message;
  if (Object.keys(params).length) body.params = params;
  const given = (spec: Record<string, unknown>, key: string, value: string) => { if (value.trim()) spec[key] = value.trim(); };
  if (kind === "schedule") {
    const crons = f.cron.split(";").map((c) => c.trim()).filter(Boolean);
    const schedule: Record<string, unknown> = { overlap: f.overlap, catch_up: f.catchUp };
    if (crons.length) schedule.cron = crons.length === 1 ? crons[0] : crons;
    given(schedule, "interval", f.interval);
    given(schedule, "timezone", f.timezone);
    given(schedule, "catchup_window", f.catchupWindow);
    given(schedule, "jitter", f.jitter);
    body.schedule = schedule;
  } else if (kind === "webhook") {
    const hmac: Record<string, unknown> = { algorithm: f.algorithm, encoding: f.encoding };
    given(hmac, "header", f.header);
    if (f.prefix) hmac.prefix = f.prefix;
    body.webhook = f.hmac ? { hmac } : {};
    if (f.hmac) body.secret = f.secret;
  } else {
    body.workflow_event = { workflows: f.watched.split(",").map((w) => w.trim()).filter(Boolean), outcomes: f.outcomes };
  }
  return body;
}

function ScheduleFields({ f, set }: { f: Form; set: Setter }) {
  return (
    <div class="fields">
      <label>Cron<input value={f.cron} placeholder="0 9 * * MON-FRI" spellcheck={false} onInput={set("cron")}
        aria-describedby="cron-hint" /></label>
      <label>Interval<input value={f.interval} placeholder="30m" spellcheck={false} onInput={set("interval")}
        aria-describedby="cron-hint" /></label>
      <p id="cron-hint" class="hint wide">A five-field cron (several: separate them with <code>;</code>), an
        interval such as <code>2s</code>, <code>30m</code> or <code>1h30m</code>, or both.</p>
      <label>Time zone<input value={f.timezone} list="trigger-zones" spellcheck={false} onInput={set("timezone")}
        placeholder={`UTC${browserZone && browserZone !== "UTC" ? `, or ${browserZone}` : ""}`} /></label>
      <datalist id="trigger-zones">
        {[...new Set([browserZone, ...kZones].filter(Boolean))].map((z) => <option value={z} />)}
      </datalist>
      <label>Overlap
        <select aria-label="Overlap" value={f.overlap} onChange={set("overlap")}>
          <option value="skip">skip: not while its last run runs</option>
          <option value="queue">queue: after its last run ends</option>
          <option value="cancel">cancel: its last run, then start</option>
          <option value="allow">allow: alongside</option>
        </select>
      </label>
      <label>Catch-up
        <select aria-label="Catch-up" value={f.catchUp} onChange={set("catchUp")}>
          <option value="one">one: the latest missed</option>
          <option value="none">none</option>
          <option value="all">all missed, oldest first</option>
        </select>
      </label>
      <label>Catch-up window<input value={f.catchupWindow} placeholder="10m" spellcheck={false} onInput={set("catchupWindow")} /></label>
      <label>Jitter<input value={f.jitter} placeholder="0s" spellcheck={false} onInput={set("jitter")} /></label>
    </div>
  );
}

function WebhookFields({ f, set }: { f: Form; set: Setter }) {
  return (
    <div class="fields">
      <label class="inline wide"><input type="checkbox" checked={f.hmac} onChange={set("hmac")} />
        Require an HMAC signature of the body</label>
      {f.hmac && <>
        <label>Signature header<input value={f.header} placeholder="X-Signature-256" spellcheck={false} onInput={set("header")} /></label>
        <label>Algorithm
          <select aria-label="Algorithm" value={f.algorithm} onChange={set("algorithm")}>
            <option value="sha256">sha256</option><option value="sha1">sha1</option><option value="sha512">sha512</option>
          </select>
        </label>
        <label>Prefix<input value={f.prefix} placeholder="sha256=" spellcheck={false} onInput={set("prefix")} /></label>
        <label>Encoding
          <select aria-label="Encoding" value={f.encoding} onChange={set("encoding")}>
            <option value="hex">hex</option><option value="base64">base64</option>
          </select>
        </label>
        <label class="wide">Secret<input type="password" required autoComplete="off" minLength={16} maxLength={256}
          value={f.secret} onInput={set("secret")} /></label>
        <p class="hint wide">The secret shared with the sender (16 to 256 bytes), kept sealed and never shown again.</p>
      </>}
    </div>
  );
}

function EventFields({ f, toggle, set }: { f: Form; toggle: (outcome: string, on: boolean) => void; set: Setter }) {
  return (
    <div class="fields">
      <label class="wide">Watched workflows<input value={f.watched} placeholder="nightly-build, builtin://agent (empty: any)"
        spellcheck={false} onInput={set("watched")} /></label>
      <fieldset class="wide outcomes">
        <legend>Outcomes (none ticked: any)</legend>
        {["finished", "failed", "blocked"].map((o) => (
          <label class="inline"><input type="checkbox" checked={f.outcomes.includes(o)}
            onChange={(e) => toggle(o, (e.target as HTMLInputElement).checked)} /> {o}</label>
        ))}
      </fieldset>
    </div>
  );
}

// The workflows a trigger may run: the built-ins, and the chosen project's.
function useWorkflows(project: string): string[] {
  const [builtins, setBuiltins] = useState<string[]>([]);
  const [ofProject, setOfProject] = useState<string[]>([]);
  useEffect(() => {
    api<{ workflows: WorkflowInfo[] }>("GET", "/api/v1/workflows")
      .then((r) => setBuiltins((r.workflows ?? []).filter((w) => w.name.startsWith("builtin://")).map((w) => w.name)))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    setOfProject([]);
    if (!project) return;
    api<{ workflows: { name: string }[] }>("GET", `/api/v1/projects/${encodeURIComponent(project)}/workflows`)
      .then((r) => setOfProject((r.workflows ?? []).map((w) => w.name)))
      .catch(() => undefined);
  }, [project]);
  return [...new Set([...ofProject, ...builtins, "builtin://agent"])];
}

// The form that makes a trigger: its source's fields, then what it runs. The server checks it
// (a cron that parses, a zone that exists, a workflow that loads, params it takes) and its
// refusal is shown beside the form; a new webhook's token is shown once, above it.
function CreateTrigger({ projects, created }: { projects: Project[]; created: () => void }) {
  const [kind, setKind] = useState<Kind>("schedule");
  const [f, setForm] = useState(blankForm);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const [webhook, setWebhook] = useState<{ path: string; token: string } | null>(null);
  const offered = useWorkflows(f.project);
  // What is chosen is always offered (a project's workflow while that project's list loads).
  if (f.workflow !== kOther && !offered.includes(f.workflow)) offered.unshift(f.workflow);
  const workflow = f.workflow === kOther ? f.otherWorkflow.trim() : f.workflow;
  const update = (changes: Partial<Form>) => setForm((old) => ({ ...old, ...changes }));
  const set: Setter = (field) => (e) => {
    const target = e.target as HTMLInputElement;
    update({ [field]: target.type === "checkbox" ? target.checked : target.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    setNote("");
    const params = parseParams(f.params);
    if (!params.value) { setError(params.error!); return; }
    setBusy(true);
    try {
      const answer = await api<{ trigger: Trigger; webhook?: { path: string; token: string } }>(
        "POST", "/api/v1/triggers", requestBody(kind, f, workflow, params.value));
      setNote(`Created ${answer.trigger.name}.`);
      setWebhook(answer.webhook ?? null);
      update({ name: "", secret: "" });
      created();
    } catch (err: any) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="new-trigger-title">
      <h2 id="new-trigger-title">New trigger</h2>
      {webhook && <TokenOnce webhook={webhook} done={() => setWebhook(null)} />}
      <form class="trigger-form" aria-label="New trigger" onSubmit={submit}>
        <fieldset class="kinds">
          <legend>What starts it</legend>
          {([["schedule", "Schedule"], ["webhook", "Webhook"], ["workflow_event", "Another run ending"]] as [Kind, string][]).map(([k, label]) => (
            <label class="inline"><input type="radio" name="trigger-kind" value={k} checked={kind === k}
              onChange={() => { setKind(k); setError(""); }} /> {label}</label>
          ))}
        </fieldset>
        <div class="fields">
          <label>Name<input required maxLength={64} value={f.name} placeholder="nightly-audit" onInput={set("name")} /></label>
          <label>Project
            <select aria-label="Project" value={f.project} onChange={(e) => {
              const project = (e.target as HTMLSelectElement).value;
              // A workflow of the project left behind is not the next one's.
              const keep = f.workflow === kOther || f.workflow.startsWith("builtin://");
              update(keep ? { project } : { project, workflow: "builtin://agent" });
            }}>
              <option value="">None</option>
              {projects.map((p) => <option value={p.id}>{p.name}</option>)}
            </select>
          </label>
          <label>Workflow
            <select aria-label="Workflow" value={f.workflow} onChange={set("workflow")}>
              {offered.map((w) => <option value={w}>{w}</option>)}
              <option value={kOther}>Another (type its name)…</option>
            </select>
          </label>
          {f.workflow === kOther && (
            <label>Workflow name<input required value={f.otherWorkflow} placeholder="builtin://NAME or a project's workflow"
              spellcheck={false} onInput={set("otherWorkflow")} /></label>
          )}
        </div>
        {kind === "schedule" && <ScheduleFields f={f} set={set} />}
        {kind === "webhook" && <WebhookFields f={f} set={set} />}
        {kind === "workflow_event" && (
          <EventFields f={f} set={set} toggle={(o, on) =>
            update({ outcomes: on ? [...f.outcomes, o] : f.outcomes.filter((x) => x !== o) })} />
        )}
        <div class="fields">
          <label class="wide">Message<textarea rows={2} value={f.message} placeholder="the run's first message (optional)"
            onInput={set("message")} /></label>
          <label class="wide">Params (JSON)<textarea class="json" rows={2} value={f.params} spellcheck={false}
            placeholder={'{"depth": 2} (the workflow\'s inputs, optional)'} onInput={set("params")} /></label>
        </div>
        {error && <p role="alert" class="error" data-testid="trigger-form-error">{error}</p>}
        {note && <p role="status">{note}</p>}
        <div class="row"><button type="submit" disabled={busy || !workflow}>Create trigger</button></div>
      </form>
    </section>
  );
}

// --- the pages ---

function Facts({ trigger, projects }: { trigger: Trigger; projects: Project[] }) {
  const project = projects.find((p) => p.id === trigger.project_id);
  const last = trigger.last_event;
  return (
    <dl class="facts">
      <dt>Fires</dt><dd data-testid="trigger-fires">{firesOn(trigger)}</dd>
      <dt>Runs</dt><dd><code>{trigger.workflow}</code>{trigger.project_id ? ` in ${project?.name ?? trigger.project_id}` : ""}
        {trigger.declaration ? ` (its declared trigger ${trigger.declaration})` : ""}</dd>
      <dt>Next</dt><dd data-testid="trigger-next">{nextFire(trigger)}</dd>
      {last !== undefined && (
        <><dt>Last</dt><dd data-testid="trigger-last">{last
          ? <><span class={`status ${last.status}`}>{last.status}</span> {localTime(last.instant_ms)}{last.detail ? ` — ${last.detail}` : ""}</>
          : "never fired"}</dd></>
      )}
    </dl>
  );
}

function Badges({ trigger }: { trigger: Trigger }) {
  return (
    <>
      <span class="badge kind">{kindNames[trigger.kind] ?? trigger.kind}</span>
      <span class={`badge ${trigger.enabled ? "enabled" : "disabled"}`} data-testid="trigger-enabled">
        {trigger.enabled ? "enabled" : "disabled"}</span>
    </>
  );
}

function useProjects(): Project[] {
  const [projects, setProjects] = useState<Project[]>([]);
  useEffect(() => {
    api<{ projects: Project[] }>("GET", "/api/v1/projects").then((r) => setProjects(r.projects ?? [])).catch(() => undefined);
  }, []);
  return projects;
}

export function TriggersPage() {
  const [triggers, setTriggers] = useState<Trigger[] | null>(null);
  const [error, setError] = useState("");
  const projects = useProjects();
  // Followed every 2 s: schedules fire, and their next instant moves on.
  const reload = usePolling(
    () => api<{ triggers: Trigger[] }>("GET", "/api/v1/triggers"),
    (r) => { setTriggers(r.triggers ?? []); setError(""); },
    (e) => setError(e.message),
    2000, []);
  return (
    <div class="triggers-page">
      <h1 id="triggers-title">Triggers</h1>
      <p class="hint">Schedules, webhooks and other runs ending start runs of a workflow without you.</p>
      {error && <p role="alert" class="error">{error}</p>}
      {triggers === null ? <p>Loading…</p> : triggers.length === 0 ? <p class="hint">No triggers yet.</p> : (
        <ul class="trigger-list" aria-labelledby="triggers-title" data-testid="trigger-list">
          {triggers.map((t) => (
            <li key={t.id} class={`card trigger${t.enabled ? "" : " off"}`} aria-label={t.name}>
              <div class="trigger-head">
                <h2><Link to={`/triggers/${encodeURIComponent(t.id)}`}>{t.name}</Link></h2>
                <Badges trigger={t} />
              </div>
              <Facts trigger={t} projects={projects} />
              <TriggerActions trigger={t} changed={reload} deleted={reload} />
            </li>
          ))}
        </ul>
      )}
      <CreateTrigger projects={projects} created={reload} />
    </div>
  );
}

export function TriggerPage({ triggerId }: { triggerId: string }) {
  const [trigger, setTrigger] = useState<Trigger | null>(null);
  const [events, setEvents] = useState<Firing[] | null>(null);
  const [error, setError] = useState("");
  const projects = useProjects();
  const path = `/api/v1/triggers/${encodeURIComponent(triggerId)}`;
  const reload = usePolling(
    () => Promise.all([api<Trigger>("GET", path), api<{ events: Firing[] }>("GET", `${path}/events?limit=50`)]),
    ([t, e]) => {
      const firings = e.events ?? [];
      setTrigger({ ...t, last_event: firings[0] ?? null });
      setEvents(firings);
      setError("");
    },
    (e) => setError(e.status === 404 ? "No such trigger." : e.message),
    2000, [triggerId]);
  const back = <p><Link to="/triggers">← All triggers</Link></p>;
  if (!trigger) return <section>{back}<p role={error ? "alert" : undefined}>{error || "Loading…"}</p></section>;
  const spec = { ...trigger.spec };
  return (
    <section class="trigger-page" aria-labelledby="trigger-title">
      {back}
      <div class="trigger-head">
        <h1 id="trigger-title">{trigger.name}</h1>
        <Badges trigger={trigger} />
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="card">
        <Facts trigger={trigger} projects={projects} />
        {trigger.message && <p class="small">Message: <span class="user-text">{trigger.message}</span></p>}
        {Object.keys(trigger.params ?? {}).length > 0 && <p class="small">Params: <code>{JSON.stringify(trigger.params)}</code></p>}
        <details><summary>Its spec</summary><pre>{JSON.stringify(spec, null, 2)}</pre></details>
        <TriggerActions trigger={trigger} changed={reload} deleted={() => navigate("/triggers")} detailed />
      </div>
      <h2 id="events-title">Events</h2>
      {events === null ? <p>Loading…</p> : events.length === 0 ? <p class="hint">It has not fired yet.</p> : (
        <ol class="firings" aria-labelledby="events-title" data-testid="firings">
          {events.map((f) => (
            <li key={f.id} data-testid="firing" data-status={f.status}>
              <span class={`status ${f.status}`}>{f.status}</span>
              <time dateTime={new Date(f.instant_ms).toISOString()} title={`recorded ${localTime(f.created_at_ms)}`}>{localTime(f.instant_ms)}</time>
              <span class="hint">{firedBy(f)}</span>
              {f.detail && <span class="detail">{f.detail}</span>}
              <span class="links">
                {f.run_id && <Link to={`/runs/${encodeURIComponent(f.run_id)}`}>Run</Link>}
                {f.chat_id && <Link to={`/chats/${encodeURIComponent(f.chat_id)}`}>Chat</Link>}
              </span>
              {f.payload !== null && typeof f.payload === "object" && Object.keys(f.payload as object).length > 0 && (
                <details class="payload"><summary>Payload</summary><pre>{JSON.stringify(f.payload, null, 2)}</pre></details>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
