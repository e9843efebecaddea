/* idx_read.c: the index reader: a snapshot of the manifest's parts, scanned with the query's push-down. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include "idx.h"
#include "idx_fmt.h"
#include "stream.h"
#include "tok.h"
#include "ts.h"

#define OPEN_TRIES	5
#define CACHE_MAX	4096	/* distinct records cached per block (dictionary-only projections) */
#define COMBO_MAX	65536	/* combinations of dictionary codes counted per block */
#define MAX_FDS		256	/* parts kept open for pread */

struct rpart {
	struct idx_part p;
	char **fname;			/* NUL-terminated field names */
	struct st_labels *labels;	/* parsed streams (NULL: not yet) */
	signed char *smay;		/* per stream: -1 unknown, 0 no, 1 may */
	int bad;
};

struct idx {
	char *dir;
	struct rpart *parts;
	size_t nparts;
	ZSTD_DCtx *zd;
	idx_warn_fn warn;
	void *warn_arg;
};

static void
warnf(struct idx *ix, const char *msg)
{
	if (ix->warn)
		ix->warn(ix->warn_arg, msg);
}

static void
rpart_free(struct rpart *r)
{
	for (uint32_t i = 0; r->fname && i < r->p.nfields; i++)
		free(r->fname[i]);
	free(r->fname);
	for (uint32_t i = 0; r->labels && i < r->p.nstreams; i++)
		st_free(&r->labels[i]);
	free(r->labels);
	free(r->smay);
	idx_part_close(&r->p);
}

static void
close_parts(struct idx *ix)
{
	for (size_t i = 0; i < ix->nparts; i++)
		rpart_free(&ix->parts[i]);
	free(ix->parts);
	ix->parts = NULL;
	ix->nparts = 0;
}

void
idx_close(struct idx *ix)
{
	if (ix == NULL)
		return;
	close_parts(ix);
	ZSTD_freeDCtx(ix->zd);
	free(ix->dir);
	free(ix);
}

/* Map every part of m; 1 when one vanished (a writer replaced the manifest meanwhile). */
static int
open_parts(struct idx *ix, const struct idx_man *m, char *err, size_t errsz)
{
	char path[4200], e[4400];
	struct rlimit rl;
	size_t maxfds = MAX_FDS;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < maxfds)
		maxfds = (size_t)(rl.rlim_cur / 4);
	if ((ix->parts = calloc(m->n + 1, sizeof(*ix->parts))) == NULL)
		goto oom;
	for (size_t i = 0; i < m->n; i++) {
		struct rpart *r = &ix->parts[ix->nparts];

		if (idx_part_path(ix->dir, m->e[i].day, m->e[i].id, path, sizeof(path)) < 0) {
			snprintf(err, errsz, "%s: path too long", ix->dir);
			return -1;
		}
		if (idx_part_open(&r->p, path, e, sizeof(e)) < 0) {
			if (access(path, F_OK) < 0 && errno == ENOENT)
				return 1;
			if (strcmp(e, "out of memory") == 0)
				goto oom;
			warnf(ix, e);
			continue;
		}
		if (r->p.size != m->e[i].size || r->p.id != m->e[i].id || r->p.day != m->e[i].day) {
			snprintf(e, sizeof(e), "%s: size or id differs from the MANIFEST's (offset 0)", path);
			warnf(ix, e);
			idx_part_close(&r->p);
			continue;
		}
		if ((r->fname = calloc(r->p.nfields + 1, sizeof(*r->fname))) == NULL ||
		    (r->smay = malloc(r->p.nstreams + 1)) == NULL)
			goto oom;
		ix->nparts++;
		/*
		 * A descriptor for pread (idx_cols_decode_pread), for up to a
		 * quarter of the open files allowed (256 at most): opening the
		 * next part needs one too, and so does the caller; the others
		 * are read through their mapping only.  The
		 * same path is the same bytes: parts are immutable and ids are
		 * never reused; if it was unlinked meanwhile, the mapping serves.
		 */
		if (ix->nparts <= maxfds)
			r->p.fd = open(path, O_RDONLY | O_CLOEXEC);
		for (uint32_t k = 0; k < r->p.nfields; k++)
			if ((r->fname[k] = strndup(r->p.fields[k].name, r->p.fields[k].nlen)) == NULL)
				goto oom;
	}
	return 0;
