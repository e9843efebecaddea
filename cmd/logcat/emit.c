/* emit.c: logcat's record writers: parsed text events and JSON lines, straight into one output buffer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logcat.h"

/* Output is flushed in blocks this large (or per record with -u). */
#define OUT_BLOCK (1 << 16)

static void
chk(long r)
{
	if (r < 0)
		die(EXIT_FATAL, "out of memory");
}

static long
str(struct sb *o, const char *s, size_t n)
{
	long r = jw_str(o, s, n);

	chk(r);
	return r;
}

/* ,"key": */
static void
key(struct sb *o, int *n, const char *k, size_t kn)
{
	if ((*n)++)
		chk(sb_addc(o, ','));
	str(o, k, kn);
	chk(sb_addc(o, ':'));
}

/* ,"key": for a key that needs no escaping; lit is "\"key\":" */
static void
litkey(struct sb *o, int *n, const char *lit, size_t len)
{
	if ((*n)++)
		chk(sb_addc(o, ','));
	chk(sb_add(o, lit, len));
}

/* "level":"warn","level_raw":... (raw NULL: the original stays in its own field) */
static long
put_level(struct sb *o, int *n, enum lf_lvl l, const char *raw, size_t rawn)
{
	const char *name = lf_level_name(l);

	litkey(o, n, "\"level\":\"", 9);
	chk(sb_adds(o, name));
	if (raw == NULL) {
		chk(sb_addc(o, '"'));
		return 0;
	}
	chk(sb_add(o, "\",\"level_raw\":", 14));
	return str(o, raw, rawn);
}

static void
put_time(struct lc *lc, int *n, int has, int64_t t)
{
	char buf[TS_BUFSZ + 2];
	struct timespec now;
	size_t k;

	if (!has) {
		if (!lc->time_now)
			return;
		clock_gettime(CLOCK_REALTIME, &now);
		t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	}
	buf[0] = '"';
	k = ts_format(t, buf + 1) + 1;
	buf[k++] = '"';
	litkey(&lc->out, n, "\"_time\":", 8);
	chk(sb_add(&lc->out, buf, k));
}

/* The value of a stream field of the record: from a text event or a JSON object. */
typedef const char *(*lookup_fn)(struct lc *lc, const void *src, const char *name,
    size_t *len);

static const char *
text_lookup(struct lc *lc, const void *src, const char *name, size_t *len)
{
	const struct lf_rec *r = src;
	size_t kn = strlen(name);

	(void)lc;
	if (strcmp(name, "level") == 0 && r->lvl != LVL_NONE) {
		*len = strlen(lf_level_name(r->lvl));
		return lf_level_name(r->lvl);
	}
	for (size_t i = 0; i < r->nf; i++)
		if (r->f[i].kn == kn && memcmp(r->f[i].k, name, kn) == 0 && !r->f[i].quoted) {
			*len = r->f[i].vn;
			return r->f[i].v;
		}
	return NULL;
}

static const char *
json_lookup(struct lc *lc, const void *src, const char *name, size_t *len)
{
	return rec_get_text((struct json_object *)(uintptr_t)src, name, len, &lc->tmp2);
}

static void
put_stream(struct lc *lc, int *n, lookup_fn look, const void *src)
{
	if (lc->nsfields == 0) {
		if (lc->fixed_stream.len == 0)
			return;
		key(&lc->out, n, REC_STREAM, 7);
		chk(sb_add(&lc->out, lc->fixed_stream.buf, lc->fixed_stream.len));
		return;
	}
	st_clear(&lc->labels);
	for (size_t i = 0; i < lc->stream.n; i++)
		chk(st_set(&lc->labels, lc->stream.v[i].key, lc->stream.v[i].val,
		    strlen(lc->stream.v[i].val)));
	for (size_t i = 0; i < lc->nsfields; i++) {
		size_t len;
		const char *v = look(lc, src, lc->sfields[i], &len);

		if (v != NULL)
			chk(st_set(&lc->labels, lc->sfields[i], v, len));
	}
	if (lc->labels.n == 0)
		return;
	sb_reset(&lc->tmp);
	chk(st_format(&lc->labels, &lc->tmp));
	key(&lc->out, n, REC_STREAM, 7);
	str(&lc->out, lc->tmp.buf, lc->tmp.len);
}

