/* idx_fmt.h: the logindex on-disk format (see logindex(5)): constants, encodings, bloom filters, validated part access. */
#ifndef LOGKIT_IDX_FMT_H
#define LOGKIT_IDX_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/*
 * Internal to the idx_* modules (writer, reader, merge, verify); logq
 * uses idx.h.  All integers on disk are little-endian; sizes below are
 * the exact byte sizes of the fixed structures.  The manifest is at
 * version 2; parts are written at version 3 (version 2 plus stored
 * columns and the uuid encoding) and read at 2 and 3.
 */
#define IDX_VERSION		2	/* the manifest's */
#define IDX_PART_VERSION	3
#define IDX_PART_VERSION_MIN	2
#define IDX_PART_MAGIC		"LOGKPART"
#define IDX_PEND_MAGIC		"LOGKPEND"
#define IDX_MAN_MAGIC		"LOGKMANI"
#define IDX_PART_HDR		32
#define IDX_PART_FTR		64
#define IDX_MAN_HDR		32
#define IDX_MAN_ENT		48
#define IDX_BLOCK_HDR		32
#define IDX_COL_DESC		64
#define IDX_INDEX_HDR		16
#define IDX_RUN			24

#define IDX_HLL_P		10
#define IDX_HLL_M		(1u << IDX_HLL_P)
#define IDX_BLOOM_K		6
#define IDX_BLOOM_BITS		10	/* per distinct token */

/* Limits a reader enforces (a writer never exceeds them). */
#define IDX_MAX_ROWS		65536	/* rows per block */
#define IDX_MAX_RAW		(256u << 20)	/* decoded column bytes */
#define IDX_MAX_DICT		255

enum idx_enc { IDX_ENC_PLAIN = 0, IDX_ENC_DICT = 1, IDX_ENC_TIME = 2, IDX_ENC_UUID = 3 };
#define IDX_COL_NUM		1	/* flags: nmin/nmax are meaningful */
#define IDX_COL_STORED		2	/* flags: the bytes are not compressed (version 3) */
#define IDX_UUID_LEN		36	/* a uuid's text: 8-4-4-4-12 lowercase hex digits */

/* ---- little-endian access and varints ---- */
static inline uint32_t idx_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t idx_get64(const unsigned char *p)
{
	return (uint64_t)idx_get32(p) | (uint64_t)idx_get32(p + 4) << 32;
}
static inline void idx_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline void idx_put64(unsigned char *p, uint64_t v)
{
	idx_put32(p, (uint32_t)v);
	idx_put32(p + 4, (uint32_t)(v >> 32));
}
int idx_sb_put32(struct sb *s, uint32_t v);
int idx_sb_put64(struct sb *s, uint64_t v);
int idx_sb_putvar(struct sb *s, uint64_t v);
/* Read a varint at *p (< end); returns 0 or -1 when malformed/truncated. */
int idx_getvar(const unsigned char **p, const unsigned char *end, uint64_t *v);
double idx_getf64(const unsigned char *p);
void idx_putf64(unsigned char *p, double v);

/* ---- tokens, bloom filters, cardinality sketches ---- */
uint64_t idx_hash(const void *p, size_t n);
/* Call cb(arg, hash) for every tok.h word of s[0..n). */
void idx_tokens(const char *s, size_t n, void (*cb)(void *arg, uint64_t h), void *arg);
/* Bloom filter bytes for ntok distinct tokens (a multiple of 8, >= 8). */
size_t idx_bloom_size(size_t ntok);
void idx_bloom_add(unsigned char *bf, size_t size, uint64_t h);
int idx_bloom_test(const unsigned char *bf, size_t size, uint64_t h);
void idx_hll_add(unsigned char *reg, uint64_t h);
double idx_hll_estimate(const unsigned char *reg);
/* 1 and *v when s[0..n) is a number as LogsQL reads one. */
int idx_num(const char *s, size_t n, double *v);
/* 1 and the 16 bytes in out when s is a uuid in canonical lowercase text (IDX_UUID_LEN bytes). */
int idx_uuid_parse(const char *s, size_t n, unsigned char out[16]);

/* Days since the epoch of a time; the "YYYYMMDD" directory name of a day. */
int64_t idx_day(int64_t ns);
void idx_day_name(int64_t day, char buf[16]);

/* ---- a mapped, validated part ---- */
struct idx_pfield {
	const char *name;	/* not NUL-terminated */
	size_t nlen;
	uint64_t nonempty;
	const unsigned char *hll;	/* IDX_HLL_M registers */
};

struct idx_pstream {
	const char *text;	/* "{a=\"b\"}", not NUL-terminated */
	size_t len;
};

