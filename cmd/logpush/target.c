/* target.c: each target's wire form (VictoriaLogs, Loki, InfluxDB, Elasticsearch) and answers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "../../common/ilp.h"
#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../../common/stream.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logpush.h"

static void
oom_if(int rc)
{
	if (rc < 0)
		die(EXIT_FATAL, "out of memory");
}

json_object *
lp_parse(const char *s, size_t n)
{
	json_tokener *t = json_tokener_new();
	json_object *o;

	if (!t)
		die(EXIT_FATAL, "out of memory");
	o = json_tokener_parse_ex(t, s, (int)n);
	if (o && json_tokener_get_parse_end(t) != n) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

static int64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The record's _time (RFC 3339 text or a unix number), else now. */
static int64_t
rec_ts(json_object *obj)
{
	json_object *v;
	int64_t ns;

	if (json_object_object_get_ex(obj, REC_TIME, &v)) {
		if (json_object_is_type(v, json_type_string)) {
			const char *s = json_object_get_string(v);
			size_t n = (size_t)json_object_get_string_len(v);

			if (ts_parse_iso(s, n, &ns) == n || ts_parse_unix(s, n, &ns) == n)
				return ns;
		} else if (json_object_is_type(v, json_type_int)) {
			if (ts_from_int(json_object_get_int64(v), &ns) == 0)
				return ns;
		} else if (json_object_is_type(v, json_type_double)) {
			if (ts_from_double(json_object_get_double(v), &ns) == 0)
				return ns;
		}
	}
	return now_ns();
}

/* Stream labels: _stream parsed, then --stream-fields from the record. */
int
tg_labels(const struct opts *o, json_object *obj, struct st_labels *l, char *why,
    size_t whysz)
{
	const char *s;
	size_t n, errpos;
	struct sb tmp = SB_INIT;

	if ((s = rec_get_str(obj, REC_STREAM, &n)) != NULL && st_parse(s, n, l, &errpos) < 0) {
		snprintf(why, whysz, "_stream: bad label syntax at offset %zu", errpos);
		return 1;
	}
	for (size_t i = 0; i < o->nstream_fields; i++) {
		const char *v = rec_get_text(obj, o->stream_fields[i], &n, &tmp);

		if (v)
			oom_if(st_set(l, o->stream_fields[i], v, n));
	}
	sb_free(&tmp);
	st_sort(l);
	return 0;
}

static struct ent *
new_ent(struct batch *b, const char *raw, size_t rawlen)
{
	struct ent *e;

	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->e = xrealloc(b->e, b->cap * sizeof(*b->e));
	}
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->raw = b->raw.len;
	e->rawlen = rawlen;
	oom_if(sb_add(&b->raw, raw, rawlen));
	e->enc = b->enc.len;
	return e;
}

static void
add_skey(struct batch *b, const char *k)
{
	for (size_t i = 0; i < b->nskeys; i++)
		if (strcmp(b->skeys[i], k) == 0)
			return;
	b->skeys = xrealloc(b->skeys, (b->nskeys + 1) * sizeof(*b->skeys));
	b->skeys[b->nskeys++] = xstrdup(k);
}

/* VictoriaLogs: labels become fields named in _stream_fields. */
static int
add_vl(const struct opts *o, struct batch *b, json_object *obj, struct ent *e,
    char *why, size_t whysz)
{
	struct st_labels l = { 0 };

	if (tg_labels(o, obj, &l, why, whysz))
		return 1;
	json_object_object_del(obj, REC_STREAM);
	for (size_t i = 0; i < l.n; i++) {
		if (!json_object_object_get_ex(obj, l.v[i].key, NULL))
			oom_if(rec_set_str(obj, l.v[i].key, l.v[i].val, strlen(l.v[i].val)));
		add_skey(b, l.v[i].key);
	}
	st_free(&l);
	oom_if((int)rec_write(&b->enc, obj));
	e->enclen = b->enc.len - e->enc;
	return 0;
}

