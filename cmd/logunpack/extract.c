/* extract.c: logunpack's extraction: every member checked, written through dirfds that never follow a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tool.h"
#include "../../common/afile.h"
#include "../../common/ar.h"
#include "../../common/jw.h"
#include "logunpack.h"

/* The temp file being written, for the signal handler (async-signal-safe unlinkat). */
static volatile sig_atomic_t tmp_live;
static int tmp_dirfd = -1;
static char tmp_name[64];

void
extract_cleanup_signal(void)
{
	if (tmp_live)
		unlinkat(tmp_dirfd, tmp_name, 0);
}

/* What this archive created, to undo it under --strict. */
struct made {
	char *path;
	int dir;
};
static struct made *made;
static size_t nmade, capmade;

static void
remember(const char *path, int dir)
{
	if (nmade == capmade) {
		capmade = capmade ? 2 * capmade : 64;
		made = xrealloc(made, capmade * sizeof(*made));
	}
	made[nmade].path = xstrdup(path);
	made[nmade].dir = dir;
	nmade++;
}

/*
 * Open the directory that holds clean path p, creating missing
 * directories when create is set.  Every component is opened with
 * O_NOFOLLOW: a symlink on the way (planted by an earlier member, an
 * earlier archive or anyone else) ends the walk with ELOOP/ENOTDIR
 * instead of leading outside.  *base points at the last component.
 */
static int
walk(int rootfd, const char *p, int create, const char **base, const char **why)
{
	char comp[NAME_MAX + 1];
	int fd = dup(rootfd);
	const char *s = p, *slash;

	while (fd >= 0 && (slash = strchr(s, '/')) != NULL) {
		size_t n = (size_t)(slash - s);
		int nfd;

		memcpy(comp, s, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				*why = strerror(errno);
				close(fd);
				return -1;
			}
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			*why = errno == ELOOP || errno == ENOTDIR ?
			    "path goes through a symlink or a non-directory" : strerror(errno);
			close(fd);
			return -1;
		}
		close(fd);
		fd = nfd;
		s = slash + 1;
	}
	if (fd < 0)
		*why = strerror(errno);
	*base = s;
	return fd;
}