oom:
	snprintf(err, errsz, "out of memory");
	return -1;
}

struct idx *
idx_open(const char *dir, idx_warn_fn warn, void *warn_arg, char *err, size_t errsz)
{
	struct idx *ix = calloc(1, sizeof(*ix));
	struct idx_man m;
	int rc = 1;

	if (ix == NULL || (ix->dir = strdup(dir)) == NULL || (ix->zd = ZSTD_createDCtx()) == NULL) {
		snprintf(err, errsz, "out of memory");
		idx_close(ix);
		return NULL;
	}
	ix->warn = warn;
	ix->warn_arg = warn_arg;
	for (int t = 0; t < OPEN_TRIES && rc == 1; t++) {
		close_parts(ix);
		if (idx_man_read(&m, dir, err, errsz) < 0) {
			idx_close(ix);
			return NULL;
		}
		rc = open_parts(ix, &m, err, errsz);
		idx_man_free(&m);
	}
	if (rc != 0) {
		if (rc == 1)
			snprintf(err, errsz, "%s: parts keep vanishing under a busy writer; try again", dir);
		idx_close(ix);
		return NULL;
	}
	return ix;
}

/* ---- scanning ---- */

#define RHIT_N 4

struct scan {
	struct idx *ix;
	struct qry *q;
	struct rpart *r;
	const struct idx_pblock *b;
	struct idx_scan_stats *st;
	/* per part: field index of each name the query asks about (cache by address) */
	const char *ckey[32];
	int cfid[32];
	/* block_col's last answer */
	const struct idx_pblock *bc_b;
	int bc_f, bc_found;
	struct idx_col bc_col;
	/* decoded columns of the current block */
	struct idx_dec *dec;		/* per part field */
	struct idx_col *wcols;		/* the wanted columns of a block read with pread */
	size_t ndec;
	int *want;			/* per part field: decode it */
	int *done;			/* per part field: decoded for this block */
	int *colof;			/* per part field: column index in block, -1 */
	int *wantw;			/* per part field: read by a weighted run's stats */
	uint32_t row;
	struct sb zbuf;			/* column bytes read with pread */
	uint32_t *counts;		/* rows per combination of dictionary codes */
	size_t ncounts;
	uint64_t bgen;			/* counts blocks decoded: keys rhit[] */
	/* the last token's hash (the query's own text: keyed by address) */
	const char *htok;
	size_t hn;
	uint64_t hval;
	/*
	 * Row pre-filter: which rows of the decoded block contain a token,
	 * found with one tok_find over the column's contiguous values (or one
	 * per dictionary entry) instead of one call per row.
	 */
	struct rhit {
		const char *tok;
		size_t n;
		int f;
		uint64_t gen;
		unsigned char *hit;
		uint32_t cap;
	} rhit[RHIT_N];
	unsigned rnext;
	int (*cb)(void *, struct json_object *);
	int (*cbn)(void *, struct json_object *, uint64_t, int);
	void *arg;
	char err[512];
};

static int
part_fid(struct scan *s, const char *field)
{
	unsigned h = (unsigned)(((uintptr_t)field >> 3) % 32);
	const struct idx_part *p = &s->r->p;

	if (s->ckey[h] == field)
		return s->cfid[h];
	s->ckey[h] = field;
	s->cfid[h] = -1;
	for (uint32_t i = 0; i < p->nfields; i++)
		if (strcmp(s->r->fname[i], field) == 0) {
			s->cfid[h] = (int)i;
			break;
		}
	return s->cfid[h];
}

/* The column of field in the current block: 1 and *c, or 0.  The last answer is kept (judging asks twice). */
static int
block_col(struct scan *s, const char *field, struct idx_col *c)
{
	int f = part_fid(s, field);

	if (f < 0)
		return 0;
	if (s->bc_b != s->b || s->bc_f != f) {
		s->bc_b = s->b;
		s->bc_f = f;
		s->bc_found = 0;
		for (uint32_t i = 0; i < s->b->ncols; i++)
			if (idx_get32(s->b->cols + (size_t)i * IDX_COL_DESC) == (uint32_t)f) {
				idx_col_get(s->b, i, &s->bc_col);
				s->bc_found = 1;
				break;
			}
	}
	*c = s->bc_col;
	return s->bc_found;
}

