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

/*
 * jv_object, and also the raw JSON text of the top-level member named
 * key[0..kn) (the last one when the name repeats): *val NULL when absent.
 * Returns 1; 2 when some top-level name holds a backslash escape, so it
 * may spell key (decode the object to be sure); 0 when s is not one JSON
 * object.  Lets a tool read one field (a timestamp) of a line it would
 * otherwise not parse.
 */
int jv_object_field(const char *s, size_t n, const char *key, size_t kn,
    const char **val, size_t *vn);

/*
 * The end of the run of printable ASCII string bytes at s (before end):
 * the first '"', '\\', control byte or byte >= 0x80 (SSE2 when built for
 * it).  For scanners of JSON strings.
 */
const char *jv_str_run(const char *s, const char *end);

#endif
