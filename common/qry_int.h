/* qry_int.h: the query AST shared by the qry_*.c files (not an API). */
#ifndef LOGKIT_QRY_INT_H
#define LOGKIT_QRY_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "qry.h"
#include "sb.h"
#include "stream.h"

enum qf {
	QF_ALL,		/* "*": every record */
	QF_AND, QF_OR, QF_NOT,
	QF_PHRASE,	/* word or "phrase" bounded by word boundaries */
	QF_PREFIX,	/* foo*, "foo bar"* */
	QF_EXACT,	/* :="x" */
	QF_EXACT_PREFIX,/* :="x"* */
	QF_REGEX,	/* :~"re" */
	QF_IN,		/* :in(a,b) exact values */
	QF_RANGE,	/* numeric :>N, :range[a,b) */
	QF_ANY,		/* :* non-empty */
	QF_EMPTY,	/* :"" empty or absent */
	QF_TIME,	/* _time:... */
	QF_STREAM,	/* {a="x"} */
};

/* One label matcher of a stream selector. */
struct qsm {
	char *key, *val;
	int op;			/* '=' equal, '!' not equal, '~' regex, 'x' not regex */
	pcre2_code *re;
};

struct qnode {
	enum qf kind;
	int icase;		/* i(...): val is case-folded */
	char *field;
	char *val;
	size_t vlen;
	int word1;		/* val is exactly one word (tok.h): no tokenizing per block */
	int special;		/* field is _time or _stream, which have no token filters */
	struct qnode **kids;	/* AND, OR, NOT */
	size_t nkids;
	char **vals;		/* IN */
	size_t *vlens, nvals;
	double lo, hi;		/* RANGE */
	int lo_incl, hi_incl;
	int64_t tmin, tmax;	/* TIME, inclusive; or now-dur..now when rel */
	int rel;
	int64_t dur;
	pcre2_code *re;		/* REGEX */
	struct qsm *sm;		/* STREAM */
	size_t nsm;
};

enum qp {
	QP_LIMIT, QP_OFFSET, QP_SORT, QP_FIELDS, QP_DELETE, QP_STATS, QP_TOP,
	QP_UNIQ, QP_FILTER,
};

enum qfn { QS_COUNT, QS_COUNT_UNIQ, QS_SUM, QS_AVG, QS_MIN, QS_MAX, QS_QUANTILE };

struct qstat {
	enum qfn fn;
	char *field;		/* NULL for count() */
	double phi;
	char *name;		/* result field */
};

struct qkey {
	char *field;
	int desc;		/* sort */
	int64_t bucket;		/* stats by (_time:1m): bucket in ns, 0 none */
	double nbucket;		/* stats by (f:10): numeric bucket, 0 none */
};

struct qpipe {
	enum qp kind;
	uint64_t n, off;	/* limit / offset / top N / sort limit+offset */
	int has_n;
	int desc;		/* sort ... desc */
	struct qkey *keys;	/* sort by, stats by, top by, uniq by, fields, delete */
	size_t nkeys;
	struct qstat *st;
	size_t nst;
	struct qnode *filter;
};

struct qry {
	struct qnode *root;
	struct qpipe *pipes;
	size_t npipes;
	int64_t now;
	/* scratch for matching */
	pcre2_match_data *md;
	struct sb tmp, fold, txt;
	char *last_stream;
	struct st_labels labels;
	int labels_ok;
	/* qry_fields */
	char **fnames;
	size_t nfnames;
	int fall;
	/* qry_run_weighted: the fields a first stats pipe reads */
	char **wnames;
	size_t nwnames;
	int wbad;
};

/* qry_eval.c */
int qry_node_match(struct qry *q, const struct qnode *n, struct json_object *rec);
const char *qry_field_text(struct qry *q, struct json_object *rec, const char *field,
    size_t *len);
int qry_phrase_in(const char *s, size_t n, const char *p, size_t pn, int prefix);
size_t qry_fold(const char *s, size_t n, struct sb *out);
int qry_parse_num(const char *s, size_t n, double *v);
void qry_compute_fields(struct qry *q);
/* qry_parse.c */
void qry_node_free(struct qnode *n);
/* qry_pipe.c: a hash table keyed by byte strings (values owned by the caller) */
struct qh_ent {
	char *key;
	size_t klen;
	uint64_t h;
	void *val;
};
struct qh {
	struct qh_ent *v;
	size_t n, cap;
};
/* The entry for key (inserted with val NULL when new; *isnew says so); NULL on ENOMEM. */
struct qh_ent *qh_get(struct qh *t, const char *key, size_t klen, int *isnew);
void qh_free(struct qh *t);
/* Compare field values as LogsQL sorts them: numbers numerically, else bytes. */
int qry_cmp_values(const char *a, size_t an, const char *b, size_t bn);
/* Append the value of field f of a (flat) record to key as a length-prefixed part. */
int qry_key_part(struct sb *key, const char *s, size_t n);

/* qry_stats.c */
int qry_fmt_num(double v, struct sb *out);
struct qstats;
struct qstats *qry_stats_new(const struct qpipe *pp);
/* Add rec, standing for w identical records (w > 1: see qry_run_weighted). */
int qry_stats_push(struct qry *q, struct qstats *s, struct json_object *rec, uint64_t w);
/* Emit the groups in key order through next(arg, rec); returns next's nonzero value. */
int qry_stats_finish(struct qry *q, struct qstats *s,
    int (*next)(void *arg, struct json_object *rec), void *arg);
void qry_stats_free(struct qstats *s);

#endif