/* Loki: ["ns","line"] in enc, the labels object as the key. */
static int
add_loki(const struct opts *o, struct batch *b, json_object *obj, struct ent *e,
    char *why, size_t whysz)
{
	struct st_labels l = { 0 };
	struct jw w;
	struct sb line = SB_INIT;
	const char *msg;
	size_t n;

	if (tg_labels(o, obj, &l, why, whysz))
		return 1;
	if (l.n == 0) {
		snprintf(why, whysz, "no stream labels (Loki needs one; see --stream-fields)");
		st_free(&l);
		return 1;
	}
	e->key = b->enc.len;
	oom_if(jw_begin(&w, &b->enc));
	for (size_t i = 0; i < l.n; i++)
		oom_if(jw_field_cstr(&w, l.v[i].key, l.v[i].val));
	oom_if(jw_end(&w));
	e->keylen = b->enc.len - e->key;
	st_free(&l);
	e->enc = b->enc.len;
	if (!o->loki_json && (msg = rec_get_str(obj, REC_MSG, &n)) != NULL)
		oom_if(sb_add(&line, msg, n));
	else {
		oom_if((int)rec_write(&line, obj));
		line.len--;	/* the newline */
	}
	oom_if(sb_addf(&b->enc, "[\"%lld\",", (long long)e->ts));
	oom_if((int)jw_str(&b->enc, line.buf ? line.buf : "", line.len));
	oom_if(sb_addc(&b->enc, ']'));
	e->enclen = b->enc.len - e->enc;
	sb_free(&line);
	return 0;
}

/*
 * InfluxDB keeps one point per series and timestamp: a second record of
 * the same series at the same nanosecond would overwrite the first.  A
 * small table of series -> last timestamp moves such a record 1 ns on.
 */
#define SERIES_SLOTS 4096
static struct { uint64_t h; int64_t ts; } series[SERIES_SLOTS];

static int64_t
unique_ts(const char *key, size_t n, int64_t ts)
{
	uint64_t h = XXH3_64bits(key, n) | 1;
	size_t i = (size_t)(h % SERIES_SLOTS);

	if (series[i].h == h && ts <= series[i].ts && ts > series[i].ts - 1000000)
		ts = series[i].ts + 1;
	series[i].h = h;
	series[i].ts = ts;
	return ts;
}

static int
is_tag(const struct opts *o, const char *k)
{
	for (size_t i = 0; i < o->ntags; i++)
		if (strcmp(o->tags[i], k) == 0)
			return 1;
	return 0;
}

/* InfluxDB reserves "time" as a key: written as "time_". */
static int
ilp_key(struct sb *out, const char *k, int kind)
{
	if (strcmp(k, "time") == 0)
		k = "time_";
	return ilp_name(out, k, strlen(k), kind);
}

static int
add_influx(const struct opts *o, struct batch *b, json_object *obj, struct ent *e,
    char *why, size_t whysz)
{
	struct st_labels l = { 0 };
	struct sb tmp = SB_INIT;
	size_t nf = 0, start = b->enc.len, keyend;
	int rc;

	if (tg_labels(o, obj, &l, why, whysz))
		return 1;
	for (size_t i = 0; i < o->ntags; i++) {
		size_t n;
		const char *v = rec_get_text(obj, o->tags[i], &n, &tmp);

		if (v && n)	/* the line protocol has no empty tag values */
			oom_if(st_set(&l, o->tags[i], v, n));
	}
	st_sort(&l);
	rc = ilp_name(&b->enc, o->measurement, strlen(o->measurement), ILP_MEASUREMENT);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (!*l.v[i].val)
			continue;
		oom_if(sb_addc(&b->enc, ','));
		if ((rc = ilp_key(&b->enc, l.v[i].key, ILP_TAG)) == 0 &&
		    (rc = sb_addc(&b->enc, '=')) == 0)
			rc = ilp_name(&b->enc, l.v[i].val, strlen(l.v[i].val), ILP_TAG);
		if (rc > 0)
			snprintf(why, whysz, "tag %s: a backslash the line protocol cannot carry",
			    l.v[i].key);
	}
	keyend = b->enc.len;
	json_object_object_foreach(obj, k, v) {
		if (rc)
			break;
		if (strcmp(k, REC_TIME) == 0 || strcmp(k, REC_STREAM) == 0 || is_tag(o, k) ||
		    v == NULL || !*k)
			continue;
		oom_if(sb_addc(&b->enc, nf++ ? ',' : ' '));
		if ((rc = ilp_key(&b->enc, k, ILP_FIELD_KEY)) > 0) {
			snprintf(why, whysz, "field %s: a backslash the line protocol cannot carry", k);
			break;
		}
		oom_if(rc);
		oom_if(sb_addc(&b->enc, '='));
		switch (json_object_get_type(v)) {
		case json_type_int:
			/* json-c saturates beyond int64: such numbers go as floats */
			if (json_object_get_int64(v) == INT64_MAX || json_object_get_int64(v) == INT64_MIN)
				rc = ilp_float(&b->enc, json_object_get_double(v));
			else
				rc = ilp_int(&b->enc, json_object_get_int64(v));
			break;
		case json_type_double:
			rc = ilp_float(&b->enc, json_object_get_double(v));
			break;
		case json_type_boolean:
			rc = sb_adds(&b->enc, json_object_get_boolean(v) ? "true" : "false");
			break;
		case json_type_string:
			rc = ilp_string(&b->enc, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
			break;
		default:
			tmp.len = 0;
			oom_if((int)rec_write_value(&tmp, v));
			rc = ilp_string(&b->enc, tmp.buf, tmp.len);
		}
		oom_if(rc);
	}
	if (rc == 0 && nf == 0) {
		snprintf(why, whysz, "no fields (the line protocol needs one)");
		rc = 1;
	}
	st_free(&l);
	sb_free(&tmp);
	if (rc) {
		b->enc.len = start;
		return 1;
	}
	e->ts = unique_ts(b->enc.buf + start, keyend - start, e->ts);
	oom_if(sb_addf(&b->enc, " %lld\n", (long long)e->ts));
	e->enclen = b->enc.len - e->enc;
	return 0;
}

