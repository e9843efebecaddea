/* jsonl.c: turn a JSON line into flat fields fast (flat objects by hand, nested ones through json-c). */
#include <string.h>

#include "../../common/jv.h"
#include "../../common/qry.h"
#include "../../common/rec.h"
#include "logindex.h"

static const char *
ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static int
hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9') d = c - '0';
		else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
		else return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

static int
put_utf8(struct sb *s, unsigned cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) b[0] = (char)cp, n = 1;
	else if (cp < 0x800) b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000) b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	return sb_add(s, b, n);
}

/*
 * A JSON string at *pp (just past the quote).  Without escapes the value
 * points into the line (*off = -1); else it is decoded into scratch at
 * *off.  Returns 0, or -1 when malformed.
 */
static int
jstr(const char **pp, const char *e, struct sb *scratch, const char **v, size_t *n, long *off)
{
	const char *p = *pp, *start = p;

	/* printable ASCII in big steps, then the bytes >= 0x80 one by one */
	for (;;) {
		p = jv_str_run(p, e);
		if (p >= e || (unsigned char)*p < 0x80)
			break;
		p++;
	}
	if (p < e && *p == '"') {
		*v = start;
		*n = (size_t)(p - start);
		*off = -1;
		*pp = p + 1;
		return 0;
	}
	*off = (long)scratch->len;
	if (sb_add(scratch, start, (size_t)(p - start)) < 0)
		return -1;
	while (p < e && *p != '"') {
		unsigned cp, lo;

		if ((unsigned char)*p < 0x20)
			return -1;
		if (*p != '\\') {
			if (sb_addc(scratch, *p++) < 0)
				return -1;
			continue;
		}
		if (++p >= e)
			return -1;
		switch (*p) {
		case '"': case '\\': case '/': cp = (unsigned char)*p; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (e - p < 5 || hex4(p + 1, &cp) < 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && e - p >= 7 && p[1] == '\\' && p[2] == 'u' &&
			    hex4(p + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;	/* a lone surrogate */
			}
			break;
		default:
			return -1;
		}
		p++;
		if (put_utf8(scratch, cp) < 0)
			return -1;
	}
	if (p >= e)
		return -1;
	*n = scratch->len - (size_t)*off;
	*pp = p + 1;
	return 0;
}

static int
kv_push(struct jl *j)
{
	if (j->n == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 32;
		struct jkv *nv = realloc(j->kv, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		j->kv = nv;
		j->cap = nc;
	}
	j->n++;
	return 0;
}

/* Flat objects only: 1 parsed, 0 needs the general parser, -1 malformed. */
static int
fast(struct jl *j, const char *s, size_t len)
{
	const char *p = s, *e = s + len;

	p = ws(p, e);
	if (p == e || *p++ != '{')
		return -1;
	p = ws(p, e);
	if (p < e && *p == '}')
		return ws(p + 1, e) == e ? 1 : -1;
	for (;;) {
		struct jkv *kv;

		if (p == e || *p++ != '"' || kv_push(j) < 0)
			return -1;
		kv = &j->kv[j->n - 1];
		if (jstr(&p, e, &j->scratch, &kv->k, &kv->kn, &kv->koff) < 0)
			return -1;
		p = ws(p, e);
		if (p == e || *p++ != ':')
			return -1;
		p = ws(p, e);
		if (p == e)
			return -1;
		kv->quoted = 0;
		if (*p == '"') {
			p++;
			kv->quoted = 1;
			if (jstr(&p, e, &j->scratch, &kv->v, &kv->vn, &kv->voff) < 0)
				return -1;
		} else if (*p == '{' || *p == '[') {
			return 0;
		} else {
			const char *st = p;

			while (p < e && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			kv->v = st;
			kv->vn = (size_t)(p - st);
			kv->voff = -1;
			if (kv->vn == 4 && memcmp(st, "null", 4) == 0)
				kv->vn = 0;	/* null reads as "" */
			else if (!(kv->vn == 4 && memcmp(st, "true", 4) == 0) &&
			    !(kv->vn == 5 && memcmp(st, "false", 5) == 0)) {
				/* a number: JSON grammar, checked loosely but without spaces */
				for (const char *q = st; q < p; q++)
					if (!((*q >= '0' && *q <= '9') || *q == '+' || *q == '-' ||
					    *q == '.' || *q == 'e' || *q == 'E'))
						return -1;
				if (kv->vn == 0)
					return -1;
			}
		}
		p = ws(p, e);
		if (p == e)
			return -1;
		if (*p == ',') {
			p = ws(p + 1, e);
			continue;
		}
		if (*p++ != '}')
			return -1;
		return ws(p, e) == e ? 1 : -1;
	}
}

static int
slow(struct jl *j, const char *s, size_t len)
{
	struct json_object *o, *f;
	struct json_object_iterator it, end;

	if (len > (size_t)INT32_MAX - 1 || memchr(s, '\0', len) != NULL)
		return -1;
	json_tokener_reset(j->tok);
	o = json_tokener_parse_ex(j->tok, s, (int)len);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(j->tok) < len) {
		json_object_put(o);
		return -1;
	}
	f = qry_flatten(o);
	json_object_put(o);
	if (f == NULL)
		return -2;
	j->n = 0;
	j->scratch.len = 0;
	it = json_object_iter_begin(f);
	end = json_object_iter_end(f);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		struct jkv *kv;

		if (kv_push(j) < 0) {
			json_object_put(f);
			return -2;
		}
		kv = &j->kv[j->n - 1];
		kv->koff = (long)j->scratch.len;
		kv->kn = strlen(k);
		kv->voff = (long)(j->scratch.len + kv->kn);
		kv->vn = (size_t)json_object_get_string_len(v);
		kv->quoted = 1;
		if (sb_add(&j->scratch, k, kv->kn) < 0 ||
		    sb_add(&j->scratch, json_object_get_string(v), kv->vn) < 0) {
			json_object_put(f);
			return -2;
		}
	}
	json_object_put(f);
	return 1;
}

int
jl_parse(struct jl *j, const char *s, size_t len)
{
	int rc;

	j->n = 0;
	j->scratch.len = 0;
	rc = fast(j, s, len);
	if (rc == 0 || rc == -1)
		rc = slow(j, s, len);	/* json-c decides, and says why */
	if (rc != 1)
		return rc;
	/* scratch may have moved while growing: resolve offsets now */
	for (size_t i = 0; i < j->n; i++) {
		if (j->kv[i].koff >= 0)
			j->kv[i].k = j->scratch.buf + j->kv[i].koff;
		if (j->kv[i].voff >= 0)
			j->kv[i].v = j->scratch.buf + j->kv[i].voff;
	}
	return 1;
}

void
jl_free(struct jl *j)
{
	free(j->kv);
	sb_free(&j->scratch);
	if (j->tok)
		json_tokener_free(j->tok);
}
