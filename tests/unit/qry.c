/* qry.c: table tests of the LogsQL parser (canonical form, 100+ malformed queries), matcher, push-down and pipes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/qry.h"
#include "../../common/rec.h"
#include "../../common/sb.h"
#include "../../common/ts.h"
#include "t.h"

static const char *REC =
    "{\"_time\":\"2025-05-17T04:44:30.000000000Z\","
    "\"_stream\":\"{run_id=\\\"R\\\",stream=\\\"events\\\"}\","
    "\"_msg\":\"Disk error on node-3: /dev/sda1 failed, errors=42\","
    "\"severity\":\"ERROR\",\"type\":\"disk\",\"latency\":250.5,\"code\":404,"
    "\"event_id\":\"ee0368b3-0b89-4cb1-835d-29460f349bef\",\"empty\":\"\","
    "\"k8s\":{\"pod\":\"api-7\"},\"ok\":false,\"mot\":\"Ünïcode straße\"}";

struct mc {
	const char *q;
	int want;
};

static const struct mc matches[] = {
	{ "error", 1 }, { "errors", 1 }, { "erro", 0 }, { "Error", 0 }, { "i(error)", 1 },
	{ "i(DISK)", 1 }, { "disk", 0 }, { "Disk", 1 }, { "node", 1 }, { "3", 1 },
	{ "node-3", 1 }, { "\"node-3:\"", 1 }, { "\"error on\"", 1 }, { "\"error  on\"", 0 },
	{ "err*", 1 }, { "xyz*", 0 }, { "\"disk err\"*", 0 }, { "\"Disk err\"*", 1 },
	{ "sda1", 1 }, { "sda", 0 }, { "sda*", 1 }, { "/dev/sda1", 1 }, { "dev/sd", 0 },
	{ "42", 1 }, { "4", 0 }, { "*", 1 }, { "severity:ERROR", 1 }, { "severity:error", 0 },
	{ "severity:i(error)", 1 }, { "severity:=ERROR", 1 }, { "severity:=ERR", 0 },
	{ "severity:=ERR*", 1 }, { "severity:=\"ERR\"*", 1 }, { "type:in(net, disk)", 1 },
	{ "type:in(net, dis)", 0 }, { "type:in()", 0 }, { "latency:>250", 1 }, { "latency:>250.5", 0 },
	{ "latency:>=250.5", 1 }, { "latency:<251", 1 }, { "latency:<=250", 0 },
	{ "latency:range[250, 251)", 1 }, { "latency:range(250.5, 251)", 0 },
	{ "latency:range[250.5, 250.5]", 1 }, { "code:404", 1 }, { "code:>403", 1 },
	{ "code:range(-inf, inf)", 1 }, { "type:>1", 0 }, { "event_id:=\"ee0368b3-0b89-4cb1-835d-29460f349bef\"", 1 },
	{ "event_id:ee0368b3", 1 }, { "event_id:0b89", 1 }, { "event_id:0b8", 0 },
	{ "type:*", 1 }, { "missing:*", 0 }, { "empty:*", 0 }, { "empty:\"\"", 1 },
	{ "missing:\"\"", 1 }, { "type:\"\"", 0 }, { "type:~\"^di\"", 1 }, { "type:~\"^isk\"", 0 },
	{ "~\"sda[0-9]\"", 1 }, { "_msg:~\"(?i)DISK ERROR\"", 1 }, { "missing:~\"^$\"", 1 },
	{ "k8s.pod:api-7", 1 }, { "k8s.pod:=\"api-7\"", 1 }, { "k8s:api", 0 }, { "ok:false", 1 },
	{ "mot:straße", 1 }, { "mot:i(ÜNÏCODE)", 1 }, { "mot:Ünïcode", 1 }, { "mot:Ün", 0 },
	{ "{stream=\"events\"}", 1 }, { "{stream=\"action\"}", 0 }, { "{stream=\"events\", run_id=\"R\"}", 1 },
	{ "{stream=~\"ev.*\"}", 1 }, { "{stream=~\"ev\"}", 0 }, { "{stream!=\"events\"}", 0 },
	{ "{stream!~\"a.*\"}", 1 }, { "{nolabel=\"\"}", 1 }, { "_stream:{run_id=\"R\"}", 1 },
	{ "{}", 1 },
	{ "_time:[2025-05-17T04:44:00Z, 2025-05-17T04:45:00Z]", 1 },
	{ "_time:[2025-05-17T04:44:30Z, 2025-05-17T04:45:00Z)", 1 },
	{ "_time:(2025-05-17T04:44:30Z, 2025-05-17T04:45:00Z)", 0 },
	{ "_time:[2025-05-17T04:40:00Z, 2025-05-17T04:44:30Z)", 0 },
	{ "_time:[2025-05-17T04:40:00Z, 2025-05-17T04:44:30Z]", 1 },
	{ "_time:2025-05-17", 1 }, { "_time:2025-05-16", 0 }, { "_time:2025-05", 1 },
	{ "_time:2025", 1 }, { "_time:2025-05-17T04", 1 }, { "_time:2025-05-17T04:44Z", 1 },
	{ "_time:2025-05-17T04:45", 0 }, { "_time:>2025-05-17T04:44:29Z", 1 },
	{ "_time:>2025-05-17T04:44:30Z", 0 }, { "_time:>=2025-05-17T04:44:30Z", 1 },
	{ "_time:<2025-05-17T04:44:30Z", 0 }, { "_time:<=2025-05-17T04:44:30Z", 1 },
	{ "_time:[2025-05-17, 2025-05-17]", 1 }, { "_time:5m", 1 }, { "_time:10s", 0 },
	{ "_time:1m offset 1m", 0 }, { "_time:5m offset 1m", 1 },
	{ "disk error", 0 }, { "Disk error", 1 }, { "Disk AND error", 1 }, { "Disk and error", 1 },
	{ "nothere OR error", 1 }, { "nothere or nothat", 0 }, { "NOT error", 0 }, { "not error", 0 },
	{ "-error", 0 }, { "!error", 0 }, { "-nothere", 1 }, { "NOT NOT error", 1 },
	{ "nothere error OR Disk", 1 }, { "nothere (error OR Disk)", 0 },
	{ "error -Disk OR nothere", 0 }, { "severity:(ERROR OR WARN)", 1 },
	{ "severity:(WARN OR INFO)", 0 }, { "type:(disk -net)", 1 }, { "\"_msg\":error", 1 },
	{ "\"sev\\x65rity\":ERROR", 1 }, { "'node-3'", 1 }, { "`/dev/sda1`", 1 },
	{ "\"\\u00dcn\"", 0 }, { "mot:\"\\u00dcn\\u00efcode\"", 1 },
};

struct fc {
	const char *q;
	const char *want;
};

static const struct fc formats[] = {
	{ "a b OR c", "((_msg:\"a\" AND _msg:\"b\") OR _msg:\"c\")" },
	{ "a OR b c", "(_msg:\"a\" OR (_msg:\"b\" AND _msg:\"c\"))" },
	{ "NOT a b", "(NOT _msg:\"a\" AND _msg:\"b\")" },
	{ "-(a OR b)", "NOT (_msg:\"a\" OR _msg:\"b\")" },
	{ "f:(a OR b)", "(f:\"a\" OR f:\"b\")" },
	{ "foo-bar", "_msg:\"foo-bar\"" },
	{ "f:x* | limit 5", "f:\"x\"* | limit 5" },
	{ "* | stats by (a, _time:1h) count() n, sum(x)",
	  "* | stats by (a, _time:3600000000000ns) count(*) as n, sum(x) as sum(x)" },
	{ "* | sort by (a desc, b) limit 3", "* | sort by (a desc, b) limit 3" },
	{ "* | head", "* | limit 10" },
	/* an escape takes its characters only, not the next one */
	{ "\"tab\\there\" 'a\\\"b' \"\\x41B\"", "(_msg:\"tab\\x09here\" AND _msg:\"a\\\"b\" AND _msg:\"AB\")" },
	{ "x:>5", "x:range(5, +Inf]" },
	{ "_time:[2025-05-17,2025-05-18)",
	  "_time:[2025-05-17T00:00:00.000000000Z, 2025-05-17T23:59:59.999999999Z]" },
};

