// The user's tokens (create: shown once; list; revoke), their own model providers' keys (set,
// replace, remove; never shown) and settings (one JSON object).
import { useEffect, useState } from "preact/hooks";
import { api, type ProviderKey, type Session, type Token } from "../api";

// The providers a user may keep a key for (the server refuses others), with their names.
const keyProviders = [["anthropic", "Anthropic"], ["openai", "OpenAI"]] as const;

// One provider's key: whether one is kept and since when, a password field to set or replace it
// and a button to remove it. What is typed is sent once and then forgotten (the field and the
// state are emptied once the server has stored it); the server never answers it back.
function ProviderKeyForm({ provider, name, kept, known, onChanged }: {
  provider: string; name: string; kept?: ProviderKey; known: boolean; onChanged: () => Promise<void>;
}) {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const act = async (method: "PUT" | "DELETE", done: string) => {
    setBusy(true);
    setError("");
    setNote("");
    try {
      await api(method, `/api/v1/settings/provider-keys/${provider}`, method === "PUT" ? { api_key: value } : undefined);
      setValue("");
      setNote(done);
      await onChanged();
    } catch (err: any) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const store = (e: Event) => {
    e.preventDefault();
    act("PUT", `${name} key stored.`);
  };
  return (
    <form class="provider-key" aria-label={`${name} key`} onSubmit={store}>
      <h3>{name}</h3>
      <p class="provider-key-state" data-testid="provider-key-state">
        {kept ? `Key kept, last set ${new Date(kept.updated_at_ms).toLocaleString()}`
          : known ? "No key kept: the server's own is used" : "…"}
      </p>
      <div class="row provider-key-row">
        <label class="grow">{name} API key
          <input type="password" required autoComplete="off" spellcheck={false} value={value} disabled={busy}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>
        <div class="row">
          <button type="submit" disabled={busy || !value}>{kept ? "Replace key" : "Save key"}</button>
          {kept && (
            <button type="button" class="danger" disabled={busy} aria-label={`Remove ${name} key`}
              onClick={() => act("DELETE", `${name} key removed.`)}>Remove</button>
          )}
        </div>
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {note && <p role="status">{note}</p>}
    </form>
  );
}

// The keys the user keeps for model providers: model calls made for them use theirs.
function ProviderKeys() {
  const [kept, setKept] = useState<ProviderKey[] | null>(null);  // null: not yet read
  const [error, setError] = useState("");
  const load = () => api<{ provider_keys: ProviderKey[] }>("GET", "/api/v1/settings/provider-keys")
    .then((r) => { setKept(r.provider_keys ?? []); setError(""); })
    .catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);
  return (
    <section class="card" aria-labelledby="provider-keys-title">
      <h2 id="provider-keys-title">Provider keys</h2>
      <p class="hint">Your own API keys: the model calls made for you go out with yours for the model's
        provider, the server's otherwise. A stored key is kept sealed and is never shown again.</p>
      {error && <p role="alert" class="error">{error}</p>}
      {keyProviders.map(([provider, name]) => (
        <ProviderKeyForm key={provider} provider={provider} name={name}
          kept={kept?.find((k) => k.provider === provider)} known={kept !== null} onChanged={load} />
      ))}
    </section>
  );
}

export function SettingsPage({ session }: { session: Session }) {
  const [tokens, setTokens] = useState<Token[]>([]);
  const [name, setName] = useState("");
  const [created, setCreated] = useState("");
  const [settings, setSettings] = useState("{}");
  const [note, setNote] = useState("");
  const load = () => api<{ tokens: Token[] }>("GET", "/api/v1/tokens").then((r) => setTokens(r.tokens ?? []));
  useEffect(() => {
    load().catch((e) => setNote(e.message));
    api<{ settings: unknown }>("GET", "/api/v1/settings").then((r) => setSettings(JSON.stringify(r.settings ?? {}, null, 2))).catch(() => undefined);
  }, []);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const token = await api<{ token: string }>("POST", "/api/v1/tokens", { name });
      setCreated(token.token);
      setName("");
      load();
    } catch (err: any) {
      setNote(err.message);
    }
  };
  const revoke = async (id: string) => {
    await api("DELETE", `/api/v1/tokens/${id}`).catch((e) => setNote(e.message));
    load();
  };
  const saveSettings = async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(settings);
    } catch (err: any) {
      setNote(`The settings are not JSON: ${err.message}`);
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      setNote("The settings must be one JSON object.");
      return;
    }
    try {
      // The API takes them under "settings" and answers them as stored.
      const saved = await api<{ settings: unknown }>("PUT", "/api/v1/settings", { settings: parsed });
      setSettings(JSON.stringify(saved.settings ?? {}, null, 2));
      setNote("Settings saved.");
    } catch (err: any) {
      setNote(err.message);
    }
  };
  return (
    <div class="settings">
      <h1>Settings</h1>
      <p>Signed in as {session.email || session.user_id}.</p>
      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Personal access tokens</h2>
        <form class="row" onSubmit={create}>
          <label class="grow">Name<input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Create token</button>
        </form>
        {created && <p role="status">New token (shown once): <code data-testid="new-token">{created}</code></p>}
        <table>
          <thead><tr><th>Name</th><th>Prefix</th><th>Status</th><th /></tr></thead>
          <tbody>
            {tokens.map((t) => (
              <tr>
                <td>{t.name}</td><td><code>{t.display_prefix}</code></td>
                <td>{t.revoked_at_ms ? "revoked" : "active"}</td>
                <td>{!t.revoked_at_ms && <button class="danger" onClick={() => revoke(t.id)} aria-label={`Revoke ${t.name}`}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <ProviderKeys />
      <section class="card" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <label class="sr-only" for="settings-json">Settings (JSON)</label>
        <textarea id="settings-json" class="editor" rows={8} value={settings}
          onInput={(e) => setSettings((e.target as HTMLTextAreaElement).value)} />
        <div class="row"><button onClick={saveSettings}>Save settings</button></div>
      </section>
      {note && <p role="status">{note}</p>}
    </div>
  );
}