static int
blk_has_token(void *ctx, const char *field, const char *tok, size_t n)
{
	struct scan *s = ctx;
	struct idx_col c;

	if (!block_col(s, field, &c))
		return 0;
	if (c.enc == IDX_ENC_TIME)
		return 1;
	if (s->htok != tok || s->hn != n) {
		s->htok = tok;
		s->hn = n;
		s->hval = idx_hash(tok, n);
	}
	return idx_bloom_test(s->r->p.map + c.boff, c.bloomsize, s->hval);
}

static int
blk_has_field(void *ctx, const char *field)
{
	struct scan *s = ctx;
	struct idx_col c;

	return block_col(s, field, &c) && c.nonempty > 0;
}

static int
blk_num_range(void *ctx, const char *field, double *min, double *max)
{
	struct scan *s = ctx;
	struct idx_col c;

	if (!block_col(s, field, &c) || c.enc == IDX_ENC_TIME || !(c.flags & IDX_COL_NUM)) {
		if (block_col(s, field, &c) && c.enc == IDX_ENC_TIME)
			return 0;
		*min = 1;
		*max = 0;
		return 1;
	}
	*min = c.nmin;
	*max = c.nmax;
	return 1;
}

/* The row-level tests: the same callbacks over one row's decoded values. */
static const struct idx_dec *
row_dec(struct scan *s, const char *field)
{
	int f = part_fid(s, field);

	return f >= 0 && s->done[f] ? &s->dec[f] : NULL;
}

/*
 * Rows of the current block whose value of field f contains tok: one
 * tok_find over a plain column's values, which lie back to back (a match
 * across two values is no match), or one per dictionary entry.  Cached
 * for the block, so the row loop asks at the cost of an array read.
 */
static const unsigned char *
row_hits(struct scan *s, int f, const struct idx_dec *d, const char *tok, size_t n)
{
	uint32_t nrows = s->b->nrows;
	struct rhit *h = NULL;

	for (unsigned i = 0; i < RHIT_N; i++)
		if (s->rhit[i].tok == tok && s->rhit[i].n == n && s->rhit[i].f == f) {
			h = &s->rhit[i];
			if (h->gen == s->bgen)
				return h->hit;
			break;
		}
	if (h == NULL) {
		h = &s->rhit[s->rnext++ % RHIT_N];
		h->tok = tok;
		h->n = n;
		h->f = f;
	}
	h->gen = s->bgen;
	if (h->cap < nrows) {
		unsigned char *nh = realloc(h->hit, nrows);

		if (nh == NULL) {
			h->tok = NULL;
			return NULL;
		}
		h->hit = nh;
		h->cap = nrows;
	}
	memset(h->hit, 0, nrows);
	if (d->codes != NULL) {
		unsigned char dh[IDX_MAX_DICT];

		for (uint32_t k = 0; k < d->ndict; k++)
			dh[k] = d->dlen[k] >= n && tok_find(d->dv[k], d->dlen[k], tok, n) != NULL;
		for (uint32_t r = 0; r < nrows; r++)
			h->hit[r] = dh[d->codes[r]];
	} else if (nrows > 0) {
		const char *base = d->v[0], *end = d->v[nrows - 1] + d->len[nrows - 1], *p = base;
		uint32_t r = 0;

		while (p < end && (p = tok_find(p, (size_t)(end - p), tok, n)) != NULL) {
			while (r < nrows && d->v[r] + d->len[r] <= p)
				r++;
			if (r == nrows)
				break;
			if (p + n <= d->v[r] + d->len[r]) {
				h->hit[r] = 1;
				p = d->v[r] + d->len[r];	/* the next row */
			} else
				p++;
		}
	}
	return h->hit;
}

static int
row_has_token(void *ctx, const char *field, const char *tok, size_t n)
{
	struct scan *s = ctx;
	int f = part_fid(s, field);
	const struct idx_dec *d;
	const unsigned char *hits;

	if (f < 0)
		return 0;
	if ((d = row_dec(s, field)) == NULL || f == 0)
		return 1;	/* not decoded: cannot tell */
	if ((hits = row_hits(s, f, d, tok, n)) == NULL)	/* out of memory: one row at a time */
		return d->len[s->row] >= n && tok_find(d->v[s->row], d->len[s->row], tok, n) != NULL;
	return hits[s->row];
}

