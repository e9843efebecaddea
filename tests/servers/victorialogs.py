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

Querying follows the VictoriaLogs v1.x "Querying / HTTP API" docs
(https://docs.victoriametrics.com/victorialogs/querying/#querying-logs):
GET or POST (application/x-www-form-urlencoded) /select/logsql/query with
query, limit, start, end (end exclusive; RFC 3339 or Unix seconds).  The
answer is JSON lines, each row as VictoriaLogs writes it: _time in Go's
RFC3339Nano (trailing zeros dropped), _stream_id, _stream, _msg, then the
other fields by name.  Without limit rows come in stored order; with
limit=N the N with the largest _time, newest first (as
app/vlstorage/lastnoptimization.go sorts them).  The LogsQL subset
evaluated here, independently of logkit's own parser so that tests are
not circular: words, "phrases" and prefix* on _msg or field:, field:=exact,
*, {label="v"} / =~ / != / !~ and _stream:{...} stream filters (a missing
label is ""), _time:5m / _time:[t1, t2) (any brackets, partial times cover
their extent) / _time:>t (>=, <, <=), NOT / - / !, implicit or explicit
AND, and the pipes | limit N, | head N.  Anything else (OR, parentheses,
other pipes) and every syntax error answers 400 with a text body, the way
VictoriaLogs' httpserver.Errorf does ("remoteAddr: ...; requestURI: ...;
cannot parse query [q]: why"), so a query outside the subset fails loudly
instead of being answered wrongly.

This file also holds StrictServer, the machinery the Loki and
Elasticsearch servers share: free port written to --port-file, --fail-rate
(random 503/429/dropped connections, before anything is stored),
POST /_test/fail?status=&count=&retry_after= and /_test/drop?count= for
failures on demand (on query endpoints too), /_test/cut?count=&after=N (the
next answers stop after N lines and the connection drops, Content-Length
promising more), /_test/stall?count=&seconds=S (the next answers wait S
seconds before sending anything), /_test/pause?after=N&seconds=S (the next
answer sends N lines, waits, then the rest), /_test/garble?count= (the
next answers are 200 with a body that is not JSON), --lifetime (the
server exits on its own), and --requests (one JSON line per request:
method, path, headers that matter).
"""
import argparse, datetime, gzip, hashlib, json, os, random, re, socket, sys, threading, time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StrictServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    args = None
    fail_queue = []     # [(status, retry_after)] for the next requests
    drop_count = 0
    cut_queue = []      # [lines] for the next query answers
    stall_queue = []    # [seconds] for the next query answers
    pause_queue = []    # [(lines, seconds)] for the next query answers
    garble_count = 0
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
        elif u.path == "/_test/cut":
            with self.lock:
                StrictServer.cut_queue += [int(q.get("after", 0))] * int(q.get("count", 1))
            self.reply(200, "ok\n")
        elif u.path == "/_test/stall":
            with self.lock:
                StrictServer.stall_queue += [float(q.get("seconds", 5))] * int(q.get("count", 1))
            self.reply(200, "ok\n")
        elif u.path == "/_test/pause":
            with self.lock:
                StrictServer.pause_queue.append((int(q.get("after", 1)), float(q.get("seconds", 2))))
            self.reply(200, "ok\n")
        elif u.path == "/_test/garble":
            with self.lock:
                StrictServer.garble_count += int(q.get("count", 1))
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

    def query_answer(self, status, body, ctype):
        """Answer a query, honouring /_test/stall, cut, pause and garble."""
        cls = StrictServer
        with self.lock:
            stall = cls.stall_queue.pop(0) if cls.stall_queue else None
            cut = cls.cut_queue.pop(0) if cls.cut_queue else None
            pause = cls.pause_queue.pop(0) if cls.pause_queue else None
            garble = cls.garble_count > 0
            cls.garble_count -= garble
        if stall is not None:
            time.sleep(stall)
        if garble:
            body = b'{"_msg":"fine"}\n<html>502 Bad Gateway</html>\n'
        if pause is not None:
            lines = body.splitlines(keepends=True)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(b"".join(lines[:pause[0]]))
            self.wfile.flush()
            time.sleep(pause[1])
            self.wfile.write(b"".join(lines[pause[0]:]))
            return
        if cut is None:
            self.reply(status, body, ctype)
            return
        part = b"".join(body.splitlines(keepends=True)[:cut])
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) + 1))
        self.end_headers()
        self.wfile.write(part)
        self.wfile.flush()
        self.drop()


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


def rfc3339nano(ns):
    """Go's time.RFC3339Nano: the fraction without trailing zeros."""
    s, frac = divmod(ns, 1000000000)
    t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    f = ("%09d" % frac).rstrip("0")
    return t + ("." + f if f else "") + "Z"


class QueryError(Exception):
    pass


def parse_stream(text):
    """{a="x",b="y"} as stored -> dict."""
    labels, i, s = {}, 1, text
    while i < len(s) - 1:
        j = s.index("=", i)
        k = s[i:j]
        v, i = go_unquote(s, j + 1)
        labels[k] = v
        if i < len(s) and s[i] == ",":
            i += 1
    return labels


GO_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "a": "\a",
          "b": "\b", "f": "\f", "v": "\v", "`": "`"}


