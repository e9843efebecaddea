/* qry_pipe.c: the pipeline runner and the pipes other than stats (limit, offset, sort, fields, delete, top, uniq, filter). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "qry_int.h"
#include "rec.h"

/* Internal codes: a limit was reached; or emit asked to stop. */
enum { R_DONE = 1, R_STOP = -2, R_NOMEM = -1 };

struct item {
	struct json_object *rec;
	uint64_t seq;
};

struct stage {
	const struct qpipe *pp;
	uint64_t count;
	int done;
	struct item *items;	/* sort */
	size_t nitems, capitems;
	struct qh h;		/* top, uniq */
	struct qstats *st;
};

struct qry_run {
	struct qry *q;
	qry_emit_fn emit;
	void *arg;
	struct stage *stages;
	size_t nstages;
	int done, emit_rc;
	uint64_t seq;
	struct qry_run_stats stats;
	struct sb key;
	const struct stage *sorting;	/* for the qsort comparator */
};

/* ---- hash table ---- */

struct qh_ent *
qh_get(struct qh *t, const char *key, size_t klen, int *isnew)
{
	uint64_t h = XXH3_64bits(key, klen);
	size_t i;

	if (t->n * 2 >= t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct qh_ent *nv = calloc(ncap, sizeof(*nv));

		if (nv == NULL)
			return NULL;
		for (size_t k = 0; k < t->cap; k++) {
			if (t->v[k].key == NULL)
				continue;
			for (i = t->v[k].h & (ncap - 1); nv[i].key; i = (i + 1) & (ncap - 1))
				;
			nv[i] = t->v[k];
		}
		free(t->v);
		t->v = nv;
		t->cap = ncap;
	}
	for (i = h & (t->cap - 1); t->v[i].key; i = (i + 1) & (t->cap - 1))
		if (t->v[i].h == h && t->v[i].klen == klen && memcmp(t->v[i].key, key, klen) == 0) {
			*isnew = 0;
			return &t->v[i];
		}
	/* klen + 1 so that an empty key is still a non-NULL pointer */
	if ((t->v[i].key = malloc(klen + 1)) == NULL)
		return NULL;
	memcpy(t->v[i].key, key, klen);
	t->v[i].key[klen] = '\0';
	t->v[i].klen = klen;
	t->v[i].h = h;
	t->v[i].val = NULL;
	t->n++;
	*isnew = 1;
	return &t->v[i];
}

