/* event.c: logalert's alert events (JSON lines on stdout and in --history) and the --summary. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logalert.h"

int ev_fired;
static int histfd = -1;
static struct sb line, scratch;
static struct json_tokener *tok;

void
ev_init(void)
{
	if (o.history && (histfd = open(o.history, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) < 0)
		die_errno(EXIT_FATAL, "%s", o.history);
	if ((tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
}

static void
oom_if(int rc)
{
	if (rc < 0)
		die(EXIT_FATAL, "out of memory");
}

/* RFC 3339 of an engine time (the wall clock's, with --clock now). */
static size_t
fmt_time(int64_t t, char buf[TS_BUFSZ])
{
	return ts_format(t + E.wall_offset, buf);
}

static void
field_time(struct jw *w, const char *key, int64_t t)
{
	char b[TS_BUFSZ];

	if (t == NEVER) {
		oom_if(jw_field_raw(w, key, "null", 4));
		return;
	}
	oom_if(jw_field_str(w, key, b, fmt_time(t, b)));
}

/* The newest sample in the window, parsed (for templates); NULL when none. */
static struct json_object *
newest(const struct group *g)
{
	const struct raw *r;

	if (g->nsmp == 0)
		return NULL;
	r = g->smp[(g->smphead + g->nsmp - 1) % o.samples];
	json_tokener_reset(tok);
	return json_tokener_parse_ex(tok, r->s, (int)r->len);
}

struct look {
	struct rrule *rr;
	const struct group *g;
	enum ev_state st;
	int64_t t;
	double value;
	struct json_object *rec;
	int parsed;
	char buf[64];
	struct sb num;
};

static const char *
lookup(void *ctx, const char *nm, size_t n, size_t *len)
{
	struct look *l = ctx;
	const struct ar_rule *r = l->rr->r;
	char name[256];

	if (n >= sizeof(name))
		return NULL;
	memcpy(name, nm, n);
	name[n] = '\0';
	if (name[0] == '$') {
		const char *v = NULL;

		sb_reset(&l->num);
		if (!strcmp(name, "$rule"))
			v = r->name;
		else if (!strcmp(name, "$severity"))
			v = ar_sev_name(r->severity);
		else if (!strcmp(name, "$state"))
			v = l->st == EV_FIRING ? "firing" : "resolved";
		else if (!strcmp(name, "$count"))
			oom_if(sb_addf(&l->num, "%zu", l->g->n));
		else if (!strcmp(name, "$value")) {
			if (isnan(l->value))
				v = "NaN";
			else
				oom_if(jw_double(&l->num, l->value));
		} else if (!strcmp(name, "$threshold")) {
			oom_if(sb_addf(&l->num, "%s %s ", r->tstat < 0 ? "count" :
			    r->stats[r->tstat].name, ar_op_name(r->op)));
			oom_if(jw_double(&l->num, r->limit));
		} else if (!strcmp(name, "$window")) {
			ar_fmt_dur(r->window, l->buf, sizeof(l->buf));
			v = l->buf;
		} else {
			int64_t t = !strcmp(name, "$first") ? win_first(l->g) :
			    !strcmp(name, "$last") ? win_last(l->g) : l->t;

			if (t == NEVER)
				return NULL;
			fmt_time(t, l->buf);
			v = l->buf;
		}
		if (v == NULL)
			v = l->num.buf ? l->num.buf : "";
		*len = v == l->num.buf ? l->num.len : strlen(v);
		return v;
	}
	for (size_t k = 0; k < r->nby; k++)
		if (!strcmp(r->by[k], name))
			return win_keypart(l->g, k, len);
	if (!l->parsed) {
		l->rec = newest(l->g);
		l->parsed = 1;
	}
	return l->rec ? ar_field_text(l->rr->r, l->rec, name, len) : NULL;
}

/* The annotations rendered as a JSON object. */
static char *
render(struct rrule *rr, struct group *g, enum ev_state st, int64_t t, double value)
{
	struct look l = { rr, g, st, t, value, NULL, 0, "", SB_INIT };
	struct sb obj = SB_INIT, v = SB_INIT;
	struct jw w;

	oom_if(jw_begin(&w, &obj));
	for (size_t i = 0; i < rr->r->nannots; i++) {
		sb_reset(&v);
		oom_if(ar_render(rr->r->annots[i].val, lookup, &l, &v));
		oom_if(jw_field_str(&w, rr->r->annots[i].key, v.buf, v.len));
	}
	oom_if(jw_end(&w));
	json_object_put(l.rec);
	sb_free(&l.num);
	sb_free(&v);
	return sb_detach(&obj);
}

static void
write_all(int fd, const char *what, const char *p, size_t n)
{
	if (fd_write_all(fd, p, n) == 0)
		return;
	if (errno == EPIPE && fd == STDOUT_FILENO) {
		/* the reader went away: end as a default SIGPIPE would */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(141);
	}
	die_errno(EXIT_FATAL, "%s", what);
}

/*
 * Events go out with write(2) at once, not through stdio: a live stream
 * wants each alert when it happens, and the write error (a full disk, a
 * closed pipe) belongs to that event.
 */
