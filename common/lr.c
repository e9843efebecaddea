/* lr.c: block-buffered line reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lr.h"

#define LR_BLOCK (256 * 1024)

int
lr_init(struct lr *lr, int fd, off_t off)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->offset = off;
	lr->cap = LR_BLOCK;
	if ((lr->buf = malloc(lr->cap)) == NULL)
		return -1;
	return 0;
}

size_t
lr_pending(const struct lr *lr)
{
	return lr->end - lr->start;
}

/* Make room for one more block: compact, then grow if still full. */
static int
lr_fill(struct lr *lr)
{
	ssize_t n;
	char *p;

	/* Compact whenever the room left is short, not only when the buffer
	   is full: following a file, reads stop short at its end, and a
	   partial line kept back there would otherwise make it grow for ever. */
	if (lr->start > 0 && (lr->start == lr->end || lr->cap - lr->end < LR_BLOCK / 4)) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->cap - lr->end < LR_BLOCK / 4) {
		if (lr->cap > (size_t)-1 / 2) {
			errno = ENOMEM;
			return -1;
		}
		if ((p = realloc(lr->buf, lr->cap * 2)) == NULL)
			return -1;
		lr->buf = p;
		lr->cap *= 2;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		lr->eof = 1;
	lr->end += (size_t)n;
	return (int)(n > 0);
}

static void
lr_take(struct lr *lr, const char **line, size_t *len, size_t n, size_t skip)
{
	*line = lr->buf + lr->start;
	*len = n;
	if (n > 0 && (*line)[n - 1] == '\r' && skip)
		(*len)--;
	if (lr->max_line && *len > lr->max_line) {
		*len = lr->max_line;
		lr->truncated = 1;
	}
	lr->start += n + skip;
	lr->offset += (off_t)(n + skip);
	lr->scan = 0;
	lr->lineno++;
}

int
lr_next(struct lr *lr, const char **line, size_t *len)
{
	char *nl;
	int r;

	lr->partial = 0;
	lr->truncated = 0;
	for (;;) {
		nl = memchr(lr->buf + lr->start + lr->scan, '\n',
		    lr->end - lr->start - lr->scan);
		if (lr->skipping) {
			/* Drop the rest of a line that was cut at max_line. */
			size_t drop = nl ? (size_t)(nl - (lr->buf + lr->start)) + 1 :
			    lr->end - lr->start;
			lr->start += drop;
			lr->offset += (off_t)drop;
			lr->scan = 0;
			if (nl != NULL) {
				lr->skipping = 0;
				continue;
			}
		} else if (nl != NULL) {
			lr_take(lr, line, len, (size_t)(nl - (lr->buf + lr->start)), 1);
			return 1;
		}
		lr->scan = lr->end - lr->start;
		if (lr->max_line && !lr->skipping && lr->scan > lr->max_line) {
			/* Hand out the head now; memory stays bounded. */
			lr_take(lr, line, len, lr->max_line, 0);
			lr->truncated = 1;
			lr->skipping = 1;
			return 1;
		}
		lr->eof = 0;
		if ((r = lr_fill(lr)) < 0)
			return -1;
		if (r == 0) {
			if (lr->start == lr->end || lr->follow || lr->skipping)
				return 0;
			lr->partial = 1;
			lr_take(lr, line, len, lr->end - lr->start, 0);
			return 1;
		}
	}
}

void
lr_free(struct lr *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}