void
qh_free(struct qh *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

int
qry_key_part(struct sb *key, const char *s, size_t n)
{
	return sb_add(key, &n, sizeof(n)) < 0 || sb_add(key, s, n) < 0 ? -1 : 0;
}

int
qry_cmp_values(const char *a, size_t an, const char *b, size_t bn)
{
	double x, y;
	int c;

	if (qry_parse_num(a, an, &x) && qry_parse_num(b, bn, &y))
		return x < y ? -1 : x > y;
	c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : an < bn ? -1 : an > bn;
}

/* ---- stages ---- */

static int next(struct qry_run *r, size_t i, struct json_object *rec);

static const char *
text(struct qry_run *r, struct json_object *rec, const char *f, size_t *len)
{
	const char *s = qry_field_text(r->q, rec, f, len);

	if (s == NULL)
		*len = 0, s = "";
	return s;
}

static int
cmp_items(struct qry_run *r, const struct stage *st, const struct item *a, const struct item *b)
{
	const struct qpipe *pp = st->pp;

	for (size_t k = 0; k < pp->nkeys; k++) {
		size_t an, bn;
		const char *as, *bs;
		char *acopy;
		int c;

		/* qry_field_text may format into shared scratch: copy the first */
		as = text(r, a->rec, pp->keys[k].field, &an);
		if ((acopy = malloc(an + 1)) == NULL)
			return 0;
		memcpy(acopy, as, an);
		bs = text(r, b->rec, pp->keys[k].field, &bn);
		c = qry_cmp_values(acopy, an, bs, bn);
		free(acopy);
		if (c)
			return (pp->keys[k].desc ^ pp->desc) ? -c : c;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static struct qry_run *sort_run;	/* qsort has no context argument in C11 */

static int
qsort_cmp(const void *a, const void *b)
{
	return cmp_items(sort_run, sort_run->sorting, a, b);
}

/* Max-heap on the sort order: the worst kept record on top. */
static void
sift_down(struct qry_run *r, struct stage *st, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct item t;

		if (l < st->nitems && cmp_items(r, st, &st->items[l], &st->items[m]) > 0)
			m = l;
		if (l + 1 < st->nitems && cmp_items(r, st, &st->items[l + 1], &st->items[m]) > 0)
			m = l + 1;
		if (m == i)
			return;
		t = st->items[i];
		st->items[i] = st->items[m];
		st->items[m] = t;
		i = m;
	}
}

static void
sift_up(struct qry_run *r, struct stage *st, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct item t;

		if (cmp_items(r, st, &st->items[i], &st->items[p]) <= 0)
			return;
		t = st->items[i];
		st->items[i] = st->items[p];
		st->items[p] = t;
		i = p;
	}
}

static int
sort_push(struct qry_run *r, struct stage *st, struct json_object *rec)
{
	struct item it = { rec, r->seq++ };
	const struct qpipe *pp = st->pp;
	uint64_t keep = pp->has_n ? pp->n + pp->off : UINT64_MAX;

	if (pp->has_n && pp->n + pp->off < pp->n)
		keep = UINT64_MAX;	/* overflow: keep all */
	if (keep == 0)
		return 0;
	if (pp->has_n && st->nitems >= keep) {
		/* bounded: replace the worst kept record if this one is better */
		if (cmp_items(r, st, &it, &st->items[0]) >= 0)
			return 0;
		json_object_put(st->items[0].rec);
		st->items[0] = it;
		json_object_get(rec);
		sift_down(r, st, 0);
		return 0;
	}
	if (st->nitems == st->capitems) {
		size_t nc = st->capitems ? st->capitems * 2 : 256;
		struct item *v = realloc(st->items, nc * sizeof(*v));

		if (v == NULL)
			return R_NOMEM;
		st->items = v;
		st->capitems = nc;
	}
	st->items[st->nitems++] = it;
	json_object_get(rec);
	if (pp->has_n)
		sift_up(r, st, st->nitems - 1);
	return 0;
}

static int
sort_finish(struct qry_run *r, struct stage *st, size_t i)
{
	const struct qpipe *pp = st->pp;
	uint64_t out = 0;
	int rc = 0;

	sort_run = r;
	r->sorting = st;
	/* qsort(NULL, 0, ...) is undefined (UBSan says so) */
	if (st->nitems > 1)
		qsort(st->items, st->nitems, sizeof(*st->items), qsort_cmp);
	for (size_t k = 0; k < st->nitems && rc == 0; k++) {
		if (k < pp->off)
			continue;
		if (pp->has_n && out++ >= pp->n)
			break;
		rc = next(r, i + 1, st->items[k].rec);
	}
	return rc;
}

/* A new record with only (fields) or without (delete) the pipe's fields. */
static int
project(struct qry_run *r, struct stage *st, size_t i, struct json_object *rec)
{
	const struct qpipe *pp = st->pp;
	struct json_object *o = json_object_new_object(), *v;
	int rc;

	if (o == NULL)
		return R_NOMEM;
	if (pp->kind == QP_FIELDS) {
		for (size_t k = 0; k < pp->nkeys; k++)
			if (json_object_object_get_ex(rec, pp->keys[k].field, &v) &&
			    json_object_object_add(o, pp->keys[k].field, json_object_get(v)) < 0)
				goto oom;
	} else {
		json_object_object_foreach(rec, key, val) {
			size_t k;

			for (k = 0; k < pp->nkeys; k++)
				if (strcmp(key, pp->keys[k].field) == 0)
					break;
			if (k == pp->nkeys && json_object_object_add(o, key, json_object_get(val)) < 0)
				goto oom;
		}
	}
	rc = next(r, i + 1, o);
	json_object_put(o);
	return rc;
oom:
	json_object_put(o);
	return R_NOMEM;
}

/* The group key of the pipe's "by" fields into r->key. */
static int
group_key(struct qry_run *r, const struct qpipe *pp, struct json_object *rec)
{
	sb_reset(&r->key);
	for (size_t k = 0; k < pp->nkeys; k++) {
		size_t n;
		const char *s = text(r, rec, pp->keys[k].field, &n);

		if (qry_key_part(&r->key, s, n) < 0)
			return -1;
	}
	return sb_addc(&r->key, 0);	/* never a NULL buffer */
}

/* A record of the by-fields from a key built by group_key. */
static struct json_object *
key_record(const struct qpipe *pp, const char *key)
{
	struct json_object *o = json_object_new_object();
	size_t n;

	if (o == NULL)
		return NULL;
	for (size_t k = 0; k < pp->nkeys; k++) {
		struct json_object *s;

		memcpy(&n, key, sizeof(n));
		key += sizeof(n);
		if ((s = json_object_new_string_len(key, (int)n)) == NULL ||
		    json_object_object_add(o, pp->keys[k].field, s) < 0) {
			json_object_put(o);
			return NULL;
		}
		key += n;
	}
	return o;
}

static int
uniq_push(struct qry_run *r, struct stage *st, size_t i, struct json_object *rec)
{
	struct qh_ent *e;
	struct json_object *o;
	int isnew, rc;

	if (group_key(r, st->pp, rec) < 0 || (e = qh_get(&st->h, r->key.buf, r->key.len, &isnew)) == NULL)
		return R_NOMEM;
	if (st->pp->kind == QP_TOP) {
		e->val = (void *)((uintptr_t)e->val + 1);
		return 0;
	}
	if (!isnew)
		return 0;
	if ((o = key_record(st->pp, e->key)) == NULL)
		return R_NOMEM;
	rc = next(r, i + 1, o);
	json_object_put(o);
	if (rc == 0 && st->pp->has_n && st->h.n >= st->pp->n)
		return R_DONE;
	return rc;
}

static const struct qh_ent *top_base;

static int
top_cmp(const void *a, const void *b)
{
	const struct qh_ent *x = *(struct qh_ent *const *)a, *y = *(struct qh_ent *const *)b;
	size_t m = x->klen < y->klen ? x->klen : y->klen;
	int c;

	(void)top_base;
	if (x->val != y->val)
		return (uintptr_t)x->val > (uintptr_t)y->val ? -1 : 1;
	c = memcmp(x->key, y->key, m);
	return c ? c : x->klen < y->klen ? -1 : x->klen > y->klen;
}

static int
top_finish(struct qry_run *r, struct stage *st, size_t i)
{
	struct qh_ent **v = malloc((st->h.n + 1) * sizeof(*v));
	size_t n = 0;
	int rc = 0;

	if (v == NULL)
		return R_NOMEM;
	for (size_t k = 0; k < st->h.cap; k++)
		if (st->h.v[k].key)
			v[n++] = &st->h.v[k];
	qsort(v, n, sizeof(*v), top_cmp);
	for (size_t k = 0; k < n && k < st->pp->n && rc == 0; k++) {
		struct json_object *o = key_record(st->pp, v[k]->key), *h;
		struct sb num = SB_INIT;

		if (o == NULL || qry_fmt_num((double)(uintptr_t)v[k]->val, &num) < 0 ||
		    (h = json_object_new_string_len(num.buf, (int)num.len)) == NULL ||
		    json_object_object_add(o, "hits", h) < 0) {
			json_object_put(o);
			sb_free(&num);
			rc = R_NOMEM;
			break;
		}
		sb_free(&num);
		rc = next(r, i + 1, o);
		json_object_put(o);
	}
	free(v);
	return rc;
}

static int
stage_push(struct qry_run *r, size_t i, struct json_object *rec)
{
	struct stage *st = &r->stages[i];
	const struct qpipe *pp = st->pp;
	int rc;

	if (st->done)
		return R_DONE;
	switch (pp->kind) {
	case QP_LIMIT:
		if (st->count >= pp->n)
			return st->done = 1, R_DONE;
		st->count++;
		rc = next(r, i + 1, rec);
		if (rc == 0 && st->count >= pp->n)
			return st->done = 1, R_DONE;
		return rc;
	case QP_OFFSET:
		if (st->count < pp->n) {
			st->count++;
			return 0;
		}
		return next(r, i + 1, rec);
	case QP_SORT:
		return sort_push(r, st, rec);
	case QP_FIELDS:
	case QP_DELETE:
		return project(r, st, i, rec);
	case QP_STATS:
		return qry_stats_push(r->q, st->st, rec, 1) < 0 ? R_NOMEM : 0;
	case QP_TOP:
	case QP_UNIQ:
		rc = uniq_push(r, st, i, rec);
		if (rc == R_DONE)
			st->done = 1;
		return rc;
	case QP_FILTER:
		return qry_node_match(r->q, pp->filter, rec) ? next(r, i + 1, rec) : 0;
	}
	return 0;
}

static int
next(struct qry_run *r, size_t i, struct json_object *rec)
{
	int rc;

	if (i < r->nstages)
		return stage_push(r, i, rec);
	r->stats.emitted++;
	if ((rc = r->emit(r->arg, rec)) != 0) {
		r->emit_rc = rc;
		return R_STOP;
	}
	return 0;
}

struct stats_next {
	struct qry_run *r;
	size_t i;
};

static int
stats_next(void *arg, struct json_object *rec)
{
	struct stats_next *sn = arg;

	return next(sn->r, sn->i + 1, rec);
}

struct qry_run *
qry_run_new(struct qry *q, qry_emit_fn emit, void *arg)
{
	struct qry_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->q = q;
	r->emit = emit;
	r->arg = arg;
	r->nstages = q->npipes;
	if ((r->stages = calloc(q->npipes + 1, sizeof(*r->stages))) == NULL)
		goto oom;
	for (size_t i = 0; i < q->npipes; i++) {
		r->stages[i].pp = &q->pipes[i];
		if (q->pipes[i].kind == QP_STATS &&
		    (r->stages[i].st = qry_stats_new(&q->pipes[i])) == NULL)
			goto oom;
	}
	return r;
oom:
	qry_run_free(r);
	return NULL;
}

/* Map internal codes to the API's. */
static int
result(struct qry_run *r, int rc)
{
	if (rc == R_STOP)
		return r->emit_rc;
	return rc;
}

int
qry_run_push(struct qry_run *r, struct json_object *rec)
{
	struct json_object *flat;
	int rc;

	if (r->done)
		return 1;
	r->stats.pushed++;
	if (!qry_match(r->q, rec))
		return 0;
	r->stats.matched++;
	if ((flat = qry_flatten(rec)) == NULL)
		return -1;
	rc = next(r, 0, flat);
	json_object_put(flat);
	if (rc != 0)
		r->done = 1;
	return result(r, rc);
}

int
qry_run_push_flat(struct qry_run *r, struct json_object *rec)
{
	int rc;

	if (r->done)
		return 1;
	r->stats.pushed++;
	if (!qry_match(r->q, rec))
		return 0;
	r->stats.matched++;
	if ((rc = next(r, 0, rec)) != 0)
		r->done = 1;
	return result(r, rc);
}

int
qry_run_weighted(const struct qry *q, const char *const **names, size_t *n)
{
	const struct qpipe *pp = q->npipes ? &q->pipes[0] : NULL;

	if (pp == NULL || pp->kind != QP_STATS || q->wbad)
		return 0;
	for (size_t k = 0; k < pp->nst; k++)
		if (pp->st[k].fn == QS_SUM || pp->st[k].fn == QS_AVG)
			return 0;
	*names = (const char *const *)q->wnames;
	*n = q->nwnames;
	return 1;
}

int
qry_run_push_n(struct qry_run *r, struct json_object *rec, uint64_t n, int tested)
{
	if (r->done)
		return 1;
	r->stats.pushed += n;
	if (!tested && !qry_match(r->q, rec))
		return 0;
	r->stats.matched += n;
	return qry_stats_push(r->q, r->stages[0].st, rec, n) < 0 ? -1 : 0;
}

int
qry_run_finish(struct qry_run *r)
{
	int rc = 0;

	if (r->emit_rc)
		return r->emit_rc;
	for (size_t i = 0; i < r->nstages; i++) {
		struct stage *st = &r->stages[i];
		struct stats_next sn = { r, i };

		switch (st->pp->kind) {
		case QP_SORT:
			rc = sort_finish(r, st, i);
			break;
		case QP_STATS:
			rc = qry_stats_finish(r->q, st->st, stats_next, &sn);
			break;
		case QP_TOP:
			rc = top_finish(r, st, i);
			break;
		default:
			rc = 0;
		}
		/* a limit further down is full: the stages after it still finish */
		if (rc != 0 && rc != R_DONE)
			return result(r, rc);
	}
	return 0;
}

void
qry_run_get_stats(const struct qry_run *r, struct qry_run_stats *st)
{
	*st = r->stats;
}

void
qry_run_free(struct qry_run *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->stages && i < r->nstages; i++) {
		struct stage *st = &r->stages[i];

		for (size_t k = 0; k < st->nitems; k++)
			json_object_put(st->items[k].rec);
		free(st->items);
		qh_free(&st->h);
		qry_stats_free(st->st);
	}
	free(r->stages);
	sb_free(&r->key);
	free(r);
}