static int
row_has_field(void *ctx, const char *field)
{
	struct scan *s = ctx;
	int f = part_fid(s, field);
	const struct idx_dec *d;

	if (f < 0)
		return 0;
	if ((d = row_dec(s, field)) == NULL || f == 0)
		return 1;
	return d->len[s->row] > 0;
}

static int
row_num_range(void *ctx, const char *field, double *min, double *max)
{
	struct scan *s = ctx;
	int f = part_fid(s, field);
	const struct idx_dec *d;
	double v;

	if (f == 0)
		return 0;
	if (f < 0) {
		*min = 1;
		*max = 0;
		return 1;
	}
	if ((d = row_dec(s, field)) == NULL)
		return 0;
	if (idx_num(d->v[s->row], d->len[s->row], &v))
		*min = *max = v;
	else
		*min = 1, *max = 0;
	return 1;
}

static struct st_labels *
stream_labels(struct scan *s, uint32_t si)
{
	struct rpart *r = s->r;
	size_t pos;

	if (r->labels == NULL) {
		if ((r->labels = calloc(r->p.nstreams + 1, sizeof(*r->labels))) == NULL)
			return NULL;
		memset(r->smay, -1, r->p.nstreams + 1);
		for (uint32_t i = 0; i < r->p.nstreams; i++)
			/* a stream text that does not parse keeps the labels before the bad byte */
			st_parse(r->p.streams[i].text, r->p.streams[i].len, &r->labels[i], &pos);
	}
	return &r->labels[si];
}

/* Mark the part fields named in names[0..nn) in want[]; *t and *st say whether _time and _stream are. */
static void
want_fields(struct scan *s, const char *const *names, size_t nn, int *want, int *t, int *st)
{
	for (size_t k = 0; k < nn; k++) {
		int f;

		if (strcmp(names[k], "_time") == 0)
			*t = 1;
		if (strcmp(names[k], "_stream") == 0)
			*st = 1;
		if ((f = part_fid(s, names[k])) >= 0)
			want[f] = 1;
	}
}

/* A record of row's decoded values (or of the dictionary codes in codes[], when not NULL). */
static struct json_object *
make_record(struct scan *s, uint32_t row, int need_time, int need_stream, const unsigned *codes)
{
	const struct idx_part *p = &s->r->p;
	const struct idx_pblock *b = s->b;
	struct json_object *o = json_object_new_object(), *v;
	char tbuf[TS_BUFSZ];

	if (o == NULL)
		return NULL;
	if (need_time) {
		size_t tn = ts_format(s->dec[0].t[row], tbuf);

		if (json_object_object_add(o, "_time", json_object_new_string_len(tbuf, (int)tn)) < 0)
			goto oom;
	}
	if (need_stream && json_object_object_add(o, "_stream", json_object_new_string_len(
	    p->streams[b->stream].text, (int)p->streams[b->stream].len)) < 0)
		goto oom;
	for (uint32_t i = 1, k = 0; i < p->nfields; i++) {
		const char *val;
		uint32_t len;

		if (!s->done[i])
			continue;
		if (codes != NULL) {
			val = s->dec[i].dv[codes[k]];
			len = s->dec[i].dlen[codes[k]];
			k++;
		} else {
			val = s->dec[i].v[row];
			len = s->dec[i].len[row];
		}
		if (len == 0)
			continue;
		if ((v = json_object_new_string_len(val, (int)len)) == NULL ||
		    json_object_object_add(o, s->r->fname[i], v) < 0)
			goto oom;
	}
	return o;
oom:
	json_object_put(o);
	return NULL;
}

/*
 * Weighted mode, every decoded column a dictionary: count the rows of
 * each combination of codes and hand one record per combination.
 * Returns the callback's value, -1 out of memory, or -2 when there are
 * too many combinations (the caller goes row by row).
 */
