#!/usr/bin/env python3
"""amreceiver.py: a webhook receiver for logalert's tests, in two roles.

1. The far end of a real Prometheus Alertmanager's webhook_configs (POST
   /am): it checks the body against Alertmanager's documented webhook
   payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
   a JSON object with version "4", groupKey, status firing|resolved,
   receiver, groupLabels, commonLabels, commonAnnotations, externalURL and
   alerts[], each alert with status, labels, annotations, startsAt,
   endsAt, generatorURL and fingerprint.  Anything else is answered 400,
   so a change in what Alertmanager sends shows up as a failed test.

2. The target of logalert --webhook (any other path): the body must be one
   JSON object sent as Content-Type application/json; --token T demands
   "Authorization: Bearer T" (401 otherwise); --fail N answers the first
   N requests 503 with Retry-After: 0 (to drive logalert's retries).

Every accepted request is appended to --log as one JSON line {"path",
"authorization", "body"}; the free port it listens on (127.0.0.1) is
written to --port-file.  --lifetime ends it on its own.
"""
import argparse, json, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AM_KEYS = {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
           "commonLabels", "commonAnnotations", "externalURL", "alerts"}
AM_ALERT_KEYS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                 "fingerprint"}


def am_problem(b):
    if not isinstance(b, dict):
        return "not an object"
    missing = (AM_KEYS - {"truncatedAlerts"}) - set(b)
    if missing:
        return "missing %s" % sorted(missing)
    if b["version"] != "4":
        return "version %r" % b["version"]
    if b["status"] not in ("firing", "resolved"):
        return "status %r" % b["status"]
    if not isinstance(b["alerts"], list) or not b["alerts"]:
        return "no alerts"
    for a in b["alerts"]:
        if set(a) < AM_ALERT_KEYS:
            return "alert lacks %s" % sorted(AM_ALERT_KEYS - set(a))
        if a["status"] not in ("firing", "resolved"):
            return "alert status %r" % a["status"]
        if not isinstance(a["labels"], dict) or "alertname" not in a["labels"]:
            return "alert without alertname"
    return None


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    args = None
    fails = 0

    def log_message(self, *a):
        pass

    def reply(self, status, text, headers=()):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(405, "POST only\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        with H.lock:
            if H.fails < self.args.fail:
                H.fails += 1
                return self.reply(503, "failing on purpose\n", [("Retry-After", "0")])
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/json":
            return self.reply(415, "want application/json, got %r\n" % ctype)
        try:
            body = json.loads(raw)
        except ValueError as e:
            return self.reply(400, "bad JSON: %s\n" % e)
        auth = self.headers.get("Authorization")
        if self.path == "/am":
            why = am_problem(body)
            if why:
                return self.reply(400, "not an Alertmanager webhook payload: %s\n" % why)
        else:
            if not isinstance(body, dict):
                return self.reply(400, "want one JSON object\n")
            if self.args.token is not None and auth != "Bearer " + self.args.token:
                return self.reply(401, "bad or missing bearer token\n")
        with H.lock, open(self.args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "authorization": auth, "body": body}) + "\n")
        self.reply(200, "ok\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token")
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=60)
    H.args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = H.args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(tmp, H.args.port_file)
    time.sleep(H.args.lifetime)


if __name__ == "__main__":
    main()
