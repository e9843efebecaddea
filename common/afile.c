/* afile.c: replace a file's contents at once (temp file, fsync, rename), and write all of a buffer to an fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "sb.h"

int
fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int
fd_read_all(int fd, struct sb *out, size_t max)
{
	for (;;) {
		ssize_t k;

		if (sb_grow(out, 65536) < 0) {
			errno = ENOMEM;
			return -1;
		}
		if ((k = read(fd, out->buf + out->len, out->cap - out->len - 1)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			return 0;
		out->len += (size_t)k;
		out->buf[out->len] = '\0';
		if (out->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* fsync the directory holding path, so that a rename into it survives a crash. */
static int
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = -1;
	else {
		/* some filesystems cannot fsync a directory: nothing to do then */
		if (fsync(fd) < 0 && errno != EINVAL)
			rc = -1;
		close(fd);
	}
	free(dir);
	return rc;
}

int
afile_write(const char *path, const void *buf, size_t n, mode_t mode, int flags)
{
	size_t plen = strlen(path);
	char *tmp;
	int fd, e;

	if ((tmp = malloc(plen + sizeof(".tmpXXXXXX"))) == NULL)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
	/* a unique name: two writers never write into one temp file */
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fchmod(fd, mode) < 0 || fd_write_all(fd, buf, n) < 0 ||
	    (!(flags & AFILE_NOSYNC) && fsync(fd) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return (flags & AFILE_NOSYNC) ? 0 : sync_dir(path);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}
