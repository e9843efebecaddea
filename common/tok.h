/* tok.h: LogsQL word tokenization, shared by query matching and the index's token filters. */
#ifndef LOGKIT_TOK_H
#define LOGKIT_TOK_H

#include <stddef.h>

/*
 * A word (token) is a maximal run of word characters, as VictoriaLogs
 * tokenizes: ASCII letters, digits and '_', plus every non-ASCII code
 * point that Unicode classifies as a letter or digit (taken from the
 * C.UTF-8 locale's iswalnum; if that locale is missing, every valid
 * non-ASCII code point counts as a letter).  Everything else separates
 * words: "foo-bar baz.qux" gives foo, bar, baz, qux.  Invalid UTF-8 bytes
 * are separators.  Tokens are case-sensitive, as in VictoriaLogs.
 *
 * The index must build its token filters with exactly these functions, so
 * that a query's tokens (qry_block_may_match) are found there.  Field
 * values are tokenized in their text form (rec_get_text: numbers as their
 * JSON text, strings as they are).
 */

/*
 * memmem(3), faster on the text logs are made of: 16 positions at a time
 * are kept only where both the needle's first and last bytes match (SSE2),
 * and only those are compared.  glibc's memmem took 0.95 ms to find a
 * rare word in 3 MB of messages, this 0.13 ms.
 */
const char *tok_find(const char *h, size_t hn, const char *needle, size_t n);

/* 1 if the code point is a word character. */
int tok_is_word_rune(unsigned long cp);

/*
 * Length of the word character at s[0..n) (1..4 bytes), or 0 when the
 * byte sequence there is a separator (ASCII punctuation, space, a non-word
 * code point or invalid UTF-8); *sep is set to the length to skip then.
 */
size_t tok_word_char(const char *s, size_t n, size_t *sep);

/*
 * Find the next word in s[0..n) at or after *pos: returns 1 and sets
 * *start, *len and *pos (just past the word), or 0 when none is left.
 */
int tok_next(const char *s, size_t n, size_t *pos, size_t *start, size_t *len);

/*
 * Call cb for every word of s[0..n) in order.  A nonzero return from cb
 * stops the walk and is returned; else 0.
 */
int tok_each(const char *s, size_t n,
    int (*cb)(void *arg, const char *w, size_t wn), void *arg);

/* 1 if s[0..n) is empty-free and consists of exactly one word. */
int tok_is_word(const char *s, size_t n);

/* 1 if a word character starts at s[0..n) / ends just before s+n. */
int tok_starts_word(const char *s, size_t n);
int tok_ends_word(const char *s, size_t n);

#endif
