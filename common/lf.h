/* lf.h: log line formats: detection from sample lines, line parsers, level names. */
#ifndef LOGKIT_LF_H
#define LOGKIT_LF_H

#include <stddef.h>
#include <stdint.h>

/* The formats lf knows; lf_name gives the --format name of each. */
enum lf_fmt {
	LF_UNKNOWN = 0,
	LF_JSON,	/* JSON lines (parsed by the caller, json-c) */
	LF_LOGFMT,	/* key=value key="quoted value" */
	LF_SYSLOG,	/* RFC 3164: [<PRI>]Mmm dd hh:mm:ss host tag[pid]: msg */
	LF_RFC5424,	/* <PRI>1 TIME HOST APP PROCID MSGID SD MSG */
	LF_ACCESS,	/* Apache/nginx access, common and combined */
	LF_APACHE_ERROR,	/* [ctime] [module:level] [pid N] msg */
	LF_APP,		/* TIME [-] LEVEL [thread] logger: msg and relatives
			   (log4j, Python logging, Hadoop, Spark, HDFS, Zookeeper) */
	LF_ANDROID,	/* logcat threadtime: MM-DD hh:mm:ss.mmm pid tid L tag: msg */
	LF_CBS,		/* Windows CBS: TIME, Level  Component  msg */
	LF_BGL,		/* Blue Gene/L RAS: label epoch date node time node type comp level msg */
	LF_TEXT,	/* anything: the line is the message */
	LF_NFMT
};

/* Normalised levels; LVL_NONE when a word is not a level. */
enum lf_lvl {
	LVL_NONE = 0, LVL_TRACE, LVL_DEBUG, LVL_INFO, LVL_NOTICE, LVL_WARN,
	LVL_ERROR, LVL_FATAL
};

/* One extracted field.  key is not NUL-terminated (logfmt keys point into
   the line); quoted: v is logfmt "..." content with backslash escapes. */
struct lf_field {
	const char *k;
	size_t kn;
	const char *v;
	size_t vn;
	int quoted;
};

#define LF_MAXF 32

/*
 * A parsed line.  Every pointer points into the line given to lf_parse.
 * For logfmt the time, message and level are found by the caller among
 * the fields (the same candidate names as for JSON), so lf_parse leaves
 * them unset.
 */
struct lf_rec {
	int64_t time;
	int has_time;
	const char *msg;	/* NULL: no message (logfmt without one) */
	size_t msgn;
	int msg_quoted;		/* msg holds logfmt backslash escapes */
	const char *lvl_raw;	/* the level as written, or NULL */
	size_t lvln;
	enum lf_lvl lvl;
	struct lf_field f[LF_MAXF];
	size_t nf;
};

/* The field names tried, in order, for _time, _msg and level in JSON and
   logfmt records (NULL-terminated). */
extern const char *const lf_time_keys[];
extern const char *const lf_msg_keys[];
extern const char *const lf_level_keys[];

/*
 * logfmt: set time, msg and level from the fields named tkey, mkey, lkey
 * (NULL: the first of the candidates above that is present) and remove
 * those fields.  A time or level field whose value does not parse stays
 * a field.
 */
void lf_pick(struct lf_rec *r, const char *tkey, const char *mkey, const char *lkey);

/* What a parser needs besides the line: the time now, for formats without
   a year (syslog, Android). */
struct lf_ctx {
	int64_t now;
};

/*
 * Parse s[0..n) as a line of format fmt.  Returns 1 when it is the start
 * of an event in that format (r filled), 0 when it is not (for the
 * caller, a continuation line or a malformed one).  LF_TEXT always
 * returns 1; LF_JSON is not handled here (returns 0).
 */
int lf_parse(enum lf_fmt fmt, const char *s, size_t n, const struct lf_ctx *ctx,
    struct lf_rec *r);

/*
 * Pick the format of a sample of first lines: the one whose parser
 * accepts most of them (JSON when most non-blank lines are JSON objects
 * by their first and last byte; the caller confirms by parsing).
 * LF_TEXT when nothing fits.  Sets *binary when the sample looks like
 * binary data (NUL bytes or mostly non-text bytes).
 */
enum lf_fmt lf_detect(const char *const *lines, const size_t *lens, size_t n,
    const struct lf_ctx *ctx, int *binary);

/* 1 when a line that did not parse continues the previous event anyway
   (indented, "Caused by:", "Traceback", "... 3 more"). */
int lf_continuation(const char *s, size_t n);

/* The --format name of fmt ("json", "syslog", ...) and back (LF_UNKNOWN
   for an unknown name; "auto" is LF_UNKNOWN too). */
const char *lf_name(enum lf_fmt fmt);
enum lf_fmt lf_lookup(const char *name);

/* Level word s[0..n) (any case; WARNING, ERR, SEVERE, CRIT, FINE, ...) to
   its normalised level, LVL_NONE when it is not one. */
enum lf_lvl lf_level(const char *s, size_t n);
/* "trace", "debug", "info", "notice", "warn", "error", "fatal" ("" for none). */
const char *lf_level_name(enum lf_lvl l);
/* Syslog severity 0..7 to a level. */
enum lf_lvl lf_level_syslog(int sev);

#endif
