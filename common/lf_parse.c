/* lf_parse.c: the line parsers of lf.h, pointer arithmetic over one line, no allocation. */
#include <stddef.h>
#include <string.h>

#include "lf.h"
#include "ts.h"

/* A cursor over the line. */
struct cur {
	const char *s;
	size_t n, i;
};

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

static int
isalpha_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
spaces(struct cur *c)
{
	while (c->i < c->n && c->s[c->i] == ' ')
		c->i++;
}

/* The next space-separated token; 0 at end of line. */
static size_t
token(struct cur *c, const char **t)
{
	size_t a = c->i;

	while (c->i < c->n && c->s[c->i] != ' ')
		c->i++;
	*t = c->s + a;
	return c->i - a;
}

/* Expect the literal byte ch. */
static int
lit(struct cur *c, char ch)
{
	if (c->i < c->n && c->s[c->i] == ch) {
		c->i++;
		return 1;
	}
	return 0;
}

static void
addf(struct lf_rec *r, const char *k, const char *v, size_t vn)
{
	if (r->nf < LF_MAXF) {
		struct lf_field *f = &r->f[r->nf++];

		f->k = k;
		f->kn = strlen(k);
		f->v = v;
		f->vn = vn;
		f->quoted = 0;
	}
}

static void
setmsg(struct lf_rec *r, struct cur *c)
{
	r->msg = c->s + c->i;
	r->msgn = c->n - c->i;
}

static int
alldig(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdig(s[i]))
			return 0;
	return 1;
}

/* "<34>": the syslog priority, or -1. */
static int
pri(struct cur *c)
{
	int v = 0;
	size_t i = c->i;

	if (i >= c->n || c->s[i] != '<')
		return -1;
	for (i++; i < c->n && isdig(c->s[i]) && i - c->i <= 3; i++)
		v = v * 10 + (c->s[i] - '0');
	if (i == c->i + 1 || i >= c->n || c->s[i] != '>' || v > 191)
		return -1;
	c->i = i + 1;
	return v;
}

/* tag[pid]: or tag: at the cursor (syslog); 0 when absent. */
static int
tag(struct cur *c, struct lf_rec *r)
{
	size_t a = c->i, i = c->i, b, pa = 0, pn = 0;

	while (i < c->n && c->s[i] != ' ' && c->s[i] != ':' && c->s[i] != '[')
		i++;
	if (i == a || i >= c->n)
		return 0;
	b = i;
	if (c->s[i] == '[') {
		pa = ++i;
		while (i < c->n && isdig(c->s[i]))
			i++;
		pn = i - pa;
		if (i >= c->n || c->s[i] != ']' || pn == 0)
			return 0;
		i++;
	}
	if (i >= c->n || c->s[i] != ':')
		return 0;
	addf(r, "app", c->s + a, b - a);
	if (pn)
		addf(r, "pid", c->s + pa, pn);
	c->i = i + 1;
	if (c->i < c->n && c->s[c->i] == ' ')
		c->i++;
	return 1;
}

static int
p_syslog(struct cur *c, const struct lf_ctx *ctx, struct lf_rec *r)
{
	int p = pri(c), mon, day;
	size_t k;
	const char *t;

	if (c->n - c->i < 16 || (mon = ts_month(c->s + c->i, c->n - c->i)) == 0)
		return 0;
	day = c->s[c->i + 4] == ' ' ? c->s[c->i + 5] - '0' :
	    (c->s[c->i + 4] - '0') * 10 + c->s[c->i + 5] - '0';
	if (day < 1 || day > 31)
		return 0;
	if ((k = ts_parse_bsd(c->s + c->i, c->n - c->i, ts_guess_year(mon, day, ctx->now),
	    &r->time)) == 0)
		return 0;
	r->has_time = 1;
	c->i += k;
	if (!lit(c, ' '))
		return 0;
	spaces(c);
	if ((k = token(c, &t)) == 0 || t[k - 1] == ':')
		return 0;	/* no host: "Jun 14 15:16:01 kernel: x" is not 3164 */
	addf(r, "host", t, k);
	spaces(c);
	(void)tag(c, r);
	if (p >= 0) {
		r->lvl = lf_level_syslog(p & 7);
		r->lvl_raw = lf_level_name(r->lvl);
		r->lvln = strlen(r->lvl_raw);
	}
	setmsg(r, c);
	return 1;
}

