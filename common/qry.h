/* qry.h: a LogsQL subset: parse a query, match records, run its pipes, and push filters down to the index. */
#ifndef LOGKIT_QRY_H
#define LOGKIT_QRY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "sb.h"
#include "stream.h"

/*
 * The language is described in logsql(7).  A query is a filter (words,
 * phrases, field:value, _time:..., {stream} selectors, AND/OR/NOT) and
 * optional pipes ("| stats by (f) count()").  Relative times (_time:5m)
 * are taken relative to the query's "now", which qry_parse sets from the
 * clock and qry_set_now can change.
 *
 * Data model (as VictoriaLogs): every field value is text.  A JSON record
 * is seen through rec_get_text (numbers and booleans as their JSON text,
 * null as "", arrays as JSON text); nested objects are flattened into
 * dotted names ({"a":{"b":1}} has field "a.b" = "1").  Records that pass
 * through the pipeline come out in that shape (qry_flatten).
 */

struct qry;

/* Where and why a query did not parse. */
struct qry_err {
	int line, col;		/* 1-based position of the offending character */
	char msg[200];		/* "expected ')'" */
};

/*
 * Parse text[0..n) (need not be NUL-terminated).  Returns the query, or
 * NULL with *err filled (out of memory reads "out of memory").  Never
 * prints.  Regexes are compiled here (PCRE2, JIT when available), so a bad
 * regex is a parse error with its position.
 */
struct qry *qry_parse(const char *text, size_t n, struct qry_err *err);
void qry_free(struct qry *q);
/* Format err as "query:LINE:COL: MSG" into buf. */
void qry_err_format(const struct qry_err *err, char *buf, size_t size);

/* Set the "now" that relative times (_time:5m) refer to (ns since epoch). */
void qry_set_now(struct qry *q, int64_t now_ns);

/*
 * Append the query's canonical text to out (for --explain and tests):
 * operators explicit and parenthesised, values quoted, times absolute.
 * Returns 0 or -1.
 */
struct sb;
int qry_format(const struct qry *q, struct sb *out);

/* 1 if the query has pipes after the filter; 0 if it is a bare filter. */
int qry_has_pipes(const struct qry *q);

/*
 * 1 if rec (a JSON object) passes the filter part of the query (pipes
 * are ignored), else 0.  Thread-safe for distinct records as long as
 * each thread uses its own struct qry (qry_parse the text once per
 * thread): matching uses per-query scratch space.
 */
int qry_match(struct qry *q, struct json_object *rec);

/*
 * Flatten rec into the LogsQL data model: a new object whose values are
 * all strings, nested objects as dotted names.  NULL when out of memory.
 */
struct json_object *qry_flatten(struct json_object *rec);

/* ---- running the pipeline ---- */

/*
 * Called for every output record.  rec is borrowed: take a reference
 * (json_object_get) to keep it.  Return 0 to go on, nonzero to stop (the
 * value is handed back by qry_run_push/qry_run_finish).
 */
typedef int (*qry_emit_fn)(void *arg, struct json_object *rec);

struct qry_run;

/* Counters for --explain and for the exit status. */
struct qry_run_stats {
	unsigned long long pushed;	/* records given to qry_run_push */
	unsigned long long matched;	/* of those, passed the filter */
	unsigned long long emitted;	/* records handed to emit */
};

struct qry_run *qry_run_new(struct qry *q, qry_emit_fn emit, void *arg);
/*
 * Give one record (borrowed; the run takes its own reference when it
 * keeps it).  The filter is applied first, then the pipes.  Returns 0 to
 * go on; 1 when no further input can change the output (a limit was
 * reached: stop reading); -1 out of memory; or the emit function's
 * nonzero value.
 */
int qry_run_push(struct qry_run *r, struct json_object *rec);
/*
 * End of input: pipes that hold records (sort, stats, top, uniq) emit
 * them now.  Returns 0, -1 out of memory, or emit's nonzero value.
 */
int qry_run_finish(struct qry_run *r);
/*
 * qry_run_push for a record that is flat already (all values strings,
 * dotted names), as the index reader makes them: it is not copied.
 */
int qry_run_push_flat(struct qry_run *r, struct json_object *rec);
/*
 * Weighted records, for a reader that can count identical records
 * without building each one (the index: rows of a block with the same
 * dictionary codes).  Returns 1 when the query's first pipe is stats
 * with functions that only need how many times a value was seen
 * (count, count_uniq, min, max, quantile; not sum and avg, whose
 * rounding depends on the order of additions), with names[0..*n) the
 * fields that pipe reads (owned by q); else 0.
 */
int qry_run_weighted(const struct qry *q, const char *const **names, size_t *n);
/*
 * Give a flat record standing for n identical records; tested says that
 * they are known to pass the filter (it is not applied then).  Only when
 * qry_run_weighted returned 1.  Returns 0, 1 (done) or -1 out of memory.
 */
int qry_run_push_n(struct qry_run *r, struct json_object *rec, uint64_t n, int tested);
void qry_run_get_stats(const struct qry_run *r, struct qry_run_stats *st);
void qry_run_free(struct qry_run *r);

