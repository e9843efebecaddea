/* afile.h: replace a file's contents at once (temp file, fsync, rename), and write all of a buffer to an fd. */
#ifndef LOGKIT_AFILE_H
#define LOGKIT_AFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Skip the fsyncs: for files that only save work, rewritten often. */
#define AFILE_NOSYNC	1

/*
 * Replace path with buf[0..n): written to a temp file beside it
 * ("PATH.tmpXXXXXX", mode mode), fsynced, renamed over path, and the
 * directory fsynced, so that a reader or a crash sees the old contents
 * or the new, never half.  Returns 0, or -1 with errno set and the temp
 * file removed (path is then unchanged).
 */
int afile_write(const char *path, const void *buf, size_t n, mode_t mode, int flags);

/* write(2) all of p[0..n) to fd, through EINTR and short writes; 0 or -1 (errno). */
int fd_write_all(int fd, const void *p, size_t n);

/*
 * Append what is left to read on fd to out (kept NUL-terminated), through
 * EINTR; 0, or -1 with errno: a read error, ENOMEM, or EFBIG once out
 * holds more than max bytes.
 */
struct sb;
int fd_read_all(int fd, struct sb *out, size_t max);

#endif