static int
is_added(const struct lc *lc, const char *k, size_t kn)
{
	for (size_t i = 0; i < lc->nadd; i++)
		if (strlen(lc->add[i].k) == kn && memcmp(lc->add[i].k, k, kn) == 0)
			return 1;
	return 0;
}

static long
put_added(struct lc *lc, int *n)
{
	long rep = 0;

	for (size_t i = 0; i < lc->nadd; i++) {
		key(&lc->out, n, lc->add[i].k, strlen(lc->add[i].k));
		rep += str(&lc->out, lc->add[i].v, strlen(lc->add[i].v));
	}
	return rep;
}

/* "_file":..,"_line":N of a member's record (see struct input). */
static long
put_origin(struct lc *lc, struct input *in, int *n, unsigned long long lineno)
{
	char num[32];
	long rep;

	if (!in->is_member)
		return 0;
	key(&lc->out, n, "_file", 5);
	rep = str(&lc->out, in->name, strlen(in->name));
	key(&lc->out, n, "_line", 5);
	chk(sb_add(&lc->out, num, (size_t)snprintf(num, sizeof(num), "%llu", lineno)));
	return rep;
}

int
line_record(struct json_object *o, const char **file, const char **msg, size_t *msgn,
    unsigned long long *line)
{
	struct json_object *m, *f, *l = NULL;
	int n = json_object_object_length(o);
	int64_t v;

	if ((n != 2 && n != 3) || !json_object_object_get_ex(o, REC_MSG, &m) ||
	    !json_object_object_get_ex(o, "_file", &f) ||
	    !json_object_is_type(m, json_type_string) || !json_object_is_type(f, json_type_string))
		return 0;
	if (n == 3 && (!json_object_object_get_ex(o, "_line", &l) ||
	    !json_object_is_type(l, json_type_int) || (v = json_object_get_int64(l)) < 1))
		return 0;
	*file = json_object_get_string(f);
	*msg = json_object_get_string(m);
	*msgn = (size_t)json_object_get_string_len(m);
	*line = l ? (unsigned long long)json_object_get_int64(l) : 0;
	return 1;
}

/* logfmt "..." content without its backslash escapes. */
static void
unquote(struct sb *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < n) {
			c = s[++i];
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c != '"' && c != '\\')
				chk(sb_addc(o, '\\'));
		}
		chk(sb_addc(o, c));
	}
}

void
emit_flush(struct lc *lc, int force)
{
	if (lc->out.len >= OUT_BLOCK || (force && lc->out.len) || lc->unbuffered) {
		out_write(lc->out.buf, lc->out.len);
		sb_reset(&lc->out);
	}
	/* out_close reports the error (quietly for a reader gone away) */
	if ((force || lc->unbuffered) && fflush(stdout) != 0) {
		out_close();
		die_errno(EXIT_FATAL, "write error");
	}
}

static void
done(struct lc *lc, long rep)
{
	chk(sb_add(&lc->out, "}\n", 2));
	if (rep > 0)
		lc->repaired++;
	emit_flush(lc, 0);
}