/* Elasticsearch: action line + document, @timestamp copied from _time. */
static int
add_es(const struct opts *o, struct batch *b, json_object *obj, struct ent *e)
{
	char t[TS_BUFSZ];
	size_t n = ts_format(e->ts, t);

	oom_if(sb_adds(&b->enc, "{\"create\":{\"_index\":"));
	oom_if((int)jw_str(&b->enc, o->index, strlen(o->index)));
	oom_if(sb_adds(&b->enc, "}}\n"));
	oom_if(rec_set_str(obj, "@timestamp", t, n));
	oom_if((int)rec_write(&b->enc, obj));
	e->enclen = b->enc.len - e->enc;
	return 0;
}

int
tg_add(const struct opts *o, struct batch *b, json_object *obj, const char *raw,
    size_t rawlen, char *why, size_t whysz)
{
	size_t start = b->enc.len;
	struct ent *e = new_ent(b, raw, rawlen);
	int rc = 0;

	e->ts = rec_ts(obj);
	switch (o->to) {
	case T_VL:
		rc = add_vl(o, b, obj, e, why, whysz);
		break;
	case T_LOKI:
		rc = add_loki(o, b, obj, e, why, whysz);
		break;
	case T_INFLUX:
		rc = add_influx(o, b, obj, e, why, whysz);
		break;
	case T_ES:
		rc = add_es(o, b, obj, e);
		break;
	}
	if (rc) {	/* not added: the raw text goes back too */
		b->raw.len = e->raw;
		b->enc.len = start;
		return 1;
	}
	b->bytes += e->enclen + e->keylen;
	b->n++;
	return 0;
}

static void
url_escape(struct sb *u, const char *s)
{
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			oom_if(sb_addc(u, *s));
		else
			oom_if(sb_addf(u, "%%%02X", (unsigned char)*s));
	}
}

static const char *
base_url(const struct opts *o, size_t *n)
{
	*n = strlen(o->url);
	while (*n > 0 && o->url[*n - 1] == '/')
		(*n)--;
	return o->url;
}

static const struct batch *sort_b;

