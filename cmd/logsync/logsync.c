/* logsync: pull log files from hosts with rsync over ssh; print what is new or changed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/afile.h"
#include "../../common/jw.h"
#include "../../common/sb.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logsync.h"

volatile sig_atomic_t got_usr1, got_term, got_int;
sigset_t wait_mask;

static const char synopsis[] =
    "usage: logsync --dest DIR [--once | --interval SECS] [--state FILE]\n"
    "               [--port N] [--identity FILE] [--ssh-config FILE]\n"
    "               [--known-hosts FILE] [--accept-new-host-keys]\n"
    "               [--include PAT] [--exclude PAT] [--max-size SIZE]\n"
    "               [--bwlimit RATE] [--timeout SECS] [--delete-missing]\n"
    "               [--allow-old-rsync] [-v] SOURCE...\n"
    "       logsync --dest DIR --status\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGTERM)
		got_term = 1;
	else
		got_int = 1;
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Seconds: "90", or a duration "5m", "1h30m".  -1 when malformed. */
static int
parse_secs(const char *s)
{
	int64_t ns;
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s && *end == '\0' && !errno && v > 0 && v < 86400 * 365)
		return (int)v;
	if (ts_parse_duration(s, strlen(s), &ns) == strlen(s) && ns >= 1000000000 &&
	    ns < (int64_t)86400 * 365 * 1000000000)
		return (int)(ns / 1000000000);
	return -1;
}

static void
mkdirs(const char *dir)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die_errno(EXIT_FATAL, "%s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die_errno(EXIT_FATAL, "%s", p);
	free(p);
}

/*
 * One logsync per DEST: an fcntl lock on DEST/.logsync/lock, which the
 * kernel drops when we die, holding our pid for the next one to name.
 */
static void
lock_dest(const char *dest, const char *file)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char pid[32];
	int fd, n;

	if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die_errno(EXIT_FATAL, "%s", file);
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			die_errno(EXIT_FATAL, "%s", file);
		fl.l_type = F_WRLCK;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			die(EXIT_FATAL, "%s: locked by another logsync (pid %ld)", dest,
			    (long)fl.l_pid);
		die(EXIT_FATAL, "%s: locked by another logsync", dest);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		die_errno(EXIT_FATAL, "%s", file);
	/* fd stays open (and locked) until we exit */
}

/*
 * Replace file with buf (temp file and rename, so a reader never sees
 * half); a failure only warns.  No fsync: what goes through here is
 * rewritten every run (the status) or merely saves work (rsync-ok), and
 * the fsync cost more than the rest of a no-change run's overhead.
 */
static void
write_file(const char *file, const char *buf, size_t len)
{
	if (afile_write(file, buf, len, 0644, AFILE_NOSYNC) < 0)
		warn_errno("%s", file);
}

/* Write the run's status. */
static void
write_status(const char *file, struct source *src, struct result *res, int nsrc,
    int64_t start, int64_t end, int64_t next)
{
	struct sb out = SB_INIT;
	uint64_t fn = 0, fc = 0, bytes = 0, errs = 0;
	char tbuf[TS_BUFSZ];
	struct jw w, sw;

	for (int i = 0; i < nsrc; i++) {
		fn += res[i].files_new;
		fc += res[i].files_changed;
		bytes += res[i].bytes;
		errs += !res[i].ok;
	}
	jw_begin(&w, &out);
	ts_format(start, tbuf);
	jw_field_cstr(&w, "time", tbuf);
	jw_field_double(&w, "duration", (double)(end - start) / 1e9);
	jw_field_u64(&w, "files_new", fn);
	jw_field_u64(&w, "files_changed", fc);
	jw_field_u64(&w, "bytes", bytes);
	jw_field_u64(&w, "errors", errs);
	if (next) {
		ts_format(next, tbuf);
		jw_field_cstr(&w, "next_run", tbuf);
	} else
		jw_field_raw(&w, "next_run", "null", 4);
	jw_field_i64(&w, "pid", (int64_t)getpid());
	jw_key(&w, "sources");
	sb_addc(&out, '[');
	for (int i = 0; i < nsrc; i++) {
		if (i)
			sb_addc(&out, ',');
		jw_begin(&sw, &out);
		jw_field_cstr(&sw, "source", src[i].arg);
		jw_field_cstr(&sw, "host", src[i].host);
		jw_field_bool(&sw, "ok", res[i].ok);
		jw_field_u64(&sw, "files_new", res[i].files_new);
		jw_field_u64(&sw, "files_changed", res[i].files_changed);
		jw_field_u64(&sw, "bytes", res[i].bytes);
		if (!res[i].ok)
			jw_field_cstr(&sw, "error", res[i].msg);
		jw_end(&sw);
	}
	sb_addc(&out, ']');
	jw_end(&w);
	sb_addc(&out, '\n');
	write_file(file, out.buf, out.len);
	sb_free(&out);
}

