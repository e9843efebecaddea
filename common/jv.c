/* jv.c: JSON object validation by recursive descent over a byte range (see jv.h). */
#include <stdint.h>
#include <string.h>

#include "jv.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct jv {
	const unsigned char *p, *e;
	int depth;
};

static int value(struct jv *v);

static void
ws(struct jv *v)
{
	while (v->p < v->e && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' ||
	    *v->p == '\r'))
		v->p++;
}

/* One UTF-8 sequence starting at a byte >= 0x80 (RFC 3629 table 3-7). */
static int
utf8(struct jv *v)
{
	const unsigned char *p = v->p;
	size_t left = (size_t)(v->e - p);
	unsigned c = p[0];

	if (c >= 0xc2 && c <= 0xdf) {
		if (left < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		v->p += 2;
		return 1;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;	/* overlong, surrogate */
		v->p += 3;
		return 1;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		v->p += 4;
		return 1;
	}
	return 0;
}

static int
hex(unsigned c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

const char *
jv_str_run(const char *s, const char *end)
{
	const unsigned char *p = (const unsigned char *)s, *e = (const unsigned char *)end;

#ifdef __SSE2__
	/*
	 * 16 bytes at a time: a signed compare below 0x20 also catches bytes
	 * >= 0x80, which need the UTF-8 check anyway.
	 */
	while (e - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
		    _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
		int bits = _mm_movemask_epi8(m);

		if (bits)
			return (const char *)p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return (const char *)p;
}

static int
string(struct jv *v)
{
	v->p++;		/* the opening quote */
	for (;;) {
		/* The common run: printable ASCII. */
		v->p = (const unsigned char *)jv_str_run((const char *)v->p, (const char *)v->e);
		if (v->p >= v->e)
			return 0;
		if (*v->p == '"') {
			v->p++;
			return 1;
		}
		if (*v->p == '\\') {
			if (v->e - v->p < 2)
				return 0;
			switch (v->p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				v->p += 2;
				break;
			case 'u':
				if (v->e - v->p < 6 || !hex(v->p[2]) || !hex(v->p[3]) ||
				    !hex(v->p[4]) || !hex(v->p[5]))
					return 0;
				v->p += 6;
				break;
			default:
				v->p++;
				return 0;
			}
			continue;
		}
		if (*v->p < 0x20 || !utf8(v))
			return 0;
	}
}

static int
digits(struct jv *v)
{
	const unsigned char *s = v->p;

	while (v->p < v->e && *v->p >= '0' && *v->p <= '9')
		v->p++;
	return v->p > s;
}

static int
number(struct jv *v)
{
	if (*v->p == '-')
		v->p++;
	if (v->p < v->e && *v->p == '0')
		v->p++;
	else if (!digits(v))
		return 0;
	if (v->p < v->e && *v->p == '.') {
		v->p++;
		if (!digits(v))
			return 0;
	}
	if (v->p < v->e && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->e && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (!digits(v))
			return 0;
	}
	return 1;
}

static int
literal(struct jv *v, const char *w, size_t n)
{
	if ((size_t)(v->e - v->p) < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v->p[i] != (unsigned char)w[i])
			return 0;
	v->p += n;
	return 1;
}

static int
container(struct jv *v, unsigned char close)
{
	if (++v->depth > JV_MAX_DEPTH)
		return 0;
	v->p++;
	ws(v);
	if (v->p < v->e && *v->p == close) {
		v->p++;
		v->depth--;
		return 1;
	}
	for (;;) {
		ws(v);
		if (close == '}') {
			if (v->p >= v->e || *v->p != '"' || !string(v))
				return 0;
			ws(v);
			if (v->p >= v->e || *v->p != ':')
				return 0;
			v->p++;
			ws(v);
		}
		if (!value(v))
			return 0;
		ws(v);
		if (v->p >= v->e)
			return 0;
		if (*v->p == ',') {
			v->p++;
			continue;
		}
		if (*v->p != close)
			return 0;
		v->p++;
		v->depth--;
		return 1;
	}
}

static int
value(struct jv *v)
{
	if (v->p >= v->e)
		return 0;
	switch (*v->p) {
	case '{':
		return container(v, '}');
	case '[':
		return container(v, ']');
	case '"':
		return string(v);
	case 't':
		return literal(v, "true", 4);
	case 'f':
		return literal(v, "false", 5);
	case 'n':
		return literal(v, "null", 4);
	default:
		if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9'))
			return number(v);
		return 0;
	}
}

int
jv_object(const char *s, size_t n, size_t *errpos)
{
	struct jv v = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	ws(&v);
	if (v.p < v.e && *v.p == '{' && container(&v, '}')) {
		ws(&v);
		if (v.p == v.e)
			return 1;
	}
	if (errpos)
		*errpos = (size_t)(v.p - (const unsigned char *)s);
	return 0;
}

int
jv_object_field(const char *s, size_t n, const char *key, size_t kn,
    const char **val, size_t *vn)
{
	struct jv v = { (const unsigned char *)s, (const unsigned char *)s + n, 1 };
	int unsure = 0;

	*val = NULL;
	*vn = 0;
	ws(&v);
	if (v.p >= v.e || *v.p != '{')
		return 0;
	v.p++;
	ws(&v);
	if (v.p < v.e && *v.p == '}') {
		v.p++;
		goto end;
	}
	/* container() for the outermost object, keeping the names */
	for (;;) {
		const unsigned char *k, *at;
		size_t kl;

		ws(&v);
		if (v.p >= v.e || *v.p != '"')
			return 0;
		k = v.p + 1;
		if (!string(&v))
			return 0;
		kl = (size_t)(v.p - 1 - k);
		if (memchr(k, '\\', kl) != NULL)
			unsure = 1;
		ws(&v);
		if (v.p >= v.e || *v.p != ':')
			return 0;
		v.p++;
		ws(&v);
		at = v.p;
		if (!value(&v))
			return 0;
		if (kl == kn && memcmp(k, key, kn) == 0) {
			*val = (const char *)at;
			*vn = (size_t)(v.p - at);
		}
		ws(&v);
		if (v.p >= v.e)
			return 0;
		if (*v.p == ',') {
			v.p++;
			continue;
		}
		if (*v.p != '}')
			return 0;
		v.p++;
		break;
	}
end:
	ws(&v);
	return v.p == v.e ? 1 + unsure : 0;
}