static int
loki_cmp(const void *a, const void *b)
{
	const struct ent *x = &sort_b->e[*(const size_t *)a], *y = &sort_b->e[*(const size_t *)b];
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(sort_b->enc.buf + x->key, sort_b->enc.buf + y->key, n);

	if (c)
		return c;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* stable: input order among equal times */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* {"streams":[{"stream":{..},"values":[[ts,line],..]},..]}, sorted by time per stream. */
static void
loki_body(struct batch *b, struct sb *body)
{
	size_t *ix = xmalloc((b->n ? b->n : 1) * sizeof(*ix)), k = 0;
	const struct ent *prev = NULL;

	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].state == E_PENDING)
			ix[k++] = i;
	sort_b = b;
	qsort(ix, k, sizeof(*ix), loki_cmp);
	oom_if(sb_adds(body, "{\"streams\":["));
	for (size_t j = 0; j < k; j++) {
		const struct ent *e = &b->e[ix[j]];

		if (!prev || prev->keylen != e->keylen ||
		    memcmp(b->enc.buf + prev->key, b->enc.buf + e->key, e->keylen) != 0) {
			if (prev)
				oom_if(sb_adds(body, "]},"));
			oom_if(sb_adds(body, "{\"stream\":"));
			oom_if(sb_add(body, b->enc.buf + e->key, e->keylen));
			oom_if(sb_adds(body, ",\"values\":["));
		} else
			oom_if(sb_addc(body, ','));
		oom_if(sb_add(body, b->enc.buf + e->enc, e->enclen));
		prev = e;
	}
	oom_if(sb_adds(body, prev ? "]}]}" : "]}"));
	free(ix);
}

void
tg_request(const struct opts *o, struct batch *b, struct sb *url, const char **ctype,
    struct sb *body)
{
	size_t n;
	const char *u = base_url(o, &n);

	url->len = body->len = 0;
	oom_if(sb_add(url, u, n));
	switch (o->to) {
	case T_VL:
		oom_if(sb_adds(url, "/insert/jsonline?_time_field=_time&_msg_field=_msg"));
		if (b->nskeys || o->nstream_fields) {
			oom_if(sb_adds(url, "&_stream_fields="));
			for (size_t i = 0; i < b->nskeys; i++) {
				if (i)
					oom_if(sb_adds(url, "%2C"));
				url_escape(url, b->skeys[i]);
			}
		}
		*ctype = "application/stream+json";
		break;
	case T_LOKI:
		oom_if(sb_adds(url, "/loki/api/v1/push"));
		*ctype = "application/json";
		loki_body(b, body);
		return;
	case T_INFLUX:
		if (o->bucket) {
			oom_if(sb_adds(url, "/api/v2/write?precision=ns&bucket="));
			url_escape(url, o->bucket);
			oom_if(sb_adds(url, "&org="));
			url_escape(url, o->org ? o->org : "");
		} else {
			oom_if(sb_adds(url, "/write?precision=ns&db="));
			url_escape(url, o->db);
		}
		*ctype = "text/plain; charset=utf-8";
		break;
	case T_ES:
		oom_if(sb_adds(url, "/_bulk"));
		*ctype = "application/x-ndjson";
		break;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].state == E_PENDING)
			oom_if(sb_add(body, b->enc.buf + b->e[i].enc, b->e[i].enclen));
}

static void
reject_pending(struct batch *b, const char *reason)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].state == E_PENDING)
			reject(b, i, reason);
}

static void
sent_pending(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].state == E_PENDING)
			b->e[i].state = E_SENT;
}

/* "HTTP 400: first line of the body" */
static void
reason_of(const struct resp *r, char *buf, size_t sz)
{
	size_t n = 0;

	while (n < r->body.len && n < 400 && r->body.buf[n] != '\n')
		n++;
	snprintf(buf, sz, "HTTP %ld: %.*s", r->status, (int)n, r->body.len ? r->body.buf : "");
}

/* Go's time.Time.String() of ns in UTC: "2025-05-17 04:44:04.545 +0000 UTC". */
static void
go_time(int64_t ns, char *buf, size_t sz)
{
	char t[TS_BUFSZ];
	size_t n = ts_format(ns, t);	/* 2025-05-17T04:44:04.545000000Z */
	size_t end = n - 1;

	t[10] = ' ';
	while (end > 20 && t[end - 1] == '0')
		end--;
	if (end == 20)	/* no fraction left: drop the dot too */
		end = 19;
	snprintf(buf, sz, "%.*s +0000 UTC", (int)end, t);
}

/* Loki prints labels as {a="x", b="y"}. */
static void
loki_labels(const struct batch *b, const struct ent *e, struct sb *out)
{
	json_object *o = lp_parse(b->enc.buf + e->key, e->keylen);
	int first = 1;

	out->len = 0;
	oom_if(sb_addc(out, '{'));
	if (o) {
		json_object_object_foreach(o, k, v) {
			const char *s = json_object_get_string(v);

			oom_if(sb_addf(out, "%s%s=\"", first ? "" : ", ", k));
			for (; *s; s++) {
				if (*s == '"' || *s == '\\')
					oom_if(sb_addc(out, '\\'));
				oom_if(sb_addc(out, *s));
			}
			oom_if(sb_addc(out, '"'));
			first = 0;
		}
		json_object_put(o);
	}
	oom_if(sb_addc(out, '}'));
}

