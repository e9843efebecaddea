/* stream.h: stream labels and the _stream field, "{k="v",...}" as VictoriaLogs writes it. */
#ifndef LOGKIT_STREAM_H
#define LOGKIT_STREAM_H

#include <stddef.h>

#include "sb.h"

struct st_label {
	char *key;
	char *val;
};

/* A set of labels; keys are unique (a later set replaces the value). */
struct st_labels {
	struct st_label *v;
	size_t n, cap;
};

/* Set key to val[0..vn); returns 0 or -1 (ENOMEM). */
int st_set(struct st_labels *l, const char *key, const char *val, size_t vn);
const char *st_get(const struct st_labels *l, const char *key);
void st_sort(struct st_labels *l);
void st_clear(struct st_labels *l);
void st_free(struct st_labels *l);

/*
 * Append "{a="x",b="y"}" to out, keys sorted, values quoted with
 * backslash escapes for '"', '\\' and control characters (as VictoriaLogs
 * prints _stream).  The labels are sorted in place.  Returns 0 or -1.
 */
int st_format(struct st_labels *l, struct sb *out);
/*
 * Parse "{a="x",b="y"}" (the form st_format writes; whitespace allowed).
 * Returns 0, or -1 with *errpos set to the offset of the first bad byte
 * (labels parsed before it stay in l).
 */
int st_parse(const char *s, size_t n, struct st_labels *l, size_t *errpos);

#endif
