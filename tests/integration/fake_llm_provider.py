#!/usr/bin/env python3
"""A stand-in model provider for the integration tests: Anthropic's Messages API
(POST /v1/messages) and OpenAI's Chat Completions (POST /v1/chat/completions), streamed as the
real ones stream. It writes each request it gets, as one JSON line {path, headers: {name: value
without Authorization and x-api-key, key_sha256: the first 16 hex digits of the key's
SHA-256}, body}, to LOG, and answers with text that names the model
it was asked for ("answer from MODEL"), and the usage it reports. It listens on 127.0.0.1 on a
free port, written to PORT_FILE, until it is killed (or for an hour).

Usage: fake_llm_provider.py PORT_FILE LOG
"""
import http.server
import os
import hashlib
import json
import sys
import threading
import time

PORT_FILE, LOG = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def sse(handler, lines):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.end_headers()
    for line in lines:
        handler.wfile.write(line.encode())
    handler.wfile.flush()


def anthropic(handler, body):
    model = body.get("model", "")
    text = "answer from " + model
    events = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None,
            "usage": {"input_tokens": 1000, "output_tokens": 0}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": text}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 500}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    sse(handler, [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events])


def openai(handler, body):
    model = body.get("model", "")
    text = "answer from " + model
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model}
    chunks = [
        dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": text},
                             "finish_reason": None}]),
        dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        dict(base, choices=[], usage={"prompt_tokens": 1000, "completion_tokens": 500,
                                      "total_tokens": 1500}),
    ]
    sse(handler, [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()
                   if k.lower() not in ("authorization", "x-api-key")}
        # Which key the request carried, as its SHA-256 (first 16 hex digits), never the key.
        key = self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix("Bearer ")
        key_sha = hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""
        with lock, open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "headers": headers, "key_sha256": key_sha,
                                  "body": body}) + "\n")
        self.close_connection = True
        if self.path.endswith("/messages"):
            anthropic(self, body)
        elif self.path.endswith("/chat/completions"):
            openai(self, body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(PORT_FILE + ".tmp", PORT_FILE)
threading.Timer(3600, server.shutdown).start()
server.serve_forever()
