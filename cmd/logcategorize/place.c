/* place.c: --into: put a file into DIR/<category>/ without ever clobbering another file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/sb.h"
#include "../tool.h"
#include "logcategorize.h"

/*
 * DIR/.logcategorize-placed remembers which source each placed name came
 * from ("PLACED\tSOURCE" lines, tabs and newlines in names escaped), so a
 * re-run with a grown log replaces its own earlier copy instead of taking
 * the file for a stranger and adding name-2.
 */
#define MANIFEST ".logcategorize-placed"

static void
esc(struct sb *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_adds(sb, "\\\\");
		else if (*s == '\n')
			sb_adds(sb, "\\n");
		else if (*s == '\t')
			sb_adds(sb, "\\t");
		else
			sb_addc(sb, *s);
	}
}

static char *
unesc(const char *s, size_t n)
{
	char *o = xmalloc(n + 1), *w = o;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*w++ = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
		} else
			*w++ = s[i];
	}
	*w = '\0';
	return o;
}

void
place_init(struct placer *pl, const char *into, int symlinks)
{
	struct sb path = SB_INIT;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(pl, 0, sizeof(*pl));
	pl->into = into;
	pl->symlinks = symlinks;
	if (mkdir(into, 0755) < 0 && errno != EEXIST)
		die_errno(EXIT_FATAL, "%s", into);
	sb_addf(&path, "%s/" MANIFEST, into);
	if ((fp = fopen(path.buf, "r")) != NULL) {
		while ((n = getline(&line, &cap, fp)) > 0) {
			char *tab = memchr(line, '\t', (size_t)n);
			if (line[n - 1] == '\n')
				n--;
			if (!tab)
				continue;
			map_put(&pl->placed, unesc(line, (size_t)(tab - line)),
			    unesc(tab + 1, (size_t)(line + n - tab - 1)));
		}
		free(line);
		fclose(fp);
	} else if (errno != ENOENT)
		die_errno(EXIT_FATAL, "%s", path.buf);
	if ((pl->manifest = open(path.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die_errno(EXIT_FATAL, "%s", path.buf);
	sb_free(&path);
}

void
place_free(struct placer *pl)
{
	if (pl->manifest >= 0)
		close(pl->manifest);
	map_free(&pl->placed);
}

static int
remember(struct placer *pl, const char *dst, const char *src)
{
	struct sb l = SB_INIT;
	int rc = 0;

	esc(&l, dst);
	sb_addc(&l, '\t');
	esc(&l, src);
	sb_addc(&l, '\n');
	if (write(pl->manifest, l.buf, l.len) != (ssize_t)l.len)
		rc = -1;
	map_put(&pl->placed, xstrdup(dst), xstrdup(src));
	sb_free(&l);
	return rc;
}

/* 1 when a and b hold the same bytes. */
static int
same_bytes(const char *a, const char *b)
{
	char ba[65536], bb[65536];
	int fa, fb, same = 0;

	if ((fa = open(a, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if ((fb = open(b, O_RDONLY | O_CLOEXEC)) < 0) {
		close(fa);
		return 0;
	}
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba)), nb = 0, r;
		if (na < 0)
			break;
		while (nb < na && (r = read(fb, bb + nb, (size_t)(na - nb))) > 0)
			nb += r;
		if (nb != na || memcmp(ba, bb, (size_t)na) != 0)
			break;
		if (na == 0) {
			same = 1;
			break;
		}
	}
	close(fa);
	close(fb);
	return same;
}

/* Copy src to a temp file in dir; returns its name (caller frees) or NULL. */
static char *
copy_tmp(const char *src, const char *dir)
{
	struct sb tmp = SB_INIT;
	char buf[65536];
	int in, out = -1;
	ssize_t n = -1;

	sb_addf(&tmp, "%s/.lc-tmp.%ld.XXXXXX", dir, (long)getpid());
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	if ((out = mkstemp(tmp.buf)) < 0)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (fd_write_all(out, buf, (size_t)n) < 0)
			goto fail;
	if (n < 0 || fsync(out) < 0 || close(out) < 0) {
		out = -1;
		goto fail;
	}
	close(in);
	return sb_detach(&tmp);
fail:
	n = errno;
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		unlink(tmp.buf);
	}
	sb_free(&tmp);
	errno = (int)n;
	return NULL;
}

/* Make dst a link (or copy, or symlink) of src; replace: dst may exist. */
static int
put(struct placer *pl, const char *src, const char *abs, const char *dst, const char *dir,
    int replace)
{
	char *tmp;
	int rc;

	if (pl->symlinks) {
		struct sb t = SB_INIT;
		sb_addf(&t, "%s/.lc-tmp.%ld.link", dir, (long)getpid());
		unlink(t.buf);
		rc = symlink(abs, t.buf);
		if (rc == 0)
			rc = replace ? rename(t.buf, dst) : link(t.buf, dst);
		unlink(t.buf);
		sb_free(&t);
		return rc;
	}
	/* AT_SYMLINK_FOLLOW: a symlink operand places its target, never the link itself */
	if (!replace && linkat(AT_FDCWD, src, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (!replace && errno == EEXIST)
		return -1;
	/* another file system, or not allowed to link: copy (temp + rename) */
	if ((tmp = copy_tmp(src, dir)) == NULL)
		return -1;
	rc = replace ? rename(tmp, dst) : link(tmp, dst);
	unlink(tmp);
	free(tmp);
	return rc;
}

int
place(struct placer *pl, const char *src, const char *category, const char *host,
    struct sb *dst)
{
	struct sb dir = SB_INIT, hdir = SB_INIT;
	char abs[PATH_MAX];
	const char *base, *dot;
	struct stat ss, ds;
	int rc = -1;

	if (stat(src, &ss) < 0)
		return -1;
	if (!S_ISREG(ss.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (realpath(src, abs) == NULL)
		return -1;
	/* the name given (which the category came from), not a symlink target's */
	base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	sb_addf(&dir, "%s/%s", pl->into, category);
	if (mkdir(dir.buf, 0755) < 0 && errno != EEXIST)
		goto out;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	/*
	 * Candidates in order: NAME, then HOST/NAME when the record names a
	 * host, then STEM-2.EXT, STEM-3.EXT...  The first that is free, is
	 * this very file, or was placed from this source, is the one.
	 */
	for (int i = 0; i < 1000; i++) {
		const char *from;
		const char *d = dir.buf;

		sb_reset(dst);
		if (i == 0)
			sb_addf(dst, "%s/%s", dir.buf, base);
		else if (i == 1 && host && *host && !strchr(host, '/') && host[0] != '.') {
			sb_reset(&hdir);
			sb_addf(&hdir, "%s/%s", dir.buf, host);
			if (mkdir(hdir.buf, 0755) < 0 && errno != EEXIST)
				goto out;
			sb_addf(dst, "%s/%s", hdir.buf, base);
			d = hdir.buf;
		} else if (i == 1)
			continue;
		else
			sb_addf(dst, "%s/%.*s-%d%s", dir.buf, (int)(dot - base), base, i, dot);
		if (lstat(dst->buf, &ds) < 0) {
			if (errno != ENOENT)
				goto out;
			if (put(pl, src, abs, dst->buf, d, 0) == 0) {
				rc = remember(pl, dst->buf, abs);
				goto out;
			}
			if (errno == EEXIST)	/* lost a race: look again */
				continue;
			goto out;
		}
		if (pl->symlinks && S_ISLNK(ds.st_mode)) {
			char l[PATH_MAX];
			ssize_t n = readlink(dst->buf, l, sizeof(l) - 1);
			if (n >= 0 && (l[n] = '\0', strcmp(l, abs) == 0)) {
				rc = 0;
				goto out;
			}
		} else if (!pl->symlinks && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino) {
			rc = 0;	/* already this very file */
			goto out;
		}
		from = map_get(&pl->placed, dst->buf);
		if (from && strcmp(from, abs) == 0) {
			/* ours from an earlier run: the log grew or was replaced */
			if (!pl->symlinks && S_ISREG(ds.st_mode) && ds.st_size == ss.st_size &&
			    same_bytes(src, dst->buf)) {
				rc = 0;
				goto out;
			}
			rc = put(pl, src, abs, dst->buf, d, 1);
			goto out;
		}
		if (!from && !pl->symlinks && S_ISREG(ds.st_mode) && ds.st_size == ss.st_size &&
		    same_bytes(src, dst->buf)) {
			rc = 0;	/* the same bytes under the same name: nothing to do */
			goto out;
		}
	}
	errno = EEXIST;
out:
	sb_free(&dir);
	sb_free(&hdir);
	return rc;
}
