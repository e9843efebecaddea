/* idx_part.h: writing one immutable logindex part from rows sorted by stream and time. */
#ifndef LOGKIT_IDX_PART_H
#define LOGKIT_IDX_PART_H

#include <stddef.h>
#include <stdint.h>

#include "idx_fmt.h"

/* A field of a row: name k (kept stable and unchanged while the writer
   lives: the writer caches lookups by its address) and value v. */
struct idx_kv {
	const char *k;
	size_t kn;
	const char *v;
	size_t vn;
};

struct idx_pw;

/*
 * Start part id of day in dir: writes DIR/YYYYMMDD/.tmp-ID.part (the
 * day directory is created).  level is the zstd level.
 */
struct idx_pw *idx_pw_new(const char *dir, uint32_t day, uint64_t id, int level,
    char *err, size_t errsz);
/*
 * Add a row.  Rows come stream by stream (stream is the "{a=\"b\"}" text)
 * and in _time order within a stream; a row out of order only starts a
 * new block.  Empty values are not stored (LogsQL: empty is absent).
 * Returns 0 or -1 with err.
 */
int idx_pw_add(struct idx_pw *w, const char *stream, size_t slen, int64_t t,
    const struct idx_kv *kv, size_t n, char *err, size_t errsz);
/*
 * Append block b of part src as it is: its zstd frames and bloom filters
 * are read with pread from src->fd (which must be open) and copied, their
 * checksums checked, not decoded and compressed again.  Reading, not
 * mapping: a merge of many parts then keeps none of them resident.  Ends
 * the block being built.  fmap has src->nfields entries, zero the first
 * time a source is passed; the writer notes in it the fields it has seen
 * (and took the distinct-value counts of).  0 or -1 with err.
 */
int idx_pw_copy_block(struct idx_pw *w, const struct idx_part *src, const struct idx_pblock *b,
    uint32_t *fmap, char *err, size_t errsz);
/* Whether block b is about as big as the writer makes them: worth copying whole. */
int idx_pw_block_full(const struct idx_pblock *b);
/* Rows added so far. */
uint64_t idx_pw_rows(const struct idx_pw *w);
/*
 * Write the index and footer, fsync, rename to DIR/YYYYMMDD/ID.part,
 * fsync the directory; *ent describes the part for the manifest.  The
 * writer is freed either way.  Returns 0 or -1 (the temp file removed).
 */
int idx_pw_finish(struct idx_pw *w, struct idx_ment *ent, char *err, size_t errsz);
/* Give up: remove the temp file and free the writer. */
void idx_pw_abort(struct idx_pw *w);

#endif
