/* arule.c: logalert's rules-file parser and checker, and the {{field}} template expander. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arule.h"
#include "jw.h"
#include "qry_int.h"
#include "ts.h"

#define MAX_ERRORS 50
#define MAX_SPAN (3650LL * 86400 * 1000000000)	/* ten years: t + window cannot overflow */
#define MAX_SUBST 4096

const char *const ar_vars[] = {
	"$rule", "$severity", "$state", "$count", "$value", "$threshold", "$window",
	"$first", "$last", "$time", NULL,
};

static const char *const sev_names[] = { "low", "medium", "high", "critical" };
static const char *const op_names[] = { ">=", ">", "<=", "<" };

static const char *const keys[] = {
	"name", "query", "threshold", "window", "cooldown", "severity", "labels",
	"annotations", "description", "summary", "enabled", NULL,
};

const char *
ar_sev_name(enum ar_sev s)
{
	return sev_names[s];
}

const char *
ar_op_name(enum ar_op op)
{
	return op_names[op];
}

int
ar_holds(const struct ar_rule *r, double v)
{
	switch (r->op) {
	case AR_GE: return v >= r->limit;
	case AR_GT: return v > r->limit;
	case AR_LE: return v <= r->limit;
	case AR_LT: return v < r->limit;
	}
	return 0;
}

const char *
ar_field_text(struct ar_rule *r, struct json_object *rec, const char *field, size_t *len)
{
	return qry_field_text(r->q, rec, field, len);
}

int
ar_num(const char *s, size_t n, double *v)
{
	return qry_parse_num(s, n, v);
}

size_t
ar_fmt_dur(int64_t ns, char *buf, size_t sz)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {
		{ "d", 86400000000000LL }, { "h", 3600000000000LL }, { "m", 60000000000LL },
		{ "s", 1000000000LL }, { "ms", 1000000LL }, { "us", 1000LL }, { "ns", 1LL },
	};
	size_t k = 0;

	if (sz == 0)
		return 0;
	buf[0] = '\0';
	if (ns <= 0)
		return (size_t)snprintf(buf, sz, "0s") < sz ? 2 : 0;
	for (size_t u = 0; u < sizeof(units) / sizeof(*units) && ns > 0; u++) {
		int64_t q = ns / units[u].ns;

		if (q == 0)
			continue;
		ns -= q * units[u].ns;
		int w = snprintf(buf + k, sz - k, "%lld%s", (long long)q, units[u].u);
		if (w < 0 || (size_t)w >= sz - k)
			break;
		k += (size_t)w;
	}
	return k;
}

/* ---- templates ---- */