/* ---- push-down for the index (logindex's reader) ---- */

/*
 * The _time interval [*min, *max] (inclusive ns) outside which no record
 * can match the filter; INT64_MIN / INT64_MAX when unbounded.  Returns 0
 * when the filter can never match (an empty interval), else 1.
 */
int qry_time_bounds(const struct qry *q, int64_t *min, int64_t *max);

/*
 * 0 if no record of a stream with these labels can match the filter (its
 * {..} selectors and _stream:... filters rule it out), 1 if some may.
 */
int qry_stream_may_match(const struct qry *q, const struct st_labels *labels);

/*
 * What the index knows about a block of records.  Any callback may be
 * NULL ("don't know"); ctx is passed to each.  Field names are the
 * flattened names ("_msg", "a.b").  Tokens are tok.h words of the text
 * form of a value.
 */
struct qry_block {
	int64_t tmin, tmax;		/* _time range of its records, inclusive */
	/* The labels of the block's single stream, or NULL (mixed/unknown). */
	const struct st_labels *stream;
	void *ctx;
	/* 0 if no value of field in the block contains word tok[0..n)
	   (a bloom filter miss); 1 if it may.  tok points into the query,
	   which outlives the scan: a callee may key a cache by its address. */
	int (*has_token)(void *ctx, const char *field, const char *tok, size_t n);
	/* 0 if no record of the block has the field (with a non-empty
	   value); 1 if some may. */
	int (*has_field)(void *ctx, const char *field);
	/* 1 and *min, *max set to the range of the field's values that parse
	   as numbers (*min > *max when none does); 0 when unknown. */
	int (*num_range)(void *ctx, const char *field, double *min, double *max);
};

/* Why a block cannot match. */
enum qry_skip {
	QRY_SKIP_NONE = 0,
	QRY_SKIP_TIME,		/* its time range is outside the filter's */
	QRY_SKIP_STREAM,	/* its stream is ruled out */
	QRY_SKIP_TOKEN,		/* a word the filter needs is absent */
	QRY_SKIP_FIELD,		/* a field the filter needs is absent */
	QRY_SKIP_RANGE,		/* a numeric range is outside the block's */
};

/*
 * 1 if some record of the block may match the filter; 0 only when none
 * can, with *why (if not NULL) set to the reason.  Conservative: OR, NOT
 * and filters the index cannot judge (regex, i(...)) count as "may".
 */
int qry_block_may_match(const struct qry *q, const struct qry_block *b,
    enum qry_skip *why);
/*
 * The same judgement in three values: 0 none can match (*why set), 1
 * some may, 2 every record of the block matches for certain (its time
 * range inside the filter's, its stream selected, and so on).
 */
int qry_block_judge(const struct qry *q, const struct qry_block *b, enum qry_skip *why);

/*
 * Text that the field of every record the filter matches contains (a
 * word, phrase, prefix or exact value the filter cannot do without): 1
 * and *field, *text (owned by q), *n set, or 0 when there is none.  A
 * reader that can find the values holding a string faster than it tests
 * the filter row by row uses it to pass over the others.
 */
int qry_needed_text(const struct qry *q, const char **field, const char **text, size_t *n);

/*
 * The fields the whole query (filter and pipes) reads, for column
 * projection: *all is set to 1 when it needs every field (a plain filter
 * prints whole records); else names[0..*n) lists them (owned by q, valid
 * until qry_free).  _time and _stream are listed when needed.
 */
void qry_fields(const struct qry *q, int *all, const char *const **names, size_t *n);

/* ---- remote servers (qry_remote.c, for logq --remote) ---- */

/* 1 if a _time filter of the query is relative to its "now" (_time:5m). */
int qry_has_relative_time(const struct qry *q);

/*
 * The query as a LogQL log query for Loki's /loki/api/v1/query_range.  A
 * Loki entry has a time, stream labels and a line, so the query needs a
 * stream selector Loki accepts (a label equal to a non-empty value, or
 * matching a regex that rejects the empty value), a lower bound on _time,
 * filters only on _msg (the line), _stream and _time, and no pipe but a
 * final "| limit N".
 *
 * Words, phrases and regexes on _msg become line filters (|= "w", |~,
 * != "x", !~) that keep a superset of the matching entries ("error" is a
 * word of "disk error" but also text of "errors"): the caller applies
 * qry_match to each entry returned (as {_time, _stream, _msg}), so the
 * answer is the local one.  What LogQL cannot narrow (OR across streams,
 * i(...) under NOT, :in() on _msg...) is left to that check.
 *
 * On success out->expr holds the text ('{app="x"} |= "error"'; reset
 * first, release with sb_free), [out->start, out->end) the time range in
 * ns (end: the query's now + 1ns when _time has no upper bound; start ==
 * end when nothing can match), out->limit the N of "| limit N" or 0;
 * returns 0.  Else -1 with why[] naming the part that has no LogQL form
 * ("pipe '| stats' ...", "field filter 'level:' ...").
 */
struct qry_logql {
	struct sb expr;
	int64_t start, end;
	uint64_t limit;
};
int qry_to_logql(const struct qry *q, struct qry_logql *out, char *why, size_t whysz);

#endif