/* An RFC 5424 header field: "-" is nil. */
static int
hdr(struct cur *c, struct lf_rec *r, const char *key)
{
	const char *t;
	size_t k = token(c, &t);

	if (k == 0 || !lit(c, ' '))
		return 0;
	if (!(k == 1 && t[0] == '-'))
		addf(r, key, t, k);
	return 1;
}

static int
p_rfc5424(struct cur *c, struct lf_rec *r)
{
	int p = pri(c);
	size_t k, a;

	if (p < 0 || !lit(c, '1') || !lit(c, ' '))
		return 0;
	if (c->i < c->n && c->s[c->i] == '-') {
		c->i++;
	} else {
		if ((k = ts_parse_iso(c->s + c->i, c->n - c->i, &r->time)) < 19)
			return 0;
		r->has_time = 1;
		c->i += k;
	}
	if (!lit(c, ' ') || !hdr(c, r, "host") || !hdr(c, r, "app") ||
	    !hdr(c, r, "pid") || !hdr(c, r, "msgid"))
		return 0;
	/* structured data: "-" or [id k="v\"x"]... kept as written */
	a = c->i;
	if (lit(c, '-')) {
		;
	} else if (c->i < c->n && c->s[c->i] == '[') {
		while (c->i < c->n && c->s[c->i] == '[') {
			int q = 0;

			for (c->i++; c->i < c->n; c->i++) {
				if (q && c->s[c->i] == '\\')
					c->i++;
				else if (c->s[c->i] == '"')
					q = !q;
				else if (!q && c->s[c->i] == ']')
					break;
			}
			if (!lit(c, ']'))
				return 0;
		}
		addf(r, "sd", c->s + a, c->i - a);
	} else
		return 0;
	if (c->i < c->n && !lit(c, ' '))
		return 0;
	/* a UTF-8 BOM may open the message */
	if (c->n - c->i >= 3 && memcmp(c->s + c->i, "\xef\xbb\xbf", 3) == 0)
		c->i += 3;
	r->lvl = lf_level_syslog(p & 7);
	r->lvl_raw = lf_level_name(r->lvl);
	r->lvln = strlen(r->lvl_raw);
	setmsg(r, c);
	return 1;
}

/* "quoted" with backslash escapes (nginx writes \x22); span without quotes. */
static int
quoted(struct cur *c, const char **v, size_t *vn)
{
	size_t a;

	if (!lit(c, '"'))
		return 0;
	a = c->i;
	while (c->i < c->n && c->s[c->i] != '"') {
		if (c->s[c->i] == '\\')
			c->i++;
		c->i++;
	}
	if (c->i >= c->n)
		return 0;
	*v = c->s + a;
	*vn = c->i - a;
	c->i++;
	return 1;
}

static int
p_access(struct cur *c, struct lf_rec *r)
{
	const char *t, *u, *rq, *v;
	size_t k, un, rn, vn, sp;

	if ((k = token(c, &t)) == 0 || !lit(c, ' '))
		return 0;
	addf(r, "client", t, k);
	if (token(c, &u) == 0 || !lit(c, ' '))	/* ident */
		return 0;
	if ((un = token(c, &u)) == 0 || !lit(c, ' ') || !lit(c, '['))
		return 0;
	if (!(un == 1 && u[0] == '-'))
		addf(r, "user", u, un);
	if ((k = ts_parse_clf(c->s + c->i, c->n - c->i, &r->time)) == 0)
		return 0;
	r->has_time = 1;
	c->i += k;
	if (!lit(c, ']') || !lit(c, ' ') || !quoted(c, &rq, &rn) || !lit(c, ' '))
		return 0;
	if ((k = token(c, &t)) != 3 || !alldig(t, 3))
		return 0;
	/* "GET /path HTTP/1.1" split when it has that shape */
	for (sp = 0; sp < rn && rq[sp] != ' '; sp++)
		;
	if (sp < rn) {
		size_t p2 = sp + 1, e = rn;

		while (e > p2 && rq[e - 1] != ' ')
			e--;
		addf(r, "method", rq, sp);
		if (e > p2) {
			addf(r, "path", rq + p2, e - 1 - p2);
			addf(r, "proto", rq + e, rn - e);
		} else
			addf(r, "path", rq + p2, rn - p2);
	}
	addf(r, "status", t, 3);
	if (lit(c, ' ') && (k = token(c, &t)) > 0 && !(k == 1 && t[0] == '-'))
		addf(r, "bytes", t, k);
	if (lit(c, ' ') && quoted(c, &v, &vn)) {
		if (!(vn == 1 && v[0] == '-'))
			addf(r, "referer", v, vn);
		if (lit(c, ' ') && quoted(c, &v, &vn) && !(vn == 1 && v[0] == '-'))
			addf(r, "user_agent", v, vn);
	}
	r->msg = c->s;
	r->msgn = c->n;
	return 1;
}

