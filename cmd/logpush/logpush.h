/* logpush.h: state shared by logpush's files (options, batch, HTTP, targets). */
#ifndef LOGPUSH_H
#define LOGPUSH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "../../common/http.h"
#include "../../common/sb.h"

enum target { T_VL, T_LOKI, T_INFLUX, T_ES };

/* One record of a batch: where its raw line and encoded form live. */
struct ent {
	size_t raw, rawlen;	/* in batch.raw */
	size_t enc, enclen;	/* in batch.enc (target form) */
	size_t key, keylen;	/* Loki: stream labels JSON in batch.enc */
	int64_t ts;
	int state;		/* E_PENDING, E_SENT, E_REJECTED */
};
enum { E_PENDING, E_SENT, E_REJECTED };

struct batch {
	struct ent *e;
	size_t n, cap;
	struct sb raw, enc;
	size_t bytes;		/* encoded bytes, for --batch-bytes */
	uint64_t end;		/* input stream offset after the last line */
	char **skeys;		/* VictoriaLogs: union of stream label keys */
	size_t nskeys;
};

struct opts {
	enum target to;
	const char *url;
	size_t batch_size, batch_bytes;
	int64_t flush_ns;
	int gzip;
	const char *dead_letter, *spool_dir;
	const char *bearer_file, *basic_file;
	struct http_cred cred;	/* from the secret file, never argv */
	int retries;
	int64_t backoff_ns, backoff_max_ns, timeout_ns;
	int loki_json;
	const char *measurement, *db, *org, *bucket, *index;
	char **tags, **stream_fields;
	size_t ntags, nstream_fields;
	int outcomes, dry_run, health;
	size_t max_streams;
};

struct totals {
	uint64_t read, sent, rejected, failed, spooled, batches, retries;
};

/* The HTTP answer to one request. */
struct resp {
	long status;		/* 0: no answer (connect error, timeout, dropped) */
	struct sb body;
	char err[256];		/* curl's reason when status is 0 */
	int64_t retry_after_ns;	/* from Retry-After, or -1 */
};

/* http.c (prefix lp_: common/http.h owns http_) */
void lp_http_init(struct opts *o);
/* POST body to url with the given content type; one reused connection. */
void lp_post(const char *url, const char *ctype, const char *body, size_t n,
    int gzip, struct resp *r);
void lp_get(const char *url, struct resp *r);
void lp_http_cleanup(void);
/* Read --bearer-token-file (basic 0) or --basic-auth-file into o->cred; dies on error. */
void lp_read_secret(struct opts *o, const char *path, int basic);
/* Transient: no answer, 408, 429, 5xx (not 501, 505). */
int lp_transient(const struct resp *r);
/* The wait before retry k (1-based), ns: http_backoff_ms, Retry-After honoured. */
int64_t lp_backoff(const struct opts *o, int k, const struct resp *r);

/* target.c */
/* Parse JSON text s[0..n) (whole), or NULL. */
json_object *lp_parse(const char *s, size_t n);
/*
 * Add one record (obj, raw line) to b in the target's form.  Returns 0,
 * or 1 when the target cannot carry it (reason in why): the caller
 * dead-letters it.
 */
int tg_add(const struct opts *o, struct batch *b, json_object *obj,
    const char *raw, size_t rawlen, char *why, size_t whysz);
/* The request for the pending records of b: url, content type, body. */
void tg_request(const struct opts *o, struct batch *b, struct sb *url,
    const char **ctype, struct sb *body);
/*
 * Judge the answer to a request that got one.  Marks pending records
 * E_SENT or E_REJECTED (with reasons through reject()), or leaves them
 * pending for a retry; returns 1 when some are left for a retry.
 * A configuration error that no retry can fix (missing database)
 * returns -1 with the message in fatal.
 */
int tg_judge(const struct opts *o, struct batch *b, const struct resp *r,
    char *fatal, size_t fatalsz);
/* The record's stream labels (_stream, --stream-fields), sorted; 1 on bad _stream. */
struct st_labels;
int tg_labels(const struct opts *o, json_object *obj, struct st_labels *l, char *why,
    size_t whysz);
const char *tg_health_path(const struct opts *o);
const char *tg_start_hint(const struct opts *o);

/* dry.c: --dry-run and --health; both return the exit status. */
int dry_run(const struct opts *o);
int health(const struct opts *o);

/* logpush.c */
void reject(struct batch *b, size_t i, const char *reason);
void batch_reset(struct batch *b);

#endif
