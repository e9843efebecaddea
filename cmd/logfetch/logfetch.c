/* logfetch: download run archives into a cache, resumable, verified and safe with credentials. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tool.h"
#include "../../common/jw.h"
#include "../../common/rec.h"
#include "logfetch.h"

static const char synopsis[] =
    "usage: logfetch [-v] [-j jobs] [-o dir] [--run-id id] [--sha256 hex]\n"
    "                [--retries n] [--max-time seconds] [--max-redirs n]\n"
    "                [--connect-timeout seconds] [--user user] [--password-file file]\n"
    "                [--header-file file] [--netrc-file file] [--cacert file]\n"
    "                [--no-fsync] [--progress=auto|json|none] [url ...]\n";

static struct opts o;
static struct job *jobs;
static size_t njobs, capjobs;
static int verbose;

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

static void
flush_or_die(void)
{
	if (fflush(stdout) != 0) {
		if (errno == EPIPE) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		die_errno(EXIT_FATAL, "write error");
	}
}

static long
num_arg(const char *name, const char *s, long lo, long hi)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (*s == '\0' || *e != '\0' || errno || v < lo || v > hi)
		die(EXIT_FATAL, "%s: expected a number from %ld to %ld, not '%s'", name, lo, hi, s);
	return v;
}

/* Lower-case 64-hex-digit copy, or NULL when s is not a SHA-256 digest. */
static char *
sha_arg(const char *s, size_t n)
{
	char *h;

	if (n != 64)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
	h = xmalloc(65);
	for (size_t i = 0; i < n; i++)
		h[i] = (char)tolower((unsigned char)s[i]);
	h[64] = '\0';
	return h;
}

/* mkdir -p */
static int
mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* The cache file name: the last path segment of url, decoded; NULL when unusable. */
static char *
file_name(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *name = NULL, *seg;
	int len = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		seg = strrchr(path, '/');
		seg = seg ? seg + 1 : path;
		name = curl_easy_unescape(NULL, seg, 0, &len);
	}
	curl_free(path);
	curl_url_cleanup(u);
	if (name && (len == 0 || (int)strlen(name) != len || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '.')) {
		curl_free(name);
		name = NULL;
	}
	if (name) {
		char *n = xstrdup(name);

		curl_free(name);
		return n;
	}
	return NULL;
}

static char *
join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = xmalloc(n);

	snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static void
add_job(const char *url, const char *sha, int from_argv)
{
	struct job *j;
	char *name, *dir, *scheme = NULL;
	CURLU *u;

	if (njobs == capjobs) {
		capjobs = capjobs ? 2 * capjobs : 16;
		jobs = xrealloc(jobs, capjobs * sizeof(*jobs));
	}
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->lockfd = -1;
	j->url = xstrdup(url);
	j->cur = xstrdup(url);
	j->from_argv = from_argv;
	j->cred = o.cred;
	j->cred.origin = NULL;
	j->st = J_WAIT;
	j->status = "failed";
	j->path = j->part = j->meta = j->partmeta = j->lock = NULL;
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(j->err, sizeof(j->err), "malformed URL");
		j->st = J_DONE;
	} else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0 &&
	    !(from_argv && strcasecmp(scheme, "file") == 0)) {
		snprintf(j->err, sizeof(j->err), "scheme '%s' not allowed%s", scheme,
		    strcasecmp(scheme, "file") == 0 ? " (file: only on the command line)" : "");
		j->st = J_DONE;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	if (j->st != J_DONE && sha && (j->want_sha = sha_arg(sha, strlen(sha))) == NULL) {
		snprintf(j->err, sizeof(j->err), "not a SHA-256 digest: '%.80s'", sha);
		j->st = J_DONE;
	}
	if (j->st == J_DONE)
		return;
	if ((name = file_name(url)) == NULL) {
		snprintf(j->err, sizeof(j->err), "no file name in the URL path");
		j->st = J_DONE;
		return;
	}
	dir = o.run_id ? join(o.outdir, "/", o.run_id) : xstrdup(o.outdir);
	j->path = join(dir, "/", name);
	j->part = join(j->path, ".part", "");
	{
		char *dot = join(dir, "/.", name);

		j->meta = join(dot, ".meta", "");
		j->partmeta = join(dot, ".part.meta", "");
		j->lock = join(dot, ".lock", "");
		free(dot);
	}
	free(name);
	for (size_t i = 0; i + 1 < njobs; i++) {
		if (jobs[i].path && strcmp(jobs[i].path, j->path) == 0) {
			snprintf(j->err, sizeof(j->err), "same cache file as %.200s", jobs[i].url);
			j->st = J_DONE;
			break;
		}
	}
	if (j->st != J_DONE && mkdirs(dir) < 0) {
		snprintf(j->err, sizeof(j->err), "%s: %s", dir, strerror(errno));
		j->st = J_DONE;
	}
	free(dir);
	if (j->st != J_DONE && http_cred_bind(&j->cred, url, j->err, sizeof(j->err)) < 0)
		j->st = J_DONE;
}

