/* logunpack: unpack run archives safely, or stream their text members as records. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tool.h"
#include "../../common/rec.h"
#include "logunpack.h"

static const char synopsis[] =
    "usage: logunpack [--lines] [--member glob] [-C dir] [--overwrite] [--strict]\n"
    "                 [--max-bytes n] [--max-entries n] [--max-ratio n]\n"
    "                 [--max-window n] [archive ...]\n";


static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

static struct lu u;

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

const char *
lu_member(struct lu *x, struct archive *a, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char why[128];

	if (archive_format(a) == ARCHIVE_FORMAT_RAW) {
		/*
		 * libarchive's raw format takes any bytes at all: only a
		 * compressed stream is a "single compressed file".  Random
		 * data named R.tar.zst is an error, not a member.
		 */
		if (!x->compressed && archive_filter_count(a) <= 1) {
			warn_msg("%s: not an archive or a compressed file (tar, zip, zstd, "
			    "gzip, xz, bzip2, lz4)", x->name);
			x->refused++;
			x->stop = 1;
			return NULL;
		}
		name = x->rawname;
	}
	if (name == NULL)
		name = "";
	snprintf(x->last_member, sizeof(x->last_member), "%s", name);
	if (++x->entries > x->max_entries) {
		snprintf(why, sizeof(why), "more than %llu entries (--max-entries)",
		    (unsigned long long)x->max_entries);
		lu_refuse(x, name, why);
		x->stop = 1;
		return NULL;
	}
	return name;
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
	if (src_open(&s, fd, &u) < 0) {
		warn_errno("%s", u.name);
		if (fd != STDIN_FILENO)
			close(fd);
		return 1;
	}
	u.compressed = s.zstd == 1;
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
		rc = lines_archive(&u, a) < 0 || u.refused;
	} else {
		rc = extract_archive(&u, a, target, made) < 0 || u.refused;
	}
	archive_read_free(a);
	/* A directory we made and left empty (nothing usable came out) goes too. */
	if (made && rc)
		rmdir(target);
	if (u.strict && rc) {
		/* The archive was rolled back: no records for it. */
		if (u.lines)
			warn_msg("%s: refused as a whole (--strict); no records", u.name);
		u.out.len = 0;
	}
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
			rval = 1;
			if (memchr(r.line, '\0', r.len)) {
				/* `curl ... | logunpack`: one warning, not one per "line" of a tar. */
				warn_msg("<stdin>:%llu: binary data, not JSON records (read an archive "
				    "from standard input with '-')", rec_lineno(&r));
				break;
			}
			warn_msg("%s", r.err);
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
