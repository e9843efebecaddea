/* tok.c: table tests for LogsQL word tokenization, and tok_find against memmem. */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>

#include "../../common/sb.h"
#include "../../common/tok.h"
#include "t.h"

static int
join(void *arg, const char *w, size_t n)
{
	struct sb *s = arg;

	if (s->len)
		sb_addc(s, '|');
	sb_add(s, w, n);
	return 0;
}

/*
 * tok_find answers as memmem does: every needle length from 1 to 40 at
 * every offset of haystacks from 0 to 70 bytes (the 16-byte steps and the
 * tail after them), over a small alphabet so that near misses abound.
 */
static void
find_agrees(void)
{
	char h[80], nd[48];
	unsigned long x = 12345;
	long bad = 0, tried = 0;

	for (int round = 0; round < 40; round++)
		for (size_t hn = 0; hn <= 70; hn++)
			for (size_t n = 0; n <= 40; n++) {
				const char *a, *b;

				for (size_t i = 0; i < hn; i++) {
					x = x * 6364136223846793005UL + 1442695040888963407UL;
					h[i] = "abc"[(x >> 33) % 3];
				}
				/* half the time, plant the needle at a random place */
				for (size_t i = 0; i < n; i++) {
					x = x * 6364136223846793005UL + 1442695040888963407UL;
					nd[i] = "abc"[(x >> 33) % 3];
				}
				if (n <= hn && round % 2 == 0)
					memcpy(h + (x >> 40) % (hn - n + 1), nd, n);
				a = tok_find(h, hn, nd, n);
				b = memmem(h, hn, nd, n);
				tried++;
				bad += a != b;
			}
	ok(bad == 0, "tok_find agrees with memmem: %ld of %ld differ", bad, tried);
	ok(tok_find("xxcoredump", 10, "coredump", 8) != NULL && tok_find("coredum", 7, "coredump", 8) == NULL,
	    "tok_find at the end, and a needle longer than the haystack");
}

int
main(void)
{
	static const struct { const char *in, *want; } c[] = {
		{ "foo-bar baz.qux", "foo|bar|baz|qux" },
		{ "", "" },
		{ "   ,;!", "" },
		{ "user_id=42 ok", "user_id|42|ok" },
		{ "ee0368b3-0b89-4cb1", "ee0368b3|0b89|4cb1" },
		{ "Grüße, мир! 日本語", "Grüße|мир|日本語" },
		{ "a\xff" "b", "a|b" },
		{ "x\xc3", "x" },
		{ "2025-05-17T04:44:04.545Z", "2025|05|17T04|44|04|545Z" },
		{ "€uro", "uro" },
		{ "/dev/sda1", "dev|sda1" },
	};
	struct sb s = SB_INIT;

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		sb_reset(&s);
		sb_grow(&s, 1);
		tok_each(c[i].in, strlen(c[i].in), join, &s);
		is_str(s.buf, c[i].want, "tokens of '%s'", c[i].in);
	}
	ok(tok_is_word("abc", 3) && !tok_is_word("a b", 3) && !tok_is_word("", 0), "tok_is_word");
	ok(tok_starts_word("é", 2) && !tok_starts_word("-a", 2), "tok_starts_word");
	ok(tok_ends_word("aé", 3) && !tok_ends_word("a-", 2), "tok_ends_word");
	sb_free(&s);
	find_agrees();
	return t_done();
}
