/* spool.c: logpush's journal of input bytes and acknowledgements (format in spool.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "afile.h"
#include "spool.h"

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
rec_crc(const unsigned char *hdr, const unsigned char *payload, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr, 8);
	/* crc32 takes a uInt length: payloads are capped at SPOOL_MAXREC */
	if (len)
		c = crc32(c, payload, len);
	return (uint32_t)c;
}

int
spool_header_ok(const unsigned char *buf, size_t n)
{
	return n >= SPOOL_HDRSZ && memcmp(buf, SPOOL_MAGIC, SPOOL_HDRSZ) == 0;
}

long
spool_parse(const unsigned char *buf, size_t n, struct spool_rec *r, char *err,
    size_t errsz)
{
	uint32_t len;

	if (n > 0 && buf[0] != SPOOL_DATA && buf[0] != SPOOL_ACK) {
		snprintf(err, errsz, "unknown record type 0x%02x", buf[0]);
		return -1;
	}
	if (n < SPOOL_RECHDR)
		return 0;
	if (buf[1] || buf[2] || buf[3]) {
		snprintf(err, errsz, "nonzero reserved bytes");
		return -1;
	}
	len = get32(buf + 4);
	if (len > SPOOL_MAXREC) {
		snprintf(err, errsz, "record length %lu too large", (unsigned long)len);
		return -1;
	}
	if (buf[0] == SPOOL_ACK && len != 8) {
		snprintf(err, errsz, "ack record of length %lu", (unsigned long)len);
		return -1;
	}
	if (n - SPOOL_RECHDR < len)
		return 0;
	if (rec_crc(buf, buf + SPOOL_RECHDR, len) != get32(buf + 8)) {
		snprintf(err, errsz, "CRC mismatch");
		return -1;
	}
	r->type = buf[0];
	r->payload = buf + SPOOL_RECHDR;
	r->len = len;
	r->ack = 0;
	if (r->type == SPOOL_ACK)
		r->ack = (uint64_t)get32(r->payload) | (uint64_t)get32(r->payload + 4) << 32;
	return (long)(SPOOL_RECHDR + len);
}

int
spool_encode(struct sb *out, int type, const void *payload, uint32_t len)
{
	unsigned char h[SPOOL_RECHDR] = { 0 };

	h[0] = (unsigned char)type;
	put32(h + 4, len);
	put32(h + 8, rec_crc(h, payload, len));
	if (sb_grow(out, sizeof(h) + len) < 0)
		return -1;
	sb_add(out, h, sizeof(h));
	if (len)
		sb_add(out, payload, len);
	return 0;
}

static char *
path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/*
 * Rewrite the journal as header + one data record holding the pending
 * bytes: temp file, fsync, rename, so a kill leaves either file whole.
 */
static int
compact(struct spool *s)
{
	struct sb b = SB_INIT;
	char *tmp = path_in(s->dir, "journal.tmp"), *dst = path_in(s->dir, "journal");
	int fd = -1, rc = -1;

	if (!tmp || !dst || sb_add(&b, SPOOL_MAGIC, SPOOL_HDRSZ) < 0)
		goto out;
	/* One record each SPOOL_MAXREC bytes: a long outage spools a lot. */
	for (size_t off = 0; off < s->pending.len; off += SPOOL_MAXREC) {
		size_t k = s->pending.len - off;

		if (k > SPOOL_MAXREC)
			k = SPOOL_MAXREC;
		if (spool_encode(&b, SPOOL_DATA, s->pending.buf + off, (uint32_t)k) < 0)
			goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    fd_write_all(fd, b.buf, b.len) < 0 || fsync(fd) < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, dst) < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", dst, strerror(errno));
		goto out;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	fd = -1;
	s->base = s->acked;
	s->file_end = b.len;
	rc = 0;
out:
	if (fd >= 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		errno = e;
	}
	sb_free(&b);
	free(tmp);
	free(dst);
	return rc;
}

