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

Querying follows the same docs, "GET /loki/api/v1/query_range"
(https://grafana.com/docs/loki/v2.9.x/reference/api/#query-loki-over-a-range-of-time):
query, start and end (Unix ns or RFC 3339; end exclusive; defaults end=now,
start=end-1h), limit (default 100, more than max_entries_limit_per_query
5000 answers 400), direction (backward by default, or forward).  The
answer is {"status":"success","data":{"resultType":"streams","result":
[{"stream":{labels},"values":[["<ns>","line"],..]}],"stats":{..}}}: the
first `limit` entries in the direction over all streams, each stream's
values in that order.  The LogQL subset evaluated: a stream selector with
=, !=, =~, !~ matchers (regexes fully anchored; at least one matcher that
rejects the empty value, else 400 as Loki says), then line filters |= "s",
!= "s", |~ "re", !~ "re" (Go-quoted or `raw` strings).  Anything else
(parsers, label filters, metric queries) and every syntax error answer 400
with a text body ("parse error at line 1, col N: ..."), as Loki does, so
a query outside the subset fails instead of being answered wrongly.  A
time range longer than 721h answers 400 (max_query_length).
"""
import datetime, json, re, sys, os, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from victorialogs import StrictServer, main, rfc3339, go_unquote, QueryError, time_point  # noqa: E402

LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
IDENT = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


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


EMPTY_MATCHER = ('queries require at least one regexp or equality matcher that does not have '
                 'an empty-compatible value. For instance, app=~".*" does not meet this '
                 'requirement, but app=~".+" will')


class LogQL:
    """{matchers} followed by line filters; raises QueryError("col N: why")."""

    def __init__(self, text):
        self.s, self.i = text, 0
        self.matchers, self.filters = [], []
        self.parse()

    def err(self, why):
        raise QueryError("parse error at line 1, col %d: %s" % (self.i + 1, why))

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def string(self):
        self.ws()
        try:
            v, self.i = go_unquote(self.s, self.i)
        except (QueryError, ValueError, IndexError) as e:
            self.err("syntax error: %s" % e)
        return v

    def parse(self):
        self.ws()
        if not self.s.startswith("{", self.i):
            self.err("syntax error: unexpected %r, expecting {" % self.s[self.i:self.i + 1])
        self.i += 1
        while True:
            self.ws()
            m = IDENT.match(self.s, self.i)
            if not m:
                self.err("syntax error: unexpected %r, expecting IDENTIFIER" % self.s[self.i:self.i + 1])
            k, self.i = m.group(0), m.end()
            self.ws()
            op = next((o for o in ("=~", "!~", "!=", "=") if self.s.startswith(o, self.i)), None)
            if op is None:
                self.err("syntax error: unexpected %r, expecting = or != or =~ or !~"
                         % self.s[self.i:self.i + 1])
            self.i += len(op)
            v = self.string()
            try:
                rx = re.compile(v, re.S) if "~" in op else None
            except re.error as e:
                self.err("invalid regex %r: %s" % (v, e))
            self.matchers.append((k, op, v, rx))
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("}", self.i):
                self.i += 1
                break
            self.err("syntax error: unexpected %r, expecting , or }" % self.s[self.i:self.i + 1])
        if not any((op == "=" and v != "") or (op == "=~" and not rx.fullmatch(""))
                   for k, op, v, rx in self.matchers):
            raise QueryError(EMPTY_MATCHER)
        while True:
            self.ws()
            if self.i >= len(self.s):
                break
            op = next((o for o in ("|=", "!=", "|~", "!~") if self.s.startswith(o, self.i)), None)
            if op is None:
                self.err("syntax error: unexpected %r (this test server knows only line filters)"
                         % self.s[self.i:self.i + 2])
            self.i += 2
            v = self.string()
            try:
                rx = re.compile(v, re.S) if "~" in op else None
            except re.error as e:
                self.err("invalid regex %r: %s" % (v, e))
            self.filters.append((op, v, rx))

    def match(self, labels, line):
        for k, op, v, rx in self.matchers:
            x = labels.get(k, "")
            ok = (x == v) if rx is None else bool(rx.fullmatch(x))
            if ok != (op in ("=", "=~")):
                return False
        for op, v, rx in self.filters:
            ok = (v in line) if rx is None else bool(rx.search(line))
            if ok != (op[0] == "|"):
                return False
        return True


def loki_time(v):
    if v.isdigit():
        return int(v)
    return time_point(v)[0]


class Loki(StrictServer):
    last = {}   # stream labels string -> last stored ns
    entries = []    # (ns, labels, line) in push order

    def handle_get(self, u):
        if u.path == "/ready":
            self.reply(200, "ready\n")
        elif u.path == "/loki/api/v1/query_range":
            self.record_request(0)
            if not self.injected():
                self.query_range(dict(urllib.parse.parse_qsl(u.query)))
        else:
            self.reply(404, "404 page not found\n")

    def query_range(self, a):
        try:
            q = LogQL(a.get("query", ""))
        except QueryError as e:
            return self.reply(400, "%s\n" % e)
        try:
            end = loki_time(a["end"]) if "end" in a else time.time_ns()
            start = loki_time(a["start"]) if "start" in a else end - 3600 * 10**9
            limit = int(a.get("limit", "100"))
        except (QueryError, ValueError) as e:
            return self.reply(400, "%s\n" % e)
        direction = a.get("direction", "backward")
        if direction not in ("forward", "backward"):
            return self.reply(400, "invalid direction %r\n" % direction)
        if end <= start:
            return self.reply(400, "end timestamp must not be before or equal to start time\n")
        if end - start > 721 * 3600 * 10**9:
            return self.reply(400, "the query time range exceeds the limit (query length: %ds, "
                              "limit: 30d1h)\n" % ((end - start) // 10**9))
        if limit <= 0 or limit > 5000:
            return self.reply(400, "max entries limit per query exceeded, limit > "
                              "max_entries_limit (%d > 5000)\n" % limit)
        with self.lock:
            found = [(ns, i, lab, line) for i, (ns, lab, line) in enumerate(self.entries)
                     if start <= ns < end and q.match(lab, line)]
        found.sort(key=lambda e: (e[0], e[1]), reverse=direction == "backward")
        found = found[:limit]
        streams = {}
        for ns, i, lab, line in found:
            streams.setdefault(labels_string(lab), (lab, []))[1].append([str(ns), line])
        body = {"status": "success",
                "data": {"resultType": "streams",
                         "result": [{"stream": lab, "values": vals}
                                    for lab, vals in streams.values()],
                         "stats": {"summary": {"totalEntriesReturned": len(found)}}}}
        self.query_answer(200, json.dumps(body, ensure_ascii=False).encode(),
                          "application/json; charset=UTF-8")

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
                    self.entries.append((ns, lab, line))
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
