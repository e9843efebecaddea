/* idx_fmt.c: logindex format primitives: varints, bloom filters, sketches, part validation, column decoding, manifest. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "afile.h"
#include "idx_fmt.h"
#include "tok.h"

int
idx_sb_put32(struct sb *s, uint32_t v)
{
	unsigned char b[4];

	idx_put32(b, v);
	return sb_add(s, b, 4);
}

int
idx_sb_put64(struct sb *s, uint64_t v)
{
	unsigned char b[8];

	idx_put64(b, v);
	return sb_add(s, b, 8);
}

int
idx_sb_putvar(struct sb *s, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	return sb_add(s, b, n);
}

int
idx_getvar(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return -1;
		r |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

double
idx_getf64(const unsigned char *p)
{
	uint64_t u = idx_get64(p);
	double d;

	memcpy(&d, &u, 8);
	return d;
}

void
idx_putf64(unsigned char *p, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	idx_put64(p, u);
}

uint64_t
idx_hash(const void *p, size_t n)
{
	/* XXH3: twice as fast as XXH64 on words, the common case */
	return XXH3_64bits(p, n);
}

/* The same words as tok_each, with an ASCII fast path (tok.h defines them). */
void
idx_tokens(const char *s, size_t n, void (*cb)(void *arg, uint64_t h), void *arg)
{
	static unsigned char cls[256];	/* 1 word, 2 separator, 0 non-ASCII */
	size_t i = 0, start = 0, sep, w;
	int in = 0;

	if (cls['a'] == 0)
		for (int c = 0; c < 256; c++)
			cls[c] = c >= 0x80 ? 0 : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '_' ? 1 : 2;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (cls[c] == 1) {
			/* the common case: a run of ASCII word bytes */
			if (!in)
				start = i, in = 1;
			for (i++; i < n && cls[(unsigned char)s[i]] == 1; i++)
				;
			continue;
		}
		if (cls[c] == 2) {
			w = 0;
			sep = 1;
		} else {
			w = tok_word_char(s + i, n - i, &sep);
		}
		if (w) {
			if (!in)
				start = i, in = 1;
			i += w;
		} else {
			if (in)
				cb(arg, idx_hash(s + start, i - start)), in = 0;
			i += sep ? sep : 1;
		}
	}
	if (in)
		cb(arg, idx_hash(s + start, n - start));
}

size_t
idx_bloom_size(size_t ntok)
{
	size_t bits = ntok * IDX_BLOOM_BITS;

	return bits < 64 ? 8 : (bits + 63) / 64 * 8;
}

/*
 * Bit i of h: (h1 + i*h2) mod 2^32, scaled to the filter's m bits by a
 * multiplication (Lemire's reduction) rather than a division.
 */
static inline uint64_t
bloom_bit(uint64_t h, unsigned i, uint64_t m)
{
	uint32_t x = (uint32_t)h + i * ((uint32_t)(h >> 32) | 1);

	return ((uint64_t)x * m) >> 32;
}

void
idx_bloom_add(unsigned char *bf, size_t size, uint64_t h)
{
	uint64_t m = (uint64_t)size * 8;

	for (unsigned i = 0; i < IDX_BLOOM_K; i++) {
		uint64_t b = bloom_bit(h, i, m);

		bf[b >> 3] |= (unsigned char)(1u << (b & 7));
	}
}

int
idx_bloom_test(const unsigned char *bf, size_t size, uint64_t h)
{
	uint64_t m = (uint64_t)size * 8;

	if (size == 0)
		return 0;
	for (unsigned i = 0; i < IDX_BLOOM_K; i++) {
		uint64_t b = bloom_bit(h, i, m);

		if (!(bf[b >> 3] & (1u << (b & 7))))
			return 0;
	}
	return 1;
}

