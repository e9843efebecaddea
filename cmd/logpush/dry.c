/* dry.c: logpush --dry-run (streams and label values, nothing sent) and --health. */
#include <stdlib.h>
#include <string.h>

#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../../common/stream.h"
#include "../tool.h"
#include "logpush.h"

#define TOP 5

static void
oom_if(int rc)
{
	if (rc < 0)
		die(EXIT_FATAL, "out of memory");
}

static void
bump(json_object *counts, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(counts, key, &v))
		json_object_set_int64(v, json_object_get_int64(v) + 1);
	else
		json_object_object_add(counts, key, json_object_new_int64(1));
}

struct kv {
	const char *k;
	int64_t n;
};

static int
by_count(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->k, y->k);
}

/* counts as an array sorted by count (descending), then name */
static struct kv *
sorted(json_object *counts, size_t *n)
{
	struct kv *v = xmalloc((size_t)json_object_object_length(counts) * sizeof(*v) + 1);

	*n = 0;
	json_object_object_foreach(counts, k, c) {
		v[*n].k = k;
		v[(*n)++].n = json_object_get_int64(c);
	}
	qsort(v, *n, sizeof(*v), by_count);
	return v;
}

int
dry_run(const struct opts *o)
{
	struct rec_reader rr;
	json_object *obj, *streams = json_object_new_object(), *labels = json_object_new_object();
	struct sb line = SB_INIT, key = SB_INIT;
	uint64_t records = 0, bad = 0;
	struct kv *v;
	size_t n;
	int rc;

	if (rec_reader_init(&rr, 0, "<stdin>") < 0)
		die(EXIT_FATAL, "out of memory");
	while ((rc = rec_read(&rr, &obj)) != 0) {
		struct st_labels l = { 0 };
		char why[200];

		if (rc < 0)
			die_errno(EXIT_FATAL, "<stdin>");
		if (!obj) {
			warn_msg("%s", rr.err);
			bad++;
			continue;
		}
		if (tg_labels(o, obj, &l, why, sizeof(why))) {
			warn_msg("<stdin>:%llu: %s", rec_lineno(&rr), why);
			bad++;
		} else {
			records++;
			if (o->to == T_INFLUX)
				for (size_t i = 0; i < o->ntags; i++) {
					struct sb t = SB_INIT;
					const char *s = rec_get_text(obj, o->tags[i], &n, &t);

					if (s && n)
						oom_if(st_set(&l, o->tags[i], s, n));
					sb_free(&t);
				}
			key.len = 0;
			oom_if(st_format(&l, &key));
			bump(streams, key.buf);
			for (size_t i = 0; i < l.n; i++) {
				json_object *vals;

				if (!json_object_object_get_ex(labels, l.v[i].key, &vals)) {
					vals = json_object_new_object();
					json_object_object_add(labels, l.v[i].key, vals);
				}
				bump(vals, l.v[i].val);
			}
		}
		st_free(&l);
		json_object_put(obj);
	}
	v = sorted(streams, &n);
	for (size_t i = 0; i < n; i++) {
		struct jw w;

		line.len = 0;
		oom_if(jw_begin(&w, &line));
		oom_if(jw_field_cstr(&w, "stream", v[i].k));
		oom_if(jw_field_i64(&w, "records", v[i].n));
		oom_if(jw_end(&w));
		oom_if(sb_addc(&line, '\n'));
		out_write(line.buf, line.len);
	}
	if (n > o->max_streams)
		warn_msg("%zu streams exceed --max-streams %zu (Loki label cardinality: "
		    "drop high-cardinality labels)", n, o->max_streams);
	free(v);
	json_object_object_foreach(labels, lk, vals) {
		struct jw w;
		size_t nv;
		struct kv *vv = sorted(vals, &nv);

		line.len = 0;
		oom_if(jw_begin(&w, &line));
		oom_if(jw_field_cstr(&w, "label", lk));
		oom_if(jw_field_u64(&w, "distinct", nv));
		oom_if(jw_key(&w, "top"));
		oom_if(sb_addc(&line, '['));
		for (size_t i = 0; i < nv && i < TOP; i++) {
			struct jw w2;

			if (i)
				oom_if(sb_addc(&line, ','));
			oom_if(jw_begin(&w2, &line));
			oom_if(jw_field_cstr(&w2, "value", vv[i].k));
			oom_if(jw_field_i64(&w2, "records", vv[i].n));
			oom_if(jw_end(&w2));
		}
		oom_if(sb_addc(&line, ']'));
		oom_if(jw_end(&w));
		oom_if(sb_addc(&line, '\n'));
		out_write(line.buf, line.len);
		free(vv);
	}
	{
		struct jw w;

		line.len = 0;
		oom_if(jw_begin(&w, &line));
		oom_if(jw_field_u64(&w, "records", records));
		oom_if(jw_field_u64(&w, "streams", n));
		oom_if(jw_field_u64(&w, "rejected", bad));
		oom_if(jw_field_bool(&w, "sent", 0));
		oom_if(jw_end(&w));
		oom_if(sb_addc(&line, '\n'));
		out_write(line.buf, line.len);
	}
	json_object_put(streams);
	json_object_put(labels);
	sb_free(&line);
	sb_free(&key);
	rec_reader_free(&rr);
	out_close();
	return bad ? EXIT_SOME : EXIT_OK;
}

int
health(const struct opts *o)
{
	struct sb url = SB_INIT, line = SB_INIT;
	struct resp r = { 0 };
	struct jw w;
	size_t n = strlen(o->url);
	int up;

	while (n > 0 && o->url[n - 1] == '/')
		n--;
	oom_if(sb_add(&url, o->url, n));
	oom_if(sb_adds(&url, tg_health_path(o)));
	lp_get(url.buf, &r);
	up = r.status >= 200 && r.status < 300;
	if (!up) {
		if (r.status)
			warn_msg("%s: down (HTTP %ld at %s); start one with: %s", o->url,
			    r.status, tg_health_path(o), tg_start_hint(o));
		else
			warn_msg("%s: down (%s); start one with: %s", o->url, r.err,
			    tg_start_hint(o));
	}
	oom_if(jw_begin(&w, &line));
	oom_if(jw_field_cstr(&w, "url", url.buf));
	oom_if(jw_field_bool(&w, "up", up));
	oom_if(jw_field_i64(&w, "http", r.status));
	oom_if(jw_end(&w));
	oom_if(sb_addc(&line, '\n'));
	out_write(line.buf, line.len);
	sb_free(&url);
	sb_free(&line);
	sb_free(&r.body);
	lp_http_cleanup();
	out_close();
	return up ? EXIT_OK : EXIT_SOME;
}
