/* jw.c: JSON text output with control-character escaping and UTF-8 repair. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jw.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

int
jw_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Which ASCII bytes need escaping: 0 = none, else the escape letter or 'u'. */
static const char esc[128] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	['"'] = '"', ['\\'] = '\\',
	[0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u',
	[6] = 'u', [7] = 'u', [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u',
	[17] = 'u', [18] = 'u', [19] = 'u', [20] = 'u', [21] = 'u', [22] = 'u',
	[23] = 'u', [24] = 'u', [25] = 'u', [26] = 'u', [27] = 'u', [28] = 'u',
	[29] = 'u', [30] = 'u', [31] = 'u', [127] = 'u',
};

long
jw_str(struct sb *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	long repaired = 0;
	size_t i = 0, run, k;
	char *o;

	/* Worst case is 6 output bytes per input byte, plus quotes. */
	if (n > (SIZE_MAX - 2) / 6 || sb_grow(sb, n * 6 + 2) < 0)
		return -1;
	o = sb->buf + sb->len;
	*o++ = '"';
	while (i < n) {
		/* Copy the longest run of plain ASCII in one go. */
		run = i;
#ifdef __SSE2__
		/*
		 * Scan 16 bytes at a time for the first byte that is not plain:
		 * a control byte or one >= 0x80 (both below 0x20 as signed
		 * bytes), a quote, a backslash or DEL.
		 */
		while (run + 16 <= n) {
			__m128i x = _mm_loadu_si128((const __m128i *)(p + run));
			__m128i m = _mm_or_si128(
			    _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
			    _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
			    _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')),
			    _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
			int bits = _mm_movemask_epi8(m);

			if (bits != 0) {
				run += (size_t)__builtin_ctz((unsigned)bits);
				break;
			}
			run += 16;
		}
#endif
		for (; run < n && p[run] < 0x80 && !esc[p[run]]; run++)
			;
		if (run > i) {
			memcpy(o, p + i, run - i);
			o += run - i;
			i = run;
			if (i == n)
				break;
		}
		if (p[i] < 0x80) {
			*o++ = '\\';
			if (esc[p[i]] == 'u') {
				*o++ = 'u'; *o++ = '0'; *o++ = '0';
				*o++ = hex[p[i] >> 4]; *o++ = hex[p[i] & 15];
			} else
				*o++ = esc[p[i]];
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			/* U+FFFD for each invalid byte, as most decoders do. */
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			repaired++;
		} else if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 control: escape so terminals never see it. */
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[p[i + 1] >> 4];
			*o++ = hex[p[i + 1] & 15];
			i += 2;
		} else {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		}
	}
	*o++ = '"';
	sb->len = (size_t)(o - sb->buf);
	sb->buf[sb->len] = '\0';
	return repaired;
}

int
jw_begin(struct jw *w, struct sb *sb)
{
	w->sb = sb;
	w->nfields = 0;
	w->repaired = 0;
	return sb_addc(sb, '{');
}

int
jw_key(struct jw *w, const char *key)
{
	long r;

	if (w->nfields++ && sb_addc(w->sb, ',') < 0)
		return -1;
	if ((r = jw_str(w->sb, key, strlen(key))) < 0)
		return -1;
	w->repaired += r;
	return sb_addc(w->sb, ':');
}

int
jw_field_str(struct jw *w, const char *key, const char *s, size_t n)
{
	long r;

	if (jw_key(w, key) < 0 || (r = jw_str(w->sb, s, n)) < 0)
		return -1;
	w->repaired += r;
	return 0;
}

int
jw_field_cstr(struct jw *w, const char *key, const char *s)
{
	return jw_field_str(w, key, s, strlen(s));
}

int
jw_field_i64(struct jw *w, const char *key, int64_t v)
{
	if (jw_key(w, key) < 0)
		return -1;
	return sb_addf(w->sb, "%" PRId64, v);
}

int
jw_field_u64(struct jw *w, const char *key, uint64_t v)
{
	if (jw_key(w, key) < 0)
		return -1;
	return sb_addf(w->sb, "%" PRIu64, v);
}

int
jw_double(struct sb *sb, double v)
{
	char buf[32];
	int prec;

	if (!isfinite(v))	/* JSON has no NaN or Inf */
		return sb_adds(sb, "null");
	/* The shortest form that reads back to the same double. */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return sb_adds(sb, buf);
}

int
jw_field_double(struct jw *w, const char *key, double v)
{
	if (jw_key(w, key) < 0)
		return -1;
	return jw_double(w->sb, v);
}

int
jw_field_bool(struct jw *w, const char *key, int v)
{
	if (jw_key(w, key) < 0)
		return -1;
	return sb_adds(w->sb, v ? "true" : "false");
}

int
jw_field_raw(struct jw *w, const char *key, const char *raw, size_t n)
{
	if (jw_key(w, key) < 0)
		return -1;
	return sb_add(w->sb, raw, n);
}

int
jw_end(struct jw *w)
{
	return sb_addc(w->sb, '}');
}