void
idx_hll_add(unsigned char *reg, uint64_t h)
{
	uint32_t j = (uint32_t)(h >> (64 - IDX_HLL_P));
	uint64_t w = h << IDX_HLL_P | (1ULL << (IDX_HLL_P - 1));
	unsigned char r = (unsigned char)(__builtin_clzll(w) + 1);

	if (reg[j] < r)
		reg[j] = r;
}

double
idx_hll_estimate(const unsigned char *reg)
{
	double m = IDX_HLL_M, sum = 0, e;
	unsigned zeros = 0;

	for (unsigned i = 0; i < IDX_HLL_M; i++) {
		sum += ldexp(1.0, -(int)reg[i]);
		zeros += reg[i] == 0;
	}
	e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / zeros);
	return e;
}

int
idx_num(const char *s, size_t n, double *v)
{
	char buf[64], *end;
	unsigned char c;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	c = (unsigned char)s[0];
	if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'i'))
		return 0;
	/* ids and words that start with a digit ("71e8ed0e-...") go without strtod */
	for (size_t i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' ||
		    c == '+' || c == 'i' || c == 'n' || c == 'f'))
			return 0;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* as qry reads numbers: no hex or nan; inf only spelled out */
	if (strpbrk(buf, "xXnN") != NULL && strcmp(buf, "inf") && strcmp(buf, "-inf") &&
	    strcmp(buf, "+inf"))
		return 0;
	*v = strtod(buf, &end);
	return *end == '\0' && !isnan(*v);
}

int64_t
idx_day(int64_t ns)
{
	int64_t d = 86400LL * 1000000000LL;

	return ns >= 0 ? ns / d : -((-ns + d - 1) / d);
}

void
idx_day_name(int64_t day, char buf[16])
{
	/* civil_from_days (H. Hinnant) */
	int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;

	y += m <= 2;
	/* parts hold days of years 1970..9999 only (the writer refuses others) */
	if (y < 0 || y > 9999)
		y = 9999;
	snprintf(buf, 16, "%04u%02u%02u", (unsigned)y % 10000u, m % 13u, d % 32u);
}

/* ---- parts ---- */

static int
fail(char *err, size_t errsz, const char *path, uint64_t off, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errsz, "%s: %s (offset %llu)", path ? path : "part", msg,
	    (unsigned long long)off);
	return -1;
}

/* off + len <= lim without overflow */
static int
fits(uint64_t off, uint64_t len, uint64_t lim)
{
	return off <= lim && len <= lim - off;
}

/*
 * Version 3's additions are consistent: a stored column's bytes are its
 * raw bytes; a uuid column is stored, 16 bytes a row, every row a uuid.
 */
static int
stored_ok(uint32_t ver, const struct idx_pblock *b, const struct idx_col *c)
{
	if (ver < 3)
		return c->enc != IDX_ENC_UUID && !(c->flags & IDX_COL_STORED);
	if (c->enc == IDX_ENC_UUID)
		return (c->flags & IDX_COL_STORED) && c->csize == 16 * (uint64_t)b->nrows &&
		    c->rawsize == IDX_UUID_LEN * (uint64_t)b->nrows && c->nonempty == b->nrows;
	return !(c->flags & IDX_COL_STORED) || c->csize == c->rawsize;
}