static int
count_combos(struct scan *s, int need_stream, int tested)
{
	const struct idx_part *p = &s->r->p;
	const struct idx_pblock *b = s->b;
	size_t combos = 1, nk = 0;
	unsigned codes[64];
	uint32_t fids[64];
	int rc = 0;

	for (uint32_t i = 1; i < p->nfields; i++)
		if (s->done[i]) {
			if (s->dec[i].codes == NULL || nk == 64)
				return -2;
			fids[nk++] = i;
			combos *= s->dec[i].ndict;
			if (combos > COMBO_MAX)
				return -2;
		}
	if (combos > s->ncounts) {
		uint32_t *nc = realloc(s->counts, combos * sizeof(*nc));

		if (nc == NULL)
			return -1;
		s->counts = nc;
		s->ncounts = combos;
	}
	memset(s->counts, 0, combos * sizeof(*s->counts));
	for (uint32_t row = 0; row < b->nrows; row++) {
		size_t key = 0;

		for (size_t k = nk; k-- > 0;)
			key = key * s->dec[fids[k]].ndict + s->dec[fids[k]].codes[row];
		s->counts[key]++;
	}
	s->st->rows_counted += b->nrows;
	for (size_t key = 0; key < combos && rc == 0; key++) {
		struct json_object *o;
		size_t kk = key;

		if (s->counts[key] == 0)
			continue;
		for (size_t k = 0; k < nk; k++) {
			codes[k] = (unsigned)(kk % s->dec[fids[k]].ndict);
			kk /= s->dec[fids[k]].ndict;
		}
		if ((o = make_record(s, 0, 0, need_stream, codes)) == NULL)
			return -1;
		s->st->records++;
		rc = s->cbn(s->arg, o, s->counts[key], tested);
		json_object_put(o);
	}
	return rc;
}

/*
 * Let go of the mapped pages below low, once they are DROP_STEP behind:
 * blocks lie in the order they are scanned, so a scan never comes back
 * to them (the page cache keeps them).  Without this a scan of every
 * block would end with the whole part resident.  Only once a block has
 * been read through the mapping: a scan that reads blocks with pread
 * touches just bloom filters, and dropping their pages cost a rare
 * word's query more than the whole scan of the blocks it skips.
 */
#define DROP_STEP (8u << 20)
static void
let_go(const struct idx_part *p, uint64_t *dropped, uint64_t low)
{
	low &= ~(uint64_t)(DROP_STEP - 1);
	if (low > *dropped && low <= p->size) {
		(void)madvise((void *)(p->map + *dropped), low - *dropped, MADV_DONTNEED);
		*dropped = low;
	}
}

