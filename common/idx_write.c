/* idx_write.c: the index writer: lock, record buffer, commits to parts and manifest, merges, retention. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "idx_write.h"

#define DAY_NS	(86400LL * 1000000000LL)
#define NLAST		64
#define SMALL_PART	(2u << 20)	/* part files below this size are merged automatically */

struct row {
	int64_t t;
	uint64_t off;		/* into its stream's arena: u32 nfields, then (u32 name, u32 len, bytes) */
};

/*
 * The rows buffered for one stream.  Each stream has its own arena so
 * that a commit reads every stream's rows from consecutive memory (one
 * arena for all, read in stream order, cost a cache and TLB miss per
 * row), and needs no sort when they came in time order, as logs do.
 */
struct sbuf {
	struct sb arena;
	struct row *rows;
	size_t nrows, caprows;
	size_t cur;		/* commit: next row to write */
	int unsorted;
};

struct idx_w {
	char *dir;
	struct idx_w_opts o;
	int lockfd;
	idx_warn_fn warn;
	void *warn_arg;
	struct idx_man man;
	/* interned names and streams */
	uint32_t last[NLAST];		/* name id last seen at each field position */
	char **names;
	size_t *nlens;
	size_t nnames, capnames;
	char **streams;
	size_t *slens;
	uint32_t *srank;
	size_t nstreams, capstreams;
	uint32_t *shash;		/* open addressing: stream index + 1 */
	size_t shcap;
	size_t old_streams;		/* distinct streams already on disk */
	int warned_streams;
	/* buffered rows, per stream (as many as streams) */
	struct sbuf *sb;
	size_t nrows, nbytes;
	uint64_t committed;
	uint64_t first_id;		/* ids from here on are this writer's parts */
	struct idx_kv *kv;
	size_t capkv;
};

static void
wwarn(struct idx_w *w, const char *msg)
{
	if (w->warn)
		w->warn(w->warn_arg, msg);
}

static int
oom(char *err, size_t errsz)
{
	snprintf(err, errsz, "out of memory");
	return -1;
}

static int
intern_name(struct idx_w *w, size_t pos, const char *k, size_t kn, uint32_t *id)
{
	/* lines mostly name their fields in the same order: try the last name at pos */
	if (pos < NLAST && w->last[pos] < w->nnames && w->nlens[w->last[pos]] == kn &&
	    memcmp(w->names[w->last[pos]], k, kn) == 0) {
		*id = w->last[pos];
		return 0;
	}
	/* few distinct names: a linear search */
	for (size_t i = 0; i < w->nnames; i++)
		if (w->nlens[i] == kn && memcmp(w->names[i], k, kn) == 0) {
			*id = (uint32_t)i;
			if (pos < NLAST)
				w->last[pos] = *id;
			return 0;
		}
	if (w->nnames == w->capnames) {
		size_t nc = w->capnames ? w->capnames * 2 : 32;
		char **nv = realloc(w->names, nc * sizeof(*nv));
		size_t *nl;

		if (nv == NULL)
			return -1;
		w->names = nv;
		if ((nl = realloc(w->nlens, nc * sizeof(*nl))) == NULL)
			return -1;
		w->nlens = nl;
		w->capnames = nc;
	}
	if ((w->names[w->nnames] = malloc(kn + 1)) == NULL)
		return -1;
	memcpy(w->names[w->nnames], k, kn);
	w->names[w->nnames][kn] = '\0';
	w->nlens[w->nnames] = kn;
	*id = (uint32_t)w->nnames++;
	if (pos < NLAST)
		w->last[pos] = *id;
	return 0;
}

static int
sh_rehash(struct idx_w *w)
{
	size_t nc = w->shcap ? w->shcap * 2 : 1024;
	uint32_t *nh = calloc(nc, sizeof(*nh));

	if (nh == NULL)
		return -1;
	for (size_t i = 0; i < w->nstreams; i++) {
		size_t s = idx_hash(w->streams[i], w->slens[i]) & (nc - 1);

		while (nh[s])
			s = (s + 1) & (nc - 1);
		nh[s] = (uint32_t)i + 1;
	}
	free(w->shash);
	w->shash = nh;
	w->shcap = nc;
	return 0;
}

