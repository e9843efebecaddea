/* index.c: logq -d: run the query over a snapshot of a logindex directory. */
#include <stdio.h>
#include <string.h>

#include "../../common/idx.h"
#include "../tool.h"
#include "logq.h"

/* A damaged part: say so and go on; the other parts still answer. */
static void
idx_warn(void *arg, const char *msg)
{
	struct logq *lq = arg;

	lq->idx_warnings++;
	warn_msg("%s", msg);
}

/*
 * idx_scan hands records that may match: the run's filter decides.  They
 * are flat already; weighted ones stand for n rows.
 */
static int
push_flat(void *arg, struct json_object *rec)
{
	struct logq *lq = arg;
	int rc = qry_run_push_flat(lq->run, rec);

	if (rc < 0)
		die(EXIT_FATAL, "out of memory");
	return rc;
}

static int
push_n(void *arg, struct json_object *rec, uint64_t n, int tested)
{
	struct logq *lq = arg;
	int rc = qry_run_push_n(lq->run, rec, n, tested);

	if (rc < 0)
		die(EXIT_FATAL, "out of memory");
	return rc;
}

void
index_query(struct logq *lq)
{
	struct idx *ix;
	char err[4400];

	if ((ix = idx_open(lq->dir, idx_warn, lq, err, sizeof(err))) == NULL)
		die(EXIT_FATAL, "%s", err);
	/* parts left out at open were warned about; idx_scan counts the rest */
	lq->idx_open_bad = lq->idx_warnings;
	if (idx_scan_weighted(ix, lq->q, push_flat, push_n, lq, &lq->ist, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s: %s", lq->dir, err);
	idx_close(ix);
}

void
index_explain(const struct logq *lq, const struct qry_run_stats *rs)
{
	const struct idx_scan_stats *st = &lq->ist;
	unsigned long long skipped = st->skip_time + st->skip_stream + st->skip_token +
	    st->skip_field + st->skip_range;

	fprintf(stderr, "logq: explain: index %s: parts %llu, skipped by time %llu, damaged %llu\n",
	    lq->dir, st->parts + lq->idx_open_bad, st->parts_skipped_time,
	    st->parts_bad + lq->idx_open_bad);
	fprintf(stderr, "logq: explain: blocks %llu, skipped %llu: by time %llu, by stream %llu, "
	    "by token filter %llu, by field %llu, by range %llu\n",
	    st->blocks, skipped, st->skip_time, st->skip_stream, st->skip_token,
	    st->skip_field, st->skip_range);
	fprintf(stderr, "logq: explain: blocks read %llu, bytes decoded %llu, rows %llu, "
	    "rows dropped by pre-filter %llu, rows counted by dictionary code %llu, "
	    "records scanned %llu, records matched %llu, output %llu\n",
	    st->blocks_read, st->bytes_read, st->rows_read, st->rows_prefiltered, st->rows_counted,
	    st->records, rs->matched, rs->emitted);
}
