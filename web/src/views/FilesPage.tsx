// The chosen daemon's files: a tree (folders open on click), a viewer, and a small editor that
// saves through the daemon's FileSystemService. Paths stay inside the daemon's workspace.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { DaemonSelect, useDaemons } from "../daemons";

// Protobuf's JSON mapping: defaults are left out (a file has no isDirectory), 64-bit numbers are
// strings, bytes are base64.
interface Entry { path: string; name: string; isDirectory?: boolean; isSymlink?: boolean; sizeBytes?: string }
interface Content { path?: string; content?: string; isText?: boolean; sizeBytes?: string }

// Standard base64 → its bytes.
function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function Folder({ daemon, path, depth, open }: { daemon: string; path: string; depth: number; open: (p: string) => void }) {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  useEffect(() => {
    api<{ entries?: Entry[] }>("GET", `/api/v1/daemons/${daemon}/files?path=${encodeURIComponent(path)}`)
      .then((r) => setEntries(r.entries ?? [])).catch(() => setEntries([]));
  }, [daemon, path]);
  if (entries === null) return <p class="hint">…</p>;
  return (
    <ul class="tree" role={depth === 0 ? "tree" : "group"}>
      {entries.map((e) => (
        <li role="treeitem" aria-expanded={e.isDirectory ? expanded.has(e.path) : undefined}>
          <button class="link" data-testid="file-entry" onClick={() => {
            if (!e.isDirectory) return open(e.path);
            setExpanded((old) => { const next = new Set(old); next.has(e.path) ? next.delete(e.path) : next.add(e.path); return next; });
          }}>{e.isDirectory ? (expanded.has(e.path) ? "▾ " : "▸ ") : ""}{e.name}</button>
          {e.isDirectory && expanded.has(e.path) && depth < 8 && <Folder daemon={daemon} path={e.path} depth={depth + 1} open={open} />}
        </li>
      ))}
    </ul>
  );
}

export function FilesPage() {
  const { chosen } = useDaemons();
  const [file, setFile] = useState<{ path: string; content: string; text: boolean; size: string } | null>(null);
  const [draft, setDraft] = useState("");
  const [note, setNote] = useState("");
  const open = async (path: string) => {
    setNote("");
    try {
      const read = await api<Content>(
        "GET", `/api/v1/daemons/${chosen}/files/content?path=${encodeURIComponent(path)}`);
      const text = read.isText ?? false;
      const content = text ? new TextDecoder().decode(fromBase64(read.content ?? "")) : "";
      setFile({ path: read.path ?? path, content, text, size: read.sizeBytes ?? "0" });
      setDraft(content);
    } catch (e: any) {
      setNote(e.message);
    }
  };
  const save = async () => {
    if (!file) return;
    try {
      await api("PUT", `/api/v1/daemons/${chosen}/files/content?path=${encodeURIComponent(file.path)}`, { content: draft });
      setFile({ ...file, content: draft });
      setNote("Saved.");
    } catch (e: any) {
      setNote(e.message);
    }
  };
  return (
    <section class="files" aria-labelledby="files-title">
      <header class="row"><h1 id="files-title">Files</h1><DaemonSelect /></header>
      {!chosen ? <p>No daemon is connected.</p> : (
        <div class="columns">
          <nav aria-label="Files" class="card tree-wrap"><Folder daemon={chosen} path="." depth={0} open={open} /></nav>
          <div class="card viewer">
            {file ? (
              <>
                <h2 data-testid="file-path">{file.path}</h2>
                {file.text ? (
                  <>
                    <label class="sr-only" for="editor">Contents of {file.path}</label>
                    <textarea id="editor" class="editor" data-testid="file-content" value={draft}
                      onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
                    <div class="row"><button onClick={save} disabled={draft === file.content}>Save</button></div>
                  </>
                ) : <p>A binary file ({file.size} bytes).</p>}
              </>
            ) : <p class="hint">Choose a file.</p>}
            {note && <p role="status">{note}</p>}
          </div>
        </div>
      )}
    </section>
  );
}