struct idx_col {
	uint32_t field;
	unsigned enc, flags;
	uint64_t off;
	uint32_t csize, rawsize, bloomsize, nonempty;
	double nmin, nmax;
	uint64_t sum;
	uint64_t boff;		/* offset of the bloom filter (bloomsize bytes) */
};

struct idx_pblock {
	uint32_t stream, nrows, ncols;
	int64_t tmin, tmax;
	const unsigned char *cols;	/* ncols descriptors */
	uint64_t off;			/* offset of its header in the file */
};

struct idx_part {
	char *path;
	const unsigned char *map;
	size_t size;
	uint64_t id;
	uint32_t day;
	uint32_t version;
	uint64_t records;
	int64_t tmin, tmax;
	uint32_t nfields, nstreams, nblocks, nruns;
	struct idx_pfield *fields;
	struct idx_pstream *streams;
	struct idx_pblock *blocks;
	const unsigned char *runs;	/* nruns bloom runs: u64 offset, u64 size, u64 XXH64 */
	int fd;				/* for pread, when the caller opened it (else -1) */
};

/*
 * Map path and validate its header, footer, index checksum and every
 * size and offset of its tables (column data is checked when decoded).
 * Returns 0, or -1 with err "PATH: what (offset N)".
 */
int idx_part_open(struct idx_part *p, const char *path, char *err, size_t errsz);
/* The same over bytes in memory (not copied; for the fuzz target). */
int idx_part_parse(struct idx_part *p, const unsigned char *map, size_t size,
    char *err, size_t errsz);
void idx_part_close(struct idx_part *p);
void idx_col_get(const struct idx_pblock *b, uint32_t i, struct idx_col *c);

/* A decoded column: values of rows 0..nrows-1 (len 0: absent or empty). */
struct idx_dec {
	struct sb raw;			/* decompressed bytes */
	const char **v;
	uint32_t *len;
	int64_t *t;			/* IDX_ENC_TIME */
	uint32_t cap;
	/* dictionary columns: codes[] per row and the entries */
	const unsigned char *codes;
	uint32_t ndict;
	const char *dv[IDX_MAX_DICT];
	uint32_t dlen[IDX_MAX_DICT];
};

/*
 * Check the checksum of column c of block b and decode it.  Returns 0,
 * or -1 with err "PATH: what (offset N)" when it does not verify.
 * zctx is a ZSTD_DCtx (void * so that this header needs no zstd.h).
 */
int idx_col_decode(const struct idx_part *p, const struct idx_pblock *b,
    const struct idx_col *c, struct idx_dec *d, void *zctx, char *err, size_t errsz);
/*
 * The n columns cols[] of block b (reordered by offset), each decoded
 * into decs[its field], read with pread into buf (kept for the next
 * call) instead of touching the mapping: cheaper for a block here and
 * there than a page fault per column, which some VMs make costly.
 * Columns that lie back to back come in one read (a writer puts a
 * block's small columns together).  Without a descriptor in p, the
 * mapping serves.  0, or -1 with err for the first that fails.
 */
int idx_cols_decode_pread(const struct idx_part *p, const struct idx_pblock *b,
    struct idx_col *cols, size_t n, struct idx_dec *decs, struct sb *buf, void *zctx,
    char *err, size_t errsz);
/* Check the bloom runs' checksums; 0 or -1 with err. */
int idx_part_check_runs(const struct idx_part *p, char *err, size_t errsz);
/* The same, and that every column's bloom lies in one. */
int idx_part_check_blooms(const struct idx_part *p, char *err, size_t errsz);
void idx_dec_free(struct idx_dec *d);

/* ---- the manifest ---- */
struct idx_ment {
	uint32_t day;
	uint64_t id, size, records;
	int64_t tmin, tmax;
};

struct idx_man {
	uint64_t next_id;
	struct idx_ment *e;
	size_t n, cap;
};

/* "DIR/YYYYMMDD/ID.part" into buf; returns 0 or -1 when it does not fit. */
int idx_part_path(const char *dir, uint32_t day, uint64_t id, char *buf, size_t size);
/* Parse manifest bytes; err "what (offset N)". */
int idx_man_parse(struct idx_man *m, const unsigned char *b, size_t n, char *err, size_t errsz);
/* Read DIR/MANIFEST; -1 with errno ENOENT when there is none (err set too). */
int idx_man_read(struct idx_man *m, const char *dir, char *err, size_t errsz);
/* Write DIR/MANIFEST atomically (temp, fsync, rename, fsync dir). */
int idx_man_write(const struct idx_man *m, const char *dir, char *err, size_t errsz);
int idx_man_add(struct idx_man *m, const struct idx_ment *e);
void idx_man_free(struct idx_man *m);
/* fsync a directory. */
int idx_fsync_dir(const char *dir);

#endif
