/* arule.c: logalert's rules files: what parses, every kind of mistake with its line, templates, durations; jv_object_field. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/arule.h"
#include "../../common/jv.h"
#include "t.h"

static struct sb errs;

static size_t
parse(struct ar_set *rs, const char *text)
{
	sb_reset(&errs);
	memset(rs, 0, sizeof(*rs));
	return ar_parse(rs, text, strlen(text), "r.conf", &errs);
}

/* The errors of text, as one string. */
static const char *
errors(const char *text)
{
	struct ar_set rs;

	parse(&rs, text);
	ar_free(&rs);
	return errs.buf ? errs.buf : "";
}

static const char *
look(void *ctx, const char *name, size_t n, size_t *len)
{
	(void)ctx;
	if (n == 4 && memcmp(name, "host", 4) == 0) {
		*len = 3;
		return "db1";
	}
	if (n == 6 && memcmp(name, "$count", 6) == 0) {
		*len = 1;
		return "7";
	}
	return NULL;
}

int
main(void)
{
	struct ar_set rs;
	struct sb out = SB_INIT;
	char d[64];
	const char *v;
	size_t vn;

	ok(parse(&rs, "# c\n[db-errors]\nquery = severity:ERROR | stats by (host) count()\n"
	    "threshold = 3\nwindow = 2m\ncooldown = 1m\nseverity = HIGH\n"
	    "labels = team=db, env=\"prod, eu\"\nlabel.x = y\n"
	    "description = {{$count}} on {{ host }}\nannotation.runbook = http://w\n") == 0,
	    "a full rule parses: %s", errs.buf ? errs.buf : "");
	ok(rs.n == 1 && strcmp(rs.v[0].name, "db-errors") == 0 && rs.v[0].line == 2, "name and line");
	ok(rs.v[0].nby == 1 && strcmp(rs.v[0].by[0], "host") == 0, "group by host");
	ok(rs.v[0].nstats == 1 && strcmp(rs.v[0].stats[0].name, "count(*)") == 0, "count(*) named");
	ok(rs.v[0].tstat == -1 && rs.v[0].op == AR_GE && rs.v[0].limit == 3, "threshold = 3 is count >= 3");
	ok(rs.v[0].window == 120000000000LL && rs.v[0].cooldown == 60000000000LL, "window, cooldown");
	ok(rs.v[0].severity == AR_HIGH, "severity case-insensitive");
	ok(rs.v[0].nlabels == 3 && strcmp(rs.v[0].labels[1].val, "prod, eu") == 0, "labels, quoted comma");
	ok(rs.v[0].nannots == 2 && strcmp(rs.v[0].annots[0].key, "description") == 0, "annotations");
	sb_reset(&out);
	ar_render(rs.v[0].annots[0].val, look, NULL, &out);
	is_str(out.buf, "7 on db1", "template rendered");
	ar_free(&rs);

	ok(parse(&rs, "[a]\nquery = x | stats by (h) avg(d) as lat, quantile(0.9, d) p90\n"
	    "threshold = p90 > 500\n[b]\nquery = y \\\n   | stats count()\nthreshold = < 2\n"
	    "enabled = off\n[c]\nquery=*\n") == 0, "three rules: %s", errs.buf ? errs.buf : "");
	ok(rs.n == 3 && rs.v[0].tstat == 1 && rs.v[0].op == AR_GT && rs.v[0].limit == 500, "named value");
	ok(rs.v[1].tstat == 0 && rs.v[1].op == AR_LT && !rs.v[1].enabled, "lone value, disabled");
	is_str(rs.v[1].query, "y     | stats count()", "continuation joined");
	ok(rs.v[2].tstat == -1 && rs.v[2].limit == 1 && rs.v[2].window == 60000000000LL &&
	    rs.v[2].severity == AR_MEDIUM, "defaults: count >= 1, 1m, medium");
	ok(ar_holds(&rs.v[0], 501) && !ar_holds(&rs.v[0], 500) && !ar_holds(&rs.v[0], NAN), "holds");
	ar_free(&rs);

	is_str(errors("[a]\nquery = x\ntreshold = 3\n"),
	    "r.conf:3: unknown key 'treshold' (did you mean 'threshold'?)\n", "misspelt key");
	is_str(errors("[a]\nquery = x\nfrobnicate = 3\n"), "r.conf:3: unknown key 'frobnicate'\n",
	    "unknown key");
	is_str(errors("query = x\n"), "r.conf:1: 'query' outside a rule: start one with a [name] line\n",
	    "key outside a section (and no 'no rules' on top)");
	is_str(errors("[a]\nthreshold = 2\n"), "r.conf:1: rule 'a' has no query\n", "no query");
	is_str(errors("[a]\nquery = x\nquery = y\n"),
	    "r.conf:3: duplicate key 'query' (first given at line 2)\n", "duplicate key");
	is_str(errors("[a]\nquery = x\n[a]\nquery = y\n"),
	    "r.conf:3: duplicate rule name 'a' (first at line 1)\n", "duplicate rule");
	is_str(errors("[a]\nquery = (x\n"), "r.conf:2: query: column 3: unexpected end of query, expected ')'\n",
	    "bad query");
	is_str(errors("[a]\nquery = x | sort by (y)\n"),
	    "r.conf:2: query: a rule takes one '| stats ...' pipe after the filter, not '| sort'\n",
	    "other pipes");
	is_str(errors("[a]\nquery = _time:5m x\n"), "r.conf:2: query: a relative _time filter has no "
	    "fixed 'now' in a rule (the window says how far back to look)\n", "relative time");
	is_str(errors("[a]\nquery = * | stats by (_time:1m) count()\n"), "r.conf:2: query: stats by "
	    "(_time:...) buckets do not work in a rule (the window is the bucket)\n", "buckets");
	is_str(errors("[a]\nquery = x\nthreshold = lat > 3\n"), "r.conf:3: threshold: the query "
	    "computes no value named 'lat' (it has no stats pipe; use 'count' or add '| stats ...')\n",
	    "unknown value name");
	is_str(errors("[a]\nquery = x | stats avg(a), max(b)\nthreshold = > 3\n"), "r.conf:3: "
	    "threshold: say which value to compare ('NAME > 3'): the query computes 2\n", "ambiguous");
	is_str(errors("[a]\nquery = x\nthreshold = lots\n"), "r.conf:3: threshold: expected a count "
	    "(threshold = 3) or NAME OP NUMBER with OP one of >=, >, <=, < (threshold = p99 > 500), "
	    "not 'lots'\n", "bad threshold");
	is_str(errors("[a]\nquery = x\nthreshold = 0\n"), "r.conf:3: threshold: a count threshold "
	    "must be more than 0\n", "zero threshold");
	is_str(errors("[a]\nquery = x\nthreshold = count < 0\n"), "r.conf:3: threshold: 'count < 0' "
	    "can never hold\n", "never holds");
	is_str(errors("[a]\nquery = x\nwindow = 0s\ncooldown = soon\n"), "r.conf:3: window: bad "
	    "duration '0s' (e.g. 30s, 2m, 1h30m; more than 0)\nr.conf:4: cooldown: bad duration "
	    "'soon' (e.g. 30s, 2m, 1h30m)\n", "durations");
	is_str(errors("[a]\nquery = x\nseverity = urgent\nenabled = maybe\n"), "r.conf:3: severity: "
	    "'urgent' is not one of low, medium, high, critical\nr.conf:4: enabled: expected true "
	    "or false, not 'maybe'\n", "severity, enabled");
	is_str(errors("[a]\nquery = x\nlabels = severity=x\nlabel.9x = y\nlabel.t = {{host}}\n"),
	    "r.conf:3: label 'severity' is set by logalert (use the rule's severity)\n"
	    "r.conf:4: bad label name '9x' (want [A-Za-z_][A-Za-z0-9_]*, not starting with '__')\n"
	    "r.conf:5: label 't': labels are not templates (group fields become labels by "
	    "themselves)\n", "labels");
	is_str(errors("[a]\nquery = x\nlabels = a=1, a=2\nlabels = b\n"), "r.conf:3: duplicate "
	    "label 'a'\nr.conf:4: duplicate key 'labels' (first given at line 3)\n", "label dups");
	is_str(errors("[a]\nquery = x\ndescription = {{$nope}}\nsummary = {{open\n"),
	    "r.conf:3: annotation 'description': unknown variable '{{$nope}}' (known: $rule, "
	    "$severity, $state, $count, $value, $threshold, $window, $first, $last, $time)\n"
	    "r.conf:4: annotation 'summary': unterminated '{{' (missing '}}')\n", "templates");
	is_str(errors("[a\nquery = x\n[b] x\nquery = y\n"), "r.conf:1: missing ']' in the section "
	    "header\nr.conf:3: text after ']' in the section header\n", "headers");
	is_str(errors("[bad name!]\nquery = x\n"), "r.conf:1: bad rule name 'bad name!' (want 1..128 "
	    "of A-Z a-z 0-9 _ . : - / and inner spaces)\n", "rule name");
	is_str(errors("[a]\nquery = x\njust words\n"), "r.conf:3: expected 'key = value' or a "
	    "[name] line, got 'just words'\n", "not a key line");
	is_str(errors("[a]\nquery = \"x\xff\"\n"), "r.conf:2: invalid UTF-8\nr.conf:1: rule 'a' has "
	    "no query\n", "invalid UTF-8");
	is_str(errors(""), "r.conf: no rules (a rule starts with a [name] line)\n", "empty file");
	{
		struct sb many = SB_INIT;

		for (int i = 0; i < 60; i++)
			sb_adds(&many, "junk\n");
		v = errors(many.buf);
		ok(strstr(v, "r.conf: too many errors, giving up\n") != NULL, "error cap");
		sb_free(&many);
	}

	ar_fmt_dur(90LL * 1000000000, d, sizeof(d));
	is_str(d, "1m30s", "duration 90s");
	ar_fmt_dur(1500000000LL, d, sizeof(d));
	is_str(d, "1s500ms", "duration 1.5s");
	ar_fmt_dur(0, d, sizeof(d));
	is_str(d, "0s", "duration 0");

	v = "{\"a\": 1, \"_time\" : \"2025\" , \"n\":{\"_time\":2}, \"_time\":3.5}";
	ok(jv_object_field(v, strlen(v), "_time", 5, &v, &vn) == 1 && vn == 3 &&
	    memcmp(v, "3.5", 3) == 0, "jv_object_field: the last top-level one");
	v = "{\"a\":1}";
	ok(jv_object_field(v, strlen(v), "_time", 5, &v, &vn) == 1 && v == NULL, "absent");
	v = "{\"_ti\\u006de\":1}";
	ok(jv_object_field(v, strlen(v), "_time", 5, &v, &vn) == 2, "escaped name: unsure");
	v = "{\"_time\":1";
	ok(jv_object_field(v, strlen(v), "_time", 5, &v, &vn) == 0, "truncated");
	v = "{}";
	ok(jv_object_field(v, 2, "_time", 5, &v, &vn) == 1 && v == NULL, "empty object");

	sb_free(&out);
	sb_free(&errs);
	return t_done();
}