static int
scan_part(struct scan *s, int64_t lo, int64_t hi, int all, const char *const *names, size_t nn,
    const char *const *wnames, size_t nwn)
{
	struct rpart *r = s->r;
	const struct idx_part *p = &r->p;
	struct idx_scan_stats *st = s->st;
	struct json_object **cache = NULL;
	int need_time = all, need_stream = all, wtime = 0, wstream = 0, rc = 0, gf;
	uint32_t last_read = UINT32_MAX - 1;
	uint64_t dropped = 0;
	int mapped = 0;
	const char *nfield = NULL, *ntext = NULL;
	const unsigned char *gate;
	size_t ntn = 0;

	memset(s->ckey, 0, sizeof(s->ckey));
	if (p->nfields > s->ndec) {
		struct idx_dec *nd = realloc(s->dec, p->nfields * sizeof(*nd));

		if (nd == NULL)
			goto oom;
		memset(nd + s->ndec, 0, (p->nfields - s->ndec) * sizeof(*nd));
		s->dec = nd;
		s->ndec = p->nfields;
		free(s->wcols);
		if ((s->wcols = calloc(p->nfields, sizeof(*s->wcols))) == NULL)
			goto oom;
	}
	free(s->want);
	free(s->wantw);
	free(s->done);
	free(s->colof);
	s->want = calloc(p->nfields + 1, sizeof(int));
	s->wantw = calloc(p->nfields + 1, sizeof(int));
	s->done = calloc(p->nfields + 1, sizeof(int));
	s->colof = calloc(p->nfields + 1, sizeof(int));
	if (s->want == NULL || s->wantw == NULL || s->done == NULL || s->colof == NULL)
		goto oom;
	for (uint32_t i = 0; i < p->nfields; i++)
		s->want[i] = all;
	want_fields(s, names, nn, s->want, &need_time, &need_stream);
	s->want[0] = need_time;
	want_fields(s, wnames, nwn, s->wantw, &wtime, &wstream);
	s->wantw[0] = wtime;
	if (!qry_needed_text(s->q, &nfield, &ntext, &ntn))
		nfield = NULL;
	for (uint32_t bi = 0; bi < p->nblocks && rc == 0; bi++) {
		const struct idx_pblock *b = &p->blocks[bi];
		struct qry_block qb;
		struct st_labels *lab;
		enum qry_skip why;
		int dictonly = 1, judged, tested, btime, bstream, sparse, drc = 0;
		size_t nw;
		const int *want;
		size_t combos = 1;

		s->b = b;
		st->blocks++;
		if (mapped && b->ncols > 0)
			let_go(p, &dropped, idx_get64(b->cols + 8));
		if (b->tmax < lo || b->tmin > hi) {
			st->skip_time++;
			continue;
		}
		if ((lab = stream_labels(s, b->stream)) == NULL)
			goto oom;
		if (r->smay[b->stream] < 0)
			r->smay[b->stream] = (signed char)qry_stream_may_match(s->q, lab);
		if (!r->smay[b->stream]) {
			st->skip_stream++;
			continue;
		}
		qb.tmin = b->tmin;
		qb.tmax = b->tmax;
		qb.stream = lab;
		qb.ctx = s;
		qb.has_token = blk_has_token;
		qb.has_field = blk_has_field;
		qb.num_range = blk_num_range;
		if ((judged = qry_block_judge(s->q, &qb, &why)) == 0) {
			switch (why) {
			case QRY_SKIP_TIME: st->skip_time++; break;
			case QRY_SKIP_STREAM: st->skip_stream++; break;
			case QRY_SKIP_FIELD: st->skip_field++; break;
			case QRY_SKIP_RANGE: st->skip_range++; break;
			default: st->skip_token++; break;
			}
			continue;
		}
		/*
		 * Every row of the block matches: a weighted run needs only the
		 * columns of its stats pipe, and no row test.
		 */
		tested = s->cbn != NULL && judged == 2;
		want = tested ? s->wantw : s->want;
		btime = tested ? wtime : need_time;
		bstream = tested ? wstream : need_stream;
		/*
		 * Decode the wanted columns.  A block far from the last one read
		 * (a rare word's hit) is read with pread: touching the mapping
		 * would fault in a page or more per column, dearer than a
		 * syscall; a run of blocks is read through the mapping, where
		 * the kernel maps neighbouring pages in one go.
		 */
		sparse = last_read + 1 != bi;
		mapped |= !sparse;
		last_read = bi;
		st->blocks_read++;
		st->rows_read += b->nrows;
		s->bgen++;
		for (uint32_t i = 0; i < p->nfields; i++) {
			s->done[i] = 0;
			s->colof[i] = -1;
		}
		nw = 0;
		for (uint32_t ci = 0; ci < b->ncols; ci++) {
			struct idx_col c;

			idx_col_get(b, ci, &c);
			s->colof[c.field] = (int)ci;
			if (want[c.field])
				s->wcols[nw++] = c;
		}
		if (sparse)
			drc = idx_cols_decode_pread(p, b, s->wcols, nw, s->dec, &s->zbuf, s->ix->zd,
			    s->err, sizeof(s->err));
		else
			for (size_t k = 0; k < nw && drc == 0; k++)
				drc = idx_col_decode(p, b, &s->wcols[k], &s->dec[s->wcols[k].field], s->ix->zd,
				    s->err, sizeof(s->err));
		if (drc < 0) {
			if (strcmp(s->err, "out of memory") == 0)
				goto oom;
			warnf(s->ix, s->err);
			st->parts_bad++;
			r->bad = 1;
			goto out;
		}
		for (size_t k = 0; k < nw; k++) {
			const struct idx_col c = s->wcols[k];

			st->bytes_read += c.csize;
			s->done[c.field] = 1;
			if (c.enc != IDX_ENC_DICT)
				dictonly = 0;
			else
				combos *= s->dec[c.field].ndict;
		}
		if (s->cbn != NULL && !btime) {
			if ((rc = count_combos(s, bstream, tested)) == -1)
				goto oom;
			if (rc != -2)
				continue;
			rc = 0;
		}
		if (btime || combos > CACHE_MAX || s->cbn != NULL)
			dictonly = 0;
		if (dictonly) {
			if ((cache = calloc(combos, sizeof(*cache))) == NULL)
				goto oom;
		}
		qb.has_token = row_has_token;
		qb.has_field = row_has_field;
		qb.num_range = row_num_range;
		/* rows without the text the filter needs go without a test */
		gate = NULL;
		if (!tested && nfield != NULL && (gf = part_fid(s, nfield)) > 0 && s->done[gf])
			gate = row_hits(s, gf, &s->dec[gf], ntext, ntn);
		for (uint32_t row = 0; row < b->nrows && rc == 0; row++) {
			struct json_object *o;
			size_t key = 0;

			if (gate != NULL && !gate[row]) {
				st->rows_prefiltered++;
				continue;
			}
			s->row = row;
			if (btime)
				qb.tmin = qb.tmax = s->dec[0].t[row];
			if (!tested && !qry_block_may_match(s->q, &qb, NULL)) {
				st->rows_prefiltered++;
				continue;
			}
			if (dictonly) {
				size_t mul = 1;

				for (uint32_t i = 1; i < p->nfields; i++)
					if (s->done[i]) {
						key += s->dec[i].codes[row] * mul;
						mul *= s->dec[i].ndict;
					}
				if (cache[key] != NULL) {
					st->records++;
					rc = s->cb(s->arg, cache[key]);
					continue;
				}
			}
			if ((o = make_record(s, row, btime, bstream, NULL)) == NULL)
				goto oom;
			st->records++;
			rc = s->cbn != NULL ? s->cbn(s->arg, o, 1, tested) : s->cb(s->arg, o);
			if (dictonly)
				cache[key] = o;
			else
				json_object_put(o);
		}
		if (cache != NULL) {
			for (size_t k = 0; k < combos; k++)
				json_object_put(cache[k]);
			free(cache);
			cache = NULL;
		}
	}
out:
	return rc;
oom:
	free(cache);
	snprintf(s->err, sizeof(s->err), "out of memory");
	return -1;
}

