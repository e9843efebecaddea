/* lf.c: log line formats: level names, format names, detection (parsers in lf_parse.c). */
#include <string.h>
#include <strings.h>

#include "lf.h"

static const char *const fmt_names[LF_NFMT] = {
	[LF_UNKNOWN] = "auto", [LF_JSON] = "json", [LF_LOGFMT] = "logfmt",
	[LF_SYSLOG] = "syslog", [LF_RFC5424] = "rfc5424", [LF_ACCESS] = "access",
	[LF_APACHE_ERROR] = "apache-error", [LF_APP] = "app",
	[LF_ANDROID] = "android", [LF_CBS] = "cbs", [LF_BGL] = "bgl",
	[LF_TEXT] = "text",
};

const char *
lf_name(enum lf_fmt fmt)
{
	return fmt < LF_NFMT ? fmt_names[fmt] : "auto";
}

enum lf_fmt
lf_lookup(const char *name)
{
	for (int i = 1; i < LF_NFMT; i++)
		if (strcmp(name, fmt_names[i]) == 0)
			return (enum lf_fmt)i;
	/* the names people know these layouts by */
	if (!strcmp(name, "rfc3164"))
		return LF_SYSLOG;
	if (!strcmp(name, "nginx") || !strcmp(name, "combined") || !strcmp(name, "common"))
		return LF_ACCESS;
	if (!strcmp(name, "log4j") || !strcmp(name, "python") || !strcmp(name, "spark") ||
	    !strcmp(name, "hadoop") || !strcmp(name, "hdfs") || !strcmp(name, "zookeeper"))
		return LF_APP;
	if (!strcmp(name, "plain"))
		return LF_TEXT;
	return LF_UNKNOWN;
}

static const struct {
	const char *w;
	enum lf_lvl l;
} levels[] = {
	{ "trace", LVL_TRACE }, { "finest", LVL_TRACE }, { "finer", LVL_TRACE },
	{ "verbose", LVL_TRACE },
	{ "debug", LVL_DEBUG }, { "dbg", LVL_DEBUG }, { "fine", LVL_DEBUG },
	{ "config", LVL_DEBUG },
	{ "info", LVL_INFO }, { "inf", LVL_INFO }, { "information", LVL_INFO },
	{ "informational", LVL_INFO }, { "normal", LVL_INFO },
	{ "notice", LVL_NOTICE },
	{ "warn", LVL_WARN }, { "warning", LVL_WARN }, { "wrn", LVL_WARN },
	{ "error", LVL_ERROR }, { "err", LVL_ERROR }, { "eror", LVL_ERROR },
	{ "severe", LVL_ERROR }, { "failure", LVL_ERROR },
	{ "fatal", LVL_FATAL }, { "crit", LVL_FATAL }, { "critical", LVL_FATAL },
	{ "emerg", LVL_FATAL }, { "emergency", LVL_FATAL }, { "alert", LVL_FATAL },
	{ "panic", LVL_FATAL },
};

enum lf_lvl
lf_level(const char *s, size_t n)
{
	if (n == 0 || n > 13)
		return LVL_NONE;
	/* Apache 2.4 writes trace1..trace8 */
	if (n == 6 && strncasecmp(s, "trace", 5) == 0 && s[5] >= '1' && s[5] <= '8')
		return LVL_TRACE;
	for (size_t i = 0; i < sizeof(levels) / sizeof(*levels); i++)
		if (strlen(levels[i].w) == n && strncasecmp(s, levels[i].w, n) == 0)
			return levels[i].l;
	return LVL_NONE;
}

const char *
lf_level_name(enum lf_lvl l)
{
	static const char *const names[] = { "", "trace", "debug", "info", "notice",
		"warn", "error", "fatal" };

	return (unsigned)l < sizeof(names) / sizeof(*names) ? names[l] : "";
}

enum lf_lvl
lf_level_syslog(int sev)
{
	static const enum lf_lvl m[8] = { LVL_FATAL, LVL_FATAL, LVL_FATAL, LVL_ERROR,
		LVL_WARN, LVL_NOTICE, LVL_INFO, LVL_DEBUG };

	return sev >= 0 && sev < 8 ? m[sev] : LVL_NONE;
}

int
lf_continuation(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '\t')
		return 1;
	if (n >= 10 && memcmp(s, "Caused by:", 10) == 0)
		return 1;
	if (n >= 10 && memcmp(s, "Traceback ", 10) == 0)
		return 1;
	if (n >= 4 && memcmp(s, "... ", 4) == 0)
		return 1;
	return 0;
}

/* NUL bytes, or more than one byte in 10 a control character other than
   tab/CR/FF/ESC or a byte that is not UTF-8 text, means binary. */
static int
binary_sample(const char *const *lines, const size_t *lens, size_t n)
{
	size_t bad = 0, all = 0;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)lines[i];

		for (size_t j = 0; j < lens[i]; j++) {
			unsigned char c = p[j];

			if (c == 0)
				return 1;
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\f' && c != 0x1b) ||
			    c == 0x7f || c == 0xff || c == 0xfe)
				bad++;
		}
		all += lens[i];
	}
	return all > 0 && bad * 10 > all;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* How much a parsed line says: formats that extract more win ties. */
static int
quality(const struct lf_rec *r)
{
	return 4 + 2 * r->has_time + (r->lvl != LVL_NONE ? 2 : 0) + (r->nf > 0);
}

enum lf_fmt
lf_detect(const char *const *lines, const size_t *lens, size_t n,
    const struct lf_ctx *ctx, int *binary)
{
	/* Most specific first: on equal scores the earlier one wins. */
	static const enum lf_fmt order[] = { LF_RFC5424, LF_SYSLOG, LF_ACCESS,
		LF_APACHE_ERROR, LF_BGL, LF_ANDROID, LF_CBS, LF_APP, LF_LOGFMT };
	struct lf_rec r;
	size_t nonblank = 0, json = 0;
	enum lf_fmt best = LF_TEXT;
	long bestscore = 0;

	*binary = binary_sample(lines, lens, n);
	for (size_t i = 0; i < n; i++) {
		const char *s = lines[i];
		size_t a = 0, b = lens[i];

		if (blank(s, b))
			continue;
		nonblank++;
		while (a < b && (s[a] == ' ' || s[a] == '\t'))
			a++;
		/* a truncated or broken object is still JSON input */
		if (s[a] == '{')
			json++;
	}
	if (nonblank == 0)
		return LF_TEXT;
	if (json * 2 >= nonblank)
		return LF_JSON;
	for (size_t k = 0; k < sizeof(order) / sizeof(*order); k++) {
		long score = 0;
		size_t hits = 0;

		for (size_t i = 0; i < n; i++) {
			if (blank(lines[i], lens[i]))
				continue;
			if (lf_parse(order[k], lines[i], lens[i], ctx, &r) == 1) {
				hits++;
				score += quality(&r);
			}
		}
		/* Stack traces make many lines continuations: a quarter
		   of the lines starting events is enough. */
		if (hits * 4 >= nonblank && score > bestscore) {
			best = order[k];
			bestscore = score;
		}
	}
	return best;
}
