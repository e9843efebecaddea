/* idx_info.c: whole-index summaries (--stats) and the byte-by-byte check (--verify). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "idx_write.h"

struct hfield {
	char *name;
	uint64_t values;
	unsigned char hll[IDX_HLL_M];
};

void
idx_stats_free(struct idx_stats *st)
{
	for (size_t i = 0; i < st->nfields; i++)
		free(st->fields[i].name);
	free(st->fields);
	memset(st, 0, sizeof(*st));
}

int
idx_stats_get(const char *dir, struct idx_stats *st, idx_warn_fn warn, void *warn_arg,
    char *err, size_t errsz)
{
	struct idx_man m;
	struct hfield *hf = NULL;
	size_t nhf = 0;
	uint64_t *sh = NULL;	/* stream text hashes seen (open addressing) */
	size_t shcap = 1024, shn = 0;
	int64_t lastday = -1;
	char path[4200], e[4400];
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (idx_man_read(&m, dir, err, errsz) < 0)
		return -1;
	if ((sh = calloc(shcap, sizeof(*sh))) == NULL)
		goto nomem;
	for (size_t i = 0; i < m.n; i++) {
		struct idx_part p;

		if (idx_part_path(dir, m.e[i].day, m.e[i].id, path, sizeof(path)) < 0)
			continue;
		if (idx_part_open(&p, path, e, sizeof(e)) < 0) {
			if (warn)
				warn(warn_arg, e);
			continue;
		}
		st->parts++;
		if (m.e[i].day != lastday)
			st->days++;
		lastday = m.e[i].day;
		st->records += p.records;
		st->bytes_compressed += p.size;
		st->blocks += p.nblocks;
		if (st->records == p.records || p.tmin < st->tmin)
			st->tmin = p.tmin;
		if (st->records == p.records || p.tmax > st->tmax)
			st->tmax = p.tmax;
		for (uint32_t b = 0; b < p.nblocks; b++)
			for (uint32_t c = 0; c < p.blocks[b].ncols; c++) {
				struct idx_col col;

				idx_col_get(&p.blocks[b], c, &col);
				st->bytes_raw += col.rawsize;
			}
		for (uint32_t s = 0; s < p.nstreams; s++) {
			uint64_t h = idx_hash(p.streams[s].text, p.streams[s].len) | 1;
			size_t k;

			if ((shn + 1) * 2 > shcap) {
				size_t nc = shcap * 2;
				uint64_t *nt = calloc(nc, sizeof(*nt));

				if (nt == NULL) {
					idx_part_close(&p);
					goto nomem;
				}
				for (size_t j = 0; j < shcap; j++)
					if (sh[j]) {
						for (k = sh[j] & (nc - 1); nt[k]; k = (k + 1) & (nc - 1))
							;
						nt[k] = sh[j];
					}
				free(sh);
				sh = nt;
				shcap = nc;
			}
			for (k = h & (shcap - 1); sh[k] && sh[k] != h; k = (k + 1) & (shcap - 1))
				;
			if (!sh[k]) {
				sh[k] = h;
				shn++;
			}
		}
		for (uint32_t f = 1; f < p.nfields; f++) {
			size_t k;

			for (k = 0; k < nhf; k++)
				if (strlen(hf[k].name) == p.fields[f].nlen &&
				    memcmp(hf[k].name, p.fields[f].name, p.fields[f].nlen) == 0)
					break;
			if (k == nhf) {
				struct hfield *nv = realloc(hf, (nhf + 1) * sizeof(*nv));

				if (nv == NULL || (nv[k].name = strndup(p.fields[f].name, p.fields[f].nlen)) == NULL) {
					hf = nv ? nv : hf;
					idx_part_close(&p);
					goto nomem;
				}
				hf = nv;
				nv[k].values = 0;
				memset(nv[k].hll, 0, IDX_HLL_M);
				nhf++;
			}
			hf[k].values += p.fields[f].nonempty;
			for (unsigned r = 0; r < IDX_HLL_M; r++)
				if (p.fields[f].hll[r] > hf[k].hll[r])
					hf[k].hll[r] = p.fields[f].hll[r];
		}
		idx_part_close(&p);
	}
	st->streams = shn;
	if (nhf && (st->fields = calloc(nhf, sizeof(*st->fields))) == NULL)
		goto nomem;
	for (size_t k = 0; k < nhf; k++) {
		st->fields[k].name = hf[k].name;
		hf[k].name = NULL;
		st->fields[k].values = hf[k].values;
		st->fields[k].cardinality = idx_hll_estimate(hf[k].hll);
		st->nfields++;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errsz, "out of memory");
