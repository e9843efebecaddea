/* logcat: turn log files of many formats into JSON-lines records (_time, _msg, _stream, level, ...). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/jw.h"
#include "../../common/lr.h"
#include "../tool.h"
#include "logcat.h"

static const char synopsis[] =
    "usage: logcat [-fu] [--format NAME] [--time-field F] [--msg-field F]\n"
    "              [--level-field F] [--stream K=V] [--stream-fields A,B]\n"
    "              [--add K=V] [--time-now] [--skip-invalid]\n"
    "              [--max-event-bytes N] [--from-start] [--sleep-interval S]\n"
    "              [--state FILE] [FILE...]\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void
chk(int r)
{
	if (r < 0)
		die(EXIT_FATAL, "out of memory");
}

/* Point the spans of r that lie in line[0..len] into copy instead. */
static void
rebase(struct lf_rec *r, const char *line, size_t len, const char *copy)
{
	uintptr_t a = (uintptr_t)line, b = a + len;

#define MOVE(p) do { if ((uintptr_t)(p) >= a && (uintptr_t)(p) <= b) \
	(p) = copy + ((uintptr_t)(p) - a); } while (0)
	if (r->msg)
		MOVE(r->msg);
	if (r->lvl_raw)
		MOVE(r->lvl_raw);
	for (size_t i = 0; i < r->nf; i++) {
		MOVE(r->f[i].k);
		MOVE(r->f[i].v);
	}
#undef MOVE
}

/* A line that continues the pending event, up to --max-event-bytes. */
static void
append_cont(struct lc *lc, struct input *in, const char *line, size_t len)
{
	size_t have = in->rec.msgn + in->cont.len;

	if (in->cut || have + 1 + len > lc->max_event) {
		if (!in->cut) {
			in->cut = 1;
			lc->cut++;
		}
		return;
	}
	chk(sb_addc(&in->cont, '\n'));
	chk(sb_add(&in->cont, line, len));
}

/* One line of an input whose format is known. */
static void
process(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, int truncated)
{
	struct lf_rec r;
	int start;

	if (in->fmt == LF_JSON) {
		if (!blank(line, len))
			emit_json_line(lc, in, line, len, lineno, truncated);
		return;
	}
	if (truncated)
		lc->cut++;
	if (len && memchr(line, '\0', len) != NULL)
		lc->nul++;
	if (in->fmt == LF_TEXT) {
		if (blank(line, len))
			return;
		start = !(in->pending && lf_continuation(line, len));
		if (start)
			lf_parse(LF_TEXT, line, len, &lc->ctx, &r);
	} else {
		if (blank(line, len) && !in->pending)
			return;
		start = lf_parse(in->fmt, line, len, &lc->ctx, &r) == 1;
	}
	if (!start) {
		if (in->pending) {
			append_cont(lc, in, line, len);
		} else {
			char why[64];

			snprintf(why, sizeof(why), "not a %s line", lf_name(in->fmt));
			emit_invalid(lc, in, line, len, lineno, why);
		}
		return;
	}
	if (in->pending)
		emit_text(lc, in);
	sb_reset(&in->line);
	chk(sb_add(&in->line, line, len));
	rebase(&r, line, len, in->line.buf);
	in->rec = r;
	if (in->fmt == LF_LOGFMT)
		lf_pick(&in->rec, lc->time_field, lc->msg_field, lc->level_field);
	in->pending = 1;
	in->cut = 0;
	in->lineno = lineno;
	sb_reset(&in->cont);
}

/* Pick the format from the sample and run the sample through it. */
static void
detect(struct lc *lc, struct input *in)
{
	const char *lines[SAMPLE_LINES];
	size_t lens[SAMPLE_LINES];
	int binary = 0;

	in->detected = 1;
	for (size_t i = 0; i < in->nsample; i++) {
		lines[i] = in->sample.buf + in->off[i];
		lens[i] = in->off[i + 1] - in->off[i];
	}
	in->fmt = lf_detect(lines, lens, in->nsample, &lc->ctx, &binary);
	if (binary) {
		warn_msg("%s: binary file skipped (--format text reads it)", in->name);
		in->skip = 1;
		lc->binary++;
		lc->rval = EXIT_SOME;
	} else {
		for (size_t i = 0; i < in->nsample; i++)
			process(lc, in, lines[i], lens[i], in->sline[i], in->strunc[i]);
	}
	sb_free(&in->sample);
	in->nsample = 0;
}

void
input_line(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, int truncated)
{
	if (in->skip)
		return;
	if (!in->detected) {
		if (in->nsample < SAMPLE_LINES &&
		    (in->nsample == 0 || in->sample.len + len <= SAMPLE_BYTES)) {
			size_t i = in->nsample++;

			in->off[i] = in->sample.len;
			chk(sb_add(&in->sample, line, len));
			in->off[i + 1] = in->sample.len;
			in->sline[i] = lineno;
			in->strunc[i] = truncated;
			return;
		}
		detect(lc, in);
		if (in->skip)
			return;
	}
	process(lc, in, line, len, lineno, truncated);
}

