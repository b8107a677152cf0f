#!/usr/bin/env python3
# A hostile client for the connection-limit tests (stdlib only): keeps HOLD connections open to
# 127.0.0.1:PORT, spread over the source addresses given, and opens a new one whenever the
# server closes one (a client that keeps reconnecting), for SECONDS. Each connection sends
# nothing (--mode idle) or a WebSocket upgrade without credentials (--mode ws, an
# unauthenticated terminal socket). Writes "opened closed held" to STATUS about every 0.2 s.
#   flood.py PORT HOLD SECONDS STATUS [--from 127.0.0.1,127.0.0.2] [--mode idle|ws]
import argparse
import errno
import os
import resource
import selectors
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("hold", type=int)
parser.add_argument("seconds", type=float)
parser.add_argument("status")
parser.add_argument("--from", dest="sources", default="127.0.0.1")
parser.add_argument("--mode", choices=["idle", "ws"], default="idle")
args = parser.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sources = args.sources.split(",")
upgrade = (
    b"GET /api/v2/terminal/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
selector = selectors.DefaultSelector()
held = 0
opened = 0
closed = 0
next_source = 0


def open_one():
    global held, opened, next_source
    source = sources[next_source % len(sources)]
    next_source += 1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", args.port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return False
    selector.register(s, selectors.EVENT_WRITE if args.mode == "ws" else selectors.EVENT_READ)
    held += 1
    opened += 1
    return True


def drop(s):
    global held, closed
    selector.unregister(s)
    s.close()
    held -= 1
    closed += 1


def write_status():
    with open(args.status + ".tmp", "w") as f:
        f.write(f"{opened} {closed} {held}\n")
    os.replace(args.status + ".tmp", args.status)


end = time.monotonic() + args.seconds
last_status = 0.0
while time.monotonic() < end:
    for _ in range(min(256, args.hold - held)):
        if not open_one():
            break
    for key, events in selector.select(timeout=0.02):
        s = key.fileobj
        if events & selectors.EVENT_WRITE:
            try:
                s.send(upgrade)
                selector.modify(s, selectors.EVENT_READ)
            except OSError:
                drop(s)
            continue
        try:
            data = s.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:  # closed by the server: reconnect on the next round
            drop(s)
    now = time.monotonic()
    if now - last_status > 0.2:
        write_status()
        last_status = now
write_status()
