/* qry_stats.c: the stats pipe: groups (with _time buckets), count, count_uniq, sum, avg, min, max, quantile. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qry_int.h"
#include "rec.h"
#include "ts.h"

/* The state of one function in one group. */
struct acc {
	uint64_t n;		/* count; values seen for avg */
	double sum, min, max;
	int has_num;
	char *smin, *smax;	/* min/max over values that are not numbers */
	size_t sminl, smaxl;
	struct qh uniq;		/* count_uniq */
	double *vals;		/* quantile */
	size_t nvals, capvals;
};

struct group {
	struct acc *acc;
};

struct qstats {
	const struct qpipe *pp;
	struct qh groups;
	struct sb key, tmp;
};

int
qry_fmt_num(double v, struct sb *out)
{
	char b[40];

	if (isnan(v))
		return sb_adds(out, "NaN");
	if (isinf(v))
		return sb_adds(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return sb_addf(out, "%.0f", v == 0 ? 0.0 : v);
	/* the shortest text that reads back as the same double */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	return sb_adds(out, b);
}

struct qstats *
qry_stats_new(const struct qpipe *pp)
{
	struct qstats *s = calloc(1, sizeof(*s));

	if (s)
		s->pp = pp;
	return s;
}

static void
acc_free(struct acc *a)
{
	free(a->smin);
	free(a->smax);
	qh_free(&a->uniq);
	free(a->vals);
}

/* Bucketed text of a by-field into out; returns the text to use. */
static const char *
bucket(struct qry *q, const struct qkey *k, const char *s, size_t *n, struct sb *out)
{
	int64_t t;
	double v;

	if (k->bucket) {
		char b[TS_BUFSZ];

		if (*n == 0 || (ts_parse_iso(s, *n, &t) != *n && ts_parse_unix(s, *n, &t) != *n))
			return s;
		/* floor, also before 1970 */
		t = t / k->bucket * k->bucket - (t % k->bucket < 0 ? k->bucket : 0);
		*n = ts_format(t, b);
		sb_reset(out);
		return sb_add(out, b, *n) < 0 ? NULL : out->buf;
	}
	if (k->nbucket > 0 && qry_parse_num(s, *n, &v)) {
		sb_reset(out);
		if (qry_fmt_num(floor(v / k->nbucket) * k->nbucket, out) < 0)
			return NULL;
		*n = out->len;
		return out->buf;
	}
	(void)q;
	return s;
}

static int
set_str(char **dst, size_t *dl, const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c == NULL)
		return -1;
	memcpy(c, s, n);
	c[n] = '\0';
	free(*dst);
	*dst = c;
	*dl = n;
	return 0;
}

/* Add a value seen w times (w > 1 only for functions qry_run_weighted allows). */
static int
acc_add(struct acc *a, const struct qstat *st, const char *s, size_t n, int present, uint64_t w)
{
	double v;
	int isnew;

	if (st->fn == QS_COUNT) {
		if (st->field == NULL || (present && n > 0))
			a->n += w;
		return 0;
	}
	if (!present || n == 0)
		return 0;	/* empty values take no part, as in VictoriaLogs */
	switch (st->fn) {
	case QS_COUNT_UNIQ:
		return qh_get(&a->uniq, s, n, &isnew) ? 0 : -1;
	case QS_MIN:
	case QS_MAX:
		if (!qry_parse_num(s, n, &v)) {
			if (st->fn == QS_MIN && (a->smin == NULL ||
			    qry_cmp_values(s, n, a->smin, a->sminl) < 0))
				return set_str(&a->smin, &a->sminl, s, n);
			if (st->fn == QS_MAX && (a->smax == NULL ||
			    qry_cmp_values(s, n, a->smax, a->smaxl) > 0))
				return set_str(&a->smax, &a->smaxl, s, n);
			return 0;
		}
		break;
	default:
		if (!qry_parse_num(s, n, &v))
			return 0;
	}
	if (!a->has_num || v < a->min)
		a->min = v;
	if (!a->has_num || v > a->max)
		a->max = v;
	a->has_num = 1;
	/* one addition per record: sums stay those of a plain run */
	for (uint64_t i = 0; i < w; i++)
		a->sum += v;
	a->n += w;
	if (st->fn == QS_QUANTILE) {
		while (a->nvals + w > a->capvals) {
			size_t nc = a->capvals ? a->capvals * 2 : 64;
			double *nv = realloc(a->vals, nc * sizeof(*nv));

			if (nv == NULL)
				return -1;
			a->vals = nv;
			a->capvals = nc;
		}
		for (uint64_t i = 0; i < w; i++)
			a->vals[a->nvals++] = v;
	}
	return 0;
}

static struct group *
group_get(struct qstats *s)
{
	struct qh_ent *e;
	struct group *g;
	int isnew;

	if ((e = qh_get(&s->groups, s->key.buf ? s->key.buf : "", s->key.len, &isnew)) == NULL)
		return NULL;
	if (!isnew)
		return e->val;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->acc = calloc(s->pp->nst ? s->pp->nst : 1, sizeof(*g->acc))) == NULL) {
		free(g);
		return NULL;
	}
	e->val = g;
	return g;
}

