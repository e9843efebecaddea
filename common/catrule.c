/* catrule.c: built-in category rules and the rules-file parser and matcher. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catrule.h"
#include "qry.h"

static const struct {
	const char *pat;
	size_t len;
	const char *category;
} builtin[] = {
#define B(p, c) { p, sizeof(p) - 1, c }
	B("server-", "server"), B("orchestrator", "server"), B("slurm-job", "server"),
	B("client-", "client"), B("benchmark-", "client"),
	B("monitor", "monitoring"), B("prometheus", "monitoring"), B("grafana", "monitoring"),
	B("vllm", "vllm"), B("model-server", "vllm"), B("inference", "vllm"),
	B(".err", "slurm"), B(".out", "slurm"), B("slurm-", "slurm"), B("sbatch", "slurm"),
	B("logs-service", "logs"),
#undef B
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does pat (lower case) occur in s at i, ignoring ASCII case? */
static int
at(const char *s, size_t i, const char *pat, size_t m)
{
	for (size_t k = 0; k < m; k++)
		if (lower((unsigned char)s[i + k]) != pat[k])
			return 0;
	return 1;
}

const char *
cr_builtin(const char *name, size_t n)
{
	for (size_t r = 0; r < sizeof(builtin) / sizeof(*builtin); r++) {
		const char *pat = builtin[r].pat;
		size_t m = builtin[r].len;
		int ext = pat[0] == '.';

		for (size_t i = 0; i + m <= n; i++) {
			/* cheap first-byte test before the full compare */
			if (lower((unsigned char)name[i]) != pat[0] || !at(name, i, pat, m))
				continue;
			if (ext && i + m < n && name[i + m] != '.')
				continue;
			return builtin[r].category;
		}
	}
	return NULL;
}

const char *
cr_basename(const char *path, size_t n, size_t *namelen)
{
	size_t i = n;

	while (i > 0 && path[i - 1] != '/')
		i--;
	*namelen = n - i;
	return path + i;
}

void
cr_init_builtin(struct catrules *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->sniff_lines = 20;
}

void
cr_free(struct catrules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->rules[i].category);
		free(rs->rules[i].pattern);
		pcre2_code_free(rs->rules[i].re);
		qry_free(rs->rules[i].q);
	}
	free(rs->rules);
	pcre2_match_data_free(rs->md);
	cr_init_builtin(rs);
}

