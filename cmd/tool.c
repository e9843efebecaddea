/* tool.c: diagnostics, allocation and stdout handling for the tools. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char *tool_name = "logkit";

void
tool_init(const char *name)
{
	tool_name = name;
	signal(SIGPIPE, SIG_DFL);
}

/* Write msg to stderr with control characters made visible. */
static void
emit(const char *msg, const char *tail)
{
	char out[4096];
	size_t k = 0;

	for (const unsigned char *p = (const unsigned char *)msg; *p && k < sizeof(out) - 8; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			k += (size_t)snprintf(out + k, sizeof(out) - k, "\\x%02x", *p);
		} else
			out[k++] = (char)*p;
	}
	out[k] = '\0';
	if (tail)
		fprintf(stderr, "%s: %s: %s\n", tool_name, out, tail);
	else
		fprintf(stderr, "%s: %s\n", tool_name, out);
}

static void
vmsg(const char *fmt, va_list ap, const char *tail)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	emit(buf, tail);
}

void
die(int eval, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
	exit(eval);
}

void
die_errno(int eval, const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	exit(eval);
}

void
warn_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
}

void
warn_errno(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die(EXIT_FATAL, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		die(EXIT_FATAL, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		die(EXIT_FATAL, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die(EXIT_FATAL, "out of memory");
	return p;
}

/* The reader went away: end the way a default SIGPIPE would. */
static void
check_pipe(void)
{
	if (errno == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(141);
	}
}

void
out_write(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, stdout) != n) {
		check_pipe();
		die_errno(EXIT_FATAL, "write error");
	}
}

void
out_close(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		check_pipe();
		die_errno(EXIT_FATAL, "write error");
	}
	if (fclose(stdout) != 0) {
		check_pipe();
		die_errno(EXIT_FATAL, "write error");
	}
}

void
tool_progress_start(struct tool_progress *tp, int enabled, unsigned long long total)
{
	memset(tp, 0, sizeof(*tp));
	tp->on = enabled && isatty(STDERR_FILENO);
	prog_start(&tp->p, total);
}

void
tool_progress_update(struct tool_progress *tp, const char *label,
    unsigned long long done)
{
	char line[160];
	int64_t now;

	if (!tp->on)
		return;
	tp->p.done = done;
	now = prog_now();
	if (now - tp->last < 100000000)
		return;
	tp->last = now;
	prog_format(&tp->p, label, line, sizeof(line));
	/* \r and clear-to-end: one status line, redrawn in place. */
	fprintf(stderr, "\r%s\033[K", line);
}

void
tool_progress_end(struct tool_progress *tp)
{
	if (tp->on)
		fputs("\r\033[K", stderr);
}
