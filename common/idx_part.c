/* idx_part.c: the part writer: rows in, columnar zstd blocks with blooms, dictionaries and min/max out. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "afile.h"
#include "idx_part.h"

/*
 * Small blocks: a search for a rare word decodes only the blocks whose
 * bloom filters say "maybe", so their size is what it costs per hit
 * (64 KiB: about 250 records of 250 bytes); scans pay per block a
 * little, and compression loses a little.
 */
#define BLOCK_ROWS	4096
#define BLOCK_BYTES	(64u << 10)
#define NCACHE		64
#define DICT_SLOTS	512
#define SEG_BYTES	(8u << 20)	/* column bytes held before they are written */

/* One field's column in the block being built. */
struct colb {
	uint32_t rows;			/* rows appended (padding included) */
	uint32_t nonempty;
	struct sb lens, data;
	int dict_ok;
	uint32_t ndict;
	uint64_t dhash[IDX_MAX_DICT];
	uint32_t doff[IDX_MAX_DICT], dlen[IDX_MAX_DICT];
	short dslot[DICT_SLOTS];	/* hash slot -> code + 1 */
	struct sb codes, dictdata;
	uint64_t *toks;			/* distinct token hashes (open addressing, 0 = free) */
	uint32_t *tslot;		/* the slots in use, ntok of them: no sweep of tcap */
	size_t ntok, tcap;
	int oom;			/* a token could not be kept */
	int num;
	double nmin, nmax;
};

struct pfield {
	char *name;
	size_t nlen;
	uint64_t nonempty;
	unsigned char hll[IDX_HLL_M];
	struct colb c;
};

struct idx_pw {
	char *dir, tmp[4200], final[4200];
	uint32_t day;
	uint64_t id;
	int fd, level;
	ZSTD_CCtx *zc;
	uint64_t off;			/* file offset of out.buf[0] + out.len */
	struct sb out;			/* write buffer */
	struct pfield *f;
	size_t nf, capf;
	struct { const char *k; uint32_t fid; } cache[NCACHE];
	/* streams */
	struct sb streams;		/* u32 len + text, the table as written */
	uint32_t nstreams;
	char *cur;			/* current stream text */
	size_t curlen;
	/* block being built */
	uint32_t brows;
	size_t bbytes;
	int64_t *bt;
	int64_t tmin, tmax, ptmin, ptmax;
	struct sb blocks;		/* block headers and column descriptors */
	uint32_t nblocks;
	/*
	 * A segment: the zstd frames and bloom filters of the last blocks
	 * wait here and go out field by field (frames, then blooms), so
	 * that a reader of one field's column or blooms, block after
	 * block, finds them side by side instead of one page per block.
	 */
	struct sb seg;
	struct pbl {
		size_t desc, rel, seq;
		uint32_t field, size;
		int bloom, small;
	} *pend;
	size_t npend, cappend;
	struct sb runs;			/* bloom runs for the index section */
	uint32_t nruns;
	XXH64_state_t *xs;
	uint64_t rows;
	struct sb scratch, z;
};

static int
wfail(char *err, size_t errsz, const char *what, const char *path)
{
	if (errno == ENOMEM)
		snprintf(err, errsz, "out of memory");
	else
		snprintf(err, errsz, "%s%s%s", path ? path : "", path ? ": " : "", what);
	return -1;
}