void
ev_out(const char *p, size_t n)
{
	write_all(STDOUT_FILENO, "write error", p, n);
}

void
ev_emit(struct rrule *rr, struct group *g, enum ev_state st, int64_t t)
{
	const struct ar_rule *r = rr->r;
	double value = win_value(rr, g);
	struct jw w, sub;
	char b[64];

	if (st == EV_FIRING) {
		free(g->annots);
		g->annots = render(rr, g, st, t, value);
		ev_fired++;
	} else if (g->annots == NULL)
		g->annots = render(rr, g, st, t, value);
	sb_reset(&line);
	oom_if(jw_begin(&w, &line));
	field_time(&w, "_time", t);
	oom_if(jw_field_cstr(&w, "alert", r->name));
	oom_if(jw_field_cstr(&w, "severity", ar_sev_name(r->severity)));
	oom_if(jw_field_cstr(&w, "state", st == EV_FIRING ? "firing" : "resolved"));
	oom_if(jw_field_u64(&w, "count", g->n));
	oom_if(jw_field_double(&w, "value", value));
	oom_if(jw_key(&w, "group"));
	oom_if(jw_begin(&sub, &line));
	for (size_t k = 0; k < r->nby; k++) {
		size_t n;
		const char *v = win_keypart(g, k, &n);

		oom_if(jw_field_str(&sub, r->by[k], v, n));
	}
	oom_if(jw_end(&sub));
	ar_fmt_dur(r->window, b, sizeof(b));
	oom_if(jw_field_cstr(&w, "window", b));
	field_time(&w, "first", win_first(g));
	field_time(&w, "last", win_last(g));
	/* the samples still inside the window, oldest first */
	oom_if(jw_key(&w, "samples"));
	oom_if(sb_addc(&line, '['));
	for (size_t i = 0, nout = 0; i < g->nsmp; i++) {
		size_t j = (g->smphead + i) % o.samples;
		struct json_object *rec;

		if (g->smpt[j] <= t - r->window)
			continue;
		json_tokener_reset(tok);
		rec = json_tokener_parse_ex(tok, g->smp[j]->s, (int)g->smp[j]->len);
		if (rec == NULL)
			continue;
		if (nout++)
			oom_if(sb_addc(&line, ','));
		oom_if((int)rec_write_value(&line, rec));
		json_object_put(rec);
	}
	oom_if(sb_addc(&line, ']'));
	oom_if(jw_key(&w, "labels"));
	oom_if(jw_begin(&sub, &line));
	for (size_t i = 0; i < r->nlabels; i++)
		oom_if(jw_field_cstr(&sub, r->labels[i].key, r->labels[i].val));
	oom_if(jw_end(&sub));
	oom_if(jw_field_raw(&w, "annotations", g->annots, strlen(g->annots)));
	if (nt_any()) {
		/* notifiers get the event without "notified" */
		sb_reset(&scratch);
		oom_if(sb_add(&scratch, line.buf, line.len));
		oom_if(sb_addc(&scratch, '}'));
		if (!nt_send(rr, g, st, scratch.buf, scratch.len, t)) {
			rr->notify_failed++;
			oom_if(jw_field_bool(&w, "notified", 0));
		} else
			oom_if(jw_field_bool(&w, "notified", 1));
	}
	oom_if(jw_end(&w));
	oom_if(sb_addc(&line, '\n'));
	if (!o.quiet)
		ev_out(line.buf, line.len);
	if (histfd >= 0)
		write_all(histfd, o.history, line.buf, line.len);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void
prom_str(struct sb *s, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			oom_if(sb_addc(s, '\\'));
		if (*v == '\n')
			oom_if(sb_adds(s, "\\n"));
		else
			oom_if(sb_addc(s, *v));
	}
}

static void
prom_metric(struct sb *s, const char *name, const char *type, const char *help)
{
	oom_if(sb_addf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type));
}

static void
prom_rules(struct sb *s, const char *name, const char *type, const char *help, int sev,
    uint64_t (*get)(const struct rrule *))
{
	prom_metric(s, name, type, help);
	for (size_t k = 0; k < E.n; k++) {
		oom_if(sb_addf(s, "%s{rule=\"", name));
		prom_str(s, E.rr[k].r->name);
		if (sev)
			oom_if(sb_addf(s, "\",severity=\"%s", ar_sev_name(E.rr[k].r->severity)));
		oom_if(sb_addf(s, "\"} %llu\n", (unsigned long long)get(&E.rr[k])));
	}
}

static uint64_t get_matched(const struct rrule *rr) { return rr->matched; }
static uint64_t get_fired(const struct rrule *rr) { return rr->fired; }
static uint64_t get_resolved(const struct rrule *rr) { return rr->resolved; }
static uint64_t get_suppressed(const struct rrule *rr) { return rr->suppressed; }
static uint64_t get_dropped(const struct rrule *rr) { return rr->dropped; }
static uint64_t get_nfail(const struct rrule *rr) { return rr->notify_failed; }
static uint64_t get_groups(const struct rrule *rr) { return rr->ngroups; }