static void
record(struct lu *u, const char *target, const char *clean, uint64_t bytes,
    const char *type)
{
	struct jw w;
	size_t tl = strlen(target);

	jw_begin(&w, &u->out);
	jw_field_cstr(&w, "archive", u->name);
	jw_key(&w, "path");
	/* target/clean, escaped as one string */
	{
		struct sb tmp = SB_INIT;

		sb_add(&tmp, target, tl);
		if (tl == 0 || target[tl - 1] != '/')
			sb_addc(&tmp, '/');
		sb_adds(&tmp, clean);
		jw_str(&u->out, tmp.buf, tmp.len);
		sb_free(&tmp);
	}
	jw_field_u64(&w, "bytes", bytes);
	jw_field_cstr(&w, "type", type);
	if (jw_end(&w) < 0 || sb_addc(&u->out, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	lu_flush(u, 0);
}

/* Make room for a new entry at base: replace only what --overwrite allows. */
static int
clear_place(struct lu *u, int dirfd, const char *base, int for_dir, const char **why)
{
	struct stat st;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (for_dir && S_ISDIR(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		*why = "a directory is in the way";
		return -1;
	}
	(void)u;
	if (unlinkat(dirfd, base, 0) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

/* Copy the data of the current member into a temp file, then rename it into place. */
static int
write_file(struct lu *u, struct archive *a, struct archive_entry *e, int dirfd,
    const char *base, const char *clean, uint64_t *bytes, char *why, size_t whysz)
{
	static unsigned long seq;
	const void *buf;
	size_t len;
	la_int64_t off, pos = 0;
	int fd, r;
	struct timespec ts[2];

	snprintf(tmp_name, sizeof(tmp_name), ".logunpack-%ld-%lu.tmp", (long)getpid(), seq++);
	fd = openat(dirfd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	tmp_dirfd = dirfd;
	tmp_live = 1;
	*bytes = 0;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		/*
		 * Sparse members: a hole up to the block's offset.  Holes
		 * count as output: a 1 KiB tar.zst of one 10 GiB hole is a
		 * bomb for whatever reads the file next.
		 */
		uint64_t hole = off > pos ? (uint64_t)(off - pos) : 0;

		if (lu_over_caps(u, hole + len, why, whysz))
			goto fail_stop;
		if (off != pos && lseek(fd, off, SEEK_SET) < 0)
			goto fail_errno;
		u->out_bytes += hole;
		if (fd_write_all(fd, buf, len) < 0)
			goto fail_errno;
		pos = off + (la_int64_t)len;
		u->out_bytes += len;
	}
	if (r != ARCHIVE_EOF) {
		snprintf(why, whysz, "%s", lu_errstr(u, a));
		goto fail_stop;
	}
	/* A trailing hole: the data blocks end before the member does. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > pos) {
		uint64_t hole = (uint64_t)(archive_entry_size(e) - pos);

		if (lu_over_caps(u, hole, why, whysz))
			goto fail_stop;
		u->out_bytes += hole;
		pos = archive_entry_size(e);
	}
	if (ftruncate(fd, pos) < 0)
		goto fail_errno;
	*bytes = (uint64_t)pos;
	fchmod(fd, (archive_entry_mode(e) & 0755) | 0600);
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	futimens(fd, ts);
	if (close(fd) < 0) {
		fd = -1;
		goto fail_errno;
	}
	if (renameat(dirfd, tmp_name, dirfd, base) < 0) {
		fd = -1;
		goto fail_errno;
	}
	tmp_live = 0;
	remember(clean, 0);
	return 0;
fail_errno:
	snprintf(why, whysz, "%s", strerror(errno));
fail_stop:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp_name, 0);
	tmp_live = 0;
	return -1;
}

static void
undo_all(int rootfd)
{
	/* Newest first, so files go before their directories. */
	for (size_t i = nmade; i-- > 0; )
		unlinkat(rootfd, made[i].path, made[i].dir ? AT_REMOVEDIR : 0);
}

int
extract_archive(struct lu *u, struct archive *a, const char *target, int made_target)
{
	struct archive_entry *e;
	char clean[PATH_MAX], lclean[PATH_MAX], why[512];
	int rootfd, r, rc = 0;

	if ((rootfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn_errno("%s", target);
		return -1;
	}
	nmade = 0;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = lu_member(u, a, e);
		const char *link, *base, *w = NULL;
		mode_t mode = archive_entry_mode(e);
		unsigned type = archive_entry_filetype(e);
		uint64_t bytes = 0;
		int dirfd, pr;

		if (name == NULL)
			break;
		if ((pr = ar_path_clean(name, clean, sizeof(clean), &w)) < 0) {
			lu_refuse(u, name, w);
			goto next;
		}
		if (pr == 1 || !lu_selected(u, clean))
			continue;	/* "./" is the target itself */
		if (mode & (S_ISUID | S_ISGID)) {
			lu_refuse(u, name, "setuid or setgid bit");
			goto next;
		}
		if ((link = archive_entry_hardlink(e)) != NULL) {
			const char *lbase;
			int ldir;

			if (ar_path_clean(link, lclean, sizeof(lclean), &w) != 0) {
				snprintf(why, sizeof(why), "hard link to '%s': %s", link,
				    w ? w : "the target directory");
				lu_refuse(u, name, why);
				goto next;
			}
			if ((ldir = walk(rootfd, lclean, 0, &lbase, &w)) < 0) {
				snprintf(why, sizeof(why), "hard link to '%s': %s", link, w);
				lu_refuse(u, name, why);
				goto next;
			}
			if ((dirfd = walk(rootfd, clean, 1, &base, &w)) < 0 ||
			    clear_place(u, dirfd, base, 0, &w) < 0) {
				if (dirfd >= 0)
					close(dirfd);
				close(ldir);
				lu_refuse(u, name, w);
				goto next;
			}
			/* linkat without AT_SYMLINK_FOLLOW: a symlink is linked, not followed. */
			if (linkat(ldir, lbase, dirfd, base, 0) < 0) {
				snprintf(why, sizeof(why), "hard link to '%s': %s", link,
				    strerror(errno));
				lu_refuse(u, name, why);
			} else {
				remember(clean, 0);
				record(u, target, clean, 0, "hardlink");
			}
			close(ldir);
			close(dirfd);
			goto next;
		}
		switch (type) {
		case AE_IFDIR:
			if ((dirfd = walk(rootfd, clean, 1, &base, &w)) < 0) {
				lu_refuse(u, name, w);
				break;
			}
			if (mkdirat(dirfd, base, 0755) == 0) {
				remember(clean, 1);
				record(u, target, clean, 0, "dir");
			} else if (errno == EEXIST) {
				struct stat st;

				if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISDIR(st.st_mode))
					lu_refuse(u, name, "a non-directory is in the way");
			} else {
				lu_refuse(u, name, strerror(errno));
			}
			close(dirfd);
			break;
		case AE_IFLNK:
			link = archive_entry_symlink(e);
			if (ar_link_ok(clean, link, &w) < 0) {
				snprintf(why, sizeof(why), "symlink to '%s': %s",
				    link ? link : "", w);
				lu_refuse(u, name, why);
				break;
			}
			if ((dirfd = walk(rootfd, clean, 1, &base, &w)) < 0 ||
			    clear_place(u, dirfd, base, 0, &w) < 0) {
				if (dirfd >= 0)
					close(dirfd);
				lu_refuse(u, name, w);
				break;
			}
			if (symlinkat(link, dirfd, base) < 0) {
				lu_refuse(u, name, strerror(errno));
			} else {
				remember(clean, 0);
				record(u, target, clean, 0, "symlink");
			}
			close(dirfd);
			break;
		case AE_IFREG:
			if ((dirfd = walk(rootfd, clean, 1, &base, &w)) < 0) {
				lu_refuse(u, name, w);
				break;
			}
			{
				struct stat st;

				if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISDIR(st.st_mode)) {
					lu_refuse(u, name, "a directory is in the way");
					close(dirfd);
					break;
				}
			}
			if (write_file(u, a, e, dirfd, base, clean, &bytes, why, sizeof(why)) < 0) {
				/* Caps and read errors end the archive: later data is suspect. */
				lu_refuse(u, name, why);
				u->stop = 1;
			} else {
				record(u, target, clean, bytes, "file");
			}
			close(dirfd);
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			lu_refuse(u, name, "device node");
			break;
		case AE_IFIFO:
			lu_refuse(u, name, "fifo");
			break;
		default:
			lu_refuse(u, name, "unsupported file type");
			break;
		}
next:
		if (u->stop || (u->strict && u->refused))
			break;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN && r != ARCHIVE_EOF && !u->stop) {
		if (u->last_member[0])
			warn_msg("%s: after %s: %s", u->name, u->last_member, lu_errstr(u, a));
		else
			warn_msg("%s: %s", u->name, lu_errstr(u, a));
		rc = -1;
	}
	if (u->stop)
		rc = -1;
	if (u->strict && (u->refused || rc < 0)) {
		undo_all(rootfd);
		warn_msg("%s: refused as a whole (--strict); nothing extracted", u->name);
		if (made_target)
			rmdir(target);
		rc = -1;
	}
	for (size_t i = 0; i < nmade; i++)
		free(made[i].path);
	nmade = 0;
	close(rootfd);
	return rc;
}