/* Next reference at or after s: *b at "{{", *e after "}}"; 0 when none, -1 unterminated. */
static int
next_ref(const char *s, const char **b, const char **e)
{
	const char *o = strstr(s, "{{"), *c;

	if (o == NULL)
		return 0;
	if ((c = strstr(o + 2, "}}")) == NULL)
		return -1;
	*b = o;
	*e = c + 2;
	return 1;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* Check a template; 0, or -1 with why set. */
static int
check_template(const char *t, char *why, size_t wsz)
{
	const char *b, *e;
	int r;

	while ((r = next_ref(t, &b, &e)) > 0) {
		const char *nm = b + 2;
		size_t n = (size_t)(e - 2 - nm);
		size_t k;

		trim(&nm, &n);
		if (n == 0) {
			snprintf(why, wsz, "empty '{{}}' reference");
			return -1;
		}
		if (memchr(nm, '{', n) != NULL || memchr(nm, '}', n) != NULL) {
			snprintf(why, wsz, "bad reference '{{%.*s}}'", (int)(n > 60 ? 60 : n), nm);
			return -1;
		}
		if (nm[0] == '$') {
			for (k = 0; ar_vars[k]; k++)
				if (strlen(ar_vars[k]) == n && memcmp(ar_vars[k], nm, n) == 0)
					break;
			if (ar_vars[k] == NULL) {
				snprintf(why, wsz, "unknown variable '{{%.*s}}' (known: $rule, $severity, "
				    "$state, $count, $value, $threshold, $window, $first, $last, $time)",
				    (int)(n > 60 ? 60 : n), nm);
				return -1;
			}
		}
		t = e;
	}
	if (r < 0) {
		snprintf(why, wsz, "unterminated '{{' (missing '}}')");
		return -1;
	}
	return 0;
}

int
ar_render(const char *t, ar_lookup_fn lookup, void *ctx, struct sb *out)
{
	const char *b, *e;

	if (sb_grow(out, 1) < 0)
		return -1;
	while (next_ref(t, &b, &e) > 0) {
		const char *nm = b + 2, *v;
		size_t n = (size_t)(e - 2 - nm), vl = 0;

		trim(&nm, &n);
		if (sb_add(out, t, (size_t)(b - t)) < 0)
			return -1;
		if ((v = lookup(ctx, nm, n, &vl)) != NULL) {
			if (vl > MAX_SUBST) {
				/* cut on a character boundary */
				vl = MAX_SUBST;
				while (vl > 0 && ((unsigned char)v[vl] & 0xc0) == 0x80)
					vl--;
			}
			if (sb_add(out, v, vl) < 0)
				return -1;
		}
		t = e;
	}
	return sb_adds(out, t);
}

/* ---- the parser ---- */

struct seen {
	char *key;
	unsigned line;
};

/* The section being read. */
struct sec {
	int active;
	unsigned line;
	char *name, *query, *thr;
	unsigned qline, tline;
	int bad;		/* a key of it had an error */
	struct seen *seen;	/* keys given, for duplicates */
	size_t nseen;
	struct ar_rule r;	/* what is parsed directly */
};

struct ps {
	const char *file;
	struct sb *errs;
	size_t nerr;
	int stop;
	struct ar_set *rs;
	struct sec s;
	int oom;
};

static void __attribute__((format(printf, 3, 4)))
err(struct ps *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char msg[600];

	if (p->stop)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (++p->nerr > MAX_ERRORS) {
		if (sb_addf(p->errs, "%s: too many errors, giving up\n", p->file) < 0)
			p->oom = 1;
		p->stop = 1;
		return;
	}
	if ((line ? sb_addf(p->errs, "%s:%u: %s\n", p->file, line, msg) :
	    sb_addf(p->errs, "%s: %s\n", p->file, msg)) < 0)
		p->oom = 1;
	p->s.bad = 1;
}

static char *
dupn(struct ps *p, const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c == NULL) {
		p->oom = 1;
		return NULL;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static void
rule_free(struct ar_rule *r)
{
	free(r->name);
	free(r->query);
	qry_free(r->q);
	free(r->by);
	free(r->stats);
	for (size_t i = 0; i < r->nlabels; i++) {
		free(r->labels[i].key);
		free(r->labels[i].val);
	}
	free(r->labels);
	for (size_t i = 0; i < r->nannots; i++) {
		free(r->annots[i].key);
		free(r->annots[i].val);
	}
	free(r->annots);
	memset(r, 0, sizeof(*r));
}

static void
sec_clear(struct sec *s)
{
	free(s->name);
	free(s->query);
	free(s->thr);
	for (size_t i = 0; i < s->nseen; i++)
		free(s->seen[i].key);
	free(s->seen);
	rule_free(&s->r);
	memset(s, 0, sizeof(*s));
}

static int
valid_rule_name(const char *s, size_t n)
{
	if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-' || c == '/' ||
		    c == ' '))
			return 0;
	}
	return 1;
}

/* Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, "__" reserved. */
static int
valid_label(const char *s, size_t n)
{
	if (n == 0 || n > 128 || isdigit((unsigned char)s[0]) || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* Damerau-free Levenshtein distance, for "did you mean". */
static size_t
dist(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(*prev));
	}
	return prev[lb];
}

/* Note key as given in this section; 0, or -1 when it was given before. */
static int
seen_key(struct ps *p, const char *key, unsigned line)
{
	struct seen *n;

	for (size_t i = 0; i < p->s.nseen; i++)
		if (strcmp(p->s.seen[i].key, key) == 0) {
			err(p, line, "duplicate key '%s' (first given at line %u)", key,
			    p->s.seen[i].line);
			return -1;
		}
	if ((n = realloc(p->s.seen, (p->s.nseen + 1) * sizeof(*n))) == NULL) {
		p->oom = 1;
		return -1;
	}
	p->s.seen = n;
	if ((n[p->s.nseen].key = dupn(p, key, strlen(key))) == NULL)
		return -1;
	n[p->s.nseen++].line = line;
	return 0;
}