/* Index of stream text s; *isnew set when it was not known. */
static int
intern_stream(struct idx_w *w, const char *s, size_t n, uint32_t *id, int *isnew)
{
	struct sbuf *sbv;
	size_t h;

	*isnew = 0;
	if ((w->nstreams + 1) * 2 > w->shcap && sh_rehash(w) < 0)
		return -1;
	for (h = idx_hash(s, n) & (w->shcap - 1); w->shash[h]; h = (h + 1) & (w->shcap - 1)) {
		uint32_t i = w->shash[h] - 1;

		if (w->slens[i] == n && memcmp(w->streams[i], s, n) == 0) {
			*id = i;
			return 0;
		}
	}
	if (w->nstreams == w->capstreams) {
		size_t nc = w->capstreams ? w->capstreams * 2 : 64;
		char **nv = realloc(w->streams, nc * sizeof(*nv));
		size_t *nl;

		if (nv == NULL)
			return -1;
		w->streams = nv;
		if ((nl = realloc(w->slens, nc * sizeof(*nl))) == NULL)
			return -1;
		w->slens = nl;
		if ((sbv = realloc(w->sb, nc * sizeof(*sbv))) == NULL)
			return -1;
		memset(sbv + w->capstreams, 0, (nc - w->capstreams) * sizeof(*sbv));
		w->sb = sbv;
		w->capstreams = nc;
	}
	if ((w->streams[w->nstreams] = malloc(n + 1)) == NULL)
		return -1;
	memcpy(w->streams[w->nstreams], s, n);
	w->streams[w->nstreams][n] = '\0';
	w->slens[w->nstreams] = n;
	w->shash[h] = (uint32_t)w->nstreams + 1;
	*id = (uint32_t)w->nstreams++;
	*isnew = 1;
	return 0;
}

static int
lock_dir(struct idx_w *w, char *err, size_t errsz)
{
	char path[4200], buf[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/LOCK", w->dir);
	if ((w->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			n = pread(w->lockfd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(err, errsz, "%s: locked by another logindex (pid %s)", path,
			    *buf ? buf : "unknown");
		} else {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		}
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(w->lockfd, 0) < 0 || pwrite(w->lockfd, buf, (size_t)n, 0) != n) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove temp files and unlisted parts that a crash left (we hold the lock). */
static void
cleanup(struct idx_w *w)
{
	DIR *d = opendir(w->dir), *dd;
	struct dirent *de, *fe;
	char sub[4200], path[8500];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 8 || strspn(de->d_name, "0123456789") != 8)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", w->dir, de->d_name);
		if ((dd = opendir(sub)) == NULL)
			continue;
		while ((fe = readdir(dd)) != NULL) {
			unsigned long long id;
			int listed = 0;
			char tail[8];

			if (fe->d_name[0] == '.' && strncmp(fe->d_name, ".tmp-", 5) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, fe->d_name);
			if (strncmp(fe->d_name, ".tmp-", 5) == 0) {
				unlink(path);
				continue;
			}
			if (sscanf(fe->d_name, "%16llx%7s", &id, tail) != 2 || strcmp(tail, ".part") != 0)
				continue;
			for (size_t i = 0; i < w->man.n && !listed; i++)
				listed = w->man.e[i].id == id;
			if (!listed)
				unlink(path);
		}
		closedir(dd);
		rmdir(sub);	/* only succeeds when empty */
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/MANIFEST.tmp", w->dir);
	unlink(path);
}

/* Learn the streams already stored, for --max-streams. */
static void
load_streams(struct idx_w *w)
{
	char path[4200], e[4400];
	struct idx_part p;
	uint32_t id;
	int isnew;

	for (size_t i = 0; i < w->man.n; i++) {
		if (idx_part_path(w->dir, w->man.e[i].day, w->man.e[i].id, path, sizeof(path)) < 0)
			continue;
		if (idx_part_open(&p, path, e, sizeof(e)) < 0) {
			wwarn(w, e);
			continue;
		}
		for (uint32_t k = 0; k < p.nstreams; k++)
			if (intern_stream(w, p.streams[k].text, p.streams[k].len, &id, &isnew) < 0)
				break;
		idx_part_close(&p);
	}
	w->old_streams = w->nstreams;
}

struct idx_w *
idx_w_open(const char *dir, const struct idx_w_opts *o, idx_warn_fn warn, void *warn_arg,
    char *err, size_t errsz)
{
	struct idx_w *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->dir = strdup(dir)) == NULL) {
		oom(err, errsz);
		free(w);
		return NULL;
	}
	w->lockfd = -1;
	w->o = *o;
	if (w->o.level == 0)
		w->o.level = 1;
	if (w->o.buffer == 0)
		w->o.buffer = 32u << 20;
	w->warn = warn;
	w->warn_arg = warn_arg;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		goto bad;
	}
	if (lock_dir(w, err, errsz) < 0)
		goto bad;
	if (idx_man_read(&w->man, dir, err, errsz) < 0) {
		if (errno != ENOENT)
			goto bad;
		memset(&w->man, 0, sizeof(w->man));
		w->man.next_id = 1;
		if (idx_man_write(&w->man, dir, err, errsz) < 0)
			goto bad;
	}
	cleanup(w);
	load_streams(w);
	w->first_id = w->man.next_id;
	return w;
