/* run.c: one rsync run (posix_spawn, watchdog, itemize parsing, error mapping). */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/jw.h"
#include "../../common/sb.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logsync.h"

/* rsync prints this before each itemized name (--out-format), so the
   lines we parse cannot be confused with its other chatter on stdout. */
#define MARK "LSYNC "

extern char **environ;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Start argv[0] (the program at path, when not NULL; else as execvp finds
 * it) with stdin from /dev/null and stdout/stderr on pipes, in a process
 * group of its own so the watchdog can kill rsync and its ssh together.
 * posix_spawn, not fork: the child does not copy our page tables first,
 * and a program that cannot start is an errno here, not a message on its
 * stderr.  Returns the pid or -1 with errno.
 */
static pid_t
spawn(const char *path, char *const argv[], int *outfd, int *errfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int op[2], ep[2], e;
	pid_t pid;

	if (pipe2(op, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		e = errno;
		close(op[0]);
		close(op[1]);
		errno = e;
		return -1;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGUSR1);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* dup2 clears close-on-exec on the copies; the originals close at exec */
	if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, op[1], 1)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, ep[1], 2)) == 0 &&
	    (e = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&at, &dfl)) == 0 &&
	    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) == 0)
		e = path ? posix_spawn(&pid, path, &fa, &at, argv, environ) :
		    posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(op[1]);
	close(ep[1]);
	if (e != 0) {
		close(op[0]);
		close(ep[0]);
		errno = e;
		return -1;
	}
	*outfd = op[0];
	*errfd = ep[0];
	return pid;
}

/*
 * Run argv to the end with a time limit; its stdout (fd 1) or stderr
 * (fd 2) into out, the other stream dropped.  Exit status or -1; 127
 * when the program is missing, 126 when it cannot be run.
 */
