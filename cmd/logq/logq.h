/* logq.h: state shared by logq's main and its output formats. */
#ifndef LOGQ_H
#define LOGQ_H

#include <json-c/json.h>

#include "../../common/idx.h"
#include "../../common/qry.h"
#include "../../common/sb.h"

enum logq_fmt { FMT_JSON, FMT_TABLE, FMT_LOGFMT, FMT_RAW, FMT_CSV };

struct logq {
	enum logq_fmt fmt;
	int color;
	int explain;
	int unbuffered;
	const char *dir;
	struct qry *q;
	struct qry_run *run;
	struct sb out;
	/* table and csv need every row for the columns and their widths */
	struct json_object **rows;
	size_t nrows, caprows;
	unsigned long long lines, bad, skipped;
	/* -d: what the index scan did */
	struct idx_scan_stats ist;
	unsigned long long idx_warnings, idx_open_bad;
	/* --remote and its options, as given (remote.c checks them) */
	struct {
		const char *url, *limit, *timeout, *bearer_file, *basic_file;
	} remote;
};

/* index.c: -d; index_query dies on a fatal error */
void index_query(struct logq *lq);
void index_explain(const struct logq *lq, const struct qry_run_stats *rs);

/*
 * remote.c: --remote: run text (the query, parsed into lq->q) on the
 * server and print the answer; releases lq's query and output, closes
 * stdout and returns the exit status.  Dies on a fatal error.
 */
int remote_query(struct logq *lq, const char *text, int nfiles, int now_given);

/* out.c */
int out_record(void *arg, struct json_object *rec);
void out_finish(struct logq *lq);

#endif
