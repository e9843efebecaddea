/* tok.c: table tests for LogsQL word tokenization. */
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
	return t_done();
}