static int
add_kv(struct ps *p, struct ar_kv **v, size_t *n, const char *what, const char *k,
    size_t kl, const char *val, size_t vl, unsigned line)
{
	struct ar_kv *nv;

	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i].key) == kl && memcmp((*v)[i].key, k, kl) == 0) {
			err(p, line, "duplicate %s '%.*s'", what, (int)kl, k);
			return -1;
		}
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		p->oom = 1;
		return -1;
	}
	*v = nv;
	nv[*n].key = dupn(p, k, kl);
	nv[*n].val = dupn(p, val, vl);
	if (nv[*n].key == NULL || nv[*n].val == NULL) {
		free(nv[*n].key);
		free(nv[*n].val);
		return -1;
	}
	(*n)++;
	return 0;
}

/* A label (annot == 0) or an annotation: check name and value, then add it. */
static int
add_pair(struct ps *p, int annot, const char *k, size_t kl, const char *v, size_t vl,
    unsigned line)
{
	const char *what = annot ? "annotation" : "label";
	char why[300];
	char *tmp;
	int rc;

	if (!valid_label(k, kl)) {
		err(p, line, "bad %s name '%.*s' (want [A-Za-z_][A-Za-z0-9_]*, not starting "
		    "with '__')", what, (int)(kl > 60 ? 60 : kl), k);
		return -1;
	}
	if (!annot && ((kl == 9 && memcmp(k, "alertname", 9) == 0) ||
	    (kl == 8 && memcmp(k, "severity", 8) == 0))) {
		err(p, line, "label '%.*s' is set by logalert (use the rule's %s)", (int)kl, k,
		    kl == 8 ? "severity" : "name");
		return -1;
	}
	if ((tmp = dupn(p, v, vl)) == NULL)
		return -1;
	if (!annot && strstr(tmp, "{{") != NULL) {
		err(p, line, "label '%.*s': labels are not templates (group fields become "
		    "labels by themselves)", (int)kl, k);
		free(tmp);
		return -1;
	}
	if (annot && check_template(tmp, why, sizeof(why)) < 0) {
		err(p, line, "annotation '%.*s': %s", (int)kl, k, why);
		free(tmp);
		return -1;
	}
	free(tmp);
	rc = annot ? add_kv(p, &p->s.r.annots, &p->s.r.nannots, what, k, kl, v, vl, line) :
	    add_kv(p, &p->s.r.labels, &p->s.r.nlabels, what, k, kl, v, vl, line);
	return rc;
}

/* "a=b, c="d, e"": a list of pairs. */
static void
pair_list(struct ps *p, int annot, const char *s, size_t n, unsigned line)
{
	size_t i = 0;
	struct sb val = SB_INIT;

	while (i < n) {
		size_t ks, ke;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		ks = i;
		while (i < n && s[i] != '=' && s[i] != ',')
			i++;
		ke = i;
		while (ke > ks && (s[ke - 1] == ' ' || s[ke - 1] == '\t'))
			ke--;
		if (i == n || s[i] != '=') {
			err(p, line, "expected NAME=VALUE in the %s list, got '%.*s'",
			    annot ? "annotations" : "labels", (int)((i - ks) > 60 ? 60 : i - ks), s + ks);
			goto out;
		}
		i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		sb_reset(&val);
		if (sb_grow(&val, 1) < 0) {
			p->oom = 1;
			goto out;
		}
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				if (sb_addc(&val, s[i]) < 0) {
					p->oom = 1;
					goto out;
				}
			}
			if (i == n) {
				err(p, line, "unterminated '\"' in the %s list", annot ? "annotations" : "labels");
				goto out;
			}
			i++;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i < n && s[i] != ',') {
				err(p, line, "expected ',' after the quoted value of '%.*s'",
				    (int)(ke - ks), s + ks);
				goto out;
			}
		} else {
			size_t vs = i, ve;

			while (i < n && s[i] != ',')
				i++;
			ve = i;
			while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
				ve--;
			if (memchr(s + vs, '"', ve - vs) != NULL) {
				err(p, line, "a value holding '\"' must be quoted as a whole");
				goto out;
			}
			if (sb_add(&val, s + vs, ve - vs) < 0) {
				p->oom = 1;
				goto out;
			}
		}
		if (add_pair(p, annot, s + ks, ke - ks, val.buf, val.len, line) < 0)
			goto out;
		if (i < n)
			i++;	/* the ',' */
	}