/* "[...]" at the cursor, brackets balanced; the inside in *v. */
static int
bracket(struct cur *c, const char **v, size_t *vn)
{
	size_t a, depth = 0;

	if (c->i >= c->n || c->s[c->i] != '[')
		return 0;
	a = c->i + 1;
	for (size_t i = c->i; i < c->n; i++) {
		if (c->s[i] == '[')
			depth++;
		else if (c->s[i] == ']' && --depth == 0) {
			*v = c->s + a;
			*vn = i - a;
			c->i = i + 1;
			return 1;
		}
	}
	return 0;
}

static int
p_apache_error(struct cur *c, struct lf_rec *r)
{
	const char *v, *l;
	size_t k, vn, ln, colon;

	if (!lit(c, '['))
		return 0;
	if ((k = ts_parse_ctime(c->s + c->i, c->n - c->i, &r->time)) == 0)
		return 0;
	r->has_time = 1;
	c->i += k;
	if (!lit(c, ']') || !lit(c, ' ') || !bracket(c, &v, &vn))
		return 0;
	/* [level] or, since 2.4, [module:level] */
	for (colon = 0; colon < vn && v[colon] != ':'; colon++)
		;
	l = colon < vn ? v + colon + 1 : v;
	ln = colon < vn ? vn - colon - 1 : vn;
	if ((r->lvl = lf_level(l, ln)) == LVL_NONE)
		return 0;
	r->lvl_raw = l;
	r->lvln = ln;
	if (colon < vn)
		addf(r, "module", v, colon);
	for (;;) {
		size_t save = c->i;

		if (!lit(c, ' ') || !bracket(c, &v, &vn)) {
			c->i = save;
			break;
		}
		if (vn > 4 && memcmp(v, "pid ", 4) == 0) {
			size_t e = 4;

			while (e < vn && isdig(v[e]))
				e++;
			addf(r, "pid", v + 4, e - 4);
			if (vn > e + 5 && memcmp(v + e, ":tid ", 5) == 0)
				addf(r, "tid", v + e + 5, vn - e - 5);
		} else if (vn > 7 && memcmp(v, "client ", 7) == 0) {
			addf(r, "client", v + 7, vn - 7);
		} else {
			c->i = save;
			break;
		}
	}
	lit(c, ' ');
	setmsg(r, c);
	return 1;
}

/* A level word, maybe "[INFO]" or "ERROR:"; sets r and returns 1. */
static int
levelword(const char *t, size_t k, struct lf_rec *r)
{
	enum lf_lvl l;

	if (k > 2 && t[0] == '[' && t[k - 1] == ']')
		t++, k -= 2;
	else if (k > 1 && t[k - 1] == ':')
		k--;
	if ((l = lf_level(t, k)) == LVL_NONE)
		return 0;
	r->lvl = l;
	r->lvl_raw = t;
	r->lvln = k;
	return 1;
}

/* The timestamp an application layout opens with. */
static size_t
app_time(const char *s, size_t n, int64_t *t)
{
	size_t k;

	if ((k = ts_parse_iso(s, n, t)) > 10)	/* a date alone is no event start */
		return k;
	if ((k = ts_parse_yy_slash(s, n, t)) || (k = ts_parse_yymmdd(s, n, t)))
		return k;
	return 0;
}

/*
 * TIME then, in some order, up to a few of: "-", pid (HDFS), LEVEL,
 * [thread], logger followed by ":" or " - ".  Covers log4j's
 * "%d %p [%t] %c: %m", "%d [%t] %-5p %c - %m", Python's
 * "%(asctime)s - %(name)s - %(levelname)s - %(message)s", Spark, HDFS,
 * Zookeeper.  Also Python's basicConfig "LEVEL:logger:msg" (no time).
 */
