/* logq: query JSON-lines records (on stdin, in files, or in a logindex directory) with LogsQL. */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/lr.h"
#include "../../common/qry.h"
#include "../../common/rec.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logq.h"

#define MAX_WARN 10

static void
usage(FILE *fp, int eval)
{
	fprintf(fp, "usage: logq [-u] [--color=when] [--explain] [--now=time] [-o format]\n"
	    "            [-d dir] query [file ...]\n"
	    "       logq --remote url [--limit n] [--timeout duration]\n"
	    "            [--bearer-token-file file | --basic-auth-file file] [-o format] query\n");
	exit(eval);
}

/*
 * A raw line that cannot hold a word the filter needs is skipped before
 * JSON parsing: every word of a field value appears verbatim in the line
 * unless a \u escape spells it (the other escapes stand for non-word
 * characters), so lines with "\u" are always parsed.  Malformed lines
 * skipped this way are not reported.
 */
struct rawline {
	const char *s;
	size_t n;
};

static int
raw_has_token(void *ctx, const char *field, const char *tok, size_t n)
{
	const struct rawline *l = ctx;

	(void)field;
	return memmem(l->s, l->n, tok, n) != NULL;
}

static void
bad_line(struct logq *lq, const char *msg)
{
	if (++lq->bad <= MAX_WARN)
		warn_msg("%s", msg);
	if (lq->bad == MAX_WARN + 1)
		warn_msg("further malformed lines are skipped without a message");
}

