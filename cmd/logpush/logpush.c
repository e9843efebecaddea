/* logpush.c: ship JSON-lines records to VictoriaLogs, Loki, InfluxDB or Elasticsearch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../../common/spool.h"
#include "../../common/stream.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logpush.h"

static struct opts o;
static struct totals tot;
static struct spool sp;
static int have_spool, dlfd = -1;
static uint64_t nbatch, nwarned;
static int64_t t0;

static void
usage_to(FILE *fp)
{
	fprintf(fp, "usage: logpush --to victorialogs|loki|influxdb|elasticsearch URL\n"
	    "               [--batch-size N] [--batch-bytes N] [--flush-interval DUR]\n"
	    "               [--dead-letter FILE] [--spool DIR] [--retries N] [--backoff DUR]\n"
	    "               [--timeout DUR] [--no-gzip] [--outcomes]\n"
	    "               [--bearer-token-file FILE] [--basic-auth-file FILE]\n"
	    "               [--stream-fields a,b] [--loki-line msg|json]\n"
	    "               [--measurement NAME] [--tags a,b] [--db DB | --bucket B --org O]\n"
	    "               [--index NAME] [--health] [--dry-run] [--max-streams N]\n"
	    "       logpush --version\n");
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr);
	exit(EXIT_FATAL);
}

static char **
split(const char *s, size_t *n)
{
	char **v = NULL, *copy = xstrdup(s), *save = NULL;

	*n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrdup(t);
	}
	free(copy);
	return v;
}

static int64_t
dur_arg(const char *name, const char *s)
{
	int64_t ns;
	size_t n = strlen(s);

	if (n == 0 || ts_parse_duration(s, n, &ns) != n || ns < 0)
		die(EXIT_FATAL, "--%s: bad duration '%s' (e.g. 1s, 250ms)", name, s);
	return ns;
}

static size_t
num_arg(const char *name, const char *s, size_t min)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || *s == '-')
		die(EXIT_FATAL, "--%s: bad number '%s'", name, s);
	return (size_t)v;
}

static const char *
target_name(void)
{
	static const char *n[] = { "victorialogs", "loki", "influxdb", "elasticsearch" };

	return n[o.to];
}

static void
sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
write_fd_or_die(int fd, const char *what, const char *p, size_t n)
{
	if (fd_write_all(fd, p, n) < 0)
		die_errno(EXIT_FATAL, "%s", what);
}

/* A record the target will never take: to --dead-letter with the reason. */
static void
dead_letter(const char *raw, size_t n, const char *reason)
{
	struct sb l = SB_INIT;
	struct jw w;
	char t[TS_BUFSZ];
	json_object *obj = lp_parse(raw, n);
	struct timespec now;

	if (dlfd < 0) {
		if (nwarned++ < 5)
			warn_msg("record rejected (no --dead-letter, dropped): %s", reason);
		json_object_put(obj);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts_format((int64_t)now.tv_sec * 1000000000 + now.tv_nsec, t);
	if (jw_begin(&w, &l) < 0 || jw_field_cstr(&w, "time", t) < 0 ||
	    jw_field_cstr(&w, "target", target_name()) < 0 ||
	    jw_field_cstr(&w, "reason", reason) < 0)
		die(EXIT_FATAL, "out of memory");
	if (obj && json_object_is_type(obj, json_type_object)) {
		if (jw_key(&w, "record") < 0 || rec_write_value(&l, obj) < 0)
			die(EXIT_FATAL, "out of memory");
	} else if (jw_field_str(&w, "line", raw, n) < 0)
		die(EXIT_FATAL, "out of memory");
	if (jw_end(&w) < 0 || sb_addc(&l, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	write_fd_or_die(dlfd, o.dead_letter, l.buf, l.len);
	json_object_put(obj);
	sb_free(&l);
}

void
reject(struct batch *b, size_t i, const char *reason)
{
	b->e[i].state = E_REJECTED;
	tot.rejected++;
	dead_letter(b->raw.buf + b->e[i].raw, b->e[i].rawlen, reason);
}

void
batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->nskeys; i++)
		free(b->skeys[i]);
	free(b->skeys);
	b->skeys = NULL;
	b->nskeys = 0;
	b->n = 0;
	b->raw.len = b->enc.len = 0;
	b->bytes = 0;
}

static void
summary(void)
{
	struct sb l = SB_INIT;
	struct jw w;

	if (jw_begin(&w, &l) < 0 || jw_field_u64(&w, "sent", tot.sent) < 0 ||
	    jw_field_u64(&w, "rejected", tot.rejected) < 0 ||
	    jw_field_u64(&w, "failed", tot.failed) < 0 ||
	    jw_field_u64(&w, "spooled", tot.spooled) < 0 ||
	    jw_field_u64(&w, "batches", tot.batches) < 0 ||
	    jw_field_u64(&w, "retries", tot.retries) < 0 ||
	    jw_field_double(&w, "seconds", (double)(prog_now() - t0) / 1e9) < 0 ||
	    jw_end(&w) < 0 || sb_addc(&l, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	out_write(l.buf, l.len);
	sb_free(&l);
}

static void
outcome(const struct batch *b, const char *status, long http, int attempts,
    int64_t start)
{
	struct sb l = SB_INIT;
	struct jw w;
	uint64_t sent = 0, rej = 0;

	if (!o.outcomes)
		return;
	for (size_t i = 0; i < b->n; i++) {
		sent += b->e[i].state == E_SENT;
		rej += b->e[i].state == E_REJECTED;
	}
	if (jw_begin(&w, &l) < 0 || jw_field_u64(&w, "batch", nbatch) < 0 ||
	    jw_field_cstr(&w, "status", status) < 0 ||
	    jw_field_u64(&w, "records", b->n) < 0 || jw_field_u64(&w, "sent", sent) < 0 ||
	    jw_field_u64(&w, "rejected", rej) < 0 || jw_field_i64(&w, "http", http) < 0 ||
	    jw_field_i64(&w, "attempts", attempts) < 0 ||
	    jw_field_double(&w, "seconds", (double)(prog_now() - start) / 1e9) < 0 ||
	    jw_end(&w) < 0 || sb_addc(&l, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	out_write(l.buf, l.len);
	fflush(stdout);
	sb_free(&l);
}

/*
 * Send b until every record has its outcome.  Returns 0 when done, -1
 * when transient failures outlasted --retries (records still pending).
 */
static int
deliver(struct batch *b)
{
	struct sb url = SB_INIT, body = SB_INIT;
	struct resp r = { 0 };
	const char *ctype = NULL;
	char fatal[600];
	int attempts = 0, rc;
	size_t nsent = 0;
	int64_t start = prog_now();

	nbatch++;
	if (have_spool && spool_sync(&sp) < 0)
		die(EXIT_FATAL, "%s", sp.err);
	for (;;) {
		tg_request(&o, b, &url, &ctype, &body);
		attempts++;
		lp_post(url.buf, ctype, body.buf ? body.buf : "", body.len, o.gzip, &r);
		rc = r.status ? tg_judge(&o, b, &r, fatal, sizeof(fatal)) : 1;
		if (rc < 0) {
			outcome(b, "fatal", r.status, attempts, start);
			summary();
			die(EXIT_FATAL, "%s", fatal);
		}
		if (rc == 0)
			break;
		if (attempts > o.retries) {
			if (r.status)
				warn_msg("%s: giving up after %d attempts: HTTP %ld", url.buf,
				    attempts, r.status);
			else
				warn_msg("%s: giving up after %d attempts: %s", url.buf,
				    attempts, r.err);
			break;
		}
		tot.retries++;
		sleep_ns(lp_backoff(&o, attempts, &r));
	}
	tot.batches++;
	rc = 0;
	for (size_t i = 0; i < b->n; i++) {
		nsent += b->e[i].state == E_SENT;
		tot.sent += b->e[i].state == E_SENT;
		if (b->e[i].state == E_PENDING)
			rc = -1;
	}
	outcome(b, rc < 0 ? (have_spool ? "spooled" : "failed") : nsent == b->n ? "delivered" :
	    nsent ? "partial" : "rejected", r.status, attempts, start);
	if (rc < 0 && !have_spool) {
		char why[400];

		snprintf(why, sizeof(why), "undeliverable after %d attempts: %s", attempts,
		    r.status ? "server error" : r.err);
		for (size_t i = 0; i < b->n; i++)
			if (b->e[i].state == E_PENDING) {
				tot.failed++;
				dead_letter(b->raw.buf + b->e[i].raw, b->e[i].rawlen, why);
			}
	}
	sb_free(&url);
	sb_free(&body);
	sb_free(&r.body);
	return rc;
}

/* The input: spool replay first, then stdin; lines end at stream offsets. */
struct input {
	struct sb buf;
	size_t pos;		/* first byte of buf not yet a line */
	uint64_t off;		/* stream offset of buf[0] */
	unsigned long long lineno;
	int eof;		/* stdin ended */
	json_tokener *tok;
};

static struct batch b;
static int64_t deadline;
static uint64_t handled_end;	/* stream offset after the last line handled */
static int down;		/* the target outlasted --retries (with --spool) */

static void
flush_batch(void)
{
	uint64_t end = handled_end;

	if (b.n > 0) {
		if (deliver(&b) < 0 && have_spool) {
			/* Target down: everything from here stays in the spool
			   (acknowledged in order), delivered first next run. */
			batch_reset(&b);
			down = 1;
			deadline = 0;
			return;
		}
		batch_reset(&b);
	}
	if (have_spool && spool_ack(&sp, end) < 0)
		die(EXIT_FATAL, "%s", sp.err);
	deadline = 0;
}

static void
handle_line(struct input *in, const char *p, size_t n)
{
	json_object *obj;
	char why[300];

	in->lineno++;
	while (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	tot.read++;
	if (n > (size_t)INT32_MAX - 1) {
		/* json-c counts in int: a line that long is no record for any target */
		snprintf(why, sizeof(why), "<stdin>:%llu: line too long for the JSON parser",
		    in->lineno);
		tot.rejected++;
		dead_letter(p, 0, why);
		return;
	}
	json_tokener_reset(in->tok);
	obj = json_tokener_parse_ex(in->tok, p, (int)n);
	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    json_tokener_get_parse_end(in->tok) != n) {
		snprintf(why, sizeof(why), "<stdin>:%llu: not a JSON object", in->lineno);
		tot.rejected++;
		dead_letter(p, n, why);
		json_object_put(obj);
		return;
	}
	if (tg_add(&o, &b, obj, p, n, why, sizeof(why))) {
		char w2[400];

		snprintf(w2, sizeof(w2), "<stdin>:%llu: %s", in->lineno, why);
		tot.rejected++;
		dead_letter(p, n, w2);
	} else if (b.n == 1)
		deadline = prog_now() + o.flush_ns;
	json_object_put(obj);
}

/* Cut complete lines out of the buffer (all of it at end of input). */
static void
take_lines(struct input *in)
{
	for (;;) {
		char *s = in->buf.buf + in->pos, *nl;
		size_t left = in->buf.len - in->pos;

		if (left == 0)
			break;
		nl = memchr(s, '\n', left);
		if (!nl && !in->eof)
			break;
		/* target down: the rest only goes to the spool */
		if (!down)
			handle_line(in, s, nl ? (size_t)(nl - s) : left);
		in->pos += nl ? (size_t)(nl - s) + 1 : left;
		handled_end = in->off + in->pos;
		if (!down && (b.n >= o.batch_size || b.bytes >= o.batch_bytes))
			flush_batch();
	}
	/* keep the buffer small: drop what has become lines */
	if (in->pos > (1u << 20) || in->pos == in->buf.len) {
		memmove(in->buf.buf, in->buf.buf + in->pos, in->buf.len - in->pos);
		in->buf.len -= in->pos;
		in->off += in->pos;
		in->pos = 0;
	}
}

static void
pump(void)
{
	struct input in = { SB_INIT, 0, 0, 0, 0, NULL };
	struct tool_progress tp;
	uint64_t bytes = 0;

	if ((in.tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	tool_progress_start(&tp, isatty(2), 0);
	if (have_spool && sp.pending.len) {
		if (sb_add(&in.buf, sp.pending.buf, sp.pending.len) < 0)
			die(EXIT_FATAL, "out of memory");
		take_lines(&in);
	}
	while (!in.eof) {
		struct pollfd pf = { 0, POLLIN, 0 };
		int timeout = -1, pr;
		ssize_t r;

		if (b.n > 0) {
			int64_t left = deadline - prog_now();

			timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		pr = poll(&pf, 1, timeout);
		if (pr < 0 && errno != EINTR)
			die_errno(EXIT_FATAL, "poll");
		if (pr > 0) {
			if (sb_grow(&in.buf, 1 << 18) < 0)
				die(EXIT_FATAL, "out of memory");
			r = read(0, in.buf.buf + in.buf.len, 1 << 18);
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die_errno(EXIT_FATAL, "<stdin>");
			if (r == 0) {
				in.eof = 1;
				/* a last line without '\n' is complete: say so in the
				   spool too, so the next run does not glue onto it */
				if (have_spool && in.buf.len > in.pos &&
				    spool_append(&sp, "\n", 1) < 0)
					die(EXIT_FATAL, "%s", sp.err);
			} else if (r > 0) {
				/* journal first: once written, a kill cannot lose it */
				if (have_spool && spool_append(&sp, in.buf.buf + in.buf.len,
				    (size_t)r) < 0)
					die(EXIT_FATAL, "%s", sp.err);
				in.buf.len += (size_t)r;
				bytes += (size_t)r;
			}
			take_lines(&in);
			if (in.eof && in.buf.len > in.pos)
				take_lines(&in);
		}
		if (!down && b.n > 0 && (in.eof || prog_now() >= deadline))
			flush_batch();
		if (!down && have_spool && b.n == 0 && sp.pending.len > 0 &&
		    handled_end > sp.acked) {
			/* only dead-lettered lines since the last batch */
			if (spool_ack(&sp, handled_end) < 0)
				die(EXIT_FATAL, "%s", sp.err);
		}
		tool_progress_update(&tp, "read", bytes);
	}
	tool_progress_end(&tp);
	json_tokener_free(in.tok);
	sb_free(&in.buf);
}

int
main(int argc, char **argv)
{
	enum { O_BATCH_BYTES = 256, O_FLUSH, O_DL, O_SPOOL, O_RETRIES, O_BACKOFF,
		O_TIMEOUT, O_NOGZIP, O_OUTCOMES, O_BEARER, O_BASIC, O_SFIELDS, O_LOKILINE,
		O_MEAS, O_TAGS, O_DB, O_BUCKET, O_ORG, O_INDEX, O_HEALTH, O_DRY, O_MAXSTREAMS,
		O_VERSION };
	static const struct option lo[] = {
		{ "backoff", required_argument, NULL, O_BACKOFF },
		{ "basic-auth-file", required_argument, NULL, O_BASIC },
		{ "batch-bytes", required_argument, NULL, O_BATCH_BYTES },
		{ "batch-size", required_argument, NULL, 'n' },
		{ "bearer-token-file", required_argument, NULL, O_BEARER },
		{ "bucket", required_argument, NULL, O_BUCKET },
		{ "db", required_argument, NULL, O_DB },
		{ "dead-letter", required_argument, NULL, O_DL },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "flush-interval", required_argument, NULL, O_FLUSH },
		{ "health", no_argument, NULL, O_HEALTH },
		{ "help", no_argument, NULL, 'h' },
		{ "index", required_argument, NULL, O_INDEX },
		{ "loki-line", required_argument, NULL, O_LOKILINE },
		{ "max-streams", required_argument, NULL, O_MAXSTREAMS },
		{ "measurement", required_argument, NULL, O_MEAS },
		{ "no-gzip", no_argument, NULL, O_NOGZIP },
		{ "org", required_argument, NULL, O_ORG },
		{ "outcomes", no_argument, NULL, O_OUTCOMES },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "stream-fields", required_argument, NULL, O_SFIELDS },
		{ "tags", required_argument, NULL, O_TAGS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "to", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL;
	int c, rval;

	tool_init("logpush");
	o.batch_size = 1000;
	o.batch_bytes = 4u << 20;
	o.flush_ns = 1000000000;
	o.gzip = 1;
	o.retries = 8;
	o.backoff_ns = 200000000;
	o.backoff_max_ns = 30000000000LL;
	o.timeout_ns = 30000000000LL;
	o.measurement = "logs";
	o.index = "logkit";
	o.max_streams = 10000;
	while ((c = getopt_long(argc, argv, "hn:t:", lo, NULL)) != -1) {
		switch (c) {
		case O_BACKOFF: o.backoff_ns = dur_arg("backoff", optarg); break;
		case O_BASIC: o.basic_file = optarg; break;
		case O_BATCH_BYTES: o.batch_bytes = num_arg("batch-bytes", optarg, 1); break;
		case 'n': o.batch_size = num_arg("batch-size", optarg, 1); break;
		case O_BEARER: o.bearer_file = optarg; break;
		case O_BUCKET: o.bucket = optarg; break;
		case O_DB: o.db = optarg; break;
		case O_DL: o.dead_letter = optarg; break;
		case O_DRY: o.dry_run = 1; break;
		case O_FLUSH: o.flush_ns = dur_arg("flush-interval", optarg); break;
		case O_HEALTH: o.health = 1; break;
		case 'h': usage_to(stdout); out_close(); return EXIT_OK;
		case O_INDEX: o.index = optarg; break;
		case O_LOKILINE:
			if (strcmp(optarg, "msg") && strcmp(optarg, "json"))
				die(EXIT_FATAL, "--loki-line: expected msg or json, not '%s'", optarg);
			o.loki_json = strcmp(optarg, "json") == 0;
			break;
		case O_MAXSTREAMS: o.max_streams = num_arg("max-streams", optarg, 1); break;
		case O_MEAS: o.measurement = optarg; break;
		case O_NOGZIP: o.gzip = 0; break;
		case O_ORG: o.org = optarg; break;
		case O_OUTCOMES: o.outcomes = 1; break;
		case O_RETRIES: o.retries = (int)num_arg("retries", optarg, 0); break;
		case O_SPOOL: o.spool_dir = optarg; break;
		case O_SFIELDS: o.stream_fields = split(optarg, &o.nstream_fields); break;
		case O_TAGS: o.tags = split(optarg, &o.ntags); break;
		case O_TIMEOUT: o.timeout_ns = dur_arg("timeout", optarg); break;
		case 't': to = optarg; break;
		case O_VERSION: printf("logpush %s\n", LOGKIT_VERSION); out_close(); return EXIT_OK;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!to || argc != 1)
		usage();
	o.url = argv[0];
	if (strcmp(to, "victorialogs") == 0)
		o.to = T_VL;
	else if (strcmp(to, "loki") == 0)
		o.to = T_LOKI;
	else if (strcmp(to, "influxdb") == 0)
		o.to = T_INFLUX;
	else if (strcmp(to, "elasticsearch") == 0)
		o.to = T_ES;
	else
		die(EXIT_FATAL, "--to: unknown target '%s' (victorialogs, loki, influxdb, elasticsearch)", to);
	if (strncmp(o.url, "http://", 7) && strncmp(o.url, "https://", 8))
		die(EXIT_FATAL, "%s: URL must start with http:// or https://", o.url);
	if (o.to == T_INFLUX && !o.db && !o.bucket && !o.health && !o.dry_run)
		die(EXIT_FATAL, "influxdb needs --db DB (1.x) or --bucket B --org O (2.x)");
	if (o.bearer_file && o.basic_file)
		die(EXIT_FATAL, "--bearer-token-file and --basic-auth-file exclude each other");
	if (o.timeout_ns < 1000000)
		o.timeout_ns = 1000000;
	if (o.backoff_ns < 1000000)
		o.backoff_ns = 1000000;
	/* a closed stdout would be reused by curl's socket: refuse it */
	if (fcntl(1, F_GETFD) < 0)
		die_errno(EXIT_FATAL, "stdout");
	t0 = prog_now();
	if (o.dry_run)
		return dry_run(&o);
	/* libcurl may write to a closed socket: EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	lp_http_init(&o);
	if (o.bearer_file)
		lp_read_secret(&o, o.bearer_file, 0);
	if (o.basic_file)
		lp_read_secret(&o, o.basic_file, 1);
	if (o.health)
		return health(&o);
	if (o.dead_letter && (dlfd = open(o.dead_letter, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644)) < 0)
		die_errno(EXIT_FATAL, "%s", o.dead_letter);
	if (o.spool_dir) {
		if (spool_open(&sp, o.spool_dir) < 0)
			die(EXIT_FATAL, "%s", sp.err);
		have_spool = 1;
		if (sp.bad_bytes)
			warn_msg("%s/journal: %llu corrupt bytes set aside in journal.corrupt",
			    o.spool_dir, (unsigned long long)sp.bad_bytes);
	}
	pump();
	if (have_spool) {
		/* what is still unacknowledged is there for the next run */
		tot.spooled = 0;
		for (size_t i = 0, st = 0; i < sp.pending.len; i++)
			if (sp.pending.buf[i] == '\n') {
				tot.spooled += i > st;
				st = i + 1;
			}
		spool_close(&sp);
	}
	lp_http_cleanup();
	http_cred_free(&o.cred);
	summary();
	out_close();
	rval = tot.rejected || tot.failed || tot.spooled ? EXIT_SOME : EXIT_OK;
	return rval;
}
