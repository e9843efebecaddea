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
 * A writer that hashes on one thread and writes on another.  The
 * transfer thread only copies what libcurl hands over (64 KiB at a time)
 * into 1 MiB blocks of a ring; the hasher and the writer each take the
 * blocks in order, and a block is filled again once both are done with
 * it.  Neither waits for the other: hashing costs a core 0.55 s a GiB,
 * writing mostly waits for the disk.
 *
 * Whole blocks go to the file with O_DIRECT where the file system takes
 * it: from the block to the disk, with no page cache pages to allocate
 * and fill (on this VM, buffered writes of 1 GiB ran at 0.45 GB/s and
 * direct ones at 1.2-1.5 GB/s, dd with 1 MiB blocks), and the fsync
 * before the rename has little left to do.  The cost: the file is not
 * left in the page cache for its next reader.  The tail, not a multiple
 * of HW_ALIGN, goes through the page cache; so does all of it where
 * O_DIRECT is refused (tmpfs, some network file systems) or the file
 * does not start at an aligned offset (a resume).  LOGFETCH_NO_DIRECT
 * in the environment turns it off.
 */
#define HW_BLOCK (1u << 20)
#define HW_NBUF 8
#define HW_ALIGN 4096
#define HW_WRITEBACK (8u << 20)
/*
 * Buffered writes go in pieces that stay in the CPU cache: copying 1 MiB
 * into the page cache at once ran at a third of the speed here.
 */
#define HW_WRITE (64u << 10)
struct hw {
	int fd;
	int writeback;		/* buffered: hint the kernel to write back as we go */
	int direct;		/* O_DIRECT is set on fd */
	size_t unsynced;	/* buffered bytes written since the last writeback hint */
	struct sha256 *sha;
	char *buf[HW_NBUF];
	size_t blen[HW_NBUF];
	unsigned head;		/* blocks handed over; the one being filled is head */
	unsigned hashed;	/* blocks the hasher is done with */
	unsigned written;	/* blocks the writer is done with */
	size_t len;		/* bytes in the block being filled */
	int err;		/* errno of the writer's failed write, or 0 */
	int quit;
	pthread_t th[2];
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void
hw_nodirect(struct hw *w)
{
	int fl = fcntl(w->fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(w->fd, F_SETFL, fl & ~O_DIRECT);
	w->direct = 0;
}

/* Write one block (writer thread); -1 with errno. */
static int
hw_out(struct hw *w, const char *p, size_t n)
{
	size_t done = 0;

	if (w->direct && n % HW_ALIGN != 0)
		hw_nodirect(w);	/* the tail: the file ends here */
	while (done < n) {
		size_t k = w->direct ? n - done : (n - done < HW_WRITE ? n - done : HW_WRITE);
		ssize_t r = write(w->fd, p + done, k);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && w->direct) {
			hw_nodirect(w);	/* accepted by fcntl, refused at write */
			continue;
		}
		if (r < 0)
			return -1;
		done += (size_t)r;
		if (w->direct && done % HW_ALIGN != 0)
			hw_nodirect(w);	/* a short write left us unaligned */
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/*
	 * Start writing the file back to disk while the download goes on,
	 * so that the fsync before the rename waits for the last few MiB,
	 * not for all of it.  Only a hint: errors show at the fsync.
	 */
	if (!w->direct && w->writeback && (w->unsynced += n) >= HW_WRITEBACK) {
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		w->unsynced = 0;
	}
#endif
	return 0;
}

/* The hasher (which 0) or the writer (1): each block in turn, until hw_end. */
static void
hw_run(struct hw *w, int which)
{
	unsigned *done = which ? &w->written : &w->hashed;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		unsigned i;

		while (*done == w->head && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (*done == w->head)
			break;
		i = *done % HW_NBUF;
		pthread_mutex_unlock(&w->mu);
		if (which == 0)
			sha256_update(w->sha, w->buf[i], w->blen[i]);
		else if (w->err == 0 && hw_out(w, w->buf[i], w->blen[i]) < 0)
			__atomic_store_n(&w->err, errno ? errno : EIO, __ATOMIC_RELEASE);
		pthread_mutex_lock(&w->mu);
		(*done)++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

static void *
hw_hasher(void *ud)
{
	hw_run(ud, 0);
	return NULL;
}

static void *
hw_writer(void *ud)
{
	hw_run(ud, 1);
	return NULL;
}

struct hw *
hw_new(int fd, struct sha256 *sha, int writeback)
{
	struct hw *w = xcalloc(1, sizeof(*w));
	off_t off = lseek(fd, 0, SEEK_CUR);
	int i, fl;

	w->fd = fd;
	w->writeback = writeback;
	w->sha = sha;
	for (i = 0; i < HW_NBUF; i++)
		if (posix_memalign((void **)&w->buf[i], HW_ALIGN, HW_BLOCK) != 0)
			die(EXIT_FATAL, "out of memory");
	if (off >= 0 && off % HW_ALIGN == 0 && getenv("LOGFETCH_NO_DIRECT") == NULL &&
	    (fl = fcntl(fd, F_GETFL)) >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0)
		w->direct = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th[0], NULL, hw_hasher, w) != 0 ||
	    pthread_create(&w->th[1], NULL, hw_writer, w) != 0)
		die(EXIT_FATAL, "cannot start a thread");
	return w;
}

/* Hand the block being filled over; -1 with errno if a write failed. */
static int
hw_flush(struct hw *w)
{
	int e;

	if (w->len > 0) {
		pthread_mutex_lock(&w->mu);
		w->blen[w->head % HW_NBUF] = w->len;
		w->head++;
		pthread_cond_broadcast(&w->cv);
		while (w->head - w->hashed == HW_NBUF || w->head - w->written == HW_NBUF)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
		w->len = 0;
	}
	if ((e = __atomic_load_n(&w->err, __ATOMIC_ACQUIRE)) != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

int
hw_write(struct hw *w, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = HW_BLOCK - w->len < n ? HW_BLOCK - w->len : n;

		memcpy(w->buf[w->head % HW_NBUF] + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == HW_BLOCK && hw_flush(w) < 0)
			return -1;
	}
	return 0;
}

/* Write what is left (flush set) or drop it, wait for both threads, free. */
int
hw_end(struct hw **wp, int flush)
{
	struct hw *w = *wp;
	int rc = 0, e = 0, i;

	if (w == NULL)
		return 0;
	if (!flush)
		w->len = 0;
	(void)hw_flush(w);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th[0], NULL);
	pthread_join(w->th[1], NULL);
	if (w->err != 0) {
		rc = -1;
		e = w->err;
	}
	if (w->direct)
		hw_nodirect(w);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	for (i = 0; i < HW_NBUF; i++)
		free(w->buf[i]);
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