static int
p_app(struct cur *c, struct lf_rec *r)
{
	const char *t, *v;
	size_t k, vn, save;
	int brk = 0, logger = 0, thread = 0, pid = 0;

	if (c->i < c->n && c->s[c->i] == '[') {
		brk = 1;
		c->i++;
	}
	if ((k = app_time(c->s + c->i, c->n - c->i, &r->time)) == 0) {
		const char *l;
		size_t ln;

		if (brk)
			return 0;
		/* LEVEL:logger:msg, upper-case level only */
		for (ln = 0; ln < c->n && isalpha_(c->s[ln]); ln++)
			if (c->s[ln] < 'A' || c->s[ln] > 'Z')
				return 0;
		if (ln >= c->n || c->s[ln] != ':' || lf_level(c->s, ln) == LVL_NONE)
			return 0;
		l = c->s;
		for (k = ln + 1; k < c->n && c->s[k] != ':' && c->s[k] != ' '; k++)
			;
		if (k >= c->n || c->s[k] != ':' || k == ln + 1)
			return 0;
		r->lvl = lf_level(l, ln);
		r->lvl_raw = l;
		r->lvln = ln;
		addf(r, "logger", c->s + ln + 1, k - ln - 1);
		c->i = k + 1;
		setmsg(r, c);
		return 1;
	}
	r->has_time = 1;
	c->i += k;
	if (brk && !lit(c, ']'))
		return 0;
	if (c->i < c->n && c->s[c->i] != ' ')
		return 0;
	for (int step = 0; step < 8; step++) {
		spaces(c);
		save = c->i;
		if (c->i >= c->n)
			break;
		if (c->s[c->i] == '-' && (c->i + 1 == c->n || c->s[c->i + 1] == ' ')) {
			c->i++;
			continue;
		}
		if (c->s[c->i] == '[') {
			k = token(c, &t);
			if (r->lvl == LVL_NONE && levelword(t, k, r))
				continue;
			c->i = save;
			if (thread || !bracket(c, &v, &vn) || (c->i < c->n && c->s[c->i] != ' ')) {
				c->i = save;
				break;
			}
			addf(r, "thread", v, vn);
			thread = 1;
			continue;
		}
		c->i = save;
		k = token(c, &t);
		if (r->lvl == LVL_NONE && levelword(t, k, r))
			continue;
		if (!pid && r->lvl == LVL_NONE && alldig(t, k)) {
			addf(r, "pid", t, k);
			pid = 1;
			continue;
		}
		if (!logger && k > 1 && t[k - 1] == ':' && r->lvl != LVL_NONE) {
			addf(r, "logger", t, k - 1);
			logger = 1;
			spaces(c);
			break;
		}
		if (!logger && c->n - c->i >= 3 && memcmp(c->s + c->i, " - ", 3) == 0) {
			addf(r, "logger", t, k);
			logger = 1;
			continue;
		}
		c->i = save;
		break;
	}
	setmsg(r, c);
	return 1;
}

static int
p_android(struct cur *c, const struct lf_ctx *ctx, struct lf_rec *r)
{
	const char *t;
	size_t k, a, e;
	int mon, day;

	if (c->n < 20 || !isdig(c->s[0]) || c->s[2] != '-')
		return 0;
	mon = (c->s[0] - '0') * 10 + c->s[1] - '0';
	day = (c->s[3] - '0') * 10 + c->s[4] - '0';
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	if ((k = ts_parse_mmdd(c->s, c->n, ts_guess_year(mon, day, ctx->now), &r->time)) == 0)
		return 0;
	r->has_time = 1;
	c->i = k;
	spaces(c);
	if ((k = token(c, &t)) == 0 || !alldig(t, k))
		return 0;
	addf(r, "pid", t, k);
	spaces(c);
	if ((k = token(c, &t)) == 0 || !alldig(t, k))
		return 0;
	addf(r, "tid", t, k);
	spaces(c);
	if ((k = token(c, &t)) != 1 || !lit(c, ' '))
		return 0;
	switch (t[0]) {
	case 'V': r->lvl = LVL_TRACE; break;
	case 'D': r->lvl = LVL_DEBUG; break;
	case 'I': r->lvl = LVL_INFO; break;
	case 'W': r->lvl = LVL_WARN; break;
	case 'E': r->lvl = LVL_ERROR; break;
	case 'F': case 'A': r->lvl = LVL_FATAL; break;
	default: return 0;
	}
	r->lvl_raw = t;
	r->lvln = 1;
	/* the tag runs to ": " (padded with spaces in threadtime) */
	a = c->i;
	for (e = a; e + 1 < c->n && !(c->s[e] == ':' && c->s[e + 1] == ' '); e++)
		;
	if (e + 1 >= c->n) {
		if (e < c->n && c->s[e] == ':')	/* "Tag:" with an empty message */
			e = c->n - 1;
		else
			return 0;
	}
	c->i = e + 1;
	while (e > a && c->s[e - 1] == ' ')
		e--;
	addf(r, "tag", c->s + a, e - a);
	lit(c, ' ');
	setmsg(r, c);
	return 1;
}