/*
 * Loki 400: the distributor stored the valid entries and lists the
 * others, one per line: "entry for stream '{..}' has timestamp too old:
 * RFC3339, ..." or "entry with timestamp GO-TIME ignored, reason: '...'
 * for stream: {..},".  Returns the count of entries matched.
 */
static size_t
judge_loki_400(struct batch *b, const struct resp *r)
{
	struct sb lab = SB_INIT;
	size_t hit = 0;
	const char *body = r->body.len ? r->body.buf : "";

	for (const char *line = body; *line; ) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char *l = xmalloc(ll + 1);

		memcpy(l, line, ll);
		l[ll] = '\0';
		for (size_t i = 0; i < b->n; i++) {
			struct ent *e = &b->e[i];
			char t[TS_BUFSZ], g[64], pat[TS_BUFSZ + 80];
			int m;

			if (e->state != E_PENDING)
				continue;
			loki_labels(b, e, &lab);
			ts_format(e->ts, t);
			memcpy(t + 19, "Z", 2);	/* RFC 3339 in seconds */
			go_time(e->ts, g, sizeof(g));
			snprintf(pat, sizeof(pat), "timestamp too old: %s", t);
			m = strstr(l, lab.buf) && strstr(l, pat);
			snprintf(pat, sizeof(pat), "entry with timestamp %s ignored", g);
			m = m || (strstr(l, lab.buf) && strstr(l, pat));
			if (m) {
				reject(b, i, l);
				hit++;
			}
		}
		free(l);
		line = nl ? nl + 1 : line + ll;
	}
	sb_free(&lab);
	return hit;
}

/* The JSON type name InfluxDB uses for a record field. */
static const char *
influx_type(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_int: return "integer";
	case json_type_double: return "float";
	case json_type_boolean: return "boolean";
	default: return "string";
	}
}

/* InfluxDB 1.x {"error":..} or 2.x {"message":..} as text. */
static char *
influx_error(const struct resp *r)
{
	json_object *o = lp_parse(r->body.buf ? r->body.buf : "", r->body.len), *v;
	char *s;

	if (o && (json_object_object_get_ex(o, "error", &v) ||
	    json_object_object_get_ex(o, "message", &v)))
		s = xstrdup(json_object_get_string(v));
	else
		s = xstrdup(r->body.len ? r->body.buf : "");
	json_object_put(o);
	return s;
}

/*
 * A partial write: InfluxDB stored the other lines.  The dropped ones are
 * named by their text ("unable to parse 'LINE': why") or by field
 * ("input field \"F\" on measurement \"M\" is type T, ..." / "is invalid").
 */
static size_t
judge_influx_partial(const struct opts *o, struct batch *b, const char *msg)
{
	size_t hit = 0;
	struct sb tmp = SB_INIT;

	for (size_t i = 0; i < b->n; i++) {
		struct ent *e = &b->e[i];
		const char *p;
		int m = 0;

		if (e->state != E_PENDING)
			continue;
		/* the line without its newline, quoted as InfluxDB quotes it */
		tmp.len = 0;
		oom_if(sb_addf(&tmp, "unable to parse '%.*s'", (int)e->enclen - 1,
		    b->enc.buf + e->enc));
		if (strstr(msg, tmp.buf))
			m = 1;
		for (p = msg; !m && (p = strstr(p, "input field \"")) != NULL; p++) {
			char f[256], meas[256], typ[32] = "";
			json_object *obj, *v;

			if (sscanf(p, "input field \"%255[^\"]\" on measurement \"%255[^\"]\" is type %31[a-z]",
			    f, meas, typ) < 2)
				continue;
			if (strcmp(meas, o->measurement) != 0)
				continue;
			if ((obj = lp_parse(b->raw.buf + e->raw, e->rawlen)) == NULL)
				continue;
			if (json_object_object_get_ex(obj, strcmp(f, "time_") == 0 ? "time" : f, &v) &&
			    (!*typ || strcmp(influx_type(v), typ) == 0))
				m = 1;
			json_object_put(obj);
		}
		if (m) {
			reject(b, i, msg);
			hit++;
		}
	}
	sb_free(&tmp);
	return hit;
}