void
input_flush(struct lc *lc, struct input *in)
{
	if (!in->detected)
		detect(lc, in);
	if (in->pending)
		emit_text(lc, in);
	/* the member stays: more of its lines may follow (logcat -f) */
	if (in->member != NULL && (in->member->detected || in->member->nsample > 0))
		input_flush(lc, in->member);
}

/* A line record of file: a line of that member (a new member when the file changed). */
void
input_member_line(struct lc *lc, struct input *in, const char *file, const char *line,
    size_t len, unsigned long long lineno)
{
	if (in->member != NULL && strcmp(in->member_name, file) != 0) {
		input_flush(lc, in->member);
		input_free(in->member);
		free(in->member);
		free(in->member_name);
		in->member = NULL;
	}
	if (in->member == NULL) {
		in->member_name = xstrdup(file);
		in->member = xmalloc(sizeof(*in->member));
		input_init(lc, in->member, in->member_name);
		/* --format names the records' format, not their lines' */
		in->member->detected = 0;
		in->member->fmt = LF_UNKNOWN;
		in->member->is_member = 1;
	}
	input_line(lc, in->member, line, len, lineno, 0);
}

void
input_init(struct lc *lc, struct input *in, const char *path)
{
	memset(in, 0, sizeof(*in));
	in->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (lc->format != LF_UNKNOWN) {
		in->fmt = lc->format;
		in->detected = 1;
	}
}

void
input_free(struct input *in)
{
	sb_free(&in->sample);
	sb_free(&in->line);
	sb_free(&in->cont);
	if (in->member != NULL) {
		input_free(in->member);
		free(in->member);
		free(in->member_name);
		in->member = NULL;
	}
}

/* Read every file to its end with lr: the path without -f and --state. */
static void
read_files(struct lc *lc, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct input in;
		struct lr lr;
		const char *line;
		size_t len;
		int fd, rc;

		input_init(lc, &in, paths[i]);
		if (strcmp(paths[i], "-") == 0)
			fd = STDIN_FILENO;
		else if ((fd = open(paths[i], O_RDONLY)) < 0) {
			warn_errno("%s", paths[i]);
			lc->rval = EXIT_SOME;
			continue;
		}
		chk(lr_init(&lr, fd, 0));
		lr.max_line = lc->max_event;
		while ((rc = lr_next(&lr, &line, &len)) == 1)
			input_line(lc, &in, line, len, lr.lineno, lr.truncated);
		if (rc < 0) {
			warn_errno("%s", in.name);
			lc->rval = EXIT_SOME;
		}
		input_flush(lc, &in);
		lr_free(&lr);
		if (fd != STDIN_FILENO)
			close(fd);
		input_free(&in);
	}
}

/* "K=V" into a kv; the option name for the message. */
static struct kv
split_kv(const char *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct kv kv;

	if (eq == NULL || eq == arg) {
		warn_msg("%s: expected KEY=VALUE, got '%s'", opt, arg);
		usage();
	}
	kv.k = xmalloc((size_t)(eq - arg) + 1);
	memcpy(kv.k, arg, (size_t)(eq - arg));
	kv.k[eq - arg] = '\0';
	kv.v = xstrdup(eq + 1);
	return kv;
}

/* Seconds with a fraction, like tail -s: "0.05" to "60", in ms. */
static int
parse_interval(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0.001 && v <= 60)) {
		warn_msg("%s: bad interval '%s' (0.001 to 60 seconds)", opt, s);
		usage();
	}
	return (int)(v * 1000 + 0.5);
}

/* "1048576", "64K", "1M", "1G". */
static size_t
parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || v < 64 || v > ((size_t)1 << 31))
		goto bad;
	return (size_t)v;
bad:
	warn_msg("%s: bad size '%s' (64 to 2G, suffix K, M, G)", opt, s);
	usage();
}

static void
summary(const struct lc *lc)
{
	if (lc->malformed)
		warn_msg("%llu malformed line%s kept with _parse_error", lc->malformed,
		    lc->malformed == 1 ? "" : "s");
	if (lc->skipped)
		warn_msg("%llu malformed line%s skipped", lc->skipped,
		    lc->skipped == 1 ? "" : "s");
	if (lc->repaired)
		warn_msg("%llu record%s with invalid UTF-8 repaired", lc->repaired,
		    lc->repaired == 1 ? "" : "s");
	if (lc->nul)
		warn_msg("%llu line%s with NUL bytes escaped", lc->nul,
		    lc->nul == 1 ? "" : "s");
	if (lc->cut)
		warn_msg("%llu event%s cut at %zu bytes (--max-event-bytes)", lc->cut,
		    lc->cut == 1 ? "" : "s", lc->max_event);
}