static int
valid_category(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '_' || c == '.' || c == '-' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static char *
dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line of a rules file; 0 or -1 with err set (without the "NAME:LINE: "). */
static int
parse_line(struct catrules *rs, const char *l, size_t n, unsigned lineno,
    char *err, size_t errsz)
{
	const char *w1, *w2, *rest;
	size_t n1, n2, nr, i = 0;
	struct cr_rule *r, *nrules;

	while (i < n && is_blank(l[i]))
		i++;
	w1 = l + i;
	while (i < n && !is_blank(l[i]))
		i++;
	n1 = (size_t)(l + i - w1);
	while (i < n && is_blank(l[i]))
		i++;
	w2 = l + i;
	while (i < n && !is_blank(l[i]))
		i++;
	n2 = (size_t)(l + i - w2);
	while (i < n && is_blank(l[i]))
		i++;
	rest = l + i;
	nr = n - i;
	while (nr > 0 && is_blank(rest[nr - 1]))
		nr--;

	if (n1 == 8 && memcmp(w1, "builtins", 8) == 0) {
		if (nr != 0)
			goto extra;
		if (n2 == 5 && memcmp(w2, "first", 5) == 0)
			rs->builtins = CR_BUILTINS_FIRST;
		else if (n2 == 4 && memcmp(w2, "last", 4) == 0)
			rs->builtins = CR_BUILTINS_LAST;
		else if (n2 == 3 && memcmp(w2, "off", 3) == 0)
			rs->builtins = CR_BUILTINS_OFF;
		else {
			snprintf(err, errsz, "builtins: expected first, last or off");
			return -1;
		}
		return 0;
	}
	if (n1 == 11 && memcmp(w1, "sniff-lines", 11) == 0) {
		unsigned v = 0;
		if (nr != 0)
			goto extra;
		if (n2 == 0 || n2 > 5)
			goto badnum;
		for (size_t k = 0; k < n2; k++) {
			if (w2[k] < '0' || w2[k] > '9')
				goto badnum;
			v = v * 10 + (unsigned)(w2[k] - '0');
		}
		if (v == 0 || v > 10000)
			goto badnum;
		rs->sniff_lines = v;
		return 0;
	}
	if (!valid_category(w1, n1)) {
		snprintf(err, errsz, "bad category name '%.*s' (want [A-Za-z0-9_.-], 1..64)",
		    (int)(n1 > 64 ? 64 : n1), w1);
		return -1;
	}
	if ((nrules = realloc(rs->rules, (rs->n + 1) * sizeof(*rs->rules))) == NULL)
		goto nomem;
	rs->rules = nrules;
	r = &rs->rules[rs->n];
	memset(r, 0, sizeof(*r));
	r->line = lineno;
	if (n2 == 4 && memcmp(w2, "name", 4) == 0)
		r->kind = CR_NAME;
	else if (n2 == 4 && memcmp(w2, "path", 4) == 0)
		r->kind = CR_PATH;
	else if (n2 == 5 && memcmp(w2, "regex", 5) == 0)
		r->kind = CR_REGEX;
	else if (n2 == 7 && memcmp(w2, "content", 7) == 0)
		r->kind = CR_CONTENT;
	else if (n2 == 6 && memcmp(w2, "record", 6) == 0)
		r->kind = CR_RECORD;
	else if (n2 == 0) {
		snprintf(err, errsz, "expected a rule kind after '%.*s'", (int)n1, w1);
		return -1;
	} else {
		snprintf(err, errsz, "unknown rule kind '%.*s' (name, path, regex, content, record)",
		    (int)(n2 > 32 ? 32 : n2), w2);
		return -1;
	}
	if (nr == 0) {
		snprintf(err, errsz, "missing pattern");
		return -1;
	}
	if (memchr(rest, '\0', nr)) {
		snprintf(err, errsz, "NUL byte in pattern");
		return -1;
	}
	if ((r->category = dup_n(w1, n1)) == NULL || (r->pattern = dup_n(rest, nr)) == NULL) {
		free(r->category);
		goto nomem;
	}
	rs->n++;
	if (r->kind == CR_REGEX || r->kind == CR_CONTENT) {
		int ec;
		PCRE2_SIZE off;
		PCRE2_UCHAR msg[160];

		r->re = pcre2_compile((PCRE2_SPTR)rest, nr,
		    r->kind == CR_CONTENT ? PCRE2_MULTILINE : 0, &ec, &off, NULL);
		if (!r->re) {
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errsz, "regex at column %zu: %s",
			    (size_t)(rest - l) + (size_t)off + 1, (char *)msg);
			return -1;
		}
		if (r->kind == CR_CONTENT)
			rs->has_content = 1;
	}
	if (r->kind == CR_RECORD) {
		struct qry_err qe;

		if ((r->q = qry_parse(rest, nr, &qe)) == NULL) {
			if (strcmp(qe.msg, "out of memory") == 0)
				goto nomem;
			snprintf(err, errsz, "record filter at column %zu: %s",
			    (size_t)(rest - l) + (size_t)qe.col, qe.msg);
			return -1;
		}
		if (qry_has_pipes(r->q)) {
			snprintf(err, errsz, "a record rule is a filter; pipes ('|') are not allowed");
			return -1;
		}
		rs->has_record = 1;
	}
	return 0;
extra:
	snprintf(err, errsz, "unexpected text after '%.*s %.*s'", (int)n1, w1, (int)n2, w2);
	return -1;
badnum:
	snprintf(err, errsz, "sniff-lines: expected a number 1..10000");
	return -1;
nomem:
	snprintf(err, errsz, "%s", strerror(ENOMEM));
	return -1;
}

