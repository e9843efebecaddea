/* ts.h: timestamps as int64 nanoseconds since the Unix epoch (UTC). */
#ifndef LOGKIT_TS_H
#define LOGKIT_TS_H

#include <stddef.h>
#include <stdint.h>

/* "2025-05-17T04:44:04.545036000Z" plus NUL. */
#define TS_BUFSZ 40

/* Days since 1970-01-01 for a proleptic Gregorian date (no range check). */
int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Builds ns from broken-down UTC fields; -1 if a field is out of range. */
int ts_make(int64_t year, int mon, int day, int hour, int min, int sec,
    long nsec, int64_t *ns);

/* Format ns as RFC 3339 UTC with nine fraction digits; returns length. */
size_t ts_format(int64_t ns, char buf[TS_BUFSZ]);

/*
 * The parsers below read a timestamp at the start of s[0..n).  On success
 * they return the number of bytes consumed (> 0) and set *ns; on failure
 * they return 0.  Text without a zone is taken as UTC plus *tzoff
 * seconds when tzoff is given (ts_set_local_offset), else UTC.
 */

/* RFC 3339 / ISO 8601: "2025-05-17T04:44:04.5Z", "2025-05-17 04:44:04,978",
   "2025-05-17T04:44:04+02:00", "2025-05-17" (midnight). */
size_t ts_parse_iso(const char *s, size_t n, int64_t *ns);
/* Unix time as decimal digits, optional fraction ("1747457048.9229765");
   the unit of an integer is taken from its magnitude (s, ms, us, ns). */
size_t ts_parse_unix(const char *s, size_t n, int64_t *ns);
/* The same for a JSON number. */
int ts_from_double(double v, int64_t *ns);
int ts_from_int(int64_t v, int64_t *ns);
/* Syslog RFC 3164 "Jun 14 15:16:01" (year from *year, which the caller
   guesses; see ts_guess_year). */
size_t ts_parse_bsd(const char *s, size_t n, int year, int64_t *ns);
/* Common Log Format "10/Oct/2000:13:55:36 -0700". */
size_t ts_parse_clf(const char *s, size_t n, int64_t *ns);
/* ctime(3) / Apache error log "Sun Dec 04 04:47:44 2005" (also with
   fractional seconds, "Wed Oct 11 14:32:52.123456 2000"). */
size_t ts_parse_ctime(const char *s, size_t n, int64_t *ns);
/* "081109 203615" (yyMMdd HHmmss, HDFS). */
size_t ts_parse_yymmdd(const char *s, size_t n, int64_t *ns);
/* "17/06/09 20:10:40" (yy/MM/dd, Spark). */
size_t ts_parse_yy_slash(const char *s, size_t n, int64_t *ns);
/* "2005-06-03-15.42.50.675872" (BGL). */
size_t ts_parse_bgl(const char *s, size_t n, int64_t *ns);
/* "03-17 16:13:38.811" (Android logcat; year from *year). */
size_t ts_parse_mmdd(const char *s, size_t n, int year, int64_t *ns);
/* Any of the forms above that carry a year. */
size_t ts_parse_any(const char *s, size_t n, int64_t *ns);
/*
 * Relative durations as LogsQL writes them: "5m", "1h30m", "2d", "1.5s",
 * "500ms", "1w", "1y".  Returns bytes consumed and the length in ns.
 */
size_t ts_parse_duration(const char *s, size_t n, int64_t *ns);

/* Seconds east of UTC applied to zone-less timestamps (default 0). */
void ts_set_local_offset(long seconds);
/* Month "Jan".."Dec" at s: 1..12, or 0. */
int ts_month(const char *s, size_t n);

/* The year in which a month/day without a year most likely falls, given
   the current time now_ns: the current year, unless that date would lie
   more than a month in the future (a log from last December read in
   January). */
int ts_guess_year(int mon, int day, int64_t now_ns);

#endif
