// The user's tokens (create: shown once; list; revoke) and settings (one JSON object).
import { useEffect, useState } from "preact/hooks";
import { api, type Session, type Token } from "../api";

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
