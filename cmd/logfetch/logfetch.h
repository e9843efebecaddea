/* logfetch.h: logfetch's state shared by its option/IO code and its transfer engine. */
#ifndef LOGFETCH_H
#define LOGFETCH_H

#include <stdint.h>
#include <sys/types.h>
#include <curl/curl.h>

#include "../../common/http.h"
#include "../../common/sha256.h"

enum progress_mode { PROG_AUTO, PROG_NONE, PROG_JSON };

struct opts {
	const char *outdir;
	const char *run_id;
	long jobs;
	long retries;
	long max_redirs;
	double max_time;	/* seconds, whole URL including retries; 0: none */
	long retry_base_ms;
	int no_fsync;		/* --no-fsync: rename without waiting for the disk */
	enum progress_mode progress;
	struct http_opts http;
	struct http_cred cred;	/* origin left NULL: bound per job */
};

enum job_state { J_WAIT, J_RUN, J_DONE };

struct job {
	char *url;		/* as given */
	char *where;		/* "<stdin>:N" when the input line itself is bad, else NULL */
	char *cur;		/* after redirects */
	char *want_sha;		/* lower-case hex, or NULL */
	int from_argv;		/* file:// allowed */
	char *path, *part, *meta, *partmeta, *lock;
	int fd;			/* .part, or -1 */
	int lockfd;		/* the cache entry's lock, held from start to result; or -1 */
	int begun;		/* left the -j queue once: its clock runs */
	int lockwait;		/* told that another process holds the entry */
	struct hw *hw;		/* writer + hasher of the .part (fetch.c) */
	struct sha256 sha;	/* over the .part so far */
	off_t have;		/* .part bytes kept from before this transfer */
	off_t got;		/* bytes written by this transfer */
	int decided;		/* first body byte seen for this transfer */
	int resumed;		/* some bytes came from an earlier .part */
	int restarts;		/* 416 restarts, bounded */
	unsigned attempt;
	int redirs;
	int64_t start_ns, deadline_ns, next_ns, last_prog_ns;
	int64_t xfer_ns;	/* when this attempt started (for its rate) */
	struct http_hdrs hdrs;
	struct http_cred cred;
	struct curl_slist *hl;
	CURL *h;
	long http_status;
	enum job_state st;
	const char *status;	/* downloaded|cached|resumed|failed */
	off_t bytes;
	char sha_hex[65];
	char err[512];
	char curlerr[CURL_ERROR_SIZE];
};

/* What we remember next to a file: NAME's validators and digest. */
struct meta {
	char etag[256];
	char lm[64];
	char sha[65];
	long long bytes;
};

/* part.c: meta files ("key value" lines), written through a temp name. */
int meta_read(const char *path, struct meta *m);
int meta_write(const char *path, const struct meta *m);
/* A validator If-Range may use: a strong ETag, else Last-Modified; NULL if none. */
const char *range_validator(const struct meta *m);
/*
 * part.c: a writer that hashes on one thread and writes (O_DIRECT where
 * it can) on another, 1 MiB blocks at a time.  hw_write returns -1 with
 * errno on a write error; hw_end writes what is left (flush) or drops it,
 * joins the threads and frees *wp.
 */
struct hw *hw_new(int fd, struct sha256 *sha, int writeback);
int hw_write(struct hw *w, const char *p, size_t n);
int hw_end(struct hw **wp, int flush);

/* fetch.c */
void fetch_all(struct opts *o, struct job *jobs, size_t njobs);

/* progress.c: rows on a TTY stderr (auto), JSON lines (json), or nothing. */
void progress_start(enum progress_mode m);
/* Draw a row per running download (at most 10 times a second). */
void progress_tty(struct job *jobs, size_t n);
/* Clear the rows (before a result or a message, and at the end). */
void progress_clear(void);
/* CURLOPT_XFERINFOFUNCTION with the job as data: the JSON lines. */
int progress_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow);
/* logfetch.c: print the result line of a finished job. */
void emit_record(const struct job *j);

#endif