static int
scan(struct idx *ix, struct qry *q, int (*cb)(void *, struct json_object *),
    int (*cbn)(void *, struct json_object *, uint64_t, int), void *arg,
    struct idx_scan_stats *stp, char *err, size_t errsz)
{
	struct idx_scan_stats dummy;
	struct idx_scan_stats *st = stp ? stp : &dummy;
	struct scan s;
	int64_t lo, hi;
	int all, rc = 0;
	const char *const *names, *const *wnames = NULL;
	size_t nn, nwn = 0;

	memset(st, 0, sizeof(*st));
	memset(&s, 0, sizeof(s));
	s.ix = ix;
	s.q = q;
	s.st = st;
	s.cb = cb;
	s.cbn = cbn;
	s.arg = arg;
	st->parts = ix->nparts;
	if (!qry_time_bounds(q, &lo, &hi))
		return 0;
	qry_fields(q, &all, &names, &nn);
	if (cbn != NULL && !qry_run_weighted(q, &wnames, &nwn))
		s.cbn = NULL;
	for (size_t i = 0; i < ix->nparts && rc == 0; i++) {
		struct rpart *r = &ix->parts[i];

		if (r->bad) {
			st->parts_bad++;
			continue;
		}
		if (r->p.tmax < lo || r->p.tmin > hi) {
			st->parts_skipped_time++;
			st->blocks += r->p.nblocks;
			st->skip_time += r->p.nblocks;
			continue;
		}
		s.r = r;
		rc = scan_part(&s, lo, hi, all, names, nn, wnames, nwn);
	}
	if (rc < 0 && strcmp(s.err, "out of memory") == 0)
		snprintf(err, errsz, "%s", s.err);
	for (size_t i = 0; i < s.ndec; i++)
		idx_dec_free(&s.dec[i]);
	free(s.dec);
	free(s.wcols);
	free(s.want);
	free(s.wantw);
	free(s.done);
	free(s.colof);
	free(s.counts);
	for (unsigned i = 0; i < RHIT_N; i++)
		free(s.rhit[i].hit);
	sb_free(&s.zbuf);
	return rc;
}

int
idx_scan(struct idx *ix, struct qry *q, int (*cb)(void *, struct json_object *), void *arg,
    struct idx_scan_stats *st, char *err, size_t errsz)
{
	return scan(ix, q, cb, NULL, arg, st, err, errsz);
}

int
idx_scan_weighted(struct idx *ix, struct qry *q, int (*cb)(void *, struct json_object *),
    int (*cbn)(void *, struct json_object *, uint64_t, int), void *arg,
    struct idx_scan_stats *st, char *err, size_t errsz)
{
	return scan(ix, q, cb, cbn, arg, st, err, errsz);
}
