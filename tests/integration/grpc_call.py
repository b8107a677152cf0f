#!/usr/bin/env python3
# One unary gRPC call over plaintext HTTP/2 (h2c, prior knowledge), stdlib only, for tests that
# must call the real gRPC port without a gRPC library: ChatService.ListChats with an empty
# request and `authorization: Bearer TOKEN`. Prints "answered" when a response message came (a
# DATA frame: the call was authenticated and served), "refused" when the call ended with its
# status alone (e.g. UNAUTHENTICATED), "closed" when the connection ended first, then the
# milliseconds from the connect to that (as curl's time_total, without the interpreter's start);
# exits 0 only for "answered". Gives up after 5 s.
#   grpc_call.py PORT TOKEN [--from ADDRESS]
import argparse
import socket
import struct
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("token")
parser.add_argument("--from", dest="source", default="127.0.0.1")
args = parser.parse_args()

DATA, HEADERS, SETTINGS, PING, GOAWAY = 0, 1, 4, 6, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value % 128) + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name, value):
    # A literal header field without indexing, new name, no Huffman coding (RFC 7541 §6.2.2).
    name, value = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


headers = b"".join(
    literal(n, v)
    for n, v in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/reliant.api.v1.ChatService/ListChats"),
        (":authority", f"127.0.0.1:{args.port}"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("authorization", f"Bearer {args.token}"),
    ]
)
request = b"\x00" + struct.pack(">I", 0)  # an empty ListChatsRequest, uncompressed

def done(what, code):
    print(f"{what} {int((time.monotonic() - started) * 1000)}")
    sys.exit(code)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
started = time.monotonic()
deadline = started + 5
try:
    s.bind((args.source, 0))
    s.connect(("127.0.0.1", args.port))
    s.sendall(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + frame(SETTINGS, 0, 0)
        + frame(HEADERS, END_HEADERS, 1, headers)
        + frame(DATA, END_STREAM, 1, request)
    )
    buffer = b""
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            print(f"closed: the server ended the connection {s.getsockname()}", file=sys.stderr)
            done("closed", 1)
        buffer += chunk
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags = buffer[3], buffer[4]
            stream = int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            payload = buffer[9 : 9 + length]
            buffer = buffer[9 + length :]
            if kind == SETTINGS and not flags & ACK:
                s.sendall(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                s.sendall(frame(PING, ACK, 0, payload))
            elif kind == DATA and stream == 1:
                done("answered", 0)
            elif kind == HEADERS and stream == 1 and flags & END_STREAM:
                done("refused", 1)
            elif kind == GOAWAY:
                code = int.from_bytes(payload[4:8], "big") if len(payload) >= 8 else -1
                print(f"closed: GOAWAY {code} {payload[8:]!r}", file=sys.stderr)
                done("closed", 1)
except OSError as e:
    print(f"closed ({e})", file=sys.stderr)
    done("closed", 1)
done("closed", 1)  # no answer within 5 s
