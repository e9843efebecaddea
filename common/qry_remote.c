/* qry_remote.c: what a remote server needs from a parsed query: relative times, the LogQL form for Loki. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jw.h"
#include "qry_int.h"
#include "tok.h"

static int
has_rel(const struct qnode *n)
{
	if (n->kind == QF_TIME && n->rel)
		return 1;
	for (size_t i = 0; i < n->nkids; i++)
		if (has_rel(n->kids[i]))
			return 1;
	return 0;
}

int
qry_has_relative_time(const struct qry *q)
{
	if (has_rel(q->root))
		return 1;
	for (size_t i = 0; i < q->npipes; i++)
		if (q->pipes[i].filter && has_rel(q->pipes[i].filter))
			return 1;
	return 0;
}

/* ---- LogQL ---- */

struct tr {
	struct qry_logql *out;
	struct sb sel;		/* the matchers, "a=\"x\", b=~\"y\"" */
	struct sb lines;	/* the line filters, " |= \"w\" != \"x\"" */
	struct sb re;		/* scratch for a regex */
	int selectable;		/* a matcher Loki accepts alone */
	char *why;
	size_t whysz;
	int oom;
};

static int __attribute__((format(printf, 2, 3)))
refuse(struct tr *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (t->why && t->whysz)
		vsnprintf(t->why, t->whysz, fmt, ap);
	va_end(ap);
	return -1;
}

static int
nomem(struct tr *t)
{
	t->oom = 1;
	return refuse(t, "out of memory");
}

/*
 * A Go string literal, as LogQL reads one: backslash escapes for quote,
 * backslash and controls; bytes of invalid UTF-8 as \xHH (Go keeps them
 * as bytes).
 */
static int
go_str(struct sb *o, const char *s, size_t n)
{
	int valid = jw_utf8_valid(s, n), r = sb_addc(o, '"');

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			r = sb_addc(o, '\\') || sb_addc(o, c);
		else if (c == '\n')
			r = sb_adds(o, "\\n");
		else if (c == '\t')
			r = sb_adds(o, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !valid))
			r = sb_addf(o, "\\x%02x", c);
		else
			r = sb_addc(o, c);
	}
	return r || sb_addc(o, '"') ? -1 : 0;
}

/* s[0..n) as an RE2 literal. */
static int
re_lit(struct sb *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr("\\.+*?()|[]{}^$", s[i]) && s[i] != '\0' && sb_addc(o, '\\') < 0)
			return -1;
		if (sb_addc(o, s[i]) < 0)
			return -1;
	}
	return 0;
}

/*
 * An ASCII separator (a character that is never part of a word, in LogsQL
 * and in any regex dialect) or the edge of the line.  Non-ASCII
 * separators are left out on purpose: see neg_term.
 */
#define SEP_BEFORE "(?:^|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F])"
#define SEP_AFTER "(?:$|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F])"

static int
line_filter(struct tr *t, const char *op, const char *s, size_t n)
{
	if (sb_addc(&t->lines, ' ') < 0 || sb_adds(&t->lines, op) < 0 ||
	    sb_addc(&t->lines, ' ') < 0 || go_str(&t->lines, s, n) < 0)
		return nomem(t);
	return 0;
}

/* A term that only looks at _msg, the Loki line. */
static int
is_msg_term(const struct qnode *n)
{
	return n->field && strcmp(n->field, "_msg") == 0 &&
	    (n->kind == QF_PHRASE || n->kind == QF_PREFIX || n->kind == QF_EXACT ||
	    n->kind == QF_EXACT_PREFIX || n->kind == QF_REGEX) && (n->vlen > 0 || n->kind == QF_REGEX);
}

/* Append the regex form of a _msg term (a superset of what it matches) to t->re. */
static int
term_re(struct tr *t, const struct qnode *n)
{
	int r = 0;

	if (n->kind == QF_REGEX)
		return sb_adds(&t->re, "(?:") || sb_add(&t->re, n->val, n->vlen) ||
		    sb_addc(&t->re, ')') ? -1 : 0;
	if (n->icase)
		r = sb_adds(&t->re, "(?i:");
	r = r || re_lit(&t->re, n->val, n->vlen);
	if (n->icase)
		r = r || sb_addc(&t->re, ')');
	return r ? -1 : 0;
}

