#!/usr/bin/env python3
"""elasticsearch.py: a strict Elasticsearch _bulk test server for logpush's tests.

Follows the Elasticsearch 8.13 "Bulk API" reference
(https://www.elastic.co/guide/en/elasticsearch/reference/8.13/docs-bulk.html):
POST /_bulk or /<index>/_bulk, Content-Type application/x-ndjson (or
application/json), Content-Encoding gzip accepted, NDJSON pairs of an
action line ({"create"|"index":{"_index":..}}, {"delete":..}, {"update":..})
and a source line; the body must end with a newline.  Malformed requests
answer 400 as a whole ({"error":{"type":"illegal_argument_exception",..}});
otherwise 200 with one item per action.  Like dynamic mapping, the first
document to carry a field fixes its kind per index: a later non-numeric
string for a numeric field, or an object for a scalar, fails that item
with 400 document_parsing_exception, the other items are stored.
POST /_test/item_fail?status=429&count=N fails the next N items (es_rejected_
execution_exception).  GET /_cluster/health is green.  Failures on demand:
see victorialogs.py.
"""
import json, os, sys, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from victorialogs import StrictServer, main  # noqa: E402


def kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, dict):
        return "object"
    return "string"


def numeric(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


class Elastic(StrictServer):
    mapping = {}
    item_fail = []
    seq = 0

    def handle_get(self, u):
        if u.path == "/_cluster/health":
            self.reply(200, '{"cluster_name":"test","status":"green"}', "application/json")
        else:
            self.reply(404, '{"error":"no handler"}', "application/json")

    def control(self, u):
        if u.path == "/_test/item_fail":
            q = dict(urllib.parse.parse_qsl(u.query))
            with self.lock:
                Elastic.item_fail += [int(q.get("status", 429))] * int(q.get("count", 1))
            self.reply(200, "ok\n")
        else:
            super().control(u)

    def bad(self, why):
        self.reply(400, json.dumps({"error": {"type": "illegal_argument_exception", "reason": why},
                                    "status": 400}), "application/json")

    def check(self, index, doc):
        m = self.mapping.setdefault(index, {})
        for k, v in doc.items():
            have = m.get(k)
            if have is None:
                m[k] = kind(v)
            elif have != kind(v) and not (have == "number" and kind(v) == "string" and numeric(v)) \
                    and not (have == "string" and kind(v) in ("number", "boolean")):
                return ("failed to parse field [%s] of type [%s] in document" % (k, have))
        return None

    def handle_post(self, u, q, body):
        parts = [p for p in u.path.split("/") if p]
        if not parts or parts[-1] != "_bulk" or len(parts) > 2:
            self.reply(404, '{"error":"no handler found for uri"}', "application/json")
            return
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct not in ("application/x-ndjson", "application/json"):
            self.reply(406, json.dumps({"error": "Content-Type header [%s] is not supported" % ct,
                                        "status": 406}), "application/json")
            return
        if not body.endswith(b"\n"):
            self.bad("The bulk request must be terminated by a newline [\\n]")
            return
        lines = body.split(b"\n")[:-1]
        ops, i = [], 0
        try:
            while i < len(lines):
                act = json.loads(lines[i])
                if not isinstance(act, dict) or len(act) != 1:
                    raise ValueError("Malformed action/metadata line [%d]" % (i + 1))
                op, meta = next(iter(act.items()))
                if op not in ("create", "index", "update", "delete") or not isinstance(meta, dict):
                    raise ValueError("Malformed action/metadata line [%d]" % (i + 1))
                index = meta.get("_index") or (parts[0] if len(parts) == 2 else None)
                if not index:
                    raise ValueError("index is missing")
                doc = None
                if op != "delete":
                    if i + 1 >= len(lines):
                        raise ValueError("source is missing")
                    doc = json.loads(lines[i + 1])
                    if not isinstance(doc, dict):
                        raise ValueError("source is not an object")
                    i += 1
                ops.append((op, index, doc))
                i += 1
        except ValueError as e:
            self.bad(str(e))
            return
        items, rows, errors = [], [], False
        with self.lock:
            for op, index, doc in ops:
                Elastic.seq += 1
                res = {"_index": index, "_id": str(Elastic.seq)}
                if Elastic.item_fail:
                    st = Elastic.item_fail.pop(0)
                    res.update(status=st, error={"type": "es_rejected_execution_exception",
                                                 "reason": "rejected execution"})
                    errors = True
                elif op in ("create", "index"):
                    why = self.check(index, doc)
                    if why:
                        res.update(status=400, error={"type": "document_parsing_exception",
                                                      "reason": why})
                        errors = True
                    else:
                        res.update(status=201, result="created")
                        rows.append(dict(doc, _index=index))
                else:
                    res.update(status=404, result="not_found")
                items.append({op: res})
        self.store(rows)
        self.reply(200, json.dumps({"took": 1, "errors": errors, "items": items}), "application/json")


if __name__ == "__main__":
    main(Elastic)
