/* qry_parse.c: fuzz the LogsQL parser, then run the query over a few records, the push-down and the LogQL form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/qry.h"
#include "../../common/sb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
emit(void *arg, struct json_object *rec)
{
	(void)arg;
	(void)rec;
	return 0;
}

static int
has_token(void *ctx, const char *field, const char *tok, size_t n)
{
	(void)ctx;
	(void)field;
	return n % 2 || tok[0] == 'd';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *recs[] = {
		"{\"_time\":\"2025-05-17T04:44:01Z\",\"_stream\":\"{a=\\\"x\\\"}\",\"_msg\":\"disk error node-3\",\"n\":12}",
		"{\"_msg\":\"\",\"x\":{\"y\":[1,2]},\"n\":\"abc\",\"t\":true}",
		"{}",
	};
	struct qry_err err;
	struct qry *q = qry_parse((const char *)data, size, &err);
	struct qry_run *r;
	struct sb s = SB_INIT;
	struct st_labels l = { 0 };
	struct qry_block b = { 0, 1000000000000000000LL, NULL, NULL, has_token, NULL, NULL };
	int64_t lo, hi;
	const char *const *names;
	size_t nn;

	if (q == NULL)
		return 0;
	(void)qry_format(q, &s);
	sb_free(&s);
	{
		struct qry_logql lq = { SB_INIT, 0, 0, 0 };
		char why[200];

		(void)qry_has_relative_time(q);
		/* a translation is a selector first, with a range that is not upside down */
		if (qry_to_logql(q, &lq, why, sizeof(why)) == 0 &&
		    (lq.expr.len < 2 || lq.expr.buf[0] != '{' || lq.start > lq.end))
			abort();
		sb_free(&lq.expr);
	}
	(void)qry_time_bounds(q, &lo, &hi);
	(void)st_set(&l, "a", "x", 1);
	(void)qry_stream_may_match(q, &l);
	b.stream = &l;
	(void)qry_block_may_match(q, &b, NULL);
	(void)qry_block_judge(q, &b, NULL);
	st_free(&l);
	if ((r = qry_run_new(q, emit, NULL)) != NULL) {
		for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++) {
			struct json_object *o = json_tokener_parse(recs[i]);

			(void)qry_run_push(r, o);
			json_object_put(o);
		}
		(void)qry_run_finish(r);
		qry_run_free(r);
	}
	/* the weighted runs the index reader makes for stats that only count */
	if (qry_run_weighted(q, &names, &nn) && (r = qry_run_new(q, emit, NULL)) != NULL) {
		for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++) {
			struct json_object *o = json_tokener_parse(recs[i]);
			struct json_object *f = o ? qry_flatten(o) : NULL;

			if (f != NULL)
				(void)qry_run_push_n(r, f, i + 1, (int)i % 2);
			json_object_put(f);
			json_object_put(o);
		}
		(void)qry_run_finish(r);
		qry_run_free(r);
	}
	qry_free(q);
	return 0;
}
