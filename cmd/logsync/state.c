/* state.c: logsync's state file (size and mtime of every file it reported). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../common/lr.h"
#include "../../common/sb.h"
#include "logsync.h"

/*
 * The file is text: a header line "logsync-state 1", then one line per
 * file "SIZE MTIME_NS PATH" with backslash and newline in PATH written as
 * \\ and \n.  It is rewritten whole (temp file, fsync, rename).
 */
#define STATE_MAGIC "logsync-state 1"

static size_t
slot(const struct state *st, const char *path)
{
	size_t i = (size_t)XXH3_64bits(path, strlen(path)) & (st->cap - 1);

	while (st->ents[i].path && strcmp(st->ents[i].path, path) != 0)
		i = (i + 1) & (st->cap - 1);
	return i;
}

static int
grow(struct state *st)
{
	struct state nst = { NULL, 0, st->cap ? st->cap * 2 : 1024, 0 };

	if ((nst.ents = calloc(nst.cap, sizeof(*nst.ents))) == NULL)
		return -1;
	for (size_t i = 0; i < st->cap; i++)
		if (st->ents[i].path)
			nst.ents[slot(&nst, st->ents[i].path)] = st->ents[i];
	free(st->ents);
	st->ents = nst.ents;
	st->cap = nst.cap;
	return 0;
}

struct ent *
state_get(struct state *st, const char *path)
{
	struct ent *e;

	if (st->cap == 0)
		return NULL;
	e = &st->ents[slot(st, path)];
	return e->path ? e : NULL;
}

int
state_put(struct state *st, const char *path, int64_t size, int64_t mtime)
{
	struct ent *e;

	if ((st->n + 1) * 4 >= st->cap * 3 && grow(st) < 0)
		return -1;
	e = &st->ents[slot(st, path)];
	if (!e->path) {
		if ((e->path = strdup(path)) == NULL)
			return -1;
		st->n++;
	}
	e->size = size;
	e->mtime = mtime;
	st->dirty = 1;
	return 0;
}

void
state_del(struct state *st, const char *path)
{
	struct ent *e = state_get(st, path);
	size_t i, j;

	if (!e)
		return;
	/* Backward-shift deletion keeps the probe chains intact. */
	free(e->path);
	e->path = NULL;
	st->n--;
	st->dirty = 1;
	i = (size_t)(e - st->ents);
	for (j = (i + 1) & (st->cap - 1); st->ents[j].path; j = (j + 1) & (st->cap - 1)) {
		struct ent moved = st->ents[j];
		st->ents[j].path = NULL;
		st->ents[slot(st, moved.path)] = moved;
	}
}

void
state_free(struct state *st)
{
	for (size_t i = 0; i < st->cap; i++)
		free(st->ents[i].path);
	free(st->ents);
	memset(st, 0, sizeof(*st));
}

/* Undo the escapes of a state line's path in place. */
static void
unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			*w++ = '\\';
			s++;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

int
state_load(struct state *st, const char *file, char *err, size_t errsz)
{
	struct lr lr;
	const char *line;
	size_t len;
	int fd, r, rc = -1;
	char *buf = NULL;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (lr_init(&lr, fd, 0) < 0) {
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		close(fd);
		return -1;
	}
	while ((r = lr_next(&lr, &line, &len)) == 1) {
		long long size, mtime;
		char *end;

		if (lr.lineno == 1) {
			if (len != strlen(STATE_MAGIC) || memcmp(line, STATE_MAGIC, len) != 0) {
				snprintf(err, errsz, "%s:1: not a logsync state file", file);
				goto out;
			}
			continue;
		}
		free(buf);
		if ((buf = malloc(len + 1)) == NULL)
			goto nomem;
		memcpy(buf, line, len);
		buf[len] = '\0';
		errno = 0;
		size = strtoll(buf, &end, 10);
		if (errno || *end != ' ' || size < 0)
			goto bad;
		mtime = strtoll(end + 1, &end, 10);
		if (errno || *end != ' ' || end[1] == '\0')
			goto bad;
		unescape(end + 1);
		if (state_put(st, end + 1, size, mtime) < 0)
			goto nomem;
	}
	if (r < 0) {
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		goto out;
	}
	st->dirty = 0;
	rc = 0;
	goto out;
bad:
	snprintf(err, errsz, "%s:%llu: malformed line", file, lr.lineno);
	goto out;
nomem:
	snprintf(err, errsz, "%s: %s", file, strerror(ENOMEM));
out:
	free(buf);
	lr_free(&lr);
	close(fd);
	return rc;
}

int
state_save(const struct state *st, const char *file)
{
	struct sb tmp = SB_INIT, out = SB_INIT;
	int fd = -1, rc = -1, saved;

	if (sb_addf(&tmp, "%s.tmp.%ld", file, (long)getpid()) < 0 ||
	    sb_adds(&out, STATE_MAGIC "\n") < 0)
		goto out;
	for (size_t i = 0; i < st->cap; i++) {
		const struct ent *e = &st->ents[i];
		if (!e->path)
			continue;
		if (sb_addf(&out, "%lld %lld ", (long long)e->size, (long long)e->mtime) < 0)
			goto out;
		for (const char *p = e->path; *p; p++) {
			int c = *p == '\n' ? sb_adds(&out, "\\n") :
			    *p == '\\' ? sb_adds(&out, "\\\\") : sb_addc(&out, *p);
			if (c < 0)
				goto out;
		}
		if (sb_addc(&out, '\n') < 0)
			goto out;
	}
	if ((fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto out;
	for (size_t off = 0; off < out.len;) {
		ssize_t w = write(fd, out.buf + off, out.len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, file) < 0)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.buf)
		unlink(tmp.buf);
	sb_free(&tmp);
	sb_free(&out);
	errno = saved;
	return rc;
}