void
emit_text(struct lc *lc, struct input *in)
{
	struct lf_rec *r = &in->rec;
	struct sb *o = &lc->out;
	long rep = 0;
	int n = 0;

	in->pending = 0;
	chk(sb_addc(o, '{'));
	put_time(lc, &n, r->has_time, r->time);
	put_stream(lc, &n, text_lookup, r);
	if (r->msg != NULL || in->cont.len > 0) {
		litkey(o, &n, "\"_msg\":", 7);
		if (in->cont.len == 0 && !r->msg_quoted) {
			rep += str(o, r->msg, r->msgn);
		} else {
			sb_reset(&lc->tmp);
			if (r->msg_quoted)
				unquote(&lc->tmp, r->msg, r->msgn);
			else if (r->msg)
				chk(sb_add(&lc->tmp, r->msg, r->msgn));
			chk(sb_add(&lc->tmp, in->cont.buf, in->cont.len));
			rep += str(o, lc->tmp.buf, lc->tmp.len);
		}
	}
	if (r->lvl != LVL_NONE)
		rep += put_level(o, &n, r->lvl, r->lvl_raw, r->lvln);
	for (size_t i = 0; i < r->nf; i++) {
		const struct lf_field *f = &r->f[i];

		if (lc->nadd && is_added(lc, f->k, f->kn))
			continue;
		key(o, &n, f->k, f->kn);
		if (f->quoted) {
			sb_reset(&lc->tmp);
			unquote(&lc->tmp, f->v, f->vn);
			rep += str(o, lc->tmp.buf, lc->tmp.len);
		} else
			rep += str(o, f->v, f->vn);
	}
	rep += put_origin(lc, in, &n, in->lineno);
	rep += put_added(lc, &n);
	done(lc, rep);
}

void
emit_invalid(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, const char *why)
{
	long rep = 0;
	int n = 0;

	if (!in->warned) {
		in->warned = 1;
		warn_msg("%s:%llu: %s%s", in->name, lineno, why,
		    lc->skip_invalid ? " (skipped)" : "");
	}
	if (lc->skip_invalid) {
		lc->skipped++;
		return;
	}
	lc->malformed++;
	chk(sb_addc(&lc->out, '{'));
	put_time(lc, &n, 0, 0);
	put_stream(lc, &n, text_lookup, &(struct lf_rec){ .nf = 0 });
	litkey(&lc->out, &n, "\"_msg\":", 7);
	rep += str(&lc->out, line, len);
	key(&lc->out, &n, "_parse_error", 12);
	str(&lc->out, why, strlen(why));
	rep += put_origin(lc, in, &n, lineno);
	rep += put_added(lc, &n);
	done(lc, rep);
}

/* A JSON value as a time: RFC 3339 text, or unix time as text or number. */
static int
json_time(struct json_object *v, int64_t *t)
{
	const char *s;
	size_t n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		return n > 0 && (ts_parse_iso(s, n, t) == n || ts_parse_unix(s, n, t) == n);
	case json_type_double:
		/* json-c keeps the text it parsed: 1747457048.9229765 has more
		   digits than a double holds */
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		n = strlen(s);
		if (ts_parse_unix(s, n, t) == n)
			return 1;
		return ts_from_double(json_object_get_double(v), t) == 0;
	case json_type_int:
		return ts_from_int(json_object_get_int64(v), t) == 0;
	default:
		return 0;
	}
}

