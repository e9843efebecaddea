/* jv.h: a fast, allocation-free check that a line is exactly one JSON object (RFC 8259). */
#ifndef LOGKIT_JV_H
#define LOGKIT_JV_H

#include <stddef.h>

/*
 * 1 when s[0..n) is one JSON object, optionally surrounded by blanks,
 * with valid UTF-8 (RFC 3629) and no raw control characters in strings,
 * nested at most JV_MAX_DEPTH deep; else 0 with *errpos (when not NULL)
 * set to the offset of the first offending byte.  Lets a tool pass a
 * well-formed line through as text instead of parsing and re-printing it.
 */
#define JV_MAX_DEPTH 200
int jv_object(const char *s, size_t n, size_t *errpos);

#endif
