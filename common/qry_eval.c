/* qry_eval.c: matching records against a filter, and the index push-down (time, stream, blocks, fields). */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "qry_int.h"
#include "rec.h"
#include "tok.h"
#include "ts.h"

/* ---- field access ---- */

/* The text of a JSON value as LogsQL sees it (see qry.h). */
static const char *
value_text(struct json_object *v, size_t *len, struct sb *tmp)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	case json_type_null:
		return *len = 0, "";
	case json_type_double:
	case json_type_int:
	case json_type_boolean: {
		/* json-c keeps the number as it was written in the input */
		const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

		*len = strlen(s);
		return s;
	}
	default:
		sb_reset(tmp);
		if (rec_write_value(tmp, v) < 0)
			return NULL;
		*len = tmp->len;
		return tmp->buf ? tmp->buf : "";
	}
}

/* Look "a.b.c" up in nested objects: each dot may split a key or not. */
static struct json_object *
nested(struct json_object *obj, const char *f, size_t n, int depth)
{
	struct json_object *v;
	char key[256];

	if (depth > 16)
		return NULL;
	for (size_t k = 0; k < n && k < sizeof(key); k++) {
		if (f[k] != '.')
			continue;
		memcpy(key, f, k);
		key[k] = '\0';
		if (json_object_object_get_ex(obj, key, &v) &&
		    json_object_is_type(v, json_type_object)) {
			struct json_object *r;

			if (n - k - 1 < sizeof(key)) {
				memcpy(key, f + k + 1, n - k - 1);
				key[n - k - 1] = '\0';
				if (json_object_object_get_ex(v, key, &r) &&
				    !json_object_is_type(r, json_type_object))
					return r;
			}
			if ((r = nested(v, f + k + 1, n - k - 1, depth + 1)) != NULL)
				return r;
		}
	}
	return NULL;
}

const char *
qry_field_text(struct qry *q, struct json_object *rec, const char *field, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, field, &v)) {
		if (strchr(field, '.') == NULL || (v = nested(rec, field, strlen(field), 0)) == NULL)
			return NULL;
	}
	if (json_object_is_type(v, json_type_object))
		return NULL;	/* flattened away: only its leaves are fields */
	return value_text(v, len, &q->txt);
}

/* ---- text matching ---- */

int
qry_phrase_in(const char *s, size_t n, const char *p, size_t pn, int prefix)
{
	const char *h = s, *m;
	int sw, ew;

	if (pn == 0)
		return prefix ? 1 : n == 0;
	sw = tok_starts_word(p, pn);
	ew = !prefix && tok_ends_word(p, pn);
	while ((size_t)(s + n - h) >= pn && (m = tok_find(h, (size_t)(s + n - h), p, pn)) != NULL) {
		size_t i = (size_t)(m - s);

		h = m + 1;
		if (sw && i > 0 && tok_ends_word(s, i))
			continue;
		if (ew && i + pn < n && tok_starts_word(s + i + pn, n - i - pn))
			continue;
		return 1;
	}
	return 0;
}

