/* logindex.h: logindex's JSON-line field splitter, shared by its main. */
#ifndef LOGINDEX_H
#define LOGINDEX_H

#include <stdlib.h>
#include <json-c/json.h>

#include "../../common/sb.h"

/* A field of the line: name and text value (strings unquoted, numbers as written). */
struct jkv {
	const char *k, *v;
	size_t kn, vn;
	long koff, voff;	/* offsets into scratch, or -1 */
	int quoted;		/* the value was a JSON string */
};

struct jl {
	struct jkv *kv;
	size_t n, cap;
	struct sb scratch;
	struct json_tokener *tok;	/* for nested objects and for errors */
};

/*
 * Split a JSON object line into flat fields (nested objects as dotted
 * names, arrays as JSON text, null as "").  Returns 1, -1 when the line
 * is not a JSON object, -2 when out of memory.
 */
int jl_parse(struct jl *j, const char *s, size_t len);
void jl_free(struct jl *j);

#endif
