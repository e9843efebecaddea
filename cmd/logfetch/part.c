/* part.c: the .part file of a download: a writer that hashes on a second thread, and the meta files beside it. */
#define _GNU_SOURCE	/* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/sb.h"
#include "../tool.h"
#include "logfetch.h"

/*
 * A writer that hashes on a second thread: 1 MiB blocks are written by
 * the transfer thread while the previous block is being hashed, so the
 * digest costs little wall time when a core is free.  libcurl hands over
 * 64 KiB at a time; the blocks keep the hand-offs to the hasher few.
 */
#define HW_BLOCK (1u << 20)
#define HW_WRITEBACK (8u << 20)
/*
 * write(2) in pieces that stay in the CPU cache: copying 1 MiB into the
 * page cache at once ran at a third of the speed here.
 */
#define HW_WRITE (64u << 10)
struct hw {
	int fd;
	int writeback;		/* hint the kernel to write back as we go */
	size_t unsynced;	/* bytes written since the last writeback hint */
	struct sha256 *sha;
	char *buf[2];
	size_t len;
	int cur;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *pend;	/* block being hashed, or NULL */
	size_t pendn;
	int quit;
};

static void *
hw_main(void *ud)
{
	struct hw *w = ud;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->pend == NULL && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->pend == NULL)
			break;
		pthread_mutex_unlock(&w->mu);
		sha256_update(w->sha, w->pend, w->pendn);
		pthread_mutex_lock(&w->mu);
		w->pend = NULL;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct hw *
hw_new(int fd, struct sha256 *sha, int writeback)
{
	struct hw *w = xcalloc(1, sizeof(*w));

	w->fd = fd;
	w->writeback = writeback;
	w->sha = sha;
	w->buf[0] = xmalloc(HW_BLOCK);
	w->buf[1] = xmalloc(HW_BLOCK);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, hw_main, w) != 0)
		die(EXIT_FATAL, "cannot start a thread");
	return w;
}

static void
hw_wait(struct hw *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->pend != NULL)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

/* Hand the current block to the hasher and write it; -1 with errno on a write error. */
static int
hw_flush(struct hw *w)
{
	const char *p = w->buf[w->cur];
	size_t n = w->len, done = 0;

	if (n == 0)
		return 0;
	hw_wait(w);
	pthread_mutex_lock(&w->mu);
	w->pend = p;
	w->pendn = n;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->cur ^= 1;
	w->len = 0;
	while (done < n) {
		ssize_t r = write(w->fd, p + done, n - done < HW_WRITE ? n - done : HW_WRITE);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/*
	 * Start writing the file back to disk while the download goes on,
	 * so that the fsync before the rename waits for the last few MiB,
	 * not for all of it.  Only a hint: errors show at the fsync.
	 */
	if (w->writeback && (w->unsynced += n) >= HW_WRITEBACK) {
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		w->unsynced = 0;
	}
#endif
	return 0;
}

int
hw_write(struct hw *w, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = HW_BLOCK - w->len < n ? HW_BLOCK - w->len : n;

		memcpy(w->buf[w->cur] + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == HW_BLOCK && hw_flush(w) < 0)
			return -1;
	}
	return 0;
}

/* Write what is left (flush set) or drop it, wait for the hasher, free. */
int
hw_end(struct hw **wp, int flush)
{
	struct hw *w = *wp;
	int rc = 0, e = 0;

	if (w == NULL)
		return 0;
	if (flush && hw_flush(w) < 0) {
		rc = -1;
		e = errno;
	}
	hw_wait(w);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->buf[0]);
	free(w->buf[1]);
	free(w);
	*wp = NULL;
	errno = e;
	return rc;
}

int
meta_read(const char *path, struct meta *m)
{
	char line[512];
	FILE *fp;

	memset(m, 0, sizeof(*m));
	m->bytes = -1;
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *v = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "etag") == 0 && strlen(v) < sizeof(m->etag))
			memcpy(m->etag, v, strlen(v) + 1);
		else if (strcmp(line, "last-modified") == 0 && strlen(v) < sizeof(m->lm))
			memcpy(m->lm, v, strlen(v) + 1);
		else if (strcmp(line, "sha256") == 0 && strlen(v) == 64)
			memcpy(m->sha, v, 65);
		else if (strcmp(line, "bytes") == 0)
			m->bytes = strtoll(v, NULL, 10);
	}
	fclose(fp);
	return 0;
}

/*
 * Write the meta file through a temporary name so it is never half there.
 * No fsync: after a crash a missing meta file only costs a refetch.
 */
int
meta_write(const char *path, const struct meta *m)
{
	struct sb t = SB_INIT;
	int rc = -1;

	if ((m->etag[0] && sb_addf(&t, "etag %s\n", m->etag) < 0) ||
	    (m->lm[0] && sb_addf(&t, "last-modified %s\n", m->lm) < 0) ||
	    (m->sha[0] && sb_addf(&t, "sha256 %s\n", m->sha) < 0) ||
	    (m->bytes >= 0 && sb_addf(&t, "bytes %lld\n", m->bytes) < 0))
		goto out;
	rc = afile_write(path, t.buf ? t.buf : "", t.len, 0644, AFILE_NOSYNC);
out:
	sb_free(&t);
	return rc;
}

/* A validator If-Range may use: a strong ETag, else Last-Modified. */
const char *
range_validator(const struct meta *m)
{
	if (m->etag[0] && strncmp(m->etag, "W/", 2) != 0)
		return m->etag;
	return m->lm[0] ? m->lm : NULL;
}
