/* arule.h: logalert's rules file: parse and check alert rules, render their {{field}} templates. */
#ifndef LOGKIT_ARULE_H
#define LOGKIT_ARULE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "qry.h"
#include "sb.h"

/*
 * The format (logalert(1) has the long version):
 *
 *   # a comment line ('#' or ';' first on the line)
 *   [db-errors]                    one section per rule; its name
 *   query = severity:ERROR service:db | stats by (host) count()
 *   threshold = 3                  count >= 3; or "NAME > N", "< N", ...
 *   window = 2m                    sliding window (default 1m)
 *   cooldown = 1m                  at most one firing per cooldown (default 0)
 *   severity = high                low, medium (default), high, critical
 *   labels = team=db, env="prod"   or one per line: label.team = db
 *   description = {{$count}} errors on {{host}}
 *   annotation.runbook = https://wiki/db
 *   enabled = no
 *
 * A line ending in '\' continues on the next one.  The query is a LogsQL
 * filter, optionally followed by one "| stats [by (f, ...)] fn(...) [as
 * name], ..." pipe: the by fields split the records into groups (one alert
 * per group), the functions compute values a threshold can compare.
 */

enum ar_sev { AR_LOW, AR_MEDIUM, AR_HIGH, AR_CRITICAL };
enum ar_op { AR_GE, AR_GT, AR_LE, AR_LT };
enum ar_fn { AR_COUNT, AR_COUNT_UNIQ, AR_SUM, AR_AVG, AR_MIN, AR_MAX, AR_QUANTILE };

/* One function of the stats pipe. */
struct ar_stat {
	enum ar_fn fn;
	const char *field;	/* NULL for count() of records */
	double phi;		/* quantile */
	const char *name;	/* result name: "count(*)", "p99" */
};

/* A label or an annotation (val is a template for annotations). */
struct ar_kv {
	char *key, *val;
};

struct ar_rule {
	char *name;
	unsigned line;		/* line of its [section] header */
	char *query;		/* as written (continuations joined) */
	struct qry *q;
	/* from the stats pipe; names point into q */
	const char **by;
	size_t nby;
	struct ar_stat *stats;
	size_t nstats;
	/* the condition: VALUE OP limit, VALUE being stats[tstat] or, when
	   tstat < 0, the number of matching records in the window */
	int tstat;
	enum ar_op op;
	double limit;
	int64_t window, cooldown;	/* ns */
	enum ar_sev severity;
	struct ar_kv *labels, *annots;
	size_t nlabels, nannots;
	int enabled;
};

struct ar_set {
	struct ar_rule *v;
	size_t n;
};

/*
 * Parse a rules file held in text[0..len); name is used in messages.
 * Every mistake found is appended to errs as a line "NAME:LINE: what\n"
 * (parsing goes on after one, up to a cap).  Returns the number of
 * errors: 0 means rs holds the rules, else rs is left empty.  Never
 * prints.  Zero-initialise rs; release it with ar_free.
 */
size_t ar_parse(struct ar_set *rs, const char *text, size_t len, const char *name,
    struct sb *errs);
void ar_free(struct ar_set *rs);

const char *ar_sev_name(enum ar_sev s);
const char *ar_op_name(enum ar_op op);

/* 1 when v OP limit holds (never for NaN). */
int ar_holds(const struct ar_rule *r, double v);

/*
 * The text of field of rec as the rule's query sees it (dotted names
 * reach into nested objects); NULL when absent.  The result may live in
 * the rule's scratch space: valid until the next call for this rule.
 */
const char *ar_field_text(struct ar_rule *r, struct json_object *rec, const char *field,
    size_t *len);
/* s[0..n) as a LogsQL number (what stats functions take); 1 or 0. */
int ar_num(const char *s, size_t n, double *v);
/* A duration the way a rules file writes it: "2m", "1h30m", "1.5s" (no NUL past sz). */
size_t ar_fmt_dur(int64_t ns, char *buf, size_t sz);

/*
 * Expand the {{name}} references of a template (checked by ar_parse) into
 * out: lookup returns the text of name[0..n) (NULL for none: empty) and
 * its length.  Names are "$count", "$value", ... or fields.  Each value
 * is cut at 4096 bytes.  Returns 0 or -1 (ENOMEM).
 */
typedef const char *(*ar_lookup_fn)(void *ctx, const char *name, size_t n, size_t *len);
int ar_render(const char *tmpl, ar_lookup_fn lookup, void *ctx, struct sb *out);

/* The $names a template may use (NULL-terminated). */
extern const char *const ar_vars[];

#endif
