#!/usr/bin/env python3
"""httpfault.py: a fault-injecting HTTP/1.1 server for logfetch's tests.

Not a real product's protocol: a plain HTTP server whose paths misbehave on
purpose, so the retry and security rules of logfetch can be checked.
Every request is logged as one JSON line (method, path, headers) to --log.

  /file/NAME          the payload; honours Range and If-Range (206/416)
  /drop/NAME          first GET: headers, half the body, then the
                      connection is cut; later GETs behave like /file/
  /drop-noetag/NAME   the same without ETag/Last-Modified (no resume)
  /flaky/NAME         first GET 500, then like /file/
  /busy/NAME          first GET 429 with Retry-After: 1, then like /file/
  /gone/NAME          404 always; /forbidden/NAME 403 always
  /always500/NAME     500 always
  /redirect?to=URL    302 to URL (file:///etc/passwd, another port, ...)
  /loop/N             302 to /loop/N+1 forever
  /changing/NAME      like /file/ but the ETag and body change on every GET
                      after the first one is cut half way
  /timeout408/NAME    first GET 408 Request Timeout, then like /file/
  /slow/NAME          like /file/ after 0.5 s; the log line of each request
                      has "inflight": how many /slow/ requests were being
                      served at once, this one included (for -j)
Options: --port-file F (the chosen port is written there), --log F,
--payload-size N, --payload-out F (the payload, to compare with),
--lifetime S (exit after S seconds, default 300).
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {}
lock = threading.Lock()


def payload(size, salt=0):
    # Deterministic, not compressible by accident, cheap to build.
    block = bytes(((i * 131 + 17 + salt) % 251) for i in range(251))
    return (block * (size // 251 + 1))[:size]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def count(self, key):
        with lock:
            state[key] = state.get(key, 0) + 1
            return state[key]

    def record(self, **extra):
        with lock, open(self.server.logpath, "a") as f:
            f.write(json.dumps(dict({"method": self.command, "path": self.path,
                                     "port": self.server.server_address[1],
                                     "time": time.time(),
                                     "headers": {k: v for k, v in self.headers.items()}},
                                    **extra)) + "\n")

    def simple(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve(self, data, etag='"v1"', lm="Mon, 05 May 2025 10:00:00 GMT", validators=True):
        rng = self.headers.get("Range")
        ifr = self.headers.get("If-Range")
        if self.headers.get("If-None-Match") == etag and validators:
            return self.simple(304, headers=[("ETag", etag)])
        hdrs = [("ETag", etag), ("Last-Modified", lm)] if validators else []
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and (ifr is None or ifr in (etag, lm)):
            start = int(m.group(1))
            if start >= len(data):
                return self.simple(416, headers=[("Content-Range", "bytes */%d" % len(data))])
            body = data[start:]
            return self.simple(206, body, hdrs + [
                ("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        return self.simple(200, data, hdrs)

    def cut(self, data, validators=True, etag='"v1"'):
        self.send_response(200)
        if validators:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Mon, 05 May 2025 10:00:00 GMT")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def do_GET(self):
        data = self.server.payload
        p = self.path
        parts = p.split("/")
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "slow":
            with lock:
                state["inflight"] = state.get("inflight", 0) + 1
                n = state["inflight"]
            self.record(inflight=n)
            time.sleep(0.5)
            # Out of the count before the answer: the client's next
            # request can only come after it.
            with lock:
                state["inflight"] -= 1
            return self.serve(data)
        self.record()
        if kind == "file":
            return self.serve(data)
        if kind in ("drop", "drop-noetag"):
            v = kind == "drop"
            if self.count(p) == 1:
                return self.cut(data, validators=v)
            return self.serve(data, validators=v)
        if kind == "changing":
            n = self.count(p)
            if n == 1:
                return self.cut(data)
            return self.serve(payload(len(data), n), etag='"v%d"' % n)
        if kind == "flaky":
            if self.count(p) == 1:
                return self.simple(500, b"try again\n")
            return self.serve(data)
        if kind == "busy":
            if self.count(p) == 1:
                return self.simple(429, b"slow down\n", [("Retry-After", "1")])
            return self.serve(data)
        if kind == "timeout408":
            if self.count(p) == 1:
                return self.simple(408, b"request timeout\n")
            return self.serve(data)
        if kind == "gone":
            return self.simple(404, b"no such file\n")
        if kind == "forbidden":
            return self.simple(403, b"forbidden\n")
        if kind == "always500":
            return self.simple(500, b"broken\n")
        if kind.startswith("redirect"):
            m = re.search(r"[?&]to=(.*)$", p)
            return self.simple(302, b"", [("Location", m.group(1) if m else "/")])
        if kind == "loop":
            n = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
            return self.simple(302, b"", [("Location", "/loop/%d" % (n + 1))])
        return self.simple(404, b"unknown path\n")

    do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--payload-size", type=int, default=300000)
    ap.add_argument("--payload-out")
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    srv.logpath = a.log
    srv.payload = payload(a.payload_size)
    if a.payload_out:
        with open(a.payload_out, "wb") as f:
            f.write(srv.payload)
    open(a.log, "a").close()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    # Bounded in time: a test that forgets us does not leave us running.
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
