// The web app's entry: signs in (a one-time link's code from the URL fragment, or email and
// password), then draws the page for the current path. Routes: /chats, /chats/:id, /runs/:id,
// /terminal, /files, /processes, /mcp, /daemons, /triggers, /triggers/:id, /settings.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { api, ApiError, setCsrfToken, type Session } from "./api";
import { follow } from "./updates";
import { navigate, usePath } from "./router";
import { SignIn } from "./views/SignIn";
import { Chats } from "./views/Chats";
import { ChatPage } from "./views/ChatPage";
import { RunPage } from "./views/RunPage";
import { FilesPage } from "./views/FilesPage";
import { ProcessesPage } from "./views/ProcessesPage";
import { McpPage } from "./views/McpPage";
import { DaemonsPage } from "./views/DaemonsPage";
import { SettingsPage } from "./views/SettingsPage";
import { TriggerPage, TriggersPage } from "./views/TriggersPage";
import { DaemonProvider } from "./daemons";

// The terminal (xterm.js, most of the app's code) loads when its page is first opened, so the
// other pages start sooner.
function LazyTerminalPage() {
  const [Page, setPage] = useState<(() => any) | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    import("./views/TerminalPage")
      .then((m) => setPage(() => m.TerminalPage))
      .catch((e) => setError(`The terminal did not load: ${e.message ?? e}`));
  }, []);
  if (error) return <p role="alert">{error}</p>;
  return Page ? <Page /> : <p>Loading the terminal…</p>;
}

async function startSession(): Promise<Session | null> {
  // A one-time link: #sign-in=CODE. The code leaves the URL at once.
  const match = /sign-in=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match) {
    history.replaceState(null, "", location.pathname + location.search);
    try {
      const session = await api<Session>("POST", "/api/v1/auth/session/local", { code: match[1] });
      return session;
    } catch {
      // used or expired: fall through to the ordinary check
    }
  }
  try {
    return await api<Session>("GET", "/api/v1/auth/session");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState("");
  const path = usePath();

  // `early`: where the update stream starts, asked beside the session check.
  const signedIn = async (s: Session, early: Promise<{ seq: number } | null> | null = null) => {
    setCsrfToken(s.csrf_token);
    const stored = Number(sessionStorage.getItem("reliant.updates.seq") || "0");
    const head = stored > 0 ? stored
      : ((await early)?.seq ?? (await api<{ seq: number }>("GET", "/api/v1/updates/head")).seq);
    follow(head);
    setSession(s);
    if (path === "/" || path === "/sign-in") navigate("/chats");
  };
  useEffect(() => {
    // A page with a session cookie already: ask where updates start at once, not after the check.
    const early = /sign-in=/.test(location.hash) || sessionStorage.getItem("reliant.updates.seq") ? null
      : api<{ seq: number }>("GET", "/api/v1/updates/head").catch(() => null);
    startSession()
      .then((s) => (s ? signedIn(s, early) : setSession(null)))
      .catch((e) => setError(String(e.message ?? e)));
  }, []);

  if (error) return <main class="center"><p role="alert">{error}</p></main>;
  if (session === undefined) return <main class="center"><p>Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={signedIn} />;

  const signOut = async () => {
    await api("DELETE", "/api/v1/auth/session").catch(() => undefined);
    sessionStorage.clear();
    location.href = "/";
  };
  let page;
  const chat = /^\/chats\/([^/]+)$/.exec(path);
  const run = /^\/runs\/([^/]+)$/.exec(path);
  const trigger = /^\/triggers\/([^/]+)$/.exec(path);
  if (chat) page = <ChatPage key={chat[1]} chatId={decodeURIComponent(chat[1])} />;
  else if (run) page = <RunPage key={run[1]} runId={decodeURIComponent(run[1])} />;
  else if (path === "/terminal") page = <LazyTerminalPage />;
  else if (path === "/files") page = <FilesPage />;
  else if (path === "/processes") page = <ProcessesPage />;
  else if (path === "/mcp") page = <McpPage />;
  else if (path === "/daemons") page = <DaemonsPage />;
  else if (path === "/triggers") page = <TriggersPage />;
  else if (trigger) page = <TriggerPage key={trigger[1]} triggerId={decodeURIComponent(trigger[1])} />;
  else if (path === "/settings") page = <SettingsPage session={session} />;
  else page = <Chats />;
  const link = (to: string, label: string) => (
    <a href={to} aria-current={path.startsWith(to) ? "page" : undefined}
       onClick={(e) => { e.preventDefault(); navigate(to); }}>{label}</a>
  );
  return (
    <DaemonProvider>
      <div class="shell">
        <header class="top">
          <a class="brand" href="/chats" onClick={(e) => { e.preventDefault(); navigate("/chats"); }}>Reliant</a>
          <nav aria-label="Main">
            {link("/chats", "Chats")}
            {link("/terminal", "Terminal")}
            {link("/files", "Files")}
            {link("/processes", "Processes")}
            {link("/mcp", "MCP servers")}
            {link("/daemons", "Daemons")}
            {link("/triggers", "Triggers")}
            {link("/settings", "Settings")}
          </nav>
          <button class="quiet" onClick={signOut}>Sign out</button>
        </header>
        <main class="page">{page}</main>
      </div>
    </DaemonProvider>
  );
}

render(<App />, document.getElementById("app")!);
