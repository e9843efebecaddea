/* rec.h: records (JSON objects, one per line) in and out, over json-c. */
#ifndef LOGKIT_REC_H
#define LOGKIT_REC_H

#include <stddef.h>
#include <json-c/json.h>

#include "lr.h"
#include "sb.h"

/* The canonical fields, named as VictoriaLogs names them. */
#define REC_TIME	"_time"
#define REC_MSG		"_msg"
#define REC_STREAM	"_stream"

/*
 * A reader of JSON lines from a file descriptor.  One json_tokener is
 * reused for every line; lines have no length limit.  name is used in
 * messages ("<stdin>" for standard input) and is not copied.
 */
struct rec_reader {
	struct lr lr;
	const char *name;
	struct json_tokener *tok;
	const char *line;	/* raw text of the line just read */
	size_t len;
	char err[256];		/* "NAME:LINE: what" for a malformed line */
};

int rec_reader_init(struct rec_reader *r, int fd, const char *name);
/*
 * Read the next record.  Returns 1 with *obj set (the caller owns it and
 * releases it with json_object_put); 1 with *obj NULL when the line is not
 * a JSON object (r->err says why and where, r->line/r->len hold the raw
 * text); 0 at end of input; -1 on a read error (errno set).  Blank lines
 * are passed over.
 */
int rec_read(struct rec_reader *r, struct json_object **obj);
/*
 * Parse one line (without its '\n') as a JSON object, with the checks
 * and messages of rec_read: 1 with *obj set (the caller owns it); 0 with
 * *obj NULL and "NAME:LINENO: what" in err.  tok is reset first.
 */
int rec_parse(struct json_tokener *tok, const char *line, size_t len, const char *name,
    unsigned long long lineno, struct json_object **obj, char *err, size_t errsz);
/* Line number of the line just read. */
unsigned long long rec_lineno(const struct rec_reader *r);
void rec_reader_free(struct rec_reader *r);

/*
 * Append obj as one line of JSON (with '\n') to out: _time, _stream and
 * _msg first, the other fields in their order.  Strings are escaped by
 * jw_str (controls escaped, invalid UTF-8 repaired).  Returns the count of
 * repaired bytes (>= 0), or -1 when out of memory.
 */
long rec_write(struct sb *out, struct json_object *obj);
/* Append any JSON value the same way (no newline). */
long rec_write_value(struct sb *out, struct json_object *v);

/* The string value of field key, or NULL when absent or not a string. */
const char *rec_get_str(struct json_object *obj, const char *key, size_t *len);
/* Set field key to the string s[0..n).  Returns 0 or -1. */
int rec_set_str(struct json_object *obj, const char *key, const char *s, size_t n);
/*
 * The value of a field as text, the way LogsQL sees it: strings as they
 * are, numbers and booleans in their JSON form, objects and arrays as
 * JSON text.  Writes into *tmp when it has to format; returns NULL when
 * the field is absent.
 */
const char *rec_get_text(struct json_object *obj, const char *key, size_t *len,
    struct sb *tmp);

#endif
