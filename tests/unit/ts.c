/* ts.c: table tests for timestamp parsing and formatting. */
#include <stdint.h>
#include <string.h>

#include "../../common/ts.h"
#include "t.h"

struct tc {
	size_t (*fn)(const char *, size_t, int64_t *);
	const char *in;
	const char *want;	/* NULL: must be refused */
	size_t used;		/* 0: the whole input */
};

static const struct tc cases[] = {
	{ ts_parse_iso, "2025-05-17T04:44:04.545036Z", "2025-05-17T04:44:04.545036000Z", 0 },
	{ ts_parse_iso, "2025-05-17T04:44:04Z", "2025-05-17T04:44:04.000000000Z", 0 },
	{ ts_parse_iso, "2025-05-17 04:44:04,978", "2025-05-17T04:44:04.978000000Z", 0 },
	{ ts_parse_iso, "2025-05-17T06:44:04+02:00", "2025-05-17T04:44:04.000000000Z", 0 },
	{ ts_parse_iso, "2025-05-17T01:44:04-0300", "2025-05-17T04:44:04.000000000Z", 0 },
	{ ts_parse_iso, "2025-05-17T04:44:04.123456789123Z", "2025-05-17T04:44:04.123456789Z", 0 },
	{ ts_parse_iso, "2025-05-17T04:44:04.1+00", "2025-05-17T04:44:04.100000000Z", 0 },
	{ ts_parse_iso, "2025-05-17", "2025-05-17T00:00:00.000000000Z", 0 },
	{ ts_parse_iso, "2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000000000Z", 0 },
	{ ts_parse_iso, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000000000Z", 0 },
	{ ts_parse_iso, "2100-02-29T00:00:00Z", NULL, 0 },
	{ ts_parse_iso, "2023-02-29T00:00:00Z", NULL, 0 },
	{ ts_parse_iso, "2025-13-01T00:00:00Z", NULL, 0 },
	{ ts_parse_iso, "2025-04-31T00:00:00Z", NULL, 0 },
	{ ts_parse_iso, "2025-05-17T24:00:00Z", NULL, 0 },
	{ ts_parse_iso, "2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999999Z", 0 },
	{ ts_parse_iso, "2025-05-17T04:44:04Z trailing", "2025-05-17T04:44:04.000000000Z", 20 },
	{ ts_parse_iso, "1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500000000Z", 0 },
	{ ts_parse_iso, "hello", NULL, 0 },
	{ ts_parse_iso, "2025-5-17", NULL, 0 },
	{ ts_parse_iso, "20250517", NULL, 0 },
	{ ts_parse_iso, "", NULL, 0 },
	{ ts_parse_unix, "1747457048.9229765", "2025-05-17T04:44:08.922976500Z", 0 },
	{ ts_parse_unix, "1747457048", "2025-05-17T04:44:08.000000000Z", 0 },
	{ ts_parse_unix, "1747457048922", "2025-05-17T04:44:08.922000000Z", 0 },
	{ ts_parse_unix, "1747457048922976", "2025-05-17T04:44:08.922976000Z", 0 },
	{ ts_parse_unix, "1747457048922976500", "2025-05-17T04:44:08.922976500Z", 0 },
	{ ts_parse_unix, "0", "1970-01-01T00:00:00.000000000Z", 0 },
	{ ts_parse_unix, "12abc", NULL, 0 },
	{ ts_parse_unix, "99999999999999999999999", NULL, 0 },
	{ ts_parse_clf, "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000000000Z", 0 },
	{ ts_parse_clf, "10/Foo/2000:13:55:36 -0700", NULL, 0 },
	{ ts_parse_ctime, "Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44.000000000Z", 0 },
	{ ts_parse_ctime, "Wed Oct 11 14:32:52.123456 2000", "2000-10-11T14:32:52.123456000Z", 0 },
	{ ts_parse_yymmdd, "081109 203615", "2008-11-09T20:36:15.000000000Z", 0 },
	{ ts_parse_yy_slash, "17/06/09 20:10:40", "2017-06-09T20:10:40.000000000Z", 0 },
	{ ts_parse_bgl, "2005-06-03-15.42.50.675872", "2005-06-03T15:42:50.675872000Z", 0 },
	{ ts_parse_any, "2015-07-29 17:41:44,747 - INFO", "2015-07-29T17:41:44.747000000Z", 23 },
	{ ts_parse_any, "not a time", NULL, 0 },
};

int
main(void)
{
	char buf[TS_BUFSZ];
	int64_t ns;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tc *c = &cases[i];
		size_t n = strlen(c->in), k;

		ns = 0;
		k = c->fn(c->in, n, &ns);
		if (c->want == NULL) {
			ok(k == 0, "refuses '%s'", c->in);
			continue;
		}
		ts_format(ns, buf);
		ok(k == (c->used ? c->used : n), "'%s' consumes %zu (got %zu)", c->in,
		    c->used ? c->used : n, k);
		is_str(buf, c->want, "'%s'", c->in);
	}

	ok(ts_parse_bsd("Jun 14 15:16:01 combo", 21, 2005, &ns) == 15, "bsd consumes 15");
	ts_format(ns, buf);
	is_str(buf, "2005-06-14T15:16:01.000000000Z", "bsd timestamp");
	ok(ts_parse_bsd("Jun  4 15:16:01 x", 17, 2005, &ns) == 15, "bsd space-padded day");
	ok(ts_parse_mmdd("03-17 16:13:38.811 1702", 23, 2024, &ns) == 18, "android mmdd");
	ts_format(ns, buf);
	is_str(buf, "2024-03-17T16:13:38.811000000Z", "android timestamp");

	ts_set_local_offset(3600);
	ts_parse_iso("2025-05-17 04:44:04", 19, &ns);
	ts_format(ns, buf);
	is_str(buf, "2025-05-17T03:44:04.000000000Z", "zone-less time takes the local offset");
	ts_set_local_offset(0);

	ts_format(INT64_MAX, buf);
	is_str(buf, "2262-04-11T23:47:16.854775807Z", "format of INT64_MAX");
	ts_format(-1, buf);
	is_str(buf, "1969-12-31T23:59:59.999999999Z", "format of -1ns");

	ok(ts_parse_duration("5m", 2, &ns) == 2 && ns == 300000000000LL, "duration 5m");
	ok(ts_parse_duration("1h30m", 5, &ns) == 5 && ns == 5400000000000LL, "duration 1h30m");
	ok(ts_parse_duration("500ms", 5, &ns) == 5 && ns == 500000000LL, "duration 500ms");
	ok(ts_parse_duration("1.5s", 4, &ns) == 4 && ns == 1500000000LL, "duration 1.5s");
	ok(ts_parse_duration("2d", 2, &ns) == 2 && ns == 172800000000000LL, "duration 2d");
	ok(ts_parse_duration("5x", 2, &ns) == 0, "duration refuses 5x");
	ok(ts_parse_duration("", 0, &ns) == 0, "duration refuses empty");

	/* 2025-01-05 now: a "Dec 30" line belongs to 2024. */
	ts_make(2025, 1, 5, 0, 0, 0, 0, &ns);
	ok(ts_guess_year(12, 30, ns) == 2024, "year guess wraps back");
	ok(ts_guess_year(1, 4, ns) == 2025, "year guess keeps current");
	ok(ts_days_from_civil(1970, 1, 1) == 0, "epoch day 0");
	ok(ts_days_from_civil(2000, 3, 1) == 11017, "2000-03-01 day 11017");
	return t_done();
}
