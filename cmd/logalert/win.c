/* win.c: logalert's sliding windows: groups, windowed stats, expiry, cooldown timers, firing and resolving. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../tool.h"
#include "logalert.h"

/* A sample over this size is kept as _time and the head of _msg. */
#define SAMPLE_MAX (64 * 1024)
#define SAMPLE_MSG 1024

struct eng E;

/* Cooldown timers of every rule: a min-heap on (time, seq). */
struct timer {
	int64_t at;
	uint64_t seq;
	struct group *g;
};
static struct timer *heap;
static size_t nheap, capheap;

struct unode {
	struct unode *next;
	uint64_t h;
	size_t count, len;
	char s[];
};

struct raw *
raw_new(const char *s, size_t n)
{
	struct raw *r = xmalloc(sizeof(*r) + n + 1);

	r->refs = 1;
	r->len = n;
	memcpy(r->s, s, n);
	r->s[n] = '\0';
	return r;
}

void
raw_put(struct raw *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* ---- count_uniq: a counting set ---- */

static void
uset_add(struct uset *u, const char *s, size_t n)
{
	uint64_t h = XXH3_64bits(s, n);
	struct unode *e;

	if (u->n >= u->nb) {
		size_t nb = u->nb ? u->nb * 2 : 16;
		struct unode **b = xcalloc(nb, sizeof(*b));

		for (size_t i = 0; i < u->nb; i++)
			while ((e = u->b[i]) != NULL) {
				u->b[i] = e->next;
				e->next = b[e->h & (nb - 1)];
				b[e->h & (nb - 1)] = e;
			}
		free(u->b);
		u->b = b;
		u->nb = nb;
	}
	for (e = u->b[h & (u->nb - 1)]; e; e = e->next)
		if (e->h == h && e->len == n && memcmp(e->s, s, n) == 0) {
			e->count++;
			return;
		}
	e = xmalloc(sizeof(*e) + n);
	e->h = h;
	e->len = n;
	e->count = 1;
	memcpy(e->s, s, n);
	e->next = u->b[h & (u->nb - 1)];
	u->b[h & (u->nb - 1)] = e;
	u->n++;
}

static void
uset_del(struct uset *u, const char *s, size_t n)
{
	uint64_t h = XXH3_64bits(s, n);
	struct unode **pp;

	if (u->nb == 0)
		return;
	for (pp = &u->b[h & (u->nb - 1)]; *pp; pp = &(*pp)->next) {
		struct unode *e = *pp;

		if (e->h == h && e->len == n && memcmp(e->s, s, n) == 0) {
			if (--e->count == 0) {
				*pp = e->next;
				free(e);
				u->n--;
			}
			return;
		}
	}
}

static void
uset_free(struct uset *u)
{
	for (size_t i = 0; i < u->nb; i++)
		while (u->b[i]) {
			struct unode *e = u->b[i];

			u->b[i] = e->next;
			free(e);
		}
	free(u->b);
	memset(u, 0, sizeof(*u));
}

/* ---- windowed stats ---- */

static size_t
lower_bound(const double *a, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
acc_add(struct acc *a, const struct ar_stat *st, uint64_t seq, double x, const char *s)
{
	size_t i;

	switch (st->fn) {
	case AR_COUNT:
		if (st->field == NULL || x == 1)
			a->n++;
		return;
	case AR_COUNT_UNIQ:
		if (s) {
			uset_add(&a->uniq, s, strlen(s));
			a->n++;
		}
		return;
	default:
		break;
	}
	if (isnan(x))
		return;
	a->n++;
	switch (st->fn) {
	case AR_SUM:
	case AR_AVG:
		a->sum += x;
		a->ops++;
		break;
	case AR_MIN:
	case AR_MAX:
		/* monotonic deque: the front is the window's min (max) */
		while (a->dn > 0) {
			double b = a->dval[(a->dhead + a->dn - 1) & (a->dcap - 1)];

			if (st->fn == AR_MIN ? b < x : b > x)
				break;
			a->dn--;
		}
		if (a->dn == a->dcap) {
			size_t nc = a->dcap ? a->dcap * 2 : 8;
			uint64_t *ns = xmalloc(nc * sizeof(*ns));
			double *nv = xmalloc(nc * sizeof(*nv));

			for (i = 0; i < a->dn; i++) {
				ns[i] = a->dseq[(a->dhead + i) & (a->dcap - 1)];
				nv[i] = a->dval[(a->dhead + i) & (a->dcap - 1)];
			}
			free(a->dseq);
			free(a->dval);
			a->dseq = ns;
			a->dval = nv;
			a->dcap = nc;
			a->dhead = 0;
		}
		i = (a->dhead + a->dn++) & (a->dcap - 1);
		a->dseq[i] = seq;
		a->dval[i] = x;
		break;
	case AR_QUANTILE:
		if (a->ns == a->scap) {
			a->scap = a->scap ? a->scap * 2 : 16;
			a->sorted = xrealloc(a->sorted, a->scap * sizeof(*a->sorted));
		}
		i = lower_bound(a->sorted, a->ns, x);
		memmove(a->sorted + i + 1, a->sorted + i, (a->ns - i) * sizeof(*a->sorted));
		a->sorted[i] = x;
		a->ns++;
		break;
	default:
		break;
	}
}

static void
acc_del(struct acc *a, const struct ar_stat *st, uint64_t seq, double x, const char *s)
{
	size_t i;

	switch (st->fn) {
	case AR_COUNT:
		if (st->field == NULL || x == 1)
			a->n--;
		return;
	case AR_COUNT_UNIQ:
		if (s) {
			uset_del(&a->uniq, s, strlen(s));
			a->n--;
		}
		return;
	default:
		break;
	}
	if (isnan(x))
		return;
	a->n--;
	switch (st->fn) {
	case AR_SUM:
	case AR_AVG:
		a->sum -= x;
		a->ops++;
		if (a->n == 0)
			a->sum = 0, a->ops = 0;
		break;
	case AR_MIN:
	case AR_MAX:
		if (a->dn > 0 && a->dseq[a->dhead] == seq) {
			a->dhead = (a->dhead + 1) & (a->dcap - 1);
			a->dn--;
		}
		break;
	case AR_QUANTILE:
		i = lower_bound(a->sorted, a->ns, x);
		if (i < a->ns && a->sorted[i] == x) {
			memmove(a->sorted + i, a->sorted + i + 1, (a->ns - i - 1) * sizeof(*a->sorted));
			a->ns--;
		}
		break;
	default:
		break;
	}
}

/* Sums drift as values come and go: add them up afresh now and then (amortised O(1)). */
static void
resum(const struct rrule *rr, struct group *g, size_t k)
{
	struct acc *a = &g->acc[k];
	size_t ns = rr->r->nstats;
	double s = 0;

	if (a->ops <= 2 * a->n + 64)
		return;
	for (size_t i = 0; i < g->n; i++) {
		double x = g->v[((g->head + i) & (g->cap - 1)) * ns + k];

		if (!isnan(x))
			s += x;
	}
	a->sum = s;
	a->ops = 0;
}

double
win_value(const struct rrule *rr, struct group *g)
{
	const struct ar_rule *r = rr->r;
	const struct acc *a;
	size_t i;

	if (r->tstat < 0)
		return (double)g->n;
	a = &g->acc[r->tstat];
	switch (r->stats[r->tstat].fn) {
	case AR_COUNT:
		return (double)a->n;
	case AR_COUNT_UNIQ:
		return (double)a->uniq.n;
	case AR_SUM:
		return a->n ? a->sum : NAN;
	case AR_AVG:
		return a->n ? a->sum / (double)a->n : NAN;
	case AR_MIN:
	case AR_MAX:
		return a->dn ? a->dval[a->dhead] : NAN;
	case AR_QUANTILE:
		if (a->ns == 0)
			return NAN;
		/* the value at rank phi*n, as the stats pipe picks it */
		i = (size_t)(r->stats[r->tstat].phi * (double)a->ns);
		return a->sorted[i >= a->ns ? a->ns - 1 : i];
	}
	return NAN;
}

int64_t
win_first(const struct group *g)
{
	return g->n ? g->t[g->head] : NEVER;
}

int64_t
win_last(const struct group *g)
{
	return g->n ? g->t[(g->head + g->n - 1) & (g->cap - 1)] : NEVER;
}

const char *
win_keypart(const struct group *g, size_t k, size_t *len)
{
	const char *p = g->key;

	for (;;) {
		memcpy(len, p, sizeof(*len));
		p += sizeof(*len);
		if (k-- == 0)
			return p;
		p += *len;
	}
}

/* ---- groups ---- */

static void
group_release(struct group *g)
{
	size_t ns = g->rr->r->nstats;

	for (size_t k = 0; k < ns; k++) {
		free(g->acc[k].dseq);
		free(g->acc[k].dval);
		free(g->acc[k].sorted);
		uset_free(&g->acc[k].uniq);
	}
	if (g->s)
		for (size_t i = 0; i < g->n; i++)
			for (size_t k = 0; k < ns; k++)
				free(g->s[((g->head + i) & (g->cap - 1)) * ns + k]);
	for (size_t i = 0; i < g->nsmp; i++)
		raw_put(g->smp[(g->smphead + i) % o.samples]);
	free(g->acc);
	free(g->t);
	free(g->v);
	free(g->s);
	free(g->smp);
	free(g->smpt);
	free(g->key);
	free(g->annots);
	free(g);
}

/* Take g out of its rule; the memory goes once no timer points at it. */
static void
group_free(struct rrule *rr, struct group *g)
{
	struct group **pp = &rr->tab[g->hash & (rr->ntab - 1)];

	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	if (g->prev)
		g->prev->next = g->next;
	else
		rr->first = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		rr->last = g->prev;
	rr->ngroups--;
	if (g->inheap) {
		g->dead = 1;
		return;
	}
	group_release(g);
}

/* A group that holds nothing and waits for nothing is forgotten. */
static int
idle(const struct rrule *rr, const struct group *g)
{
	return g->n == 0 && !g->open && (g->last_fire == NEVER ||
	    E.clock - g->last_fire >= rr->r->cooldown);
}

void
win_sweep(struct rrule *rr)
{
	struct group *g = rr->first, *next;

	for (; g; g = next) {
		next = g->next;
		if (idle(rr, g))
			group_free(rr, g);
	}
}

struct group *
win_group(struct rrule *rr, const char *key, size_t klen, int create)
{
	uint64_t h = XXH3_64bits(key, klen);
	struct group *g;

	if (rr->ntab)
		for (g = rr->tab[h & (rr->ntab - 1)]; g; g = g->hnext)
			if (g->hash == h && g->klen == klen && memcmp(g->key, key, klen) == 0)
				return g;
	if (!create)
		return NULL;
	if (rr->ngroups >= o.max_groups) {
		win_sweep(rr);
		if (rr->ngroups >= o.max_groups) {
			if (!rr->capped)
				warn_msg("rule '%s': --max-groups %zu reached: records of new groups "
				    "are not counted", rr->r->name, o.max_groups);
			rr->capped = 1;
			return NULL;
		}
	}
	if (rr->ngroups >= rr->ntab) {
		size_t nt = rr->ntab ? rr->ntab * 2 : 64;
		struct group **t = xcalloc(nt, sizeof(*t));

		for (size_t i = 0; i < rr->ntab; i++)
			while ((g = rr->tab[i]) != NULL) {
				rr->tab[i] = g->hnext;
				g->hnext = t[g->hash & (nt - 1)];
				t[g->hash & (nt - 1)] = g;
			}
		free(rr->tab);
		rr->tab = t;
		rr->ntab = nt;
	}
	g = xcalloc(1, sizeof(*g));
	g->rr = rr;
	g->hash = h;
	g->key = xmalloc(klen ? klen : 1);
	memcpy(g->key, key, klen);
	g->klen = klen;
	g->acc = xcalloc(rr->r->nstats ? rr->r->nstats : 1, sizeof(*g->acc));
	g->smp = xcalloc(o.samples ? o.samples : 1, sizeof(*g->smp));
	g->smpt = xcalloc(o.samples ? o.samples : 1, sizeof(*g->smpt));
	g->last_fire = g->since = NEVER;
	g->wake = INT64_MAX;
	g->hnext = rr->tab[h & (rr->ntab - 1)];
	rr->tab[h & (rr->ntab - 1)] = g;
	g->prev = rr->last;
	if (rr->last)
		rr->last->next = g;
	else
		rr->first = g;
	rr->last = g;
	rr->ngroups++;
	return g;
}

void
win_push(struct rrule *rr, struct group *g, int64_t t, const double *v, char **s)
{
	size_t ns = rr->r->nstats, i;

	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 4;
		int64_t *nt = xmalloc(nc * sizeof(*nt));
		double *nv = xmalloc((ns ? nc * ns : 1) * sizeof(*nv));
		char **nsv = rr->uniq ? xcalloc(nc * ns, sizeof(*nsv)) : NULL;

		for (i = 0; i < g->n; i++) {
			size_t j = (g->head + i) & (g->cap - 1);

			nt[i] = g->t[j];
			memcpy(nv + i * ns, g->v + j * ns, ns * sizeof(*nv));
			if (nsv)
				memcpy(nsv + i * ns, g->s + j * ns, ns * sizeof(*nsv));
		}
		free(g->t);
		free(g->v);
		free(g->s);
		g->t = nt;
		g->v = nv;
		g->s = nsv;
		g->cap = nc;
		g->head = 0;
	}
	i = (g->head + g->n) & (g->cap - 1);
	g->t[i] = t;
	memcpy(g->v + i * ns, v, ns * sizeof(*v));
	if (g->s)
		memcpy(g->s + i * ns, s, ns * sizeof(*s));
	for (size_t k = 0; k < ns; k++)
		acc_add(&g->acc[k], &rr->r->stats[k], g->seq0 + g->n, v[k], s ? s[k] : NULL);
	g->n++;
	/* and into the rule's expiry queue */
	if (rr->fn == rr->fcap) {
		size_t nc = rr->fcap ? rr->fcap * 2 : 64;
		int64_t *nt = xmalloc(nc * sizeof(*nt));
		struct group **ng = xmalloc(nc * sizeof(*ng));

		for (i = 0; i < rr->fn; i++) {
			nt[i] = rr->ft[(rr->fhead + i) & (rr->fcap - 1)];
			ng[i] = rr->fg[(rr->fhead + i) & (rr->fcap - 1)];
		}
		free(rr->ft);
		free(rr->fg);
		rr->ft = nt;
		rr->fg = ng;
		rr->fcap = nc;
		rr->fhead = 0;
	}
	i = (rr->fhead + rr->fn++) & (rr->fcap - 1);
	rr->ft[i] = t;
	rr->fg[i] = g;
}

/* Drop g's oldest entry (the one the rule's queue just gave up). */
static void
pop_oldest(struct rrule *rr, struct group *g)
{
	size_t ns = rr->r->nstats, j = g->head;

	for (size_t k = 0; k < ns; k++) {
		char *s = g->s ? g->s[j * ns + k] : NULL;

		acc_del(&g->acc[k], &rr->r->stats[k], g->seq0, g->v[j * ns + k], s);
		free(s);
	}
	g->head = (g->head + 1) & (g->cap - 1);
	g->n--;
	g->seq0++;
	for (size_t k = 0; k < ns; k++)
		if (rr->r->stats[k].fn == AR_SUM || rr->r->stats[k].fn == AR_AVG)
			resum(rr, g, k);
}

/* Forget every window (the rule changed between runs); alert state stays. */
void
win_drop_entries(struct rrule *rr)
{
	while (rr->fn > 0) {
		pop_oldest(rr, rr->fg[rr->fhead]);
		rr->fhead = (rr->fhead + 1) & (rr->fcap - 1);
		rr->fn--;
	}
}

void
win_sample(struct group *g, struct raw *raw, int64_t t)
{
	size_t i;

	if (o.samples == 0)
		return;
	if (g->nsmp == o.samples) {
		raw_put(g->smp[g->smphead]);
		g->smphead = (g->smphead + 1) % o.samples;
		g->nsmp--;
	}
	i = (g->smphead + g->nsmp++) % o.samples;
	raw->refs++;
	g->smp[i] = raw;
	g->smpt[i] = t;
}

/* ---- timers ---- */

static int
tless(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void
win_arm(struct group *g, int64_t at)
{
	size_t i;

	if (g->wake == at)
		return;
	g->wake = at;
	if (at == INT64_MAX)
		return;	/* the heap entry, if any, goes stale */
	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 64;
		heap = xrealloc(heap, capheap * sizeof(*heap));
	}
	i = nheap++;
	heap[i] = (struct timer){ at, E.timer_seq++, g };
	while (i > 0 && tless(&heap[i], &heap[(i - 1) / 2])) {
		struct timer tmp = heap[i];

		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
	g->inheap++;
}

static struct timer
heap_pop(void)
{
	struct timer top = heap[0];
	size_t i = 0;

	heap[0] = heap[--nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < nheap && tless(&heap[l], &heap[m]))
			m = l;
		if (r < nheap && tless(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			break;
		struct timer tmp = heap[i];
		heap[i] = heap[m];
		heap[m] = tmp;
		i = m;
	}
	return top;
}

/* ---- evaluation ---- */

/*
 * The condition of rr over g at time t, and what follows from it.  A
 * "below" threshold (count < 5) is judged only once the input covers a
 * whole window: before that, the window is short of records it never saw.
 */
static void
eval(struct rrule *rr, struct group *g, int64_t t)
{
	const struct ar_rule *r = rr->r;
	int below = r->op == AR_LT || r->op == AR_LE;
	int64_t cd = r->cooldown;
	int covered = E.origin != NEVER && t - E.origin >= r->window;
	int cond;

	if (below && !covered)
		cond = 0;
	else
		cond = ar_holds(r, win_value(rr, g));
	/* an alert from --load-history stays open until a whole window says otherwise */
	if (!cond && g->open && g->from_history && !covered)
		return;
	if (cond) {
		int due = g->last_fire == NEVER || t - g->last_fire >= cd;

		if (due && (!g->open || cd > 0)) {
			/* a new firing, or still on: a reminder once per cooldown */
			if (!g->open)
				g->since = t;
			g->open = 1;
			g->last_fire = t;
			rr->fired++;
			ev_emit(rr, g, EV_FIRING, t);
		} else if (!g->open && g->wake == INT64_MAX) {
			rr->suppressed++;	/* once per episode held back */
		}
		/* look again when the cooldown is over */
		win_arm(g, cd > 0 ? g->last_fire + cd : INT64_MAX);
	} else {
		if (g->open) {
			g->open = 0;
			rr->resolved++;
			if (o.resolve)
				ev_emit(rr, g, EV_RESOLVED, t);
			free(g->annots);
			g->annots = NULL;
		}
		win_arm(g, INT64_MAX);
	}
}

static void
mark(struct rrule *rr, struct group *g)
{
	if (g->dirty)
		return;
	g->dirty = 1;
	if (rr->ndirty == rr->capdirty) {
		rr->capdirty = rr->capdirty ? rr->capdirty * 2 : 16;
		rr->dirty = xrealloc(rr->dirty, rr->capdirty * sizeof(*rr->dirty));
	}
	rr->dirty[rr->ndirty++] = g;
}

/* The next thing due: a window expiry (kind 0) or a timer (1); INT64_MAX when none. */
static int64_t
next_due(int *kind)
{
	int64_t best = INT64_MAX;

	*kind = 0;
	for (size_t k = 0; k < E.n; k++) {
		struct rrule *rr = &E.rr[k];

		if (rr->fn > 0 && rr->ft[rr->fhead] + rr->r->window < best)
			best = rr->ft[rr->fhead] + rr->r->window;
	}
	/* stale timers first out of the way */
	while (nheap > 0 && (heap[0].g->dead || heap[0].g->wake != heap[0].at)) {
		struct timer tm = heap_pop();

		if (--tm.g->inheap == 0 && tm.g->dead)
			group_release(tm.g);
	}
	if (nheap > 0 && heap[0].at < best) {
		best = heap[0].at;
		*kind = 1;
	}
	return best;
}

int64_t
win_next_due(void)
{
	int kind;

	return next_due(&kind);
}

void
win_advance(int64_t to)
{
	int kind;
	int64_t at;

	while ((at = next_due(&kind)) <= to) {
		E.clock = at;
		if (kind == 1) {
			/* next_due left a live timer on top */
			struct group *g = heap_pop().g;

			g->inheap--;
			g->wake = INT64_MAX;
			eval(g->rr, g, at);
			if (idle(g->rr, g))
				group_free(g->rr, g);
			continue;
		}
		/* every window ending now, rule by rule, then judge the groups they touched */
		for (size_t k = 0; k < E.n; k++) {
			struct rrule *rr = &E.rr[k];

			while (rr->fn > 0 && rr->ft[rr->fhead] + rr->r->window <= at) {
				struct group *g = rr->fg[rr->fhead];

				rr->fhead = (rr->fhead + 1) & (rr->fcap - 1);
				rr->fn--;
				pop_oldest(rr, g);
				mark(rr, g);
			}
			for (size_t i = 0; i < rr->ndirty; i++) {
				struct group *g = rr->dirty[i];

				g->dirty = 0;
				eval(rr, g, at);
				if (idle(rr, g))
					group_free(rr, g);
			}
			rr->ndirty = 0;
		}
	}
	if (to > E.clock)
		E.clock = to;
}

/* A sample small enough to keep: the line, or for a huge one its time and the head of _msg. */
static struct raw *
sample_of(struct json_object *rec, const char *line, size_t len)
{
	struct sb s = SB_INIT, tmp = SB_INIT;
	struct jw w;
	const char *v;
	size_t n;
	struct raw *r;

	if (len <= SAMPLE_MAX)
		return raw_new(line, len);
	if (jw_begin(&w, &s) < 0)
		die(EXIT_FATAL, "out of memory");
	if ((v = rec_get_text(rec, o.time_field, &n, &tmp)) != NULL &&
	    jw_field_str(&w, o.time_field, v, n) < 0)
		die(EXIT_FATAL, "out of memory");
	if ((v = rec_get_text(rec, REC_MSG, &n, &tmp)) != NULL) {
		if (n > SAMPLE_MSG) {
			n = SAMPLE_MSG;
			while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
				n--;
		}
		if (jw_field_str(&w, REC_MSG, v, n) < 0)
			die(EXIT_FATAL, "out of memory");
	}
	if (jw_field_u64(&w, "logalert_cut_bytes", len) < 0 || jw_end(&w) < 0)
		die(EXIT_FATAL, "out of memory");
	r = raw_new(s.buf, s.len);
	sb_free(&s);
	sb_free(&tmp);
	return r;
}

void
win_record(struct json_object *rec, int64_t t, const char *line, size_t len, struct raw **raw,
    const unsigned char *mask)
{
	double vbuf[16], *v;
	char *sbuf[16], **s;

	if (E.origin == NEVER)
		E.origin = t;
	for (size_t k = 0; k < E.n; k++) {
		struct rrule *rr = &E.rr[k];
		struct ar_rule *r = rr->r;
		size_t ns = r->nstats;
		struct group *g;

		if ((mask && !mask[k]) || !qry_match(r->q, rec))
			continue;
		rr->matched++;
		sb_reset(&rr->key);
		for (size_t i = 0; i < r->nby; i++) {
			size_t n = 0;
			const char *f = ar_field_text(r, rec, r->by[i], &n);

			if (f == NULL)
				n = 0;
			if (sb_add(&rr->key, &n, sizeof(n)) < 0 || sb_add(&rr->key, f ? f : "", n) < 0)
				die(EXIT_FATAL, "out of memory");
		}
		if ((g = win_group(rr, rr->key.buf ? rr->key.buf : "", rr->key.len, 1)) == NULL) {
			rr->dropped++;
			continue;
		}
		v = ns <= 16 ? vbuf : xmalloc(ns * sizeof(*v));
		s = ns <= 16 ? sbuf : xmalloc(ns * sizeof(*s));
		for (size_t i = 0; i < ns; i++) {
			const struct ar_stat *st = &r->stats[i];
			size_t n = 0;
			const char *f = st->field ? ar_field_text(r, rec, st->field, &n) : NULL;
			double x;

			s[i] = NULL;
			v[i] = NAN;
			if (st->field == NULL)
				continue;
			if (st->fn == AR_COUNT)
				v[i] = f && n > 0;
			else if (st->fn == AR_COUNT_UNIQ) {
				if (f && n > 0) {
					s[i] = xmalloc(n + 1);
					memcpy(s[i], f, n);
					s[i][n] = '\0';
				}
			} else if (f && n > 0 && ar_num(f, n, &x))
				v[i] = x;
		}
		win_push(rr, g, t, v, rr->uniq ? s : NULL);
		if (v != vbuf)
			free(v);
		if (s != sbuf)
			free(s);
		if (*raw == NULL)
			*raw = sample_of(rec, line, len);
		win_sample(g, *raw, t);
		eval(rr, g, t);
	}
}

void
win_init(struct ar_set *rs)
{
	E.rr = xcalloc(rs->n ? rs->n : 1, sizeof(*E.rr));
	E.clock = E.origin = NEVER;
	for (size_t i = 0; i < rs->n; i++) {
		if (!rs->v[i].enabled)
			continue;
		struct rrule *rr = &E.rr[E.n];

		rr->r = &rs->v[i];
		rr->idx = E.n++;
		for (size_t k = 0; k < rr->r->nstats; k++)
			if (rr->r->stats[k].fn == AR_COUNT_UNIQ)
				rr->uniq = 1;
	}
}

void
win_free(void)
{
	for (size_t k = 0; k < E.n; k++) {
		struct rrule *rr = &E.rr[k];

		while (rr->first) {
			struct group *g = rr->first;

			group_free(rr, g);
		}
		free(rr->tab);
		free(rr->ft);
		free(rr->fg);
		free(rr->dirty);
		sb_free(&rr->key);
	}
	while (nheap > 0) {
		struct timer tm = heap_pop();

		if (--tm.g->inheap == 0 && tm.g->dead)
			group_release(tm.g);
	}
	free(heap);
	free(E.rr);
	memset(&E, 0, sizeof(E));
}