int
qry_stats_push(struct qry *q, struct qstats *s, struct json_object *rec, uint64_t w)
{
	const struct qpipe *pp = s->pp;
	struct group *g;

	sb_reset(&s->key);
	for (size_t k = 0; k < pp->nkeys; k++) {
		size_t n = 0;
		const char *v = qry_field_text(q, rec, pp->keys[k].field, &n);

		if (v == NULL)
			v = "", n = 0;
		if ((v = bucket(q, &pp->keys[k], v, &n, &s->tmp)) == NULL ||
		    qry_key_part(&s->key, v, n) < 0)
			return -1;
	}
	if ((g = group_get(s)) == NULL)
		return -1;
	for (size_t k = 0; k < pp->nst; k++) {
		const struct qstat *st = &pp->st[k];
		size_t n = 0;
		const char *v = st->field ? qry_field_text(q, rec, st->field, &n) : "";

		if (acc_add(&g->acc[k], st, v ? v : "", v ? n : 0, v != NULL, w) < 0)
			return -1;
	}
	return 0;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The result of one function as text. */
static int
acc_result(struct acc *a, const struct qstat *st, struct sb *out)
{
	size_t idx;

	sb_reset(out);
	switch (st->fn) {
	case QS_COUNT:
		return sb_addf(out, "%" PRIu64, a->n);
	case QS_COUNT_UNIQ:
		return sb_addf(out, "%zu", a->uniq.n);
	case QS_SUM:
		return qry_fmt_num(a->n ? a->sum : NAN, out);
	case QS_AVG:
		return qry_fmt_num(a->n ? a->sum / (double)a->n : NAN, out);
	case QS_MIN:
		if (a->has_num)
			return qry_fmt_num(a->min, out);
		return a->smin ? sb_add(out, a->smin, a->sminl) : sb_grow(out, 1);
	case QS_MAX:
		if (a->has_num)
			return qry_fmt_num(a->max, out);
		return a->smax ? sb_add(out, a->smax, a->smaxl) : sb_grow(out, 1);
	case QS_QUANTILE:
		if (a->nvals == 0)
			return qry_fmt_num(NAN, out);
		qsort(a->vals, a->nvals, sizeof(*a->vals), dcmp);
		/* the value at rank phi*n, as VictoriaLogs picks it */
		idx = (size_t)(st->phi * (double)a->nvals);
		if (idx >= a->nvals)
			idx = a->nvals - 1;
		return qry_fmt_num(a->vals[idx], out);
	}
	return 0;
}

static const struct qpipe *cmp_pp;

/* Groups sorted by their by-values, each compared as LogsQL sorts values. */
static int
group_cmp(const void *x, const void *y)
{
	const char *a = (*(struct qh_ent *const *)x)->key, *b = (*(struct qh_ent *const *)y)->key;

	for (size_t k = 0; k < cmp_pp->nkeys; k++) {
		size_t an, bn;
		int c;

		memcpy(&an, a, sizeof(an));
		memcpy(&bn, b, sizeof(bn));
		a += sizeof(an);
		b += sizeof(bn);
		if ((c = qry_cmp_values(a, an, b, bn)) != 0)
			return c;
		a += an;
		b += bn;
	}
	return 0;
}

int
qry_stats_finish(struct qry *q, struct qstats *s,
    int (*next)(void *arg, struct json_object *rec), void *arg)
{
	const struct qpipe *pp = s->pp;
	struct qh_ent **v;
	size_t n = 0;
	int rc = 0;

	(void)q;
	/* stats without "by" over no records still says count 0 */
	if (pp->nkeys == 0 && s->groups.n == 0) {
		sb_reset(&s->key);
		if (group_get(s) == NULL)
			return -1;
	}
	if ((v = malloc((s->groups.n + 1) * sizeof(*v))) == NULL)
		return -1;
	for (size_t k = 0; k < s->groups.cap; k++)
		if (s->groups.v[k].key)
			v[n++] = &s->groups.v[k];
	cmp_pp = pp;
	qsort(v, n, sizeof(*v), group_cmp);
	for (size_t k = 0; k < n && rc == 0; k++) {
		struct json_object *o = json_object_new_object(), *js;
		struct group *g = v[k]->val;
		const char *key = v[k]->key;

		if (o == NULL) {
			rc = -1;
			break;
		}
		for (size_t f = 0; f < pp->nkeys && rc == 0; f++) {
			size_t kl;

			memcpy(&kl, key, sizeof(kl));
			key += sizeof(kl);
			if ((js = json_object_new_string_len(key, (int)kl)) == NULL ||
			    json_object_object_add(o, pp->keys[f].field, js) < 0)
				rc = -1;
			key += kl;
		}
		for (size_t f = 0; f < pp->nst && rc == 0; f++) {
			if (acc_result(&g->acc[f], &pp->st[f], &s->tmp) < 0 ||
			    (js = json_object_new_string_len(s->tmp.buf ? s->tmp.buf : "",
			    (int)s->tmp.len)) == NULL ||
			    json_object_object_add(o, pp->st[f].name, js) < 0)
				rc = -1;
		}
		if (rc == 0)
			rc = next(arg, o);
		json_object_put(o);
	}
	free(v);
	return rc;
}

void
qry_stats_free(struct qstats *s)
{
	if (s == NULL)
		return;
	for (size_t k = 0; k < s->groups.cap; k++) {
		struct group *g = s->groups.v[k].val;

		if (s->groups.v[k].key == NULL || g == NULL)
			continue;
		for (size_t f = 0; f < s->pp->nst; f++)
			acc_free(&g->acc[f]);
		free(g->acc);
		free(g);
	}
	qh_free(&s->groups);
	sb_free(&s->key);
	sb_free(&s->tmp);
	free(s);
}