/*
 * A positive _msg term: Loki keeps the lines that contain it as text (a
 * superset: "error" is also in "errors"); the caller's qry_match drops the
 * rest.
 */
static int
pos_term(struct tr *t, const struct qnode *n)
{
	if (n->kind == QF_REGEX)
		return line_filter(t, "|~", n->val, n->vlen);
	if (!n->icase)
		return line_filter(t, "|=", n->val, n->vlen);
	sb_reset(&t->re);
	if (term_re(t, n) < 0)
		return nomem(t);
	return line_filter(t, "|~", t->re.buf, t->re.len);
}

/*
 * A negated _msg term: Loki may only drop lines that the LogsQL filter
 * drops too.  A phrase without word characters at its ends is plain text
 * ("!= "), else it needs word boundaries: the regex asks for an ASCII
 * separator or the line's edge, which LogsQL also counts as a boundary,
 * so every line Loki drops has the word; lines bounded by a non-ASCII
 * separator stay for qry_match to judge.  i(...) and exact values are left
 * to qry_match alone.
 */
static int
neg_term(struct tr *t, const struct qnode *n)
{
	int sw, ew;

	if (n->kind == QF_REGEX)
		return line_filter(t, "!~", n->val, n->vlen);
	if (n->icase || (n->kind != QF_PHRASE && n->kind != QF_PREFIX))
		return 0;
	sw = tok_starts_word(n->val, n->vlen);
	ew = n->kind == QF_PHRASE && tok_ends_word(n->val, n->vlen);
	if (!sw && !ew && n->kind == QF_PHRASE)
		return line_filter(t, "!=", n->val, n->vlen);
	sb_reset(&t->re);
	if ((sw && sb_adds(&t->re, SEP_BEFORE) < 0) || re_lit(&t->re, n->val, n->vlen) < 0 ||
	    (ew && sb_adds(&t->re, SEP_AFTER) < 0))
		return nomem(t);
	return line_filter(t, "!~", t->re.buf, t->re.len);
}

static int
label_ok(const char *k)
{
	if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
		return 0;
	for (k++; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_' ||
		    (*k >= '0' && *k <= '9')))
			return 0;
	return 1;
}

/* Add a matcher; negate flips = to != and =~ to !~. */
static int
matcher(struct tr *t, const struct qsm *m, int negate)
{
	static const char *ops[] = { ['='] = "=", ['!'] = "!=", ['~'] = "=~", ['x'] = "!~" };
	static const int neg[] = { ['='] = '!', ['!'] = '=', ['~'] = 'x', ['x'] = '~' };
	int op = negate ? neg[m->op] : m->op;

	if (!label_ok(m->key))
		return refuse(t, "label '%s' (Loki label names are [a-zA-Z_][a-zA-Z0-9_]*)", m->key);
	if ((t->sel.len && sb_adds(&t->sel, ", ") < 0) || sb_adds(&t->sel, m->key) < 0 ||
	    sb_adds(&t->sel, ops[op]) < 0 || go_str(&t->sel, m->val, strlen(m->val)) < 0)
		return nomem(t);
	/* Loki wants one matcher that cannot match the empty value */
	if (op == '=' && m->val[0] != '\0')
		t->selectable = 1;
	if (op == '~') {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);

		if (md == NULL)
			return nomem(t);
		if (pcre2_match(m->re, (PCRE2_SPTR)"", 0, 0, 0, md, NULL) < 0)
			t->selectable = 1;
		pcre2_match_data_free(md);
	}
	return 0;
}

