#!/usr/bin/env python3
"""loki.py: a strict Loki push test server for logpush's tests.

Follows the Loki 2.9 HTTP API docs, "POST /loki/api/v1/push"
(https://grafana.com/docs/loki/v2.9.x/reference/api/#push-log-entries-to-loki),
JSON body {"streams":[{"stream":{labels},"values":[["<unix ns>","line"],..]}]},
Content-Type application/json (Content-Encoding gzip accepted); 204 on
success.  Strict as Loki is with ordered writes (unordered_writes: false)
and the default limits: bad JSON, a stream without labels, a bad label
name or a timestamp that is not a string of digits answer 400 for the
whole push; an entry older than --max-age (reject_old_samples_max_age,
168h) or older than the stream's last entry is dropped while the valid
entries are stored, and the answer is 400 listing the dropped ones in
Loki's words, one per line:
  entry for stream '{a="x"}' has timestamp too old: 2006-01-02T15:04:05Z, oldest acceptable timestamp is: ...
  entry with timestamp 2006-01-02 15:04:05.999 +0000 UTC ignored, reason: 'entry out of order' for stream: {a="x"},
GET /ready answers "ready".  Failures on demand: see victorialogs.py.
"""
import datetime, json, re, sys, os, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from victorialogs import StrictServer, main, rfc3339  # noqa: E402

LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def go_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def labels_string(d):
    return "{" + ", ".join("%s=%s" % (k, go_quote(v)) for k, v in sorted(d.items())) + "}"


def go_time(ns):
    s, frac = divmod(ns, 1000000000)
    t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    f = ("%09d" % frac).rstrip("0")
    return t + ("." + f if f else "") + " +0000 UTC"


def sec3339(ns):
    return datetime.datetime.fromtimestamp(ns // 1000000000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Loki(StrictServer):
    last = {}   # stream labels string -> last stored ns

    def handle_get(self, u):
        if u.path == "/ready":
            self.reply(200, "ready\n")
        else:
            self.reply(404, "404 page not found\n")

    def handle_post(self, u, q, body):
        if u.path != "/loki/api/v1/push":
            self.reply(404, "404 page not found\n")
            return
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct != "application/json":
            self.reply(415, "unsupported Content-Type %r (this server speaks JSON only)\n" % ct)
            return
        try:
            req = json.loads(body)
            streams = req["streams"]
            assert isinstance(streams, list)
        except (ValueError, KeyError, TypeError, AssertionError) as e:
            self.reply(400, "loghttp: cannot parse push request: %s\n" % e)
            return
        parsed = []
        for s in streams:
            lab = s.get("stream") if isinstance(s, dict) else None
            if not isinstance(lab, dict) or not lab:
                self.reply(400, "error at least one label pair is required per stream\n")
                return
            for k, v in lab.items():
                if not LABEL.match(k) or not isinstance(v, str):
                    self.reply(400, "error parsing labels: invalid label %r\n" % k)
                    return
            vals = s.get("values")
            if not isinstance(vals, list):
                self.reply(400, "loghttp: values must be an array\n")
                return
            for e in vals:
                if (not isinstance(e, list) or len(e) not in (2, 3) or not isinstance(e[0], str)
                        or not e[0].isdigit() or not isinstance(e[1], str)):
                    self.reply(400, "loghttp: bad entry %r\n" % (e,))
                    return
            parsed.append((lab, [(int(e[0]), e[1]) for e in vals]))
        oldest = time.time_ns() - int(self.args.max_age * 1e9)
        errors, rows = [], []
        with self.lock:
            for lab, entries in parsed:
                key = labels_string(lab)
                for ns, line in entries:
                    if ns < oldest:
                        errors.append("entry for stream '%s' has timestamp too old: %s, "
                                      "oldest acceptable timestamp is: %s"
                                      % (key, sec3339(ns), sec3339(oldest)))
                        continue
                    if ns < self.last.get(key, -1):
                        errors.append("entry with timestamp %s ignored, reason: 'entry out of "
                                      "order' for stream: %s," % (go_time(ns), key))
                        continue
                    self.last[key] = ns
                    rows.append({"_time": rfc3339(ns), "_stream": key, "_msg": line})
        self.store(rows)
        if errors:
            n = sum(len(e) for _, e in parsed)
            self.reply(400, "\n".join(errors) + "\ntotal ignored: %d out of %d\n" % (len(errors), n))
        else:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()


if __name__ == "__main__":
    main(Loki)
