/* state.c: logalert's --state file (windows, open alerts, cooldowns; written atomically) and --load-history. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/lr.h"
#include "../../common/rec.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logalert.h"

#define STATE_VERSION 1
#define STATE_MAX ((size_t)1 << 32)	/* refuse to read a state file over 4 GiB */

static int64_t restored = NEVER;
static const char *spath;

int64_t
st_restored_clock(void)
{
	return restored;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad(const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die(EXIT_FATAL, "%s: bad state file: %s (remove it to start afresh)", spath, msg);
}

static struct json_object *
jnew(struct json_object *v)
{
	if (v == NULL)
		die(EXIT_FATAL, "out of memory");
	return v;
}

/* v NULL is JSON null (json-c's way): the constructors are checked with jnew. */
static void
jadd(struct json_object *obj, const char *k, struct json_object *v)
{
	if (json_object_object_add(obj, k, v) < 0)
		die(EXIT_FATAL, "out of memory");
}

static void
jpush(struct json_object *arr, struct json_object *v)
{
	if (json_object_array_add(arr, v) < 0)
		die(EXIT_FATAL, "out of memory");
}

/* An engine time as a JSON integer of wall-clock nanoseconds, or null. */
static struct json_object *
jtime(int64_t t)
{
	if (t == NEVER)
		return NULL;
	return jnew(json_object_new_int64(t + E.wall_offset));
}

static int
get_time(struct json_object *v, int64_t *t)
{
	if (v == NULL || json_object_is_type(v, json_type_null)) {
		*t = NEVER;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*t = json_object_get_int64(v);
	if (*t < -TIME_LIMIT || *t > TIME_LIMIT)
		return -1;
	*t -= E.wall_offset;
	return 0;
}

static int
pitem_cmp(const void *a, const void *b)
{
	const struct pitem *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct json_object *
jraw(const struct raw *r)
{
	return jnew(json_object_new_string_len(r->s, (int)r->len));
}

/* The rule's definition as far as its windows depend on it. */
static const char *
def(const struct rrule *rr)
{
	return rr->r->query;
}

static struct json_object *
save_rule(struct rrule *rr)
{
	struct json_object *jr = jnew(json_object_new_object()), *groups, *entries;
	size_t ns = rr->r->nstats, idx = 0;
	struct group *g;

	win_sweep(rr);
	jadd(jr, "name", jnew(json_object_new_string(rr->r->name)));
	jadd(jr, "def", jnew(json_object_new_string(def(rr))));
	groups = jnew(json_object_new_array());
	for (g = rr->first; g; g = g->next) {
		struct json_object *jg = jnew(json_object_new_object()), *key, *smp;

		key = jnew(json_object_new_array());
		for (size_t k = 0; k < rr->r->nby; k++) {
			size_t n;
			const char *v = win_keypart(g, k, &n);

			jpush(key, jnew(json_object_new_string_len(v, (int)n)));
		}
		jadd(jg, "key", key);
		jadd(jg, "open", jnew(json_object_new_boolean(g->open)));
		jadd(jg, "since", jtime(g->since));
		jadd(jg, "last_fire", jtime(g->last_fire));
		if (g->annots) {
			struct json_object *a = json_tokener_parse(g->annots);

			jadd(jg, "annotations", a);
		}
		smp = jnew(json_object_new_array());
		for (size_t i = 0; i < g->nsmp; i++) {
			size_t j = (g->smphead + i) % o.samples;
			struct json_object *pair = jnew(json_object_new_array());

			jpush(pair, jtime(g->smpt[j]));
			jpush(pair, jraw(g->smp[j]));
			jpush(smp, pair);
		}
		jadd(jg, "samples", smp);
		jpush(groups, jg);
		g->sidx = idx++;
		g->scount = 0;
	}
	jadd(jr, "groups", groups);
	/* the window entries of every group, in the order they expire */
	entries = jnew(json_object_new_array());
	for (size_t i = 0; i < rr->fn; i++) {
		struct group *eg = rr->fg[(rr->fhead + i) & (rr->fcap - 1)];
		struct json_object *e = jnew(json_object_new_array());
		/* the i-th entry of the queue is eg's next one not written yet */
		size_t pos = (eg->head + eg->scount++) & (eg->cap - 1);

		jpush(e, jnew(json_object_new_int64((int64_t)eg->sidx)));
		jpush(e, jtime(eg->t[pos]));
		for (size_t k = 0; k < ns; k++) {
			double x = eg->v[pos * ns + k];
			const char *s = eg->s ? eg->s[pos * ns + k] : NULL;

			if (rr->r->stats[k].fn == AR_COUNT_UNIQ)
				jpush(e, s ? jnew(json_object_new_string(s)) : NULL);
			else if (isnan(x))
				jpush(e, NULL);
			else
				jpush(e, jnew(json_object_new_double(x)));
		}
		jpush(entries, e);
	}
	jadd(jr, "entries", entries);
	return jr;
}

void
st_save(const char *path, const struct pending *pq)
{
	struct json_object *top = jnew(json_object_new_object()), *rules, *pend;
	struct sb tmp = SB_INIT;
	const char *text;

	spath = path;
	jadd(top, "version", jnew(json_object_new_int(STATE_VERSION)));
	jadd(top, "clock", jtime(E.clock));
	jadd(top, "origin", jtime(E.origin));
	jadd(top, "maxseen", jtime(pq->maxseen));
	pend = jnew(json_object_new_array());
	/*
	 * The reorder buffer in the order it will be released (the heap's
	 * array is not), so that records of equal time keep their order when
	 * the next run pushes them again.
	 */
	{
		struct pitem *v = xcalloc(pq->n ? pq->n : 1, sizeof(*v));

		if (pq->n > 0) {	/* pq->v is NULL when nothing was held */
			memcpy(v, pq->v, pq->n * sizeof(*v));
			qsort(v, pq->n, sizeof(*v), pitem_cmp);
		}
		for (size_t i = 0; i < pq->n; i++) {
			struct json_object *p = jnew(json_object_new_array());

			jpush(p, jtime(v[i].t));
			jpush(p, jnew(json_object_new_int64((int64_t)v[i].seq)));
			jpush(p, jraw(v[i].raw));
			jpush(pend, p);
		}
		free(v);
	}
	jadd(top, "pending", pend);
	rules = jnew(json_object_new_array());
	for (size_t k = 0; k < E.n; k++)
		jpush(rules, save_rule(&E.rr[k]));
	jadd(top, "rules", rules);
	if ((text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL)
		die(EXIT_FATAL, "out of memory");
	if (sb_adds(&tmp, text) < 0 || sb_addc(&tmp, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	if (afile_write(path, tmp.buf, tmp.len, 0644, 0) < 0)
		die_errno(EXIT_FATAL, "%s", path);
	sb_free(&tmp);
	json_object_put(top);
}

/* ---- loading ---- */

static struct json_object *
member(struct json_object *obj, const char *k, enum json_type type, const char *what)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, k, &v) || !json_object_is_type(v, type))
		bad("%s: missing or wrong '%s'", what, k);
	return v;
}

static struct rrule *
rule_named(const char *name)
{
	for (size_t k = 0; k < E.n; k++)
		if (strcmp(E.rr[k].r->name, name) == 0)
			return &E.rr[k];
	return NULL;
}

/* The group of rr with the by-values in arr (or the object obj of an event). */
static struct group *
group_of(struct rrule *rr, struct json_object *arr, struct json_object *obj)
{
	struct sb key = SB_INIT;
	struct group *g;

	for (size_t k = 0; k < rr->r->nby; k++) {
		struct json_object *v = NULL;
		const char *s = "";
		size_t n = 0;

		if (arr)
			v = json_object_array_get_idx(arr, k);
		else
			json_object_object_get_ex(obj, rr->r->by[k], &v);
		if (v && json_object_is_type(v, json_type_string)) {
			s = json_object_get_string(v);
			n = (size_t)json_object_get_string_len(v);
		}
		if (sb_add(&key, &n, sizeof(n)) < 0 || sb_add(&key, s, n) < 0)
			die(EXIT_FATAL, "out of memory");
	}
	g = win_group(rr, key.buf ? key.buf : "", key.len, 1);
	sb_free(&key);
	return g;
}

static void
load_rule(struct json_object *jr)
{
	const char *name = json_object_get_string(member(jr, "name", json_type_string, "rule"));
	struct json_object *groups = member(jr, "groups", json_type_array, name);
	struct json_object *entries = member(jr, "entries", json_type_array, name);
	struct rrule *rr = rule_named(name);
	size_t ng = json_object_array_length(groups), ns;
	struct group **gs;
	int same;

	if (rr == NULL)
		return;	/* a rule no longer in the file (or disabled) */
	ns = rr->r->nstats;
	same = strcmp(json_object_get_string(member(jr, "def", json_type_string, name)),
	    def(rr)) == 0;
	gs = xcalloc(ng ? ng : 1, sizeof(*gs));
	for (size_t i = 0; i < ng; i++) {
		struct json_object *jg = json_object_array_get_idx(groups, i), *a, *smp;
		struct group *g;

		if (!json_object_is_type(jg, json_type_object))
			bad("rule '%s': a group is not an object", name);
		if ((size_t)json_object_array_length(member(jg, "key", json_type_array, name)) !=
		    rr->r->nby && same)
			bad("rule '%s': group key of the wrong size", name);
		if ((g = gs[i] = group_of(rr, member(jg, "key", json_type_array, name), NULL)) == NULL)
			continue;	/* over --max-groups */
		g->open = json_object_get_boolean(member(jg, "open", json_type_boolean, name));
		if (!json_object_object_get_ex(jg, "since", &a) || get_time(a, &g->since) < 0 ||
		    !json_object_object_get_ex(jg, "last_fire", &a) || get_time(a, &g->last_fire) < 0)
			bad("rule '%s': bad since or last_fire", name);
		if (json_object_object_get_ex(jg, "annotations", &a) &&
		    json_object_is_type(a, json_type_object))
			g->annots = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		smp = member(jg, "samples", json_type_array, name);
		for (size_t j = 0; j < json_object_array_length(smp); j++) {
			struct json_object *p = json_object_array_get_idx(smp, j);
			struct json_object *jt = json_object_array_get_idx(p, 0);
			struct json_object *js = json_object_array_get_idx(p, 1);
			int64_t t;
			struct raw *raw;

			if (!json_object_is_type(p, json_type_array) || get_time(jt, &t) < 0 ||
			    t == NEVER || !json_object_is_type(js, json_type_string))
				bad("rule '%s': bad sample", name);
			raw = raw_new(json_object_get_string(js), (size_t)json_object_get_string_len(js));
			win_sample(g, raw, t);
			raw_put(raw);
		}
		if (rr->r->cooldown > 0 && g->last_fire != NEVER &&
		    g->last_fire + rr->r->cooldown > E.clock)
			win_arm(g, g->last_fire + rr->r->cooldown);
	}
	/* the windows, unless the query changed since */
	for (size_t i = 0; same && i < json_object_array_length(entries); i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		double vbuf[16], *v;
		char *sbuf[16], **s;
		int64_t gi, t;

		if (!json_object_is_type(e, json_type_array) ||
		    json_object_array_length(e) != ns + 2 ||
		    !json_object_is_type(json_object_array_get_idx(e, 0), json_type_int) ||
		    (gi = json_object_get_int64(json_object_array_get_idx(e, 0))) < 0 ||
		    (size_t)gi >= ng || get_time(json_object_array_get_idx(e, 1), &t) < 0 ||
		    t == NEVER)
			bad("rule '%s': bad window entry %zu", name, i);
		if (gs[gi] == NULL)
			continue;
		v = ns <= 16 ? vbuf : xmalloc(ns * sizeof(*v));
		s = ns <= 16 ? sbuf : xmalloc(ns * sizeof(*s));
		for (size_t k = 0; k < ns; k++) {
			struct json_object *x = json_object_array_get_idx(e, k + 2);

			s[k] = NULL;
			v[k] = NAN;
			if (json_object_is_type(x, json_type_string))
				s[k] = xstrdup(json_object_get_string(x));
			else if (json_object_is_type(x, json_type_double) ||
			    json_object_is_type(x, json_type_int))
				v[k] = json_object_get_double(x);
		}
		win_push(rr, gs[gi], t, v, rr->uniq ? s : NULL);
		if (!rr->uniq)
			for (size_t k = 0; k < ns; k++)
				free(s[k]);
		if (v != vbuf)
			free(v);
		if (s != sbuf)
			free(s);
	}
	free(gs);
}

char *
read_whole(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct sb b = SB_INIT;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > max)
		die(EXIT_FATAL, "%s: larger than %zu bytes", path, max);
	if (fd_read_all(fd, &b, max) < 0) {
		if (errno == EFBIG)	/* a pipe or device: no size to check first */
			die(EXIT_FATAL, "%s: larger than %zu bytes", path, max);
		if (errno == ENOMEM)
			die(EXIT_FATAL, "out of memory");
		die_errno(EXIT_FATAL, "%s", path);
	}
	close(fd);
	*len = b.len;
	return b.buf ? b.buf : xstrdup("");
}

void
st_load(const char *path, struct pending *pq)
{
	struct json_tokener *tok;
	struct json_object *top, *rules, *pend, *v;
	size_t len;
	char *text;

	spath = path;
	if ((text = read_whole(path, STATE_MAX, &len)) == NULL) {
		if (errno == ENOENT)
			return;	/* the first run */
		die_errno(EXIT_FATAL, "%s", path);
	}
	if ((tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	top = json_tokener_parse_ex(tok, text, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (top == NULL || !json_object_is_type(top, json_type_object))
		bad("not a JSON object%s", len == 0 ? " (empty)" : "");
	if (!json_object_object_get_ex(top, "version", &v) ||
	    !json_object_is_type(v, json_type_int))
		bad("no version");
	if (json_object_get_int(v) != STATE_VERSION)
		die(EXIT_FATAL, "%s: state file version %d is not known to this logalert (%d)", path,
		    json_object_get_int(v), STATE_VERSION);
	if (!json_object_object_get_ex(top, "clock", &v) || get_time(v, &E.clock) < 0 ||
	    !json_object_object_get_ex(top, "origin", &v) || get_time(v, &E.origin) < 0 ||
	    !json_object_object_get_ex(top, "maxseen", &v) || get_time(v, &pq->maxseen) < 0)
		bad("bad clock, origin or maxseen");
	restored = E.clock;
	rules = member(top, "rules", json_type_array, "top");
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		struct json_object *jr = json_object_array_get_idx(rules, i);

		if (!json_object_is_type(jr, json_type_object))
			bad("a rule is not an object");
		load_rule(jr);
	}
	pend = member(top, "pending", json_type_array, "top");
	for (size_t i = 0; i < json_object_array_length(pend); i++) {
		struct json_object *p = json_object_array_get_idx(pend, i), *rec;
		struct json_object *js = json_object_array_get_idx(p, 2);
		int64_t t;

		if (!json_object_is_type(p, json_type_array) ||
		    get_time(json_object_array_get_idx(p, 0), &t) < 0 || t == NEVER ||
		    !json_object_is_type(js, json_type_string))
			bad("bad pending record %zu", i);
		json_tokener_reset(tok);
		rec = json_tokener_parse_ex(tok, json_object_get_string(js),
		    json_object_get_string_len(js));
		if (rec == NULL || !json_object_is_type(rec, json_type_object))
			bad("pending record %zu is not a JSON object", i);
		pq_push(pq, t, rec, raw_new(json_object_get_string(js),
		    (size_t)json_object_get_string_len(js)));
	}
	json_object_put(top);
	json_tokener_free(tok);
	free(text);
}

/*
 * --load-history: the alerts of an earlier run, from the events it wrote.
 * What they say is open stays open (no second firing for it), cooldowns
 * run from the last firing, and the clock moves to the newest event, so
 * records up to it count as seen.
 */
void
st_load_history(const char *path)
{
	struct rec_reader rd;
	struct json_object *ev;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	int64_t since = restored, newest = restored;
	unsigned warned = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return;
		die_errno(EXIT_FATAL, "%s", path);
	}
	if (rec_reader_init(&rd, fd, path) < 0)
		die(EXIT_FATAL, "out of memory");
	while ((rc = rec_read(&rd, &ev)) > 0) {
		struct json_object *v, *grp;
		struct rrule *rr;
		struct group *g;
		int64_t t;
		const char *s;
		size_t n;

		if (ev == NULL) {
			if (warned++ < 5)
				warn_msg("%s", rd.err);
			continue;
		}
		if ((s = rec_get_str(ev, "_time", &n)) == NULL || ts_parse_iso(s, n, &t) != n ||
		    (s = rec_get_str(ev, "alert", &n)) == NULL ||
		    !json_object_object_get_ex(ev, "group", &grp) ||
		    !json_object_is_type(grp, json_type_object) ||
		    !json_object_object_get_ex(ev, "state", &v)) {
			if (warned++ < 5)
				warn_msg("%s:%llu: not an alert event", path, rec_lineno(&rd));
			json_object_put(ev);
			continue;
		}
		t -= E.wall_offset;
		if ((rr = rule_named(s)) == NULL || (since != NEVER && t <= since) ||
		    (g = group_of(rr, NULL, grp)) == NULL) {
			json_object_put(ev);
			continue;
		}
		if (strcmp(json_object_get_string(v), "firing") == 0) {
			if (!g->open)
				g->since = t;
			g->open = 1;
			g->from_history = 1;
			g->last_fire = t;
			if (json_object_object_get_ex(ev, "annotations", &v) &&
			    json_object_is_type(v, json_type_object)) {
				free(g->annots);
				g->annots = xstrdup(json_object_to_json_string_ext(v,
				    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			}
		} else {
			g->open = 0;
			g->from_history = 0;
		}
		if (newest == NEVER || t > newest)
			newest = t;
		json_object_put(ev);
	}
	if (rc < 0)
		die_errno(EXIT_FATAL, "%s", path);
	rec_reader_free(&rd);
	close(fd);
	/* the windows start empty: the first record of this run is their origin */
	if (newest != NEVER && (E.clock == NEVER || newest > E.clock))
		E.clock = newest;
	restored = E.clock;
	for (size_t k = 0; k < E.n; k++)
		for (struct group *g = E.rr[k].first; g; g = g->next)
			if (E.rr[k].r->cooldown > 0 && g->last_fire != NEVER &&
			    g->last_fire + E.rr[k].r->cooldown > E.clock)
				win_arm(g, g->last_fire + E.rr[k].r->cooldown);
}
