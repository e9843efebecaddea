/* follow_st.c: the follower's state file: strict parser, canonical writer, atomic save. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afile.h"
#include "follow_st.h"
#include "sb.h"

#define FST_MAGIC "logkit-follow 1"
#define FST_MAX (64 << 20)	/* no state of a sane size is larger */

void
fst_free(struct fw_ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].key);
	free(e);
}

/* A decimal number without sign or leading zeros, and the space after it. */
static int
num(const char **p, const char *end, unsigned long long max, unsigned long long *v)
{
	const char *s = *p;
	unsigned long long x = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end &&
	    s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (s == end || *s != ' ')
		return -1;
	*p = s + 1;
	*v = x;
	return 0;
}

/*
 * Parse state text into *ents.  Every field is checked, and only the
 * canonical spelling is accepted (what fst_format writes), so that a file
 * a person edited by mistake is refused by name, not half-believed.
 */
int
fst_parse(const char *name, const char *t, size_t n, struct fw_ent **ents,
    size_t *nents, char *err, size_t errsz)
{
	const char *p = t, *end = t + n;
	unsigned long long lineno = 1;
	struct fw_ent *e = NULL, *ne;
	size_t ne_n = 0, cap = 0;
	const char *why;

	*ents = NULL;
	*nents = 0;
	if (n == 0)
		return 0;	/* an empty file (touch STATE): nothing read yet */
	{
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (k < 14 || memcmp(p, "logkit-follow ", 14) != 0) {
			why = "not a follow state file (no 'logkit-follow 1' line)";
			goto bad;
		}
		if (k != strlen(FST_MAGIC) || memcmp(p, FST_MAGIC, k) != 0) {
			snprintf(err, errsz, "%s:1: unsupported version '%.*s'", name,
			    (int)(k - 14 > 20 ? 20 : k - 14), p + 14);
			errno = EINVAL;
			return -1;
		}
		if (nl == NULL) {
			why = "truncated line (no newline)";
			goto bad;
		}
		p = nl + 1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct fw_ent x = { 0 };
		const char *h;
		unsigned long long v;
		struct sb key = SB_INIT;

		lineno++;
		if (nl == NULL) {
			why = "truncated line (no newline)";
			goto bad;
		}
		if (num(&p, nl, ULLONG_MAX, &x.dev) < 0) {
			why = "bad device number";
			goto bad;
		}
		if (num(&p, nl, ULLONG_MAX, &x.ino) < 0) {
			why = "bad inode number";
			goto bad;
		}
		if (num(&p, nl, INT64_MAX, &x.off) < 0) {
			why = "bad offset";
			goto bad;
		}
		if (num(&p, nl, ULLONG_MAX, &x.line) < 0) {
			why = "bad line number";
			goto bad;
		}
		if (num(&p, nl, FST_HASH_MAX, &v) < 0 || v > x.off) {
			why = "bad hash length";
			goto bad;
		}
		x.hashlen = (unsigned)v;
		for (h = p; h < nl && h - p < 16 && ((*h >= '0' && *h <= '9') ||
		    (*h >= 'a' && *h <= 'f')); h++)
			x.hash = x.hash << 4 | (unsigned)(*h <= '9' ? *h - '0' : *h - 'a' + 10);
		if (h - p != 16 || h == nl || *h != ' ') {
			why = "bad hash";
			goto bad;
		}
		p = h + 1;
		if (nl - p < 2 || (p[0] != '0' && p[0] != '1') || p[1] != ' ') {
			why = "bad cut flag";
			goto bad;
		}
		x.cut = p[0] == '1';
		p += 2;
		/* the path: \\ and \n escaped, nothing else */
		for (; p < nl; p++) {
			int c = (unsigned char)*p;

			if (c == '\\') {
				if (p + 1 == nl || (p[1] != '\\' && p[1] != 'n'))
					break;
				c = *++p == 'n' ? '\n' : '\\';
			} else if (c == '\0')
				break;
			if (sb_addc(&key, c) < 0) {
				sb_free(&key);
				fst_free(e, ne_n);
				snprintf(err, errsz, "%s: %s", name, strerror(ENOMEM));
				errno = ENOMEM;
				return -1;
			}
		}
		if (p != nl || key.len == 0 || key.buf[0] != '/' ||
		    memchr(key.buf, '\0', key.len) != NULL) {
			sb_free(&key);
			why = "bad path";
			goto bad;
		}
		for (size_t i = 0; i < ne_n; i++)
			if (strcmp(e[i].key, key.buf) == 0) {
				sb_free(&key);
				why = "duplicate path";
				goto bad;
			}
		if (ne_n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((ne = realloc(e, cap * sizeof(*e))) == NULL) {
				sb_free(&key);
				fst_free(e, ne_n);
				snprintf(err, errsz, "%s: %s", name, strerror(ENOMEM));
				errno = ENOMEM;
				return -1;
			}
			e = ne;
		}
		x.key = sb_detach(&key);
		if (x.key == NULL) {
			fst_free(e, ne_n);
			errno = ENOMEM;
			snprintf(err, errsz, "%s: %s", name, strerror(ENOMEM));
			return -1;
		}
		e[ne_n++] = x;
		p = nl + 1;
	}
	*ents = e;
	*nents = ne_n;
	return 0;
bad:
	fst_free(e, ne_n);
	snprintf(err, errsz, "%s:%llu: %s", name, lineno, why);
	errno = EINVAL;
	return -1;
}

int
fst_format(struct sb *o, const struct fw_ent *e, size_t n)
{
	if (sb_adds(o, FST_MAGIC "\n") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (sb_addf(o, "%llu %llu %llu %llu %u %016llx %d ", e[i].dev, e[i].ino,
		    e[i].off, e[i].line, e[i].hashlen, e[i].hash, e[i].cut) < 0)
			return -1;
		for (const char *k = e[i].key; *k; k++)
			if ((*k == '\\' ? sb_add(o, "\\\\", 2) : *k == '\n' ?
			    sb_add(o, "\\n", 2) : sb_addc(o, *k)) < 0)
				return -1;
		if (sb_addc(o, '\n') < 0)
			return -1;
	}
	return 0;
}

/* Read the whole state file; a missing one is empty. */
int
fst_load(const char *path, struct fw_ent **ents, size_t *nents, char *err, size_t errsz)
{
	struct sb t = SB_INIT;
	int fd, rc = -1;

	*ents = NULL;
	*nents = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fd_read_all(fd, &t, FST_MAX) < 0) {
		if (errno == EFBIG)
			snprintf(err, errsz, "%s: larger than %d MiB, not a state file",
			    path, FST_MAX >> 20);
		else
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = fst_parse(path, t.buf ? t.buf : "", t.len, ents, nents, err, errsz);
out:
	sb_free(&t);
	close(fd);
	return rc;
}

void
fst_dir(const char *path, char *buf, size_t bufsz)
{
	const char *s = strrchr(path, '/');
	size_t k = s ? (size_t)(s - path) : 0;

	if (k == 0) {
		snprintf(buf, bufsz, "%s", s ? "/" : ".");
		return;
	}
	snprintf(buf, bufsz, "%.*s", (int)k, path);
}

int
fst_save(const char *path, const struct fw_ent *e, size_t n)
{
	struct sb t = SB_INIT;
	int rc = -1, err;

	if (fst_format(&t, e, n) == 0)
		rc = afile_write(path, t.buf, t.len, 0600, 0);
	err = errno;
	sb_free(&t);
	errno = err;
	return rc;
}
