// The REST API as the page uses it: same-origin requests with the session cookie (which the
// page never sees) and, on every change, the session's CSRF token.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrfToken = "";
export function setCsrfToken(token: string) {
  csrfToken = token;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? "http_" + response.status,
                       error.message ?? `HTTP ${response.status}`);
  }
  return json as T;
}

// --- the shapes the API answers with (those the page reads) ---

export interface Session { user_id: string; email: string; csrf_token: string }
export interface Chat {
  id: string; title: string; status: string; workflow: string; workflow_run_id: string;
  active_daemon_id: string; updated_at_ms: number; project_id?: string;
  workflow_inputs?: Record<string, unknown>;
  presets?: Record<string, string>;  // {default: NAME} when one was chosen (GROUP: NAME for a group's)
}
export interface Block { kind: string; body: any }
export interface Message { id: string; ordinal: number; role: string; content: Block[]; thread?: string }
export interface ChatView extends Chat { messages: Message[]; has_more: boolean }
// A managed daemon's state, in protobuf's JSON mapping (lowerCamelCase; defaults left out).
export interface ManagedDaemonState {
  spec?: { name?: string; platform?: string; permissions?: string; alwaysOn?: boolean; labels?: Record<string, string> };
  desiredState?: string; observedState?: string; lastError?: string; restarts?: string;
}
export interface Daemon {
  id: string; name: string; type: string; status: string; labels: Record<string, string>;
  hostname?: string; working_dir?: string; managed?: ManagedDaemonState;
}
export interface WorkflowInfo { name: string; ref?: string; description?: string; inputs?: Record<string, any> }
// Which presets a workflow's runs take: those tagged `tag` ("": any), `default` applying unpicked.
export interface WorkflowPresets { tag: string; default: string }
export interface Preset {
  name: string; description?: string; tag: string; origin: "builtin" | "user" | "project";
  params?: Record<string, unknown>;
}
export interface Model {
  name: string; provider: string; provider_kind?: string; tags?: string[]; thinking?: boolean;
  context_tokens?: number; prices?: { input_per_mtok?: number; output_per_mtok?: number };
}
// The server's model catalogue: no models when it has none (its one configured model answers).
export interface Models { default: string; models: Model[] }
// A provider key the user keeps (GET /api/v1/settings/provider-keys): which and when, never the key.
export interface ProviderKey { provider: string; created_at_ms: number; updated_at_ms: number }
export interface Token { id: string; name: string; display_prefix?: string; created_at_ms?: number; expires_at_ms?: number | null; revoked_at_ms?: number | null; last_used_at_ms?: number | null }
// A trigger's firing (GET /api/v1/triggers/{id}/events, newest first): `launched` with the run it
// started, `skipped`, `queued` (overlap: queue) or `failed`, with why in `detail`.
export interface Firing {
  id: string; trigger_id?: string; key: string; kind: string; instant_ms: number;
  status: "launched" | "skipped" | "failed" | "queued" | string; detail: string;
  chat_id: string; run_id: string; payload: unknown; created_at_ms: number;
}
// A trigger as GET /api/v1/triggers lists it: `spec` is its declaration's JSON ({name, schedule |
// webhook | workflow_event, filter?, inputs?, prompt?}); `next_fire_at_ms` a schedule's next instant
// (null when disabled or not a schedule); a webhook's path and whether it is signed, never its token.
export interface Trigger {
  id: string; name: string; kind: "schedule" | "webhook" | "workflow_event"; workflow: string;
  project_id: string; declaration: string; spec: Record<string, any>; params: Record<string, unknown>;
  message: string; enabled: boolean; next_fire_at_ms: number | null; created_at_ms: number;
  updated_at_ms: number; webhook_path?: string; signed?: boolean; last_event?: Firing | null;
}
// A project (GET /api/v1/projects).
export interface Project { id: string; name: string; path: string }