bad:
	idx_w_close(w);
	return NULL;
}

void
idx_w_close(struct idx_w *w)
{
	if (w == NULL)
		return;
	if (w->lockfd >= 0)
		close(w->lockfd);
	for (size_t i = 0; i < w->nnames; i++)
		free(w->names[i]);
	for (size_t i = 0; i < w->nstreams; i++)
		free(w->streams[i]);
	free(w->names);
	free(w->nlens);
	free(w->streams);
	free(w->slens);
	free(w->srank);
	free(w->shash);
	for (size_t i = 0; w->sb && i < w->nstreams; i++) {
		sb_free(&w->sb[i].arena);
		free(w->sb[i].rows);
	}
	free(w->sb);
	free(w->kv);
	idx_man_free(&w->man);
	free(w->dir);
	free(w);
}

uint64_t
idx_w_committed(const struct idx_w *w)
{
	return w->committed;
}

int
idx_w_add(struct idx_w *w, const char *stream, size_t slen, int64_t t,
    const struct idx_kv *kv, size_t n, char *err, size_t errsz)
{
	struct row *r;
	struct sbuf *sbf;
	int64_t day = idx_day(t);
	uint32_t sid;
	size_t before, need;
	unsigned char *p;
	int isnew;

	/* 9999-12-31 is day 2932896; parts name their day YYYYMMDD */
	if (day < 0 || day > 2932896) {
		snprintf(err, errsz, "_time outside the years 1970..9999");
		return -1;
	}
	if (intern_stream(w, stream, slen, &sid, &isnew) < 0)
		return oom(err, errsz);
	if (isnew && w->o.max_streams && w->nstreams > w->o.max_streams && !w->warned_streams) {
		char msg[600];

		snprintf(msg, sizeof(msg), "stream %.400s makes %zu streams, more than --max-streams %zu: "
		    "a label with many values (an id?) belongs in a field, not in the stream",
		    stream, w->nstreams, w->o.max_streams);
		wwarn(w, msg);
		w->warned_streams = 1;
	}
	sbf = &w->sb[sid];
	if (sbf->nrows == sbf->caprows) {
		size_t nc = sbf->caprows ? sbf->caprows * 2 : 256;
		struct row *nr = realloc(sbf->rows, nc * sizeof(*nr));

		if (nr == NULL)
			return oom(err, errsz);
		sbf->rows = nr;
		sbf->caprows = nc;
	}
	need = 4;
	for (size_t i = 0; i < n; i++) {
		if (kv[i].kn == 0 || kv[i].kn > 65535) {
			snprintf(err, errsz, "field name of %zu bytes (1..65535 allowed)", kv[i].kn);
			return -1;
		}
		if (kv[i].vn > IDX_MAX_RAW / 2) {
			snprintf(err, errsz, "field '%.100s' value of %zu bytes is too large", kv[i].k, kv[i].vn);
			return -1;
		}
		need += 8 + kv[i].vn;
	}
	/* one growth per row, then plain stores */
	if (sb_grow(&sbf->arena, need) < 0)
		return oom(err, errsz);
	before = sbf->arena.len;
	p = (unsigned char *)sbf->arena.buf + before;
	idx_put32(p, (uint32_t)n);
	p += 4;
	for (size_t i = 0; i < n; i++) {
		uint32_t id;

		if (intern_name(w, i, kv[i].k, kv[i].kn, &id) < 0)
			return oom(err, errsz);
		idx_put32(p, id);
		idx_put32(p + 4, (uint32_t)kv[i].vn);
		memcpy(p + 8, kv[i].v, kv[i].vn);
		p += 8 + kv[i].vn;
	}
	sbf->arena.len += need;
	r = &sbf->rows[sbf->nrows];
	r->t = t;
	r->off = before;
	if (sbf->nrows > 0 && t < sbf->rows[sbf->nrows - 1].t)
		sbf->unsorted = 1;
	sbf->nrows++;
	w->nrows++;
	w->nbytes += sbf->arena.len - before + sizeof(struct row);
	if (w->nbytes >= w->o.buffer)
		return idx_w_commit(w, err, errsz);
	return 0;
}

