#!/usr/bin/env python3
"""A stand-in Kubernetes API server for the control plane's integration test: no cluster runs on
the machines this is tested on. It keeps PersistentVolumeClaims, Secrets, Services and Deployments by
path, as the API server does for these calls: server-side apply (PATCH with
application/apply-patch+yaml, which must name fieldManager), merge patches, GET and DELETE; a
Deployment's pods are ready at once. Every call needs `Authorization: Bearer TOKEN`. Each object
applied is appended to APPLIED (a JSON array, rewritten whole) for a schema check.
    kubernetes_api_standin.py PORT TOKEN APPLIED
"""
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, TOKEN, APPLIED = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PATH = re.compile(
    r"^/(api/v1|apis/apps/v1)/namespaces/([a-z0-9-]+)/(persistentvolumeclaims|services|secrets|deployments)/([a-z0-9-]+)$")
KINDS = {"persistentvolumeclaims": "PersistentVolumeClaim", "services": "Service", "secrets": "Secret",
         "deployments": "Deployment"}
objects = {}
applied = []


def status(code, message):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                  "code": code}


def with_status(obj):
    if obj.get("kind") == "Deployment":
        replicas = obj.get("spec", {}).get("replicas", 1)
        obj = dict(obj, status={"replicas": replicas, "readyReplicas": replicas})
    return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_call(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return status(401, "Unauthorized")
        match = PATH.match(url.path)
        if not match:
            return status(404, f"no such resource {url.path}")
        group, _, resource, name = match.groups()
        if (resource == "deployments") != (group == "apis/apps/v1"):
            return status(404, f"no {resource} in {group}")
        found = objects.get(url.path)
        if self.command in ("GET", "DELETE"):
            if found is None:
                return status(404, f'{resource} "{name}" not found')
            if self.command == "DELETE":
                del objects[url.path]
            return 200, with_status(found)
        if self.command != "PATCH":
            return status(405, "method not allowed")
        kind = self.headers.get("Content-Type", "")
        if kind == "application/apply-patch+yaml":
            if not parse_qs(url.query).get("fieldManager"):
                return status(400, "fieldManager is required for apply requests")
            obj = json.loads(body)  # JSON is the YAML the control plane sends
            if obj.get("kind") != KINDS[resource] or obj.get("metadata", {}).get("name") != name:
                return status(400, "the object does not match its path")
            objects[url.path] = obj
            applied.append(obj)
            with open(APPLIED + ".tmp", "w") as out:
                json.dump(applied, out)
            os.replace(APPLIED + ".tmp", APPLIED)
            return (201 if found is None else 200), with_status(obj)
        if kind == "application/merge-patch+json":
            if found is None:
                return status(404, f'{resource} "{name}" not found')
            patch = json.loads(body)
            found.setdefault("spec", {}).update(patch.get("spec", {}))
            return 200, with_status(found)
        return status(415, f"unsupported patch type {kind}")

    def do_GET(self):
        self.answer(*self.handle_call())

    do_PATCH = do_DELETE = do_POST = do_GET


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