out:
	sb_free(&val);
}

static int
parse_dur(const char *v, int64_t *ns, int zero_ok)
{
	size_t n = strlen(v);

	if (zero_ok && strcmp(v, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (n == 0 || ts_parse_duration(v, n, ns) != n || *ns < 0 || (*ns == 0 && !zero_ok))
		return -1;
	return 0;
}

static void
key_value(struct ps *p, const char *k, size_t kl, const char *v, size_t vl, unsigned line)
{
	struct sec *s = &p->s;
	char key[64], *val;

	if (kl >= sizeof(key)) {
		err(p, line, "unknown key '%.*s...'", 40, k);
		return;
	}
	memcpy(key, k, kl);
	key[kl] = '\0';
	if (!s->active) {
		err(p, line, "'%s' outside a rule: start one with a [name] line", key);
		return;
	}
	if (kl > 6 && memcmp(key, "label.", 6) == 0) {
		add_pair(p, 0, key + 6, kl - 6, v, vl, line);
		return;
	}
	if (kl > 11 && memcmp(key, "annotation.", 11) == 0) {
		add_pair(p, 1, key + 11, kl - 11, v, vl, line);
		return;
	}
	{
		size_t i, best = 0, bd = 99;

		for (i = 0; keys[i]; i++) {
			size_t d = dist(key, keys[i]);

			if (strcmp(key, keys[i]) == 0)
				break;
			if (d < bd)
				bd = d, best = i;
		}
		if (keys[i] == NULL) {
			if (bd <= 2)
				err(p, line, "unknown key '%s' (did you mean '%s'?)", key, keys[best]);
			else
				err(p, line, "unknown key '%s'", key);
			return;
		}
	}
	if (seen_key(p, key, line) < 0)
		return;
	if ((val = dupn(p, v, vl)) == NULL)
		return;
	if (strcmp(key, "name") == 0) {
		if (!valid_rule_name(val, vl)) {
			err(p, line, "bad rule name '%.*s' (want 1..128 of A-Z a-z 0-9 _ . : - / "
			    "and inner spaces)", (int)(vl > 60 ? 60 : vl), val);
			free(val);
			return;
		}
		free(s->name);
		s->name = val;
		return;
	}
	if (strcmp(key, "query") == 0) {
		if (vl == 0)
			err(p, line, "empty query (use '*' for every record)");
		s->query = val;
		s->qline = line;
		return;
	}
	if (strcmp(key, "threshold") == 0) {
		s->thr = val;
		s->tline = line;
		return;
	}
	if (strcmp(key, "window") == 0 || strcmp(key, "cooldown") == 0) {
		int w = key[0] == 'w';
		int64_t d;

		if (parse_dur(val, &d, !w) < 0)
			err(p, line, "%s: bad duration '%s' (e.g. 30s, 2m, 1h30m%s)", key, val,
			    w ? "; more than 0" : "");
		else if (d > MAX_SPAN)
			err(p, line, "%s: '%s' is too long (at most 3650d)", key, val);
		else if (w)
			s->r.window = d;
		else
			s->r.cooldown = d;
		free(val);
		return;
	}
	if (strcmp(key, "severity") == 0) {
		size_t i;

		for (i = 0; i < 4; i++)
			if (strcasecmp(val, sev_names[i]) == 0)
				break;
		if (i == 4)
			err(p, line, "severity: '%s' is not one of low, medium, high, critical", val);
		else
			s->r.severity = (enum ar_sev)i;
		free(val);
		return;
	}
	if (strcmp(key, "enabled") == 0) {
		static const char *const yes[] = { "true", "yes", "on", "1" },
		    *const no[] = { "false", "no", "off", "0" };
		int e = -1;

		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(val, yes[i]) == 0)
				e = 1;
			if (strcasecmp(val, no[i]) == 0)
				e = 0;
		}
		if (e < 0)
			err(p, line, "enabled: expected true or false, not '%s'", val);
		else
			s->r.enabled = e;
		free(val);
		return;
	}
	if (strcmp(key, "labels") == 0 || strcmp(key, "annotations") == 0) {
		pair_list(p, key[0] == 'a', val, vl, line);
		free(val);
		return;
	}
	/* description, summary: annotations by those names */
	add_pair(p, 1, key, kl, val, vl, line);
	free(val);
}