def go_unquote(s, i):
    """A Go quoted string at s[i] (", ' or `): (value, index after it)."""
    q = s[i]
    if q not in "\"'`":
        raise QueryError("expected a quoted string at %d" % i)
    j, out = i + 1, []
    while j < len(s) and s[j] != q:
        c = s[j]
        if c == "\\" and q != "`":
            j += 1
            if j >= len(s):
                break
            e = s[j]
            if e in GO_ESC:
                out.append(GO_ESC[e])
            elif e == "x":
                out.append(chr(int(s[j + 1:j + 3], 16)))
                j += 2
            elif e in "uU":
                n = 4 if e == "u" else 8
                out.append(chr(int(s[j + 1:j + 1 + n], 16)))
                j += n
            else:
                raise QueryError("unknown escape \\%s" % e)
        else:
            out.append(c)
        j += 1
    if j >= len(s):
        raise QueryError("missing closing %s" % q)
    return "".join(out), j + 1


WORD = re.compile(r"\w", re.UNICODE)


def is_word(c):
    return bool(WORD.match(c)) if c else False


def phrase_in(text, p, prefix):
    """VictoriaLogs phrase semantics: p at word boundaries where it has word chars."""
    if p == "":
        return prefix or text == ""
    sw, ew = is_word(p[0]), is_word(p[-1]) and not prefix
    i = text.find(p)
    while i >= 0:
        if not (sw and i > 0 and is_word(text[i - 1])) and \
           not (ew and i + len(p) < len(text) and is_word(text[i + len(p)])):
            return True
        i = text.find(p, i + 1)
    return False


DUR = re.compile(r"^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y))+$")
DUR_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)")
UNIT = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
        "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9, "y": 365 * 86400 * 10**9}
TIMEPOINT = re.compile(r"^(\d{4})-(\d\d)(?:-(\d\d)(?:[T ](\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?)?"
                       r"(Z|[+-]\d\d:\d\d)?$")