static locale_t fold_loc;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void
fold_init(void)
{
	fold_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Lower-case s into out (ASCII always, other letters by C.UTF-8); (size_t)-1 on ENOMEM. */
size_t
qry_fold(const char *s, size_t n, struct sb *out)
{
	sb_reset(out);
	if (sb_grow(out, n + 1) < 0)
		return (size_t)-1;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp;
		size_t l;

		if (c < 0x80) {
			out->buf[out->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			i++;
			continue;
		}
		/* decode; invalid bytes are copied as they are */
		if (c >= 0xC2 && c <= 0xDF)
			l = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			l = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			l = 4, cp = c & 0x07;
		else
			l = 0, cp = 0;
		for (size_t k = 1; k < l; k++) {
			if (i + k >= n || ((unsigned char)s[i + k] & 0xC0) != 0x80) {
				l = 0;
				break;
			}
			cp = cp << 6 | ((unsigned char)s[i + k] & 0x3F);
		}
		if (l == 0) {
			if (sb_addc(out, c) < 0)
				return (size_t)-1;
			i++;
			continue;
		}
		pthread_once(&fold_once, fold_init);
		if (fold_loc != (locale_t)0 && cp <= 0x10FFFF) {
			unsigned long lc = (unsigned long)towlower_l((wint_t)cp, fold_loc);
			char u[4];
			size_t un;

			if (lc < 0x80)
				u[0] = (char)lc, un = 1;
			else if (lc < 0x800)
				u[0] = (char)(0xC0 | lc >> 6), u[1] = (char)(0x80 | (lc & 0x3F)), un = 2;
			else if (lc < 0x10000)
				u[0] = (char)(0xE0 | lc >> 12), u[1] = (char)(0x80 | ((lc >> 6) & 0x3F)),
				u[2] = (char)(0x80 | (lc & 0x3F)), un = 3;
			else
				u[0] = (char)(0xF0 | lc >> 18), u[1] = (char)(0x80 | ((lc >> 12) & 0x3F)),
				u[2] = (char)(0x80 | ((lc >> 6) & 0x3F)),
				u[3] = (char)(0x80 | (lc & 0x3F)), un = 4;
			if (sb_add(out, u, un) < 0)
				return (size_t)-1;
		} else if (sb_add(out, s + i, l) < 0)
			return (size_t)-1;
		i += l;
	}
	out->buf[out->len] = '\0';
	return out->len;
}

int
qry_parse_num(const char *s, size_t n, double *v)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* strtod takes more than numbers: no spaces, hex or nan */
	if (buf[0] == ' ' || buf[0] == '\t' || strpbrk(buf, "xXnN") != NULL) {
		if (strcmp(buf, "inf") && strcmp(buf, "-inf") && strcmp(buf, "+inf"))
			return 0;
	}
	*v = strtod(buf, &end);
	return *end == '\0' && !isnan(*v);
}

/* ---- the filter ---- */

static int
rec_time(struct json_object *rec, int64_t *t)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, REC_TIME, &v))
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		size_t n = (size_t)json_object_get_string_len(v);
		const char *s = json_object_get_string(v);

		return (n > 0 && ts_parse_iso(s, n, t) == n) || (n > 0 && ts_parse_unix(s, n, t) == n);
	}
	if (json_object_is_type(v, json_type_int))
		return ts_from_int(json_object_get_int64(v), t) == 0;
	if (json_object_is_type(v, json_type_double))
		return ts_from_double(json_object_get_double(v), t) == 0;
	return 0;
}

static void
time_window(const struct qry *q, const struct qnode *n, int64_t *a, int64_t *b)
{
	if (!n->rel) {
		*a = n->tmin;
		*b = n->tmax;
		return;
	}
	/* _time:5m is (now-5m, now]; with "offset d" shifted back by d */
	*b = q->now - (n->rel == 2 ? n->tmin : 0);
	*a = *b - n->dur + 1;
}

static int
labels_match(const struct qnode *n, const struct st_labels *l, pcre2_match_data *md)
{
	for (size_t i = 0; i < n->nsm; i++) {
		const struct qsm *m = &n->sm[i];
		const char *v = st_get(l, m->key);
		int r;

		if (v == NULL)
			v = "";
		if (m->op == '=' || m->op == '!')
			r = strcmp(v, m->val) == 0;
		else
			r = pcre2_match(m->re, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL) >= 0;
		if (m->op == '!' || m->op == 'x')
			r = !r;
		if (!r)
			return 0;
	}
	return 1;
}

static int
stream_match(struct qry *q, const struct qnode *n, struct json_object *rec)
{
	size_t len, errpos;
	const char *s = qry_field_text(q, rec, REC_STREAM, &len);

	if (s == NULL)
		s = "", len = 0;
	/* records of one stream come in runs: parse each _stream once */
	if (q->last_stream == NULL || strlen(q->last_stream) != len ||
	    memcmp(q->last_stream, s, len) != 0) {
		char *c = malloc(len + 1);

		if (c == NULL)
			return 0;
		memcpy(c, s, len);
		c[len] = '\0';
		free(q->last_stream);
		q->last_stream = c;
		st_clear(&q->labels);
		q->labels_ok = len == 0 || st_parse(c, len, &q->labels, &errpos) == 0;
	}
	if (!q->labels_ok)
		return 0;
	return labels_match(n, &q->labels, q->md);
}