/* Feed one input to the run; returns 1 when the query needs no more input. */
static int
scan_fd(struct logq *lq, int fd, const char *name, struct json_tokener *tok)
{
	struct qry_block b = { INT64_MIN, INT64_MAX, NULL, NULL, raw_has_token, NULL, NULL };
	struct rawline rl;
	struct lr lr;
	const char *line;
	size_t len;
	int rc, done = 0;
	char msg[512];

	b.ctx = &rl;
	if (lr_init(&lr, fd, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	while ((rc = lr_next(&lr, &line, &len)) > 0) {
		struct json_object *o;
		enum json_tokener_error e;
		size_t i;

		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		lq->lines++;
		rl.s = line;
		rl.n = len;
		if (memmem(line, len, "\\u", 2) == NULL && !qry_block_may_match(lq->q, &b, NULL)) {
			lq->skipped++;
			continue;
		}
		if (len > (size_t)INT32_MAX - 1 || memchr(line, '\0', len) != NULL) {
			snprintf(msg, sizeof(msg), "%s:%llu: %s", name, lr.lineno,
			    len > (size_t)INT32_MAX - 1 ? "line too long for JSON parser" : "NUL byte in line");
			bad_line(lq, msg);
			continue;
		}
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, line, (int)len);
		e = json_tokener_get_error(tok);
		if (o == NULL || !json_object_is_type(o, json_type_object) ||
		    json_tokener_get_parse_end(tok) < len) {
			size_t end = json_tokener_get_parse_end(tok);

			if (o != NULL && !json_object_is_type(o, json_type_object))
				snprintf(msg, sizeof(msg), "%s:%llu: not a JSON object", name, lr.lineno);
			else if (o != NULL)
				snprintf(msg, sizeof(msg), "%s:%llu: trailing data after JSON at column %zu",
				    name, lr.lineno, end + 1);
			else if (e == json_tokener_continue)
				snprintf(msg, sizeof(msg), "%s:%llu: truncated JSON", name, lr.lineno);
			else
				snprintf(msg, sizeof(msg), "%s:%llu: invalid JSON at column %zu: %s",
				    name, lr.lineno, end + 1, json_tokener_error_desc(e));
			json_object_put(o);
			bad_line(lq, msg);
			continue;
		}
		rc = qry_run_push(lq->run, o);
		json_object_put(o);
		if (rc < 0)
			die(EXIT_FATAL, "out of memory");
		if (rc > 0) {
			done = 1;
			break;
		}
	}
	if (rc < 0)
		warn_errno("%s", name);
	lr_free(&lr);
	return rc < 0 ? -1 : done;
}

static void
explain(struct logq *lq)
{
	struct qry_run_stats st;
	struct sb s = SB_INIT;
	int all;
	const char *const *names;
	size_t n;

	if (qry_format(lq->q, &s) < 0)
		die(EXIT_FATAL, "out of memory");
	fprintf(stderr, "logq: explain: query: %s\n", s.buf);
	sb_free(&s);
	qry_fields(lq->q, &all, &names, &n);
	fprintf(stderr, "logq: explain: fields read: ");
	if (all)
		fprintf(stderr, "all\n");
	else
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s%s", names[i], i + 1 < n ? ", " : "\n");
	if (!all && n == 0)
		fprintf(stderr, "none\n");
	qry_run_get_stats(lq->run, &st);
	if (lq->dir != NULL) {
		index_explain(lq, &st);
		return;
	}
	fprintf(stderr, "logq: explain: lines read %llu, skipped by word filter %llu, "
	    "malformed %llu, records matched %llu, output %llu\n",
	    lq->lines, lq->skipped, lq->bad, st.matched, st.emitted);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "basic-auth-file", required_argument, NULL, 'A' },
		{ "bearer-token-file", required_argument, NULL, 'B' },
		{ "color", required_argument, NULL, 'C' },
		{ "dir", required_argument, NULL, 'd' },
		{ "explain", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "limit", required_argument, NULL, 'L' },
		{ "now", required_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "remote", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "unbuffered", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct logq lq = { .fmt = FMT_JSON };
	const char *color = "auto", *now = NULL;
	struct json_tokener *tok;
	struct qry_err qe;
	int c, rval = EXIT_SOME, ioerr = 0, rc;
	char buf[300];

	tool_init("logq");
	while ((c = getopt_long(argc, argv, "d:ho:u", longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
			lq.remote.basic_file = optarg;
			break;
		case 'B':
			lq.remote.bearer_file = optarg;
			break;
		case 'C':
			color = optarg;
			if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
				die(EXIT_FATAL, "bad --color '%s' (auto, always or never)", optarg);
			break;
		case 'd':
			lq.dir = optarg;
			break;
		case 'E':
			lq.explain = 1;
			break;
		case 'h':
			usage(stdout, EXIT_OK);
			break;
		case 'L':
			lq.remote.limit = optarg;
			break;
		case 'N':
			now = optarg;
			break;
		case 'o':
			if (!strcmp(optarg, "json") || !strcmp(optarg, "jsonl"))
				lq.fmt = FMT_JSON;
			else if (!strcmp(optarg, "table"))
				lq.fmt = FMT_TABLE;
			else if (!strcmp(optarg, "logfmt"))
				lq.fmt = FMT_LOGFMT;
			else if (!strcmp(optarg, "raw"))
				lq.fmt = FMT_RAW;
			else if (!strcmp(optarg, "csv"))
				lq.fmt = FMT_CSV;
			else
				die(EXIT_FATAL, "unknown output format '%s' (json, table, logfmt, raw, csv)",
				    optarg);
			break;
		case 'R':
			lq.remote.url = optarg;
			break;
		case 'T':
			lq.remote.timeout = optarg;
			break;
		case 'u':
			lq.unbuffered = 1;
			break;
		case 'V':
			printf("logq %s\n", LOGKIT_VERSION);
			return EXIT_OK;
		default:
			usage(stderr, EXIT_FATAL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(stderr, EXIT_FATAL);
	if (lq.dir != NULL && argc > 1)
		die(EXIT_FATAL, "-d: no file operands with an index");
	lq.color = !strcmp(color, "always") || (!strcmp(color, "auto") && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL && !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb")));
	if ((lq.q = qry_parse(argv[0], strlen(argv[0]), &qe)) == NULL) {
		qry_err_format(&qe, buf, sizeof(buf));
		die(EXIT_FATAL, "%s", buf);
	}
	if (now != NULL) {
		int64_t t;

		if (ts_parse_iso(now, strlen(now), &t) != strlen(now) || !*now)
			die(EXIT_FATAL, "bad --now '%s' (want an RFC 3339 time)", now);
		qry_set_now(lq.q, t);
	}
	if (lq.remote.url != NULL)
		return remote_query(&lq, argv[0], argc - 1, now != NULL);
	if ((lq.run = qry_run_new(lq.q, out_record, &lq)) == NULL ||
	    (tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	argc--;
	argv++;
	if (argc == 0) {
		argc = 1;
	}
	if (lq.dir != NULL)
		index_query(&lq);
	for (int i = 0; lq.dir == NULL && i < argc; i++) {
		const char *name = argv[i] ? argv[i] : "-";
		int fd = STDIN_FILENO;

		if (strcmp(name, "-") == 0)
			name = "<stdin>";
		else if ((fd = open(name, O_RDONLY)) < 0) {
			warn_errno("%s", name);
			ioerr = 1;
			continue;
		}
		rc = scan_fd(&lq, fd, name, tok);
		if (fd != STDIN_FILENO)
			close(fd);
		if (rc < 0)
			ioerr = 1;
		if (rc > 0)
			break;
	}
	if ((rc = qry_run_finish(lq.run)) < 0)
		die(EXIT_FATAL, "out of memory");
	out_finish(&lq);
	if (lq.explain)
		explain(&lq);
	{
		struct qry_run_stats st;

		qry_run_get_stats(lq.run, &st);
		if (st.emitted > 0)
			rval = EXIT_OK;
	}
	json_tokener_free(tok);
	qry_run_free(lq.run);
	qry_free(lq.q);
	sb_free(&lq.out);
	out_close();
	return ioerr ? EXIT_FATAL : rval;
}