out:
	for (size_t k = 0; k < nhf; k++)
		free(hf[k].name);
	free(hf);
	free(sh);
	idx_man_free(&m);
	return rc;
}

long
idx_verify(const char *dir, idx_warn_fn bad, void *arg, uint64_t *records, char *err, size_t errsz)
{
	struct idx_man m;
	struct idx_dec d = { 0 };
	ZSTD_DCtx *zd;
	char path[4200], e[4400];
	long nbad = 0;

	*records = 0;
	if (idx_man_read(&m, dir, err, errsz) < 0)
		return -1;
	if ((zd = ZSTD_createDCtx()) == NULL) {
		idx_man_free(&m);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m.n; i++) {
		struct idx_part p;
		uint64_t rows = 0;
		int ok = 1;

		if (idx_part_path(dir, m.e[i].day, m.e[i].id, path, sizeof(path)) < 0)
			continue;
		if (idx_part_open(&p, path, e, sizeof(e)) < 0) {
			bad(arg, e);
			nbad++;
			continue;
		}
		if (p.size != m.e[i].size || p.id != m.e[i].id || p.day != m.e[i].day ||
		    p.records != m.e[i].records) {
			snprintf(e, sizeof(e), "%s: size, id or record count differs from the MANIFEST's (offset 0)",
			    path);
			bad(arg, e);
			ok = 0;
		}
		for (uint32_t b = 0; ok && b < p.nblocks; b++) {
			const struct idx_pblock *blk = &p.blocks[b];
			int has_time = 0;

			rows += blk->nrows;
			if (blk->tmin < p.tmin || blk->tmax > p.tmax) {
				snprintf(e, sizeof(e), "%s: block time range outside the part's (offset %llu)",
				    path, (unsigned long long)blk->off);
				bad(arg, e);
				ok = 0;
				break;
			}
			for (uint32_t c = 0; ok && c < blk->ncols; c++) {
				struct idx_col col;

				idx_col_get(blk, c, &col);
				has_time |= col.field == 0 && col.enc == IDX_ENC_TIME;
				if ((col.field == 0) != (col.enc == IDX_ENC_TIME)) {
					snprintf(e, sizeof(e), "%s: _time column mixed up (offset %llu)", path,
					    (unsigned long long)col.off);
					bad(arg, e);
					ok = 0;
				} else if (idx_col_decode(&p, blk, &col, &d, zd, e, sizeof(e)) < 0) {
					bad(arg, e);
					ok = 0;
				}
			}
			if (ok && !has_time) {
				snprintf(e, sizeof(e), "%s: block without _time (offset %llu)", path,
				    (unsigned long long)blk->off);
				bad(arg, e);
				ok = 0;
			}
		}
		if (ok && idx_part_check_blooms(&p, e, sizeof(e)) < 0) {
			bad(arg, e);
			ok = 0;
		}
		if (ok && rows != p.records) {
			snprintf(e, sizeof(e), "%s: blocks hold %llu records, the footer says %llu (offset %zu)",
			    path, (unsigned long long)rows, (unsigned long long)p.records, p.size - IDX_PART_FTR);
			bad(arg, e);
			ok = 0;
		}
		if (ok)
			*records += p.records;
		else
			nbad++;
		idx_part_close(&p);
	}
	idx_dec_free(&d);
	ZSTD_freeDCtx(zd);
	idx_man_free(&m);
	return nbad;
}
