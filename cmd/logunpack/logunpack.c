/* logunpack: unpack run archives safely, or stream their text members as records. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../tool.h"
#include "../../common/rec.h"
#include "logunpack.h"

static const char synopsis[] =
    "usage: logunpack [--lines] [--member glob] [-C dir] [--overwrite] [--strict]\n"
    "                 [--max-bytes n] [--max-entries n] [--max-ratio n]\n"
    "                 [--max-window n] [archive ...]\n";

enum { MIB = 1024 * 1024 };
#define RATIO_FLOOR (16ULL * MIB)	/* the ratio cap starts to count here */

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

/*
 * The bytes libarchive reads.  A zstd stream is decoded here rather than
 * by libarchive's filter so that the window limit (ZSTD_d_windowLogMax)
 * holds for every frame, and on a second thread so that decoding overlaps
 * with tar parsing and writing; other formats pass through as they are.
 */
#define NSLOT 3
struct slot {
	unsigned char *buf;
	size_t len;
	uint64_t raw_in;	/* compressed bytes consumed when it was filled */
	int full;
};

struct src {
	int fd;
	int zstd;
	ZSTD_DStream *zd;
	ZSTD_inBuffer ib;
	unsigned char *in, *out;
	size_t cap;
	int eof;
	uint64_t raw_in;	/* decoder side: compressed bytes consumed */
	uint64_t produced;	/* decoder side: decompressed bytes made */
	size_t last;		/* ZSTD_decompressStream's last hint: 0 at a frame end */
	uint64_t max_window;
	char err[256];		/* set by the decoder before done */
	/* the hand-over between the decoder thread and libarchive's reads */
	struct slot slot[NSLOT];
	int head;		/* next slot the reader takes */
	int held;		/* slot libarchive is holding, or -1 */
	int done;		/* decoder finished: 1 at end, -1 on error */
	int quit;
	int started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t raw_main;	/* reader side: what the caps see */
	char err_main[256];	/* reader side: s->err, once the decoder is done */
};