static const struct idx_w *sort_w;

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int
str_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	size_t lx = sort_w->slens[*x], ly = sort_w->slens[*y];
	int c = memcmp(sort_w->streams[*x], sort_w->streams[*y], lx < ly ? lx : ly);

	return c ? c : (lx > ly) - (lx < ly);
}

static void
unlink_part(struct idx_w *w, const struct idx_ment *e)
{
	char path[4200];

	if (idx_part_path(w->dir, e->day, e->id, path, sizeof(path)) == 0)
		unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);	/* the day's directory, once empty */
}

static int merge_auto(struct idx_w *w, char *err, size_t errsz);

/* Write the rows of stream si that fall on day into pw. */
static int
commit_stream(struct idx_w *w, struct idx_pw *pw, uint32_t si, int64_t day, char *err, size_t errsz)
{
	struct sbuf *sbf = &w->sb[si];

	for (; sbf->cur < sbf->nrows && idx_day(sbf->rows[sbf->cur].t) == day; sbf->cur++) {
		const struct row *r = &sbf->rows[sbf->cur];
		const unsigned char *p = (const unsigned char *)sbf->arena.buf + r->off;
		uint32_t n = idx_get32(p);

		p += 4;
		if (n > w->capkv) {
			struct idx_kv *nk = realloc(w->kv, n * sizeof(*nk));

			if (nk == NULL)
				return oom(err, errsz);
			w->kv = nk;
			w->capkv = n;
		}
		for (uint32_t k = 0; k < n; k++) {
			uint32_t id = idx_get32(p), len = idx_get32(p + 4);

			w->kv[k].k = w->names[id];
			w->kv[k].kn = w->nlens[id];
			w->kv[k].v = (const char *)p + 8;
			w->kv[k].vn = len;
			p += 8 + len;
		}
		if (idx_pw_add(pw, w->streams[si], w->slens[si], r->t, w->kv, n, err, errsz) < 0)
			return -1;
	}
	return 0;
}