def time_point(v):
    """RFC 3339, maybe partial: (start ns, end ns of its extent)."""
    m = TIMEPOINT.match(v)
    if not m:
        try:
            x = float(v)
        except ValueError:
            raise QueryError("cannot parse time %r" % v)
        return int(x * 1e9), int(x * 1e9) + 1
    y, mo, d, h, mi, se, frac, tz = m.groups()
    parts = [int(y), int(mo), int(d or 1), int(h or 0), int(mi or 0), int(se or 0)]
    off = 0
    if tz and tz != "Z":
        off = (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * (1 if tz[0] == "+" else -1)
    t = datetime.datetime(*parts, tzinfo=datetime.timezone.utc)
    start = (int(t.timestamp()) - off) * 10**9 + int(((frac or "") + "000000000")[:9])
    if frac:
        ext = 1     # a fraction names an instant, as logkit's parser reads it
    elif se:
        ext = 10**9
    elif mi:
        ext = 60 * 10**9
    elif h:
        ext = 3600 * 10**9
    elif d:
        ext = 86400 * 10**9
    else:   # a month
        nm = datetime.datetime(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1,
                               tzinfo=datetime.timezone.utc)
        ext = (int(nm.timestamp()) - off) * 10**9 - start
    return start, start + ext


class LogsQL:
    """The subset listed in the header: a list of (negated, predicate) ANDed, and pipes."""

    def __init__(self, text, now):
        self.s, self.i, self.now = text, 0, now
        self.terms, self.limit = [], None
        self.parse()

    def err(self, why):
        raise QueryError(why)

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self):
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def bare(self):
        j = self.i
        while j < len(self.s) and not self.s[j].isspace() and self.s[j] not in "()|{},:\"'`*!":
            j += 1
        return self.s[self.i:j]

    def parse(self):
        if self.peek() == "":
            self.err("missing query")
        while self.peek() not in ("", "|"):
            self.terms.append(self.term())
        while self.peek() == "|":
            self.i += 1
            self.ws()
            w = self.bare()
            self.i += len(w)
            if w.lower() not in ("limit", "head"):
                self.err("unsupported pipe %r (this test server knows | limit N only)" % w)
            self.ws()
            n = self.bare()
            self.i += len(n)
            if not n.isdigit():
                self.err("cannot parse limit %r" % n)
            self.limit = int(n) if self.limit is None else min(self.limit, int(n))
        if self.peek():
            self.err("unexpected %r" % self.peek())

    def term(self):
        c = self.peek()
        w = self.bare()
        if c in "-!" or w.lower() == "not":
            self.i += 1 if c in "-!" else 3
            neg, pred = self.term()
            return (not neg, pred)
        if w.lower() == "and":
            self.i += 3
            return self.term()
        if w.lower() == "or" or c == "(":
            self.err("unsupported %r (this test server has no OR or parentheses)" % (w or c))
        if c == "{":
            return (False, self.stream())
        field = "_msg"
        if c in "\"'`":
            v, j = go_unquote(self.s, self.i)
            if j < len(self.s) and self.s[j] == ":":
                field, self.i = v, j + 1
        elif w and self.i + len(w) < len(self.s) and self.s[self.i + len(w)] == ":":
            field, self.i = w, self.i + len(w) + 1
        if field == "_stream" and self.peek() == "{":
            return (False, self.stream())
        if field == "_time":
            return (False, self.time())
        return (False, self.value(field))

    def value(self, field):
        exact = False
        if self.i < len(self.s) and self.s[self.i] == "=":
            exact, self.i = True, self.i + 1
        c = self.s[self.i] if self.i < len(self.s) else ""
        if c in "\"'`":
            v, self.i = go_unquote(self.s, self.i)
        elif c == "*":
            self.i += 1
            return lambda row: True
        else:
            v = self.bare()
            if not v:
                self.err("unexpected %r" % c)
            self.i += len(v)
        prefix = self.i < len(self.s) and self.s[self.i] == "*"
        if prefix:
            self.i += 1
        if exact:
            return lambda row: (row.get(field, "").startswith(v) if prefix else row.get(field, "") == v)
        return lambda row: phrase_in(row.get(field, ""), v, prefix)

    def stream(self):
        self.i += 1
        ms = []
        while self.peek() != "}":
            if self.peek() == "":
                self.err("missing '}'")
            self.ws()
            m = re.compile(r"[^\s=!~,}{]+").match(self.s, self.i)
            if not m:
                self.err("expected a label name")
            k, self.i = m.group(0), m.end()
            self.ws()
            op = next((o for o in ("=~", "!~", "!=", "=") if self.s.startswith(o, self.i)), None)
            if op is None:
                self.err("expected an operator after %r" % k)
            self.i += len(op)
            self.ws()
            v, self.i = go_unquote(self.s, self.i)
            ms.append((k, op, re.compile(v, re.S) if "~" in op else v))
            if self.peek() == ",":
                self.i += 1
        self.i += 1

        def pred(row):
            labels = parse_stream(row.get("_stream", "{}"))
            for k, op, v in ms:
                x = labels.get(k, "")
                ok = (x == v) if op in ("=", "!=") else bool(v.fullmatch(x))
                if ok != (op in ("=", "=~")):
                    return False
            return True
        return pred

    def time(self):
        c = self.s[self.i] if self.i < len(self.s) else ""
        if c in "[(":
            j = self.s.find(",", self.i)
            k = min(x for x in (self.s.find("]", j), self.s.find(")", j)) if x >= 0) if j >= 0 else -1
            if j < 0 or k < 0:
                self.err("cannot parse _time range")
            a, b = time_point(self.s[self.i + 1:j].strip()), time_point(self.s[j + 1:k].strip())
            lo = a[0] if c == "[" else a[1]
            hi = b[1] if self.s[k] == "]" else b[0]
            self.i = k + 1
        elif c in "<>":
            op = self.s[self.i:self.i + 2] if self.s[self.i + 1:self.i + 2] == "=" else c
            self.i += len(op)
            v = self.bare_time()
            a = time_point(v)
            lo, hi = {">": (a[1], 2**63), ">=": (a[0], 2**63), "<": (-2**63, a[0]),
                      "<=": (-2**63, a[1])}[op]
        else:
            v = self.bare_time()
            if DUR.match(v):
                d = sum(int(float(x) * UNIT[u]) for x, u in DUR_PART.findall(v))
                lo, hi = self.now - d, self.now + 1
            else:
                lo, hi = time_point(v)
        self.ws()
        if self.s.startswith("offset", self.i):
            self.err("unsupported _time offset")
        return lambda row: lo <= parse_time(row["_time"]) < hi

    def bare_time(self):
        j = self.i
        while j < len(self.s) and not self.s[j].isspace() and self.s[j] not in "()|":
            j += 1
        v, self.i = self.s[self.i:j], j
        if not v:
            self.err("missing time")
        return v

    def match(self, row):
        return all(pred(row) != neg for neg, pred in self.terms)