static int
has_rel_time(const struct qnode *n)
{
	if (n == NULL)
		return 0;
	if (n->kind == QF_TIME && n->rel)
		return 1;
	for (size_t i = 0; i < n->nkids; i++)
		if (has_rel_time(n->kids[i]))
			return 1;
	return 0;
}

/* The threshold text against the query's stats; 0 or -1 with why. */
static int
threshold(struct ar_rule *r, const char *t, char *why, size_t wsz)
{
	const char *op = strpbrk(t, "<>"), *lhs = t, *rhs;
	size_t ln, rn;
	double v;

	r->tstat = -1;
	r->op = AR_GE;
	if (op == NULL) {
		rhs = t;
		rn = strlen(t);
		trim(&rhs, &rn);
		if (!ar_num(rhs, rn, &v) || !isfinite(v)) {
			snprintf(why, wsz, "expected a count (threshold = 3) or NAME OP NUMBER "
			    "with OP one of >=, >, <=, < (threshold = p99 > 500), not '%s'", t);
			return -1;
		}
		if (v <= 0) {
			snprintf(why, wsz, "a count threshold must be more than 0");
			return -1;
		}
		r->limit = v;
		return 0;
	}
	ln = (size_t)(op - t);
	trim(&lhs, &ln);
	if (op[0] == '>')
		r->op = op[1] == '=' ? AR_GE : AR_GT;
	else
		r->op = op[1] == '=' ? AR_LE : AR_LT;
	rhs = op + 1 + (op[1] == '=');
	rn = strlen(rhs);
	trim(&rhs, &rn);
	if (!ar_num(rhs, rn, &v) || !isfinite(v)) {
		snprintf(why, wsz, "expected a number after '%s', not '%.*s'", op_names[r->op],
		    (int)(rn > 60 ? 60 : rn), rhs);
		return -1;
	}
	r->limit = v;
	if (ln == 0) {
		if (r->nstats > 1) {
			snprintf(why, wsz, "say which value to compare ('NAME %s %.*s'): the query "
			    "computes %zu", op_names[r->op], (int)(rn > 40 ? 40 : rn), rhs, r->nstats);
			return -1;
		}
		r->tstat = r->nstats == 1 ? 0 : -1;
	} else {
		for (size_t i = 0; i < r->nstats; i++)
			if (strlen(r->stats[i].name) == ln && memcmp(r->stats[i].name, lhs, ln) == 0)
				r->tstat = (int)i;
		if (r->tstat < 0 && !(ln == 5 && memcmp(lhs, "count", 5) == 0)) {
			struct sb names = SB_INIT;

			for (size_t i = 0; i < r->nstats; i++)
				sb_addf(&names, "%s'%s'", i ? ", " : "", r->stats[i].name);
			snprintf(why, wsz, "the query computes no value named '%.*s' (%s%s)",
			    (int)(ln > 60 ? 60 : ln), lhs, r->nstats ? "it has " : "it has no stats pipe; "
			    "use 'count' or add '| stats ...'", names.buf ? names.buf : "");
			sb_free(&names);
			return -1;
		}
	}
	if (r->tstat < 0 && (r->op == AR_LT ? v <= 0 : r->op == AR_LE ? v < 0 : 0)) {
		snprintf(why, wsz, "'count %s %.*s' can never hold", op_names[r->op],
		    (int)(rn > 40 ? 40 : rn), rhs);
		return -1;
	}
	return 0;
}