int
idx_w_commit(struct idx_w *w, char *err, size_t errsz)
{
	struct idx_man nm = { 0 };
	uint32_t *order = NULL;
	int rc = -1;

	if (w->nrows == 0)
		return 0;
	/* streams in the order of their text, so that parts list them sorted */
	free(w->srank);
	if ((w->srank = malloc(w->nstreams * sizeof(*w->srank))) == NULL ||
	    (order = malloc(w->nstreams * sizeof(*order))) == NULL)
		return oom(err, errsz);
	for (uint32_t k = 0; k < w->nstreams; k++)
		order[k] = k;
	sort_w = w;
	qsort(order, w->nstreams, sizeof(*order), str_cmp);
	for (uint32_t k = 0; k < w->nstreams; k++) {
		struct sbuf *sbf = &w->sb[k];

		w->srank[order[k]] = k;
		/* rows of a stream by time, those with equal times as they came */
		if (sbf->unsorted)
			qsort(sbf->rows, sbf->nrows, sizeof(*sbf->rows), row_cmp);
		sbf->cur = 0;
	}
	nm.next_id = w->man.next_id;
	for (size_t k = 0; k < w->man.n; k++)
		if (idx_man_add(&nm, &w->man.e[k]) < 0)
			goto nomem;
	/* one part per day, the days in order; each stream's rows are in time order */
	for (;;) {
		int64_t day = INT64_MAX;
		struct idx_pw *pw;
		struct idx_ment ent;

		for (size_t k = 0; k < w->nstreams; k++)
			if (w->sb[k].cur < w->sb[k].nrows && idx_day(w->sb[k].rows[w->sb[k].cur].t) < day)
				day = idx_day(w->sb[k].rows[w->sb[k].cur].t);
		if (day == INT64_MAX)
			break;
		if ((pw = idx_pw_new(w->dir, (uint32_t)day, nm.next_id++, w->o.level, err, errsz)) == NULL)
			goto out;
		for (size_t k = 0; k < w->nstreams; k++)
			if (commit_stream(w, pw, order[k], day, err, errsz) < 0) {
				idx_pw_abort(pw);
				goto out;
			}
		if (idx_pw_finish(pw, &ent, err, errsz) < 0 || idx_man_add(&nm, &ent) < 0)
			goto out;
	}
	if (idx_man_write(&nm, w->dir, err, errsz) < 0)
		goto out;
	idx_man_free(&w->man);
	w->man = nm;
	memset(&nm, 0, sizeof(nm));
	w->committed += w->nrows;
	for (size_t k = 0; k < w->nstreams; k++) {
		struct sbuf *sbf = &w->sb[k];

		/* keep the memory of busy streams for the next rows; give back the rest */
		if (sbf->arena.cap > (sbf->arena.len + 65536) * 4) {
			sb_free(&sbf->arena);
			free(sbf->rows);
			sbf->rows = NULL;
			sbf->caprows = 0;
		}
		sbf->arena.len = 0;
		sbf->nrows = 0;
		sbf->unsorted = 0;
	}
	w->nrows = 0;
	w->nbytes = 0;
	rc = 0;
	/* merging is housekeeping: the records are durable already */
	if (w->o.merge_at > 1)
		rc = merge_auto(w, err, errsz);
	goto out;
nomem:
	oom(err, errsz);
out:
	/*
	 * Parts written for a failed commit are unlisted: the next writer
	 * removes them.  The rows stay buffered (a later commit may work).
	 */
	free(order);
	idx_man_free(&nm);
	return rc;
}

/* ---- merging ---- */

/*
 * A source part of a merge, read block by block.  A block is decoded only
 * when its rows must be interleaved with another source's; a full block
 * that no other source's rows fall inside is copied whole (frames and
 * blooms as they are), so merging parts written one after the other (the
 * usual case: ingest cuts a part every buffer) costs a copy.
 */
struct cursor {
	struct idx_part p;
	uint32_t blk, row, nrows;
	struct idx_dec *dec;
	struct idx_col *cols;	/* the current block's, for idx_cols_decode_pread */
	struct idx_kv *kv;
	size_t nkv;
	uint32_t *fmap;		/* for idx_pw_copy_block */
	int live, decoded;
	struct sb zbuf;		/* column bytes read with pread */
};

static void
cursor_load(struct cursor *c)
{
	c->live = c->blk < c->p.nblocks;
	c->decoded = 0;
	c->row = 0;
	c->nrows = c->live ? c->p.blocks[c->blk].nrows : 0;
}

static int
cursor_decode(struct cursor *c, ZSTD_DCtx *zd, char *err, size_t errsz)
{
	const struct idx_pblock *b = &c->p.blocks[c->blk];

	for (uint32_t i = 0; i < b->ncols; i++)
		idx_col_get(b, i, &c->cols[i]);
	if (idx_cols_decode_pread(&c->p, b, c->cols, b->ncols, c->dec, &c->zbuf, zd, err, errsz) < 0)
		return -1;
	c->decoded = 1;
	return 0;
}

