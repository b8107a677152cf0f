#!/usr/bin/env python3
"""A small MCP stdio server for the integration tests: it says that it started and with what,
and misbehaves on request.

  mcp_probe_server.py [--marker FILE] [--requests FILE] [--no-initialize] [--tools N] [ARG...]

--marker FILE: appends a line (its arguments and the variables asked for) to FILE at start, so a
test can tell whether the daemon started it at all. --requests FILE: appends the method of every
request it hears to FILE, one a line. --no-initialize: never answers initialize.
--tools N: lists N more tools (a large tools/list answer). Tools: "argv" (its arguments and the
variables named in `names`), "big" (`bytes` bytes of text), "deep" (structured content nested
`levels` deep, too deep for any JSON-RPC reader), "churn" (`count` tools/list_changed
notifications, then an answer), "hang" (never answers).
"""
import json
import os
import sys


def main():
    args = sys.argv[1:]
    marker = None
    requests = None
    initialize = True
    extra_tools = 0
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--marker":
            marker = args[i + 1]
            i += 2
        elif args[i] == "--requests":
            requests = open(args[i + 1], "a", encoding="utf-8", buffering=1)
            i += 2
        elif args[i] == "--no-initialize":
            initialize = False
            i += 1
        elif args[i] == "--tools":
            extra_tools = int(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    if marker:
        with open(marker, "a", encoding="utf-8") as out:
            out.write(json.dumps({"args": rest, "env": {k: v for k, v in os.environ.items() if k.startswith("PROBE_")}}) + "\n")

    def send(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def text(value):
        return {"content": [{"type": "text", "text": value}]}

    tools = [{"name": name, "description": name, "inputSchema": {"type": "object"}}
             for name in ("argv", "big", "deep", "churn", "hang")]
    tools += [{"name": f"tool_{n}", "description": "x" * 200, "inputSchema": {"type": "object"}}
              for n in range(extra_tools)]
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        method = message.get("method")
        ident = message.get("id")
        if ident is None:
            continue  # a notification
        if requests:
            requests.write(str(method) + "\n")
        if method == "initialize":
            if initialize:
                send({"jsonrpc": "2.0", "id": ident, "result": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {"tools": {"listChanged": True}},
                    "serverInfo": {"name": "probe", "version": "1"}}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": ident, "result": {"tools": tools}})
        elif method == "tools/call":
            params = message.get("params", {})
            name = params.get("name")
            arguments = params.get("arguments", {})
            if name == "argv":
                names = arguments.get("names", [])
                send({"jsonrpc": "2.0", "id": ident, "result": text(json.dumps(
                    {"args": rest, "env": {n: os.environ.get(n) for n in names}}))})
            elif name == "big":
                send({"jsonrpc": "2.0", "id": ident, "result": text("b" * int(arguments.get("bytes", 1 << 20)))})
            elif name == "deep":
                levels = int(arguments.get("levels", 200))
                sys.stdout.write('{"jsonrpc":"2.0","id":%s,"result":{"content":[],"structuredContent":{"deep":%s%s}}}\n'
                                 % (json.dumps(ident), "[" * levels, "]" * levels))
                sys.stdout.flush()
            elif name == "churn":
                changed = json.dumps({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}) + "\n"
                sys.stdout.write(changed * int(arguments.get("count", 1000)))
                sys.stdout.flush()
                send({"jsonrpc": "2.0", "id": ident, "result": text("churned")})
            elif name == "hang":
                pass
            else:
                send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": "unknown tool " + str(name)}})
        elif method == "ping":
            send({"jsonrpc": "2.0", "id": ident, "result": {}})
        else:
            send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": "no method " + str(method)}})


if __name__ == "__main__":
    main()