int
idx_part_parse(struct idx_part *p, const unsigned char *m, size_t size, char *err, size_t errsz)
{
	const char *path = p->path;
	const unsigned char *f, *ix, *q, *end;
	uint64_t ioff, isz, v;
	uint32_t ver;

	p->map = m;
	p->size = size;
	p->fd = -1;
	p->fields = NULL;
	p->streams = NULL;
	p->blocks = NULL;
	if (size < IDX_PART_HDR + IDX_PART_FTR)
		return fail(err, errsz, path, 0, "file too short for a part (%zu bytes)", size);
	if (memcmp(m, IDX_PART_MAGIC, 8) != 0)
		return fail(err, errsz, path, 0, "not a logindex part (bad magic)");
	ver = idx_get32(m + 8);
	if (ver < IDX_PART_VERSION_MIN || ver > IDX_PART_VERSION)
		return fail(err, errsz, path, 8, "format version %u is not supported (this build reads versions %u to %u)",
		    ver, IDX_PART_VERSION_MIN, IDX_PART_VERSION);
	p->version = ver;
	if (idx_get32(m + 12) != IDX_PART_HDR)
		return fail(err, errsz, path, 12, "bad header size");
	p->id = idx_get64(m + 16);
	p->day = idx_get32(m + 24);
	f = m + size - IDX_PART_FTR;
	if (memcmp(f + 56, IDX_PEND_MAGIC, 8) != 0)
		return fail(err, errsz, path, size - 8, "bad footer magic (truncated part?)");
	if (idx_get32(f + 48) != ver || idx_get32(f + 52) != IDX_PART_FTR)
		return fail(err, errsz, path, size - IDX_PART_FTR + 48, "bad footer version or size");
	ioff = idx_get64(f);
	isz = idx_get64(f + 8);
	if (ioff < IDX_PART_HDR || !fits(ioff, isz, size - IDX_PART_FTR) || isz < IDX_INDEX_HDR)
		return fail(err, errsz, path, size - IDX_PART_FTR, "index section out of bounds");
	ix = m + ioff;
	if (XXH64(ix, isz, 0) != idx_get64(f + 40))
		return fail(err, errsz, path, ioff, "bad index checksum");
	p->records = idx_get64(f + 16);
	p->tmin = (int64_t)idx_get64(f + 24);
	p->tmax = (int64_t)idx_get64(f + 32);
	p->nfields = idx_get32(ix);
	p->nstreams = idx_get32(ix + 4);
	p->nblocks = idx_get32(ix + 8);
	p->nruns = idx_get32(ix + 12);
	end = ix + isz;
	q = ix + IDX_INDEX_HDR;
	/* every entry takes at least a few bytes: bound the counts by the size */
	if (p->nfields > isz / 2 || p->nstreams > isz / 4 || p->nblocks > isz / IDX_BLOCK_HDR ||
	    p->nruns > isz / IDX_RUN)
		return fail(err, errsz, path, ioff, "table counts exceed the index size");
	if ((p->fields = calloc(p->nfields + 1, sizeof(*p->fields))) == NULL ||
	    (p->streams = calloc(p->nstreams + 1, sizeof(*p->streams))) == NULL ||
	    (p->blocks = calloc(p->nblocks + 1, sizeof(*p->blocks))) == NULL)
		goto oom;
	for (uint32_t i = 0; i < p->nfields; i++) {
		size_t nl;

		if (end - q < 2)
			goto trunc;
		nl = (size_t)q[0] | (size_t)q[1] << 8;
		q += 2;
		if ((size_t)(end - q) < nl + 8 + IDX_HLL_M || nl == 0)
			goto trunc;
		p->fields[i].name = (const char *)q;
		p->fields[i].nlen = nl;
		q += nl;
		p->fields[i].nonempty = idx_get64(q);
		p->fields[i].hll = q + 8;
		q += 8 + IDX_HLL_M;
	}
	for (uint32_t i = 0; i < p->nstreams; i++) {
		if (end - q < 4)
			goto trunc;
		v = idx_get32(q);
		q += 4;
		if ((uint64_t)(end - q) < v)
			goto trunc;
		p->streams[i].text = (const char *)q;
		p->streams[i].len = (size_t)v;
		q += v;
	}
	for (uint32_t i = 0; i < p->nblocks; i++) {
		struct idx_pblock *b = &p->blocks[i];

		if (end - q < IDX_BLOCK_HDR)
			goto trunc;
		b->off = (uint64_t)(q - m);
		b->stream = idx_get32(q);
		b->nrows = idx_get32(q + 4);
		b->tmin = (int64_t)idx_get64(q + 8);
		b->tmax = (int64_t)idx_get64(q + 16);
		b->ncols = idx_get32(q + 24);
		q += IDX_BLOCK_HDR;
		if (b->stream >= p->nstreams || b->nrows == 0 || b->nrows > IDX_MAX_ROWS ||
		    b->tmin > b->tmax || b->ncols == 0 || b->ncols > p->nfields)
			return fail(err, errsz, path, b->off, "bad block header");
		if ((uint64_t)(end - q) / IDX_COL_DESC < b->ncols)
			goto trunc;
		b->cols = q;
		for (uint32_t k = 0; k < b->ncols; k++) {
			struct idx_col c;

			idx_col_get(b, k, &c);
			if (c.field >= p->nfields || c.enc > IDX_ENC_UUID || c.rawsize > IDX_MAX_RAW ||
			    !stored_ok(ver, b, &c) ||
			    c.bloomsize % 8 != 0 || c.nonempty > b->nrows ||
			    !fits(c.off, c.csize, ioff) || c.off < IDX_PART_HDR ||
			    !fits(c.boff, c.bloomsize, ioff) || (c.bloomsize && c.boff < IDX_PART_HDR))
				return fail(err, errsz, path, (uint64_t)(q - m) + (uint64_t)k * IDX_COL_DESC,
				    "bad column descriptor");
		}
		q += (size_t)b->ncols * IDX_COL_DESC;
	}
	if ((uint64_t)(end - q) / IDX_RUN < p->nruns)
		goto trunc;
	p->runs = q;
	for (uint32_t i = 0; i < p->nruns; i++, q += IDX_RUN)
		if (!fits(idx_get64(q), idx_get64(q + 8), ioff) || idx_get64(q) < IDX_PART_HDR)
			return fail(err, errsz, path, (uint64_t)(q - m), "bad bloom run");
	return 0;
trunc:
	return fail(err, errsz, path, (uint64_t)(q - m), "index section truncated");
oom:
	snprintf(err, errsz, "out of memory");
	return -1;
}

