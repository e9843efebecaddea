/* lr.h: a line reader over a file descriptor, with no limit on line length. */
#ifndef LOGKIT_LR_H
#define LOGKIT_LR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * lr reads large blocks with read(2) and hands out lines that point into
 * its buffer (valid until the next call).  Lines may hold NUL bytes.  The
 * terminating '\n' (and a '\r' before it) is not part of the line.
 *
 * A final line without '\n' is returned at EOF with lr->partial set.  In
 * follow mode (lr->follow = 1) an incomplete last line is kept back
 * instead, and lr_next returns 0 so the caller can wait and call again.
 */
struct lr {
	int fd;
	int follow;		/* keep an incomplete last line back */
	int partial;		/* the line just returned had no '\n' */
	int eof;		/* read(2) returned 0 */
	char *buf;
	size_t cap;
	size_t start;		/* first byte not yet handed out */
	size_t end;		/* end of valid data */
	size_t scan;		/* bytes from start already known to hold no '\n' */
	off_t offset;		/* file offset of buf[start] */
	unsigned long long lineno;	/* number of the line just returned */
	size_t max_line;	/* 0: unlimited; else longer lines are cut
				   and the rest up to '\n' dropped */
	int truncated;		/* the line just returned was cut at max_line */
	int skipping;		/* discarding the tail of a cut line */
};

/* Set up for fd, whose current offset is off.  Returns 0 or -1 (ENOMEM). */
int lr_init(struct lr *lr, int fd, off_t off);
/*
 * Next line: 1 with line and len set, 0 at EOF (or, when following, when
 * no complete line is available yet), -1 on read error (errno set).
 */
int lr_next(struct lr *lr, const char **line, size_t *len);
/* Bytes read from fd but not yet returned as lines. */
size_t lr_pending(const struct lr *lr);
void lr_free(struct lr *lr);

#endif