/* The last job failed on its input line already: its message names the line, not a URL. */
static void
mark_line(struct rec_reader *r)
{
	struct job *j = &jobs[njobs - 1];
	char where[64];

	if (j->st != J_DONE || j->where)
		return;
	snprintf(where, sizeof(where), "<stdin>:%llu", rec_lineno(r));
	j->where = xstrdup(where);
}

/* A line that names no URL at all: a failed job (so a result line) with the reason. */
static void
bad_line(struct rec_reader *r, const char *why)
{
	struct job *j;

	add_job("", NULL, 0);
	j = &jobs[njobs - 1];
	snprintf(j->err, sizeof(j->err), "%s", why);
	j->st = J_DONE;
	mark_line(r);
}

/*
 * Records with a url field (and maybe sha256), or "URL [SHA256]" lines.
 * Returns -1 when the input stopped being text (the rest is not read).
 */
static int
read_stdin(void)
{
	struct rec_reader r;
	struct json_object *obj;
	const char *p;
	int rc, bad = 0;

	if (rec_reader_init(&r, STDIN_FILENO, "<stdin>") < 0)
		die_errno(EXIT_FATAL, "<stdin>");
	while ((rc = rec_read(&r, &obj)) > 0) {
		if (obj) {
			const char *url = rec_get_str(obj, "url", NULL);
			const char *sha = rec_get_str(obj, "sha256", NULL);

			if (url == NULL) {
				bad_line(&r, "record without a url field");
			} else {
				add_job(url, sha, 0);
				mark_line(&r);
			}
			json_object_put(obj);
			continue;
		}
		if (memchr(r.line, '\0', r.len)) {
			/* An archive piped in by mistake: one message, not one per "line". */
			warn_msg("<stdin>:%llu: binary data, not URLs or records; stopped reading",
			    rec_lineno(&r));
			bad = -1;
			break;
		}
		for (p = r.line; p < r.line + r.len && (*p == ' ' || *p == '\t'); p++)
			;
		if (p < r.line + r.len && *p == '{') {
			/* r.err is "<stdin>:N: what": keep the what. */
			const char *what = strstr(r.err, ": ");

			bad_line(&r, what ? what + 2 : "malformed JSON record");
			continue;
		}
		/* A plain line: URL, optionally followed by its digest. */
		char *line = xmalloc(r.len + 1), *url, *sha, *save = NULL;

		memcpy(line, r.line, r.len);
		line[r.len] = '\0';
		url = strtok_r(line, " \t", &save);
		sha = url ? strtok_r(NULL, " \t", &save) : NULL;
		if (sha && strtok_r(NULL, " \t", &save)) {
			add_job(url, NULL, 0);
			snprintf(jobs[njobs - 1].err, sizeof(jobs[0].err), "expected 'URL [SHA256]'");
			jobs[njobs - 1].st = J_DONE;
			mark_line(&r);
		} else if (url && url[0] != '#') {
			add_job(url, sha, 0);
			mark_line(&r);
		}
		free(line);
	}
	if (rc < 0)
		die_errno(EXIT_FATAL, "<stdin>");
	rec_reader_free(&r);
	return bad;
}

