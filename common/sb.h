/* sb.h: growable byte buffers (git's strbuf, reduced to what logkit needs). */
#ifndef LOGKIT_SB_H
#define LOGKIT_SB_H

#include <stddef.h>

/*
 * A byte buffer that is always NUL-terminated once it has been grown.
 * Zero-initialise (SB_INIT) and release with sb_free().  The grow
 * functions return 0 or -1 with errno ENOMEM; the buffer stays valid
 * and unchanged on failure.
 */
struct sb {
	char *buf;
	size_t len;
	size_t cap;
};

#define SB_INIT { NULL, 0, 0 }

int sb_grow(struct sb *sb, size_t extra);
int sb_add(struct sb *sb, const void *p, size_t n);
int sb_addc(struct sb *sb, int c);
int sb_adds(struct sb *sb, const char *s);
int sb_addf(struct sb *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_reset(struct sb *sb);
void sb_free(struct sb *sb);
/* Detach the buffer; the caller owns it (never NULL on success). */
char *sb_detach(struct sb *sb);

#endif
