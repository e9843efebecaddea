/* src.c: the bytes libarchive reads, with zstd decoded on a second thread. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../tool.h"
#include "logunpack.h"

static ssize_t
read_full(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Caps on what the decoder makes, not only on what is written: libarchive also decodes members it skips. */
static int
over_caps_decoded(struct src *s)
{
	/* Tar headers and padding come on top of member data: allow some slack. */
	if (s->produced > s->cap_bytes + 64ULL * MIB) {
		snprintf(s->err, sizeof(s->err), "decompressed data exceeds %llu bytes (--max-bytes)",
		    (unsigned long long)s->cap_bytes);
	} else if (s->max_ratio && s->produced > RATIO_FLOOR &&
	    s->produced / (s->raw_in ? s->raw_in : 1) > s->max_ratio) {
		snprintf(s->err, sizeof(s->err), "compression ratio above %llu (--max-ratio): "
		    "%llu bytes from %llu", (unsigned long long)s->max_ratio,
		    (unsigned long long)s->produced, (unsigned long long)s->raw_in);
	} else {
		return 0;
	}
	return -1;
}

/* Decode into out[cap]: 1 with *len > 0, 0 at a clean end, -1 with s->err. */
static int
decode(struct src *s, unsigned char *out, size_t cap, size_t *len)
{
	for (;;) {
		ZSTD_outBuffer ob = { out, cap, 0 };
		size_t r, before;
		ssize_t n;

		if (s->ib.pos == s->ib.size && !s->eof) {
			if ((n = read_full(s->fd, s->in, s->cap)) < 0) {
				snprintf(s->err, sizeof(s->err), "%s", strerror(errno));
				return -1;
			}
			s->eof = n == 0;
			s->ib.src = s->in;
			s->ib.size = (size_t)n;
			s->ib.pos = 0;
		}
		before = s->ib.pos;
		r = ZSTD_decompressStream(s->zd, &ob, &s->ib);
		s->raw_in += s->ib.pos - before;
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
				snprintf(s->err, sizeof(s->err),
				    "zstd window larger than --max-window (%llu bytes)",
				    (unsigned long long)s->max_window);
			else
				snprintf(s->err, sizeof(s->err), "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		if (ob.pos > 0 || s->ib.pos > before)
			s->last = r;
		if (ob.pos > 0) {
			s->produced += ob.pos;
			if (over_caps_decoded(s) < 0)
				return -1;
			*len = ob.pos;
			return 1;
		}
		if (s->eof && s->ib.pos == s->ib.size) {
			if (s->last != 0) {
				snprintf(s->err, sizeof(s->err), "truncated zstd stream");
				return -1;
			}
			return 0;
		}
	}
}

static void *
decoder_main(void *ud)
{
	struct src *s = ud;
	int i = 0, r;

	for (;;) {
		size_t len = 0;

		pthread_mutex_lock(&s->mu);
		while (s->slot[i].full && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		if (s->quit)
			return NULL;
		/* The slot is free and only this thread touches it until it is full. */
		r = decode(s, s->slot[i].buf, s->cap, &len);
		pthread_mutex_lock(&s->mu);
		if (r > 0) {
			s->slot[i].len = len;
			s->slot[i].raw_in = s->raw_in;
			s->slot[i].full = 1;
		} else {
			s->done = r == 0 ? 1 : -1;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (r <= 0)
			return NULL;
		i = (i + 1) % NSLOT;
	}
}

static la_ssize_t
src_read(struct archive *a, void *ud, const void **buf)
{
	struct src *s = ud;
	struct slot *sl;
	ssize_t n;

	if (!s->zstd) {
		if ((n = read_full(s->fd, s->in, s->cap)) < 0) {
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		s->raw_main += (uint64_t)n;
		*buf = s->in;
		return n;
	}
	pthread_mutex_lock(&s->mu);
	if (s->held >= 0) {
		/* libarchive is done with the block it had: give it back. */
		s->slot[s->held].full = 0;
		s->held = -1;
		pthread_cond_broadcast(&s->cv);
	}
	sl = &s->slot[s->head];
	while (!sl->full && !s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!sl->full) {
		int done = s->done;

		if (done < 0)
			memcpy(s->err_main, s->err, sizeof(s->err_main));
		pthread_mutex_unlock(&s->mu);
		if (done < 0) {
			archive_set_error(a, EINVAL, "%s", s->err_main);
			return -1;
		}
		return 0;
	}
	s->held = s->head;
	s->head = (s->head + 1) % NSLOT;
	s->raw_main = sl->raw_in;
	pthread_mutex_unlock(&s->mu);
	*buf = sl->buf;
	return (la_ssize_t)sl->len;
}

/* Start a source on fd: sniff the zstd magic, keeping the sniffed bytes. */
int
src_open(struct src *s, int fd, const struct lu *lu)
{
	uint64_t max_window = lu->max_window;

	ssize_t n;
	unsigned wlog = 10;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->cap = 1 << 20;
	s->in = xmalloc(s->cap);
	s->max_window = max_window;
	s->cap_bytes = lu->cap_bytes;
	s->max_ratio = lu->max_ratio;
	s->held = -1;
	if ((n = read_full(fd, s->in, 4)) < 0)
		return -1;
	if (n == 4 && memcmp(s->in, "\x28\xb5\x2f\xfd", 4) == 0) {
		s->zstd = 1;
		if ((s->zd = ZSTD_createDStream()) == NULL)
			die(EXIT_FATAL, "out of memory");
		while (wlog < 31 && (1ULL << (wlog + 1)) <= max_window)
			wlog++;
		ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, (int)wlog);
		s->ib.src = s->in;
		s->ib.size = (size_t)n;
		s->ib.pos = 0;
		for (int i = 0; i < NSLOT; i++)
			s->slot[i].buf = xmalloc(s->cap);
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		if (pthread_create(&s->th, NULL, decoder_main, s) != 0)
			die(EXIT_FATAL, "cannot start a thread");
		s->started = 1;
	} else {
		/* Hand the sniffed bytes to libarchive first. */
		s->raw_main = (uint64_t)n;
		s->zstd = -(int)n - 1;
	}
	return 0;
}

la_ssize_t
src_read_first(struct archive *a, void *ud, const void **buf)
{
	struct src *s = ud;

	if (s->zstd < 0) {
		la_ssize_t n = -s->zstd - 1;

		s->zstd = 0;
		*buf = s->in;
		if (n > 0)
			return n;
	}
	return src_read(a, ud, buf);
}

void
src_close(struct src *s)
{
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->quit = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
	}
	for (int i = 0; i < NSLOT; i++)
		free(s->slot[i].buf);
	if (s->zd)
		ZSTD_freeDStream(s->zd);
	free(s->in);
}