/* Move the corrupt rest of the journal aside, keeping it for inspection. */
static void
set_aside(struct spool *s, const unsigned char *p, size_t n)
{
	char *c = path_in(s->dir, "journal.corrupt");
	int fd;

	if (c && (fd = open(c, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0) {
		(void)fd_write_all(fd, p, n);
		close(fd);
	}
	free(c);
	s->bad_bytes += n;
}

int
spool_open(struct spool *s, const char *dir)
{
	struct sb all = SB_INIT;
	char *lock = NULL, *jp = NULL;
	size_t pos;
	uint64_t stream = 0, acked = 0;
	int e;

	memset(s, 0, sizeof(*s));
	s->fd = s->lockfd = -1;
	if ((s->dir = strdup(dir)) == NULL)
		goto fail_errno;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(s->err, sizeof(s->err), "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((lock = path_in(dir, "lock")) == NULL || (jp = path_in(dir, "journal")) == NULL)
		goto fail_errno;
	if ((s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", lock, strerror(errno));
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			snprintf(s->err, sizeof(s->err), "%s: in use by another logpush", dir);
		else
			snprintf(s->err, sizeof(s->err), "%s: %s", lock, strerror(errno));
		goto fail;
	}
	if ((s->fd = open(jp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    fd_read_all(s->fd, &all, SIZE_MAX) < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", jp, strerror(errno));
		goto fail;
	}
	if (all.len > 0 && !spool_header_ok((unsigned char *)all.buf, all.len)) {
		if (all.len >= SPOOL_HDRSZ && memcmp(all.buf, SPOOL_MAGIC, 7) == 0)
			snprintf(s->err, sizeof(s->err), "%s: unsupported version %u", jp,
			    (unsigned char)all.buf[7]);
		else if (all.len >= SPOOL_HDRSZ)
			snprintf(s->err, sizeof(s->err), "%s: not a logpush spool", jp);
		if (all.len >= SPOOL_HDRSZ) {
			errno = EINVAL;
			goto fail;
		}
		/* a header cut short: nothing was ever spooled */
		s->torn_bytes = all.len;
		all.len = 0;
	}
	/* First pass: the stream length and the last ack. */
	pos = all.len ? SPOOL_HDRSZ : 0;
	while (pos < all.len) {
		struct spool_rec r;
		long k = spool_parse((unsigned char *)all.buf + pos, all.len - pos, &r,
		    s->err, sizeof(s->err));

		if (k == 0) {
			s->torn_bytes = all.len - pos;
			break;
		}
		if (k < 0) {
			set_aside(s, (unsigned char *)all.buf + pos, all.len - pos);
			break;
		}
		if (r.type == SPOOL_DATA)
			stream += r.len;
		else if (r.ack > acked && r.ack <= stream)
			acked = r.ack;
		pos += (size_t)k;
	}
	s->err[0] = '\0';
	/* Second pass: keep the bytes after the ack. */
	{
		size_t end = pos, p = all.len ? SPOOL_HDRSZ : 0;
		uint64_t at = 0;

		while (p < end) {
			struct spool_rec r;
			long k = spool_parse((unsigned char *)all.buf + p, end - p, &r,
			    s->err, sizeof(s->err));

			if (k <= 0)
				break;
			if (r.type == SPOOL_DATA) {
				uint64_t skip = acked > at ? acked - at : 0;

				if (skip < r.len && sb_add(&s->pending, r.payload + skip,
				    r.len - (size_t)skip) < 0)
					goto fail_errno;
				at += r.len;
			}
			p += (size_t)k;
		}
	}
	/* The replayed bytes are stream offsets [0, pending.len). */
	s->acked = 0;
	s->stream = s->pending.len;
	if (compact(s) < 0)
		goto fail;
	sb_free(&all);
	free(lock);
	free(jp);
	return 0;
fail_errno:
	snprintf(s->err, sizeof(s->err), "%s: %s", dir, strerror(errno));
fail:
	e = errno;
	sb_free(&all);
	free(lock);
	free(jp);
	spool_close(s);
	errno = e ? e : EINVAL;
	return -1;
}

int
spool_append(struct spool *s, const void *p, size_t n)
{
	struct sb b = SB_INIT;
	int rc = 0;

	while (n > 0) {
		size_t k = n > SPOOL_MAXREC ? SPOOL_MAXREC : n;

		b.len = 0;
		if (spool_encode(&b, SPOOL_DATA, p, (uint32_t)k) < 0 ||
		    sb_add(&s->pending, p, k) < 0)
			goto fail;
		/* One write(2) per record: a kill leaves it whole or torn,
		   and a torn tail is cut off at the next open. */
		if (pwrite(s->fd, b.buf, b.len, (off_t)s->file_end) != (ssize_t)b.len)
			goto fail;
		s->file_end += b.len;
		s->stream += k;
		p = (const char *)p + k;
		n -= k;
	}
	sb_free(&b);
	return rc;
fail:
	snprintf(s->err, sizeof(s->err), "%s/journal: %s", s->dir,
	    errno ? strerror(errno) : "short write");
	sb_free(&b);
	return -1;
}

int
spool_sync(struct spool *s)
{
	if (fdatasync(s->fd) < 0) {
		snprintf(s->err, sizeof(s->err), "%s/journal: %s", s->dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
spool_ack(struct spool *s, uint64_t off)
{
	unsigned char p[8];
	struct sb b = SB_INIT;
	uint64_t drop, rel;

	if (off <= s->acked)
		return 0;
	if (off > s->stream)
		off = s->stream;
	drop = off - s->acked;
	memmove(s->pending.buf, s->pending.buf + drop, s->pending.len - (size_t)drop);
	s->pending.len -= (size_t)drop;
	s->acked = off;
	if (s->pending.len == 0) {
		/* All done: an empty journal, no fsync needed (a lost
		   truncation only means duplicates, never loss). */
		if (ftruncate(s->fd, SPOOL_HDRSZ) < 0) {
			snprintf(s->err, sizeof(s->err), "%s/journal: %s", s->dir,
			    strerror(errno));
			return -1;
		}
		s->file_end = SPOOL_HDRSZ;
		s->base = off;
		return 0;
	}
	if (s->file_end > SPOOL_COMPACT)
		return compact(s);
	rel = off - s->base;
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(rel >> (8 * i));
	if (spool_encode(&b, SPOOL_ACK, p, 8) < 0 ||
	    pwrite(s->fd, b.buf, b.len, (off_t)s->file_end) != (ssize_t)b.len) {
		snprintf(s->err, sizeof(s->err), "%s/journal: %s", s->dir, strerror(errno));
		sb_free(&b);
		return -1;
	}
	s->file_end += b.len;
	sb_free(&b);
	return 0;
}

void
spool_close(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->fd = s->lockfd = -1;
	sb_free(&s->pending);
	free(s->dir);
	s->dir = NULL;
}