int
qry_node_match(struct qry *q, const struct qnode *n, struct json_object *rec)
{
	const char *s;
	size_t len;
	double v;
	int64_t t, a, b;

	switch (n->kind) {
	case QF_ALL:
		return 1;
	case QF_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (!qry_node_match(q, n->kids[i], rec))
				return 0;
		return 1;
	case QF_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (qry_node_match(q, n->kids[i], rec))
				return 1;
		return 0;
	case QF_NOT:
		return !qry_node_match(q, n->kids[0], rec);
	case QF_TIME:
		if (!rec_time(rec, &t))
			return 0;
		time_window(q, n, &a, &b);
		return t >= a && t <= b;
	case QF_STREAM:
		return stream_match(q, n, rec);
	default:
		break;
	}
	s = qry_field_text(q, rec, n->field, &len);
	switch (n->kind) {
	case QF_EMPTY:
		return s == NULL || len == 0;
	case QF_ANY:
		return s != NULL && len > 0;
	case QF_REGEX:
		if (s == NULL)
			s = "", len = 0;
		return pcre2_match(n->re, (PCRE2_SPTR)s, len, 0, 0, q->md, NULL) >= 0;
	default:
		break;
	}
	if (s == NULL)
		return 0;
	if (n->icase) {
		if (qry_fold(s, len, &q->fold) == (size_t)-1)
			return 0;
		s = q->fold.buf;
		len = q->fold.len;
	}
	switch (n->kind) {
	case QF_PHRASE:
		return qry_phrase_in(s, len, n->val, n->vlen, 0);
	case QF_PREFIX:
		return qry_phrase_in(s, len, n->val, n->vlen, 1);
	case QF_EXACT:
		return len == n->vlen && memcmp(s, n->val, len) == 0;
	case QF_EXACT_PREFIX:
		return len >= n->vlen && memcmp(s, n->val, n->vlen) == 0;
	case QF_IN:
		for (size_t i = 0; i < n->nvals; i++)
			if (len == n->vlens[i] && memcmp(s, n->vals[i], len) == 0)
				return 1;
		return 0;
	case QF_RANGE:
		if (!qry_parse_num(s, len, &v))
			return 0;
		return (n->lo_incl ? v >= n->lo : v > n->lo) && (n->hi_incl ? v <= n->hi : v < n->hi);
	default:
		return 0;
	}
}

int
qry_match(struct qry *q, struct json_object *rec)
{
	return qry_node_match(q, q->root, rec);
}

/* ---- flattening into the LogsQL data model ---- */

static int
flatten_into(struct json_object *dst, struct json_object *src, struct sb *prefix,
    struct sb *tmp, int depth)
{
	json_object_object_foreach(src, key, v) {
		size_t plen = prefix->len;
		const char *s;
		size_t len;
		int r;

		if (sb_adds(prefix, key) < 0)
			return -1;
		if (json_object_is_type(v, json_type_object) && depth < 32 &&
		    json_object_object_length(v) > 0) {
			r = sb_addc(prefix, '.') < 0 ? -1 : flatten_into(dst, v, prefix, tmp, depth + 1);
		} else if ((s = value_text(v, &len, tmp)) == NULL) {
			r = -1;
		} else {
			struct json_object *js = json_object_new_string_len(s, (int)len);

			r = js == NULL || json_object_object_add(dst, prefix->buf, js) < 0 ? -1 : 0;
		}
		prefix->len = plen;
		if (prefix->buf)
			prefix->buf[plen] = '\0';
		if (r < 0)
			return -1;
	}
	return 0;
}