/* Fill c->kv with the fields of the current row. */
static void
cursor_row(struct cursor *c)
{
	const struct idx_pblock *b = &c->p.blocks[c->blk];

	c->nkv = 0;
	for (uint32_t i = 0; i < b->ncols; i++) {
		struct idx_col col;
		const struct idx_dec *d;

		idx_col_get(b, i, &col);
		if (col.field == 0)
			continue;
		d = &c->dec[col.field];
		if (d->len[c->row] == 0)
			continue;
		c->kv[c->nkv].k = c->p.fields[col.field].name;
		c->kv[c->nkv].kn = c->p.fields[col.field].nlen;
		c->kv[c->nkv].v = d->v[c->row];
		c->kv[c->nkv].vn = d->len[c->row];
		c->nkv++;
	}
}

/* The stream and time of c's next row (of an undecoded block: its first, the smallest) against (y, ty). */
static int
cursor_cmp_at(const struct cursor *a, const struct idx_pstream *y, int64_t ty)
{
	const struct idx_pblock *b = &a->p.blocks[a->blk];
	const struct idx_pstream *x = &a->p.streams[b->stream];
	int64_t tx = a->decoded ? a->dec[0].t[a->row] : b->tmin;
	int c = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);

	if (c == 0 && x->len != y->len)
		c = x->len < y->len ? -1 : 1;
	if (c)
		return c;
	return tx < ty ? -1 : tx > ty;
}

static int
cursor_cmp(const struct cursor *a, const struct cursor *b)
{
	const struct idx_pblock *bb = &b->p.blocks[b->blk];

	return cursor_cmp_at(a, &b->p.streams[bb->stream], b->decoded ? b->dec[0].t[b->row] : bb->tmin);
}

/* Whether m's next block can go out whole: full, and no other source has a row of its stream before its end. */
static int
cursor_copyable(const struct cursor *m, const struct cursor *cs, size_t ns)
{
	const struct idx_pblock *b = &m->p.blocks[m->blk];

	if (m->decoded || !idx_pw_block_full(b))
		return 0;
	for (size_t i = 0; i < ns; i++)
		if (&cs[i] != m && cs[i].live && cursor_cmp_at(&cs[i], &m->p.streams[b->stream], b->tmax) < 0)
			return 0;
	return 1;
}

