/* logalert: alert rules (LogsQL filters over sliding windows) evaluated over a stream of JSON-lines records. */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/jv.h"
#include "../../common/lr.h"
#include "../../common/rec.h"
#include "../../common/tok.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logalert.h"

#define MAX_WARN 10
#define MAX_LINE (16u << 20)	/* longer records are skipped, memory stays flat */
#define RULES_MAX (16 << 20)

/* Exit statuses: the yes/no answer is "did an alert fire". */
enum { AL_NONE = 0, AL_FIRED = 1 };

struct opts o;

static struct ar_set rules;
static struct pending pq;
static volatile sig_atomic_t stopsig;
static uint64_t nrec, nbad, nlate, nuntimed, nseen, nwarn;
static int64_t restored = NEVER;
static struct json_tokener *tok;
static size_t tflen;
static unsigned char *mayk;	/* may_match: which rules can match the line */

static void
usage(FILE *fp, int eval)
{
	fprintf(fp, "usage: logalert -r rules [--check] [--clock event|now] [--max-lateness dur]\n"
	    "                [--time-field name] [--max-groups n] [--samples n] [--resolve] [-q]\n"
	    "                [--exec cmd] [--webhook url [--webhook-token-file file]]\n"
	    "                [--alertmanager url [--generator-url url]] [--cacert file]\n"
	    "                [--retries n] [--backoff dur] [--timeout dur]\n"
	    "                [--state file] [--history file [--load-history]]\n"
	    "                [--summary [--format json|prometheus]] [file ...]\n");
	exit(eval);
}

static void
on_signal(int sig)
{
	stopsig = sig;
}

static void __attribute__((format(printf, 1, 2)))
warn_line(const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (++nwarn > MAX_WARN) {
		if (nwarn == MAX_WARN + 1)
			warn_msg("further problems with input lines are counted, not shown "
			    "(see --summary)");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn_msg("%s", msg);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the reorder buffer (--max-lateness): a min-heap on (time, arrival) ---- */

static int
pless(const struct pitem *a, const struct pitem *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void
pq_push(struct pending *q, int64_t t, struct json_object *rec, struct raw *raw)
{
	size_t i;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	i = q->n++;
	q->v[i] = (struct pitem){ t, q->seq++, rec, raw };
	while (i > 0 && pless(&q->v[i], &q->v[(i - 1) / 2])) {
		struct pitem tmp = q->v[i];

		q->v[i] = q->v[(i - 1) / 2];
		q->v[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static struct pitem
pq_pop(struct pending *q)
{
	struct pitem top = q->v[0];
	size_t i = 0;

	q->v[0] = q->v[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && pless(&q->v[l], &q->v[m]))
			m = l;
		if (r < q->n && pless(&q->v[r], &q->v[m]))
			m = r;
		if (m == i)
			break;
		struct pitem tmp = q->v[i];
		q->v[i] = q->v[m];
		q->v[m] = tmp;
		i = m;
	}
	return top;
}

static void
apply(int64_t t, struct json_object *rec, struct raw *raw, const char *line, size_t len,
    const unsigned char *mask)
{
	struct raw *r = raw;

	win_advance(t);
	win_record(rec, t, raw ? raw->s : line, raw ? raw->len : len, &r, mask);
	if (r != raw)
		raw_put(r);
}

/* Release what is older than the watermark, in time order, then let time reach it. */
static void
release(int64_t upto, int all)
{
	while (pq.n > 0 && (all || pq.v[0].t <= upto)) {
		struct pitem it = pq_pop(&pq);

		apply(it.t, it.rec, it.raw, NULL, 0, NULL);
		json_object_put(it.rec);
		raw_put(it.raw);
	}
	win_advance(upto);
}

/*
 * A record (rec NULL: one no rule can match) at event time t.  Records
 * older than the clock are late: the windows they belong to were judged
 * already.  With --max-lateness the clock trails the newest time seen.
 */
static void
at_time(int64_t t, struct json_object *rec, const char *line, size_t len, const char *name,
    unsigned long long lineno)
{
	char b[TS_BUFSZ];

	if (restored != NEVER && t < restored) {
		nseen++;
		return;
	}
	if (E.clock != NEVER && t < E.clock) {
		nlate++;
		ts_format(t, b);
		warn_line("%s:%llu: record at %s is older than the clock allows (--max-lateness), "
		    "skipped", name, lineno, b);
		return;
	}
	if (o.lateness == 0) {
		if (rec)
			apply(t, rec, NULL, line, len, mayk);
		else
			win_advance(t);
		return;
	}
	if (rec)
		pq_push(&pq, t, json_object_get(rec), raw_new(line, len));
	if (pq.maxseen == NEVER || t > pq.maxseen)
		pq.maxseen = t;
	release(pq.maxseen - o.lateness, 0);
}

static int
in_range(int64_t t)
{
	return t >= -TIME_LIMIT && t <= TIME_LIMIT;
}

/* A time value's text (a JSON string's content, or a number) as ns. */
static int
parse_time(const char *s, size_t n, int isnum, int64_t *t)
{
	if (n == 0)
		return 0;
	if (!isnum)
		return (ts_parse_iso(s, n, t) == n || ts_parse_unix(s, n, t) == n) && in_range(*t);
	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n)) {
		char buf[64], *end;
		double d;

		if (n >= sizeof(buf))
			return 0;
		memcpy(buf, s, n);
		buf[n] = '\0';
		d = strtod(buf, &end);
		return *end == '\0' && ts_from_double(d, t) == 0 && in_range(*t);
	} else {
		char buf[32], *end;
		long long v;

		if (n >= sizeof(buf))
			return 0;
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		return *end == '\0' && errno == 0 && ts_from_int(v, t) == 0 && in_range(*t);
	}
}

static int
rec_time(struct json_object *rec, int64_t *t)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(rec, o.time_field, &v))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		return parse_time(s, (size_t)json_object_get_string_len(v), 0, t);
	case json_type_int:
		return ts_from_int(json_object_get_int64(v), t) == 0 && in_range(*t);
	case json_type_double:
		return ts_from_double(json_object_get_double(v), t) == 0 && in_range(*t);
	default:
		return 0;
	}
}