int
idx_part_open(struct idx_part *p, const char *path, char *err, size_t errsz)
{
	struct stat st;
	void *m;
	int fd;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if ((p->path = strdup(path)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if (st.st_size < IDX_PART_HDR + IDX_PART_FTR) {
		fail(err, errsz, path, 0, "file too short for a part (%lld bytes)", (long long)st.st_size);
		goto bad;
	}
	if ((m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto bad;
	}
	close(fd);
	fd = -1;
	if (idx_part_parse(p, m, (size_t)st.st_size, err, errsz) < 0) {
		munmap(m, (size_t)st.st_size);
		p->map = NULL;
		goto bad;
	}
	return 0;
bad:
	if (fd >= 0)
		close(fd);
	idx_part_close(p);
	return -1;
}

void
idx_part_close(struct idx_part *p)
{
	if (p->map != NULL && p->path != NULL)
		munmap((void *)p->map, p->size);
	/* a part never opened is all zeros: path NULL, fd 0 means nothing */
	if (p->path != NULL && p->fd >= 0)
		close(p->fd);
	free(p->fields);
	free(p->streams);
	free(p->blocks);
	free(p->path);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

void
idx_col_get(const struct idx_pblock *b, uint32_t i, struct idx_col *c)
{
	const unsigned char *d = b->cols + (size_t)i * IDX_COL_DESC;

	c->field = idx_get32(d);
	c->enc = d[4];
	c->flags = d[5];
	c->off = idx_get64(d + 8);
	c->csize = idx_get32(d + 16);
	c->rawsize = idx_get32(d + 20);
	c->bloomsize = idx_get32(d + 24);
	c->nonempty = idx_get32(d + 28);
	c->nmin = idx_getf64(d + 32);
	c->nmax = idx_getf64(d + 40);
	c->sum = idx_get64(d + 48);
	c->boff = idx_get64(d + 56);
}

static int
dec_grow(struct idx_dec *d, uint32_t n)
{
	if (d->cap >= n)
		return 0;
	free(d->v);
	free(d->len);
	free(d->t);
	d->v = malloc(n * sizeof(*d->v));
	d->len = malloc(n * sizeof(*d->len));
	d->t = malloc(n * sizeof(*d->t));
	if (d->v == NULL || d->len == NULL || d->t == NULL) {
		d->cap = 0;
		return -1;
	}
	d->cap = n;
	return 0;
}

#ifndef __SSE2__
static const char hexd[] = "0123456789abcdef";

#define HEX2(o, b) ((o)[0] = hexd[(b) >> 4], (o)[1] = hexd[(b) & 15])
#endif

/* The 36-byte text of the uuid in 16 bytes (a hit block formats hundreds). */
static void
uuid_format(const unsigned char *u, char *out)
{
#ifdef __SSE2__
	/* nibbles side by side, then '0' + v, plus 39 more for a-f */
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)u);
	__m128i m = _mm_set1_epi8(0x0f);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), m), lo = _mm_and_si128(x, m);
	__m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);
	__m128i nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
	char t[32];

	a = _mm_add_epi8(_mm_add_epi8(a, zero), _mm_and_si128(_mm_cmpgt_epi8(a, nine), gap));
	b = _mm_add_epi8(_mm_add_epi8(b, zero), _mm_and_si128(_mm_cmpgt_epi8(b, nine), gap));
	_mm_storeu_si128((__m128i *)(void *)t, a);
	_mm_storeu_si128((__m128i *)(void *)(t + 16), b);
	memcpy(out, t, 8);
	out[8] = '-';
	memcpy(out + 9, t + 8, 4);
	out[13] = '-';
	memcpy(out + 14, t + 12, 4);
	out[18] = '-';
	memcpy(out + 19, t + 16, 4);
	out[23] = '-';
	memcpy(out + 24, t + 20, 12);
