/* tok.c: LogsQL word tokenization, and the substring search matching uses (see tok.h). */
#define _GNU_SOURCE	/* memmem */
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tok.h"

const char *
tok_find(const char *h, size_t hn, const char *needle, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return h;
	if (hn < n)
		return NULL;
#ifdef __SSE2__
	if (n >= 2) {
		__m128i f = _mm_set1_epi8(needle[0]), l = _mm_set1_epi8(needle[n - 1]);

		for (; i + n - 1 + 16 <= hn; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + n - 1));
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f),
			    _mm_cmpeq_epi8(b, l)));

			while (m != 0) {
				unsigned k = (unsigned)__builtin_ctz(m);

				if (memcmp(h + i + k + 1, needle + 1, n - 2) == 0)
					return h + i + k;
				m &= m - 1;
			}
		}
	}
#endif
	return memmem(h + i, hn - i, needle, n);
}

/* ASCII word bytes: [0-9A-Za-z_]. */
static const unsigned char ascii_word[128] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/*
 * The Unicode classes come from the C.UTF-8 locale object, never from the
 * global locale: a tool's setlocale() must not change what a word is, or
 * the index and the query would disagree.
 */
static locale_t utf8_loc;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void
utf8_init(void)
{
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

int
tok_is_word_rune(unsigned long cp)
{
	if (cp < 128)
		return ascii_word[cp];
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	pthread_once(&utf8_once, utf8_init);
	if (utf8_loc == (locale_t)0)
		return 1;
	return iswalnum_l((wint_t)cp, utf8_loc) != 0;
}

/* Decode one UTF-8 sequence; returns its length or 0 if invalid. */
static size_t
utf8_dec(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len;

	if (s[0] < 0x80)
		return *cp = s[0], 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	/* overlongs and surrogates */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

size_t
tok_word_char(const char *s, size_t n, size_t *sep)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t len;

	if (n == 0)
		return *sep = 0, 0;
	if (u[0] < 0x80) {
		if (ascii_word[u[0]])
			return 1;
		return *sep = 1, 0;
	}
	if ((len = utf8_dec(u, n, &cp)) == 0)
		return *sep = 1, 0;
	if (tok_is_word_rune(cp))
		return len;
	return *sep = len, 0;
}

int
tok_next(const char *s, size_t n, size_t *pos, size_t *start, size_t *len)
{
	size_t i = *pos, w, sep;

	while (i < n) {
		/* fast path over ASCII separators */
		if ((unsigned char)s[i] < 0x80 && !ascii_word[(unsigned char)s[i]]) {
			i++;
			continue;
		}
		if ((w = tok_word_char(s + i, n - i, &sep)) == 0) {
			i += sep;
			continue;
		}
		*start = i;
		i += w;
		while (i < n) {
			if ((unsigned char)s[i] < 0x80) {
				if (!ascii_word[(unsigned char)s[i]])
					break;
				i++;
				continue;
			}
			if ((w = tok_word_char(s + i, n - i, &sep)) == 0)
				break;
			i += w;
		}
		*len = i - *start;
		*pos = i;
		return 1;
	}
	*pos = n;
	return 0;
}

int
tok_each(const char *s, size_t n,
    int (*cb)(void *arg, const char *w, size_t wn), void *arg)
{
	size_t pos = 0, st, len;
	int r;

	while (tok_next(s, n, &pos, &st, &len))
		if ((r = cb(arg, s + st, len)) != 0)
			return r;
	return 0;
}

int
tok_is_word(const char *s, size_t n)
{
	size_t pos = 0, st, len;

	return n > 0 && tok_next(s, n, &pos, &st, &len) && st == 0 && len == n;
}

int
tok_starts_word(const char *s, size_t n)
{
	size_t sep;

	return tok_word_char(s, n, &sep) > 0;
}

int
tok_ends_word(const char *s, size_t n)
{
	size_t i, sep;

	if (n == 0)
		return 0;
	/* back up to the start of the last UTF-8 sequence */
	i = n - 1;
	while (i > 0 && n - i < 4 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return tok_word_char(s + i, n - i, &sep) == n - i;
}
