/* logalert.h: what the parts of logalert share: options, rule and group state, the event hooks. */
#ifndef LOGALERT_H
#define LOGALERT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "../../common/arule.h"
#include "../../common/sb.h"

#define NEVER INT64_MIN
/*
 * Record times are taken within +-4e18 ns of the epoch (years 1843 to
 * 2096), so that sums and differences with windows and cooldowns (at
 * most ten years) cannot overflow.
 */
#define TIME_LIMIT 4000000000000000000LL

struct opts {
	const char *rules;		/* -r */
	int check;
	int clock_now;			/* --clock now */
	int64_t lateness;		/* --max-lateness */
	const char *time_field;		/* --time-field (_time) */
	size_t max_groups;
	size_t samples;			/* --samples */
	int resolve;
	int quiet;
	char **exec_argv;		/* --exec, split */
	const char *webhook, *token_file, *am, *generator_url, *cacert;
	int retries;
	int64_t backoff, timeout;	/* ns */
	const char *state, *history;
	int load_history;
	int summary, prom;
};

/* A counting set of strings (count_uniq over a window). */
struct uset {
	struct unode **b;
	size_t nb, n;
};

/* A record's line, shared by the groups that keep it as a sample. */
struct raw {
	unsigned refs;
	size_t len;
	char s[];
};
struct raw *raw_new(const char *s, size_t n);
void raw_put(struct raw *r);

/* One stats function's state over a group's window. */
struct acc {
	uint64_t n;		/* values taking part */
	double sum;
	uint64_t ops;		/* additions and removals since sum was recomputed */
	uint64_t *dseq;		/* min/max: monotonic deque of (entry seq, value) */
	double *dval;
	size_t dcap, dhead, dn;
	double *sorted;		/* quantile: the window's values in order */
	size_t ns, scap;
	struct uset uniq;
};

struct group {
	struct rrule *rr;	/* the rule it belongs to */
	struct group *hnext;	/* hash chain */
	struct group *prev, *next;	/* the rule's groups in creation order */
	uint64_t hash;
	char *key;		/* by-values, each as size_t length + bytes */
	size_t klen;
	/* the window: a ring of entries [head, head + n) */
	int64_t *t;
	double *v;		/* nstats values per entry (NaN: none) */
	char **s;		/* nstats strings per entry (count_uniq), or NULL */
	size_t cap, head, n;
	uint64_t seq0;		/* sequence number of the entry at head */
	struct acc *acc;
	/* newest matching records: a ring of up to opts.samples */
	struct raw **smp;
	int64_t *smpt;
	size_t nsmp, smphead;
	/* alerting */
	int open;		/* fired, not resolved yet */
	int from_history;	/* open says so in --load-history, not a window of ours */
	int64_t since;		/* when the open alert first fired */
	int64_t last_fire;	/* NEVER */
	int64_t wake;		/* timer due (cooldown over), or INT64_MAX */
	unsigned inheap;	/* timer entries pointing here */
	int dead;		/* freed once inheap drops to 0 */
	int dirty;
	size_t sidx, scount;	/* state.c: number and entries written */
	char *annots;		/* JSON of the annotations it fired with */
};

struct rrule {
	struct ar_rule *r;
	size_t idx;
	int uniq;		/* has count_uniq */
	struct group **tab;
	size_t ntab, ngroups;
	struct group *first, *last;
	/* expiry FIFO over all groups, in time order */
	int64_t *ft;
	struct group **fg;
	size_t fcap, fhead, fn;
	struct group **dirty;
	size_t ndirty, capdirty;
	/* counters for --summary */
	uint64_t matched, fired, resolved, suppressed, dropped, notify_failed;
	int capped;
	struct sb key;
};

/* Engine state, shared with state.c. */
struct eng {
	struct rrule *rr;
	size_t n;
	int64_t clock;		/* time evaluated up to (NEVER before the first record) */
	int64_t origin;		/* time of the first record ever (NEVER) */
	int64_t wall_offset;	/* added to clock times to get wall time (--clock now) */
	uint64_t timer_seq;
};

extern struct opts o;
extern struct eng E;

enum ev_state { EV_FIRING, EV_RESOLVED };

/* win.c */
void win_init(struct ar_set *rs);
void win_free(void);
/* Evaluate up to time t: windows expire, cooldown timers ring. */
void win_advance(int64_t t);
/* When the next window ends or cooldown is over (INT64_MAX: nothing due). */
int64_t win_next_due(void);
/*
 * A record at time t (after win_advance(t)).  *raw is its line, made
 * from line[0..len) when a rule first keeps it (the caller puts it).
 * mask[k] 0 says rule k cannot match it (NULL: try every rule).
 */
void win_record(struct json_object *rec, int64_t t, const char *line, size_t len,
    struct raw **raw, const unsigned char *mask);
double win_value(const struct rrule *rr, struct group *g);
/* The group's record times: oldest and newest in the window (NEVER: empty). */
int64_t win_first(const struct group *g);
int64_t win_last(const struct group *g);
/* The by-value k of g. */
const char *win_keypart(const struct group *g, size_t k, size_t *len);
struct group *win_group(struct rrule *rr, const char *key, size_t klen, int create);
void win_push(struct rrule *rr, struct group *g, int64_t t, const double *v, char **s);
void win_sample(struct group *g, struct raw *raw, int64_t t);
void win_arm(struct group *g, int64_t at);
void win_sweep(struct rrule *rr);
void win_drop_entries(struct rrule *rr);

/* event.c */
void ev_init(void);
void ev_emit(struct rrule *rr, struct group *g, enum ev_state st, int64_t t);
void ev_summary(uint64_t records, uint64_t malformed, uint64_t late, uint64_t untimed,
    uint64_t seen);
void ev_close(void);
/* Write to stdout now (a closed pipe ends us quietly). */
void ev_out(const char *p, size_t n);
extern int ev_fired;

/* notify.c: 1 when every configured notifier took ev (JSON text of the event). */
void nt_init(void);
int nt_any(void);
int nt_send(const struct rrule *rr, const struct group *g, enum ev_state st,
    const char *ev, size_t evlen, int64_t t);
void nt_free(void);
char **nt_split(const char *cmd, char *err, size_t errsz);

/* state.c */
struct pending;
void st_load(const char *path, struct pending *pq);
void st_save(const char *path, const struct pending *pq);
void st_load_history(const char *path);
int64_t st_restored_clock(void);
/* The contents of path (NUL-terminated), or NULL with errno when it cannot be opened; dies past max bytes or on a read error. */
char *read_whole(const char *path, size_t max, size_t *len);

/* logalert.c: the reorder buffer that state.c saves and restores */
struct pitem {
	int64_t t;
	uint64_t seq;
	struct json_object *rec;
	struct raw *raw;
};
struct pending {
	struct pitem *v;
	size_t n, cap;
	uint64_t seq;
	int64_t maxseen;	/* newest record time read (NEVER) */
};
void pq_push(struct pending *pq, int64_t t, struct json_object *rec, struct raw *raw);

#endif
