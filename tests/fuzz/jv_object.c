/* jv_object.c: fuzz target for jv_object, checked against json-c: what jv accepts, json-c parses as one object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "../../common/jv.h"
#include "../../common/jw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t at = 0;

	if (size > 65536)
		return 0;
	if (!jv_object((const char *)data, size, &at)) {
		if (at > size)
			abort();
		return 0;
	}
	/* Accepted text is valid UTF-8 and one object per json-c too. */
	if (!jw_utf8_valid((const char *)data, size))
		abort();
	tok = json_tokener_new_ex(JV_MAX_DEPTH + 2);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);	/* a number at the end needs a push */
	if (o == NULL || !json_object_is_type(o, json_type_object))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
	return 0;
}