static int
show_status(const char *file, const char *dest)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(file, O_RDONLY)) < 0) {
		if (errno == ENOENT) {
			warn_msg("%s: no run recorded yet", dest);
			return EXIT_SOME;
		}
		die_errno(EXIT_FATAL, "%s", file);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		out_write(buf, (size_t)n);
	if (n < 0)
		die_errno(EXIT_FATAL, "%s", file);
	close(fd);
	out_close();
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	enum { O_ACCEPT = 256, O_ALLOW_OLD, O_BWLIMIT, O_DELETE, O_EXCLUDE, O_INCLUDE,
		O_INTERVAL, O_KNOWN, O_MAXSIZE, O_ONCE, O_STATE, O_STATUS, O_TIMEOUT,
		O_VERSION };
	static const struct option longopts[] = {
		{ "accept-new-host-keys", no_argument, NULL, O_ACCEPT },
		{ "allow-old-rsync", no_argument, NULL, O_ALLOW_OLD },
		{ "bwlimit", required_argument, NULL, O_BWLIMIT },
		{ "delete-missing", no_argument, NULL, O_DELETE },
		{ "dest", required_argument, NULL, 'd' },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "help", no_argument, NULL, 'h' },
		{ "identity", required_argument, NULL, 'i' },
		{ "include", required_argument, NULL, O_INCLUDE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "known-hosts", required_argument, NULL, O_KNOWN },
		{ "max-size", required_argument, NULL, O_MAXSIZE },
		{ "once", no_argument, NULL, O_ONCE },
		{ "port", required_argument, NULL, 'p' },
		{ "ssh-config", required_argument, NULL, 'F' },
		{ "state", required_argument, NULL, O_STATE },
		{ "status", no_argument, NULL, O_STATUS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .timeout = 120 };
	struct source *src;
	struct result *res;
	struct state st = { 0 };
	struct sb meta = SB_INIT, lockf = SB_INIT, statusf = SB_INIT, statef = SB_INIT;
	struct sb okf = SB_INIT, stamp = SB_INIT, uncleanf = SB_INIT;
	struct sigaction sa;
	sigset_t block;
	char err[1024];
	int c, status = 0, nsrc, rval = EXIT_OK;
	long port;
	char *end;

	tool_init("logsync");
	/* A closed stdout would let the next open(2) take fd 1 and receive our output. */
	if (fcntl(1, F_GETFD) < 0)
		die_errno(EXIT_FATAL, "stdout");
	o.rsync = getenv("LOGSYNC_RSYNC") ? getenv("LOGSYNC_RSYNC") : "rsync";
	o.ssh = getenv("LOGSYNC_SSH") ? getenv("LOGSYNC_SSH") : "ssh";
	o.filters = xcalloc((size_t)argc, sizeof(*o.filters));
	while ((c = getopt_long(argc, argv, "d:F:hi:p:v", longopts, NULL)) != -1) {
		switch (c) {
		case O_ACCEPT: o.accept_new = 1; break;
		case O_ALLOW_OLD: o.allow_old = 1; break;
		case O_BWLIMIT: o.bwlimit = optarg; break;
		case O_DELETE: o.delete_missing = 1; break;
		case 'd': o.dest = optarg; break;
		case O_EXCLUDE:
		case O_INCLUDE: {
			struct sb f = SB_INIT;
			sb_addf(&f, "--%s=%s", c == O_INCLUDE ? "include" : "exclude", optarg);
			o.filters[o.nfilters++] = sb_detach(&f);
			break;
		}
		case 'F': o.ssh_config = optarg; break;
		case 'h':
			fputs(synopsis, stdout);
			out_close();
			free(o.filters);
			return EXIT_OK;
		case 'i': o.identity = optarg; break;
		case O_INTERVAL:
			if ((o.interval = parse_secs(optarg)) < 0)
				die(EXIT_FATAL, "--interval: bad duration '%s'", optarg);
			break;
		case O_KNOWN: o.known_hosts = optarg; break;
		case O_MAXSIZE: o.max_size = optarg; break;
		case O_ONCE: o.interval = 0; break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || port < 1 || port > 65535)
				die(EXIT_FATAL, "--port: bad port '%s'", optarg);
			o.port = optarg;
			break;
		case O_STATE: o.state = optarg; break;
		case O_STATUS: status = 1; break;
		case O_TIMEOUT:
			if ((o.timeout = parse_secs(optarg)) < 0)
				die(EXIT_FATAL, "--timeout: bad duration '%s'", optarg);
			break;
		case 'v': o.verbose = 1; break;
		case O_VERSION:
			printf("logsync %s\n", LOGKIT_VERSION);
			out_close();
			free(o.filters);
			return EXIT_OK;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!o.dest || !*o.dest)
		usage();
	sb_addf(&meta, "%s/.logsync", o.dest);
	sb_addf(&statusf, "%s/status.json", meta.buf);
	if (status) {
		if (argc)
			usage();
		rval = show_status(statusf.buf, o.dest);
		for (int i = 0; i < o.nfilters; i++)
			free((void *)o.filters[i]);
		free(o.filters);
		sb_free(&meta);
		sb_free(&statusf);
		return rval;
	}
	if (argc == 0)
		usage();

	/*
	 * The handled signals stay blocked except inside pselect, so one that
	 * arrives between a check and the wait is not lost.  Set up before
	 * anything runs: an early SIGUSR1 must not kill us (its default).
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);

	nsrc = argc;
	src = xcalloc((size_t)nsrc, sizeof(*src));
	res = xcalloc((size_t)nsrc, sizeof(*res));
	for (int i = 0; i < nsrc; i++)
		if (source_parse(&src[i], argv[i], err, sizeof(err)) < 0)
			die(EXIT_FATAL, "%s", err);
	if (o.delete_missing)
		for (int i = 0; i < nsrc; i++)
			for (int j = 0; j < i; j++)
				if (strcmp(src[i].host, src[j].host) == 0)
					/* each run's --delete would remove the other's copies */
					die(EXIT_FATAL, "--delete-missing: %s and %s both sync into %s/%s",
					    src[j].arg, src[i].arg, o.dest, src[i].host);
	sb_addf(&okf, "%s/rsync-ok", meta.buf);
	if (rsync_check_version(&o, okf.buf, &stamp, err, sizeof(err)) < 0 ||
	    rsync_check_opts(&o, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s", err);

	mkdirs(meta.buf);
	sb_addf(&lockf, "%s/lock", meta.buf);
	lock_dest(o.dest, lockf.buf);
	if (stamp.len)
		write_file(okf.buf, stamp.buf, stamp.len);
	if (!o.state) {
		sb_addf(&statef, "%s/state", meta.buf);
		o.state = statef.buf;
	}
	sb_addf(&uncleanf, "%s.unclean", o.state);

	for (;;) {
		int64_t start = wall_ns(), next = 0;
		int fd;

		got_usr1 = 0;
		rval = EXIT_OK;
		/*
		 * A file rsync copied in a run that then died (or failed) before
		 * it was reported and saved in the state is unchanged for rsync
		 * now: only a listing of every file (-ii), each compared with the
		 * state, finds it.  STATE.unclean exists from the start of a run
		 * until one ends with every source synced and the state saved;
		 * while it does, and while the state is empty, runs list every
		 * file.  Other runs list only what rsync copies (-i), which keeps
		 * a no-change run close to a bare rsync.
		 */
		o.list_all = (st.loaded ? st.n == 0 : state_empty(o.state)) ||
		    access(uncleanf.buf, F_OK) == 0;
		if ((fd = open(uncleanf.buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
			die_errno(EXIT_FATAL, "%s", uncleanf.buf);
		close(fd);
		for (int i = 0; i < nsrc && !got_int; i++) {
			sync_source(&o, &src[i], &st, &res[i]);
			if (!res[i].ok) {
				warn_msg("%s: %s", src[i].host, res[i].msg);
				rval = EXIT_SOME;
			}
			if (st.dirty) {
				if (state_save(&st, o.state) < 0)
					die_errno(EXIT_FATAL, "%s", o.state);
				st.dirty = 0;
			}
		}
		if (rval == EXIT_OK && !got_int && unlink(uncleanf.buf) < 0)
			die_errno(EXIT_FATAL, "%s", uncleanf.buf);
		if (o.interval && !got_term && !got_int)
			next = wall_ns() + (int64_t)o.interval * 1000000000;
		write_status(statusf.buf, src, res, nsrc, start, wall_ns(), next);
		if (!o.interval || got_term || got_int)
			break;
		/* Sleep until the next run, SIGUSR1 (sync now) or SIGTERM (stop). */
		while (!got_usr1 && !got_term && !got_int) {
			int64_t left = next - wall_ns();
			struct timespec ts;
			if (left <= 0)
				break;
			ts.tv_sec = (time_t)(left / 1000000000);
			ts.tv_nsec = (long)(left % 1000000000);
			pselect(0, NULL, NULL, NULL, &ts, &wait_mask);
		}
		if (got_term || got_int)
			break;
	}
	if (got_int)
		rval = EXIT_FATAL;
	state_free(&st);
	for (int i = 0; i < nsrc; i++) {
		free(src[i].host);
		free(src[i].path);
	}
	for (int i = 0; i < o.nfilters; i++)
		free((void *)o.filters[i]);
	free(o.filters);
	free(src);
	free(res);
	sb_free(&meta);
	sb_free(&lockf);
	sb_free(&statusf);
	sb_free(&statef);
	sb_free(&okf);
	sb_free(&uncleanf);
	sb_free(&stamp);
	out_close();
	return rval;
}
