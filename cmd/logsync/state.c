/* state.c: logsync's state file (size and mtime of every file it reported). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../common/afile.h"
#include "../../common/sb.h"
#include "logsync.h"

/*
 * The file is text: a header line "logsync-state 1", then one line per
 * file "SIZE MTIME_NS PATH" with backslash and newline in PATH written as
 * \\ and \n.  It is rewritten whole (temp file, fsync, rename).
 */
#define STATE_MAGIC "logsync-state 1"

/* The slot of path (hash h): where it is, or the empty one where it would go. */
static size_t
slot(const struct state *st, const char *path, uint64_t h)
{
	size_t i = (size_t)h & (st->cap - 1);

	/* the stored hash spares a strcmp (and its cache miss) on most collisions */
	while (st->ents[i].path && (st->ents[i].hash != h || strcmp(st->ents[i].path, path) != 0))
		i = (i + 1) & (st->cap - 1);
	return i;
}

/* Make room for at least want entries at a load of at most 3/4. */
static int
reserve(struct state *st, size_t want)
{
	struct ent *ne;
	size_t ncap = st->cap ? st->cap : 1024;

	while (want * 4 >= ncap * 3)
		ncap *= 2;
	if (ncap == st->cap)
		return 0;
	if ((ne = calloc(ncap, sizeof(*ne))) == NULL)
		return -1;
	/* keys are distinct: each goes to the first free slot of its chain */
	for (size_t i = 0; i < st->cap; i++) {
		size_t j;
		if (!st->ents[i].path)
			continue;
		for (j = (size_t)st->ents[i].hash & (ncap - 1); ne[j].path; j = (j + 1) & (ncap - 1))
			;
		ne[j] = st->ents[i];
	}
	free(st->ents);
	st->ents = ne;
	st->cap = ncap;
	return 0;
}

static uint64_t
hash(const char *path)
{
	return XXH3_64bits(path, strlen(path));
}

/* Free an entry's path unless it lives in the arena (the loaded file). */
static void
free_path(struct state *st, char *path)
{
	if (!(st->arena && path >= st->arena && path < st->arena + st->arenalen))
		free(path);
}

struct ent *
state_get(struct state *st, const char *path)
{
	struct ent *e;

	if (st->cap == 0)
		return NULL;
	e = &st->ents[slot(st, path, hash(path))];
	return e->path ? e : NULL;
}

/* Insert or update; path is copied (copy 1) or taken as it is (0: it is in the arena). */
static int
put(struct state *st, char *path, int copy, int64_t size, int64_t mtime)
{
	uint64_t h = hash(path);
	struct ent *e;

	if (reserve(st, st->n + 1) < 0)
		return -1;
	e = &st->ents[slot(st, path, h)];
	if (!e->path) {
		if ((e->path = copy ? strdup(path) : path) == NULL)
			return -1;
		e->hash = h;
		st->n++;
	}
	e->size = size;
	e->mtime = mtime;
	st->dirty = 1;
	return 0;
}

int
state_put(struct state *st, const char *path, int64_t size, int64_t mtime)
{
	return put(st, (char *)path, 1, size, mtime);
}

static int
state_put_owned(struct state *st, char *path, int64_t size, int64_t mtime)
{
	return put(st, path, 0, size, mtime);
}

void
state_del(struct state *st, const char *path)
{
	struct ent *e = state_get(st, path);
	size_t i, j;

	if (!e)
		return;
	/* Backward-shift deletion keeps the probe chains intact. */
	free_path(st, e->path);
	e->path = NULL;
	st->n--;
	st->dirty = 1;
	i = (size_t)(e - st->ents);
	for (j = (i + 1) & (st->cap - 1); st->ents[j].path; j = (j + 1) & (st->cap - 1)) {
		struct ent moved = st->ents[j];
		st->ents[j].path = NULL;
		st->ents[slot(st, moved.path, moved.hash)] = moved;
	}
}

void
state_free(struct state *st)
{
	for (size_t i = 0; i < st->cap; i++)
		free_path(st, st->ents[i].path);
	free(st->ents);
	free(st->arena);
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

/*
 * The file is read whole into st->arena and parsed in place: each path is
 * unescaped and NUL-terminated where it lies, so loading a big state
 * costs one allocation, not one per file.
 */
int
state_load(struct state *st, const char *file, char *err, size_t errsz)
{
	struct stat sbuf;
	size_t len = 0, lineno = 0;
	char *p, *end;
	int fd, rc = -1;
	ssize_t n;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sbuf) < 0)
		goto syserr;
	if ((st->arena = malloc((size_t)sbuf.st_size + 1)) == NULL)
		goto nomem;
	/* no more than st_size bytes: a file that grows meanwhile is not ours to chase */
	while (len < (size_t)sbuf.st_size &&
	    (n = read(fd, st->arena + len, (size_t)sbuf.st_size - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto syserr;
		}
		len += (size_t)n;
	}
	st->arenalen = len + 1;
	st->arena[len] = '\0';
	/* a line is ~60 bytes: size the table once instead of growing it */
	if (reserve(st, len / 64) < 0)
		goto nomem;
	for (p = st->arena; p < st->arena + len; p = end + 1) {
		long long size, mtime;
		char *nl = memchr(p, '\n', (size_t)(st->arena + len - p)), *num;

		end = nl ? nl : st->arena + len;
		*end = '\0';
		lineno++;
		if (lineno == 1) {
			if ((size_t)(end - p) != strlen(STATE_MAGIC) ||
			    memcmp(p, STATE_MAGIC, strlen(STATE_MAGIC)) != 0) {
				snprintf(err, errsz, "%s:1: not a logsync state file", file);
				goto out;
			}
			continue;
		}
		errno = 0;
		size = strtoll(p, &num, 10);
		if (errno || num == p || *num != ' ' || size < 0)
			goto bad;
		p = num + 1;
		mtime = strtoll(p, &num, 10);
		if (errno || num == p || *num != ' ' || num[1] == '\0' ||
		    memchr(num + 1, '\0', (size_t)(end - num - 1)))
			goto bad;
		unescape(num + 1);
		if (state_put_owned(st, num + 1, size, mtime) < 0)
			goto nomem;
	}
	st->dirty = 0;
	rc = 0;
	goto out;
bad:
	snprintf(err, errsz, "%s:%zu: malformed line", file, lineno);
	goto out;
syserr:
	snprintf(err, errsz, "%s: %s", file, strerror(errno));
	goto out;
nomem:
	snprintf(err, errsz, "%s: %s", file, strerror(ENOMEM));
out:
	close(fd);
	return rc;
}

int
state_empty(const char *file)
{
	struct stat sbuf;

	return stat(file, &sbuf) < 0 || (size_t)sbuf.st_size <= strlen(STATE_MAGIC "\n");
}

int
state_save(const struct state *st, const char *file)
{
	struct sb out = SB_INIT;
	int rc = -1, saved;

	if (sb_adds(&out, STATE_MAGIC "\n") < 0)
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
	rc = afile_write(file, out.buf, out.len, 0644, 0);
out:
	saved = errno;
	sb_free(&out);
	errno = saved;
	return rc;
}