/* _bulk: one item per document, in order; 429 and 5xx items are retried. */
static int
judge_es(struct batch *b, const struct resp *r)
{
	json_object *o = lp_parse(r->body.buf ? r->body.buf : "", r->body.len);
	json_object *items, *errs;
	size_t k = 0;
	int again = 0;

	if (!o || !json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(o);
		reject_pending(b, "_bulk answer without items");
		return 0;
	}
	if (json_object_object_get_ex(o, "errors", &errs) && !json_object_get_boolean(errs)) {
		sent_pending(b);
		json_object_put(o);
		return 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		json_object *it, *res = NULL, *st, *er;
		long status;

		if (b->e[i].state != E_PENDING)
			continue;
		if (k >= json_object_array_length(items)) {
			reject(b, i, "_bulk answer has fewer items than documents");
			continue;
		}
		it = json_object_array_get_idx(items, k++);
		json_object_object_foreach(it, op, v) {
			(void)op;
			res = v;
			break;
		}
		status = res && json_object_object_get_ex(res, "status", &st) ?
		    (long)json_object_get_int64(st) : 0;
		if (status >= 200 && status < 300)
			b->e[i].state = E_SENT;
		else if (status == 429 || status >= 500)
			again = 1;
		else {
			const char *why = "item rejected";

			if (res && json_object_object_get_ex(res, "error", &er))
				why = json_object_to_json_string_ext(er, JSON_C_TO_STRING_PLAIN);
			reject(b, i, why);
		}
	}
	json_object_put(o);
	return again;
}

int
tg_judge(const struct opts *o, struct batch *b, const struct resp *r, char *fatal,
    size_t fatalsz)
{
	char why[512];

	if (r->status == 401 || r->status == 403) {
		reason_of(r, why, sizeof(why));
		snprintf(fatal, fatalsz, "%s: authentication refused (%s)", o->url, why);
		return -1;
	}
	if (o->to == T_INFLUX && r->status == 404) {
		char *m = influx_error(r);

		if (strstr(m, "not found")) {
			snprintf(fatal, fatalsz, "%s: %s (create it first: influx -execute 'CREATE DATABASE %s')",
			    o->url, m, o->db ? o->db : o->bucket);
			free(m);
			return -1;
		}
		free(m);
	}
	if (r->status >= 200 && r->status < 300) {
		if (o->to == T_ES)
			return judge_es(b, r);
		sent_pending(b);
		return 0;
	}
	if (lp_transient(r))
		return 1;
	reason_of(r, why, sizeof(why));
	if (o->to == T_LOKI && r->status == 400 && judge_loki_400(b, r) > 0) {
		sent_pending(b);	/* Loki stored the rest */
		return 0;
	}
	if (o->to == T_INFLUX && r->status == 400) {
		char *m = influx_error(r);

		if (strstr(m, "partial write")) {
			size_t hit = judge_influx_partial(o, b, m);
			const char *d = strstr(m, "dropped=");

			if (d && (size_t)strtoul(d + 8, NULL, 10) > hit)
				warn_msg("influxdb dropped %lu line(s) it did not name: %s",
				    strtoul(d + 8, NULL, 10) - (unsigned long)hit, m);
			sent_pending(b);
			free(m);
			return 0;
		}
		free(m);
	}
	reject_pending(b, why);
	return 0;
}

const char *
tg_health_path(const struct opts *o)
{
	switch (o->to) {
	case T_VL: return "/health";
	case T_LOKI: return "/ready";
	case T_INFLUX: return o->bucket ? "/health" : "/ping";
	case T_ES: return "/_cluster/health";
	}
	return "/";
}

const char *
tg_start_hint(const struct opts *o)
{
	switch (o->to) {
	case T_VL:
		return "docker run --rm -p 9428:9428 victoriametrics/victoria-logs";
	case T_LOKI:
		return "docker run --rm -p 3100:3100 grafana/loki";
	case T_INFLUX:
		return o->bucket ? "docker run --rm -p 8086:8086 influxdb:2" :
		    "influxd -config /etc/influxdb/influxdb.conf (Debian: apt-get install influxdb)";
	case T_ES:
		return "docker run --rm -p 9200:9200 -e discovery.type=single-node "
		    "-e xpack.security.enabled=false elasticsearch:8.13.4";
	}
	return "";
}