static int
p_cbs(struct cur *c, struct lf_rec *r)
{
	const char *t;
	size_t k;

	if ((k = ts_parse_iso(c->s, c->n, &r->time)) < 19)
		return 0;
	r->has_time = 1;
	c->i = k;
	if (!lit(c, ',') || !lit(c, ' '))
		return 0;
	spaces(c);
	if ((k = token(c, &t)) == 0 || (r->lvl = lf_level(t, k)) == LVL_NONE)
		return 0;
	r->lvl_raw = t;
	r->lvln = k;
	spaces(c);
	if ((k = token(c, &t)) == 0)
		return 0;
	addf(r, "logger", t, k);
	spaces(c);
	setmsg(r, c);
	return 1;
}

static int
p_bgl(struct cur *c, struct lf_rec *r)
{
	const char *t, *lab, *node;
	size_t k, labn, noden;

	if ((labn = token(c, &lab)) == 0 || !lit(c, ' '))
		return 0;
	if ((k = token(c, &t)) == 0 || !alldig(t, k) || !lit(c, ' '))
		return 0;	/* epoch seconds */
	if ((k = token(c, &t)) != 10 || t[4] != '.' || !lit(c, ' '))
		return 0;	/* 2005.06.03 */
	if ((noden = token(c, &node)) == 0 || !lit(c, ' '))
		return 0;
	if ((k = ts_parse_bgl(c->s + c->i, c->n - c->i, &r->time)) == 0)
		return 0;
	r->has_time = 1;
	c->i += k;
	if (!lit(c, ' ') || token(c, &t) == 0 || !lit(c, ' '))
		return 0;	/* the node again */
	if (!(labn == 1 && lab[0] == '-'))
		addf(r, "label", lab, labn);
	addf(r, "node", node, noden);
	if ((k = token(c, &t)) == 0 || !lit(c, ' '))
		return 0;
	addf(r, "type", t, k);
	if ((k = token(c, &t)) == 0)
		return 0;
	addf(r, "logger", t, k);
	lit(c, ' ');
	if ((k = token(c, &t)) > 0 && (r->lvl = lf_level(t, k)) != LVL_NONE) {
		r->lvl_raw = t;
		r->lvln = k;
		lit(c, ' ');
	} else
		c->i -= k;
	setmsg(r, c);
	return 1;
}

static int
keychar(int c)
{
	return isalpha_(c) || isdig(c) || c == '_' || c == '.' || c == '-' || c == '@' ||
	    c == '/';
}

/* key=value key="v \"q\"" ...; every token must be a pair. */
static int
p_logfmt(struct cur *c, struct lf_rec *r)
{
	while (spaces(c), c->i < c->n) {
		struct lf_field *f;
		size_t a = c->i;

		while (c->i < c->n && keychar(c->s[c->i]))
			c->i++;
		if (c->i == a || !lit(c, '='))
			return 0;
		if (r->nf == LF_MAXF)
			return 0;
		f = &r->f[r->nf++];
		f->k = c->s + a;
		f->kn = c->i - a - 1;
		f->quoted = 0;
		if (c->i < c->n && c->s[c->i] == '"') {
			if (!quoted(c, &f->v, &f->vn))
				return 0;
			f->quoted = 1;
		} else {
			a = c->i;
			while (c->i < c->n && c->s[c->i] != ' ')
				c->i++;
			f->v = c->s + a;
			f->vn = c->i - a;
		}
		if (c->i < c->n && c->s[c->i] != ' ')
			return 0;
	}
	return r->nf > 0;
}

