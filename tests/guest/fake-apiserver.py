# SPDX-License-Identifier: GPL-2.0
"""A stand-in Kubernetes API server for t-agent.sh, enough for `sysfence
agent run`: list and watch SyscallPolicies (all namespaces) and pods (with a
spec.nodeName field selector), and server-side-apply patches of a
SyscallPolicy's status. No Kubernetes API server can be installed here.

The objects are JSON files the test writes (atomically) in DIR/policies and
DIR/pods; the server looks at them every 50 ms and turns what changed into
watch events (ADDED, MODIFIED, DELETED) with increasing resourceVersions, as
the API server would. Status patches are applied to the stored policy (a
MODIFIED event follows, as for real) and appended to DIR/patches.jsonl.

  python3 fake-apiserver.py DIR PORT
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

DIR, PORT = sys.argv[1], int(sys.argv[2])
POLICIES = "/apis/sysfence.dev/v1alpha1/syscallpolicies"
PODS = "/api/v1/pods"
lock = threading.Condition()
rv = [1]
# kind -> key -> object; events: list of (rv, kind, type, object)
objects = {"policies": {}, "pods": {}}
events = []
statuses = {}


def key_of(o):
    m = o.get("metadata", {})
    return m.get("namespace", "default") + "/" + m.get("name", "")


def bump(kind, typ, obj):
    rv[0] += 1
    obj.setdefault("metadata", {})["resourceVersion"] = str(rv[0])
    events.append((rv[0], kind, typ, json.loads(json.dumps(obj))))
    lock.notify_all()


def load(kind):
    out = {}
    d = os.path.join(DIR, kind)
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not f.endswith(".json"):
            continue
        try:
            o = json.load(open(os.path.join(d, f)))
        except (OSError, ValueError):
            continue
        out[key_of(o)] = o
    return out


created = {}


def signature(kind):
    """The names, inodes and mtimes of a kind's files: unchanged, nothing to re-read."""
    d = os.path.join(DIR, kind)
    try:
        return sorted((e.name, e.inode(), e.stat().st_mtime_ns) for e in os.scandir(d))
    except OSError:
        return None


def poll():
    # Re-reads a kind's files only when they changed: parsing every file
    # every 50 ms took a quarter of the emulated guest's CPU.
    seen = {}
    while True:
        for kind in ("policies", "pods"):
            sig = signature(kind)
            if kind in seen and seen[kind] == sig:
                continue
            seen[kind] = sig
            now = load(kind)
            with lock:
                old = objects[kind]
                for k, o in now.items():
                    md = o.setdefault("metadata", {})
                    md.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, k)))
                    md.setdefault("creationTimestamp", created.setdefault(k, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
                    if kind == "policies" and k in statuses:
                        o["status"] = statuses[k]
                    prev = old.get(k)
                    gen = 1
                    if prev is not None:
                        gen = prev["metadata"].get("generation", 1)
                        if prev.get("spec") != o.get("spec"):
                            gen += 1
                    md["generation"] = gen
                    if prev is not None:
                        p = json.loads(json.dumps(prev))
                        p["metadata"].pop("resourceVersion", None)
                        if p == o:
                            continue
                    old[k] = o
                    bump(kind, "MODIFIED" if prev is not None else "ADDED", o)
                for k in [k for k in old if k not in now]:
                    o = old.pop(k)
                    statuses.pop(k, None)
                    bump(kind, "DELETED", o)
        time.sleep(0.05)


def matches(kind, o, sel):
    if kind == "pods" and sel:
        field, _, want = sel.partition("=")
        if field == "spec.nodeName":
            return o.get("spec", {}).get("nodeName") == want
    return True


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, obj):
        self.send_body(code, json.dumps(obj).encode())

    def send_body(self, code, b):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        kind = {POLICIES: "policies", PODS: "pods"}.get(u.path)
        if kind is None:
            return self.send_json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound", "message": u.path})
        sel = q.get("fieldSelector", [""])[0]
        if q.get("watch", [""])[0] != "true":
            with lock:
                items = [o for o in objects[kind].values() if matches(kind, o, sel)]
                lst = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": str(rv[0])}, "items": items}
                # Serialized under the lock: a snapshot as of its version.
                body = json.dumps(lst).encode()
            return self.send_body(200, body)
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        timeout = min(int(q.get("timeoutSeconds", ["290"])[0]), 290)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.time() + timeout
        try:
            while time.time() < end:
                with lock:
                    new = [e for e in events if e[0] > since and e[1] == kind]
                    if not new:
                        lock.wait(1)
                        continue
                for (r, _, typ, o) in new:
                    since = r
                    if matches(kind, o, sel):
                        line = (json.dumps({"type": typ, "object": o}) + "\n").encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PATCH(self):
        u = urllib.parse.urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        parts = u.path.split("/")
        # /apis/sysfence.dev/v1alpha1/namespaces/NS/syscallpolicies/NAME/status
        if len(parts) != 9 or parts[6] != "syscallpolicies" or parts[8] != "status":
            return self.send_json(404, {"kind": "Status", "code": 404, "message": u.path})
        k = parts[5] + "/" + parts[7]
        with open(os.path.join(DIR, "patches.jsonl"), "a") as f:
            f.write(json.dumps({"policy": k, "query": u.query, "contentType": self.headers.get("Content-Type"), "body": body}) + "\n")
        with lock:
            o = objects["policies"].get(k)
            if o is None:
                return self.send_json(404, {"kind": "Status", "code": 404, "message": k})
            # Server-side apply of this field manager's one node entry.
            st = statuses.setdefault(k, {"nodes": []})
            for n in body.get("status", {}).get("nodes", []):
                st["nodes"] = [x for x in st["nodes"] if x.get("node") != n.get("node")] + [n]
            o["status"] = st
            bump("policies", "MODIFIED", o)
            out = json.loads(json.dumps(o))
        self.send_json(200, out)


threading.Thread(target=poll, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