/* Refuse fields a Loki entry does not have, anywhere under n. */
static int
fields_ok(struct tr *t, const struct qnode *n)
{
	if (n->field && strcmp(n->field, "_msg") && strcmp(n->field, "_stream") &&
	    strcmp(n->field, "_time"))
		return refuse(t, "field filter '%s:' (a Loki entry has only _time, _stream labels "
		    "and its line as _msg)", n->field);
	for (size_t i = 0; i < n->nkids; i++)
		if (fields_ok(t, n->kids[i]) < 0)
			return -1;
	return 0;
}

/* One operand of the top-level AND. */
static int
conjunct(struct tr *t, const struct qnode *n)
{
	const struct qnode *k;

	switch (n->kind) {
	case QF_STREAM:
		for (size_t i = 0; i < n->nsm; i++)
			if (matcher(t, &n->sm[i], 0) < 0)
				return -1;
		return 0;
	case QF_NOT:
		k = n->kids[0];
		if (k->kind == QF_STREAM && k->nsm == 1)
			return matcher(t, &k->sm[0], 1);
		if (is_msg_term(k))
			return neg_term(t, k);
		return 0;
	case QF_OR:
		/* words or regexes on _msg: one alternation, else qry_match alone */
		for (size_t i = 0; i < n->nkids; i++)
			if (!is_msg_term(n->kids[i]) || n->kids[i]->kind == QF_EXACT ||
			    n->kids[i]->kind == QF_EXACT_PREFIX)
				return 0;
		sb_reset(&t->re);
		for (size_t i = 0; i < n->nkids; i++)
			if ((i && sb_addc(&t->re, '|') < 0) || term_re(t, n->kids[i]) < 0)
				return nomem(t);
		return line_filter(t, "|~", t->re.buf, t->re.len);
	default:
		if (is_msg_term(n))
			return pos_term(t, n);
		return 0;
	}
}

int
qry_to_logql(const struct qry *q, struct qry_logql *out, char *why, size_t whysz)
{
	static const char *pn[] = { "limit", "offset", "sort", "fields", "delete", "stats",
		"top", "uniq", "filter" };
	struct tr t = { .out = out, .why = why, .whysz = whysz };
	const struct qnode *root = q->root;
	int64_t lo, hi;
	int rc = -1;

	out->expr.len = 0;
	out->limit = 0;
	for (size_t i = 0; i < q->npipes; i++)
		if (q->pipes[i].kind != QP_LIMIT || i + 1 < q->npipes) {
			refuse(&t, "pipe '| %s' (only a final '| limit N' maps onto LogQL)",
			    pn[q->pipes[i].kind]);
			goto out;
		}
	if (q->npipes)
		out->limit = q->pipes[0].n;
	if (fields_ok(&t, root) < 0)
		goto out;
	if (root->kind == QF_AND) {
		for (size_t i = 0; i < root->nkids; i++)
			if (conjunct(&t, root->kids[i]) < 0)
				goto out;
	} else if (conjunct(&t, root) < 0)
		goto out;
	if (!t.selectable) {
		refuse(&t, "no stream selector: Loki needs one such as {app=\"x\"} "
		    "(a label that must equal a non-empty value)");
		goto out;
	}
	if (!qry_time_bounds(q, &lo, &hi)) {
		/* nothing can match: an empty range, no request needed */
		out->start = out->end = 0;
	} else if (lo == INT64_MIN) {
		refuse(&t, "no lower bound on _time: Loki needs a time range "
		    "such as _time:1h or _time:>2025-05-17");
		goto out;
	} else {
		out->start = lo;
		out->end = hi == INT64_MAX ? q->now + 1 : hi + 1;
		/* a lower bound after "now" with no upper one: nothing yet */
		if (out->end <= out->start)
			out->start = out->end = 0;
	}
	if (sb_addc(&out->expr, '{') < 0 || sb_add(&out->expr, t.sel.buf, t.sel.len) < 0 ||
	    sb_addc(&out->expr, '}') < 0 || sb_add(&out->expr, t.lines.buf, t.lines.len) < 0) {
		nomem(&t);
		goto out;
	}
	rc = 0;
out:
	sb_free(&t.sel);
	sb_free(&t.lines);
	sb_free(&t.re);
	return rc;
}