/* Malformed queries: each must fail with a message and a position. */
static const char *bad[] = {
	"", " ", "\t\n", "(", ")", "()", "(a", "a)", "((a)", "a OR", "OR a", "a AND", "AND a",
	"NOT", "a NOT", "-", "!", "a -", "|", "| limit 1", "a |", "a | ", "a | nope",
	"a | limit", "a | limit x", "a | limit -1", "a | limit 1x", "a | offset",
	"a | offset z", "a | sort", "a | sort by", "a | sort by (", "a | sort by (a",
	"a | sort by a", "a | sort by (a) limit", "a | sort by (a) limit q", "a | fields",
	"a | fields ,", "a | fields a,", "a | delete", "a | stats", "a | stats nope()",
	"a | stats count(", "a | stats count() as", "a | stats sum()", "a | stats sum(x",
	"a | stats quantile(x)", "a | stats quantile(1.5, x)", "a | stats quantile(0.5 x)",
	"a | stats by (a count()", "a | stats by a count()", "a | stats by (_time:xx) count()",
	"a | stats by (n:0) count()", "a | stats by (n:) count()", "a | stats count(),",
	"a | top", "a | top 3", "a | top 3 by", "a | uniq", "a | uniq by", "a | uniq by (a) limit",
	"a | filter", "a | filter (", "a | filter b)", "a | limit 1 extra", "\"abc", "'abc",
	"`abc", "\"a\\q\"", "\"\\x4\"", "\"\\u12\"", "\"\\ud800\"", "f:", "f: x", ":x",
	"f:~", "f:~\"(\"", "f:~\"[a-\"", "f:~\"a{2,1}\"", "f:=", "f:in(", "f:in(a",
	"f:in(a,", "f:in(a b)", "f:range(1", "f:range[", "f:range[1", "f:range[1,",
	"f:range[1,2", "f:range[a,2]", "f:range[1,b)", "f:range[1;2]", "f:>", "f:>x",
	"f:<=", "f:>=abc", "f:i(", "f:i(a", "f:i()", "f:foo(x)", "i(", "i(a b)",
	"{", "{a", "{a=", "{a=\"x\"", "{a=\"x\",", "{a=x}", "{a:\"x\"}", "{=\"x\"}",
	"{a=~\"(\"}", "{a==\"x\"}", "_stream:{", "_time:", "_time:xyz", "_time:5q",
	"_time:[", "_time:[2025-05-17", "_time:[2025-05-17,", "_time:[2025-05-17,x]",
	"_time:[x,2025-05-17]", "_time:[2025-05-17,2025-05-18", "_time:>", "_time:>x",
	"_time:<2025-13-01", "_time:1h offset", "_time:1h offset x", "a\001b\0c",
	"a )", "a ]", "a }", "a ,", "f:(a", "f:(a OR)", "((((((((((", "a | stats count() as n,",
	"a | sort by (a) desc limit", "a | fields a b",
};