#else
	for (int i = 0; i < 4; i++)
		HEX2(out + 2 * i, u[i]);
	out[8] = '-';
	HEX2(out + 9, u[4]);
	HEX2(out + 11, u[5]);
	out[13] = '-';
	HEX2(out + 14, u[6]);
	HEX2(out + 16, u[7]);
	out[18] = '-';
	HEX2(out + 19, u[8]);
	HEX2(out + 21, u[9]);
	out[23] = '-';
	for (int i = 0; i < 6; i++)
		HEX2(out + 24 + 2 * i, u[10 + i]);
#endif
}

int
idx_uuid_parse(const char *s, size_t n, unsigned char out[16])
{
	int k = 0;

	if (n != IDX_UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
			continue;
		}
		hi = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;
		lo = s[i + 1] >= '0' && s[i + 1] <= '9' ? s[i + 1] - '0' :
		    s[i + 1] >= 'a' && s[i + 1] <= 'f' ? s[i + 1] - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return 0;
		out[k++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return 1;
}

static int
decode(const struct idx_part *p, const struct idx_pblock *b, const struct idx_col *c,
    const unsigned char *base, struct idx_dec *d, void *zctx, char *err, size_t errsz)
{
	const unsigned char *s, *e;
	size_t r;
	uint64_t v;
	uint32_t n = b->nrows;

	if (XXH64(base, c->csize, 0) != c->sum)
		return fail(err, errsz, p->path, c->off, "bad column checksum");
	if (dec_grow(d, n) < 0 || (d->raw.cap < (size_t)c->rawsize + 1 && sb_grow(&d->raw, (size_t)c->rawsize + 1 - d->raw.len) < 0)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (c->enc == IDX_ENC_UUID) {
		/* checked at open: stored, 16 bytes a row */
		for (uint32_t i = 0; i < n; i++)
			uuid_format(base + 16 * (size_t)i, d->raw.buf + IDX_UUID_LEN * (size_t)i);
		r = c->rawsize;
	} else if (c->flags & IDX_COL_STORED) {
		memcpy(d->raw.buf, base, c->csize);
		r = c->csize;
	} else
		r = ZSTD_decompressDCtx(zctx, d->raw.buf, c->rawsize, base, c->csize);
	if (ZSTD_isError(r) || r != c->rawsize)
		return fail(err, errsz, p->path, c->off, "column does not decompress%s%s",
		    ZSTD_isError(r) ? ": " : " to its stated size", ZSTD_isError(r) ? ZSTD_getErrorName(r) : "");
	d->raw.len = r;
	s = (const unsigned char *)d->raw.buf;
	e = s + r;
	d->ndict = 0;
	d->codes = NULL;
	switch (c->enc) {
	case IDX_ENC_TIME: {
		int64_t t = b->tmin;

		for (uint32_t i = 0; i < n; i++) {
			if (idx_getvar(&s, e, &v) < 0 || v > (uint64_t)(b->tmax - t))
				goto bad;
			t += (int64_t)v;
			d->t[i] = t;
			d->v[i] = NULL;
			d->len[i] = 0;
		}
		break;
	}
	case IDX_ENC_PLAIN: {
		const unsigned char *data;
		uint64_t total = 0;

		for (uint32_t i = 0; i < n; i++) {
			if (idx_getvar(&s, e, &v) < 0 || v > IDX_MAX_RAW)
				goto bad;
			d->len[i] = (uint32_t)v;
			total += v;
		}
		if (total != (uint64_t)(e - s))
			goto bad;
		data = s;
		for (uint32_t i = 0; i < n; i++) {
			d->v[i] = (const char *)data;
			data += d->len[i];
		}
		s = e;
		break;
	}
	case IDX_ENC_UUID:
		for (uint32_t i = 0; i < n; i++) {
			d->v[i] = (const char *)s + IDX_UUID_LEN * (size_t)i;
			d->len[i] = IDX_UUID_LEN;
		}
		s = e;
		break;
	case IDX_ENC_DICT:
		if (idx_getvar(&s, e, &v) < 0 || v == 0 || v > IDX_MAX_DICT)
			goto bad;
		d->ndict = (uint32_t)v;
		for (uint32_t k = 0; k < d->ndict; k++) {
			if (idx_getvar(&s, e, &v) < 0 || v > (uint64_t)(e - s))
				goto bad;
			d->dv[k] = (const char *)s;
			d->dlen[k] = (uint32_t)v;
			s += v;
		}
		if ((size_t)(e - s) != n)
			goto bad;
		d->codes = s;
		for (uint32_t i = 0; i < n; i++) {
			if (s[i] >= d->ndict)
				goto bad;
			d->v[i] = d->dv[s[i]];
			d->len[i] = d->dlen[s[i]];
		}
		s = e;
		break;
	default:
		goto bad;
	}
	if (s != e)
		goto bad;
	return 0;
bad:
	return fail(err, errsz, p->path, c->off, "malformed column data");
}

int
idx_col_decode(const struct idx_part *p, const struct idx_pblock *b, const struct idx_col *c,
    struct idx_dec *d, void *zctx, char *err, size_t errsz)
{
	return decode(p, b, c, p->map + c->off, d, zctx, err, errsz);
}

static int
col_off_cmp(const void *a, const void *b)
{
	const struct idx_col *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Reads of back-to-back columns are joined up to this size. */
#define JOIN_MAX (1u << 20)

int
idx_cols_decode_pread(const struct idx_part *p, const struct idx_pblock *b,
    struct idx_col *cols, size_t n, struct idx_dec *decs, struct sb *buf, void *zctx,
    char *err, size_t errsz)
{
	qsort(cols, n, sizeof(*cols), col_off_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		uint64_t start = cols[i].off, end = start + cols[i].csize;
		const unsigned char *base = p->map + start;
		size_t got = 0;

		for (j = i + 1; j < n && cols[j].off == end && end - start + cols[j].csize <= JOIN_MAX; j++)
			end += cols[j].csize;
		if (p->fd >= 0) {
			buf->len = 0;
			if (sb_grow(buf, (size_t)(end - start)) < 0) {
				snprintf(err, errsz, "out of memory");
				return -1;
			}
			while (got < end - start) {
				ssize_t r = pread(p->fd, buf->buf + got, (size_t)(end - start) - got,
				    (off_t)(start + got));

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					return fail(err, errsz, p->path, start, "%s",
					    r < 0 ? strerror(errno) : "short read");
				got += (size_t)r;
			}
			base = (const unsigned char *)buf->buf;
		}
		for (size_t k = i; k < j; k++)
			if (decode(p, b, &cols[k], base + (cols[k].off - start), &decs[cols[k].field],
			    zctx, err, errsz) < 0)
				return -1;
	}
	return 0;
}

int
idx_part_check_runs(const struct idx_part *p, char *err, size_t errsz)
{
	for (uint32_t i = 0; i < p->nruns; i++) {
		const unsigned char *q = p->runs + (size_t)i * IDX_RUN;

		if (XXH64(p->map + idx_get64(q), idx_get64(q + 8), 0) != idx_get64(q + 16))
			return fail(err, errsz, p->path, idx_get64(q), "bad bloom filter checksum");
	}
	return 0;
}

int
idx_part_check_blooms(const struct idx_part *p, char *err, size_t errsz)
{
	if (idx_part_check_runs(p, err, errsz) < 0)
		return -1;
	for (uint32_t bi = 0; bi < p->nblocks; bi++)
		for (uint32_t k = 0; k < p->blocks[bi].ncols; k++) {
			struct idx_col c;
			uint32_t i;

			idx_col_get(&p->blocks[bi], k, &c);
			if (c.bloomsize == 0)
				continue;
			for (i = 0; i < p->nruns; i++) {
				const unsigned char *q = p->runs + (size_t)i * IDX_RUN;

				if (c.boff >= idx_get64(q) && c.boff - idx_get64(q) <= idx_get64(q + 8) &&
				    c.bloomsize <= idx_get64(q + 8) - (c.boff - idx_get64(q)))
					break;
			}
			if (i == p->nruns)
				return fail(err, errsz, p->path, c.boff, "bloom filter outside every bloom run");
		}
	return 0;
}

void
idx_dec_free(struct idx_dec *d)
{
	sb_free(&d->raw);
	free(d->v);
	free(d->len);
	free(d->t);
	memset(d, 0, sizeof(*d));
}

/* ---- manifest ---- */

int
idx_part_path(const char *dir, uint32_t day, uint64_t id, char *buf, size_t size)
{
	char dn[16];
	int n;

	idx_day_name(day, dn);
	n = snprintf(buf, size, "%s/%s/%016llx.part", dir, dn, (unsigned long long)id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
idx_man_add(struct idx_man *m, const struct idx_ment *e)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		struct idx_ment *v = realloc(m->e, nc * sizeof(*v));

		if (v == NULL)
			return -1;
		m->e = v;
		m->cap = nc;
	}
	m->e[m->n++] = *e;
	return 0;
}

void
idx_man_free(struct idx_man *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

int
idx_man_parse(struct idx_man *m, const unsigned char *b, size_t n, char *err, size_t errsz)
{
	uint32_t ver, cnt;

	memset(m, 0, sizeof(*m));
	if (n < IDX_MAN_HDR + 8 || memcmp(b, IDX_MAN_MAGIC, 8) != 0)
		return fail(err, errsz, "MANIFEST", 0, n < IDX_MAN_HDR + 8 ? "truncated" : "bad magic");
	ver = idx_get32(b + 8);
	if (ver != IDX_VERSION)
		return fail(err, errsz, "MANIFEST", 8,
		    "format version %u is not supported (this build reads version %u)", ver, IDX_VERSION);
	if (idx_get32(b + 12) != IDX_MAN_HDR || idx_get32(b + 28) != IDX_MAN_ENT)
		return fail(err, errsz, "MANIFEST", 12, "bad header or entry size");
	cnt = idx_get32(b + 24);
	if ((n - IDX_MAN_HDR - 8) / IDX_MAN_ENT != cnt || (n - IDX_MAN_HDR - 8) % IDX_MAN_ENT)
		return fail(err, errsz, "MANIFEST", 24, "size does not match %u parts", cnt);
	if (XXH64(b, n - 8, 0) != idx_get64(b + n - 8))
		return fail(err, errsz, "MANIFEST", n - 8, "bad checksum");
	m->next_id = idx_get64(b + 16);
	for (uint32_t i = 0; i < cnt; i++) {
		const unsigned char *q = b + IDX_MAN_HDR + (size_t)i * IDX_MAN_ENT;
		struct idx_ment e;

		e.day = idx_get32(q);
		e.id = idx_get64(q + 8);
		e.size = idx_get64(q + 16);
		e.records = idx_get64(q + 24);
		e.tmin = (int64_t)idx_get64(q + 32);
		e.tmax = (int64_t)idx_get64(q + 40);
		if (e.id >= m->next_id || e.tmin > e.tmax) {
			idx_man_free(m);
			return fail(err, errsz, "MANIFEST", (uint64_t)(q - b), "bad part entry");
		}
		if (idx_man_add(m, &e) < 0) {
			idx_man_free(m);
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	}
	return 0;
}

int
idx_man_read(struct idx_man *m, const char *dir, char *err, size_t errsz)
{
	char path[4096], e2[300];
	struct sb s = SB_INIT;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errsz, "%s: no MANIFEST (not a logindex directory)", dir);
		else
			snprintf(err, errsz, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fd_read_all(fd, &s, SIZE_MAX - 65536) < 0) {
		if (errno == ENOMEM)
			snprintf(err, errsz, "out of memory");
		else
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto bad;
	}
	close(fd);
	rc = idx_man_parse(m, (const unsigned char *)s.buf, s.len, e2, sizeof(e2));
	if (rc < 0)
		snprintf(err, errsz, "%s/%s", dir, e2);
	sb_free(&s);
	errno = rc < 0 ? EINVAL : 0;
	return rc;
bad:
	close(fd);
	sb_free(&s);
	errno = EIO;
	return -1;
}

int
idx_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
idx_man_write(const struct idx_man *m, const char *dir, char *err, size_t errsz)
{
	char path[4096], tmp[4096];
	struct sb s = SB_INIT;
	unsigned char h[IDX_MAN_HDR] = { 0 };
	int fd = -1;

	memcpy(h, IDX_MAN_MAGIC, 8);
	idx_put32(h + 8, IDX_VERSION);
	idx_put32(h + 12, IDX_MAN_HDR);
	idx_put64(h + 16, m->next_id);
	idx_put32(h + 24, (uint32_t)m->n);
	idx_put32(h + 28, IDX_MAN_ENT);
	if (sb_add(&s, h, sizeof(h)) < 0)
		goto oom;
	for (size_t i = 0; i < m->n; i++) {
		unsigned char q[IDX_MAN_ENT] = { 0 };

		idx_put32(q, m->e[i].day);
		idx_put64(q + 8, m->e[i].id);
		idx_put64(q + 16, m->e[i].size);
		idx_put64(q + 24, m->e[i].records);
		idx_put64(q + 32, (uint64_t)m->e[i].tmin);
		idx_put64(q + 40, (uint64_t)m->e[i].tmax);
		if (sb_add(&s, q, sizeof(q)) < 0)
			goto oom;
	}
	if (idx_sb_put64(&s, XXH64(s.buf, s.len, 0)) < 0)
		goto oom;
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	snprintf(tmp, sizeof(tmp), "%s/MANIFEST.tmp", dir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto syserr;
	if (fd_write_all(fd, s.buf, s.len) < 0)
		goto syserr;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto syserr;
	}
	fd = -1;
	if (rename(tmp, path) < 0 || idx_fsync_dir(dir) < 0)
		goto syserr;
	sb_free(&s);
	return 0;
syserr:
	snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	sb_free(&s);
	return -1;
oom:
	snprintf(err, errsz, "out of memory");
	sb_free(&s);
	return -1;
}
