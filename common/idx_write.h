/* idx_write.h: the single writer of a logindex directory: lock, buffered ingest, commits, merges, retention, stats, verify. */
#ifndef LOGKIT_IDX_WRITE_H
#define LOGKIT_IDX_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "idx.h"
#include "idx_part.h"

struct idx_w_opts {
	int level;		/* zstd level (default 1) */
	size_t buffer;		/* bytes of records kept before a commit (default 32 MiB) */
	size_t max_streams;	/* warn once past this many streams (0: never) */
	unsigned merge_at;	/* merge a day's smallest parts when it has this many (0: never) */
	int verbose;		/* say what each merge did, through warn */
};

struct idx_w;

/*
 * Open dir for writing (created if missing): takes DIR/LOCK (flock; the
 * holder's pid is written in it), reads or creates the MANIFEST, removes
 * temp files and parts no manifest lists (left by a crash).  Fails with
 * "DIR/LOCK: locked by another logindex (pid N)" when a writer holds it.
 * warn gets non-fatal messages (cardinality, a damaged part left alone).
 */
struct idx_w *idx_w_open(const char *dir, const struct idx_w_opts *o,
    idx_warn_fn warn, void *warn_arg, char *err, size_t errsz);
/*
 * Buffer a record: its stream text ("{a=\"b\"}"), _time and fields
 * (names need not stay valid).  Commits by itself when the buffer is
 * full.  Returns 0 or -1 with err.
 */
int idx_w_add(struct idx_w *w, const char *stream, size_t slen, int64_t t,
    const struct idx_kv *kv, size_t n, char *err, size_t errsz);
/*
 * Make every buffered record durable: write parts (one per UTC day),
 * fsync them, replace the MANIFEST atomically; then merge days with
 * too many parts.  Returns 0 or -1 (the records added since the last
 * commit are then not in the index).
 */
int idx_w_commit(struct idx_w *w, char *err, size_t errsz);
/* Records durable in the index since idx_w_open. */
uint64_t idx_w_committed(const struct idx_w *w);
/* Merge the parts of every day that has more than one into one. */
int idx_w_merge_all(struct idx_w *w, char *err, size_t errsz);
/* The same for the parts this writer wrote (the end of an ingest: one part a day). */
int idx_w_merge_run(struct idx_w *w, char *err, size_t errsz);
/* Drop the days that end before cutoff (ns); *days gets how many. */
int idx_w_retention(struct idx_w *w, int64_t cutoff, unsigned *days, char *err, size_t errsz);
/* Commit nothing more; release the lock. */
void idx_w_close(struct idx_w *w);

/* ---- reading the whole index: --stats and --verify ---- */
struct idx_field_stats {
	char *name;
	uint64_t values;	/* records with a non-empty value */
	double cardinality;	/* HyperLogLog estimate of distinct values */
};

struct idx_stats {
	uint64_t records, parts, days, streams, blocks;
	uint64_t bytes_raw;		/* column data before compression */
	uint64_t bytes_compressed;	/* part files on disk */
	int64_t tmin, tmax;		/* valid when records > 0 */
	struct idx_field_stats *fields;
	size_t nfields;
};

/* Damaged parts are left out (warned about). */
int idx_stats_get(const char *dir, struct idx_stats *st, idx_warn_fn warn, void *warn_arg,
    char *err, size_t errsz);
void idx_stats_free(struct idx_stats *st);
/*
 * Check the MANIFEST and every byte of every part (checksums, sizes,
 * column encodings).  Each problem goes to bad ("DIR/20250517/
 * 0000000000000003.part: bad column checksum (offset 4096)").  Returns
 * the number of bad parts, or -1 with err when the MANIFEST itself
 * cannot be read.
 */
long idx_verify(const char *dir, idx_warn_fn bad, void *arg, uint64_t *records,
    char *err, size_t errsz);

#endif