static int
collect(void *arg, struct json_object *rec)
{
	struct sb *out = arg;

	return rec_write(out, rec) < 0 ? -1 : 0;
}

static const char *
run(const char *query, const char **recs, size_t n, struct sb *out)
{
	struct qry_err e;
	struct qry *q = qry_parse(query, strlen(query), &e);
	struct qry_run *r;

	sb_reset(out);
	if (q == NULL)
		return "(parse error)";
	r = qry_run_new(q, collect, out);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(recs[i]);

		if (qry_run_push(r, o) != 0) {
			json_object_put(o);
			break;
		}
		json_object_put(o);
	}
	qry_run_finish(r);
	qry_run_free(r);
	qry_free(q);
	return out->buf ? out->buf : "";
}

static int
bloom(void *ctx, const char *field, const char *tok, size_t n)
{
	(void)ctx;
	/* the block holds the words "disk" and "error" in _msg, "ERROR" in severity */
	if (strcmp(field, "_msg") == 0)
		return (n == 4 && !memcmp(tok, "disk", 4)) || (n == 5 && !memcmp(tok, "error", 5));
	if (strcmp(field, "severity") == 0)
		return n == 5 && !memcmp(tok, "ERROR", 5);
	return 0;
}

static int
hasf(void *ctx, const char *field)
{
	(void)ctx;
	return strcmp(field, "_msg") == 0 || strcmp(field, "severity") == 0 ||
	    strcmp(field, "n") == 0;
}

static int
nrange(void *ctx, const char *field, double *min, double *max)
{
	(void)ctx;
	if (strcmp(field, "n") != 0)
		return 0;
	*min = 10;
	*max = 20;
	return 1;
}

