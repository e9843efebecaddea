/* sb.c: growable byte buffers. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb.h"

int
sb_grow(struct sb *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1) {
		errno = ENOMEM;
		return -1;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(sb->buf, cap)) == NULL)
		return -1;
	if (sb->buf == NULL)
		p[0] = '\0';
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int
sb_add(struct sb *sb, const void *p, size_t n)
{
	if (sb_grow(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
sb_addc(struct sb *sb, int c)
{
	if (sb->len + 1 >= sb->cap && sb_grow(sb, 1) < 0)
		return -1;
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
sb_adds(struct sb *sb, const char *s)
{
	return sb_add(sb, s, strlen(s));
}

int
sb_addf(struct sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (sb_grow(sb, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

void
sb_reset(struct sb *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void
sb_free(struct sb *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *
sb_detach(struct sb *sb)
{
	char *p;

	if (sb->buf == NULL && sb_grow(sb, 0) < 0)
		return NULL;
	p = sb->buf;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}
