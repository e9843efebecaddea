/* qry_parse.c: the LogsQL lexer and recursive-descent parser (filters and pipes). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "qry_int.h"
#include "tok.h"
#include "ts.h"

struct ps {
	const char *s;
	size_t n, i;
	size_t errpos;
	char msg[200];
	int failed;
	int depth;
	struct sb buf;		/* decoded quoted strings */
};

#define MAX_DEPTH 200

static int __attribute__((format(printf, 3, 4)))
fail(struct ps *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = 1;
	p->errpos = pos;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void
oom(struct ps *p)
{
	fail(p, p->i, "out of memory");
}

static void
skip_ws(struct ps *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
peek(struct ps *p)
{
	skip_ws(p);
	return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

/* Bytes that end a bare word; ':' only where a field name may end. */
static int
is_delim(int c, int colon)
{
	switch (c) {
	case ' ': case '\t': case '\n': case '\r': case '(': case ')': case '[':
	case ']': case '{': case '}': case ',': case '|': case '"': case '\'':
	case '`':
		return 1;
	case ':':
		return colon;
	}
	return c == 0;
}

/* A bare word at p->i; returns its length (0 if none). */
static size_t
bare_len(struct ps *p, int colon)
{
	size_t j = p->i;

	while (j < p->n && !is_delim((unsigned char)p->s[j], colon))
		j++;
	return j - p->i;
}

static char *
dupn(struct ps *p, const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL) {
		oom(p);
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
add_utf8(struct sb *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	return sb_add(b, u, n);
}

/*
 * A quoted string at p->i ("..." and '...' with Go-style escapes, `...`
 * raw), decoded into p->buf.  Returns 0 or -1.
 */
static int
quoted(struct ps *p)
{
	size_t start = p->i;
	int q = (unsigned char)p->s[p->i++];

	sb_reset(&p->buf);
	if (sb_grow(&p->buf, 1) < 0)
		return oom(p), -1;
	while (p->i < p->n) {
		int c = (unsigned char)p->s[p->i];

		if (c == q) {
			p->i++;
			return 0;
		}
		if (c == '\\' && q != '`') {
			size_t at = p->i;
			int e;

			if (++p->i >= p->n)
				break;
			e = (unsigned char)p->s[p->i++];
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'v': c = '\v'; break;
			case '\\': case '"': case '\'': case '`': c = e; break;
			case 'x': case 'u': case 'U': {
				int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
				unsigned long cp = 0;

				for (int k = 0; k < nd; k++) {
					int h = p->i < p->n ? hexval((unsigned char)p->s[p->i]) : -1;

					if (h < 0)
						return fail(p, at, "bad \\%c escape", e);
					cp = cp << 4 | (unsigned long)h;
					p->i++;
				}
				if (e == 'x') {
					if (sb_addc(&p->buf, (int)cp) < 0)
						return oom(p), -1;
				} else {
					if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
						return fail(p, at, "bad code point in \\%c escape", e);
					if (add_utf8(&p->buf, cp) < 0)
						return oom(p), -1;
				}
				continue;
			}
			default:
				return fail(p, at, "unknown escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
			}
			/* p->i is past the escape already */
			if (sb_addc(&p->buf, c) < 0)
				return oom(p), -1;
			continue;
		}
		if (sb_addc(&p->buf, c) < 0)
			return oom(p), -1;
		p->i++;
	}
	return fail(p, start, "unterminated quoted string");
}

static int
is_quote(int c)
{
	return c == '"' || c == '\'' || c == '`';
}

static int
kw(struct ps *p, const char *w)
{
	size_t l = strlen(w);

	skip_ws(p);
	return bare_len(p, 1) == l && strncasecmp(p->s + p->i, w, l) == 0;
}

static struct qnode *
node_new(struct ps *p, enum qf kind, const char *field)
{
	struct qnode *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return oom(p), NULL;
	n->kind = kind;
	if (field && (n->field = strdup(field)) == NULL) {
		free(n);
		return oom(p), NULL;
	}
	n->special = field && (strcmp(field, "_time") == 0 || strcmp(field, "_stream") == 0);
	return n;
}

void
qry_node_free(struct qnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		qry_node_free(n->kids[i]);
	free(n->kids);
	for (size_t i = 0; i < n->nvals; i++)
		free(n->vals[i]);
	free(n->vals);
	free(n->vlens);
	for (size_t i = 0; i < n->nsm; i++) {
		free(n->sm[i].key);
		free(n->sm[i].val);
		pcre2_code_free(n->sm[i].re);
	}
	free(n->sm);
	pcre2_code_free(n->re);
	free(n->field);
	free(n->val);
	free(n);
}

static int
add_kid(struct ps *p, struct qnode *n, struct qnode *k)
{
	struct qnode **v = realloc(n->kids, (n->nkids + 1) * sizeof(*v));

	if (v == NULL)
		return oom(p), -1;
	n->kids = v;
	n->kids[n->nkids++] = k;
	return 0;
}

static int
set_val(struct ps *p, struct qnode *n, const char *s, size_t len, int icase)
{
	struct sb f = SB_INIT;

	if (icase) {
		if (qry_fold(s, len, &f) == (size_t)-1)
			return oom(p), -1;
		n->val = f.buf ? f.buf : dupn(p, "", 0);
		n->vlen = f.len;
		n->icase = 1;
		n->word1 = n->val && tok_is_word(n->val, n->vlen);
		return n->val ? 0 : -1;
	}
	n->vlen = len;
	if ((n->val = dupn(p, s, len)) == NULL)
		return -1;
	n->word1 = tok_is_word(n->val, n->vlen);
	return 0;
}

static pcre2_code *
compile_re(struct ps *p, size_t at, const char *re, size_t n, uint32_t extra)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, n,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | extra, &ec, &eo, NULL);

	if (c == NULL) {
		PCRE2_UCHAR m[160];

		pcre2_get_error_message(ec, m, sizeof(m));
		fail(p, at, "bad regex: %s (at offset %zu)", (char *)m, (size_t)eo);
		return NULL;
	}
	/* JIT is an optimisation: without it (some platforms) match normally. */
	(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

/* A value (quoted or bare) at p->i into p->buf; returns 0 or -1. */
static int
value(struct ps *p, const char *what)
{
	size_t l;
	int c = peek(p);

	if (c >= 0 && is_quote(c))
		return quoted(p);
	if ((l = bare_len(p, 0)) == 0) {
		if (c < 0)
			return fail(p, p->i, "unexpected end of query, expected %s", what);
		return fail(p, p->i, "expected %s, found '%c'", what, c);
	}
	sb_reset(&p->buf);
	if (sb_add(&p->buf, p->s + p->i, l) < 0)
		return oom(p), -1;
	p->i += l;
	return 0;
}

/* ---- numbers and times ---- */

static int
number(struct ps *p, double *v)
{
	size_t at;

	skip_ws(p);
	at = p->i;
	if (value(p, "a number") < 0)
		return -1;
	if (!qry_parse_num(p->buf.buf, p->buf.len, v))
		return fail(p, at, "expected a number, found '%s'", p->buf.buf);
	return 0;
}

/*
 * A timestamp as LogsQL writes it in _time filters; sets the interval
 * [*start, *end) it denotes: "2025-05-17" is the whole day,
 * "2025-05-17T04:44Z" that minute, with seconds that second, with a
 * fraction that instant.  Unix seconds are accepted too.
 */
static int
timestamp(struct ps *p, const char *s, size_t n, int64_t *start, int64_t *end)
{
	int64_t ns, unit = 0;
	int y, mo = 1, d = 1, h = 0, mi = 0;
	size_t k;

	/* partial forms ts_parse_iso does not take */
	k = 0;
	if (n >= 4 && sscanf(s, "%4d", &y) == 1) {
		if (n == 4 || (n == 5 && s[4] == 'Z'))
			unit = -1;
		else if ((n == 7 || (n == 8 && s[7] == 'Z')) && sscanf(s, "%4d-%2d", &y, &mo) == 2)
			unit = -2;
		else if ((n == 13 || (n == 14 && s[13] == 'Z')) &&
		    sscanf(s, "%4d-%2d-%2dT%2d", &y, &mo, &d, &h) == 4)
			unit = 3600LL * 1000000000LL;
		else if ((n == 16 || (n == 17 && s[16] == 'Z')) &&
		    sscanf(s, "%4d-%2d-%2dT%2d:%2d", &y, &mo, &d, &h, &mi) == 5)
			unit = 60LL * 1000000000LL;
		if (unit) {
			if (ts_make(y, mo, d, h, mi, 0, 0, &ns) < 0)
				return -1;
			*start = ns;
			if (unit == -1)
				(void)ts_make((int64_t)y + 1, 1, 1, 0, 0, 0, 0, end);
			else if (unit == -2)
				(void)ts_make(mo == 12 ? (int64_t)y + 1 : y, mo == 12 ? 1 : mo + 1,
				    1, 0, 0, 0, 0, end);
			else
				*end = ns + unit;
			return 0;
		}
	}
	if ((k = ts_parse_iso(s, n, &ns)) == n && n > 0) {
		/* seconds without a fraction denote that second; a date the day */
		if (n == 10)
			unit = 86400LL * 1000000000LL;
		else if (memchr(s, '.', n) == NULL && memchr(s, ',', n) == NULL)
			unit = 1000000000LL;
		else
			unit = 1;
		*start = ns;
		*end = ns + unit;
		return 0;
	}
	if (n > 0 && n <= 20 && (k = ts_parse_unix(s, n, &ns)) == n) {
		*start = ns;
		*end = ns + 1;
		return 0;
	}
	(void)p;
	return -1;
}

static int
time_point(struct ps *p, int64_t *start, int64_t *end)
{
	size_t at;

	skip_ws(p);
	at = p->i;
	if (value(p, "a timestamp") < 0)
		return -1;
	if (timestamp(p, p->buf.buf, p->buf.len, start, end) < 0)
		return fail(p, at, "bad timestamp '%s'", p->buf.buf);
	return 0;
}

static int
expect(struct ps *p, int c)
{
	int got = peek(p);

	if (got == c) {
		p->i++;
		return 0;
	}
	if (got < 0)
		return fail(p, p->i, "unexpected end of query, expected '%c'", c);
	return fail(p, p->i, "expected '%c', found '%c'", c, got);
}

/* _time:VALUE */
static struct qnode *
time_filter(struct ps *p)
{
	struct qnode *n = node_new(p, QF_TIME, "_time");
	int64_t a, b, a2, b2, d;
	int c;
	size_t at;

	if (n == NULL)
		return NULL;
	c = peek(p);
	at = p->i;
	if (c == '[' || c == '(') {
		p->i++;
		if (time_point(p, &a, &b) < 0)
			goto bad;
		n->tmin = c == '[' ? a : b;
		if (expect(p, ',') < 0 || time_point(p, &a2, &b2) < 0)
			goto bad;
		c = peek(p);
		if (c == ']')
			n->tmax = b2 - 1;
		else if (c == ')')
			n->tmax = a2 - 1;
		else {
			fail(p, p->i, c < 0 ? "unexpected end of query, expected ']' or ')'" :
			    "expected ']' or ')'");
			goto bad;
		}
		p->i++;
		return n;
	}
	if (c == '>' || c == '<') {
		int eq = 0;

		p->i++;
		if (p->i < p->n && p->s[p->i] == '=')
			eq = 1, p->i++;
		if (time_point(p, &a, &b) < 0)
			goto bad;
		if (c == '>')
			n->tmin = eq ? a : b, n->tmax = INT64_MAX;
		else
			n->tmin = INT64_MIN, n->tmax = eq ? b - 1 : a - 1;
		return n;
	}
	if (value(p, "a time filter") < 0)
		goto bad;
	if (ts_parse_duration(p->buf.buf, p->buf.len, &d) == p->buf.len && p->buf.len > 0 &&
	    !(p->buf.len >= 4 && p->buf.buf[4] == '-')) {
		n->rel = 1;
		n->dur = d;
	} else if (timestamp(p, p->buf.buf, p->buf.len, &a, &b) == 0) {
		n->tmin = a;
		n->tmax = b - 1;
	} else {
		fail(p, at, "bad time filter '%s' (want a duration like 5m, a timestamp or a range)",
		    p->buf.buf);
		goto bad;
	}
	/* "_time:1h offset 30m" shifts the window back */
	if (kw(p, "offset")) {
		p->i += 6;
		skip_ws(p);
		at = p->i;
		if (value(p, "a duration") < 0)
			goto bad;
		if (ts_parse_duration(p->buf.buf, p->buf.len, &d) != p->buf.len || p->buf.len == 0) {
			fail(p, at, "bad duration '%s'", p->buf.buf);
			goto bad;
		}
		if (n->rel) {
			n->rel = 2;
			n->tmin = d;
		} else {
			n->tmin = n->tmin == INT64_MIN ? n->tmin : n->tmin - d;
			n->tmax = n->tmax == INT64_MAX ? n->tmax : n->tmax - d;
		}
	}
	return n;
bad:
	qry_node_free(n);
	return NULL;
}

/* {a="x", b=~"re", c!="y", d!~"re"} at p->i (which is '{'). */
static struct qnode *
stream_filter(struct ps *p)
{
	struct qnode *n = node_new(p, QF_STREAM, "_stream");

	if (n == NULL)
		return NULL;
	p->i++;
	if (peek(p) == '}') {
		p->i++;
		return n;
	}
	for (;;) {
		struct qsm *sm, m = { 0 };
		size_t l, at;
		int c;

		skip_ws(p);
		at = p->i;
		if (p->i < p->n && is_quote((unsigned char)p->s[p->i])) {
			if (quoted(p) < 0)
				goto bad;
			l = p->buf.len;
			m.key = dupn(p, p->buf.buf, l);
		} else {
			/* label names stop at the operator */
			l = 0;
			while (p->i + l < p->n && !is_delim((unsigned char)p->s[p->i + l], 1) &&
			    p->s[p->i + l] != '=' && p->s[p->i + l] != '!' &&
			    p->s[p->i + l] != '~')
				l++;
			if (l == 0) {
				c = peek(p);
				fail(p, p->i, c < 0 ? "unexpected end of query, expected a label name" :
				    "expected a label name, found '%c'", c);
				goto bad;
			}
			m.key = dupn(p, p->s + p->i, l);
			p->i += l;
		}
		if (m.key == NULL)
			goto bad;
		skip_ws(p);
		at = p->i;
		if (p->i + 1 < p->n && p->s[p->i] == '=' && p->s[p->i + 1] == '~')
			m.op = '~', p->i += 2;
		else if (p->i + 1 < p->n && p->s[p->i] == '!' && p->s[p->i + 1] == '=')
			m.op = '!', p->i += 2;
		else if (p->i + 1 < p->n && p->s[p->i] == '!' && p->s[p->i + 1] == '~')
			m.op = 'x', p->i += 2;
		else if (p->i < p->n && p->s[p->i] == '=')
			m.op = '=', p->i++;
		else {
			free(m.key);
			fail(p, at, "expected '=', '!=', '=~' or '!~' after label name");
			goto bad;
		}
		skip_ws(p);
		at = p->i;
		if (p->i >= p->n || !is_quote((unsigned char)p->s[p->i])) {
			free(m.key);
			fail(p, at, "expected a quoted label value");
			goto bad;
		}
		if (quoted(p) < 0 || (m.val = dupn(p, p->buf.buf, p->buf.len)) == NULL) {
			free(m.key);
			goto bad;
		}
		if ((m.op == '~' || m.op == 'x') &&
		    (m.re = compile_re(p, at, m.val, p->buf.len,
		    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL)) == NULL) {
			free(m.key);
			free(m.val);
			goto bad;
		}
		if ((sm = realloc(n->sm, (n->nsm + 1) * sizeof(*sm))) == NULL) {
			free(m.key);
			free(m.val);
			pcre2_code_free(m.re);
			oom(p);
			goto bad;
		}
		n->sm = sm;
		n->sm[n->nsm++] = m;
		c = peek(p);
		if (c == ',') {
			p->i++;
			continue;
		}
		if (c == '}') {
			p->i++;
			return n;
		}
		fail(p, p->i, c < 0 ? "unexpected end of query, expected '}'" :
		    "expected ',' or '}' in stream filter");
		goto bad;
	}
bad:
	qry_node_free(n);
	return NULL;
}

static struct qnode *parse_or(struct ps *p, const char *field);

/* in(a, b, "c") after the word "in"; p->i at '('. */
static struct qnode *
in_filter(struct ps *p, const char *field)
{
	struct qnode *n = node_new(p, QF_IN, field);

	if (n == NULL)
		return NULL;
	p->i++;
	if (peek(p) == ')') {
		p->i++;
		return n;
	}
	for (;;) {
		char **v;
		size_t *vl;
		int c;

		if (value(p, "a value") < 0)
			goto bad;
		v = realloc(n->vals, (n->nvals + 1) * sizeof(*v));
		if (v)
			n->vals = v;
		vl = realloc(n->vlens, (n->nvals + 1) * sizeof(*vl));
		if (vl)
			n->vlens = vl;
		if (!v || !vl) {
			oom(p);
			goto bad;
		}
		if ((n->vals[n->nvals] = dupn(p, p->buf.buf, p->buf.len)) == NULL)
			goto bad;
		n->vlens[n->nvals++] = p->buf.len;
		c = peek(p);
		if (c == ',') {
			p->i++;
			continue;
		}
		if (c == ')') {
			p->i++;
			return n;
		}
		fail(p, p->i, c < 0 ? "unexpected end of query, expected ')'" :
		    "expected ',' or ')' in in(...)");
		goto bad;
	}
bad:
	qry_node_free(n);
	return NULL;
}

/* range[a, b) after the word "range"; p->i at '[' or '('. */
static struct qnode *
range_filter(struct ps *p, const char *field)
{
	struct qnode *n = node_new(p, QF_RANGE, field);
	int c;

	if (n == NULL)
		return NULL;
	n->lo_incl = p->s[p->i++] == '[';
	if (number(p, &n->lo) < 0 || expect(p, ',') < 0 || number(p, &n->hi) < 0)
		goto bad;
	c = peek(p);
	if (c != ']' && c != ')') {
		fail(p, p->i, c < 0 ? "unexpected end of query, expected ']' or ')'" :
		    "expected ']' or ')'");
		goto bad;
	}
	n->hi_incl = c == ']';
	p->i++;
	return n;
bad:
	qry_node_free(n);
	return NULL;
}

/* i(word), i("phrase"), i(prefix*) after "i"; p->i at '('. */
static struct qnode *
icase_filter(struct ps *p, const char *field)
{
	struct qnode *n;
	int pref = 0, c;

	p->i++;
	if (value(p, "a word or phrase") < 0)
		return NULL;
	if (p->i < p->n && p->s[p->i] == '*' && p->buf.len > 0 &&
	    p->s[p->i - 1] != '*') {
		pref = 1;
		p->i++;
	} else if (p->buf.len > 0 && p->buf.buf[p->buf.len - 1] == '*' &&
	    !is_quote((unsigned char)p->s[p->i - 1])) {
		pref = 1;
		p->buf.buf[--p->buf.len] = '\0';
	}
	if ((n = node_new(p, pref ? QF_PREFIX : QF_PHRASE, field)) == NULL)
		return NULL;
	if (set_val(p, n, p->buf.buf, p->buf.len, 1) < 0)
		goto bad;
	if ((c = peek(p)) != ')') {
		fail(p, p->i, c < 0 ? "unexpected end of query, expected ')'" :
		    "expected ')' after i(...)");
		goto bad;
	}
	p->i++;
	return n;
bad:
	qry_node_free(n);
	return NULL;
}

/* The value part of field:VALUE (or of a bare filter on _msg). */
static struct qnode *
field_value(struct ps *p, const char *field)
{
	struct qnode *n;
	size_t at, l;
	int c = peek(p), op, eq;
	double v;

	at = p->i;
	if (c < 0)
		return fail(p, p->i, "unexpected end of query, expected a value for '%s'", field),
		    NULL;
	if (strcmp(field, "_time") == 0 && c != '"' && c != '\'')
		return time_filter(p);
	if (c == '{' && strcmp(field, "_stream") == 0)
		return stream_filter(p);
	if (c == '(') {
		struct qnode *g;

		p->i++;
		if (++p->depth > MAX_DEPTH)
			return fail(p, at, "too deeply nested"), NULL;
		g = parse_or(p, field);
		p->depth--;
		if (g == NULL)
			return NULL;
		if (expect(p, ')') < 0) {
			qry_node_free(g);
			return NULL;
		}
		return g;
	}
	if (c == '=' || c == '~') {
		p->i++;
		if (c == '~') {
			skip_ws(p);
			at = p->i;
			if (value(p, "a regex") < 0 || (n = node_new(p, QF_REGEX, field)) == NULL)
				return NULL;
			if (set_val(p, n, p->buf.buf, p->buf.len, 0) < 0 ||
			    (n->re = compile_re(p, at, n->val, n->vlen, 0)) == NULL) {
				qry_node_free(n);
				return NULL;
			}
			return n;
		}
		skip_ws(p);
		c = p->i < p->n ? (unsigned char)p->s[p->i] : -1;
		if (value(p, "a value") < 0)
			return NULL;
		op = QF_EXACT;
		if (c >= 0 && is_quote(c)) {
			if (p->i < p->n && p->s[p->i] == '*')
				op = QF_EXACT_PREFIX, p->i++;
		} else if (p->buf.len > 0 && p->buf.buf[p->buf.len - 1] == '*') {
			op = QF_EXACT_PREFIX;
			p->buf.buf[--p->buf.len] = '\0';
		}
		if ((n = node_new(p, op, field)) == NULL)
			return NULL;
		if (set_val(p, n, p->buf.buf, p->buf.len, 0) < 0) {
			qry_node_free(n);
			return NULL;
		}
		return n;
	}
	if (c == '>' || c == '<') {
		p->i++;
		eq = p->i < p->n && p->s[p->i] == '=';
		p->i += eq;
		if (number(p, &v) < 0 || (n = node_new(p, QF_RANGE, field)) == NULL)
			return NULL;
		if (c == '>')
			n->lo = v, n->lo_incl = eq, n->hi = INFINITY, n->hi_incl = 1;
		else
			n->lo = -INFINITY, n->lo_incl = 1, n->hi = v, n->hi_incl = eq;
		return n;
	}
	if (is_quote(c)) {
		if (quoted(p) < 0)
			return NULL;
		op = QF_PHRASE;
		if (p->i < p->n && p->s[p->i] == '*')
			op = QF_PREFIX, p->i++;
		else if (p->buf.len == 0)
			op = QF_EMPTY;
		if ((n = node_new(p, op, field)) == NULL)
			return NULL;
		if (set_val(p, n, p->buf.buf, p->buf.len, 0) < 0) {
			qry_node_free(n);
			return NULL;
		}
		return n;
	}
	if ((l = bare_len(p, 0)) == 0)
		return fail(p, p->i, "unexpected '%c', expected a value for '%s'", c, field), NULL;
	/* function-like filters: in(...), range[...], i(...) */
	if (p->i + l < p->n) {
		const char *w = p->s + p->i;
		int nc = p->s[p->i + l];

		if (nc == '(' && l == 2 && strncmp(w, "in", 2) == 0) {
			p->i += l;
			return in_filter(p, field);
		}
		if ((nc == '(' || nc == '[') && l == 5 && strncmp(w, "range", 5) == 0) {
			p->i += l;
			return range_filter(p, field);
		}
		if (nc == '(' && l == 1 && w[0] == 'i') {
			p->i += l;
			return icase_filter(p, field);
		}
		if (nc == '(')
			return fail(p, p->i, "unknown filter function '%.*s'", (int)(l > 40 ? 40 : l), w),
			    NULL;
	}
	if (l == 1 && p->s[p->i] == '*') {
		p->i++;
				if (strcmp(field, "_msg") == 0)
			return node_new(p, QF_ALL, NULL);
		return node_new(p, QF_ANY, field);
	}
	op = QF_PHRASE;
	if (p->s[p->i + l - 1] == '*')
		op = QF_PREFIX;
	if ((n = node_new(p, op, field)) == NULL)
		return NULL;
	if (set_val(p, n, p->s + p->i, op == QF_PREFIX ? l - 1 : l, 0) < 0) {
		qry_node_free(n);
		return NULL;
	}
	p->i += l;
	return n;
}

/* Can a filter start here (for implicit AND)? */
static int
starts_filter(struct ps *p)
{
	int c = peek(p);

	if (c < 0 || c == ')' || c == '|' || c == ',' || c == ']' || c == '}')
		return 0;
	if (kw(p, "or") || kw(p, "and"))
		return 0;
	return 1;
}

static struct qnode *
parse_unary(struct ps *p, const char *field)
{
	struct qnode *n, *k;
	size_t at, l;
	int c = peek(p);

	at = p->i;
	if (++p->depth > MAX_DEPTH) {
		fail(p, at, "too deeply nested");
		return NULL;
	}
	if (c == '-' || c == '!' || kw(p, "not")) {
		p->i += c == '-' || c == '!' ? 1 : 3;
		if (!starts_filter(p)) {
			c = peek(p);
			fail(p, p->i, c < 0 ? "unexpected end of query, expected a filter after NOT" :
			    "expected a filter after NOT, found '%c'", c);
			return NULL;
		}
		if ((k = parse_unary(p, field)) == NULL)
			return NULL;
		if ((n = node_new(p, QF_NOT, NULL)) == NULL || add_kid(p, n, k) < 0) {
			qry_node_free(k);
			qry_node_free(n);
			return NULL;
		}
		p->depth--;
		return n;
	}
	if (c == '(') {
		n = field_value(p, field);
		p->depth--;
		return n;
	}
	if (c == '{') {
		n = stream_filter(p);
		p->depth--;
		return n;
	}
	if (c >= 0 && is_quote(c)) {
		/* "field name":value or a phrase */
		size_t save = p->i;

		if (quoted(p) < 0)
			return NULL;
		if (p->i < p->n && p->s[p->i] == ':') {
			char *f = dupn(p, p->buf.buf, p->buf.len);

			if (f == NULL)
				return NULL;
			p->i++;
			n = field_value(p, f);
			free(f);
			p->depth--;
			return n;
		}
		p->i = save;
		n = field_value(p, field);
		p->depth--;
		return n;
	}
	if (c == '~' || c == '=' || c == '>' || c == '<') {
		n = field_value(p, field);
		p->depth--;
		return n;
	}
	if (c == ':')
		return fail(p, p->i, "missing field name before ':'"), NULL;
	if (c < 0)
		return fail(p, p->i, "unexpected end of query, expected a filter"), NULL;
	if ((l = bare_len(p, 1)) == 0)
		return fail(p, p->i, "unexpected '%c', expected a filter", c), NULL;
	if (kw(p, "or") || kw(p, "and"))
		return fail(p, p->i, "unexpected '%.*s', expected a filter", (int)l, p->s + p->i), NULL;
	if (p->i + l < p->n && p->s[p->i + l] == ':') {
		char *f = dupn(p, p->s + p->i, l);

		if (f == NULL)
			return NULL;
		p->i += l + 1;
		if (p->i >= p->n || p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n') {
			fail(p, p->i, "expected a value after '%s:'", f);
			free(f);
			return NULL;
		}
		n = field_value(p, f);
		free(f);
		p->depth--;
		return n;
	}
	n = field_value(p, field);
	p->depth--;
	return n;
}

static struct qnode *
parse_and(struct ps *p, const char *field)
{
	struct qnode *n = NULL, *k;

	if ((k = parse_unary(p, field)) == NULL)
		return NULL;
	for (;;) {
		if (kw(p, "and")) {
			p->i += 3;
			if (!starts_filter(p)) {
				int c = peek(p);

				fail(p, p->i, c < 0 ? "unexpected end of query, expected a filter after AND" :
				    "expected a filter after AND, found '%c'", c);
				goto bad;
			}
		} else if (!starts_filter(p))
			break;
		if (n == NULL) {
			if ((n = node_new(p, QF_AND, NULL)) == NULL || add_kid(p, n, k) < 0)
				goto bad;
			k = NULL;
		}
		if ((k = parse_unary(p, field)) == NULL || add_kid(p, n, k) < 0)
			goto bad;
		k = NULL;
	}
	return n ? n : k;
bad:
	qry_node_free(k);
	qry_node_free(n);
	return NULL;
}

static struct qnode *
parse_or(struct ps *p, const char *field)
{
	struct qnode *n = NULL, *k;

	if ((k = parse_and(p, field)) == NULL)
		return NULL;
	while (kw(p, "or")) {
		p->i += 2;
		if (n == NULL) {
			if ((n = node_new(p, QF_OR, NULL)) == NULL || add_kid(p, n, k) < 0)
				goto bad;
			k = NULL;
		}
		if (!starts_filter(p)) {
			int c = peek(p);

			fail(p, p->i, c < 0 ? "unexpected end of query, expected a filter after OR" :
			    "expected a filter after OR, found '%c'", c);
			goto bad;
		}
		if ((k = parse_and(p, field)) == NULL || add_kid(p, n, k) < 0)
			goto bad;
		k = NULL;
	}
	return n ? n : k;
bad:
	qry_node_free(k);
	qry_node_free(n);
	return NULL;
}

/* ---- pipes ---- */

static int
uint_arg(struct ps *p, const char *what, uint64_t *v)
{
	size_t at, l;
	char *end;
	unsigned long long x;

	skip_ws(p);
	at = p->i;
	l = bare_len(p, 1);
	if (l == 0 || p->s[p->i] < '0' || p->s[p->i] > '9') {
		if (p->i >= p->n)
			return fail(p, at, "unexpected end of query, expected %s", what);
		return fail(p, at, "expected %s", what);
	}
	errno = 0;
	x = strtoull(p->s + p->i, &end, 10);
	if (errno || (size_t)(end - (p->s + p->i)) != l)
		return fail(p, at, "bad %s '%.*s'", what, (int)(l > 40 ? 40 : l), p->s + p->i);
	p->i += l;
	*v = x;
	return 0;
}

/* A field name in a pipe: bare (':' allowed? no: "_time:1m" is a bucket) or quoted. */
static int
field_name(struct ps *p, char **out)
{
	size_t l;
	int c = peek(p);

	if (c >= 0 && is_quote(c)) {
		if (quoted(p) < 0)
			return -1;
		return (*out = dupn(p, p->buf.buf, p->buf.len)) ? 0 : -1;
	}
	if ((l = bare_len(p, 1)) == 0) {
		if (c < 0)
			return fail(p, p->i, "unexpected end of query, expected a field name");
		return fail(p, p->i, "expected a field name, found '%c'", c);
	}
	if (!(*out = dupn(p, p->s + p->i, l)))
		return -1;
	p->i += l;
	return 0;
}

static int
add_key(struct ps *p, struct qpipe *pp, char *field)
{
	struct qkey *k = realloc(pp->keys, (pp->nkeys + 1) * sizeof(*k));

	if (k == NULL) {
		free(field);
		return oom(p), -1;
	}
	pp->keys = k;
	memset(&k[pp->nkeys], 0, sizeof(*k));
	k[pp->nkeys++].field = field;
	return 0;
}

/*
 * A field list: "(a, b desc)" or "a, b" (kind says which extras are
 * allowed: 's' sort order, 'b' stats buckets).
 */
static int
field_list(struct ps *p, struct qpipe *pp, int kind, int need_paren)
{
	int paren = 0, c;

	if (peek(p) == '(') {
		paren = 1;
		p->i++;
		if (peek(p) == ')' && kind == 'b') {
			p->i++;
			return 0;
		}
	} else if (need_paren) {
		c = peek(p);
		return fail(p, p->i, c < 0 ? "unexpected end of query, expected '('" :
		    "expected '(' before the field list");
	}
	for (;;) {
		char *f;
		struct qkey *k;

		if (field_name(p, &f) < 0 || add_key(p, pp, f) < 0)
			return -1;
		k = &pp->keys[pp->nkeys - 1];
		if (kind == 's' && kw(p, "desc")) {
			p->i += 4;
			k->desc = 1;
		} else if (kind == 's' && kw(p, "asc")) {
			p->i += 3;
		}
		if (kind == 'b' && p->i < p->n && p->s[p->i] == ':') {
			size_t at = ++p->i;
			int64_t d;
			size_t l = bare_len(p, 1);

			if (l == 0)
				return fail(p, at, "expected a bucket size after '%s:'", k->field);
			if (strcmp(k->field, "_time") == 0) {
				if (ts_parse_duration(p->s + p->i, l, &d) != l || d <= 0)
					return fail(p, at, "bad time bucket '%.*s'", (int)(l > 40 ? 40 : l),
					    p->s + p->i);
				k->bucket = d;
			} else if (!qry_parse_num(p->s + p->i, l, &k->nbucket) ||
			    !(k->nbucket > 0) || isinf(k->nbucket))
				return fail(p, at, "bad bucket '%.*s'", (int)(l > 40 ? 40 : l), p->s + p->i);
			p->i += l;
		}
		c = peek(p);
		if (c == ',') {
			p->i++;
			continue;
		}
		break;
	}
	if (paren && expect(p, ')') < 0)
		return -1;
	return 0;
}

static const struct {
	const char *name;
	enum qfn fn;
	int nargs;		/* 0: optional field; 1: field; 2: phi, field */
} stat_fns[] = {
	{ "count", QS_COUNT, 0 }, { "count_uniq", QS_COUNT_UNIQ, 1 }, { "sum", QS_SUM, 1 },
	{ "avg", QS_AVG, 1 }, { "min", QS_MIN, 1 }, { "max", QS_MAX, 1 },
	{ "quantile", QS_QUANTILE, 2 },
};

static int
stats_fn(struct ps *p, struct qpipe *pp)
{
	struct qstat *s, st = { 0 };
	struct sb name = SB_INIT;
	size_t at, l, k;
	int c;

	skip_ws(p);
	at = p->i;
	l = bare_len(p, 1);
	for (k = 0; k < sizeof(stat_fns) / sizeof(*stat_fns); k++)
		if (strlen(stat_fns[k].name) == l && strncmp(p->s + p->i, stat_fns[k].name, l) == 0)
			break;
	if (l == 0)
		return fail(p, at, p->i >= p->n ? "unexpected end of query, expected a stats function" :
		    "expected a stats function");
	if (k == sizeof(stat_fns) / sizeof(*stat_fns))
		return fail(p, at, "unknown stats function '%.*s'", (int)(l > 40 ? 40 : l), p->s + p->i);
	p->i += l;
	st.fn = stat_fns[k].fn;
	if (expect(p, '(') < 0)
		return -1;
	if (sb_adds(&name, stat_fns[k].name) < 0 || sb_addc(&name, '(') < 0)
		goto oom;
	if (stat_fns[k].nargs == 2) {
		size_t pat = (skip_ws(p), p->i);

		if (number(p, &st.phi) < 0)
			goto bad;
		if (st.phi < 0 || st.phi > 1) {
			fail(p, pat, "quantile must be between 0 and 1");
			goto bad;
		}
		if (sb_add(&name, p->buf.buf, p->buf.len) < 0 || sb_adds(&name, ", ") < 0)
			goto oom;
		if (expect(p, ',') < 0)
			goto bad;
	}
	c = peek(p);
	if (c == ')' && stat_fns[k].nargs == 0) {
		if (sb_addc(&name, '*') < 0)
			goto oom;
	} else if (c == '*' && stat_fns[k].nargs == 0) {
		p->i++;
		if (sb_addc(&name, '*') < 0)
			goto oom;
	} else {
		if (field_name(p, &st.field) < 0)
			goto bad;
		if (sb_adds(&name, st.field) < 0)
			goto oom;
	}
	if (expect(p, ')') < 0 || sb_addc(&name, ')') < 0)
		goto bad;
	if (kw(p, "as")) {
		p->i += 2;
		c = peek(p);
		if (c < 0 || c == ',' || c == '|' || c == ')')
			return fail(p, p->i, c < 0 ? "unexpected end of query, expected a name after 'as'" :
			    "expected a name after 'as'"), free(st.field), sb_free(&name), -1;
	}
	c = peek(p);
	if (c >= 0 && c != ',' && c != '|' && c != ')') {
		free(name.buf);
		name.buf = NULL;
		if (field_name(p, &st.name) < 0)
			goto bad;
	} else if ((st.name = sb_detach(&name)) == NULL)
		goto oom;
	if ((s = realloc(pp->st, (pp->nst + 1) * sizeof(*s))) == NULL)
		goto oom;
	pp->st = s;
	pp->st[pp->nst++] = st;
	sb_free(&name);
	return 0;
oom:
	oom(p);
bad:
	free(st.field);
	free(st.name);
	sb_free(&name);
	return -1;
}

static int
pipe_one(struct ps *p, struct qpipe *pp)
{
	size_t at, l;
	const char *w;

	skip_ws(p);
	at = p->i;
	l = bare_len(p, 1);
	w = p->s + p->i;
	if (l == 0)
		return fail(p, at, p->i >= p->n ? "unexpected end of query, expected a pipe after '|'" :
		    "expected a pipe name after '|'");
#define IS(s) (l == strlen(s) && strncasecmp(w, s, l) == 0)
	p->i += l;
	if (IS("limit") || IS("head")) {
		pp->kind = QP_LIMIT;
		if (IS("head") && !starts_filter(p))
			return pp->n = 10, 0;
		return uint_arg(p, "a number after 'limit'", &pp->n);
	}
	if (IS("offset") || IS("skip")) {
		pp->kind = QP_OFFSET;
		return uint_arg(p, "a number after 'offset'", &pp->n);
	}
	if (IS("sort")) {
		pp->kind = QP_SORT;
		if (kw(p, "by"))
			p->i += 2;
		if (field_list(p, pp, 's', 1) < 0)
			return -1;
		for (int seen = 0;;) {
			/* each option once: "desc desc" is a typo, not a double negation */
			int opt = kw(p, "desc") ? 1 : kw(p, "limit") ? 2 : kw(p, "offset") ? 4 : 0;

			if (opt == 0)
				return 0;
			if (seen & opt)
				return fail(p, p->i, "'%s' given twice", opt == 1 ? "desc" :
				    opt == 2 ? "limit" : "offset");
			seen |= opt;
			if (opt == 1) {
				p->i += 4;
				pp->desc = 1;
			} else if (opt == 2) {
				p->i += 5;
				if (uint_arg(p, "a number after 'limit'", &pp->n) < 0)
					return -1;
				pp->has_n = 1;
			} else {
				p->i += 6;
				if (uint_arg(p, "a number after 'offset'", &pp->off) < 0)
					return -1;
			}
		}
	}
	if (IS("fields") || IS("keep")) {
		pp->kind = QP_FIELDS;
		return field_list(p, pp, 'f', 0);
	}
	if (IS("delete") || IS("del") || IS("rm") || IS("drop")) {
		pp->kind = QP_DELETE;
		return field_list(p, pp, 'f', 0);
	}
	if (IS("stats")) {
		pp->kind = QP_STATS;
		if (kw(p, "by")) {
			p->i += 2;
			if (field_list(p, pp, 'b', 1) < 0)
				return -1;
		} else if (peek(p) == '(') {
			if (field_list(p, pp, 'b', 1) < 0)
				return -1;
		}
		for (;;) {
			if (stats_fn(p, pp) < 0)
				return -1;
			if (peek(p) != ',')
				return 0;
			p->i++;
		}
	}
	if (IS("top")) {
		pp->kind = QP_TOP;
		pp->n = 10;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9' &&
		    uint_arg(p, "a number after 'top'", &pp->n) < 0)
			return -1;
		if (kw(p, "by"))
			p->i += 2;
		return field_list(p, pp, 'f', 1);
	}
	if (IS("uniq")) {
		pp->kind = QP_UNIQ;
		if (kw(p, "by"))
			p->i += 2;
		if (field_list(p, pp, 'f', 1) < 0)
			return -1;
		if (kw(p, "limit")) {
			p->i += 5;
			if (uint_arg(p, "a number after 'limit'", &pp->n) < 0)
				return -1;
			pp->has_n = 1;
		}
		return 0;
	}
	if (IS("filter") || IS("where")) {
		pp->kind = QP_FILTER;
		if (!starts_filter(p)) {
			int c = peek(p);

			return fail(p, p->i, c < 0 ? "unexpected end of query, expected a filter" :
			    "expected a filter after 'filter'");
		}
		return (pp->filter = parse_or(p, "_msg")) ? 0 : -1;
	}
#undef IS
	return fail(p, at, "unknown pipe '%.*s'", (int)(l > 40 ? 40 : l), w);
}

static void
pipe_free(struct qpipe *pp)
{
	for (size_t i = 0; i < pp->nkeys; i++)
		free(pp->keys[i].field);
	free(pp->keys);
	for (size_t i = 0; i < pp->nst; i++) {
		free(pp->st[i].field);
		free(pp->st[i].name);
	}
	free(pp->st);
	qry_node_free(pp->filter);
}

/* 1-based line and column (in code points) of byte offset pos. */
static void
position(const char *s, size_t n, size_t pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos && i < n; i++) {
		if (s[i] == '\n')
			++*line, *col = 1;
		else if (((unsigned char)s[i] & 0xC0) != 0x80)
			++*col;
	}
}

struct qry *
qry_parse(const char *text, size_t n, struct qry_err *err)
{
	struct ps p = { .s = text, .n = n };
	struct qry *q = calloc(1, sizeof(*q));
	struct timespec ts;

	if (q == NULL) {
		oom(&p);
		goto bad;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	q->now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (memchr(text, '\0', n) != NULL) {
		fail(&p, (size_t)((const char *)memchr(text, '\0', n) - text), "NUL byte in query");
		goto bad;
	}
	if (peek(&p) < 0) {
		fail(&p, p.i, "empty query");
		goto bad;
	}
	if (peek(&p) == '|') {
		fail(&p, p.i, "expected a filter before '|' (use '*' for all records)");
		goto bad;
	}
	if ((q->root = parse_or(&p, "_msg")) == NULL)
		goto bad;
	for (;;) {
		int c = peek(&p);
		struct qpipe *pp;

		if (c < 0)
			break;
		if (c != '|') {
			if (c == ')')
				fail(&p, p.i, "unexpected ')'");
			else
				fail(&p, p.i, "unexpected '%c'", c);
			goto bad;
		}
		p.i++;
		if ((pp = realloc(q->pipes, (q->npipes + 1) * sizeof(*pp))) == NULL) {
			oom(&p);
			goto bad;
		}
		q->pipes = pp;
		memset(&q->pipes[q->npipes], 0, sizeof(*pp));
		if (pipe_one(&p, &q->pipes[q->npipes++]) < 0)
			goto bad;
	}
	if ((q->md = pcre2_match_data_create(1, NULL)) == NULL) {
		oom(&p);
		goto bad;
	}
	qry_compute_fields(q);
	sb_free(&p.buf);
	return q;
bad:
	position(text, n, p.errpos, &err->line, &err->col);
	snprintf(err->msg, sizeof(err->msg), "%s", p.msg);
	sb_free(&p.buf);
	qry_free(q);
	return NULL;
}

void
qry_free(struct qry *q)
{
	if (q == NULL)
		return;
	qry_node_free(q->root);
	for (size_t i = 0; i < q->npipes; i++)
		pipe_free(&q->pipes[i]);
	free(q->pipes);
	pcre2_match_data_free(q->md);
	sb_free(&q->tmp);
	sb_free(&q->fold);
	sb_free(&q->txt);
	free(q->last_stream);
	st_free(&q->labels);
	for (size_t i = 0; i < q->nfnames; i++)
		free(q->fnames[i]);
	free(q->fnames);
	for (size_t i = 0; i < q->nwnames; i++)
		free(q->wnames[i]);
	free(q->wnames);
	free(q);
}

void
qry_err_format(const struct qry_err *err, char *buf, size_t size)
{
	snprintf(buf, size, "query:%d:%d: %s", err->line, err->col, err->msg);
}

void
qry_set_now(struct qry *q, int64_t now_ns)
{
	q->now = now_ns;
}

int
qry_has_pipes(const struct qry *q)
{
	return q->npipes > 0;
}

/* ---- the canonical text of a query (for --explain and tests) ---- */

static int
fmt_str(struct sb *o, const char *s, size_t n)
{
	int r = sb_addc(o, '"');

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			r = sb_addc(o, '\\') || sb_addc(o, c);
		else if (c < 0x20 || c == 0x7f)
			r = sb_addf(o, "\\x%02x", c);
		else
			r = sb_addc(o, c);
	}
	return r || sb_addc(o, '"') ? -1 : 0;
}

static int
fmt_time(struct sb *o, int64_t t)
{
	char b[TS_BUFSZ];

	if (t == INT64_MIN)
		return sb_adds(o, "-inf");
	if (t == INT64_MAX)
		return sb_adds(o, "inf");
	ts_format(t, b);
	return sb_adds(o, b);
}

static int
fmt_node(const struct qnode *n, struct sb *o)
{
	int r = 0;

	if (n->field && n->kind != QF_TIME && n->kind != QF_STREAM)
		r |= sb_adds(o, n->field) || sb_addc(o, ':');
	switch (n->kind) {
	case QF_ALL:
		return r | sb_addc(o, '*');
	case QF_AND:
	case QF_OR:
		r |= sb_addc(o, '(');
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				r |= sb_adds(o, n->kind == QF_AND ? " AND " : " OR ");
			r |= fmt_node(n->kids[i], o);
		}
		return r | sb_addc(o, ')');
	case QF_NOT:
		return r | sb_adds(o, "NOT ") | fmt_node(n->kids[0], o);
	case QF_PHRASE:
	case QF_PREFIX:
		if (n->icase)
			r |= sb_adds(o, "i(");
		r |= fmt_str(o, n->val, n->vlen);
		if (n->kind == QF_PREFIX)
			r |= sb_addc(o, '*');
		return n->icase ? r | sb_addc(o, ')') : r;
	case QF_EXACT:
	case QF_EXACT_PREFIX:
		r |= sb_addc(o, '=') | fmt_str(o, n->val, n->vlen);
		return n->kind == QF_EXACT_PREFIX ? r | sb_addc(o, '*') : r;
	case QF_REGEX:
		return r | sb_addc(o, '~') | fmt_str(o, n->val, n->vlen);
	case QF_IN:
		r |= sb_adds(o, "in(");
		for (size_t i = 0; i < n->nvals; i++)
			r |= (i ? sb_adds(o, ", ") : 0) | fmt_str(o, n->vals[i], n->vlens[i]);
		return r | sb_addc(o, ')');
	case QF_RANGE:
		r |= sb_adds(o, "range") | sb_addc(o, n->lo_incl ? '[' : '(');
		r |= qry_fmt_num(n->lo, o) | sb_adds(o, ", ") | qry_fmt_num(n->hi, o);
		return r | sb_addc(o, n->hi_incl ? ']' : ')');
	case QF_ANY:
		return r | sb_addc(o, '*');
	case QF_EMPTY:
		return r | sb_adds(o, "\"\"");
	case QF_TIME:
		r |= sb_adds(o, "_time:");
		if (n->rel)
			r |= sb_addf(o, "%" PRId64 "ns", n->dur);
		if (n->rel == 2)
			r |= sb_addf(o, " offset %" PRId64 "ns", n->tmin);
		if (n->rel)
			return r;
		return r | sb_addc(o, '[') | fmt_time(o, n->tmin) | sb_adds(o, ", ") |
		    fmt_time(o, n->tmax) | sb_addc(o, ']');
	case QF_STREAM:
		r |= sb_addc(o, '{');
		for (size_t i = 0; i < n->nsm; i++) {
			static const char *ops[] = { ['='] = "=", ['!'] = "!=", ['~'] = "=~",
				['x'] = "!~" };
			r |= (i ? sb_adds(o, ", ") : 0) | sb_adds(o, n->sm[i].key) |
			    sb_adds(o, ops[n->sm[i].op]) |
			    fmt_str(o, n->sm[i].val, strlen(n->sm[i].val));
		}
		return r | sb_addc(o, '}');
	}
	return r;
}

int
qry_format(const struct qry *q, struct sb *o)
{
	static const char *pn[] = { "limit", "offset", "sort", "fields", "delete", "stats",
		"top", "uniq", "filter" };
	int r = fmt_node(q->root, o);

	for (size_t i = 0; i < q->npipes; i++) {
		const struct qpipe *pp = &q->pipes[i];

		r |= sb_adds(o, " | ") | sb_adds(o, pn[pp->kind]);
		if (pp->kind == QP_LIMIT || pp->kind == QP_OFFSET || pp->kind == QP_TOP)
			r |= sb_addf(o, " %llu", (unsigned long long)pp->n);
		if (pp->kind == QP_FILTER)
			r |= sb_addc(o, ' ') | fmt_node(pp->filter, o);
		if (pp->nkeys) {
			r |= sb_adds(o, pp->kind == QP_FIELDS || pp->kind == QP_DELETE ? " " : " by (");
			for (size_t k = 0; k < pp->nkeys; k++) {
				r |= (k ? sb_adds(o, ", ") : 0) | sb_adds(o, pp->keys[k].field);
				if (pp->keys[k].desc)
					r |= sb_adds(o, " desc");
				if (pp->keys[k].bucket)
					r |= sb_addf(o, ":%" PRId64 "ns", pp->keys[k].bucket);
				if (pp->keys[k].nbucket > 0)
					r |= sb_addc(o, ':') | qry_fmt_num(pp->keys[k].nbucket, o);
			}
			if (pp->kind != QP_FIELDS && pp->kind != QP_DELETE)
				r |= sb_addc(o, ')');
		}
		if (pp->kind == QP_SORT && pp->desc)
			r |= sb_adds(o, " desc");
		if ((pp->kind == QP_SORT || pp->kind == QP_UNIQ) && pp->has_n)
			r |= sb_addf(o, " limit %llu", (unsigned long long)pp->n);
		if (pp->kind == QP_SORT && pp->off)
			r |= sb_addf(o, " offset %llu", (unsigned long long)pp->off);
		for (size_t k = 0; k < pp->nst; k++) {
			const struct qstat *s = &pp->st[k];

			r |= sb_adds(o, k ? ", " : " ");
			if (s->fn == QS_QUANTILE)
				r |= sb_adds(o, "quantile(") | qry_fmt_num(s->phi, o) | sb_adds(o, ", ");
			else
				r |= sb_adds(o, stat_fns[s->fn].name) | sb_addc(o, '(');
			r |= sb_adds(o, s->field ? s->field : "*") | sb_adds(o, ") as ") |
			    sb_adds(o, s->name);
		}
	}
	return r ? -1 : 0;
}