int
main(void)
{
	struct json_object *rec = json_tokener_parse(REC);
	struct qry_err e;
	struct sb s = SB_INIT;
	int64_t now, lo, hi;
	char buf[300];

	ok(rec != NULL, "fixture record parses");
	ts_parse_iso("2025-05-17T04:47:00Z", 20, &now);
	for (size_t i = 0; i < sizeof(matches) / sizeof(*matches); i++) {
		struct qry *q = qry_parse(matches[i].q, strlen(matches[i].q), &e);

		if (q == NULL) {
			qry_err_format(&e, buf, sizeof(buf));
			ok(0, "match %s: parse: %s", matches[i].q, buf);
			continue;
		}
		qry_set_now(q, now);
		ok(qry_match(q, rec) == matches[i].want, "match %s -> %d", matches[i].q, matches[i].want);
		qry_free(q);
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
		struct qry *q = qry_parse(formats[i].q, strlen(formats[i].q), &e);

		sb_reset(&s);
		if (q)
			qry_format(q, &s);
		is_str(q ? s.buf : "(parse error)", formats[i].want, "format %s", formats[i].q);
		qry_free(q);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		size_t n = strlen(bad[i]);
		struct qry *q;

		if (strcmp(bad[i], "a\001b\0c") == 0)
			n = 5;
		q = qry_parse(bad[i], n, &e);
		ok(q == NULL && e.msg[0] && e.line >= 1 && e.col >= 1 && (size_t)e.col <= n + 1,
		    "malformed %zu refused: %d:%d: %s", i, e.line, e.col, q ? "(accepted)" : e.msg);
		qry_free(q);
	}
	ok(sizeof(bad) / sizeof(*bad) >= 100, "at least 100 malformed queries (%zu)",
	    sizeof(bad) / sizeof(*bad));
	{
		struct qry *q = qry_parse("foo (bar OR baz", 15, &e);

		qry_err_format(&e, buf, sizeof(buf));
		is_str(q ? "accepted" : buf, "query:1:16: unexpected end of query, expected ')'",
		    "error names the position");
		q = qry_parse("a\n  | nope", 10, &e);
		qry_err_format(&e, buf, sizeof(buf));
		is_str(q ? "accepted" : buf, "query:2:5: unknown pipe 'nope'", "line and column");
	}

	/* push-down */
	{
		struct qry_block b = { 0, 0, NULL, NULL, bloom, hasf, nrange };
		struct st_labels l = { 0 };
		static const struct { const char *q; int want; enum qry_skip why; } bl[] = {
			{ "disk", 1, 0 }, { "net", 0, QRY_SKIP_TOKEN }, { "\"disk error\"", 1, 0 },
			{ "\"disk failed\"", 0, QRY_SKIP_TOKEN }, { "disk net", 0, QRY_SKIP_TOKEN },
			{ "disk OR net", 1, 0 }, { "net OR foo", 0, QRY_SKIP_TOKEN }, { "-net", 1, 0 },
			{ "NOT disk", 1, 0 }, { "di*", 1, 0 }, { "\"disk ne\"*", 1, 0 },
			{ "\"disk net \"*", 0, QRY_SKIP_TOKEN }, { "i(NET)", 1, 0 }, { "~\"net\"", 1, 0 },
			{ "severity:ERROR", 1, 0 }, { "severity:WARN", 0, QRY_SKIP_TOKEN },
			{ "severity:=ERROR", 1, 0 }, { "severity:in(WARN, ERROR)", 1, 0 },
			{ "severity:in(WARN, INFO)", 0, QRY_SKIP_TOKEN }, { "other:x", 0, QRY_SKIP_FIELD },
			{ "other:*", 0, QRY_SKIP_FIELD }, { "other:\"\"", 1, 0 }, { "n:>25", 0, QRY_SKIP_RANGE },
			{ "n:range[20, 30]", 1, 0 }, { "n:range(20, 30]", 0, QRY_SKIP_RANGE }, { "n:<10", 0, QRY_SKIP_RANGE },
			{ "{s=\"a\"}", 1, 0 }, { "{s=\"b\"}", 0, QRY_SKIP_STREAM }, { "-{s=\"a\"}", 0, QRY_SKIP_STREAM },
			{ "{s=\"b\"} OR disk", 1, 0 }, { "_time:[1970-01-01T00:00:01Z, 1970-01-01T00:00:02Z]", 1, 0 },
			{ "_time:>1970-01-01T00:00:03Z", 0, QRY_SKIP_TIME }, { "NOT _time:<1970-01-01T00:00:10Z", 0, QRY_SKIP_TIME },
		};

		b.tmin = 1000000000;
		b.tmax = 2000000000;
		st_set(&l, "s", "a", 1);
		b.stream = &l;
		for (size_t i = 0; i < sizeof(bl) / sizeof(*bl); i++) {
			struct qry *q = qry_parse(bl[i].q, strlen(bl[i].q), &e);
			enum qry_skip why = 99;

			ok(q && qry_block_may_match(q, &b, &why) == bl[i].want &&
			    (bl[i].want || why == bl[i].why), "block %s -> %d (why %d)", bl[i].q,
			    bl[i].want, (int)why);
			qry_free(q);
		}
		{
			/* three-valued: 2 when every record of the block matches */
			static const struct { const char *q; int want; } jt[] = {
				{ "*", 2 }, { "disk", 1 }, { "net", 0 }, { "-net", 2 }, { "{s=\"a\"}", 2 },
				{ "{s=\"a\"} _time:>1970-01-01T00:00:00Z", 2 }, { "{s=\"a\"} disk", 1 },
				{ "_time:>1970-01-01T00:00:01.5Z", 1 }, { "other:\"\"", 2 },
				{ "{s=\"b\"} OR *", 2 }, { "NOT {s=\"b\"}", 2 }, { "n:>25", 0 },
			};

			for (size_t i = 0; i < sizeof(jt) / sizeof(*jt); i++) {
				struct qry *q = qry_parse(jt[i].q, strlen(jt[i].q), &e);

				ok(q && qry_block_judge(q, &b, NULL) == jt[i].want, "judge %s -> %d",
				    jt[i].q, jt[i].want);
				qry_free(q);
			}
		}
		{
			struct qry *q = qry_parse("{s=\"a\"} OR {s=~\"c.*\"}", 21, &e);
			struct st_labels m = { 0 };

			ok(q && qry_stream_may_match(q, &l), "stream a may match");
			st_set(&m, "s", "cx", 2);
			ok(q && qry_stream_may_match(q, &m), "stream cx may match");
			st_set(&m, "s", "d", 1);
			ok(q && !qry_stream_may_match(q, &m), "stream d cannot");
			st_free(&m);
			qry_free(q);
		}
		st_free(&l);
	}
	{
		struct qry *q = qry_parse("_time:[2025-05-17, 2025-05-18) x OR _time:2025-05-20", 52, &e);

		ok(q && qry_time_bounds(q, &lo, &hi), "time bounds");
		ts_format(lo, buf);
		is_str(buf, "2025-05-17T00:00:00.000000000Z", "time bounds min");
		ts_format(hi, buf);
		is_str(buf, "2025-05-20T23:59:59.999999999Z", "time bounds max");
		qry_free(q);
		q = qry_parse("_time:2025-05-17 _time:2025-05-19", 33, &e);
		ok(q && !qry_time_bounds(q, &lo, &hi), "disjoint time bounds are empty");
		qry_free(q);
	}
	{
		struct qry *q;
		int all;
		const char *const *names;
		size_t n;

		q = qry_parse("error", 5, &e);
		qry_fields(q, &all, &names, &n);
		ok(all == 1, "a plain filter reads all fields");
		qry_free(q);
		q = qry_parse("x:1 | stats by (t) sum(v)", 25, &e);
		qry_fields(q, &all, &names, &n);
		ok(all == 0 && n == 3 && !strcmp(names[0], "t") && !strcmp(names[1], "v") &&
		    !strcmp(names[2], "x"), "stats reads its fields and the filter's");
		qry_free(q);
	}

	/* weighted runs: which pipelines take them, and the same answers */
	{
		static const struct { const char *q; int want; const char *names; } wt[] = {
			{ "* | stats count()", 1, "" }, { "x | stats by (g) count(), count_uniq(u)", 1, "g,u" },
			{ "* | stats by (g) min(n), max(n), quantile(0.5, n) | sort by (g)", 1, "g,n" },
			{ "* | stats sum(n)", 0, NULL }, { "* | stats avg(n)", 0, NULL }, { "*", 0, NULL },
			{ "* | limit 1 | stats count()", 0, NULL },
		};
		const char *const *names;
		size_t n;

		for (size_t i = 0; i < sizeof(wt) / sizeof(*wt); i++) {
			struct qry *q = qry_parse(wt[i].q, strlen(wt[i].q), &e);
			struct sb l = SB_INIT;
			int w = q ? qry_run_weighted(q, &names, &n) : -1;

			for (size_t k = 0; w == 1 && k < n; k++)
				sb_addf(&l, "%s%s", k ? "," : "", names[k]);
			ok(w == wt[i].want && (w == 0 || !strcmp(l.buf ? l.buf : "", wt[i].names)),
			    "weighted %s -> %d (%s)", wt[i].q, w, l.buf ? l.buf : "");
			sb_free(&l);
			qry_free(q);
		}
	}
	{
		/* 3 x {g:a,n:1} and 1 x {g:b,n:5}, weighted and one by one */
		static const char *q1 = "g:* | stats by (g) count() c, min(n), max(n), quantile(0.5, n) q, count_uniq(n) u";
		struct sb one = SB_INIT, wtd = SB_INIT;
		struct json_object *a = json_tokener_parse("{\"g\":\"a\",\"n\":\"1\"}");
		struct json_object *bb = json_tokener_parse("{\"g\":\"b\",\"n\":\"5\"}");
		struct json_object *none = json_tokener_parse("{\"n\":\"7\"}");
		struct qry *q = qry_parse(q1, strlen(q1), &e);
		struct qry_run *r = qry_run_new(q, collect, &one);

		for (int k = 0; k < 3; k++)
			qry_run_push(r, a);
		qry_run_push(r, bb);
		qry_run_push(r, none);
		qry_run_finish(r);
		qry_run_free(r);
		r = qry_run_new(q, collect, &wtd);
		qry_run_push_n(r, a, 3, 1);
		qry_run_push_n(r, bb, 1, 0);
		qry_run_push_n(r, none, 4, 0);
		qry_run_finish(r);
		{
			struct qry_run_stats rs;

			qry_run_get_stats(r, &rs);
			ok(rs.pushed == 8 && rs.matched == 4, "weighted counters %llu %llu",
			    rs.pushed, rs.matched);
		}
		qry_run_free(r);
		is_str(wtd.buf, one.buf, "weighted stats equal one by one");
		is_str(wtd.buf, "{\"g\":\"a\",\"c\":\"3\",\"min(n)\":\"1\",\"max(n)\":\"1\",\"q\":\"1\",\"u\":\"1\"}\n"
		    "{\"g\":\"b\",\"c\":\"1\",\"min(n)\":\"5\",\"max(n)\":\"5\",\"q\":\"5\",\"u\":\"1\"}\n", "weighted stats");
		qry_free(q);
		json_object_put(a);
		json_object_put(bb);
		json_object_put(none);
		sb_free(&one);
		sb_free(&wtd);
	}

	/* pipes */
	{
		static const char *recs[] = {
			"{\"_msg\":\"a\",\"n\":3,\"g\":\"x\",\"_time\":\"2025-05-17T04:44:01Z\"}",
			"{\"_msg\":\"b\",\"n\":10,\"g\":\"y\",\"_time\":\"2025-05-17T04:44:59Z\"}",
			"{\"_msg\":\"c\",\"n\":2,\"g\":\"x\",\"_time\":\"2025-05-17T04:45:00Z\"}",
			"{\"_msg\":\"d\",\"n\":\"n/a\",\"g\":\"z\",\"_time\":\"2025-05-17T04:46:30Z\"}",
			"{\"_msg\":\"e\",\"g\":\"x\",\"_time\":\"2025-05-17T04:46:31Z\",\"o\":{\"p\":1}}",
		};
		static const struct fc pc[] = {
			{ "* | limit 2 | fields _msg", "{\"_msg\":\"a\"}\n{\"_msg\":\"b\"}\n" },
			{ "* | offset 3 | fields _msg", "{\"_msg\":\"d\"}\n{\"_msg\":\"e\"}\n" },
			{ "* | sort by (n) | fields _msg", "{\"_msg\":\"e\"}\n{\"_msg\":\"c\"}\n{\"_msg\":\"a\"}\n{\"_msg\":\"b\"}\n{\"_msg\":\"d\"}\n" },
			{ "* | sort by (n desc) limit 2 | fields _msg", "{\"_msg\":\"d\"}\n{\"_msg\":\"b\"}\n" },
			{ "* | sort by (n) desc offset 1 limit 2 | fields _msg", "{\"_msg\":\"b\"}\n{\"_msg\":\"a\"}\n" },
			{ "* | sort by (g, _msg desc) | fields _msg | limit 3", "{\"_msg\":\"e\"}\n{\"_msg\":\"c\"}\n{\"_msg\":\"a\"}\n" },
			{ "* | stats count() as c, sum(n) s, avg(n), min(n), max(n), count_uniq(g), count(n)",
			  "{\"c\":\"5\",\"s\":\"15\",\"avg(n)\":\"5\",\"min(n)\":\"2\",\"max(n)\":\"10\",\"count_uniq(g)\":\"3\",\"count(n)\":\"4\"}\n" },
			{ "* | stats by (g) count()", "{\"g\":\"x\",\"count(*)\":\"3\"}\n{\"g\":\"y\",\"count(*)\":\"1\"}\n{\"g\":\"z\",\"count(*)\":\"1\"}\n" },
			{ "* | stats by (_time:1m) count() n", "{\"_time\":\"2025-05-17T04:44:00.000000000Z\",\"n\":\"2\"}\n{\"_time\":\"2025-05-17T04:45:00.000000000Z\",\"n\":\"1\"}\n{\"_time\":\"2025-05-17T04:46:00.000000000Z\",\"n\":\"2\"}\n" },
			{ "* | stats by (n:5) count() c", "{\"n\":\"\",\"c\":\"1\"}\n{\"n\":\"0\",\"c\":\"2\"}\n{\"n\":\"10\",\"c\":\"1\"}\n{\"n\":\"n/a\",\"c\":\"1\"}\n" },
			{ "* | stats quantile(0.5, n) p50, quantile(1, n) p100, quantile(0, n) p0", "{\"p50\":\"3\",\"p100\":\"10\",\"p0\":\"2\"}\n" },
			{ "nothing | stats count()", "{\"count(*)\":\"0\"}\n" },
			{ "nothing | stats by (g) count()", "" },
			{ "* | top 2 by (g)", "{\"g\":\"x\",\"hits\":\"3\"}\n{\"g\":\"y\",\"hits\":\"1\"}\n" },
			{ "* | uniq by (g)", "{\"g\":\"x\"}\n{\"g\":\"y\"}\n{\"g\":\"z\"}\n" },
			{ "* | uniq by (g) limit 1", "{\"g\":\"x\"}\n" },
			{ "* | filter g:x | fields _msg, o.p", "{\"_msg\":\"a\"}\n{\"_msg\":\"c\"}\n{\"_msg\":\"e\",\"o.p\":\"1\"}\n" },
			{ "* | delete _time, g, n | limit 1", "{\"_msg\":\"a\"}\n" },
			{ "* | stats by (g) count() c | filter c:>1", "{\"g\":\"x\",\"c\":\"3\"}\n" },
			{ "* | limit 1 | sort by (_msg) | fields _msg", "{\"_msg\":\"a\"}\n" },
			{ "* | stats by (g) count() c | sort by (c desc, g) | limit 1", "{\"g\":\"x\",\"c\":\"3\"}\n" },
			{ "g:x | stats sum(n) s, min(_msg), max(_msg)", "{\"s\":\"5\",\"min(_msg)\":\"a\",\"max(_msg)\":\"e\"}\n" },
		};

		for (size_t i = 0; i < sizeof(pc) / sizeof(*pc); i++)
			is_str(run(pc[i].q, recs, 5, &s), pc[i].want, "pipe %s", pc[i].q);
	}
	{
		struct json_object *f = qry_flatten(rec);

		sb_reset(&s);
		rec_write(&s, f);
		ok(strstr(s.buf, "\"k8s.pod\":\"api-7\"") && strstr(s.buf, "\"latency\":\"250.5\"") &&
		    strstr(s.buf, "\"ok\":\"false\""), "flatten: dotted names, values as strings");
		json_object_put(f);
	}
	sb_free(&s);
	json_object_put(rec);
	return t_done();
}