/* The query of the section: parse it, check its pipes, take its stats. */
static void
query(struct ps *p)
{
	struct sec *s = &p->s;
	struct ar_rule *r = &s->r;
	struct qry_err qe;
	const struct qpipe *pp;
	static const char *const pipe_names[] = { "limit", "offset", "sort", "fields",
		"delete", "stats", "top", "uniq", "filter" };

	if ((r->q = qry_parse(s->query, strlen(s->query), &qe)) == NULL) {
		if (strcmp(qe.msg, "out of memory") == 0)
			p->oom = 1;
		else
			err(p, s->qline, "query: column %d: %s", qe.col, qe.msg);
		return;
	}
	if (has_rel_time(r->q->root)) {
		err(p, s->qline, "query: a relative _time filter has no fixed 'now' in a rule "
		    "(the window says how far back to look)");
		return;
	}
	if (r->q->npipes == 0)
		return;
	pp = &r->q->pipes[0];
	if (r->q->npipes > 1 || pp->kind != QP_STATS) {
		const struct qpipe *bad = pp->kind != QP_STATS ? pp : &r->q->pipes[1];

		err(p, s->qline, "query: a rule takes one '| stats ...' pipe after the filter, "
		    "not '| %s'", pipe_names[bad->kind]);
		return;
	}
	if ((r->by = calloc(pp->nkeys + 1, sizeof(*r->by))) == NULL ||
	    (r->stats = calloc(pp->nst + 1, sizeof(*r->stats))) == NULL) {
		p->oom = 1;
		return;
	}
	for (size_t i = 0; i < pp->nkeys; i++) {
		if (pp->keys[i].bucket || pp->keys[i].nbucket > 0) {
			err(p, s->qline, "query: stats by (%s:...) buckets do not work in a rule "
			    "(the window is the bucket)", pp->keys[i].field);
			return;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(pp->keys[j].field, pp->keys[i].field) == 0) {
				err(p, s->qline, "query: '%s' is twice in stats by (...)",
				    pp->keys[i].field);
				return;
			}
		r->by[r->nby++] = pp->keys[i].field;
	}
	for (size_t i = 0; i < pp->nst; i++) {
		static const enum ar_fn map[] = { [QS_COUNT] = AR_COUNT,
			[QS_COUNT_UNIQ] = AR_COUNT_UNIQ, [QS_SUM] = AR_SUM, [QS_AVG] = AR_AVG,
			[QS_MIN] = AR_MIN, [QS_MAX] = AR_MAX, [QS_QUANTILE] = AR_QUANTILE };
		struct ar_stat *st = &r->stats[r->nstats++];

		st->fn = map[pp->st[i].fn];
		st->field = pp->st[i].field;
		st->phi = pp->st[i].phi;
		st->name = pp->st[i].name;
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->stats[j].name, st->name) == 0) {
				err(p, s->qline, "query: two stats values are named '%s' (use 'as')",
				    st->name);
				return;
			}
	}
}

/* The end of a section: check what it lacks, then keep the rule. */
static void
sec_end(struct ps *p)
{
	struct sec *s = &p->s;
	struct ar_rule *nv;
	char why[600];

	if (!s->active)
		return;
	if (s->query == NULL)
		err(p, s->line, "rule '%s' has no query", s->name ? s->name : "?");
	else if (!s->bad && *s->query)
		query(p);
	if (!s->bad && s->r.q != NULL && s->thr != NULL &&
	    threshold(&s->r, s->thr, why, sizeof(why)) < 0)
		err(p, s->tline, "threshold: %s", why);
	if (!s->bad && s->r.q != NULL && s->thr == NULL) {
		s->r.tstat = -1;	/* any matching record */
		s->r.op = AR_GE;
		s->r.limit = 1;
	}
	if (s->bad || p->oom || s->r.q == NULL) {
		sec_clear(s);
		return;
	}
	for (size_t i = 0; i < p->rs->n; i++)
		if (strcmp(p->rs->v[i].name, s->name) == 0) {
			err(p, s->line, "duplicate rule name '%s' (first at line %u)", s->name,
			    p->rs->v[i].line);
			sec_clear(s);
			return;
		}
	if ((nv = realloc(p->rs->v, (p->rs->n + 1) * sizeof(*nv))) == NULL) {
		p->oom = 1;
		sec_clear(s);
		return;
	}
	p->rs->v = nv;
	s->r.name = s->name;
	s->r.query = s->query;
	s->r.line = s->line;
	s->name = s->query = NULL;
	nv[p->rs->n++] = s->r;
	memset(&s->r, 0, sizeof(s->r));
	sec_clear(s);
}

