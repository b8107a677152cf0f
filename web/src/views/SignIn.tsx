// Sign-in with email and password (on a server; a monolith's user opens its one-time link).
import { useState } from "preact/hooks";
import { api, type Session } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      onSignedIn(await api<Session>("POST", "/api/v1/auth/session", { email, password }));
    } catch (err: any) {
      setError(err.message ?? String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="center">
      <form class="card sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Reliant</h1>
        <label>Email<input type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)} /></label>
        <label>Password<input type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} /></label>
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
        <p class="hint">On a monolith, open the one-time link it printed when it started (also in
          <code> DATA_DIR/auth/web-link</code>).</p>
      </form>
    </main>
  );
}
