/* progress.c: logfetch's progress: a status row per running download on a TTY, or JSON lines. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../tool.h"
#include "../../common/jw.h"
#include "logfetch.h"

enum { ROWS = 8, LABEL = 24 };

static enum progress_mode mode;
static int tty;		/* rows are drawn (auto and stderr is a terminal) */
static int rows;	/* rows on the screen now; the cursor ends the last one */
static int64_t last;	/* when they were drawn */

void
progress_start(enum progress_mode m)
{
	mode = m;
	tty = m == PROG_AUTO && isatty(STDERR_FILENO);
	rows = 0;
	last = 0;
}

void
progress_clear(void)
{
	/* Back to the first row and clear to the end of the screen. */
	if (rows > 1)
		fprintf(stderr, "\r\033[%dA\033[J", rows - 1);
	else if (rows == 1)
		fputs("\r\033[J", stderr);
	rows = 0;
	last = 0;
}

/*
 * The file name as a label of at most LABEL bytes: control characters
 * (a URL may carry %1b) become '?', a UTF-8 sequence is not cut in two.
 */
static void
label(const char *path, char *out)
{
	const char *s = strrchr(path, '/');
	size_t n = 0;

	for (s = s ? s + 1 : path; *s && n < LABEL; s++) {
		unsigned char c = (unsigned char)*s;

		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (((unsigned char)*s & 0xc0) == 0x80) {
		/* Cut inside a sequence: drop its start too. */
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			n--;
	}
	out[n] = '\0';
}

/* "name  1.2 MiB / 3.4 MiB  35%  2.0 MiB/s  ETA 0:01": this transfer's rate, the whole file's bytes. */
static void
row(struct job *j, int64_t now, struct sb *sb)
{
	curl_off_t got = 0, size = -1;
	char lab[LABEL + 1], done[32], total[32], rate[32], line[160];
	double secs = (double)(now - j->xfer_ns) / 1e9;
	double bps;
	uint64_t have;

	curl_easy_getinfo(j->h, CURLINFO_SIZE_DOWNLOAD_T, &got);
	curl_easy_getinfo(j->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size);
	bps = secs > 0 ? (double)got / secs : 0;
	have = (uint64_t)j->have + (uint64_t)got;
	label(j->path, lab);
	prog_bytes(have, done, sizeof(done));
	prog_bytes((uint64_t)bps, rate, sizeof(rate));
	if (size > 0) {
		uint64_t all = (uint64_t)j->have + (uint64_t)size;
		unsigned long eta = bps > 0 && all > have ? (unsigned long)((double)(all - have) / bps) : 0;

		prog_bytes(all, total, sizeof(total));
		snprintf(line, sizeof(line), "%-*s %9s / %-9s %3d%% %9s/s ETA %lu:%02lu", LABEL, lab,
		    done, total, (int)(100.0 * (double)have / (double)all), rate, eta / 60,
		    eta % 60);
	} else {
		snprintf(line, sizeof(line), "%-*s %9s %9s/s", LABEL, lab, done, rate);
	}
	if (sb->len)
		sb_addc(sb, '\n');
	sb_adds(sb, line);
}

void
progress_tty(struct job *jobs, size_t n)
{
	struct sb sb = SB_INIT;
	int64_t now;
	int drawn = 0, more = 0;
	char tail[64];

	if (!tty)
		return;
	now = prog_now();
	if (last && now - last < 100000000)
		return;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].st != J_RUN)
			continue;
		if (drawn < ROWS) {
			row(&jobs[i], now, &sb);
			drawn++;
		} else {
			more++;
		}
	}
	if (more) {
		snprintf(tail, sizeof(tail), "\n... and %d more", more);
		sb_adds(&sb, tail);
		drawn++;
	}
	progress_clear();
	if (sb.len) {
		fwrite(sb.buf, 1, sb.len, stderr);
		fputs("\033[K", stderr);
	}
	rows = drawn;
	last = now;
	sb_free(&sb);
}

int
progress_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct job *j = ud;
	int64_t now;
	struct sb sb = SB_INIT;
	struct jw w;

	(void)ultotal;
	(void)ulnow;
	if (mode != PROG_JSON)
		return 0;
	now = prog_now();
	if (now - j->last_prog_ns < 500000000)
		return 0;
	j->last_prog_ns = now;
	jw_begin(&w, &sb);
	jw_field_cstr(&w, "url", j->url);
	jw_field_i64(&w, "bytes", (int64_t)j->have + dlnow);
	jw_field_i64(&w, "total", dltotal ? (int64_t)j->have + dltotal : -1);
	jw_field_double(&w, "seconds", (double)(now - j->start_ns) / 1e9);
	jw_end(&w);
	sb_addc(&sb, '\n');
	if (sb.buf)
		fwrite(sb.buf, 1, sb.len, stderr);
	sb_free(&sb);
	return 0;
}