static void
sec_begin(struct ps *p, const char *nm, size_t n, unsigned line)
{
	struct sec *s = &p->s;

	sec_end(p);
	s->active = 1;
	s->line = line;
	s->r.window = 60LL * 1000000000;
	s->r.severity = AR_MEDIUM;
	s->r.enabled = 1;
	s->r.tstat = -1;
	if (!valid_rule_name(nm, n))
		err(p, line, "bad rule name '%.*s' (want 1..128 of A-Z a-z 0-9 _ . : - / "
		    "and inner spaces)", (int)(n > 60 ? 60 : n), nm);
	s->name = dupn(p, nm, n);
}

/* One logical line (continuations joined). */
static void
line(struct ps *p, const char *l, size_t n, unsigned lineno)
{
	const char *eq, *k, *v;
	size_t kn, vn;

	trim(&l, &n);
	if (n == 0 || l[0] == '#' || l[0] == ';')
		return;
	if (l[0] == '[') {
		const char *c = memchr(l, ']', n), *nm = l + 1;
		size_t nn;

		if (c == NULL) {
			err(p, lineno, "missing ']' in the section header");
			/* still a section: keep its keys apart from the previous rule */
			sec_begin(p, l + 1, n - 1, lineno);
			return;
		}
		if ((size_t)(c - l) + 1 < n)
			err(p, lineno, "text after ']' in the section header");
		nn = (size_t)(c - nm);
		trim(&nm, &nn);
		sec_begin(p, nm, nn, lineno);
		return;
	}
	if ((eq = memchr(l, '=', n)) == NULL) {
		err(p, lineno, "expected 'key = value' or a [name] line, got '%.*s'",
		    (int)(n > 60 ? 60 : n), l);
		return;
	}
	k = l;
	kn = (size_t)(eq - l);
	trim(&k, &kn);
	v = eq + 1;
	vn = (size_t)(l + n - v);
	trim(&v, &vn);
	for (size_t i = 0; i < kn; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '.' || k[i] == '-')) {
			err(p, lineno, "bad key '%.*s'", (int)(kn > 60 ? 60 : kn), k);
			return;
		}
	if (kn == 0) {
		err(p, lineno, "missing key before '='");
		return;
	}
	key_value(p, k, kn, v, vn, lineno);
}

void
ar_free(struct ar_set *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

size_t
ar_parse(struct ar_set *rs, const char *text, size_t len, const char *name, struct sb *errs)
{
	struct ps p = { .file = name, .errs = errs, .rs = rs };
	struct sb logical = SB_INIT;
	unsigned lineno = 0, start = 0;
	size_t i = 0;

	while (i < len && !p.stop && !p.oom) {
		const char *l = text + i, *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i;
		int cont;

		i += n + (nl != NULL);
		lineno++;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (memchr(l, '\0', n) != NULL) {
			err(&p, lineno, "NUL byte (not a text file?)");
			continue;
		}
		if (!jw_utf8_valid(l, n)) {
			err(&p, lineno, "invalid UTF-8");
			continue;
		}
		if (logical.len == 0)
			start = lineno;
		cont = n > 0 && l[n - 1] == '\\';
		if (logical.len > 0 && sb_addc(&logical, ' ') < 0)
			p.oom = 1;
		if (sb_add(&logical, l, n - (size_t)cont) < 0)
			p.oom = 1;
		if (cont && i < len)
			continue;
		line(&p, logical.buf ? logical.buf : "", logical.len, start);
		sb_reset(&logical);
	}
	if (!p.oom)
		sec_end(&p);
	sec_clear(&p.s);
	sb_free(&logical);
	if (!p.oom && !p.stop && p.nerr == 0 && rs->n == 0)
		err(&p, 0, "no rules (a rule starts with a [name] line)");
	if (p.oom) {
		p.nerr++;
		sb_addf(errs, "%s: out of memory\n", name);
	}
	if (p.nerr > 0)
		ar_free(rs);
	return p.nerr;
}