static int
ment_size_cmp(const void *a, const void *b)
{
	const struct idx_ment *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

/* Which parts of a day a merge takes: sizes in [above, below), ids from min_id on, at most max of them. */
struct msel {
	uint64_t above, below, min_id;
	size_t max;
};

static int
msel_has(const struct msel *m, const struct idx_ment *e)
{
	return e->size >= m->above && e->size < m->below && e->id >= m->min_id;
}

/* Merge the selected parts of day (the smallest first) into one. */
static int
merge_day(struct idx_w *w, uint32_t day, const struct msel *msel, char *err, size_t errsz)
{
	size_t maxparts = msel->max;
	uint64_t copied = 0, rows = 0;

	struct idx_ment *sel = NULL, ent;
	struct cursor *cs = NULL;
	struct idx_man nm = { 0 };
	struct idx_pw *pw = NULL;
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	size_t ns = 0;
	char path[4200];
	int rc = -1;

	if (zd == NULL || (sel = malloc((w->man.n + 1) * sizeof(*sel))) == NULL)
		goto nomem;
	for (size_t i = 0; i < w->man.n; i++)
		if (w->man.e[i].day == day && msel_has(msel, &w->man.e[i]))
			sel[ns++] = w->man.e[i];
	if (ns < 2) {
		rc = 0;
		goto out;
	}
	qsort(sel, ns, sizeof(*sel), ment_size_cmp);
	if (ns > maxparts)
		ns = maxparts;
	if ((cs = calloc(ns, sizeof(*cs))) == NULL)
		goto nomem;
	for (size_t i = 0; i < ns; i++) {
		if (idx_part_path(w->dir, sel[i].day, sel[i].id, path, sizeof(path)) < 0 ||
		    idx_part_open(&cs[i].p, path, err, errsz) < 0)
			goto out;
		/* column bytes are read with pread: see idx_pw_copy_block */
		if ((cs[i].p.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out;
		}
		if ((cs[i].dec = calloc(cs[i].p.nfields, sizeof(*cs[i].dec))) == NULL ||
		    (cs[i].cols = calloc(cs[i].p.nfields, sizeof(*cs[i].cols))) == NULL ||
		    (cs[i].kv = calloc(cs[i].p.nfields, sizeof(*cs[i].kv))) == NULL ||
		    (cs[i].fmap = calloc(cs[i].p.nfields, sizeof(*cs[i].fmap))) == NULL)
			goto nomem;
		/* copied blooms are not rebuilt: check them as --verify does */
		if (idx_part_check_runs(&cs[i].p, err, errsz) < 0)
			goto out;
		cursor_load(&cs[i]);
		/*
		 * The check touched every bloom through the mapping; the copy
		 * reads them again with pread: let go of the pages, or a merge
		 * of many parts keeps them all resident.
		 */
		(void)madvise((void *)cs[i].p.map, cs[i].p.size, MADV_DONTNEED);
	}
	if ((pw = idx_pw_new(w->dir, day, w->man.next_id, w->o.level, err, errsz)) == NULL)
		goto out;
	for (;;) {
		struct cursor *m = NULL;
		const struct idx_pstream *s;

		for (size_t i = 0; i < ns; i++)
			if (cs[i].live && (m == NULL || cursor_cmp(&cs[i], m) < 0))
				m = &cs[i];
		if (m == NULL)
			break;
		if (cursor_copyable(m, cs, ns)) {
			if (idx_pw_copy_block(pw, &m->p, &m->p.blocks[m->blk], m->fmap, err, errsz) < 0)
				goto out;
			copied++;
			m->blk++;
			cursor_load(m);
			continue;
		}
		if (!m->decoded && cursor_decode(m, zd, err, errsz) < 0)
			goto out;
		cursor_row(m);
		s = &m->p.streams[m->p.blocks[m->blk].stream];
		if (idx_pw_add(pw, s->text, s->len, m->dec[0].t[m->row], m->kv, m->nkv, err, errsz) < 0)
			goto out;
		rows++;
		if (++m->row == m->nrows) {
			m->blk++;
			cursor_load(m);
		}
	}
	if (idx_pw_finish(pw, &ent, err, errsz) < 0) {
		pw = NULL;
		goto out;
	}
	pw = NULL;
	if (w->o.verbose) {
		char msg[200], dn[16];

		idx_day_name(day, dn);
		snprintf(msg, sizeof(msg), "merged %zu parts of %s: %llu blocks copied, %llu rows encoded again",
		    ns, dn, (unsigned long long)copied, (unsigned long long)rows);
		wwarn(w, msg);
	}
	nm.next_id = w->man.next_id + 1;
	for (size_t i = 0; i < w->man.n; i++) {
		int merged = 0;

		for (size_t k = 0; k < ns; k++)
			merged |= w->man.e[i].id == sel[k].id;
		if (!merged && idx_man_add(&nm, &w->man.e[i]) < 0)
			goto nomem;
	}
	if (idx_man_add(&nm, &ent) < 0)
		goto nomem;
	if (idx_man_write(&nm, w->dir, err, errsz) < 0)
		goto out;
	idx_man_free(&w->man);
	w->man = nm;
	memset(&nm, 0, sizeof(nm));
	/* readers holding the old manifest keep their mapped parts; see idx.h */
	for (size_t k = 0; k < ns; k++)
		unlink_part(w, &sel[k]);
	rc = 0;
	goto out;
nomem:
	oom(err, errsz);
out:
	idx_pw_abort(pw);
	for (size_t i = 0; cs && i < ns; i++) {
		for (uint32_t k = 0; cs[i].dec && k < cs[i].p.nfields; k++)
			idx_dec_free(&cs[i].dec[k]);
		free(cs[i].dec);
		free(cs[i].cols);
		free(cs[i].kv);
		free(cs[i].fmap);
		sb_free(&cs[i].zbuf);
		idx_part_close(&cs[i].p);
	}
	free(cs);
	free(sel);
	idx_man_free(&nm);
	ZSTD_freeDCtx(zd);
	return rc;
}

/* Merge, day by day, the parts that m selects, while a day has at least min of them. */
static int
merge_days(struct idx_w *w, const struct msel *m, size_t min, char *err, size_t errsz)
{
	for (size_t k = 0; k < w->man.n; k++) {
		uint32_t day = w->man.e[k].day;
		size_t cnt = 0;

		for (size_t j = 0; j < w->man.n; j++)
			cnt += w->man.e[j].day == day && msel_has(m, &w->man.e[j]);
		if (cnt >= min && cnt > 1) {
			if (merge_day(w, day, m, err, errsz) < 0)
				return -1;
			k = (size_t)-1;	/* the manifest changed: start over */
		}
	}
	return 0;
}

int
idx_w_merge_all(struct idx_w *w, char *err, size_t errsz)
{
	struct msel m = { 0, UINT64_MAX, 0, SIZE_MAX };

	return merge_days(w, &m, 2, err, errsz);
}

int
idx_w_merge_run(struct idx_w *w, char *err, size_t errsz)
{
	struct msel m = { 0, UINT64_MAX, w->first_id, SIZE_MAX };

	/* the end of the input: the record buffers go back before the merge takes its own */
	for (size_t k = 0; k < w->nstreams; k++)
		if (w->sb[k].nrows == 0) {
			sb_free(&w->sb[k].arena);
			free(w->sb[k].rows);
			w->sb[k].rows = NULL;
			w->sb[k].caprows = 0;
		}

	return merge_days(w, &m, 2, err, errsz);
}

/*
 * Automatic merges.  Small parts (those of frequent --sync-every commits)
 * are folded merge_at of them at a time, the smallest first.  Bigger
 * parts go by tiers of sizes that grow 32-fold, [2 MiB, 64 MiB), [64 MiB,
 * 2 GiB) and so on: when a day has 32 parts in one tier they become one
 * of the next.  A long-running writer so keeps a day's parts few, and
 * every byte is merged a few times at most; merging parts cut one after
 * the other copies their blocks rather than encoding them again.
 */
#define TIER_SHIFT	5
static int
merge_auto(struct idx_w *w, char *err, size_t errsz)
{
	struct msel m = { 0, SMALL_PART, 0, w->o.merge_at };

	if (merge_days(w, &m, w->o.merge_at, err, errsz) < 0)
		return -1;
	for (uint64_t lo = SMALL_PART; lo <= (UINT64_MAX >> TIER_SHIFT); lo <<= TIER_SHIFT) {
		m.above = lo;
		m.below = lo << TIER_SHIFT;
		m.max = (size_t)1 << TIER_SHIFT;
		if (merge_days(w, &m, m.max, err, errsz) < 0)
			return -1;
	}
	return 0;
}

int
idx_w_retention(struct idx_w *w, int64_t cutoff, unsigned *days, char *err, size_t errsz)
{
	struct idx_man nm = { 0 };
	int64_t last = -1;

	*days = 0;
	nm.next_id = w->man.next_id;
	for (size_t i = 0; i < w->man.n; i++) {
		/* a day goes only when all of it is older than the cutoff */
		if (((int64_t)w->man.e[i].day + 1) * DAY_NS <= cutoff)
			continue;
		if (idx_man_add(&nm, &w->man.e[i]) < 0) {
			idx_man_free(&nm);
			return oom(err, errsz);
		}
	}
	if (nm.n == w->man.n) {
		idx_man_free(&nm);
		return 0;
	}
	if (idx_man_write(&nm, w->dir, err, errsz) < 0) {
		idx_man_free(&nm);
		return -1;
	}
	for (size_t i = 0; i < w->man.n; i++)
		if (((int64_t)w->man.e[i].day + 1) * DAY_NS <= cutoff) {
			if (w->man.e[i].day != last)
				(*days)++;
			last = w->man.e[i].day;
			unlink_part(w, &w->man.e[i]);
		}
	idx_man_free(&w->man);
	w->man = nm;
	return 0;
}
