/* ts.c: parsing and formatting of timestamps in the forms logs use. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ts.h"

#define NS_PER_SEC 1000000000LL

static long local_offset;

void
ts_set_local_offset(long seconds)
{
	local_offset = seconds;
}

/* Howard Hinnant's days_from_civil. */
int64_t
ts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : dm[m - 1];
}

int
ts_make(int64_t year, int mon, int day, int hour, int min, int sec,
    long nsec, int64_t *ns)
{
	int64_t days, secs;

	/* Years 0..9999 keep every result well inside int64 nanoseconds
	   (which end in 2262); refuse what cannot be represented. */
	if (year < 1678 || year > 2261 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays(year, mon) || hour < 0 || hour > 23 || min < 0 ||
	    min > 59 || sec < 0 || sec > 60 || nsec < 0 || nsec >= NS_PER_SEC)
		return -1;
	if (sec == 60)	/* leap second: fold into the next one, as POSIX does */
		sec = 59, nsec = NS_PER_SEC - 1;
	days = ts_days_from_civil(year, (unsigned)mon, (unsigned)day);
	secs = days * 86400 + hour * 3600 + min * 60 + sec;
	*ns = secs * NS_PER_SEC + nsec;
	return 0;
}

size_t
ts_format(int64_t ns, char buf[TS_BUFSZ])
{
	int64_t secs, days, y;
	unsigned m, d;
	long rem, nsec;
	int k;

	secs = ns / NS_PER_SEC;
	nsec = (long)(ns % NS_PER_SEC);
	if (nsec < 0)
		nsec += NS_PER_SEC, secs--;
	days = secs / 86400;
	rem = (long)(secs % 86400);
	if (rem < 0)
		rem += 86400, days--;
	civil_from_days(days, &y, &m, &d);
	k = 0;
	/* Hand-rolled: this runs once per record on the hot path. */
	buf[k++] = (char)('0' + (y / 1000) % 10);
	buf[k++] = (char)('0' + (y / 100) % 10);
	buf[k++] = (char)('0' + (y / 10) % 10);
	buf[k++] = (char)('0' + y % 10);
	buf[k++] = '-';
	buf[k++] = (char)('0' + m / 10);
	buf[k++] = (char)('0' + m % 10);
	buf[k++] = '-';
	buf[k++] = (char)('0' + d / 10);
	buf[k++] = (char)('0' + d % 10);
	buf[k++] = 'T';
	buf[k++] = (char)('0' + rem / 36000);
	buf[k++] = (char)('0' + (rem / 3600) % 10);
	buf[k++] = ':';
	buf[k++] = (char)('0' + (rem % 3600) / 600);
	buf[k++] = (char)('0' + (rem % 600) / 60);
	buf[k++] = ':';
	buf[k++] = (char)('0' + (rem % 60) / 10);
	buf[k++] = (char)('0' + rem % 10);
	buf[k++] = '.';
	for (int i = 8; i >= 0; i--) {
		buf[k + i] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	k += 9;
	buf[k++] = 'Z';
	buf[k] = '\0';
	return (size_t)k;
}

/* Exactly w digits at s[0..n); -1 if not. */
static int
digits(const char *s, size_t n, size_t w)
{
	int v = 0;

	if (n < w)
		return -1;
	for (size_t i = 0; i < w; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Fraction digits after a '.' or ',' at s; returns bytes used (0 if none). */
static size_t
fraction(const char *s, size_t n, long *nsec)
{
	size_t i = 1, nd = 0;
	long v = 0;

	*nsec = 0;
	if (n < 2 || (s[0] != '.' && s[0] != ',') || s[1] < '0' || s[1] > '9')
		return 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (nd < 9) {	/* extra digits beyond ns are dropped */
			v = v * 10 + (s[i] - '0');
			nd++;
		}
	}
	for (; nd < 9; nd++)
		v *= 10;
	*nsec = v;
	return i;
}

/* hh:mm:ss[.frac] at s; returns bytes used or 0. */
static size_t
hms(const char *s, size_t n, int *h, int *mi, int *se, long *nsec)
{
	size_t k;

	if (n < 8 || s[2] != ':' || s[5] != ':')
		return 0;
	if ((*h = digits(s, n, 2)) < 0 || (*mi = digits(s + 3, n - 3, 2)) < 0 ||
	    (*se = digits(s + 6, n - 6, 2)) < 0)
		return 0;
	k = fraction(s + 8, n - 8, nsec);
	return 8 + k;
}

/* Apply a local (zone-less) time; always succeeds if ts_make did. */
static int
make_local(int64_t y, int mo, int d, int h, int mi, int se, long nsec,
    int64_t *ns)
{
	if (ts_make(y, mo, d, h, mi, se, nsec, ns) < 0)
		return -1;
	*ns -= (int64_t)local_offset * NS_PER_SEC;
	return 0;
}

/* Zone designator: Z, +hh:mm, +hhmm, +hh.  Returns bytes, sets *off (s). */
static size_t
zone(const char *s, size_t n, long *off)
{
	int hh, mm = 0;
	size_t k;

	if (n >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 1;
	}
	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return 0;
	if ((hh = digits(s + 1, n - 1, 2)) < 0)
		return 0;
	k = 3;
	if (n >= 6 && s[3] == ':' && (mm = digits(s + 4, n - 4, 2)) >= 0)
		k = 6;
	else if (n >= 5 && (mm = digits(s + 3, n - 3, 2)) >= 0)
		k = 5;
	else
		mm = 0;
	if (hh > 23 || mm > 59)
		return 0;
	*off = (hh * 3600L + mm * 60L) * (s[0] == '-' ? -1 : 1);
	return k;
}

size_t
ts_parse_iso(const char *s, size_t n, int64_t *ns)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	long nsec = 0, off = 0;
	size_t k, z;

	if (n < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if ((y = digits(s, n, 4)) < 0 || (mo = digits(s + 5, n - 5, 2)) < 0 ||
	    (d = digits(s + 8, n - 8, 2)) < 0)
		return 0;
	k = 10;
	if (n > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
	    n >= 19 && (z = hms(s + 11, n - 11, &h, &mi, &se, &nsec)) > 0) {
		k = 11 + z;
		if ((z = zone(s + k, n - k, &off)) > 0) {
			k += z;
			if (ts_make(y, mo, d, h, mi, se, nsec, ns) < 0)
				return 0;
			*ns -= (int64_t)off * NS_PER_SEC;
			return k;
		}
		/* "2025-05-17 04:44:04 +0000" with a space before the zone */
		if (k < n && s[k] == ' ' && (z = zone(s + k + 1, n - k - 1, &off)) > 1 &&
		    s[k + 1] != 'Z' && s[k + 1] != 'z') {
			k += 1 + z;
			if (ts_make(y, mo, d, h, mi, se, nsec, ns) < 0)
				return 0;
			*ns -= (int64_t)off * NS_PER_SEC;
			return k;
		}
	} else if (n > 10 && ((s[10] >= '0' && s[10] <= '9') || s[10] == ':'))
		return 0;	/* not a date, something longer */
	if (make_local(y, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return k;
}

int
ts_from_int(int64_t v, int64_t *ns)
{
	int64_t a = v < 0 ? -v : v;

	/* Magnitude picks the unit, as VictoriaLogs does for _time. */
	if (a < 100000000000LL) {		/* < 1e11: seconds */
		*ns = v * NS_PER_SEC;
	} else if (a < 100000000000000LL) {	/* ms */
		*ns = v * 1000000;
	} else if (a < 100000000000000000LL) {	/* us */
		*ns = v * 1000;
	} else
		*ns = v;
	return 0;
}

int
ts_from_double(double v, int64_t *ns)
{
	double a = fabs(v), secs;

	if (!isfinite(v))
		return -1;
	if (a < 1e11)
		secs = v;
	else if (a < 1e14)
		secs = v / 1e3;
	else if (a < 1e17)
		secs = v / 1e6;
	else
		secs = v / 1e9;
	if (fabs(secs) > 9.2e9)
		return -1;
	/* Split to keep the fraction's precision (a double has ~16 digits). */
	double ip = floor(secs);
	*ns = (int64_t)ip * NS_PER_SEC + (int64_t)llround((secs - ip) * 1e9);
	return 0;
}

size_t
ts_parse_unix(const char *s, size_t n, int64_t *ns)
{
	int64_t v = 0;
	size_t i = 0, nd = 0;
	int neg = 0;
	long nsec = 0;

	if (i < n && s[i] == '-')
		neg = 1, i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
		if (v > (INT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (nd == 0 || nd > 19)
		return 0;
	if (i < n && s[i] == '.') {
		size_t f = fraction(s + i, n - i, &nsec);
		if (f == 0)
			return 0;
		if (nd > 11) {
			/* A fraction on ms/us/ns values: scale by the unit. */
			double d;
			size_t j;

			d = (double)v;
			double frac = 0, p = 0.1;
			for (j = i + 1; j < i + f; j++, p /= 10)
				frac += (s[j] - '0') * p;
			d += frac;
			if (ts_from_double(neg ? -d : d, ns) < 0)
				return 0;
			return i + f;
		}
		i += f;
		if (v > INT64_MAX / NS_PER_SEC - 1)
			return 0;
		*ns = v * NS_PER_SEC + nsec;
		if (neg)
			*ns = -*ns;
		return i;
	}
	if (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		return 0;
	ts_from_int(neg ? -v : v, ns);
	return i;
}

int
ts_month(const char *s, size_t n)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (s[0] == names[m * 3] && s[1] == names[m * 3 + 1] &&
		    s[2] == names[m * 3 + 2])
			return m + 1;
	return 0;
}

int
ts_guess_year(int mon, int day, int64_t now_ns)
{
	int64_t y, t;
	unsigned m, d;

	civil_from_days(now_ns / NS_PER_SEC / 86400, &y, &m, &d);
	if (ts_make(y, mon, mon == 2 && day == 29 ? 28 : day, 0, 0, 0, 0, &t) == 0 &&
	    t > now_ns + 31LL * 86400 * NS_PER_SEC)
		return (int)y - 1;
	return (int)y;
}

size_t
ts_parse_bsd(const char *s, size_t n, int year, int64_t *ns)
{
	int mo, d, h, mi, se;
	long nsec = 0;
	size_t k, z;

	/* "Jun 14 15:16:01" or "Jun  4 15:16:01" */
	if (n < 15 || (mo = ts_month(s, n)) == 0 || s[3] != ' ')
		return 0;
	if (s[4] == ' ')
		d = digits(s + 5, n - 5, 1);
	else
		d = digits(s + 4, n - 4, 2);
	if (d < 0 || s[6] != ' ')
		return 0;
	if ((z = hms(s + 7, n - 7, &h, &mi, &se, &nsec)) == 0)
		return 0;
	k = 7 + z;
	if (make_local(year, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return k;
}

size_t
ts_parse_clf(const char *s, size_t n, int64_t *ns)
{
	int d, mo, y, h, mi, se;
	long nsec = 0, off = 0;
	size_t k, z;

	/* "10/Oct/2000:13:55:36 -0700" */
	if (n < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':')
		return 0;
	if ((d = digits(s, n, 2)) < 0 || (mo = ts_month(s + 3, n - 3)) == 0 ||
	    (y = digits(s + 7, n - 7, 4)) < 0)
		return 0;
	if ((z = hms(s + 12, n - 12, &h, &mi, &se, &nsec)) == 0)
		return 0;
	k = 12 + z;
	if (k + 1 < n && s[k] == ' ' && (z = zone(s + k + 1, n - k - 1, &off)) > 0) {
		k += 1 + z;
		if (ts_make(y, mo, d, h, mi, se, nsec, ns) < 0)
			return 0;
		*ns -= (int64_t)off * NS_PER_SEC;
		return k;
	}
	if (make_local(y, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return k;
}

size_t
ts_parse_ctime(const char *s, size_t n, int64_t *ns)
{
	int mo, d, h, mi, se, y;
	long nsec = 0;
	size_t k, z;

	/* "Sun Dec 04 04:47:44 2005", day may be " 4" */
	if (n < 24 || s[3] != ' ' || (mo = ts_month(s + 4, n - 4)) == 0 || s[7] != ' ')
		return 0;
	if (s[8] == ' ')
		d = digits(s + 9, n - 9, 1);
	else
		d = digits(s + 8, n - 8, 2);
	if (d < 0 || s[10] != ' ')
		return 0;
	if ((z = hms(s + 11, n - 11, &h, &mi, &se, &nsec)) == 0)
		return 0;
	k = 11 + z;
	if (k + 5 > n || s[k] != ' ' || (y = digits(s + k + 1, n - k - 1, 4)) < 0)
		return 0;
	k += 5;
	if (make_local(y, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return k;
}

size_t
ts_parse_yymmdd(const char *s, size_t n, int64_t *ns)
{
	int y, mo, d, h, mi, se;

	/* "081109 203615" */
	if (n < 13 || s[6] != ' ')
		return 0;
	if ((y = digits(s, n, 2)) < 0 || (mo = digits(s + 2, n - 2, 2)) < 0 ||
	    (d = digits(s + 4, n - 4, 2)) < 0 || (h = digits(s + 7, n - 7, 2)) < 0 ||
	    (mi = digits(s + 9, n - 9, 2)) < 0 || (se = digits(s + 11, n - 11, 2)) < 0)
		return 0;
	if (n > 13 && s[13] >= '0' && s[13] <= '9')
		return 0;
	if (make_local(2000 + y, mo, d, h, mi, se, 0, ns) < 0)
		return 0;
	return 13;
}

size_t
ts_parse_yy_slash(const char *s, size_t n, int64_t *ns)
{
	int y, mo, d, h, mi, se;
	long nsec = 0;
	size_t z;

	/* "17/06/09 20:10:40" */
	if (n < 17 || s[2] != '/' || s[5] != '/' || s[8] != ' ')
		return 0;
	if ((y = digits(s, n, 2)) < 0 || (mo = digits(s + 3, n - 3, 2)) < 0 ||
	    (d = digits(s + 6, n - 6, 2)) < 0)
		return 0;
	if ((z = hms(s + 9, n - 9, &h, &mi, &se, &nsec)) == 0)
		return 0;
	if (make_local(2000 + y, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return 9 + z;
}

size_t
ts_parse_bgl(const char *s, size_t n, int64_t *ns)
{
	int y, mo, d, h, mi, se;
	long nsec = 0;
	size_t k;

	/* "2005-06-03-15.42.50.675872" */
	if (n < 19 || s[4] != '-' || s[7] != '-' || s[10] != '-' || s[13] != '.' ||
	    s[16] != '.')
		return 0;
	if ((y = digits(s, n, 4)) < 0 || (mo = digits(s + 5, n - 5, 2)) < 0 ||
	    (d = digits(s + 8, n - 8, 2)) < 0 || (h = digits(s + 11, n - 11, 2)) < 0 ||
	    (mi = digits(s + 14, n - 14, 2)) < 0 || (se = digits(s + 17, n - 17, 2)) < 0)
		return 0;
	k = 19 + fraction(s + 19, n - 19, &nsec);
	if (make_local(y, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return k;
}

size_t
ts_parse_mmdd(const char *s, size_t n, int year, int64_t *ns)
{
	int mo, d, h, mi, se;
	long nsec = 0;
	size_t z;

	/* "03-17 16:13:38.811" */
	if (n < 14 || s[2] != '-' || s[5] != ' ')
		return 0;
	if ((mo = digits(s, n, 2)) < 0 || (d = digits(s + 3, n - 3, 2)) < 0)
		return 0;
	if ((z = hms(s + 6, n - 6, &h, &mi, &se, &nsec)) == 0)
		return 0;
	if (make_local(year, mo, d, h, mi, se, nsec, ns) < 0)
		return 0;
	return 6 + z;
}

size_t
ts_parse_any(const char *s, size_t n, int64_t *ns)
{
	size_t k;

	if ((k = ts_parse_iso(s, n, ns)) || (k = ts_parse_bgl(s, n, ns)) ||
	    (k = ts_parse_clf(s, n, ns)) || (k = ts_parse_ctime(s, n, ns)) ||
	    (k = ts_parse_yy_slash(s, n, ns)) || (k = ts_parse_yymmdd(s, n, ns)) ||
	    (k = ts_parse_unix(s, n, ns)))
		return k;
	return 0;
}

size_t
ts_parse_duration(const char *s, size_t n, int64_t *ns)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {	/* longest first so "ms" wins over "m" */
		{ "ms", 1000000LL }, { "us", 1000LL }, { "µs", 1000LL },
		{ "ns", 1LL }, { "s", NS_PER_SEC }, { "m", 60 * NS_PER_SEC },
		{ "h", 3600 * NS_PER_SEC }, { "d", 86400 * NS_PER_SEC },
		{ "w", 7 * 86400 * NS_PER_SEC }, { "y", 365 * 86400 * NS_PER_SEC },
	};
	size_t i = 0, parts = 0;
	double total = 0;

	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
		double v = 0, scale = 0;
		size_t u, ul = 0, j;

		for (j = i; j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'); j++) {
			if (s[j] == '.') {
				if (scale)
					return 0;
				scale = 1;
				continue;
			}
			if (scale)
				v += (s[j] - '0') * (scale /= 10);
			else
				v = v * 10 + (s[j] - '0');
		}
		if (j == i || (j == i + 1 && s[i] == '.'))
			return 0;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			ul = strlen(units[u].u);
			if (n - j >= ul && memcmp(s + j, units[u].u, ul) == 0)
				break;
		}
		if (u == sizeof(units) / sizeof(units[0]))
			return 0;
		total += v * (double)units[u].ns;
		i = j + ul;
		parts++;
	}
	if (parts == 0 || total > 9.2e18)
		return 0;
	*ns = (int64_t)total;
	return i;
}
