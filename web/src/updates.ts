// The user's update stream: server-sent events from /api/v1/updates, resumed after a reload or a
// dropped connection from the last event seen (since_seq), so nothing is missed and nothing is
// shown twice. Events with seq 0 are previews (streamed text, a tool that started): shown, never
// counted.

export interface Update { seq: number; kind: string; chat_id: string; body: any }
type Listener = (update: Update) => void;

const kSeqKey = "reliant.updates.seq";
// The server names every event by its kind (`event: chat_status`), and EventSource hands
// `onmessage` only the unnamed ones (and those named "message"): each kind needs a listener.
const kKinds = ["message", "chat_created", "chat_status", "chat_daemon", "chat_plan", "chat_title", "text_delta",
  "tool_running", "tool_output"];
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let lastSeq = 0;

export function lastSeenSeq() {
  return lastSeq;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Starts following from `since` (what the page's state already includes).
export function follow(since: number) {
  lastSeq = since;
  sessionStorage.setItem(kSeqKey, String(since));
  connect();
}

function connect() {
  source?.close();
  source = new EventSource(`/api/v1/updates?since_seq=${lastSeq}`);
  const deliver = (event: MessageEvent) => {
    let update: Update;
    try {
      update = JSON.parse(event.data);
    } catch {
      return;
    }
    if (update.seq > 0) {
      if (update.seq <= lastSeq) return;  // already applied
      lastSeq = update.seq;
      sessionStorage.setItem(kSeqKey, String(lastSeq));
    }
    for (const listener of listeners) listener(update);
  };
  for (const kind of kKinds) source.addEventListener(kind, deliver);
  // Updates after lastSeq were pruned (the server keeps a week of them): what the page shows
  // may be stale, so it is loaded afresh, and follows from the head.
  source.addEventListener("resync", () => {
    stop();
    sessionStorage.removeItem(kSeqKey);
    location.reload();
  });
  source.onerror = () => {
    // EventSource reconnects by itself, but from its own URL: start again from what we saw.
    source?.close();
    setTimeout(connect, 1000);
  };
}

export function stop() {
  source?.close();
  source = null;
}