void
emit_record(const struct job *j)
{
	struct sb sb = SB_INIT;
	struct jw w;
	double secs = (double)(prog_now() - j->start_ns) / 1e9;
	int failed = strcmp(j->status, "failed") == 0;

	progress_clear();
	/* A URL of megabytes (a bad input line) is cut in messages, not in the record. */
	if (failed && j->where && j->url[0])
		warn_msg("%s: %.300s%s: %s", j->where, j->url, strlen(j->url) > 300 ? "..." : "",
		    j->err);
	else if (failed && j->where)
		warn_msg("%s: %s", j->where, j->err);
	else if (failed)
		warn_msg("%.300s%s: %s", j->url, strlen(j->url) > 300 ? "..." : "", j->err);
	else if (verbose)
		warn_msg("%.300s%s: %s", j->url, strlen(j->url) > 300 ? "..." : "", j->status);
	jw_begin(&w, &sb);
	if (j->url[0])
		jw_field_cstr(&w, "url", j->url);
	else
		jw_field_raw(&w, "url", "null", 4);
	if (j->path)
		jw_field_cstr(&w, "path", j->path);
	else
		jw_field_raw(&w, "path", "null", 4);
	jw_field_i64(&w, "bytes", failed ? 0 : (int64_t)j->bytes);
	jw_field_cstr(&w, "status", j->status);
	if (!failed && j->sha_hex[0])
		jw_field_cstr(&w, "sha256", j->sha_hex);
	else
		jw_field_raw(&w, "sha256", "null", 4);
	if (j->http_status)
		jw_field_i64(&w, "http_status", j->http_status);
	else
		jw_field_raw(&w, "http_status", "null", 4);
	jw_field_double(&w, "seconds", (double)(long long)(secs * 1000) / 1000);
	if (failed)
		jw_field_cstr(&w, "error", j->err);
	else
		jw_field_raw(&w, "error", "null", 4);
	if (jw_end(&w) < 0 || sb_addc(&sb, '\n') < 0)
		die(EXIT_FATAL, "out of memory");
	out_write(sb.buf, sb.len);
	flush_or_die();
	sb_free(&sb);
}

static void
read_secret_or_die(const char *path, struct sb *out)
{
	char err[300] = "";

	if (http_read_secret(path, out, err, sizeof(err)) < 0) {
		if (err[0])
			die(EXIT_FATAL, "%s", err);
		die_errno(EXIT_FATAL, "%s", path);
	}
}

