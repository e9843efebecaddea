/* ilp.c: InfluxDB line protocol escaping (rules in ilp.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ilp.h"
#include "jw.h"

static int
escaped(int c, int kind)
{
	if (c == ',' || c == ' ')
		return 1;
	return c == '=' && kind != ILP_MEASUREMENT;
}

int
ilp_name(struct sb *out, const char *s, size_t n, int kind)
{
	size_t run = 0;		/* backslashes just before s[i] */
	size_t start = out->len;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int rc;

		if ((escaped(c, kind) && run % 2 == 1)) {
			out->len = start;
			return ILP_UNREPRESENTABLE;
		}
		if (c == '\n')
			rc = sb_add(out, "\\n", 2);
		else if (escaped(c, kind))
			rc = sb_addc(out, '\\') < 0 ? -1 : sb_addc(out, c);
		else
			rc = sb_addc(out, c);
		if (rc < 0)
			return -1;
		run = c == '\\' ? run + 1 : 0;
	}
	if (run % 2 == 1) {
		out->len = start;
		return ILP_UNREPRESENTABLE;
	}
	return 0;
}

int
ilp_string(struct sb *out, const char *s, size_t n)
{
	if (sb_grow(out, n + 2) < 0 || sb_addc(out, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (s[i] == '"' || s[i] == '\\')
			rc = sb_addc(out, '\\') < 0 ? -1 : sb_addc(out, s[i]);
		else if (s[i] == '\n')
			rc = sb_add(out, "\\n", 2);
		else
			rc = sb_addc(out, s[i]);
		if (rc < 0)
			return -1;
	}
	return sb_addc(out, '"');
}

int
ilp_int(struct sb *out, int64_t v)
{
	return sb_addf(out, "%lldi", (long long)v);
}

int
ilp_float(struct sb *out, double v)
{
	if (!isfinite(v))
		return ILP_UNREPRESENTABLE;
	return jw_double(out, v);
}