void
emit_json_line(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, int truncated)
{
	struct json_object *o, *v;
	enum json_tokener_error e;
	const char *const *cand;
	const char *tkey = NULL, *mkey = NULL, *lkey = NULL, *msg = NULL, *lraw = NULL;
	const char *cands[2] = { NULL, NULL };
	char why[160];
	size_t used, msgn = 0, lrawn = 0;
	int64_t t = 0;
	enum lf_lvl lvl = LVL_NONE;
	long rep = 0;
	int n = 0, has_t = 0, lrename;

	if (truncated) {
		snprintf(why, sizeof(why), "line cut at %zu bytes", lc->max_event);
		emit_invalid(lc, in, line, len, lineno, why);
		return;
	}
	if (memchr(line, '\0', len) != NULL) {
		emit_invalid(lc, in, line, len, lineno, "NUL byte in line");
		return;
	}
	json_tokener_reset(lc->tok);
	o = json_tokener_parse_ex(lc->tok, line, (int)len);
	if (o == NULL) {
		e = json_tokener_get_error(lc->tok);
		if (e == json_tokener_continue)
			snprintf(why, sizeof(why), "truncated JSON");
		else
			snprintf(why, sizeof(why), "invalid JSON at column %zu: %s",
			    json_tokener_get_parse_end(lc->tok) + 1, json_tokener_error_desc(e));
		emit_invalid(lc, in, line, len, lineno, why);
		return;
	}
	used = json_tokener_get_parse_end(lc->tok);
	while (used < len && (line[used] == ' ' || line[used] == '\t' || line[used] == '\r'))
		used++;
	if (used < len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		if (used < len)
			snprintf(why, sizeof(why), "trailing data at column %zu", used + 1);
		else
			snprintf(why, sizeof(why), "not a JSON object");
		emit_invalid(lc, in, line, len, lineno, why);
		return;
	}
	if (!in->is_member) {
		const char *file, *lmsg;
		size_t lmsgn;
		unsigned long long lline;

		if (line_record(o, &file, &lmsg, &lmsgn, &lline)) {
			/* lines of a text member, one record each: logcat them as
			   lines of that file (o keeps the strings alive) */
			input_member_line(lc, in, file, lmsg, lmsgn, lline ? lline : lineno);
			json_object_put(o);
			return;
		}
	}

	cands[0] = lc->time_field;
	for (cand = lc->time_field ? cands : lf_time_keys; *cand; cand++)
		if (json_object_object_get_ex(o, *cand, &v) && json_time(v, &t)) {
			tkey = *cand;
			has_t = 1;
			break;
		}
	cands[0] = lc->msg_field;
	for (cand = lc->msg_field ? cands : lf_msg_keys; *cand; cand++) {
		if (!json_object_object_get_ex(o, *cand, &v))
			continue;
		if (json_object_is_type(v, json_type_string)) {
			msg = json_object_get_string(v);
			msgn = (size_t)json_object_get_string_len(v);
		} else if (lc->msg_field && !json_object_is_type(v, json_type_null)) {
			msg = rec_get_text(o, *cand, &msgn, &lc->tmp);
		} else
			continue;
		mkey = *cand;
		break;
	}
	cands[0] = lc->level_field;
	for (cand = lc->level_field ? cands : lf_level_keys; *cand; cand++)
		if (json_object_object_get_ex(o, *cand, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    (lvl = lf_level(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v))) != LVL_NONE) {
			lkey = *cand;
			lraw = json_object_get_string(v);
			lrawn = (size_t)json_object_get_string_len(v);
			break;
		}

	chk(sb_addc(&lc->out, '{'));
	put_time(lc, &n, has_t, t);
	if (json_object_object_get_ex(o, REC_STREAM, &v)) {
		/* records that already carry _stream keep it */
		key(&lc->out, &n, REC_STREAM, 7);
		rep += rec_write_value(&lc->out, v);
		chk(rep);
	} else
		put_stream(lc, &n, json_lookup, o);
	if (mkey) {
		litkey(&lc->out, &n, "\"_msg\":", 7);
		rep += str(&lc->out, msg, msgn);
	}
	/*
	 * A level found under another name (severity, status) stays there as
	 * written, so that queries on the original field still match; only a
	 * "level" field itself is rewritten, its text kept as level_raw.
	 */
	lrename = lkey && strcmp(lkey, "level") == 0;
	if (lkey)
		rep += put_level(&lc->out, &n, lvl, lrename ? lraw : NULL, lrawn);
	json_object_object_foreach(o, k, val) {
		long r;

		if ((tkey && strcmp(k, tkey) == 0) || (mkey && strcmp(k, mkey) == 0) ||
		    (lrename && strcmp(k, lkey) == 0) || strcmp(k, REC_STREAM) == 0)
			continue;
		if (k[0] == '_' && ((has_t && strcmp(k, REC_TIME) == 0) ||
		    (mkey && strcmp(k, REC_MSG) == 0)))
			continue;
		if (lkey && (strcmp(k, "level") == 0 || (lrename && strcmp(k, "level_raw") == 0)))
			continue;
		if (lc->nadd && is_added(lc, k, strlen(k)))
			continue;
		if (in->is_member && (strcmp(k, "_file") == 0 || strcmp(k, "_line") == 0))
			continue;
		key(&lc->out, &n, k, strlen(k));
		chk(r = rec_write_value(&lc->out, val));
		rep += r;
	}
	rep += put_origin(lc, in, &n, lineno);
	rep += put_added(lc, &n);
	json_object_put(o);
	done(lc, rep);
}