static uint64_t
get_open(const struct rrule *rr)
{
	uint64_t n = 0;

	for (const struct group *g = rr->first; g; g = g->next)
		n += g->open;
	return n;
}

/* The per-rule metrics: name, type, help, whether severity is a label, the value. */
static const struct {
	const char *name, *type, *help;
	int sev;
	uint64_t (*get)(const struct rrule *);
} per_rule[] = {
	{ "logalert_rule_matched_records_total", "counter",
	    "Records that matched the rule's query.", 0, get_matched },
	{ "logalert_alerts_fired_total", "counter", "Firing alert events.", 1, get_fired },
	{ "logalert_alerts_resolved_total", "counter", "Alerts whose condition cleared.", 1,
	    get_resolved },
	{ "logalert_alerts_suppressed_total", "counter", "Firings held back by the cooldown.", 0,
	    get_suppressed },
	{ "logalert_notifications_failed_total", "counter",
	    "Alert events some notifier did not take.", 0, get_nfail },
	{ "logalert_records_dropped_total", "counter",
	    "Matching records of new groups not counted (--max-groups).", 0, get_dropped },
	{ "logalert_alerts_open", "gauge", "Alerts firing at the end of the run.", 1, get_open },
	{ "logalert_groups", "gauge", "Groups held at the end of the run.", 0, get_groups },
};

void
ev_summary(uint64_t records, uint64_t malformed, uint64_t late, uint64_t untimed,
    uint64_t seen)
{
	struct sb s = SB_INIT;
	struct jw w, top, rw;

	if (o.prom) {
		static const struct {
			const char *name, *help;
		} g[] = {
			{ "logalert_records_read_total", "Records read from the input." },
			{ "logalert_records_malformed_total", "Input lines that were not JSON objects." },
			{ "logalert_records_late_total", "Records older than --max-lateness allows, skipped." },
			{ "logalert_records_untimed_total", "Records without a usable time field, skipped." },
			{ "logalert_records_seen_total", "Records older than the clock restored from --state, skipped." },
		};
		uint64_t v[] = { records, malformed, late, untimed, seen };

		for (size_t i = 0; i < sizeof(g) / sizeof(*g); i++) {
			prom_metric(&s, g[i].name, "counter", g[i].help);
			oom_if(sb_addf(&s, "%s %llu\n", g[i].name, (unsigned long long)v[i]));
		}
		for (size_t i = 0; i < sizeof(per_rule) / sizeof(*per_rule); i++)
			prom_rules(&s, per_rule[i].name, per_rule[i].type, per_rule[i].help,
			    per_rule[i].sev, per_rule[i].get);
	} else {
		oom_if(jw_begin(&w, &s));
		oom_if(jw_key(&w, "summary"));
		oom_if(jw_begin(&top, &s));
		oom_if(jw_field_u64(&top, "records", records));
		oom_if(jw_field_u64(&top, "malformed", malformed));
		oom_if(jw_field_u64(&top, "late", late));
		oom_if(jw_field_u64(&top, "untimed", untimed));
		oom_if(jw_field_u64(&top, "seen", seen));
		oom_if(jw_field_i64(&top, "fired", ev_fired));
		oom_if(jw_key(&top, "rules"));
		oom_if(sb_addc(&s, '['));
		for (size_t k = 0; k < E.n; k++) {
			const struct rrule *rr = &E.rr[k];

			if (k)
				oom_if(sb_addc(&s, ','));
			oom_if(jw_begin(&rw, &s));
			oom_if(jw_field_cstr(&rw, "rule", rr->r->name));
			oom_if(jw_field_cstr(&rw, "severity", ar_sev_name(rr->r->severity)));
			oom_if(jw_field_u64(&rw, "matched", rr->matched));
			oom_if(jw_field_u64(&rw, "fired", rr->fired));
			oom_if(jw_field_u64(&rw, "resolved", rr->resolved));
			oom_if(jw_field_u64(&rw, "suppressed", rr->suppressed));
			oom_if(jw_field_u64(&rw, "open", get_open(rr)));
			oom_if(jw_field_u64(&rw, "groups", rr->ngroups));
			oom_if(jw_field_u64(&rw, "dropped", rr->dropped));
			oom_if(jw_field_u64(&rw, "notify_failed", rr->notify_failed));
			oom_if(jw_end(&rw));
		}
		oom_if(sb_addc(&s, ']'));
		oom_if(jw_end(&top));
		oom_if(jw_end(&w));
		oom_if(sb_addc(&s, '\n'));
	}
	ev_out(s.buf, s.len);
	sb_free(&s);
}

void
ev_close(void)
{
	if (histfd >= 0 && (fsync(histfd) < 0 && errno != EINVAL))
		die_errno(EXIT_FATAL, "%s", o.history);
	if (histfd >= 0 && close(histfd) < 0)
		die_errno(EXIT_FATAL, "%s", o.history);
	histfd = -1;
	if (tok)
		json_tokener_free(tok);
	tok = NULL;
	sb_free(&line);
	sb_free(&scratch);
}
