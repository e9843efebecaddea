/* tool.h: what every logkit tool shares that may print or exit (so not common/). */
#ifndef LOGKIT_TOOL_H
#define LOGKIT_TOOL_H

#include <stddef.h>
#include <stdio.h>

#include "../common/prog.h"

/* Exit statuses, the same for every tool (see logkit(7)). */
enum {
	EXIT_OK = 0,		/* success / something matched */
	EXIT_SOME = 1,		/* nothing matched or fired; or some input failed */
	EXIT_FATAL = 2,		/* usage or fatal error */
};

#define LOGKIT_VERSION "0.1.0"

/* The running tool's name ("logcat"), set by tool_init. */
extern const char *tool_name;

/*
 * Call first in main: sets tool_name and restores default SIGPIPE so a
 * reader that goes away (logcat | head) ends us quietly.
 */
void tool_init(const char *name);

/*
 * err(3)-style diagnostics on stderr: "tool: message[: strerror]".  Control
 * characters in the message are shown as \xHH so that file names and log
 * data cannot drive the terminal.  The die_* ones exit with eval.
 */
void die(int eval, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void die_errno(int eval, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that cannot fail: out of memory ends the tool with status 2. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/*
 * Write to stdout or die.  A closed pipe (EPIPE) ends the tool quietly
 * with SIGPIPE, like git's check_pipe(); any other error is fatal.
 */
void out_write(const void *p, size_t n);
/* Flush stdout, check for errors, close it; for the end of main. */
void out_close(void);

/* TTY status line on stderr: shown only when stderr is a terminal. */
struct tool_progress {
	struct prog p;
	int on;
	int64_t last;
};
void tool_progress_start(struct tool_progress *tp, int enabled, unsigned long long total);
/* Redraw at most 10 times a second. */
void tool_progress_update(struct tool_progress *tp, const char *label,
    unsigned long long done);
void tool_progress_end(struct tool_progress *tp);

#endif
