/* follow.c: read files to their end or follow them like tail -F, resuming from a state file of offsets. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "follow.h"
#include "follow_st.h"
#include "lr.h"
#include "sb.h"

#define FW_TAIL_SCAN 65536	/* following from the end: look this far back for a '\n' */
#define FW_BURST 4096		/* lines from one file before the next gets a turn */
#define FW_QMAX 4

struct fwf {
	const char *path;	/* as given */
	char *key;		/* absolute path, with a state only */
	long ent;		/* its entry in w->ents, or -1 */
	int isstdin, started, done;
	int fd;			/* -1: not open (missing, or failed) */
	int regular;
	unsigned long long dev, ino;
	struct lr lr;
	int old;		/* fd is no longer at path: drain it, then open path */
	int nextfd;		/* the file now at path, opened when old was noticed */
	int rotmsg;		/* say so when switching (a rotation seen live) */
	int gone;		/* path vanished: 1 seen, 2 said */
	int64_t gone_at;
	int openerr;		/* errno of the last failed open (said once) */
	int wait_input;		/* pipe: read only when poll says so */
	int dirty;		/* lines handed out since the last FW_END */
	unsigned long got;	/* lines in this round */
	int64_t last;		/* ms: when lines last came */
};

struct fw {
	struct fw_opts o;
	int hold;		/* keep an incomplete last line back */
	struct fwf *f;
	size_t n, cur, scan;
	unsigned burst;
	int round_end, round_had, idle_due, flush_due;
	int64_t last_any;
	struct pollfd *pfd;
	char *state, *lockpath;
	int lockfd;
	struct fw_ent *ents;
	size_t nents;
	struct fw_ev q[FW_QMAX];
	char qmsg[FW_QMAX][512];
	size_t qhead, qn;
	volatile sig_atomic_t stop;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
push(struct fw *w, enum fw_kind kind, size_t file, int failed, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Queue an event (fw_next hands queued events out before reading on). */
static void
push(struct fw *w, enum fw_kind kind, size_t file, int failed, const char *fmt, ...)
{
	struct fw_ev *ev;
	va_list ap;

	if (w->qhead == w->qn)
		w->qhead = w->qn = 0;
	if (w->qn == FW_QMAX)		/* cannot happen: at most 3 per step */
		return;
	ev = &w->q[w->qn];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->file = file;
	ev->failed = failed;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(w->qmsg[w->qn], sizeof(w->qmsg[0]), fmt, ap);
		va_end(ap);
		ev->msg = w->qmsg[w->qn];
	}
	w->qn++;
	w->idle_due = 1;
}

static void
push_end(struct fw *w, struct fwf *f)
{
	f->dirty = 0;
	push(w, FW_END, (size_t)(f - w->f), 0, NULL);
}

/* ---- files ---- */

/* XXH64 of the first n bytes of fd; -1 when it has fewer. */
static int
head_hash(int fd, size_t n, unsigned long long *h)
{
	char buf[FST_HASH_MAX];
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	*h = XXH64(buf, n, 0);
	return 0;
}

/* Reads block again (opened O_NONBLOCK so a FIFO does not hang the open). */
static int
unblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int
open_file(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || unblock(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Following from the end: start after the last complete line, so that a
 * line being written as we start comes out whole when its '\n' arrives.
 */
static off_t
tail_start(int fd, off_t size)
{
	size_t n = size < FW_TAIL_SCAN ? (size_t)size : FW_TAIL_SCAN;
	char *buf, *nl;
	ssize_t k;
	off_t at = size;

	if (n == 0 || (buf = malloc(n)) == NULL)
		return size;
	if ((k = pread(fd, buf, n, size - (off_t)n)) == (ssize_t)n) {
		for (nl = buf + n; nl > buf && nl[-1] != '\n'; nl--)
			;
		if (nl > buf)
			at = size - (off_t)n + (nl - buf);
		else if ((off_t)n == size)
			at = 0;		/* one unfinished line: all of it */
	}
	free(buf);
	return at;
}

/* Read fd (regular or not, described by st) from off. */
static int
setup(struct fw *w, struct fwf *f, int fd, const struct stat *st, off_t off,
    unsigned long long line, int cut)
{
	f->fd = fd;
	f->regular = S_ISREG(st->st_mode);
	f->dev = (unsigned long long)st->st_dev;
	f->ino = (unsigned long long)st->st_ino;
	f->old = f->gone = 0;
	if (f->regular && lseek(fd, off, SEEK_SET) < 0)
		return -1;
	if (lr_init(&f->lr, fd, f->regular ? off : 0) < 0)
		return -1;
	/* standard input has no state: hold its last line only while following */
	f->lr.follow = f->regular && !f->isstdin ? w->hold : w->o.follow;
	f->wait_input = !f->regular && w->o.follow;
	f->lr.max_line = w->o.max_line;
	f->lr.lineno = line;
	f->lr.skipping = cut;
	return 0;
}

static void
drop_fd(struct fwf *f)
{
	if (f->fd < 0)
		return;
	lr_free(&f->lr);
	if (!f->isstdin)
		close(f->fd);
	f->fd = -1;
}

/*
 * The file a state entry named was replaced: look for it by device and
 * inode in the same directory (app.log.1 after a rename), so the lines
 * written to it after the last run are read before the new file.  Its
 * head must still hash the same and it must not have shrunk.
 */
static int
find_old(const struct fw_ent *e, struct stat *st)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd = -1;

	fst_dir(e->key, dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		unsigned long long h;

		if ((unsigned long long)de->d_ino != e->ino)
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
		    (unsigned long long)st->st_dev == e->dev &&
		    (unsigned long long)st->st_ino == e->ino &&
		    st->st_size >= (off_t)e->off &&
		    head_hash(fd, e->hashlen, &h) == 0 && h == e->hash &&
		    unblock(fd) == 0)
			break;
		close(fd);
		fd = -1;
	}
	closedir(d);
	return fd;
}

static void
say_open_error(struct fw *w, struct fwf *f, int e)
{
	size_t i = (size_t)(f - w->f);

	if (!w->o.follow) {
		push(w, FW_WARN, i, 1, "%s", strerror(e));
		f->done = 1;
	} else if (f->openerr != e) {
		push(w, FW_WARN, i, 0, "%s; waiting for it", strerror(e));
	}
	f->openerr = e;
}

/* The first look at a file: where to start reading it. */
static int
start_file(struct fw *w, struct fwf *f)
{
	const struct fw_ent *e = f->ent >= 0 ? &w->ents[f->ent] : NULL;
	size_t i = (size_t)(f - w->f);
	struct stat st, ost;
	unsigned long long h;
	int fd, ofd;

	f->started = 1;
	if (f->isstdin) {
		off_t off;

		if (fstat(STDIN_FILENO, &st) < 0) {
			say_open_error(w, f, errno);
			return 0;
		}
		/* a file on stdin is read from where it stands */
		if (S_ISREG(st.st_mode) && (off = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0)
			return setup(w, f, STDIN_FILENO, &st, off, 0, 0);
		st.st_mode = S_IFIFO;
		return setup(w, f, STDIN_FILENO, &st, 0, 0, 0);
	}
	fd = open_file(f->path, &st);
	if (fd < 0) {
		int err = errno;

		/* rotated away and not recreated yet: the old one still counts */
		if (e && (ofd = find_old(e, &ost)) >= 0) {
			if (setup(w, f, ofd, &ost, (off_t)e->off, e->line, e->cut) < 0)
				return -1;
			f->old = 1;
			f->nextfd = -1;
			f->lr.follow = 0;
			return 0;
		}
		say_open_error(w, f, err);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return setup(w, f, fd, &st, 0, 0, 0);
	if (e && e->dev == (unsigned long long)st.st_dev &&
	    e->ino == (unsigned long long)st.st_ino) {
		if (st.st_size < (off_t)e->off) {
			push(w, FW_WARN, i, 0, "truncated since the last run; reading from the start");
			return setup(w, f, fd, &st, 0, 0, 0);
		}
		if (head_hash(fd, e->hashlen, &h) < 0 || h != e->hash) {
			push(w, FW_WARN, i, 0,
			    "changed since the last run (first bytes differ); reading from the start");
			return setup(w, f, fd, &st, 0, 0, 0);
		}
		return setup(w, f, fd, &st, (off_t)e->off, e->line, e->cut);
	}
	if (e) {
		if ((ofd = find_old(e, &ost)) >= 0) {
			/* the rest of the old file first, then the new from 0 */
			if (setup(w, f, ofd, &ost, (off_t)e->off, e->line, e->cut) < 0) {
				close(fd);
				return -1;
			}
			f->old = 1;
			f->nextfd = fd;
			f->lr.follow = 0;
			return 0;
		}
		push(w, FW_WARN, i, 0, "replaced since the last run and the old file is not in "
		    "its directory any more; reading the new one from the start (lines "
		    "added to the old one after the last run are lost)");
		return setup(w, f, fd, &st, 0, 0, 0);
	}
	if (w->o.follow && !w->o.from_start)
		return setup(w, f, fd, &st, tail_start(fd, st.st_size), 0, 0);
	return setup(w, f, fd, &st, 0, 0, 0);
}

/* The old file is drained: go on with the one now at path, from 0. */
static int
switch_new(struct fw *w, struct fwf *f)
{
	size_t i = (size_t)(f - w->f);
	struct stat st;
	int fd = f->nextfd;

	push_end(w, f);
	f->nextfd = -1;
	if (fd < 0 && (fd = open_file(f->path, &st)) < 0) {
		int e = errno;

		/* keep the old one open: the state goes on naming it */
		f->old = 0;
		f->lr.follow = w->hold;
		if (!w->o.follow) {
			push(w, FW_WARN, i, 1, "%s", strerror(e));
			f->done = 1;
		} else {
			f->gone = 2;
			push(w, FW_WARN, i, 0, "%s; waiting for it", strerror(e));
		}
		return 0;
	}
	if (fd >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (f->rotmsg)
		push(w, FW_WARN, i, 0, "replaced; following the new file");
	f->rotmsg = 0;
	drop_fd(f);
	return setup(w, f, fd, &st, 0, 0, 0);
}

/*
 * Following, at the end of what f has: was it renamed away, replaced,
 * truncated, or did it vanish?  1 when something changed (read again),
 * 0 when not, -1 on a fatal error.
 */
static int
check(struct fw *w, struct fwf *f)
{
	size_t i = (size_t)(f - w->f);
	struct stat st;
	int fd;

	if (!f->isstdin) {
		if (stat(f->path, &st) < 0) {
			int e = errno;

			/* a rename rotation leaves no file for a moment: say so
			   only when it stays away for a poll interval */
			if (f->gone == 0) {
				f->gone = 1;
				f->gone_at = now_ms();
			} else if (f->gone == 1 && now_ms() - f->gone_at >= w->o.poll_ms) {
				f->gone = 2;
				push(w, FW_WARN, i, 0, "%s; waiting for it to come back",
				    strerror(e));
			}
			return w->qn > w->qhead;
		}
		if ((unsigned long long)st.st_dev != f->dev ||
		    (unsigned long long)st.st_ino != f->ino) {
			if ((fd = open_file(f->path, &st)) < 0)
				return 0;	/* try again next time */
			/* drain the old file to its very end (the writer may
			   have written more since we hit EOF), then switch */
			f->nextfd = fd;
			f->old = 1;
			f->rotmsg = 1;
			f->lr.follow = 0;
			return 1;
		}
		f->gone = 0;
	}
	if (fstat(f->fd, &st) == 0 &&
	    st.st_size < f->lr.offset + (off_t)lr_pending(&f->lr)) {
		/* copytruncate: what we hold back belonged to the old content */
		push_end(w, f);
		push(w, FW_WARN, i, 0, "truncated; reading from the start");
		lr_free(&f->lr);
		return setup(w, f, f->fd, &st, 0, 0, 0) < 0 ? -1 : 1;
	}
	return 0;
}

static int
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * Work on file f: 1 with a line in ev, 2 when events were queued, 0 when
 * f has nothing more for now, -1 on a fatal error.
 */
static int
step(struct fw *w, struct fwf *f, struct fw_ev *ev)
{
	size_t i = (size_t)(f - w->f);
	const char *line;
	size_t len;
	int r;

	for (;;) {
		if (w->qn > w->qhead)
			return 2;
		if (f->done)
			return 0;
		if (f->fd < 0) {
			struct stat st;
			int fd;

			if (!f->started) {
				if (start_file(w, f) < 0)
					return -1;
				continue;
			}
			if (!w->o.follow)
				return 0;
			if ((fd = open_file(f->path, &st)) < 0) {
				say_open_error(w, f, errno);
				if (w->qn > w->qhead)
					continue;
				return 0;
			}
			push(w, FW_WARN, i, 0, "appeared; following it");
			f->openerr = 0;
			if (setup(w, f, fd, &st, 0, 0, 0) < 0)
				return -1;
			continue;
		}
		if (w->o.follow && w->burst >= FW_BURST)
			return 0;
		/* a pipe: read only when it has something, so that one quiet
		   pipe does not hold up the other files, nor a stop */
		if (w->o.follow && !f->regular) {
			f->wait_input = memchr(f->lr.buf + f->lr.start, '\n',
			    f->lr.end - f->lr.start) == NULL && !readable(f->fd);
			if (f->wait_input)
				return 0;
		}
		r = lr_next(&f->lr, &line, &len);
		if (r > 0) {
			memset(ev, 0, sizeof(*ev));
			ev->kind = FW_LINE;
			ev->file = i;
			ev->line = line;
			ev->len = len;
			ev->lineno = f->lr.lineno;
			ev->truncated = f->lr.truncated;
			f->dirty = 1;
			f->got++;
			w->burst++;
			return 1;
		}
		if (r < 0) {
			push(w, FW_WARN, i, 1, "%s", strerror(errno));
			push_end(w, f);
			f->done = 1;
			continue;
		}
		if (f->old) {
			if (switch_new(w, f) < 0)
				return -1;
			continue;
		}
		if (!f->regular) {
			if (!f->lr.eof)
				return 0;
			if (f->lr.follow) {
				f->lr.follow = 0;	/* the end of a pipe: the last line too */
				continue;
			}
			push_end(w, f);
			f->done = 1;
			continue;
		}
		if (!w->o.follow) {
			push_end(w, f);
			f->done = 1;
			continue;
		}
		if ((r = check(w, f)) <= 0)
			return r;
	}
}

/* Following, nothing to read anywhere: wait poll_ms, or less if a pipe speaks. */
static void
nap(struct fw *w)
{
	nfds_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		if (w->f[i].fd >= 0 && !w->f[i].done && w->f[i].wait_input) {
			w->pfd[k].fd = w->f[i].fd;
			w->pfd[k].events = POLLIN;
			w->pfd[k++].revents = 0;
		}
	if (!w->stop)
		poll(w->pfd, k, w->o.poll_ms);	/* EINTR: fw_stop, looked at next */
}

int
fw_next(struct fw *w, struct fw_ev *ev)
{
	int r;

	for (;;) {
		if (w->qhead < w->qn) {
			*ev = w->q[w->qhead++];
			return 1;
		}
		if (w->stop)
			return 0;
		if (w->cur < w->n) {
			if ((r = step(w, &w->f[w->cur], ev)) == 1 || r < 0)
				return r;
			if (r == 0) {
				w->cur++;
				w->burst = 0;
			}
			continue;
		}
		if (!w->o.follow)
			return 0;
		/* A round over every file is done.  Pipes at their end and
		   files that failed to read have nothing more to give. */
		size_t live = 0;

		for (size_t i = 0; i < w->n; i++)
			live += !w->f[i].done;
		if (live == 0)
			return 0;
		int64_t now = now_ms();

		if (!w->round_end) {
			w->round_end = 1;
			w->scan = 0;
			w->round_had = 0;
			for (size_t i = 0; i < w->n; i++)
				if (w->f[i].got) {
					w->f[i].got = 0;
					w->f[i].last = now;
					w->round_had = 1;
				}
			if (w->round_had) {
				w->last_any = now;
				w->idle_due = w->flush_due = 1;
			}
		}
		/* a file quiet for poll_ms: its pending event is complete */
		while (w->scan < w->n) {
			struct fwf *f = &w->f[w->scan++];

			if (f->dirty && now - f->last >= w->o.poll_ms) {
				push_end(w, f);
				w->flush_due = 1;
				break;
			}
		}
		if (w->qhead < w->qn)
			continue;
		w->round_end = 0;
		w->cur = 0;
		if (w->flush_due) {
			w->flush_due = 0;
			memset(ev, 0, sizeof(*ev));
			ev->kind = FW_FLUSH;
			return 1;
		}
		if (w->round_had)
			continue;
		if (w->idle_due && now - w->last_any >= w->o.poll_ms) {
			w->idle_due = 0;
			memset(ev, 0, sizeof(*ev));
			ev->kind = FW_IDLE;
			return 1;
		}
		nap(w);
	}
}

/* ---- open, save, close ---- */

/* path made absolute against cwd (not resolved: the user's name for it). */
static char *
absolute(const char *cwd, const char *path)
{
	struct sb s = SB_INIT;

	if (path[0] != '/' && (sb_adds(&s, cwd) < 0 ||
	    (s.len > 1 && sb_addc(&s, '/') < 0))) {
		sb_free(&s);
		return NULL;
	}
	if (sb_adds(&s, path) < 0) {
		sb_free(&s);
		return NULL;
	}
	return sb_detach(&s);
}

static char *
get_cwd(void)
{
	size_t n = 256;
	char *b = NULL, *nb;

	for (;;) {
		if ((nb = realloc(b, n)) == NULL) {
			free(b);
			return NULL;
		}
		b = nb;
		if (getcwd(b, n) != NULL)
			return b;
		if (errno != ERANGE) {
			free(b);
			return NULL;
		}
		n *= 2;
	}
}

struct fw *
fw_open(const struct fw_opts *o, char *const *paths, size_t n, char *err, size_t errsz)
{
	struct fw *w;
	struct stat st;
	char *cwd = NULL;
	int e;

	err[0] = '\0';
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->f = calloc(n ? n : 1, sizeof(*w->f))) == NULL ||
	    (w->pfd = calloc(n ? n : 1, sizeof(*w->pfd))) == NULL)
		goto nomem;
	w->o = *o;
	if (w->o.poll_ms <= 0)
		w->o.poll_ms = 250;
	w->hold = o->follow || o->state;
	w->lockfd = -1;
	w->n = n;
	w->idle_due = 1;	/* once started: a moment to save the start */
	for (size_t i = 0; i < n; i++) {
		w->f[i].path = paths[i];
		w->f[i].fd = w->f[i].nextfd = -1;
		w->f[i].ent = -1;
		w->f[i].isstdin = strcmp(paths[i], "-") == 0;
	}
	if (o->state == NULL)
		return w;

	if ((w->state = strdup(o->state)) == NULL ||
	    (w->lockpath = malloc(strlen(o->state) + 6)) == NULL ||
	    (cwd = get_cwd()) == NULL)
		goto sys;
	/* rename(2) over a device or a directory would be a disaster */
	if (stat(w->state, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", w->state);
		errno = EINVAL;
		goto fail;
	}
	/* one run at a time: two would both print what is new */
	snprintf(w->lockpath, strlen(o->state) + 6, "%s.lock", o->state);
	/* read-only: should it land on a closed stdout's fd 1, records
	   written there must fail, not fill the lock file */
	if ((w->lockfd = open(w->lockpath, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644)) < 0) {
		snprintf(err, errsz, "%s: %s", w->lockpath, strerror(errno));
		goto fail;
	}
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		if (e == EWOULDBLOCK)
			snprintf(err, errsz, "%s: locked by another process using %s",
			    w->lockpath, w->state);
		else
			snprintf(err, errsz, "%s: %s", w->lockpath, strerror(e));
		errno = e;
		goto fail;
	}
	if (fst_load(w->state, &w->ents, &w->nents, err, errsz) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct fwf *f = &w->f[i];

		if (f->isstdin)
			continue;
		if ((f->key = absolute(cwd, f->path)) == NULL)
			goto nomem;
		for (size_t j = 0; j < w->nents; j++)
			if (strcmp(w->ents[j].key, f->key) == 0)
				f->ent = (long)j;
	}
	free(cwd);
	return w;
nomem:
	errno = ENOMEM;
sys:
	if (w && w->state)
		snprintf(err, errsz, "%s: %s", w->state, strerror(errno));
	else
		snprintf(err, errsz, "%s", strerror(errno));
fail:
	e = errno;
	free(cwd);
	fw_close(w);
	errno = e;
	return NULL;
}

/* Bring f's state entry up to date with what was handed out. */
static int
note(struct fw *w, struct fwf *f)
{
	struct fw_ent *e, *ne;
	off_t off = f->lr.offset;
	size_t hl;

	if (f->ent < 0) {
		if ((ne = realloc(w->ents, (w->nents + 1) * sizeof(*ne))) == NULL)
			return -1;
		w->ents = ne;
		e = &w->ents[w->nents];
		memset(e, 0, sizeof(*e));
		if ((e->key = strdup(f->key)) == NULL)
			return -1;
		f->ent = (long)w->nents++;
	}
	e = &w->ents[f->ent];
	e->dev = f->dev;
	e->ino = f->ino;
	e->off = (unsigned long long)off;
	e->line = f->lr.lineno;
	e->cut = f->lr.skipping;
	hl = off < FST_HASH_MAX ? (size_t)off : FST_HASH_MAX;
	/* a head shorter than it was (truncated meanwhile) is noticed next run */
	while (hl > 0 && head_hash(f->fd, hl, &e->hash) < 0)
		hl /= 2;
	e->hashlen = (unsigned)hl;
	if (hl == 0)
		e->hash = XXH64("", 0, 0);
	return 0;
}

int
fw_save(struct fw *w)
{
	struct fw_ent *keep;
	struct stat st;
	char *named;
	size_t k = 0;
	int rc;

	if (w->state == NULL)
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		struct fwf *f = &w->f[i];

		if (f->key && f->fd >= 0 && f->regular && note(w, f) < 0)
			return -1;
	}
	/* Entries of other runs stay, unless their file is gone (a dated
	   log deleted long ago): the state must not grow for ever. */
	if ((keep = malloc((w->nents ? w->nents : 1) * sizeof(*keep))) == NULL)
		return -1;
	if ((named = calloc(w->nents ? w->nents : 1, 1)) == NULL) {
		free(keep);
		return -1;
	}
	for (size_t i = 0; i < w->n; i++)
		if (w->f[i].ent >= 0)
			named[w->f[i].ent] = 1;
	for (size_t j = 0; j < w->nents; j++)
		if (named[j] || lstat(w->ents[j].key, &st) == 0 || errno != ENOENT)
			keep[k++] = w->ents[j];
	rc = fst_save(w->state, keep, k);
	free(keep);
	free(named);
	return rc;
}

void
fw_stop(struct fw *w)
{
	w->stop = 1;
}

void
fw_close(struct fw *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; w->f && i < w->n; i++) {
		struct fwf *f = &w->f[i];

		drop_fd(f);
		if (f->nextfd >= 0)
			close(f->nextfd);
		free(f->key);
	}
	free(w->f);
	free(w->pfd);
	fst_free(w->ents, w->nents);
	if (w->lockfd >= 0)
		close(w->lockfd);
	free(w->lockpath);
	free(w->state);
	free(w);
}