enum {
	OPT_FORMAT = 256, OPT_FROM_START, OPT_LEVEL_FIELD, OPT_MAX_EVENT, OPT_MSG_FIELD,
	OPT_SKIP_INVALID, OPT_SLEEP, OPT_STATE, OPT_STREAM, OPT_STREAM_FIELDS, OPT_TIME_FIELD,
	OPT_TIME_NOW, OPT_VERSION,
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "add", required_argument, NULL, 'a' },
		{ "follow", no_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "from-start", no_argument, NULL, OPT_FROM_START },
		{ "help", no_argument, NULL, 'h' },
		{ "level-field", required_argument, NULL, OPT_LEVEL_FIELD },
		{ "max-event-bytes", required_argument, NULL, OPT_MAX_EVENT },
		{ "msg-field", required_argument, NULL, OPT_MSG_FIELD },
		{ "skip-invalid", no_argument, NULL, OPT_SKIP_INVALID },
		{ "sleep-interval", required_argument, NULL, OPT_SLEEP },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "stream-fields", required_argument, NULL, OPT_STREAM_FIELDS },
		{ "time-field", required_argument, NULL, OPT_TIME_FIELD },
		{ "time-now", no_argument, NULL, OPT_TIME_NOW },
		{ "unbuffered", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static char *stdin_only[] = { (char *)"-", NULL };
	struct lc lc = { .max_event = 1 << 20 };
	struct timespec now;
	struct kv kv;
	int ch;

	tool_init("logcat");
	while ((ch = getopt_long(argc, argv, "a:fhu", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			lc.add = xrealloc(lc.add, (lc.nadd + 1) * sizeof(*lc.add));
			lc.add[lc.nadd++] = split_kv("--add", optarg);
			break;
		case 'f':
			lc.follow = 1;
			break;
		case 'h':
			fputs(synopsis, stdout);
			out_close();
			return EXIT_OK;
		case 'u':
			lc.unbuffered = 1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "auto") != 0 &&
			    (lc.format = lf_lookup(optarg)) == LF_UNKNOWN) {
				warn_msg("--format: unknown format '%s'", optarg);
				usage();
			}
			break;
		case OPT_FROM_START:
			lc.from_start = 1;
			break;
		case OPT_LEVEL_FIELD:
			lc.level_field = optarg;
			break;
		case OPT_MAX_EVENT:
			lc.max_event = parse_size("--max-event-bytes", optarg);
			break;
		case OPT_MSG_FIELD:
			lc.msg_field = optarg;
			break;
		case OPT_SKIP_INVALID:
			lc.skip_invalid = 1;
			break;
		case OPT_SLEEP:
			lc.poll_ms = parse_interval("--sleep-interval", optarg);
			break;
		case OPT_STATE:
			lc.state = optarg;
			break;
		case OPT_STREAM:
			kv = split_kv("--stream", optarg);
			chk(st_set(&lc.stream, kv.k, kv.v, strlen(kv.v)));
			free(kv.k);
			free(kv.v);
			break;
		case OPT_STREAM_FIELDS:
			for (const char *a = optarg, *e; *a; a = *e ? e + 1 : e) {
				size_t k;

				e = strchr(a, ',');
				if (e == NULL)
					e = a + strlen(a);
				if ((k = (size_t)(e - a)) == 0)
					continue;
				lc.sfields = xrealloc(lc.sfields, (lc.nsfields + 1) * sizeof(char *));
				lc.sfields[lc.nsfields] = xmalloc(k + 1);
				memcpy(lc.sfields[lc.nsfields], a, k);
				lc.sfields[lc.nsfields++][k] = '\0';
			}
			break;
		case OPT_TIME_FIELD:
			lc.time_field = optarg;
			break;
		case OPT_TIME_NOW:
			lc.time_now = 1;
			break;
		case OPT_VERSION:
			printf("logcat %s\n", LOGKIT_VERSION);
			out_close();
			return EXIT_OK;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((lc.from_start || lc.poll_ms) && !lc.follow) {
		warn_msg("%s needs -f", lc.from_start ? "--from-start" : "--sleep-interval");
		usage();
	}
	if (argc == 0) {
		argv = stdin_only;
		argc = 1;
	}

	clock_gettime(CLOCK_REALTIME, &now);
	lc.ctx.now = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if ((lc.tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	json_tokener_set_flags(lc.tok, JSON_TOKENER_STRICT);
	if (lc.stream.n > 0 && lc.nsfields == 0) {
		chk(st_format(&lc.stream, &lc.tmp));
		if (jw_str(&lc.fixed_stream, lc.tmp.buf, lc.tmp.len) < 0)
			die(EXIT_FATAL, "out of memory");
	}

	if (lc.follow || lc.state)
		follow_files(&lc, argv, (size_t)argc);
	else
		read_files(&lc, argv, (size_t)argc);
	emit_flush(&lc, 1);
	summary(&lc);
	out_close();

	json_tokener_free(lc.tok);
	for (size_t i = 0; i < lc.nadd; i++) {
		free(lc.add[i].k);
		free(lc.add[i].v);
	}
	free(lc.add);
	for (size_t i = 0; i < lc.nsfields; i++)
		free(lc.sfields[i]);
	free(lc.sfields);
	st_free(&lc.stream);
	st_free(&lc.labels);
	sb_free(&lc.fixed_stream);
	sb_free(&lc.out);
	sb_free(&lc.tmp);
	sb_free(&lc.tmp2);
	return lc.rval;
}