struct json_object *
qry_flatten(struct json_object *rec)
{
	struct json_object *o = json_object_new_object();
	struct sb prefix = SB_INIT, tmp = SB_INIT;

	if (o != NULL && flatten_into(o, rec, &prefix, &tmp, 0) < 0) {
		json_object_put(o);
		o = NULL;
	}
	sb_free(&prefix);
	sb_free(&tmp);
	return o;
}

/* ---- push-down ---- */

static void
bounds(const struct qry *q, const struct qnode *n, int64_t *a, int64_t *b)
{
	int64_t x, y;

	switch (n->kind) {
	case QF_TIME:
		time_window(q, n, a, b);
		return;
	case QF_AND:
		*a = INT64_MIN, *b = INT64_MAX;
		for (size_t i = 0; i < n->nkids; i++) {
			bounds(q, n->kids[i], &x, &y);
			if (x > *a)
				*a = x;
			if (y < *b)
				*b = y;
		}
		return;
	case QF_OR:
		*a = INT64_MAX, *b = INT64_MIN;
		for (size_t i = 0; i < n->nkids; i++) {
			bounds(q, n->kids[i], &x, &y);
			if (x < *a)
				*a = x;
			if (y > *b)
				*b = y;
		}
		return;
	default:
		*a = INT64_MIN, *b = INT64_MAX;
	}
}

int
qry_time_bounds(const struct qry *q, int64_t *min, int64_t *max)
{
	bounds(q, q->root, min, max);
	return *min <= *max;
}

/* Three-valued judgement of a filter over a set of records. */
enum tri { T_NONE, T_SOME, T_ALL };

struct judge {
	enum tri t;
	enum qry_skip why;
};

static struct judge
J(enum tri t, enum qry_skip why)
{
	struct judge j = { t, why };

	return j;
}

struct tokctx {
	const struct qry_block *b;
	const char *field;
	int missing;
	int skip_last;		/* the last word is a prefix, not a whole word */
	const char *end;
};

static int
tok_probe(void *arg, const char *w, size_t wn)
{
	struct tokctx *c = arg;

	if (c->skip_last && w + wn == c->end)
		return 0;
	if (!c->b->has_token(c->b->ctx, c->field, w, wn)) {
		c->missing = 1;
		return 1;
	}
	return 0;
}

/* 0 if some word of s[0..n) is certainly absent from field in the block. */
static int
words_may(const struct qry_block *b, const char *field, const char *s, size_t n, int prefix,
    int word1)
{
	struct tokctx c = { b, field, 0, 0, s + n };

	if (b->has_token == NULL)
		return 1;
	if (word1)	/* one word: itself, unless it is only a prefix */
		return prefix || b->has_token(b->ctx, field, s, n);
	c.skip_last = prefix && tok_ends_word(s, n);
	tok_each(s, n, tok_probe, &c);
	return !c.missing;
}

static const struct st_labels empty_labels;

