// A terminal on the chosen daemon: xterm.js over /api/v2/terminal/ws (the session cookie
// authenticates the upgrade), resized with the window. Reopening the page attaches to the same
// terminal from the offset it reached, so nothing is lost or shown twice.
import { useEffect, useRef, useState } from "preact/hooks";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { DaemonSelect, useDaemons } from "../daemons";

export function TerminalPage() {
  const { chosen } = useDaemons();
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState("connecting");
  useEffect(() => {
    if (!chosen || !box.current) return;
    const term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 14 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    const key = `reliant.terminal.${chosen}`;
    const kept = JSON.parse(sessionStorage.getItem(key) ?? "null") as { id: string; offset: number } | null;
    let offset = kept?.offset ?? 0;
    let terminalId = kept?.id ?? "";
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v2/terminal/ws`);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        offset += bytes.length;
        sessionStorage.setItem(key, JSON.stringify({ id: terminalId, offset }));
        term.write(bytes);
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        socket.send(JSON.stringify(terminalId
          ? { type: "attach", daemon_id: chosen, terminal_id: terminalId, offset }
          : { type: "open", daemon_id: chosen, rows: term.rows, cols: term.cols }));
      } else if (message.type === "opened") {
        terminalId = message.terminal.id;
        setState("open");
        term.focus();
      } else if (message.type === "output") {
        offset = message.offset;
      } else if (message.type === "exit") {
        setState("ended");
        sessionStorage.removeItem(key);
      } else if (message.type === "error") {
        if (terminalId && message.code === "not_found") {  // gone (its daemon restarted): a new one
          sessionStorage.removeItem(key);
          terminalId = "";
          offset = 0;
          socket.send(JSON.stringify({ type: "open", daemon_id: chosen, rows: term.rows, cols: term.cols }));
        } else {
          setState(`error: ${message.message}`);
        }
      }
    };
    socket.onclose = () => setState((s) => (s === "open" ? "closed" : s));
    const typing = term.onData((data) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(new TextEncoder().encode(data));
    });
    const resize = () => {
      fit.fit();
      if (socket.readyState === WebSocket.OPEN && terminalId) {
        socket.send(JSON.stringify({ type: "resize", rows: term.rows, cols: term.cols }));
      }
    };
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      typing.dispose();
      socket.close();
      term.dispose();
    };
  }, [chosen]);
  return (
    <section class="terminal-page" aria-labelledby="terminal-title">
      <header class="row">
        <h1 id="terminal-title">Terminal</h1>
        <DaemonSelect />
        <span class="status" data-testid="terminal-state">{state}</span>
      </header>
      <div class="terminal" ref={box} data-testid="terminal" aria-label="Terminal" />
    </section>
  );
}
