/* jw.h: append JSON text to a buffer: escaped strings, objects, UTF-8 repair. */
#ifndef LOGKIT_JW_H
#define LOGKIT_JW_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/*
 * jw_str appends s[0..n) as a quoted JSON string.  Quote, backslash,
 * every C0 control, DEL and the C1 controls (U+0080..U+009F) are
 * escaped, so the output is safe to show on a terminal.  Bytes that are
 * not valid UTF-8 (including NUL-free overlongs and surrogates) become
 * U+FFFD.  Returns the number of replaced bytes (>= 0), or -1 when out
 * of memory.
 */
long jw_str(struct sb *sb, const char *s, size_t n);

/* Append a double in its shortest round-trip form; NaN and Inf as null. */
int jw_double(struct sb *sb, double v);

/* 1 if s[0..n) is valid UTF-8 (RFC 3629), else 0. */
int jw_utf8_valid(const char *s, size_t n);

/*
 * An object under construction: jw_begin, then fields, then jw_end.
 * Keys are escaped like values.  All return 0 or -1 (ENOMEM); the
 * repaired-byte count of string values accumulates in jw->repaired.
 */
struct jw {
	struct sb *sb;
	int nfields;
	long repaired;
};

int jw_begin(struct jw *w, struct sb *sb);
int jw_key(struct jw *w, const char *key);
int jw_field_str(struct jw *w, const char *key, const char *s, size_t n);
int jw_field_cstr(struct jw *w, const char *key, const char *s);
int jw_field_i64(struct jw *w, const char *key, int64_t v);
int jw_field_u64(struct jw *w, const char *key, uint64_t v);
int jw_field_double(struct jw *w, const char *key, double v);
int jw_field_bool(struct jw *w, const char *key, int v);
/* raw must already be valid JSON text. */
int jw_field_raw(struct jw *w, const char *key, const char *raw, size_t n);
int jw_end(struct jw *w);

#endif