static struct judge
judge(const struct qry *q, const struct qnode *n, const struct qry_block *b)
{
	struct judge j, r;
	int64_t x, y;
	double lo, hi;

	switch (n->kind) {
	case QF_ALL:
		return J(T_ALL, 0);
	case QF_AND:
		r = J(T_ALL, 0);
		for (size_t i = 0; i < n->nkids; i++) {
			j = judge(q, n->kids[i], b);
			if (j.t == T_NONE)
				return j;
			if (j.t == T_SOME)
				r.t = T_SOME;
		}
		return r;
	case QF_OR:
		r = J(T_NONE, 0);
		for (size_t i = 0; i < n->nkids; i++) {
			j = judge(q, n->kids[i], b);
			if (j.t == T_ALL)
				return j;
			if (j.t == T_SOME)
				r.t = T_SOME;
			else if (r.why == 0)
				r.why = j.why;
		}
		return r;
	case QF_NOT:
		j = judge(q, n->kids[0], b);
		/* "not (all match)" is none; the reason is the inner filter's kind */
		if (j.t == T_ALL)
			return J(T_NONE, n->kids[0]->kind == QF_TIME ? QRY_SKIP_TIME : QRY_SKIP_STREAM);
		return J(j.t == T_NONE ? T_ALL : T_SOME, 0);
	case QF_TIME:
		time_window(q, n, &x, &y);
		if (b->tmax < x || b->tmin > y)
			return J(T_NONE, QRY_SKIP_TIME);
		if (b->tmin >= x && b->tmax <= y)
			return J(T_ALL, 0);
		return J(T_SOME, 0);
	case QF_STREAM: {
		struct qry *mq = (struct qry *)q;	/* match data only */

		if (b->stream == NULL)
			return J(T_SOME, 0);
		return labels_match(n, b->stream, mq->md) ? J(T_ALL, 0) : J(T_NONE, QRY_SKIP_STREAM);
	}
	default:
		break;
	}
	/* the index keeps no token filters for _time and _stream */
	if (n->special)
		return J(T_SOME, 0);
	if (n->kind == QF_EMPTY)
		return b->has_field && !b->has_field(b->ctx, n->field) ? J(T_ALL, 0) : J(T_SOME, 0);
	if (n->kind == QF_REGEX)
		return J(T_SOME, 0);
	if (n->kind != QF_RANGE && n->vlen == 0 && n->kind != QF_ANY && n->kind != QF_IN)
		return J(T_SOME, 0);	/* "x"* with an empty prefix, ="" */
	if (b->has_field && !b->has_field(b->ctx, n->field))
		return J(T_NONE, QRY_SKIP_FIELD);
	if (n->icase)
		return J(T_SOME, 0);
	switch (n->kind) {
	case QF_PHRASE:
	case QF_EXACT:
		return words_may(b, n->field, n->val, n->vlen, 0, n->word1) ? J(T_SOME, 0) :
		    J(T_NONE, QRY_SKIP_TOKEN);
	case QF_PREFIX:
	case QF_EXACT_PREFIX:
		return words_may(b, n->field, n->val, n->vlen, 1, n->word1) ? J(T_SOME, 0) :
		    J(T_NONE, QRY_SKIP_TOKEN);
	case QF_IN:
		for (size_t i = 0; i < n->nvals; i++)
			if (words_may(b, n->field, n->vals[i], n->vlens[i], 0, 0))
				return J(T_SOME, 0);
		return J(T_NONE, n->nvals ? QRY_SKIP_TOKEN : QRY_SKIP_FIELD);
	case QF_RANGE:
		if (b->num_range && b->num_range(b->ctx, n->field, &lo, &hi)) {
			if (lo > hi)
				return J(T_NONE, QRY_SKIP_RANGE);
			if ((n->hi_incl ? lo > n->hi : lo >= n->hi) ||
			    (n->lo_incl ? hi < n->lo : hi <= n->lo))
				return J(T_NONE, QRY_SKIP_RANGE);
		}
		return J(T_SOME, 0);
	default:
		return J(T_SOME, 0);
	}
}

int
qry_block_may_match(const struct qry *q, const struct qry_block *b, enum qry_skip *why)
{
	struct judge j = judge(q, q->root, b);

	if (why)
		*why = j.t == T_NONE ? (j.why ? j.why : QRY_SKIP_TOKEN) : QRY_SKIP_NONE;
	return j.t != T_NONE;
}

int
qry_block_judge(const struct qry *q, const struct qry_block *b, enum qry_skip *why)
{
	struct judge j = judge(q, q->root, b);

	if (why)
		*why = j.t == T_NONE ? (j.why ? j.why : QRY_SKIP_TOKEN) : QRY_SKIP_NONE;
	return j.t == T_NONE ? 0 : j.t == T_SOME ? 1 : 2;
}

/* A word every record that n matches holds in its field: n itself, or a kid of an AND. */
static const struct qnode *
needed_word(const struct qnode *n)
{
	const struct qnode *w;

	switch (n->kind) {
	case QF_PHRASE:
	case QF_PREFIX:
	case QF_EXACT:
	case QF_EXACT_PREFIX:
		return n->vlen > 0 && !n->icase && !n->special ? n : NULL;
	case QF_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if ((w = needed_word(n->kids[i])) != NULL)
				return w;
		return NULL;
	default:
		return NULL;
	}
}

