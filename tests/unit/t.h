/* t.h: a minimal TAP harness for the C unit tests (one binary per module). */
#ifndef LOGKIT_T_H
#define LOGKIT_T_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

static int __attribute__((format(printf, 5, 6)))
t_ok(int cond, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		t_failed++;
		printf("#   failed at %s:%d: %s\n", file, line, expr);
	}
	return cond;
}

static int
t_is_str(const char *got, const char *want)
{
	int c = got && want && strcmp(got, want) == 0;

	if (!c)
		printf("#   got  '%s'\n#   want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return c;
}

/* ok(cond, name...): one TAP test line. */
#define ok(cond, ...) t_ok(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
/* is_str(got, want, name...): string equality, showing both on failure. */
#define is_str(got, want, ...) t_ok(t_is_str((got), (want)), __FILE__, __LINE__, \
	#got " == " #want, __VA_ARGS__)

static inline int
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}

#endif