static ssize_t
read_full(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static struct lu u;

/* Caps on what the decoder makes, not only on what is written: libarchive also decodes members it skips. */
static int
over_caps_decoded(struct src *s)
{
	/* Tar headers and padding come on top of member data: allow some slack. */
	if (s->produced > u.cap_bytes + 64ULL * MIB) {
		snprintf(s->err, sizeof(s->err), "decompressed data exceeds %llu bytes (--max-bytes)",
		    (unsigned long long)u.cap_bytes);
	} else if (u.max_ratio && s->produced > RATIO_FLOOR &&
	    s->produced / (s->raw_in ? s->raw_in : 1) > u.max_ratio) {
		snprintf(s->err, sizeof(s->err), "compression ratio above %llu (--max-ratio): "
		    "%llu bytes from %llu", (unsigned long long)u.max_ratio,
		    (unsigned long long)s->produced, (unsigned long long)s->raw_in);
	} else {
		return 0;
	}
	return -1;
}

/* Decode into out[cap]: 1 with *len > 0, 0 at a clean end, -1 with s->err. */
static int
decode(struct src *s, unsigned char *out, size_t cap, size_t *len)
{
	for (;;) {
		ZSTD_outBuffer ob = { out, cap, 0 };
		size_t r, before;
		ssize_t n;

		if (s->ib.pos == s->ib.size && !s->eof) {
			if ((n = read_full(s->fd, s->in, s->cap)) < 0) {
				snprintf(s->err, sizeof(s->err), "%s", strerror(errno));
				return -1;
			}
			s->eof = n == 0;
			s->ib.src = s->in;
			s->ib.size = (size_t)n;
			s->ib.pos = 0;
		}
		before = s->ib.pos;
		r = ZSTD_decompressStream(s->zd, &ob, &s->ib);
		s->raw_in += s->ib.pos - before;
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
				snprintf(s->err, sizeof(s->err),
				    "zstd window larger than --max-window (%llu bytes)",
				    (unsigned long long)s->max_window);
			else
				snprintf(s->err, sizeof(s->err), "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		if (ob.pos > 0 || s->ib.pos > before)
			s->last = r;
		if (ob.pos > 0) {
			s->produced += ob.pos;
			if (over_caps_decoded(s) < 0)
				return -1;
			*len = ob.pos;
			return 1;
		}
		if (s->eof && s->ib.pos == s->ib.size) {
			if (s->last != 0) {
				snprintf(s->err, sizeof(s->err), "truncated zstd stream");
				return -1;
			}
			return 0;
		}
	}
}

static void *
decoder_main(void *ud)
{
	struct src *s = ud;
	int i = 0, r;

	for (;;) {
		size_t len = 0;

		pthread_mutex_lock(&s->mu);
		while (s->slot[i].full && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		if (s->quit)
			return NULL;
		/* The slot is free and only this thread touches it until it is full. */
		r = decode(s, s->slot[i].buf, s->cap, &len);
		pthread_mutex_lock(&s->mu);
		if (r > 0) {
			s->slot[i].len = len;
			s->slot[i].raw_in = s->raw_in;
			s->slot[i].full = 1;
		} else {
			s->done = r == 0 ? 1 : -1;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (r <= 0)
			return NULL;
		i = (i + 1) % NSLOT;
	}
}

static la_ssize_t
src_read(struct archive *a, void *ud, const void **buf)
{
	struct src *s = ud;
	struct slot *sl;
	ssize_t n;

	if (!s->zstd) {
		if ((n = read_full(s->fd, s->in, s->cap)) < 0) {
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		s->raw_main += (uint64_t)n;
		*buf = s->in;
		return n;
	}
	pthread_mutex_lock(&s->mu);
	if (s->held >= 0) {
		/* libarchive is done with the block it had: give it back. */
		s->slot[s->held].full = 0;
		s->held = -1;
		pthread_cond_broadcast(&s->cv);
	}
	sl = &s->slot[s->head];
	while (!sl->full && !s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!sl->full) {
		int done = s->done;

		if (done < 0)
			memcpy(s->err_main, s->err, sizeof(s->err_main));
		pthread_mutex_unlock(&s->mu);
		if (done < 0) {
			archive_set_error(a, EINVAL, "%s", s->err_main);
			return -1;
		}
		return 0;
	}
	s->held = s->head;
	s->head = (s->head + 1) % NSLOT;
	s->raw_main = sl->raw_in;
	pthread_mutex_unlock(&s->mu);
	*buf = sl->buf;
	return (la_ssize_t)sl->len;
}

/* Start a source on fd: sniff the zstd magic, keeping the sniffed bytes. */
static int
src_open(struct src *s, int fd, uint64_t max_window)
{
	ssize_t n;
	unsigned wlog = 10;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->cap = 1 << 20;
	s->in = xmalloc(s->cap);
	s->max_window = max_window;
	s->held = -1;
	if ((n = read_full(fd, s->in, 4)) < 0)
		return -1;
	if (n == 4 && memcmp(s->in, "\x28\xb5\x2f\xfd", 4) == 0) {
		s->zstd = 1;
		if ((s->zd = ZSTD_createDStream()) == NULL)
			die(EXIT_FATAL, "out of memory");
		while (wlog < 31 && (1ULL << (wlog + 1)) <= max_window)
			wlog++;
		ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, (int)wlog);
		s->ib.src = s->in;
		s->ib.size = (size_t)n;
		s->ib.pos = 0;
		for (int i = 0; i < NSLOT; i++)
			s->slot[i].buf = xmalloc(s->cap);
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		if (pthread_create(&s->th, NULL, decoder_main, s) != 0)
			die(EXIT_FATAL, "cannot start a thread");
		s->started = 1;
	} else {
		/* Hand the sniffed bytes to libarchive first. */
		s->raw_main = (uint64_t)n;
		s->zstd = -(int)n - 1;
	}
	return 0;
}

static la_ssize_t
src_read_first(struct archive *a, void *ud, const void **buf)
{
	struct src *s = ud;

	if (s->zstd < 0) {
		la_ssize_t n = -s->zstd - 1;

		s->zstd = 0;
		*buf = s->in;
		if (n > 0)
			return n;
	}
	return src_read(a, ud, buf);
}

static void
src_close(struct src *s)
{
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->quit = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
	}
	for (int i = 0; i < NSLOT; i++)
		free(s->slot[i].buf);
	if (s->zd)
		ZSTD_freeDStream(s->zd);
	free(s->in);
}

int
lu_over_caps(struct lu *x, uint64_t more, char *why, size_t whysz)
{
	uint64_t out = x->out_bytes + more;

	if (out > x->cap_bytes) {
		snprintf(why, whysz, "output exceeds %llu bytes (--max-bytes); archive refused "
		    "from here", (unsigned long long)x->cap_bytes);
		return 1;
	}
	if (x->max_ratio && out > RATIO_FLOOR && out / (*x->raw_in ? *x->raw_in : 1) > x->max_ratio) {
		snprintf(why, whysz, "compression ratio above %llu (--max-ratio): "
		    "%llu bytes out of %llu; archive refused from here",
		    (unsigned long long)x->max_ratio, (unsigned long long)out,
		    (unsigned long long)*x->raw_in);
		return 1;
	}
	return 0;
}

const char *
lu_errstr(const struct lu *x, struct archive *a)
{
	if (x->src_err && x->src_err[0])
		return x->src_err;
	return archive_error_string(a) ? archive_error_string(a) : "read error";
}

int
lu_selected(const struct lu *x, const char *name)
{
	const char *base;

	if (x->members == NULL)
		return 1;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	for (char **g = x->members; *g; g++)
		if (fnmatch(*g, name, 0) == 0 || fnmatch(*g, base, 0) == 0)
			return 1;
	return 0;
}

void
lu_flush(struct lu *x, int force)
{
	/* Under --strict nothing is promised until the archive is through. */
	if (x->out.len == 0 || (!force && (x->strict || x->out.len < (256u << 10))))
		return;
	out_write(x->out.buf, x->out.len);
	x->out.len = 0;
}

void
lu_refuse(struct lu *x, const char *member, const char *why)
{
	warn_msg("%s: %s: %s", x->name, member, why);
	x->refused++;
}

static void
on_signal(int sig)
{
	extract_cleanup_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Known compression and archive suffixes, longest first where they overlap. */
static const char *const suffixes[] = {
	".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.lz4", ".tzst", ".tgz", ".txz",
	".tbz2", ".tbz", ".tar", ".zip", ".zst", ".gz", ".xz", ".bz2", ".lz4", NULL,
};

/* path without its archive suffix (malloc'd); NULL when it has none. */
static char *
strip_suffix(const char *path, int single_only)
{
	size_t n = strlen(path);

	for (int i = 0; suffixes[i]; i++) {
		size_t k = strlen(suffixes[i]);

		if (single_only && (strstr(suffixes[i], "tar") || strstr(suffixes[i], "zip") ||
		    suffixes[i][1] == 't'))
			continue;
		if (n > k && strcmp(path + n - k, suffixes[i]) == 0 && path[n - k - 1] != '/') {
			char *s = xmalloc(n - k + 1);

			memcpy(s, path, n - k);
			s[n - k] = '\0';
			return s;
		}
	}
	return NULL;
}

/* The target directory: fresh, or empty, or allowed by --overwrite. */
static int
prepare_target(const char *dir, int *made)
{
	struct stat st;

	*made = 0;
	if (mkdir(dir, 0755) == 0) {
		*made = 1;
		return 0;
	}
	if (errno != EEXIST) {
		warn_errno("%s", dir);
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		warn_msg("%s: exists and is not a directory", dir);
		return -1;
	}
	if (!u.overwrite) {
		/* Empty means only "." and "..": that is as good as fresh. */
		DIR *d = opendir(dir);
		struct dirent *de;
		int empty = 1;

		while (d && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				empty = 0;
		if (d)
			closedir(d);
		if (!empty) {
			warn_msg("%s: target exists and is not empty (use --overwrite)", dir);
			return -1;
		}
	}
	return 0;
}

/* Process one archive; returns 0 ok, 1 some members refused or unreadable. */
static int
unpack(const char *path)
{
	struct archive *a;
	struct src s;
	struct stat st;
	char *target = NULL, *rawname = NULL;
	const char *base;
	int fd, rc = 0, made = 0, r;

	u.name = path;
	u.out_bytes = u.entries = 0;
	u.refused = u.stop = 0;
	if (strcmp(path, "-") == 0) {
		u.name = "<stdin>";
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		warn_errno("%s", path);
		return 1;
	}
	if (u.max_bytes)
		u.cap_bytes = u.max_bytes;
	else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		u.cap_bytes = (uint64_t)st.st_size * 100 > (1ULL << 30) ?
		    (uint64_t)st.st_size * 100 : 1ULL << 30;
	else
		u.cap_bytes = 16ULL << 30;
	if (src_open(&s, fd, u.max_window) < 0) {
		warn_errno("%s", u.name);
		if (fd != STDIN_FILENO)
			close(fd);
		return 1;
	}
	u.raw_in = &s.raw_main;
	u.src_err = s.err_main;
	u.last_member[0] = '\0';
	u.rawname = NULL;
	base = strrchr(u.name, '/');
	base = base ? base + 1 : u.name;
	if ((rawname = strip_suffix(base, 1)) == NULL)
		rawname = xstrdup(base);
	u.rawname = rawname;
	if (!u.lines) {
		if (u.target) {
			target = xstrdup(u.target);
		} else if (fd == STDIN_FILENO) {
			warn_msg("<stdin>: give a target directory with -C");
			rc = 1;
			goto out;
		} else if ((target = strip_suffix(path, 0)) == NULL) {
			size_t n = strlen(path) + 3;

			target = xmalloc(n);
			snprintf(target, n, "%s.d", path);
		}
		if (prepare_target(target, &made) < 0) {
			rc = 1;
			goto out;
		}
	}
	if ((a = archive_read_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	archive_read_support_filter_all(a);
	/*
	 * Only the formats we promise: format_all would add mtree, which
	 * takes any text file for a manifest (and can name files on disk).
	 */
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_raw(a);
	r = archive_read_open(a, &s, NULL, src_read_first, NULL);
	if (r != ARCHIVE_OK) {
		warn_msg("%s: %s", u.name, lu_errstr(&u, a));
		rc = 1;
	} else if (u.lines) {
		rc = lines_archive(&u, a, rawname) < 0 || u.refused;
	} else {
		rc = extract_archive(&u, a, target, made) < 0 || u.refused;
	}
	archive_read_free(a);
	/* A directory we made and left empty (nothing usable came out) goes too. */
	if (made && rc)
		rmdir(target);
	if (u.strict && rc)
		u.out.len = 0;	/* the archive was rolled back: no records for it */
	lu_flush(&u, 1);
out:
	src_close(&s);
	if (fd != STDIN_FILENO)
		close(fd);
	free(target);
	free(rawname);
	return rc ? 1 : 0;
}

static uint64_t
size_arg(const char *name, const char *s)
{
	char *e;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (*e == 'K' || *e == 'k')
		mul = 1ULL << 10, e++;
	else if (*e == 'M')
		mul = 1ULL << 20, e++;
	else if (*e == 'G')
		mul = 1ULL << 30, e++;
	else if (*e == 'T')
		mul = 1ULL << 40, e++;
	if (s[0] == '-' || e == s || *e != '\0' || errno || v > UINT64_MAX / mul)
		die(EXIT_FATAL, "%s: expected a number (with K, M, G or T), not '%s'", name, s);
	return (uint64_t)v * mul;
}

/* Archives named by records with a path field (logfetch's output) on stdin. */
static int
from_stdin(void)
{
	struct rec_reader r;
	struct json_object *obj;
	int rc, rval = 0;

	if (rec_reader_init(&r, STDIN_FILENO, "<stdin>") < 0)
		die_errno(EXIT_FATAL, "<stdin>");
	while ((rc = rec_read(&r, &obj)) > 0) {
		const char *path, *status;
		char *p;

		if (obj == NULL) {
			warn_msg("%s", r.err);
			rval = 1;
			continue;
		}
		path = rec_get_str(obj, "path", NULL);
		status = rec_get_str(obj, "status", NULL);
		if (status && strcmp(status, "failed") == 0) {
			json_object_put(obj);	/* logfetch said so already */
			rval = 1;
			continue;
		}
		if (path == NULL) {
			warn_msg("<stdin>:%llu: record without a path field", rec_lineno(&r));
			rval = 1;
			json_object_put(obj);
			continue;
		}
		p = xstrdup(path);
		json_object_put(obj);
		rval |= unpack(p);
		free(p);
	}
	if (rc < 0)
		die_errno(EXIT_FATAL, "<stdin>");
	rec_reader_free(&r);
	return rval;
}

int
main(int argc, char **argv)
{
	enum { O_HELP = 256, O_LINES, O_MAX_BYTES, O_MAX_ENTRIES, O_MAX_RATIO,
	    O_MAX_WINDOW, O_MEMBER, O_OVERWRITE, O_STRICT, O_VERSION };
	static const struct option longopts[] = {
		{ "directory", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "lines", no_argument, NULL, O_LINES },
		{ "max-bytes", required_argument, NULL, O_MAX_BYTES },
		{ "max-entries", required_argument, NULL, O_MAX_ENTRIES },
		{ "max-ratio", required_argument, NULL, O_MAX_RATIO },
		{ "max-window", required_argument, NULL, O_MAX_WINDOW },
		{ "member", required_argument, NULL, O_MEMBER },
		{ "overwrite", no_argument, NULL, O_OVERWRITE },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	size_t nmem = 0;
	int c, rval = EXIT_OK;

	tool_init("logunpack");
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0)
		die(EXIT_FATAL, "stdout is closed");
	u.max_entries = 100000;
	u.max_ratio = 1000;
	u.max_window = 128ULL * MIB;
	while ((c = getopt_long(argc, argv, "C:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			u.target = optarg;
			break;
		case 'h':
			fputs(synopsis, stdout);
			return EXIT_OK;
		case O_LINES:
			u.lines = 1;
			break;
		case O_MAX_BYTES:
			u.max_bytes = size_arg("--max-bytes", optarg);
			if (u.max_bytes == 0)
				die(EXIT_FATAL, "--max-bytes: must be above 0");
			break;
		case O_MAX_ENTRIES:
			u.max_entries = size_arg("--max-entries", optarg);
			break;
		case O_MAX_RATIO:
			u.max_ratio = size_arg("--max-ratio", optarg);
			break;
		case O_MAX_WINDOW:
			u.max_window = size_arg("--max-window", optarg);
			if (u.max_window < 1024)
				die(EXIT_FATAL, "--max-window: at least 1K");
			break;
		case O_MEMBER:
			u.members = xrealloc(u.members, (nmem + 2) * sizeof(*u.members));
			u.members[nmem++] = optarg;
			u.members[nmem] = NULL;
			break;
		case O_OVERWRITE:
			u.overwrite = 1;
			break;
		case O_STRICT:
			u.strict = 1;
			break;
		case O_VERSION:
			printf("logunpack %s\n", LOGKIT_VERSION);
			return EXIT_OK;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (u.lines && (u.target || u.overwrite))
		die(EXIT_FATAL, "--lines writes no files: -C and --overwrite do not apply");
	if (u.target && argc > 1 && !u.overwrite)
		die(EXIT_FATAL, "-C with several archives needs --overwrite (they share the directory)");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (argc == 0)
		rval = from_stdin();
	for (int i = 0; i < argc; i++)
		rval |= unpack(argv[i]);
	lu_flush(&u, 1);
	sb_free(&u.out);
	free(u.members);
	out_close();
	return rval ? EXIT_SOME : EXIT_OK;
}