int
qry_needed_text(const struct qry *q, const char **field, const char **text, size_t *n)
{
	const struct qnode *w = needed_word(q->root);

	if (w == NULL)
		return 0;
	*field = w->field;
	*text = w->val;
	*n = w->vlen;
	return 1;
}

int
qry_stream_may_match(const struct qry *q, const struct st_labels *labels)
{
	struct qry_block b = { INT64_MIN, INT64_MAX, labels ? labels : &empty_labels,
		NULL, NULL, NULL, NULL };

	return judge(q, q->root, &b).t != T_NONE;
}

/* ---- fields a query reads ---- */

static int
name_add(char ***names, size_t *n, const char *f)
{
	char **v;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*names)[i], f) == 0)
			return 0;
	if ((v = realloc(*names, (*n + 1) * sizeof(*v))) == NULL)
		return -1;
	*names = v;
	if ((v[*n] = strdup(f)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int
field_add(struct qry *q, const char *f)
{
	return name_add(&q->fnames, &q->nfnames, f);
}

static int
node_fields(struct qry *q, const struct qnode *n)
{
	if (n == NULL)
		return 0;
	for (size_t i = 0; i < n->nkids; i++)
		if (node_fields(q, n->kids[i]) < 0)
			return -1;
	if (n->field)
		return field_add(q, n->field);
	return 0;
}

void
qry_compute_fields(struct qry *q)
{
	size_t i = q->npipes;
	int all = 1;

	/*
	 * Walk the pipes backwards: a pipe that builds new records (fields,
	 * stats, top, uniq) ends the need for "every field"; the pipes before
	 * it add what they read.
	 */
	while (i-- > 0) {
		const struct qpipe *pp = &q->pipes[i];

		switch (pp->kind) {
		case QP_FIELDS:
		case QP_STATS:
		case QP_TOP:
		case QP_UNIQ:
			if (all) {
				/* only the fields of this pipe, then those of earlier ones */
				for (size_t k = 0; k < q->nfnames; k++)
					free(q->fnames[k]);
				q->nfnames = 0;
				all = 0;
			}
			if (pp->kind == QP_FIELDS && i + 1 < q->npipes) {
				/* a later pipe may have asked for fields this one drops: fine */
			}
			for (size_t k = 0; k < pp->nkeys; k++)
				if (field_add(q, pp->keys[k].field) < 0)
					goto oom;
			for (size_t k = 0; k < pp->nst; k++)
				if (pp->st[k].field && field_add(q, pp->st[k].field) < 0)
					goto oom;
			break;
		case QP_SORT:
			for (size_t k = 0; k < pp->nkeys; k++)
				if (field_add(q, pp->keys[k].field) < 0)
					goto oom;
			break;
		case QP_FILTER:
			if (node_fields(q, pp->filter) < 0)
				goto oom;
			break;
		default:
			break;
		}
	}
	if (node_fields(q, q->root) < 0)
		goto oom;
	q->fall = all;
	if (q->npipes > 0 && q->pipes[0].kind == QP_STATS) {
		const struct qpipe *pp = &q->pipes[0];

		for (size_t k = 0; k < pp->nkeys; k++)
			if (name_add(&q->wnames, &q->nwnames, pp->keys[k].field) < 0)
				goto oom;
		for (size_t k = 0; k < pp->nst; k++)
			if (pp->st[k].field && name_add(&q->wnames, &q->nwnames, pp->st[k].field) < 0)
				goto oom;
	}
	return;
oom:
	q->fall = 1;	/* reading everything is always correct */
	q->wbad = 1;	/* and no weighted runs: wnames may lack a field */
}

void
qry_fields(const struct qry *q, int *all, const char *const **names, size_t *n)
{
	*all = q->fall;
	*names = (const char *const *)q->fnames;
	*n = q->nfnames;
}