int
main(int argc, char **argv)
{
	enum { O_CACERT = 256, O_CONNECT_TIMEOUT, O_HEADER_FILE, O_HELP, O_MAX_REDIRS,
	    O_MAX_TIME, O_NETRC_FILE, O_NO_FSYNC, O_PASSWORD_FILE, O_PROGRESS, O_RETRIES, O_RUN_ID,
	    O_SHA256, O_USER, O_VERSION };
	static const struct option longopts[] = {
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },
		{ "header-file", required_argument, NULL, O_HEADER_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "max-redirs", required_argument, NULL, O_MAX_REDIRS },
		{ "max-time", required_argument, NULL, O_MAX_TIME },
		{ "netrc-file", required_argument, NULL, O_NETRC_FILE },
		{ "no-fsync", no_argument, NULL, O_NO_FSYNC },
		{ "output", required_argument, NULL, 'o' },
		{ "password-file", required_argument, NULL, O_PASSWORD_FILE },
		{ "progress", required_argument, NULL, O_PROGRESS },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "run-id", required_argument, NULL, O_RUN_ID },
		{ "sha256", required_argument, NULL, O_SHA256 },
		{ "user", required_argument, NULL, O_USER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *pwfile = NULL, *sha = NULL, *env;
	struct sb pw = SB_INIT;
	char err[300] = "", *e;
	int c, rval = EXIT_OK;

	tool_init("logfetch");
	/* A closed stdout would make the first file we open fd 1: refuse it. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0)
		die(EXIT_FATAL, "stdout is closed");
	o.outdir = "cache";
	o.jobs = 4;
	o.retries = 5;
	o.max_redirs = 5;
	o.retry_base_ms = 500;
	o.http.user_agent = "logfetch/" LOGKIT_VERSION;
	if ((env = getenv("LOGFETCH_RETRY_BASE_MS")) != NULL)
		o.retry_base_ms = num_arg("LOGFETCH_RETRY_BASE_MS", env, 1, 600000);
	while ((c = getopt_long(argc, argv, "hj:o:v", longopts, NULL)) != -1) {
		switch (c) {
		case O_CACERT:
			o.http.cacert = optarg;
			break;
		case O_CONNECT_TIMEOUT:
			o.http.connect_timeout = num_arg("--connect-timeout", optarg, 1, 3600);
			break;
		case O_HEADER_FILE:
			if (http_read_headers(optarg, &o.cred.headers, err, sizeof(err)) < 0) {
				if (err[0])
					die(EXIT_FATAL, "%s", err);
				die_errno(EXIT_FATAL, "%s", optarg);
			}
			break;
		case 'h':
			fputs(synopsis, stdout);
			return EXIT_OK;
		case 'j':
			o.jobs = num_arg("-j", optarg, 1, 64);
			break;
		case O_MAX_REDIRS:
			o.max_redirs = num_arg("--max-redirs", optarg, 0, 50);
			break;
		case O_MAX_TIME:
			errno = 0;
			o.max_time = strtod(optarg, &e);
			if (*optarg == '\0' || *e || errno || !(o.max_time > 0))
				die(EXIT_FATAL, "--max-time: expected seconds > 0, not '%s'", optarg);
			break;
		case O_NETRC_FILE:
			if (access(optarg, R_OK) < 0)
				die_errno(EXIT_FATAL, "%s", optarg);
			o.cred.netrc_file = xstrdup(optarg);
			break;
		case O_NO_FSYNC:
			o.no_fsync = 1;
			break;
		case 'o':
			o.outdir = optarg;
			break;
		case O_PASSWORD_FILE:
			pwfile = optarg;
			break;
		case O_PROGRESS:
			if (strcmp(optarg, "auto") == 0)
				o.progress = PROG_AUTO;
			else if (strcmp(optarg, "json") == 0)
				o.progress = PROG_JSON;
			else if (strcmp(optarg, "none") == 0)
				o.progress = PROG_NONE;
			else
				usage();
			break;
		case O_RETRIES:
			o.retries = num_arg("--retries", optarg, 0, 100);
			break;
		case O_RUN_ID:
			o.run_id = optarg;
			if (!*optarg || strchr(optarg, '/') || strcmp(optarg, ".") == 0 ||
			    strcmp(optarg, "..") == 0)
				die(EXIT_FATAL, "--run-id: '%s' cannot be a directory name", optarg);
			break;
		case O_SHA256:
			sha = optarg;
			break;
		case O_USER:
			user = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case O_VERSION:
			printf("logfetch %s\n", LOGKIT_VERSION);
			return EXIT_OK;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sha && argc != 1)
		die(EXIT_FATAL, "--sha256 needs exactly one URL (give 'url sha256' lines on stdin for more)");
	if (sha && (e = sha_arg(sha, strlen(sha))) == NULL)
		die(EXIT_FATAL, "--sha256: not a SHA-256 digest: '%s'", sha);
	else if (sha)
		free(e);
	if (user) {
		/* The password comes from a file or the environment, never argv. */
		if (pwfile)
			read_secret_or_die(pwfile, &pw);
		else if ((env = getenv("LOGFETCH_PASSWORD")) != NULL)
			sb_adds(&pw, env);
		if (strchr(user, ':') && pw.len == 0)
			warn_msg("--user: a password on the command line is visible to other users; use --password-file");
		o.cred.userpwd = pw.len ? join(user, ":", pw.buf) : xstrdup(user);
		if (pw.buf)
			memset(pw.buf, 0, pw.len);
		sb_free(&pw);
	} else if (pwfile) {
		die(EXIT_FATAL, "--password-file needs --user");
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EXIT_FATAL, "libcurl: global init failed");
	if (argc == 0 && read_stdin() < 0)
		rval = EXIT_SOME;
	for (int i = 0; i < argc; i++)
		add_job(argv[i], sha, 1);
	fetch_all(&o, jobs, njobs);
	for (size_t i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (strcmp(j->status, "failed") == 0)
			rval = EXIT_SOME;
		free(j->url);
		free(j->where);
		free(j->cur);
		free(j->want_sha);
		free(j->path);
		free(j->part);
		free(j->meta);
		free(j->partmeta);
		free(j->lock);
		free(j->cred.origin);
	}
	free(jobs);
	http_cred_free(&o.cred);
	curl_global_cleanup();
	out_close();
	return rval;
}