static int
capture(char *const argv[], struct sb *out, int limit_s, int fd)
{
	int ofd, efd, status;
	int64_t deadline = now_ms() + limit_s * 1000;
	pid_t pid = spawn(NULL, argv, &ofd, &efd);
	char buf[4096];

	if (pid < 0)
		return errno == ENOENT ? 127 : 126;	/* as a shell says it */
	if (fd == 2) {
		int t = ofd;
		ofd = efd;
		efd = t;
	}
	close(efd);
	for (;;) {
		fd_set rf;
		struct timespec ts = { 0, 200 * 1000000L };
		ssize_t n;

		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			break;
		}
		FD_ZERO(&rf);
		FD_SET(ofd, &rf);
		if (pselect(ofd + 1, &rf, NULL, NULL, &ts, NULL) <= 0)
			continue;
		if ((n = read(ofd, buf, sizeof(buf))) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		if (out->len < 65536 && sb_add(out, buf, (size_t)n) < 0)
			break;
	}
	close(ofd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * rsync 3.4.0 fixed CVE-2024-12084..12088; the client-side ones
 * (12087: a malicious server writes outside the destination, 12088:
 * --safe-links bypass) matter here.  Distributions backported the fixes
 * without changing what `rsync --version` prints, so below 3.4.0 the
 * Debian package version decides, and only for /usr/bin/rsync.
 */
static const struct {
	const char *upstream, *fixed;
} debian_fixed[] = {
	{ "3.2.7", "3.2.7-1+deb12u1" },	/* bookworm, DSA-5833-1 */
};

/* The program rsync_check_version looked at: the one each run then starts ("" unknown). */
static char rsync_real[PATH_MAX];

/* The real path of the program execvp would run for name, into real. */
static int
find_program(const char *name, char real[PATH_MAX])
{
	const char *path = getenv("PATH"), *p, *e;
	struct sb cand = SB_INIT;
	int rc = -1;

	if (strchr(name, '/'))
		return realpath(name, real) ? 0 : -1;
	for (p = path ? path : "/usr/bin:/bin"; rc < 0 && *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (!e)
			e = p + strlen(p);
		sb_reset(&cand);
		sb_addf(&cand, "%.*s/%s", e == p ? 1 : (int)(e - p), e == p ? "." : p, name);
		if (access(cand.buf, X_OK) == 0 && realpath(cand.buf, real))
			rc = 0;
	}
	sb_free(&cand);
	return rc;
}

/*
 * What identifies the rsync program we would run: its real path and the
 * device, inode, size, mtime and ctime of that file.  A new package (or
 * any replacement) changes it.  -1 when the program is not found.
 */
static int
rsync_stamp(const struct opts *o, struct sb *stamp)
{
	char real[PATH_MAX];
	struct stat st;

	if (find_program(o->rsync, real) < 0 || stat(real, &st) < 0)
		return -1;
	memcpy(rsync_real, real, sizeof(rsync_real));
	sb_reset(stamp);
	return sb_addf(stamp, "logsync-rsync-ok 1 %llu %llu %lld %lld.%09ld %lld.%09ld %s\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, real) < 0 ? -1 : 0;
}

int
rsync_check_version(const struct opts *o, const char *cache, struct sb *stamp,
    char *err, size_t errsz)
{
	char *vargv[] = { (char *)o->rsync, (char *)"--version", NULL };
	struct sb out = SB_INIT, pkg = SB_INIT;
	char ver[64] = "", real[PATH_MAX], *p, old[PATH_MAX + 128];
	unsigned a = 0, b = 0, c = 0;
	int rc = -1, st, fd;
	ssize_t n;

	/*
	 * The same program passed before (DEST/.logsync/rsync-ok, written
	 * only by us): skip the exec, which costs a no-change run as much as
	 * a tenth of its time.
	 */
	if (rsync_stamp(o, stamp) < 0)
		sb_reset(stamp);
	else if ((fd = open(cache, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, old, sizeof(old));
		close(fd);
		if (n > 0 && (size_t)n == stamp->len && memcmp(old, stamp->buf, stamp->len) == 0) {
			sb_reset(stamp);	/* nothing to rewrite */
			return 0;
		}
	}
	if ((st = capture(vargv, &out, 10, 1)) != 0 || !out.buf) {
		snprintf(err, errsz, "%s --version failed (%s)", o->rsync,
		    st == 127 ? "not found" : st == 126 ? "cannot run it" : "no version");
		goto out;
	}
	/*
	 * "rsync  version 3.2.7  protocol version 31"; a build from git says
	 * "version v3.4.1-12-gabcdef".
	 */
	if ((p = strstr(out.buf, "version ")) == NULL ||
	    sscanf(p + 8, "%63s", ver) != 1 ||
	    sscanf(ver + (ver[0] == 'v'), "%u.%u.%u", &a, &b, &c) < 2) {
		snprintf(err, errsz, "%s --version: cannot find the version", o->rsync);
		goto out;
	}
	if (a > 3 || (a == 3 && b >= 4)) {
		rc = 0;
		goto out;
	}
	if (o->allow_old) {
		warn_msg("rsync %s lacks the CVE-2024-12087/12088 fixes; going on (--allow-old-rsync)", ver);
		sb_reset(stamp);	/* allowed, not passed: ask again next time */
		rc = 0;
		goto out;
	}
	/* A Debian backport?  Ask dpkg about the file we are about to run. */
	if (find_program(o->rsync, real) < 0)
		real[0] = '\0';
	if (strcmp(real, "/usr/bin/rsync") == 0) {
		char *qargv[] = { (char *)"dpkg-query", (char *)"-W", (char *)"-f=${Version}",
		    (char *)"rsync", NULL };
		if (capture(qargv, &pkg, 10, 1) == 0 && pkg.buf) {
			for (size_t i = 0; i < sizeof(debian_fixed) / sizeof(*debian_fixed); i++) {
				size_t ul = strlen(debian_fixed[i].upstream);
				char *cargv[] = { (char *)"dpkg", (char *)"--compare-versions",
				    pkg.buf, (char *)"ge", (char *)debian_fixed[i].fixed, NULL };
				struct sb dummy = SB_INIT;
				int ge;

				if (strcmp(ver, debian_fixed[i].upstream) != 0 ||
				    strncmp(pkg.buf, debian_fixed[i].upstream, ul) != 0 ||
				    pkg.buf[ul] != '-')
					continue;
				ge = capture(cargv, &dummy, 10, 1);
				sb_free(&dummy);
				if (ge == 0) {
					rc = 0;
					goto out;
				}
			}
		}
	}
	snprintf(err, errsz, "rsync %s%s%s (%s) lacks the fixes for CVE-2024-12087/12088 "
	    "(need 3.4.0 or a patched Debian package such as 3.2.7-1+deb12u1); "
	    "--allow-old-rsync overrides", ver, pkg.buf ? ", package " : "",
	    pkg.buf ? pkg.buf : "", real[0] ? real : o->rsync);
out:
	if (rc < 0)
		sb_reset(stamp);
	sb_free(&out);
	sb_free(&pkg);
	return rc;
}

int
rsync_check_opts(const struct opts *o, char *err, size_t errsz)
{
	const char **av;
	struct sb ms = SB_INIT, bw = SB_INIT, msg = SB_INIT;
	char *nl, *m;
	int n = 0, st, rc = 0;

	/*
	 * rsync parses --max-size, --bwlimit and filter rules itself; a bad
	 * one would fail every source alike.  Ask it once, before anything
	 * runs, with a listing of /dev/null that reads nothing.
	 */
	if (!o->max_size && !o->bwlimit && !o->nfilters)
		return 0;
	av = xcalloc((size_t)o->nfilters + 8, sizeof(*av));
	av[n++] = o->rsync;
	av[n++] = "--list-only";
	if (o->max_size) {
		sb_addf(&ms, "--max-size=%s", o->max_size);
		av[n++] = ms.buf;
	}
	if (o->bwlimit) {
		sb_addf(&bw, "--bwlimit=%s", o->bwlimit);
		av[n++] = bw.buf;
	}
	for (int i = 0; i < o->nfilters; i++)
		av[n++] = o->filters[i];
	av[n++] = "--";
	av[n++] = "/dev/null";
	av[n] = NULL;
	if ((st = capture((char *const *)av, &msg, 10, 2)) != 0) {
		/* its first line: "rsync: --max-size=1x is invalid" */
		m = msg.buf ? msg.buf : (char *)"";
		if ((nl = strchr(m, '\n')) != NULL)
			*nl = '\0';
		if (strncmp(m, "rsync: ", 7) == 0)
			m += 7;
		snprintf(err, errsz, "rsync refuses the options: %s",
		    *m ? m : st == 127 ? "cannot run rsync" : "no reason given");
		rc = -1;
	}
	free(av);
	sb_free(&ms);
	sb_free(&bw);
	sb_free(&msg);
	return rc;
}

int
source_parse(struct source *s, const char *arg, char *err, size_t errsz)
{
	const char *colon = NULL, *p, *h, *he;

	memset(s, 0, sizeof(*s));
	s->arg = arg;
	/* rsync's rule: a ':' before the first '/' makes a remote source. */
	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');
		if (rb && rb[1] == ':')
			colon = rb + 1;
	} else {
		for (p = arg; *p && *p != '/'; p++)
			if (*p == ':') {
				colon = p;
				break;
			}
	}
	if (!colon) {
		s->host = xstrdup("localhost");
		s->path = xstrdup(arg);
		return 0;
	}
	if (colon[1] == ':') {
		snprintf(err, errsz, "%s: rsync daemon sources (host::module) are not supported", arg);
		return -1;
	}
	s->remote = 1;
	h = arg;
	for (p = arg; p < colon; p++)
		if (*p == '@')
			h = p + 1;
	he = colon;
	if (*h == '[' && he[-1] == ']') {
		h++;
		he--;
	}
	if (he == h || *h == '.' || *h == '-') {
		snprintf(err, errsz, "%s: bad host name", arg);
		return -1;
	}
	for (p = h; p < he; p++)
		if (!(*p == '.' || *p == '-' || *p == '_' || *p == ':' ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
			snprintf(err, errsz, "%s: bad host name", arg);
			return -1;
		}
	s->host = xmalloc((size_t)(he - h) + 1);
	memcpy(s->host, h, (size_t)(he - h));
	s->host[he - h] = '\0';
	s->path = xstrdup(colon + 1);
	return 0;
}

/* Append s to the -e command line as one argument rsync will split back out. */
static void
rsh_arg(struct sb *cmd, const char *s)
{
	/* rsync splits -e on spaces and honours '...' and "..." (main.c do_cmd). */
	sb_adds(cmd, " '");
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(cmd, "'\"'\"'");
		else
			sb_addc(cmd, *s);
	}
	sb_addc(cmd, '\'');
}

/* rsync writes unprintable name bytes as \#ooo. */
static void
unescape_name(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == '#' && s[2] >= '0' && s[2] <= '3' &&
		    s[3] >= '0' && s[3] <= '7' && s[4] >= '0' && s[4] <= '7') {
			*w++ = (char)((s[2] - '0') * 64 + (s[3] - '0') * 8 + (s[4] - '0'));
			s += 4;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* The whole of one run's bookkeeping. */
struct run {
	const struct opts *o;
	struct source *s;
	struct state *st;
	struct result *r;
	struct sb line;		/* partial stdout line */
	struct sb err;		/* rsync's stderr (the last 16 KiB or so) */
	struct sb json;
	const char *hostdir;	/* DEST/host */
	size_t destlen;		/* strlen(DEST without trailing '/') */
};

/* Report one file rsync listed, if it is new or changed since the state. */
static void
consider(struct run *rn, const char *name)
{
	struct sb full = SB_INIT, remote = SB_INIT;
	const char *rel, *slash;
	struct stat sb;
	struct ent *e;
	struct jw w;
	char tbuf[TS_BUFSZ];
	int64_t mtime;

	sb_addf(&full, "%s/%s", rn->hostdir, name);
	if (lstat(full.buf, &sb) < 0 || !S_ISREG(sb.st_mode))
		goto out;
	mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	rel = full.buf + rn->destlen + 1;
	e = state_get(rn->st, rel);
	if (e && e->size == (int64_t)sb.st_size && e->mtime == mtime)
		goto out;
	/* remote_path: the source path, then the name below it */
	if (rn->s->path[0] && rn->s->path[strlen(rn->s->path) - 1] == '/')
		sb_addf(&remote, "%s%s", rn->s->path, name);
	else if ((slash = strrchr(rn->s->path, '/')) != NULL)
		sb_addf(&remote, "%.*s%s", (int)(slash - rn->s->path + 1), rn->s->path, name);
	else
		sb_adds(&remote, name);
	ts_format(mtime, tbuf);
	sb_reset(&rn->json);
	jw_begin(&w, &rn->json);
	jw_field_cstr(&w, "path", full.buf);
	jw_field_cstr(&w, "host", rn->s->host);
	jw_field_cstr(&w, "remote_path", remote.buf);
	jw_field_i64(&w, "size", (int64_t)sb.st_size);
	jw_field_cstr(&w, "mtime", tbuf);
	jw_field_cstr(&w, "event", e ? "changed" : "new");
	jw_end(&w);
	sb_addc(&rn->json, '\n');
	out_write(rn->json.buf, rn->json.len);
	if (e)
		rn->r->files_changed++;
	else
		rn->r->files_new++;
	if (state_put(rn->st, rel, (int64_t)sb.st_size, mtime) < 0)
		die(EXIT_FATAL, "out of memory");
out:
	sb_free(&full);
	sb_free(&remote);
}

/* Names of the files rsync listed, each NUL-terminated, with kind. */
struct items {
	struct sb names;	/* "Kname\0" where K is 'f' file or 'x' deleted */
};

static void
parse_line(struct run *rn, struct items *it, char *l)
{
	char *name;
	unsigned long long bytes;

	if (strncmp(l, MARK, strlen(MARK)) != 0) {
		if (rn->o->verbose && *l)
			warn_msg("%s: %s", rn->s->host, l);
		return;
	}
	l += strlen(MARK);
	/* "*deleting   NAME" has no %b; "YXcstpoguax BYTES NAME" */
	if (strncmp(l, "*deleting ", 10) == 0) {
		name = l + 10;
		while (*name == ' ' || (*name >= '0' && *name <= '9'))
			name++;
		unescape_name(name);
		sb_addc(&it->names, 'x');
		sb_add(&it->names, name, strlen(name) + 1);
		return;
	}
	if (strlen(l) < 13 || l[11] != ' ')
		return;
	bytes = strtoull(l + 12, &name, 10);
	if (*name != ' ')
		return;
	name++;
	rn->r->bytes += bytes;
	if (l[1] != 'f')
		return;
	unescape_name(name);
	sb_addc(&it->names, 'f');
	sb_add(&it->names, name, strlen(name) + 1);
}

static void
take_output(struct run *rn, struct items *it, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			sb_addc(&rn->line, buf[i]);
			continue;
		}
		if (!rn->line.buf)
			continue;
		parse_line(rn, it, rn->line.buf);
		sb_reset(&rn->line);
	}
}

/* Keep rsync's stderr; a bounded tail is enough to classify the failure. */
static void
take_err(struct run *rn, const char *buf, size_t n)
{
	if (rn->o->verbose && write(2, buf, n) < 0) {
		/* nothing to do about a failing stderr */
	}
	if (rn->err.len > 16384) {
		memmove(rn->err.buf, rn->err.buf + rn->err.len - 8192, 8192);
		rn->err.len = 8192;
		rn->err.buf[8192] = '\0';
	}
	sb_add(&rn->err, buf, n);
}

/* Turn rsync's exit status and stderr into one clear message; 1 if it is success. */
static int
classify(struct run *rn, int status, int killed)
{
	const char *e = rn->err.buf ? rn->err.buf : "";
	char *m = rn->r->msg;
	size_t ms = sizeof(rn->r->msg);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (killed) {
		snprintf(m, ms, "timed out (no response for %d s), rsync and ssh killed",
		    2 * rn->o->timeout + 5);
	} else if (code == 0) {
		return 1;
	} else if (strstr(e, "REMOTE HOST IDENTIFICATION HAS CHANGED")) {
		snprintf(m, ms, "host key mismatch (the host's key is not the one in known_hosts), refused");
	} else if (strstr(e, "Host key verification failed")) {
		snprintf(m, ms, "host key unknown or not verified, refused (add it to known_hosts or use --accept-new-host-keys)");
	} else if (strstr(e, "Permission denied (")) {
		snprintf(m, ms, "authentication failed");
	} else if (strstr(e, "Could not resolve hostname")) {
		snprintf(m, ms, "unknown host");
	} else if (strstr(e, "Connection refused")) {
		snprintf(m, ms, "connection refused");
	} else if (strstr(e, "No route to host") || strstr(e, "Network is unreachable")) {
		snprintf(m, ms, "host unreachable");
	} else if (code == 30 || code == 35 || strstr(e, "timed out") || strstr(e, "Timeout")) {
		snprintf(m, ms, "timed out");
	} else if ((strstr(e, "change_dir") || strstr(e, "link_stat")) &&
	    strstr(e, "No such file or directory")) {
		snprintf(m, ms, "%s path not found (%s)", rn->s->remote ? "remote" : "source",
		    rn->s->path);
	} else if (code == 24) {
		warn_msg("%s: some files vanished while being copied", rn->s->host);
		return 1;
	} else if (code == 23 && strstr(e, "Permission denied")) {
		snprintf(m, ms, "permission denied on some files");
	} else if (code == 11 && strstr(e, "No space left")) {
		snprintf(m, ms, "no space left in the destination");
	} else if (code == 127) {
		snprintf(m, ms, "cannot run %s", rn->o->rsync);
	} else {
		static const struct { int c; const char *what; } codes[] = {
			{ 1, "rsync usage error" }, { 2, "rsync protocol incompatibility" },
			{ 3, "cannot open the source or destination" },
			{ 5, "cannot start the rsync protocol" }, { 10, "socket I/O error" },
			{ 11, "file I/O error" }, { 12, "connection closed (protocol data stream error)" },
			{ 13, "rsync diagnostics error" }, { 14, "rsync IPC error" },
			{ 20, "interrupted" }, { 21, "waitpid error" }, { 22, "out of memory" },
			{ 23, "some files could not be transferred" },
			{ 25, "--max-delete stopped deletions" }, { 255, "ssh failed" },
		};
		const char *what = "failed";
		for (size_t i = 0; i < sizeof(codes) / sizeof(*codes); i++)
			if (codes[i].c == code)
				what = codes[i].what;
		if (code >= 0)
			snprintf(m, ms, "%s (rsync exit %d)", what, code);
		else
			snprintf(m, ms, "rsync killed by signal %d", WTERMSIG(status));
	}
	return 0;
}

static void
build_argv(const struct opts *o, const struct source *s, const char *hostdir,
    struct sb *rsh, const char ***argvp)
{
	const char **av = xcalloc((size_t)o->nfilters + 24, sizeof(*av));
	static char tmo[32], ctmo[48], alive[48];
	int n = 0;

	snprintf(tmo, sizeof(tmo), "--timeout=%d", o->timeout);
	av[n++] = o->rsync;
	/*
	 * -i lists what rsync changed; -ii every file, changed or not, for a
	 * run after one that did not end cleanly (main() decides).
	 * -rlt: recurse, symlinks as symlinks, times.  --safe-links drops
	 * every symlink that is absolute or leads out of the tree; with no
	 * --copy-unsafe-links/--relative/-L nothing is followed.
	 */
	av[n++] = "-rlt";
	av[n++] = "--safe-links";
	av[n++] = o->list_all ? "-ii" : "-i";
	av[n++] = "--out-format=" MARK "%i %b %n";
	av[n++] = tmo;
	if (o->delete_missing)
		av[n++] = "--delete";
	if (o->max_size) {
		static struct sb ms;
		sb_reset(&ms);
		sb_addf(&ms, "--max-size=%s", o->max_size);
		av[n++] = ms.buf;
	}
	if (o->bwlimit) {
		static struct sb bw;
		sb_reset(&bw);
		sb_addf(&bw, "--bwlimit=%s", o->bwlimit);
		av[n++] = bw.buf;
	}
	for (int i = 0; i < o->nfilters; i++)
		av[n++] = o->filters[i];
	if (s->remote) {
		snprintf(ctmo, sizeof(ctmo), "ConnectTimeout=%d", o->timeout);
		snprintf(alive, sizeof(alive), "ServerAliveInterval=%d",
		    o->timeout / 3 > 0 ? o->timeout / 3 : 1);
		sb_reset(rsh);
		sb_adds(rsh, "--rsh=");
		rsh_arg(rsh, o->ssh);
		/* Options on the command line win over any ssh_config: checking stays on. */
		rsh_arg(rsh, "-o"); rsh_arg(rsh, "BatchMode=yes");
		rsh_arg(rsh, "-o");
		rsh_arg(rsh, o->accept_new ? "StrictHostKeyChecking=accept-new" :
		    "StrictHostKeyChecking=yes");
		rsh_arg(rsh, "-o"); rsh_arg(rsh, ctmo);
		rsh_arg(rsh, "-o"); rsh_arg(rsh, alive);
		rsh_arg(rsh, "-o"); rsh_arg(rsh, "ServerAliveCountMax=3");
		if (o->known_hosts) {
			struct sb kh = SB_INIT;
			sb_addf(&kh, "UserKnownHostsFile=%s", o->known_hosts);
			rsh_arg(rsh, "-o"); rsh_arg(rsh, kh.buf);
			sb_free(&kh);
		}
		if (o->port) {
			rsh_arg(rsh, "-p"); rsh_arg(rsh, o->port);
		}
		if (o->identity) {
			rsh_arg(rsh, "-i"); rsh_arg(rsh, o->identity);
			rsh_arg(rsh, "-o"); rsh_arg(rsh, "IdentitiesOnly=yes");
		}
		if (o->ssh_config) {
			rsh_arg(rsh, "-F"); rsh_arg(rsh, o->ssh_config);
		}
		av[n++] = rsh->buf;
	}
	av[n++] = "--";
	av[n++] = s->arg;
	av[n++] = hostdir;
	av[n] = NULL;
	*argvp = av;
}

void
sync_source(const struct opts *o, struct source *s, struct state *st, struct result *r)
{
	struct run rn = { o, s, st, r, SB_INIT, SB_INIT, SB_INIT, NULL, 0 };
	struct items it = { SB_INIT };
	struct sb hostdir = SB_INIT, rsh = SB_INIT;
	const char **av = NULL;
	int ofd, efd, status, killed = 0, open_fds = 2;
	int64_t last, kill_at = 0, limit;
	char buf[65536];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	rn.destlen = strlen(o->dest);
	while (rn.destlen > 1 && o->dest[rn.destlen - 1] == '/')
		rn.destlen--;
	sb_addf(&hostdir, "%.*s/%s", (int)rn.destlen, o->dest, s->host);
	rn.hostdir = hostdir.buf;
	if (mkdir(hostdir.buf, 0755) < 0 && errno != EEXIST) {
		snprintf(r->msg, sizeof(r->msg), "%s: %s", hostdir.buf, strerror(errno));
		goto out;
	}
	build_argv(o, s, hostdir.buf, &rsh, &av);
	if ((pid = spawn(rsync_real[0] ? rsync_real : NULL, (char *const *)av, &ofd, &efd)) < 0) {
		snprintf(r->msg, sizeof(r->msg), "cannot start %s: %s", o->rsync, strerror(errno));
		goto out;
	}
	/* the state is needed only once rsync is done: read it while rsync works */
	if (!st->loaded) {
		char err[4400];

		if (state_load(st, o->state, err, sizeof(err)) < 0) {
			kill(-pid, SIGTERM);
			die(EXIT_FATAL, "%s", err);
		}
		st->loaded = 1;
	}
	/* Our watchdog, behind rsync --timeout and ssh's ConnectTimeout/ServerAlive. */
	limit = (int64_t)(2 * o->timeout + 5) * 1000;
	last = now_ms();
	while (open_fds > 0) {
		struct timespec ts = { 0, 250 * 1000000L };
		fd_set rf;
		int m = -1;

		FD_ZERO(&rf);
		if (ofd >= 0) { FD_SET(ofd, &rf); m = ofd; }
		if (efd >= 0) { FD_SET(efd, &rf); if (efd > m) m = efd; }
		if (pselect(m + 1, &rf, NULL, NULL, &ts, &wait_mask) > 0) {
			int fds[2] = { ofd, efd };
			for (int i = 0; i < 2; i++) {
				ssize_t n;
				if (fds[i] < 0 || !FD_ISSET(fds[i], &rf))
					continue;
				n = read(fds[i], buf, sizeof(buf));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					close(fds[i]);
					if (i == 0) ofd = -1; else efd = -1;
					open_fds--;
					continue;
				}
				last = now_ms();
				if (i == 0)
					take_output(&rn, &it, buf, (size_t)n);
				else
					take_err(&rn, buf, (size_t)n);
			}
		}
		if (kill_at == 0 && (got_int || now_ms() - last > limit)) {
			killed = !got_int;
			kill(-pid, SIGTERM);
			kill_at = now_ms() + 2000;
		} else if (kill_at && now_ms() > kill_at) {
			kill(-pid, SIGKILL);
			kill_at = INT64_MAX;
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 0x7f00;
			break;
		}
	if (rn.line.len)
		parse_line(&rn, &it, rn.line.buf);
	r->ok = classify(&rn, status, killed);
	if (got_int && !killed)
		snprintf(r->msg, sizeof(r->msg), "interrupted");
	/* Even a failed run may have copied files: report what is there. */
	for (size_t i = 0; i < it.names.len;) {
		char kind = it.names.buf[i];
		const char *name = it.names.buf + i + 1;
		i += strlen(name) + 2;
		if (kind == 'f') {
			consider(&rn, name);
		} else {
			struct sb rel = SB_INIT;
			sb_addf(&rel, "%s/%s", s->host, name);
			state_del(st, rel.buf);
			sb_free(&rel);
		}
	}
	if (fflush(stdout) == EOF)
		die_errno(EXIT_FATAL, "stdout");
out:
	free(av);
	sb_free(&hostdir);
	sb_free(&rsh);
	sb_free(&it.names);
	sb_free(&rn.line);
	sb_free(&rn.err);
	sb_free(&rn.json);
}
