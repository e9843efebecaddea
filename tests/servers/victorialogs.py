#!/usr/bin/env python3
"""victorialogs.py: a strict VictoriaLogs test server for logpush's tests.

Follows VictoriaLogs v1.x "Data ingestion / JSON stream API" docs
(https://docs.victoriametrics.com/victorialogs/data-ingestion/#json-stream-api):
POST /insert/jsonline, one JSON object per line, query args (or VL-* headers)
_stream_fields, _time_field, _msg_field; Content-Encoding gzip accepted.
Strict where the real server is picky: the body must be sent as
Content-Type application/stream+json (the issue notes the real server then
silently stores nothing; we answer 415 so the mistake is loud), every line
must be a JSON object (the real server answers 400 "cannot parse JSON line").
Stored rows are kept the way VictoriaLogs keeps them (every value a
string, _stream built from _stream_fields, _time RFC 3339 with 9 digits)
in --store as JSON lines, so a later /select/logsql/query can serve them.

This file also holds StrictServer, the machinery the Loki and
Elasticsearch servers share: free port written to --port-file, --fail-rate
(random 503/429/dropped connections, before anything is stored),
POST /_test/fail?status=&count=&retry_after= and /_test/drop?count= for
failures on demand, --lifetime (the server exits on its own), and
--requests (one JSON line per request: method, path, headers that matter).
"""
import argparse, datetime, gzip, json, os, random, socket, sys, threading, time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StrictServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    args = None
    fail_queue = []     # [(status, retry_after)] for the next requests
    drop_count = 0
    rng = random.Random(1)

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def record_request(self, size):
        if not self.args.requests:
            return
        u = urllib.parse.urlsplit(self.path)
        line = {"method": self.command, "path": u.path,
                "query": dict(urllib.parse.parse_qsl(u.query)), "bytes": size,
                "content_type": self.headers.get("Content-Type"),
                "content_encoding": self.headers.get("Content-Encoding"),
                "authorization": self.headers.get("Authorization")}
        with self.lock, open(self.args.requests, "a") as f:
            f.write(json.dumps(line) + "\n")

    def store(self, rows):
        with self.lock, open(self.args.store, "a") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    def injected(self):
        """A failure asked for, or a random one: True when answered."""
        cls = StrictServer
        with self.lock:
            if cls.drop_count > 0:
                cls.drop_count -= 1
                self.drop()
                return True
            if cls.fail_queue:
                st, ra = cls.fail_queue.pop(0)
                hdr = [("Retry-After", str(ra))] if ra is not None else []
                self.reply(st, "injected failure %d\n" % st, headers=hdr)
                return True
            if self.args.fail_rate and cls.rng.random() < self.args.fail_rate:
                kind = cls.rng.choice(["503", "429", "drop", "500"])
                if kind == "drop":
                    self.drop()
                else:
                    self.reply(int(kind), "random failure\n",
                               headers=[("Retry-After", "0")] if kind == "429" else [])
                return True
        return False

    def control(self, u):
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/_test/fail":
            ra = int(q["retry_after"]) if "retry_after" in q else None
            with self.lock:
                StrictServer.fail_queue += [(int(q.get("status", 503)), ra)] * int(q.get("count", 1))
            self.reply(200, "ok\n")
        elif u.path == "/_test/drop":
            with self.lock:
                StrictServer.drop_count += int(q.get("count", 1))
            self.reply(200, "ok\n")
        else:
            self.reply(404, "no such control\n")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        try:
            body = self.read_body()
        except (OSError, EOFError, ValueError) as e:
            self.reply(400, "cannot read body: %s\n" % e)
            return
        if u.path.startswith("/_test/"):
            self.control(u)
            return
        self.record_request(len(body))
        if self.injected():
            return
        self.handle_post(u, dict(urllib.parse.parse_qsl(u.query)), body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        self.handle_get(u)

    def handle_get(self, u):
        self.reply(404, "not found\n")


def rfc3339(ns):
    s, frac = divmod(ns, 1000000000)
    t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac


def parse_time(v):
    """RFC 3339 (any fraction) or unix seconds/ms/us/ns -> ns, or None."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
        for scale in (1e9, 1e6, 1e3, 1):
            if abs(x) * scale < 1e19 and abs(x) < 1e11 * (1e9 / scale):
                return int(round(x * scale))
        return None
    if not isinstance(v, str):
        return None
    s = v.strip()
    try:
        main, _, rest = s.partition(".")
        if rest:
            digits = ""
            while rest and rest[0].isdigit():
                digits += rest[0]
                rest = rest[1:]
            tz = rest
        else:
            main, tz = s[:19], s[19:]
            digits = ""
        if tz == "Z":
            tz = "+00:00"
        t = datetime.datetime.fromisoformat(main[:19] + tz)
        return int(t.timestamp()) * 1000000000 + int((digits + "000000000")[:9])
    except ValueError:
        return None


def as_string(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def stream_text(labels):
    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return "{" + ",".join("%s=%s" % (k, q(v)) for k, v in sorted(labels.items())) + "}"


class VictoriaLogs(StrictServer):
    def handle_get(self, u):
        if u.path == "/health":
            self.reply(200, "OK")
        else:
            self.reply(404, "not found\n")

    def handle_post(self, u, q, body):
        if u.path != "/insert/jsonline":
            self.reply(404, "unsupported path %s\n" % u.path)
            return
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct != "application/stream+json":
            self.reply(415, "unsupported Content-Type %r: want application/stream+json\n" % ct)
            return
        h = lambda k: q.get(k) or self.headers.get("VL-" + k.strip("_").replace("_", "-").title())
        sfields = [f for f in (h("_stream_fields") or "").split(",") if f]
        tfield = h("_time_field") or "_time"
        mfield = h("_msg_field") or "_msg"
        rows = []
        for i, line in enumerate(body.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                self.reply(400, "cannot parse JSON line %d: %s\n" % (i, e))
                return
            if not isinstance(obj, dict):
                self.reply(400, "line %d: not a JSON object\n" % i)
                return
            row = {}
            ns = parse_time(obj.pop(tfield)) if tfield in obj else time.time_ns()
            if ns is None:
                self.reply(400, "line %d: cannot parse %s\n" % (i, tfield))
                return
            row["_time"] = rfc3339(ns)
            row["_stream"] = stream_text({k: as_string(obj[k]) for k in sfields if k in obj})
            if mfield in obj:
                row["_msg"] = as_string(obj.pop(mfield))
            for k, v in obj.items():
                if v is not None and v != "":
                    row[k] = as_string(v)
            rows.append(row)
        self.store(rows)
        self.reply(200)


def main(handler):
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--max-age", type=float, default=7 * 86400.0)
    handler.args = ap.parse_args()
    StrictServer.rng = random.Random(handler.args.seed)
    open(handler.args.store, "a").close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    tmp = handler.args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, handler.args.port_file)
    threading.Timer(handler.args.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main(VictoriaLogs)