def vl_row(r):
    """A stored row as /select/logsql/query writes it."""
    out = {"_time": rfc3339nano(parse_time(r["_time"])),
           "_stream_id": "0000000000000000" + hashlib.md5(r.get("_stream", "{}").encode()).hexdigest(),
           "_stream": r.get("_stream", "{}")}
    if "_msg" in r:
        out["_msg"] = r["_msg"]
    for k in sorted(r):
        if k not in out:
            out[k] = r[k]
    return out


class VictoriaLogs(StrictServer):
    def handle_get(self, u):
        if u.path == "/health":
            self.reply(200, "OK")
        elif u.path == "/select/logsql/query":
            self.record_request(0)
            if not self.injected():
                self.select(u, dict(urllib.parse.parse_qsl(u.query)))
        else:
            self.reply(404, "not found\n")

    def select(self, u, args):
        def bad(why):
            self.reply(400, 'remoteAddr: "%s:%d"; requestURI: %s; %s\n'
                       % (self.client_address[0], self.client_address[1], u.path, why))
        text = args.get("query", "")
        try:
            q = LogsQL(text, time.time_ns())
        except (QueryError, re.error, ValueError) as e:
            return bad("cannot parse query [%s]: %s" % (text, e))
        try:
            limit = int(args["limit"]) if "limit" in args else 0
            start = time_point(args["start"])[0] if "start" in args else -2**63
            end = time_point(args["end"])[0] if "end" in args else 2**63
        except (QueryError, ValueError) as e:
            return bad("cannot parse args: %s" % e)
        if limit < 0:
            return bad("limit must be positive")
        rows = []
        with self.lock, open(self.args.store) as f:
            stored = [json.loads(x) for x in f if x.strip()]
        for r in stored:
            if start <= parse_time(r["_time"]) < end and q.match(r):
                rows.append(r)
        if q.limit is not None:
            rows = rows[:q.limit]
        if limit:
            rows.sort(key=lambda r: parse_time(r["_time"]), reverse=True)
            rows = rows[:limit]
        body = "".join(json.dumps(vl_row(r), ensure_ascii=False, separators=(",", ":")) + "\n"
                       for r in rows)
        self.query_answer(200, body.encode(), "application/stream+json")

    def handle_post(self, u, q, body):
        if u.path == "/select/logsql/query":
            ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            args = dict(q)
            if ct == "application/x-www-form-urlencoded":
                args.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            self.select(u, args)
            return
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
