/* rec.c: JSON-lines records over json-c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jw.h"
#include "rec.h"

int
rec_reader_init(struct rec_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	if (lr_init(&r->lr, fd, 0) < 0)
		return -1;
	if ((r->tok = json_tokener_new()) == NULL) {
		lr_free(&r->lr);
		errno = ENOMEM;
		return -1;
	}
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT);
	return 0;
}

unsigned long long
rec_lineno(const struct rec_reader *r)
{
	return r->lr.lineno;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int
rec_parse(struct json_tokener *tok, const char *line, size_t len, const char *name,
    unsigned long long lineno, struct json_object **obj, char *err, size_t errsz)
{
	struct json_object *o;
	enum json_tokener_error e;
	size_t used;

	*obj = NULL;
	err[0] = '\0';
	json_tokener_reset(tok);
	if (len > (size_t)INT32_MAX - 1) {
		snprintf(err, errsz, "%s:%llu: line too long for JSON parser", name, lineno);
		return 0;
	}
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errsz, "%s:%llu: NUL byte in line", name, lineno);
		return 0;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	e = json_tokener_get_error(tok);
	if (o == NULL) {
		if (e == json_tokener_continue)
			snprintf(err, errsz, "%s:%llu: truncated JSON", name, lineno);
		else
			snprintf(err, errsz, "%s:%llu: invalid JSON at column %zu: %s", name, lineno,
			    json_tokener_get_parse_end(tok) + 1, json_tokener_error_desc(e));
		return 0;
	}
	used = json_tokener_get_parse_end(tok);
	if (!blank(line + used, len - used)) {
		snprintf(err, errsz, "%s:%llu: trailing data at column %zu", name, lineno, used + 1);
		json_object_put(o);
		return 0;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errsz, "%s:%llu: not a JSON object", name, lineno);
		json_object_put(o);
		return 0;
	}
	*obj = o;
	return 1;
}

int
rec_read(struct rec_reader *r, struct json_object **obj)
{
	const char *line;
	size_t len;
	int rc;

	*obj = NULL;
	do {
		if ((rc = lr_next(&r->lr, &line, &len)) <= 0)
			return rc;
	} while (blank(line, len));
	r->line = line;
	r->len = len;
	rec_parse(r->tok, line, len, r->name, r->lr.lineno, obj, r->err, sizeof(r->err));
	return 1;
}

void
rec_reader_free(struct rec_reader *r)
{
	if (r->tok)
		json_tokener_free(r->tok);
	r->tok = NULL;
	lr_free(&r->lr);
}

long
rec_write_value(struct sb *out, struct json_object *v)
{
	long rep = 0, r;
	const char *s;
	int first = 1;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return sb_adds(out, "null");
	case json_type_string:
		return jw_str(out, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	case json_type_object:
		if (sb_addc(out, '{') < 0)
			return -1;
		json_object_object_foreach(v, k, val) {
			if (!first && sb_addc(out, ',') < 0)
				return -1;
			first = 0;
			if ((r = jw_str(out, k, strlen(k))) < 0 || sb_addc(out, ':') < 0)
				return -1;
			rep += r;
			if ((r = rec_write_value(out, val)) < 0)
				return -1;
			rep += r;
		}
		return sb_addc(out, '}') < 0 ? -1 : rep;
	case json_type_array:
		if (sb_addc(out, '[') < 0)
			return -1;
		for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
			if (i && sb_addc(out, ',') < 0)
				return -1;
			if ((r = rec_write_value(out, json_object_array_get_idx(v, i))) < 0)
				return -1;
			rep += r;
		}
		return sb_addc(out, ']') < 0 ? -1 : rep;
	case json_type_double:
		/* json-c keeps the input text of a parsed double; reuse it
		   so 1.50 stays 1.50, else print the shortest round trip. */
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		return sb_adds(out, s);
	default:	/* int, boolean */
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		return sb_adds(out, s);
	}
}

static const char *const canon[] = { REC_TIME, REC_STREAM, REC_MSG };

long
rec_write(struct sb *out, struct json_object *obj)
{
	struct json_object *v;
	long rep = 0, r;
	int n = 0;

	if (sb_addc(out, '{') < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(obj, canon[i], &v))
			continue;
		if (n++ && sb_addc(out, ',') < 0)
			return -1;
		if (sb_addc(out, '"') < 0 || sb_adds(out, canon[i]) < 0 ||
		    sb_add(out, "\":", 2) < 0 || (r = rec_write_value(out, v)) < 0)
			return -1;
		rep += r;
	}
	json_object_object_foreach(obj, k, val) {
		if (k[0] == '_' && (!strcmp(k, REC_TIME) || !strcmp(k, REC_STREAM) ||
		    !strcmp(k, REC_MSG)))
			continue;
		if (n++ && sb_addc(out, ',') < 0)
			return -1;
		if ((r = jw_str(out, k, strlen(k))) < 0 || sb_addc(out, ':') < 0)
			return -1;
		rep += r;
		if ((r = rec_write_value(out, val)) < 0)
			return -1;
		rep += r;
	}
	if (sb_add(out, "}\n", 2) < 0)
		return -1;
	return rep;
}

const char *
rec_get_str(struct json_object *obj, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

int
rec_set_str(struct json_object *obj, const char *key, const char *s, size_t n)
{
	struct json_object *v;

	if (n > (size_t)INT32_MAX || (v = json_object_new_string_len(s, (int)n)) == NULL)
		return -1;
	return json_object_object_add(obj, key, v);
}

const char *
rec_get_text(struct json_object *obj, const char *key, size_t *len,
    struct sb *tmp)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_string)) {
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	sb_reset(tmp);
	if (json_object_is_type(v, json_type_null))
		return *len = 0, "";
	if (rec_write_value(tmp, v) < 0)
		return NULL;
	*len = tmp->len;
	return tmp->buf;
}