int
cr_parse(struct catrules *rs, const char *text, size_t len, const char *name,
    char *err, size_t errsz)
{
	unsigned lineno = 0;
	size_t i = 0;
	char why[256];

	cr_init_builtin(rs);
	while (i < len) {
		const char *l = text + i, *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i, k = 0;

		i += n + (nl != NULL);
		lineno++;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		while (k < n && is_blank(l[k]))
			k++;
		if (k == n || l[k] == '#')
			continue;
		if (parse_line(rs, l, n, lineno, why, sizeof(why)) < 0) {
			snprintf(err, errsz, "%s:%u: %s", name, lineno, why);
			cr_free(rs);
			return -1;
		}
	}
	if (rs->n && (rs->md = pcre2_match_data_create(4, NULL)) == NULL) {
		snprintf(err, errsz, "%s: %s", name, strerror(ENOMEM));
		cr_free(rs);
		return -1;
	}
	return 0;
}

/* The first sniff_lines lines of the fetched content. */
static size_t
first_lines(const char *buf, size_t len, unsigned lines)
{
	size_t i = 0;

	while (lines-- > 0 && i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			return len;
		i = (size_t)(nl - buf) + 1;
	}
	return i;
}

static int
rule_matches(struct catrules *rs, struct cr_rule *r, struct cr_subject *s)
{
	const char *name;
	size_t nlen;

	switch (r->kind) {
	case CR_NAME:
	case CR_PATH:
		/* fnmatch wants NUL-terminated text; paths with NUL never match */
		if (memchr(s->path, '\0', s->pathlen))
			return 0;
		if (r->kind == CR_NAME) {
			name = cr_basename(s->path, s->pathlen, &nlen);
		} else {
			name = s->path;
			nlen = s->pathlen;
		}
		return fnmatch(r->pattern, name, 0) == 0;
	case CR_REGEX:
		return pcre2_match(r->re, (PCRE2_SPTR)s->path, s->pathlen, 0, 0, rs->md, NULL) >= 0;
	case CR_CONTENT:
		if (s->cstate == 0) {
			s->cstate = -1;
			if (s->content && s->content(s->ctx, &s->cbuf, &s->clen) == 0) {
				s->cstate = 1;
				s->clen = first_lines(s->cbuf, s->clen, rs->sniff_lines);
			}
		}
		if (s->cstate < 0)
			return 0;
		return pcre2_match(r->re, (PCRE2_SPTR)s->cbuf, s->clen, 0, 0, rs->md, NULL) >= 0;
	case CR_RECORD:
		return s->rec && qry_match(r->q, s->rec) == 1;
	}
	return 0;
}

const char *
cr_match(struct catrules *rs, struct cr_subject *s)
{
	const char *name, *c;
	size_t nlen;

	/* A record that names no file: only record rules have anything to look at. */
	if (s->pathlen == 0) {
		for (size_t i = 0; i < rs->n; i++)
			if (rs->rules[i].kind == CR_RECORD && rule_matches(rs, &rs->rules[i], s))
				return rs->rules[i].category;
		return CR_UNCATEGORIZED;
	}
	name = cr_basename(s->path, s->pathlen, &nlen);
	if (rs->builtins == CR_BUILTINS_FIRST && (c = cr_builtin(name, nlen)) != NULL)
		return c;
	for (size_t i = 0; i < rs->n; i++)
		if (rule_matches(rs, &rs->rules[i], s))
			return rs->rules[i].category;
	if (rs->builtins == CR_BUILTINS_LAST && (c = cr_builtin(name, nlen)) != NULL)
		return c;
	return CR_UNCATEGORIZED;
}