int
lf_parse(enum lf_fmt fmt, const char *s, size_t n, const struct lf_ctx *ctx,
    struct lf_rec *r)
{
	struct cur c = { s, n, 0 };

	memset(r, 0, offsetof(struct lf_rec, f));
	r->nf = 0;
	/* a trailing CR of a CRLF file that lr left (lone CR lines) */
	while (c.n > 0 && s[c.n - 1] == '\r')
		c.n--;
	switch (fmt) {
	case LF_LOGFMT:
		return p_logfmt(&c, r);
	case LF_SYSLOG:
		return p_syslog(&c, ctx, r);
	case LF_RFC5424:
		return p_rfc5424(&c, r);
	case LF_ACCESS:
		return p_access(&c, r);
	case LF_APACHE_ERROR:
		return p_apache_error(&c, r);
	case LF_APP:
		return p_app(&c, r);
	case LF_ANDROID:
		return p_android(&c, ctx, r);
	case LF_CBS:
		return p_cbs(&c, r);
	case LF_BGL:
		return p_bgl(&c, r);
	case LF_TEXT:
		r->msg = s;
		r->msgn = n;
		return 1;
	default:
		return 0;
	}
}

const char *const lf_time_keys[] = { "_time", "time", "timestamp", "@timestamp", "datetime",
	"event_timestamp", "ts", NULL };
const char *const lf_msg_keys[] = { "_msg", "msg", "message", "line", "action", NULL };
const char *const lf_level_keys[] = { "level", "severity", "status", NULL };

/* The index of the field named key (or of the first candidate present). */
static long
findkey(const struct lf_rec *r, const char *key, const char *const *cand)
{
	for (size_t c = 0; key ? c == 0 : cand[c] != NULL; c++) {
		const char *k = key ? key : cand[c];
		size_t kn = strlen(k);

		for (size_t i = 0; i < r->nf; i++)
			if (r->f[i].kn == kn && memcmp(r->f[i].k, k, kn) == 0)
				return (long)i;
	}
	return -1;
}

static void
dropf(struct lf_rec *r, long i)
{
	memmove(&r->f[i], &r->f[i + 1], (r->nf - (size_t)i - 1) * sizeof(r->f[0]));
	r->nf--;
}

void
lf_pick(struct lf_rec *r, const char *tkey, const char *mkey, const char *lkey)
{
	long i;

	if ((i = findkey(r, tkey, lf_time_keys)) >= 0 && !r->f[i].quoted) {
		const struct lf_field *f = &r->f[i];
		size_t k = ts_parse_iso(f->v, f->vn, &r->time);

		if (k == 0)
			k = ts_parse_unix(f->v, f->vn, &r->time);
		if (k > 0 && k == f->vn) {
			r->has_time = 1;
			dropf(r, i);
		}
	} else if (i >= 0) {	/* time="2025-05-17 04:44:04" */
		const struct lf_field *f = &r->f[i];

		if (memchr(f->v, '\\', f->vn) == NULL &&
		    ts_parse_iso(f->v, f->vn, &r->time) == f->vn && f->vn > 0) {
			r->has_time = 1;
			dropf(r, i);
		}
	}
	if ((i = findkey(r, mkey, lf_msg_keys)) >= 0) {
		r->msg = r->f[i].v;
		r->msgn = r->f[i].vn;
		r->msg_quoted = r->f[i].quoted;
		dropf(r, i);
	}
	if ((i = findkey(r, lkey, lf_level_keys)) >= 0 && !r->f[i].quoted &&
	    (r->lvl = lf_level(r->f[i].v, r->f[i].vn)) != LVL_NONE) {
		r->lvl_raw = r->f[i].v;
		r->lvln = r->f[i].vn;
		dropf(r, i);
	} else if (i >= 0 && r->f[i].quoted && memchr(r->f[i].v, '\\', r->f[i].vn) == NULL &&
	    (r->lvl = lf_level(r->f[i].v, r->f[i].vn)) != LVL_NONE) {
		r->lvl_raw = r->f[i].v;
		r->lvln = r->f[i].vn;
		dropf(r, i);
	}
}