/*
 * Can some rule match this line?  A word a filter needs must appear in
 * it.  The line's words are put in a small table once, so ten rules
 * asking for words cost one pass over the line.  The words of the raw
 * line are those of its values as long as no escape sequence hides one:
 * a line with a backslash is searched by substring instead (which is
 * conservative), and one with \u is always parsed.
 */
#define WSLOTS 1024
static struct wslot {
	const char *w;
	size_t n;
	unsigned gen;
} wset[WSLOTS];
static unsigned wgen;

struct rawline {
	const char *s;
	size_t n;
	int words;		/* wset holds the line's words */
};

static uint32_t
whash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* ASCII word characters ([A-Za-z0-9_], as tok.h has them). */
static unsigned char wordc[256];

static void
wset_init(void)
{
	for (int c = 0; c < 128; c++)
		wordc[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';
}

static int
wset_put(const char *w, size_t len, uint32_t h)
{
	uint32_t i = h & (WSLOTS - 1);

	while (wset[i].gen == wgen) {
		if (wset[i].n == len && memcmp(wset[i].w, w, len) == 0)
			return 0;
		i = (i + 1) & (WSLOTS - 1);
	}
	wset[i] = (struct wslot){ w, len, wgen };
	return 1;
}

/* Fill wset; 0 when the line has too many words for it. */
static int
wset_fill(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	size_t pos = 0, st, len, nw = 0;

	if (++wgen == 0) {
		memset(wset, 0, sizeof(wset));
		wgen = 1;
	}
	/* ASCII lines (the usual case) without tok.h's UTF-8 decoding */
	for (; p < e; p++)
		if (*p >= 0x80)
			break;
	if (p == e) {
		for (p = (const unsigned char *)s; p < e;) {
			const unsigned char *w;
			uint32_t h = 2166136261u;

			while (p < e && !wordc[*p])
				p++;
			if (p == e)
				break;
			for (w = p; p < e && wordc[*p]; p++)
				h = (h ^ *p) * 16777619u;
			if ((nw += wset_put((const char *)w, (size_t)(p - w), h)) > WSLOTS / 2)
				return 0;
		}
		return 1;
	}
	while (tok_next(s, n, &pos, &st, &len))
		if ((nw += wset_put(s + st, len, whash(s + st, len))) > WSLOTS / 2)
			return 0;
	return 1;
}

static int
raw_has_token(void *ctx, const char *field, const char *tk, size_t n)
{
	const struct rawline *l = ctx;
	uint32_t i;

	(void)field;
	if (!l->words)
		return tok_find(l->s, l->n, tk, n) != NULL;
	for (i = whash(tk, n) & (WSLOTS - 1); wset[i].gen == wgen; i = (i + 1) & (WSLOTS - 1))
		if (wset[i].n == n && memcmp(wset[i].w, tk, n) == 0)
			return 1;
	return 0;
}

/*
 * Which rules can match the line: mayk[k] for each (all 1 when the words
 * cannot be trusted); 1 when any can.
 */
static int
may_match(const char *line, size_t len)
{
	struct rawline rl = { line, len, 0 };
	struct qry_block b = { INT64_MIN, INT64_MAX, NULL, &rl, raw_has_token, NULL, NULL };
	int any = 0;

	if (E.n == 0)
		return 0;
	if (memchr(line, '\\', len) != NULL) {
		if (memmem(line, len, "\\u", 2) != NULL) {
			memset(mayk, 1, E.n);
			return 1;
		}
	} else
		rl.words = wset_fill(line, len);
	for (size_t k = 0; k < E.n; k++)
		any |= mayk[k] = (unsigned char)qry_block_may_match(E.rr[k].r->q, &b, NULL);
	return any;
}

static void
one_line(const char *line, size_t len, const char *name, unsigned long long lineno,
    int truncated)
{
	struct json_object *rec;
	char msg[300];
	int64_t t;
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == len)
		return;
	nrec++;
	if (E.n == 0)
		return;	/* every rule is disabled */
	if (truncated) {
		nbad++;
		warn_line("%s:%llu: record longer than %u bytes, skipped", name, lineno, MAX_LINE);
		return;
	}
	if (!may_match(line, len)) {
		/* no rule wants it: only its time matters (and whether it is JSON) */
		const char *v;
		size_t vn;
		int r = jv_object_field(line, len, o.time_field, tflen, &v, &vn);

		if (r == 1 && o.clock_now)
			return;
		if (r == 1 && v != NULL && (v[0] == '"' ? memchr(v, '\\', vn) == NULL &&
		    parse_time(v + 1, vn - 2, 0, &t) : parse_time(v, vn, 1, &t))) {
			at_time(t, NULL, line, len, name, lineno);
			return;
		}
		/* malformed, untimed or unsure: the full parse below says which */
	}
	if (!rec_parse(tok, line, len, name, lineno, &rec, msg, sizeof(msg))) {
		nbad++;
		warn_line("%s", msg);
		return;
	}
	if (o.clock_now) {
		t = mono_ns();
		apply(t, rec, NULL, line, len, mayk);
	} else if (!rec_time(rec, &t)) {
		nuntimed++;
		warn_line("%s:%llu: no usable %s (see --time-field, or --clock now)", name, lineno,
		    o.time_field);
	} else
		at_time(t, rec, line, len, name, lineno);
	json_object_put(rec);
}

