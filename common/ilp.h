/* ilp.h: InfluxDB line protocol: escaping of names and values, numbers. */
#ifndef LOGKIT_ILP_H
#define LOGKIT_ILP_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/*
 * What the line protocol escapes with a backslash (InfluxDB 1.x
 * "Line protocol syntax", 2.x "Line protocol" reference):
 *   measurement:                        comma, space
 *   tag key, tag value, field key:      comma, equals sign, space
 *   string field value (in "..."):      double quote, backslash
 * A newline cannot appear raw anywhere (it ends the line) and has no
 * escape: it is written as the two characters backslash, 'n', which
 * InfluxDB stores as they are.  In names a backslash is not escaped, so a
 * name whose odd run of backslashes stands before an escaped character
 * or at the end cannot be written at all (InfluxDB reads the run as
 * escapes): those return ILP_UNREPRESENTABLE.
 */
enum { ILP_MEASUREMENT, ILP_TAG, ILP_FIELD_KEY };	/* tag key and value alike */
#define ILP_UNREPRESENTABLE 1

/* Append s[0..n) escaped for kind.  0, ILP_UNREPRESENTABLE, or -1 (ENOMEM). */
int ilp_name(struct sb *out, const char *s, size_t n, int kind);
/* Append "s" with '"' and '\\' escaped, newline as \n.  0 or -1. */
int ilp_string(struct sb *out, const char *s, size_t n);
/* Integers carry the 'i' suffix: 42i.  0 or -1. */
int ilp_int(struct sb *out, int64_t v);
/* Floats in shortest round-trip form ("1.5", "1e+21"); NaN and infinities
   have no line protocol form: ILP_UNREPRESENTABLE.  0 or -1. */
int ilp_float(struct sb *out, double v);

#endif