struct idx_pw *
idx_pw_new(const char *dir, uint32_t day, uint64_t id, int level, char *err, size_t errsz)
{
	struct idx_pw *w = calloc(1, sizeof(*w));
	char dn[16], ddir[4096];

	if (w == NULL || (w->dir = strdup(dir)) == NULL || (w->zc = ZSTD_createCCtx()) == NULL ||
	    (w->bt = malloc(BLOCK_ROWS * sizeof(*w->bt))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto bad;
	}
	w->fd = -1;
	w->day = day;
	w->id = id;
	w->level = level;
	w->ptmin = INT64_MAX;
	w->ptmax = INT64_MIN;
	idx_day_name(day, dn);
	snprintf(ddir, sizeof(ddir), "%s/%s", dir, dn);
	if (mkdir(ddir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", ddir, strerror(errno));
		goto bad;
	}
	snprintf(w->tmp, sizeof(w->tmp), "%s/.tmp-%016llx.part", ddir, (unsigned long long)id);
	if (idx_part_path(dir, day, id, w->final, sizeof(w->final)) < 0) {
		snprintf(err, errsz, "%s: path too long", dir);
		goto bad;
	}
	if ((w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		snprintf(err, errsz, "%s: %s", w->tmp, strerror(errno));
		goto bad;
	}
	{
		unsigned char h[IDX_PART_HDR] = { 0 };

		memcpy(h, IDX_PART_MAGIC, 8);
		idx_put32(h + 8, IDX_PART_VERSION);
		idx_put32(h + 12, IDX_PART_HDR);
		idx_put64(h + 16, id);
		idx_put32(h + 24, day);
		if (sb_add(&w->out, h, sizeof(h)) < 0) {
			snprintf(err, errsz, "out of memory");
			goto bad;
		}
		w->off = IDX_PART_HDR;
	}
	return w;
bad:
	idx_pw_abort(w);
	return NULL;
}

static int
flush_out(struct idx_pw *w)
{
	if (fd_write_all(w->fd, w->out.buf, w->out.len) < 0)
		return -1;
	w->out.len = 0;
	return 0;
}

static int
emit(struct idx_pw *w, const void *p, size_t n)
{
	if (sb_add(&w->out, p, n) < 0)
		return -1;
	w->off += n;
	if (w->out.len >= (1u << 20))
		return flush_out(w);
	return 0;
}

static void
colb_free(struct colb *c)
{
	sb_free(&c->lens);
	sb_free(&c->data);
	sb_free(&c->codes);
	sb_free(&c->dictdata);
	free(c->toks);
	free(c->tslot);
}

static void
colb_reset(struct colb *c)
{
	c->rows = c->nonempty = 0;
	c->lens.len = c->data.len = c->codes.len = c->dictdata.len = 0;
	c->dict_ok = 1;
	c->ndict = 0;
	memset(c->dslot, 0, sizeof(c->dslot));
	for (size_t i = 0; i < c->ntok; i++)
		c->toks[c->tslot[i]] = 0;
	c->ntok = 0;
	c->oom = 0;
	c->num = 0;
	c->nmin = INFINITY;
	c->nmax = -INFINITY;
}

void
idx_pw_abort(struct idx_pw *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	for (size_t i = 0; i < w->nf; i++) {
		free(w->f[i].name);
		colb_free(&w->f[i].c);
	}
	free(w->f);
	ZSTD_freeCCtx(w->zc);
	sb_free(&w->out);
	sb_free(&w->streams);
	sb_free(&w->blocks);
	sb_free(&w->seg);
	sb_free(&w->runs);
	if (w->xs != NULL)
		XXH64_freeState(w->xs);
	free(w->pend);
	sb_free(&w->scratch);
	sb_free(&w->z);
	free(w->cur);
	free(w->bt);
	free(w->dir);
	free(w);
}

uint64_t
idx_pw_rows(const struct idx_pw *w)
{
	return w->rows;
}

static void
tok_insert(void *arg, uint64_t h)
{
	struct colb *c = arg;
	size_t i;

	if (h == 0)
		h = 1;
	if ((c->ntok + 1) * 2 > c->tcap) {
		size_t nc = c->tcap ? c->tcap * 2 : 1024;
		uint64_t *nt = calloc(nc, sizeof(*nt));
		uint32_t *ns = malloc(nc / 2 * sizeof(*ns));

		if (nt == NULL || ns == NULL) {
			free(nt);
			free(ns);
			c->oom = 1;	/* a missed token would be a false skip: fail */
			return;
		}
		for (size_t k = 0; k < c->ntok; k++) {
			uint64_t t = c->toks[c->tslot[k]];

			for (i = t & (nc - 1); nt[i]; i = (i + 1) & (nc - 1))
				;
			nt[i] = t;
			ns[k] = (uint32_t)i;
		}
		free(c->toks);
		free(c->tslot);
		c->toks = nt;
		c->tslot = ns;
		c->tcap = nc;
	}
	for (i = h & (c->tcap - 1); c->toks[i]; i = (i + 1) & (c->tcap - 1))
		if (c->toks[i] == h)
			return;
	c->toks[i] = h;
	c->tslot[c->ntok++] = (uint32_t)i;
}

static void
num_note(struct colb *c, const char *v, size_t n)
{
	double d;

	if (idx_num(v, n, &d)) {
		c->num = 1;
		if (d < c->nmin)
			c->nmin = d;
		if (d > c->nmax)
			c->nmax = d;
	}
}

static int
pad(struct colb *c, uint32_t rows)
{
	while (c->rows < rows) {
		if (sb_addc(&c->lens, 0) < 0)
			return -1;
		if (c->dict_ok) {
			/* code of "" : make sure the dictionary has it */
			if (sb_addc(&c->codes, 0xff) < 0)
				return -1;
		}
		c->rows++;
	}
	return 0;
}

static int
add_value(struct pfield *pf, const char *v, size_t n)
{
	struct colb *c = &pf->c;
	uint64_t h = idx_hash(v, n);

	idx_hll_add(pf->hll, h);
	pf->nonempty++;
	c->nonempty++;
	if (idx_sb_putvar(&c->lens, n) < 0 || sb_add(&c->data, v, n) < 0)
		return -1;
	if (c->dict_ok) {
		unsigned s = (unsigned)(h & (DICT_SLOTS - 1));
		int code = -1;

		while (c->dslot[s]) {
			int k = c->dslot[s] - 1;

			if (c->dhash[k] == h && c->dlen[k] == n &&
			    memcmp(c->dictdata.buf + c->doff[k], v, n) == 0) {
				code = k;
				break;
			}
			s = (s + 1) & (DICT_SLOTS - 1);
		}
		if (code < 0 && c->ndict < IDX_MAX_DICT - 1) {
			/* a new entry (the last code is kept for "") */
			code = (int)c->ndict++;
			c->dhash[code] = h;
			c->doff[code] = (uint32_t)c->dictdata.len;
			c->dlen[code] = (uint32_t)n;
			c->dslot[s] = (short)(code + 1);
			if (sb_add(&c->dictdata, v, n) < 0)
				return -1;
			idx_tokens(v, n, tok_insert, c);
			num_note(c, v, n);
		}
		if (code >= 0) {
			if (sb_addc(&c->codes, code) < 0)
				return -1;
		} else {
			/* too many distinct values: plain from now on; the
			   values seen so far are in data already */
			c->dict_ok = 0;
		}
	}
	if (!c->dict_ok) {
		idx_tokens(v, n, tok_insert, c);
		num_note(c, v, n);
	}
	c->rows++;
	return c->oom ? -1 : 0;
}

static int seg_add(struct idx_pw *w, uint32_t fid, const void *p, size_t n, int bloom);

/*
 * Columns this small are stored as they are: a zstd frame of a few
 * hundred bytes saves a few hundred bytes at most, and costs a reader
 * 2-3 us to decode, most of a rare word's hit block.
 */
#define STORE_MAX 1024

static int
write_col(struct idx_pw *w, uint32_t fid, unsigned enc, const struct sb *raw, struct colb *c,
    uint32_t nonempty)
{
	unsigned char d[IDX_COL_DESC] = { 0 };
	size_t bound = ZSTD_compressBound(raw->len), zn = 0, bsize = 0;
	int stored = enc == IDX_ENC_UUID || raw->len <= STORE_MAX;

	if (sb_grow(&w->z, bound) < 0)	/* bound >= raw->len: room to store it too */
		return -1;
	if (!stored) {
		zn = ZSTD_compressCCtx(w->zc, w->z.buf, w->z.cap, raw->buf ? raw->buf : "", raw->len, w->level);
		if (ZSTD_isError(zn)) {
			errno = EINVAL;
			return -1;
		}
		stored = zn >= raw->len;	/* did not compress */
	}
	if (stored) {
		if (raw->len > 0)
			memcpy(w->z.buf, raw->buf, raw->len);
		zn = raw->len;
	}
	if (c != NULL) {
		bsize = idx_bloom_size(c->ntok);
		if (sb_grow(&w->z, zn + bsize) < 0)
			return -1;
		memset(w->z.buf + zn, 0, bsize);
		for (size_t i = 0; i < c->ntok; i++)
			idx_bloom_add((unsigned char *)w->z.buf + zn, bsize, c->toks[c->tslot[i]]);
	}
	if (seg_add(w, fid, w->z.buf, zn, 0) < 0 ||
	    (bsize > 0 && seg_add(w, fid, w->z.buf + zn, bsize, 1) < 0))
		return -1;
	idx_put32(d, fid);
	d[4] = (unsigned char)enc;
	d[5] = (c != NULL && c->num ? IDX_COL_NUM : 0) | (stored ? IDX_COL_STORED : 0);
	idx_put32(d + 16, (uint32_t)zn);
	idx_put32(d + 20, (uint32_t)(enc == IDX_ENC_UUID ? IDX_UUID_LEN * (size_t)nonempty : raw->len));
	idx_put32(d + 24, (uint32_t)bsize);
	idx_put32(d + 28, nonempty);
	idx_putf64(d + 32, c != NULL ? c->nmin : 0);
	idx_putf64(d + 40, c != NULL ? c->nmax : 0);
	idx_put64(d + 48, XXH64(w->z.buf, zn, 0));
	/* d + 8 and d + 56, the offsets, are set when the segment is written */
	return sb_add(&w->blocks, d, sizeof(d));
}

/*
 * A segment's columns of at most SMALL_RUN bytes come first, a block's
 * side by side in block order; then each field's larger columns, in
 * block order.  A reader picking out a few blocks (a rare word's) gets a
 * block's small columns, most of its fields, in one read; a reader of
 * one field over every block reads a little more than that field.
 */
#define SMALL_RUN 2048

/* Note n bytes of the column whose descriptor comes next in w->blocks; they go at the end of seg. */
static struct pbl *
seg_note(struct idx_pw *w, uint32_t fid, size_t n, int bloom)
{
	struct pbl *pb;

	if (w->npend == w->cappend) {
		size_t nc = w->cappend ? w->cappend * 2 : 256;
		struct pbl *nv = realloc(w->pend, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		w->pend = nv;
		w->cappend = nc;
	}
	pb = &w->pend[w->npend++];
	pb->desc = w->blocks.len;
	pb->rel = w->seg.len;
	pb->seq = w->npend - 1;
	pb->field = fid;
	pb->size = (uint32_t)n;
	pb->bloom = bloom;
	pb->small = !bloom && n <= SMALL_RUN;
	return pb;
}

/* Hold a copy of bytes of the column whose descriptor comes next. */
static int
seg_add(struct idx_pw *w, uint32_t fid, const void *p, size_t n, int bloom)
{
	if (seg_note(w, fid, n, bloom) == NULL)
		return -1;
	return sb_add(&w->seg, p, n);
}

/* Hold a copy of n bytes at off of src, read with pread (no mapping: no page faults, nothing resident). */
static int
seg_pread(struct idx_pw *w, uint32_t fid, const struct idx_part *src, uint64_t off, size_t n, int bloom)
{
	size_t got = 0;

	if (seg_note(w, fid, n, bloom) == NULL || sb_grow(&w->seg, n) < 0)
		return -1;
	while (got < n) {
		ssize_t r = pread(src->fd, w->seg.buf + w->seg.len + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)r;
	}
	w->seg.len += n;
	return 0;
}


static int
pbl_cmp(const void *a, const void *b)
{
	const struct pbl *x = a, *y = b;

	if (x->bloom != y->bloom)
		return x->bloom - y->bloom;
	if (x->small != y->small)
		return y->small - x->small;
	if (!x->small && x->field != y->field)
		return x->field < y->field ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* End the bloom run that started at offset start (nothing when empty). */
static int
end_run(struct idx_pw *w, uint64_t start)
{
	if (w->off == start)
		return 0;
	if (idx_sb_put64(&w->runs, start) < 0 || idx_sb_put64(&w->runs, w->off - start) < 0 ||
	    idx_sb_put64(&w->runs, XXH64_digest(w->xs)) < 0)
		return -1;
	w->nruns++;
	return 0;
}

/*
 * Write the segment: the small columns, then the rest grouped by field
 * (SMALL_RUN), then the blooms by field; point the descriptors at where
 * their bytes went.  A field's blooms in a segment make a bloom run,
 * listed with its checksum in the index section (readers use blooms
 * without checking them; --verify checks the runs).
 */
static int
flush_seg(struct idx_pw *w)
{
	uint64_t start = 0;
	int inrun = 0;

	if (w->xs == NULL && (w->xs = XXH64_createState()) == NULL)
		return -1;
	qsort(w->pend, w->npend, sizeof(*w->pend), pbl_cmp);
	for (size_t i = 0; i < w->npend; i++) {
		const struct pbl *pb = &w->pend[i];

		if (pb->bloom && (!inrun || pb->field != w->pend[i - 1].field)) {
			if (inrun && end_run(w, start) < 0)
				return -1;
			inrun = 1;
			start = w->off;
			XXH64_reset(w->xs, 0);
		}
		const void *bytes = w->seg.buf + pb->rel;

		if (pb->bloom)
			XXH64_update(w->xs, bytes, pb->size);
		idx_put64((unsigned char *)w->blocks.buf + pb->desc + (pb->bloom ? 56 : 8), w->off);
		if (emit(w, bytes, pb->size) < 0)
			return -1;
	}
	if (inrun && end_run(w, start) < 0)
		return -1;
	w->npend = 0;
	w->seg.len = 0;
	return 0;
}

/*
 * A column whose every row holds a uuid in canonical lowercase text goes
 * as 16 bytes a row (IDX_ENC_UUID, into raw), smaller than zstd makes the
 * text and read without decompressing; else IDX_ENC_PLAIN (raw left
 * empty).  -1 out of memory.
 */
static int
uuid_col(const struct colb *c, uint32_t rows, struct sb *raw)
{
	if (c->nonempty != rows || c->data.len != (size_t)IDX_UUID_LEN * rows || c->lens.len != rows)
		return IDX_ENC_PLAIN;
	if (sb_grow(raw, (size_t)16 * rows) < 0)
		return -1;
	for (uint32_t r = 0; r < rows; r++)
		if ((unsigned char)c->lens.buf[r] != IDX_UUID_LEN ||
		    !idx_uuid_parse(c->data.buf + (size_t)IDX_UUID_LEN * r, IDX_UUID_LEN,
		    (unsigned char *)raw->buf + (size_t)16 * r)) {
			raw->len = 0;
			return IDX_ENC_PLAIN;
		}
	raw->len = (size_t)16 * rows;
	return IDX_ENC_UUID;
}

static int
flush_block(struct idx_pw *w)
{
	unsigned char h[IDX_BLOCK_HDR] = { 0 };
	uint32_t ncols = 1;
	struct sb *raw = &w->scratch;

	if (w->brows == 0)
		return 0;
	for (size_t i = 0; i < w->nf; i++)
		ncols += w->f[i].c.nonempty > 0;
	idx_put32(h, w->nstreams - 1);
	idx_put32(h + 4, w->brows);
	idx_put64(h + 8, (uint64_t)w->tmin);
	idx_put64(h + 16, (uint64_t)w->tmax);
	idx_put32(h + 24, ncols);
	if (sb_add(&w->blocks, h, sizeof(h)) < 0)
		return -1;
	/* _time: deltas from the block's minimum, as varints */
	raw->len = 0;
	for (uint32_t i = 0; i < w->brows; i++)
		if (idx_sb_putvar(raw, (uint64_t)(w->bt[i] - (i ? w->bt[i - 1] : w->tmin))) < 0)
			return -1;
	/* field 0 of every part is _time */
	if (write_col(w, 0, IDX_ENC_TIME, raw, NULL, w->brows) < 0)
		return -1;
	for (size_t i = 0; i < w->nf; i++) {
		struct colb *c = &w->f[i].c;
		int enc;

		if (c->nonempty == 0) {
			colb_reset(c);
			continue;
		}
		if (pad(c, w->brows) < 0)
			return -1;
		raw->len = 0;
		if (c->dict_ok) {
			uint32_t empty = c->ndict;	/* code for "" when rows lack the field */
			int has_empty = c->nonempty < w->brows;

			if (idx_sb_putvar(raw, c->ndict + has_empty) < 0)
				return -1;
			for (uint32_t k = 0; k < c->ndict; k++)
				if (idx_sb_putvar(raw, c->dlen[k]) < 0 ||
				    sb_add(raw, c->dictdata.buf + c->doff[k], c->dlen[k]) < 0)
					return -1;
			if (has_empty && idx_sb_putvar(raw, 0) < 0)
				return -1;
			for (uint32_t r = 0; r < w->brows; r++)
				if ((unsigned char)c->codes.buf[r] == 0xff)
					c->codes.buf[r] = (char)empty;
			if (sb_add(raw, c->codes.buf, c->codes.len) < 0)
				return -1;
			enc = IDX_ENC_DICT;
		} else if ((enc = uuid_col(c, w->brows, raw)) < 0) {
			return -1;
		} else if (enc == IDX_ENC_PLAIN) {
			if (sb_add(raw, c->lens.buf, c->lens.len) < 0 ||
			    sb_add(raw, c->data.buf, c->data.len) < 0)
				return -1;
		}
		if (write_col(w, (uint32_t)i + 1, (unsigned)enc, raw, c, c->nonempty) < 0)
			return -1;
		colb_reset(c);
	}
	w->nblocks++;
	w->brows = 0;
	w->bbytes = 0;
	if (w->seg.len >= SEG_BYTES)
		return flush_seg(w);
	return 0;
}

static int
field_id(struct idx_pw *w, const char *k, size_t kn, uint32_t *fid)
{
	unsigned s = (unsigned)(((uintptr_t)k >> 3) % NCACHE);
	size_t i;

	if (w->cache[s].k == k) {
		*fid = w->cache[s].fid;
		return 0;
	}
	for (i = 0; i < w->nf; i++)
		if (w->f[i].nlen == kn && memcmp(w->f[i].name, k, kn) == 0)
			break;
	if (i == w->nf) {
		if (kn == 0 || kn > 65535 || w->nf >= 65535) {
			errno = EINVAL;
			return -1;
		}
		if (w->nf == w->capf) {
			size_t nc = w->capf ? w->capf * 2 : 16;
			struct pfield *nv = realloc(w->f, nc * sizeof(*nv));

			if (nv == NULL)
				return -1;
			w->f = nv;
			w->capf = nc;
		}
		memset(&w->f[i], 0, sizeof(w->f[i]));
		if ((w->f[i].name = malloc(kn + 1)) == NULL)
			return -1;
		memcpy(w->f[i].name, k, kn);
		w->f[i].name[kn] = '\0';
		w->f[i].nlen = kn;
		colb_reset(&w->f[i].c);
		w->nf++;
	}
	w->cache[s].k = k;
	w->cache[s].fid = (uint32_t)i;
	*fid = (uint32_t)i;
	return 0;
}

static int
is_new_stream(const struct idx_pw *w, const char *stream, size_t slen)
{
	return w->cur == NULL || w->curlen != slen || memcmp(w->cur, stream, slen) != 0;
}

/* Make stream the current one, the next in the part's stream table. */
static int
new_stream(struct idx_pw *w, const char *stream, size_t slen)
{
	char *nc = malloc(slen + 1);

	if (nc == NULL || idx_sb_put32(&w->streams, (uint32_t)slen) < 0 ||
	    sb_add(&w->streams, stream, slen) < 0) {
		free(nc);
		return -1;
	}
	memcpy(nc, stream, slen);
	free(w->cur);
	w->cur = nc;
	w->curlen = slen;
	w->nstreams++;
	return 0;
}

int
idx_pw_add(struct idx_pw *w, const char *stream, size_t slen, int64_t t,
    const struct idx_kv *kv, size_t n, char *err, size_t errsz)
{
	int newstream = is_new_stream(w, stream, slen);

	if (newstream || w->brows >= BLOCK_ROWS || w->bbytes >= BLOCK_BYTES ||
	    (w->brows > 0 && t < w->bt[w->brows - 1])) {
		if (flush_block(w) < 0)
			return wfail(err, errsz, strerror(errno), w->tmp);
	}
	if (newstream && new_stream(w, stream, slen) < 0)
		return wfail(err, errsz, "out of memory", NULL);
	if (w->brows == 0)
		w->tmin = w->tmax = t;
	if (t < w->tmin)
		w->tmin = t;
	if (t > w->tmax)
		w->tmax = t;
	if (t < w->ptmin)
		w->ptmin = t;
	if (t > w->ptmax)
		w->ptmax = t;
	w->bt[w->brows] = t;
	for (size_t i = 0; i < n; i++) {
		uint32_t fid;
		struct pfield *pf;

		if (kv[i].vn == 0)
			continue;
		if (field_id(w, kv[i].k, kv[i].kn, &fid) < 0)
			return wfail(err, errsz, "bad field name", NULL);
		pf = &w->f[fid];
		/* a repeated field in one row: the first value wins */
		if (pf->c.rows > w->brows)
			continue;
		if (pad(&pf->c, w->brows) < 0 || add_value(pf, kv[i].v, kv[i].vn) < 0)
			return wfail(err, errsz, "out of memory", NULL);
		w->bbytes += kv[i].vn + 2;
	}
	w->brows++;
	w->rows++;
	return 0;
}

int
idx_pw_block_full(const struct idx_pblock *b)
{
	uint64_t raw = 0;

	for (uint32_t i = 0; i < b->ncols; i++)
		raw += idx_get32(b->cols + (size_t)i * IDX_COL_DESC + 20);
	return b->nrows >= BLOCK_ROWS / 4 || raw >= BLOCK_BYTES / 4;
}

/* A copied block's column: its index in the source block, its field index in the part written. */
struct ccol {
	uint32_t out, k;
};

static int
ccol_cmp(const void *a, const void *b)
{
	const struct ccol *x = a, *y = b;

	return x->out < y->out ? -1 : x->out > y->out;
}

/* The field index in w of src's field f (the first time: its distinct values and name noted too). */
static int
copy_field(struct idx_pw *w, const struct idx_part *src, uint32_t f, uint32_t *fmap, uint32_t *out)
{
	if (f == 0) {
		*out = 0;
		return 0;
	}
	if (fmap[f] == 0) {
		const struct idx_pfield *sf = &src->fields[f];
		struct pfield *pf;
		uint32_t fid;

		if (field_id(w, sf->name, sf->nlen, &fid) < 0)
			return -1;
		pf = &w->f[fid];
		for (uint32_t r = 0; r < IDX_HLL_M; r++)
			if (sf->hll[r] > pf->hll[r])
				pf->hll[r] = sf->hll[r];
		fmap[f] = fid + 1;
	}
	*out = fmap[f];
	return 0;
}

int
idx_pw_copy_block(struct idx_pw *w, const struct idx_part *src, const struct idx_pblock *b,
    uint32_t *fmap, char *err, size_t errsz)
{
	const struct idx_pstream *s = &src->streams[b->stream];
	unsigned char h[IDX_BLOCK_HDR] = { 0 };
	struct ccol small[64], *cc = small;
	int rc = -1;

	if (flush_block(w) < 0)
		return wfail(err, errsz, strerror(errno), w->tmp);
	if (is_new_stream(w, s->text, s->len) && new_stream(w, s->text, s->len) < 0)
		return wfail(err, errsz, "out of memory", NULL);
	if (b->ncols > sizeof(small) / sizeof(*small) && (cc = malloc(b->ncols * sizeof(*cc))) == NULL)
		return wfail(err, errsz, "out of memory", NULL);
	/* fields renumbered: the descriptors go out in field order, as flush_block writes them */
	for (uint32_t k = 0; k < b->ncols; k++) {
		cc[k].k = k;
		if (copy_field(w, src, idx_get32(b->cols + (size_t)k * IDX_COL_DESC), fmap, &cc[k].out) < 0) {
			wfail(err, errsz, "bad field name", NULL);
			goto out;
		}
	}
	qsort(cc, b->ncols, sizeof(*cc), ccol_cmp);
	idx_put32(h, w->nstreams - 1);
	idx_put32(h + 4, b->nrows);
	idx_put64(h + 8, (uint64_t)b->tmin);
	idx_put64(h + 16, (uint64_t)b->tmax);
	idx_put32(h + 24, b->ncols);
	if (sb_add(&w->blocks, h, sizeof(h)) < 0) {
		wfail(err, errsz, "out of memory", NULL);
		goto out;
	}
	for (uint32_t i = 0; i < b->ncols; i++) {
		uint32_t out = cc[i].out;
		const unsigned char *zp;
		unsigned char *d;
		struct idx_col c;

		idx_col_get(b, cc[i].k, &c);
		if (out > 0)
			w->f[out - 1].nonempty += c.nonempty;
		/* the notes say where the descriptor that follows goes */
		if (seg_pread(w, out, src, c.off, c.csize, 0) < 0 ||
		    (c.bloomsize > 0 && seg_pread(w, out, src, c.boff, c.bloomsize, 1) < 0)) {
			wfail(err, errsz, strerror(errno), src->path);
			goto out;
		}
		zp = (const unsigned char *)w->seg.buf + w->seg.len - c.csize - c.bloomsize;
		if (XXH64(zp, c.csize, 0) != c.sum) {
			snprintf(err, errsz, "%s: bad column checksum (offset %llu)", src->path,
			    (unsigned long long)c.off);
			goto out;
		}
		if (sb_grow(&w->blocks, IDX_COL_DESC) < 0) {
			wfail(err, errsz, "out of memory", NULL);
			goto out;
		}
		d = (unsigned char *)w->blocks.buf + w->blocks.len;
		memcpy(d, b->cols + (size_t)cc[i].k * IDX_COL_DESC, IDX_COL_DESC);
		idx_put32(d, out);
		idx_put64(d + 8, 0);	/* the offsets: set when the segment is written */
		idx_put64(d + 56, 0);
		w->blocks.len += IDX_COL_DESC;
	}
	if (b->tmin < w->ptmin)
		w->ptmin = b->tmin;
	if (b->tmax > w->ptmax)
		w->ptmax = b->tmax;
	w->nblocks++;
	w->rows += b->nrows;
	if (w->seg.len >= SEG_BYTES && flush_seg(w) < 0) {
		wfail(err, errsz, strerror(errno), w->tmp);
		goto out;
	}
	rc = 0;
out:
	if (cc != small)
		free(cc);
	return rc;
}

int
idx_pw_finish(struct idx_pw *w, struct idx_ment *ent, char *err, size_t errsz)
{
	struct sb ix = SB_INIT;
	unsigned char f[IDX_PART_FTR] = { 0 }, hll0[IDX_HLL_M] = { 0 };
	uint64_t ioff;
	int rc = -1;

	if (flush_block(w) < 0 || flush_seg(w) < 0)
		goto syserr;
	ioff = w->off;
	/* index: counts, fields (_time first), streams, blocks */
	if (idx_sb_put32(&ix, (uint32_t)w->nf + 1) < 0 || idx_sb_put32(&ix, w->nstreams) < 0 ||
	    idx_sb_put32(&ix, w->nblocks) < 0 || idx_sb_put32(&ix, w->nruns) < 0)
		goto oom;
	if (sb_add(&ix, "\x05\x00_time", 7) < 0 || idx_sb_put64(&ix, w->rows) < 0 ||
	    sb_add(&ix, hll0, sizeof(hll0)) < 0)
		goto oom;
	for (size_t i = 0; i < w->nf; i++) {
		unsigned char l[2] = { (unsigned char)w->f[i].nlen, (unsigned char)(w->f[i].nlen >> 8) };

		if (sb_add(&ix, l, 2) < 0 || sb_add(&ix, w->f[i].name, w->f[i].nlen) < 0 ||
		    idx_sb_put64(&ix, w->f[i].nonempty) < 0 || sb_add(&ix, w->f[i].hll, IDX_HLL_M) < 0)
			goto oom;
	}
	if (sb_add(&ix, w->streams.buf, w->streams.len) < 0 ||
	    sb_add(&ix, w->blocks.buf, w->blocks.len) < 0 ||
	    sb_add(&ix, w->runs.buf, w->runs.len) < 0)
		goto oom;
	if (emit(w, ix.buf, ix.len) < 0)
		goto syserr;
	idx_put64(f, ioff);
	idx_put64(f + 8, ix.len);
	idx_put64(f + 16, w->rows);
	idx_put64(f + 24, (uint64_t)w->ptmin);
	idx_put64(f + 32, (uint64_t)w->ptmax);
	idx_put64(f + 40, XXH64(ix.buf, ix.len, 0));
	idx_put32(f + 48, IDX_PART_VERSION);
	idx_put32(f + 52, IDX_PART_FTR);
	memcpy(f + 56, IDX_PEND_MAGIC, 8);
	if (emit(w, f, sizeof(f)) < 0 || flush_out(w) < 0 || fsync(w->fd) < 0)
		goto syserr;
	if (close(w->fd) < 0) {
		w->fd = -1;
		unlink(w->tmp);
		goto syserr;
	}
	w->fd = -1;
	if (rename(w->tmp, w->final) < 0) {
		unlink(w->tmp);
		goto syserr;
	}
	{
		char *slash = strrchr(w->final, '/');

		*slash = '\0';
		idx_fsync_dir(w->final);
		idx_fsync_dir(w->dir);
		*slash = '/';
	}
	ent->day = w->day;
	ent->id = w->id;
	ent->size = w->off;
	ent->records = w->rows;
	ent->tmin = w->ptmin;
	ent->tmax = w->ptmax;
	rc = 0;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
	goto out;
syserr:
	snprintf(err, errsz, "%s: %s", w->tmp, strerror(errno));
out:
	sb_free(&ix);
	idx_pw_abort(w);
	return rc;
}