/* Milliseconds until the next window end or cooldown, for --clock now (-1: none). */
static int
idle_ms(void)
{
	int64_t due = win_next_due(), now = mono_ns();

	if (due == INT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	return (due - now) / 1000000 + 1 > 60000 ? 60000 : (int)((due - now) / 1000000 + 1);
}

/* Read one input to its end; -1 on a read error. */
static int
scan(int fd, const char *name)
{
	struct lr lr;
	struct stat st;
	const char *line;
	size_t len;
	int rc, fl = -1, failed = 0;

	if (lr_init(&lr, fd, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	lr.max_line = MAX_LINE;
	/*
	 * A pipe is read without blocking and waited for with poll: a signal
	 * then ends the wait (to save --state), and --clock now can let time
	 * pass while no line comes.
	 */
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	    isatty(fd)) && (fl = fcntl(fd, F_GETFL)) >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (!stopsig) {
		rc = lr_next(&lr, &line, &len);
		if (rc > 0) {
			one_line(line, len, name, lr.lineno, lr.truncated);
			continue;
		}
		if (rc == 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pf = { fd, POLLIN, 0 };
			int ms = o.clock_now ? idle_ms() : -1;

			if (poll(&pf, 1, ms) == 0 && o.clock_now)
				win_advance(mono_ns());
			continue;
		}
		if (errno == EINTR)
			continue;
		warn_errno("%s", name);
		failed = 1;
		break;
	}
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl);
	lr_free(&lr);
	return failed ? -1 : 0;
}

static void
read_rules(const char *path)
{
	struct sb errs = SB_INIT;
	size_t nerr, len;
	char *text;

	if ((text = read_whole(path, RULES_MAX, &len)) == NULL)
		die_errno(EXIT_FATAL, "%s", path);
	if ((nerr = ar_parse(&rules, text, len, path, &errs)) > 0) {
		/* one message per line, each with "logalert: " first */
		for (char *l = errs.buf, *nl; l && *l; l = nl + 1) {
			nl = strchr(l, '\n');
			*nl = '\0';
			warn_msg("%s", l);
		}
		free(text);
		sb_free(&errs);
		exit(EXIT_FATAL);
	}
	free(text);
	sb_free(&errs);
}

static int64_t
dur_arg(const char *opt, const char *s, int zero_ok)
{
	int64_t ns;
	size_t n = strlen(s);

	if (zero_ok && strcmp(s, "0") == 0)
		return 0;
	if (n == 0 || ts_parse_duration(s, n, &ns) != n || (ns == 0 && !zero_ok))
		die(EXIT_FATAL, "--%s: bad duration '%s' (e.g. 500ms, 30s, 2m)", opt, s);
	return ns;
}

static size_t
num_arg(const char *opt, const char *s, size_t min, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		die(EXIT_FATAL, "--%s: expected a number from %zu to %zu, not '%s'", opt, min, max, s);
	return (size_t)v;
}

int
main(int argc, char **argv)
{
	enum { O_AM = 256, O_BACKOFF, O_CACERT, O_CHECK, O_CLOCK, O_EXEC, O_FORMAT, O_GENURL,
		O_HISTORY, O_LATENESS, O_LOADHIST, O_MAXGROUPS, O_RESOLVE, O_RETRIES, O_SAMPLES,
		O_STATE, O_SUMMARY, O_TFIELD, O_TIMEOUT, O_TOKEN, O_VERSION, O_WEBHOOK };
	static const struct option lo[] = {
		{ "alertmanager", required_argument, NULL, O_AM },
		{ "backoff", required_argument, NULL, O_BACKOFF },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "check", no_argument, NULL, O_CHECK },
		{ "clock", required_argument, NULL, O_CLOCK },
		{ "exec", required_argument, NULL, O_EXEC },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "generator-url", required_argument, NULL, O_GENURL },
		{ "help", no_argument, NULL, 'h' },
		{ "history", required_argument, NULL, O_HISTORY },
		{ "load-history", no_argument, NULL, O_LOADHIST },
		{ "max-groups", required_argument, NULL, O_MAXGROUPS },
		{ "max-lateness", required_argument, NULL, O_LATENESS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "resolve", no_argument, NULL, O_RESOLVE },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "rules", required_argument, NULL, 'r' },
		{ "samples", required_argument, NULL, O_SAMPLES },
		{ "state", required_argument, NULL, O_STATE },
		{ "summary", no_argument, NULL, O_SUMMARY },
		{ "time-field", required_argument, NULL, O_TFIELD },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "version", no_argument, NULL, O_VERSION },
		{ "webhook", required_argument, NULL, O_WEBHOOK },
		{ "webhook-token-file", required_argument, NULL, O_TOKEN },
		{ NULL, 0, NULL, 0 },
	};
	const char *exec_cmd = NULL, *format = NULL;
	int c, ioerr = 0;
	char err[200];

	tool_init("logalert");
	o.time_field = REC_TIME;
	o.max_groups = 10000;
	o.samples = 5;
	o.retries = 3;
	o.backoff = 500000000;
	o.timeout = 10000000000LL;
	while ((c = getopt_long(argc, argv, "hqr:", lo, NULL)) != -1) {
		switch (c) {
		case O_AM: o.am = optarg; break;
		case O_BACKOFF: o.backoff = dur_arg("backoff", optarg, 0); break;
		case O_CACERT: o.cacert = optarg; break;
		case O_CHECK: o.check = 1; break;
		case O_CLOCK:
			if (strcmp(optarg, "now") && strcmp(optarg, "event"))
				die(EXIT_FATAL, "--clock: expected event or now, not '%s'", optarg);
			o.clock_now = strcmp(optarg, "now") == 0;
			break;
		case O_EXEC: exec_cmd = optarg; break;
		case O_FORMAT: format = optarg; break;
		case O_GENURL: o.generator_url = optarg; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case O_HISTORY: o.history = optarg; break;
		case O_LATENESS:
			o.lateness = dur_arg("max-lateness", optarg, 1);
			if (o.lateness > 3650LL * 86400 * 1000000000)
				die(EXIT_FATAL, "--max-lateness: '%s' is too long (at most 3650d)", optarg);
			break;
		case O_LOADHIST: o.load_history = 1; break;
		case O_MAXGROUPS: o.max_groups = num_arg("max-groups", optarg, 1, 100000000); break;
		case 'q': o.quiet = 1; break;
		case O_RESOLVE: o.resolve = 1; break;
		case O_RETRIES: o.retries = (int)num_arg("retries", optarg, 0, 100); break;
		case 'r': o.rules = optarg; break;
		case O_SAMPLES: o.samples = num_arg("samples", optarg, 0, 1000); break;
		case O_STATE: o.state = optarg; break;
		case O_SUMMARY: o.summary = 1; break;
		case O_TFIELD: o.time_field = optarg; break;
		case O_TIMEOUT: o.timeout = dur_arg("timeout", optarg, 0); break;
		case O_TOKEN: o.token_file = optarg; break;
		case O_VERSION: printf("logalert %s\n", LOGKIT_VERSION); out_close(); return EXIT_OK;
		case O_WEBHOOK: o.webhook = optarg; break;
		default: usage(stderr, EXIT_FATAL);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.rules == NULL)
		usage(stderr, EXIT_FATAL);
	if (format && strcmp(format, "json") && strcmp(format, "prometheus"))
		die(EXIT_FATAL, "--format: expected json or prometheus, not '%s'", format);
	o.prom = format && strcmp(format, "prometheus") == 0;
	if (format && !o.summary)
		die(EXIT_FATAL, "--format is the format of --summary");
	if (o.load_history && !o.history)
		die(EXIT_FATAL, "--load-history reads the --history file: give one");
	if (o.token_file && !o.webhook)
		die(EXIT_FATAL, "--webhook-token-file needs --webhook");
	if (o.generator_url && !o.am)
		die(EXIT_FATAL, "--generator-url is sent with --alertmanager only");
	if (*o.time_field == '\0')
		die(EXIT_FATAL, "--time-field: empty name");
	for (const char *u = o.webhook; u; u = u == o.webhook ? o.am : NULL)
		if (u && strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
			die(EXIT_FATAL, "%s: URL must start with http:// or https://", u);
	if (exec_cmd && (o.exec_argv = nt_split(exec_cmd, err, sizeof(err))) == NULL)
		die(EXIT_FATAL, "--exec: %s", err);
	tflen = strlen(o.time_field);
	read_rules(o.rules);
	if (o.check) {
		ar_free(&rules);
		nt_free();
		return EXIT_OK;
	}
	/* a closed stdout would be reused by the next file or socket we open */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0)
		die_errno(EXIT_FATAL, "stdout");
	/* libcurl and --exec may write to a peer that left: EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if ((tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	wset_init();
	win_init(&rules);
	mayk = xcalloc(E.n ? E.n : 1, 1);
	if (E.n == 0)
		warn_msg("%s: every rule is disabled", o.rules);
	pq.maxseen = NEVER;
	if (o.clock_now) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		E.wall_offset = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - mono_ns();
	}
	if (o.state)
		st_load(o.state, &pq);
	if (o.load_history)
		st_load_history(o.history);
	restored = st_restored_clock();
	if (o.clock_now) {
		restored = NEVER;	/* arrival times are never "seen" */
		/* a wall clock set back since the last run must not make every arrival late */
		if (E.clock != NEVER && E.clock > mono_ns())
			E.clock = mono_ns();
	}
	ev_init();
	nt_init();
	if (argc == 0) {
		static char dash[] = "-";
		static char *def[] = { dash, NULL };

		argv = def;
		argc = 1;
	}
	for (int i = 0; i < argc && !stopsig; i++) {
		const char *name = argv[i];
		int fd = STDIN_FILENO;

		if (strcmp(name, "-") == 0)
			name = "<stdin>";
		else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			warn_errno("%s", name);
			ioerr = 1;
			continue;
		}
		if (scan(fd, name) < 0)
			ioerr = 1;
		if (fd != STDIN_FILENO)
			close(fd);
	}
	/*
	 * The end of the input is not the passing of time: windows stay as
	 * they are.  Records held for --max-lateness are judged now, unless
	 * --state keeps them for the next run.
	 */
	if (!o.state && pq.maxseen != NEVER)
		release(pq.maxseen, 1);
	for (size_t k = 0; k < E.n; k++)
		win_sweep(&E.rr[k]);
	if (o.summary)
		ev_summary(nrec, nbad, nlate, nuntimed, nseen);
	if (nseen > 0)
		warn_msg("%llu records older than the restored clock were skipped (seen before)",
		    (unsigned long long)nseen);
	if (o.state)
		st_save(o.state, &pq);
	ev_close();
	while (pq.n > 0) {
		struct pitem it = pq_pop(&pq);

		json_object_put(it.rec);
		raw_put(it.raw);
	}
	free(pq.v);
	free(mayk);
	win_free();
	nt_free();
	ar_free(&rules);
	json_tokener_free(tok);
	out_close();
	if (stopsig) {
		signal(stopsig, SIG_DFL);
		raise(stopsig);
	}
	if (ioerr)
		return EXIT_FATAL;
	return ev_fired ? AL_FIRED : AL_NONE;
}
