/* follow.c: the follower, driven step by step: state runs, rotation, truncation, files that come and go. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/follow.h"
#include "../../common/follow_st.h"
#include "../../common/sb.h"
#include "t.h"

static char events[8192];

/* Append s to a file (created when missing). */
static void
put(const char *path, const char *s)
{
	FILE *fp = fopen(path, "a");

	if (fp == NULL || fputs(s, fp) == EOF || fclose(fp) != 0) {
		perror(path);
		exit(2);
	}
}

/*
 * Run w until it ends (not following) or until FW_IDLE (following), and
 * write what came as text: "L0:3:text" (file 0, line 3), "W0:msg", "E0",
 * and "." for the end.  A runaway test is stopped by alarm(20).
 */
static const char *
run(struct fw *w)
{
	struct fw_ev ev;
	size_t k = 0;
	int r;

	events[0] = '\0';
	while ((r = fw_next(w, &ev)) == 1 && k < sizeof(events) - 256) {
		switch (ev.kind) {
		case FW_LINE:
			k += (size_t)snprintf(events + k, sizeof(events) - k, "L%zu:%llu:%.*s%s|",
			    ev.file, ev.lineno, (int)ev.len, ev.line, ev.truncated ? "(cut)" : "");
			break;
		case FW_WARN:
			k += (size_t)snprintf(events + k, sizeof(events) - k, "W%zu%s:%s|",
			    ev.file, ev.failed ? "!" : "", ev.msg);
			break;
		case FW_END:
			k += (size_t)snprintf(events + k, sizeof(events) - k, "E%zu|", ev.file);
			break;
		case FW_FLUSH:
			break;
		case FW_IDLE:
			return events;
		}
	}
	snprintf(events + k, sizeof(events) - k, "%s", r == 0 ? "." : "ERROR");
	return events;
}

/* One run over paths with a state file, as a cron job would do it. */
static const char *
cron(const char *state, char **paths, size_t n)
{
	struct fw_opts o = { .state = state };
	char err[256];
	struct fw *w = fw_open(&o, paths, n, err, sizeof(err));
	static char keep[8192];

	if (w == NULL) {
		snprintf(keep, sizeof(keep), "open: %s", err);
		return keep;
	}
	snprintf(keep, sizeof(keep), "%s", run(w));
	if (fw_save(w) < 0)
		snprintf(keep, sizeof(keep), "save: %s", strerror(errno));
	fw_close(w);
	return keep;
}

/* Parse text as a state file; on success, out gets it written back. */
static int
parse(const char *text, size_t n, struct sb *out, char *err, size_t errsz)
{
	struct fw_ent *e;
	size_t ne;
	int rc;

	if (fst_parse("st", text, n, &e, &ne, err, errsz) < 0)
		return -1;
	rc = out ? fst_format(out, e, ne) : 0;
	fst_free(e, ne);
	return rc;
}

static void
test_state_text(void)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "x\n", "st:1: not a follow state file (no 'logkit-follow 1' line)" },
		{ "logkit-follow 2\n", "st:1: unsupported version '2'" },
		{ "logkit-follow 1", "st:1: truncated line (no newline)" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 0 /a", "st:2: truncated line (no newline)" },
		{ "logkit-follow 1\nx 2 3 4 3 0000000000000000 0 /a\n", "st:2: bad device number" },
		{ "logkit-follow 1\n1 -2 3 4 3 0000000000000000 0 /a\n", "st:2: bad inode number" },
		{ "logkit-follow 1\n1 2 03 4 3 0000000000000000 0 /a\n", "st:2: bad offset" },
		{ "logkit-follow 1\n1 2 9223372036854775808 4 3 0000000000000000 0 /a\n", "st:2: bad offset" },
		{ "logkit-follow 1\n1 2 3 4 4 0000000000000000 0 /a\n", "st:2: bad hash length" },
		{ "logkit-follow 1\n1 2 3000 4 1025 0000000000000000 0 /a\n", "st:2: bad hash length" },
		{ "logkit-follow 1\n1 2 3 4 3 000000000000000G 0 /a\n", "st:2: bad hash" },
		{ "logkit-follow 1\n1 2 3 4 3 00000000000000000 0 /a\n", "st:2: bad hash" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 2 /a\n", "st:2: bad cut flag" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 0 a\n", "st:2: bad path" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 0 /a\\x\n", "st:2: bad path" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 0 \n", "st:2: bad path" },
		{ "logkit-follow 1\n1 2 3 4 3 0000000000000000 0 /a\n"
		  "1 2 3 4 3 0000000000000000 0 /a\n", "st:3: duplicate path" },
		{ "logkit-follow 1\n1  2 3 4 3 0000000000000000 0 /a\n", "st:2: bad inode number" },
	};
	const char good[] = "logkit-follow 1\n"
	    "2049 131 4096 77 1024 0123456789abcdef 1 /var/log/a b\\nc\\\\d\n"
	    "0 0 0 0 0 ef46db3751d8e999 0 /x\n";
	struct sb out = SB_INIT;
	char err[256];

	ok(parse(good, sizeof(good) - 1, &out, err, sizeof(err)) == 0,
	    "a good state file parses");
	ok(out.len == sizeof(good) - 1 && memcmp(out.buf, good, out.len) == 0,
	    "and is written back byte for byte");
	sb_free(&out);
	ok(parse("", 0, NULL, err, sizeof(err)) == 0, "an empty file is an empty state");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ok(parse(bad[i].text, strlen(bad[i].text), NULL, err, sizeof(err)) == -1 && t_is_str(err, bad[i].err), "refused: %s", bad[i].err);
	}
}

static void
test_cron(void)
{
	char *p[] = { (char *)"app.log" };
	char *q[] = { (char *)"app.log", (char *)"other.log" };

	put("app.log", "one\ntwo\nthr");
	is_str(cron("st", p, 1), "L0:1:one|L0:2:two|E0|.", "first run: complete lines only");
	is_str(cron("st", p, 1), "E0|.", "second run, nothing new: nothing");
	put("app.log", "ee\nfour\n");
	is_str(cron("st", p, 1), "L0:3:three|L0:4:four|E0|.",
	    "the held-back line once complete, line numbers go on");

	/* rename rotation between runs: the rest of the old file first */
	put("app.log", "five\n");
	rename("app.log", "app.log.1");
	put("app.log.1", "six\n");
	put("app.log", "new one\n");
	is_str(cron("st", p, 1), "L0:5:five|L0:6:six|E0|L0:1:new one|E0|.",
	    "rotated: the old file (found by inode) to its end, then the new one");

	/* rotated and the old one gone (compressed away) */
	put("app.log", "new two\n");
	rename("app.log", "app.log.2");
	put("app.log", "newer\n");	/* before the unlink: no inode reuse */
	unlink("app.log.2");
	is_str(cron("st", p, 1),
	    "W0:replaced since the last run and the old file is not in its directory any more; "
	    "reading the new one from the start (lines added to the old one after the last "
	    "run are lost)|L0:1:newer|E0|.", "old file gone: the new one from 0, with a warning");

	/* copytruncate between runs: shorter than the offset */
	truncate("app.log", 0);
	put("app.log", "t\n");
	is_str(cron("st", p, 1), "W0:truncated since the last run; reading from the start|"
	    "L0:1:t|E0|.", "truncated: from 0");

	/* truncated and grown past the offset again: the head hash tells */
	truncate("app.log", 0);
	put("app.log", "u1\nu2\n");
	is_str(cron("st", p, 1), "W0:changed since the last run (first bytes differ); "
	    "reading from the start|L0:1:u1|L0:2:u2|E0|.", "rewritten: from 0");

	/* a missing file: status 1 (failed), the others are read; it keeps its entry */
	is_str(cron("st", q, 2), "E0|W1!:No such file or directory|.", "missing file fails");
	put("other.log", "o\n");
	is_str(cron("st", q, 2), "E0|L1:1:o|E1|.", "a new file is read from its start");

	/* rotated by rename and not recreated yet */
	put("app.log", "u3\n");
	rename("app.log", "app.log.3");
	is_str(cron("st", p, 1), "L0:3:u3|E0|W0!:No such file or directory|.",
	    "rotated, not recreated: the old file is read, the path is missing");
	put("app.log", "v\n");
	is_str(cron("st", p, 1), "E0|L0:1:v|E0|.", "recreated: the old one had nothing more");
	unlink("app.log.1");
	unlink("app.log.3");
	unlink("other.log");
}

/* Entries of files not named in a run stay, unless the file is gone. */
static void
test_prune(void)
{
	char *all[] = { (char *)"k1.log", (char *)"k2.log", (char *)"k3.log" };
	char text[4096];
	FILE *fp;
	size_t n;

	put("k1.log", "1\n");
	put("k2.log", "2\n");
	put("k3.log", "3\n");
	is_str(cron("st5", all, 3), "L0:1:1|E0|L1:1:2|E1|L2:1:3|E2|.", "three files");
	unlink("k2.log");
	put("k1.log", "1b\n");
	is_str(cron("st5", all, 1), "L0:2:1b|E0|.", "one of them");
	fp = fopen("st5", "r");
	n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
	if (fp)
		fclose(fp);
	text[n] = '\0';
	ok(strstr(text, "/k1.log\n") && strstr(text, "/k3.log\n") && !strstr(text, "/k2.log"),
	    "the entry of a deleted file is dropped, the others kept");
	unlink("k1.log");
	unlink("k3.log");
	unlink("st5");
	unlink("st5.lock");
}

static void
test_cut(void)
{
	struct fw_opts o = { .state = "st2", .max_line = 8 };
	char *p[] = { (char *)"long.log" };
	char err[256];
	struct fw *w;

	put("long.log", "short\n0123456789abcdef");
	w = fw_open(&o, p, 1, err, sizeof(err));
	ok(w != NULL, "open with max_line");
	if (w == NULL)
		return;
	is_str(run(w), "L0:1:short|L0:2:01234567(cut)|E0|.", "a long unfinished line is cut");
	ok(fw_save(w) == 0, "saved inside the cut line");
	fw_close(w);
	put("long.log", "XYZ\nnext\n");
	w = fw_open(&o, p, 1, err, sizeof(err));
	is_str(w ? run(w) : err, "L0:3:next|E0|.", "the rest of the cut line is dropped next run");
	fw_close(w);
	unlink("long.log");
}

static void
test_open_errors(void)
{
	struct fw_opts o = { .state = "/dev/null" };
	char *p[] = { (char *)"x" };
	char err[256];
	struct fw *w;
	int fd;

	w = fw_open(&o, p, 1, err, sizeof(err));
	ok(w == NULL && t_is_str(err, "/dev/null: not a regular file"), "a device as state");
	o.state = "nodir/st";
	w = fw_open(&o, p, 1, err, sizeof(err));
	ok(w == NULL && t_is_str(err, "nodir/st.lock: No such file or directory"),
	    "a state in a missing directory");
	o.state = "st3";
	w = fw_open(&o, p, 1, err, sizeof(err));
	ok(w != NULL, "lock taken");
	ok(fw_open(&o, p, 1, err, sizeof(err)) == NULL &&
	    t_is_str(err, "st3.lock: locked by another process using st3"), "a second run is refused");
	fw_close(w);
	fd = open("st3", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, "logkit-follow 1\n1 2 3\n", 22) == 22 && close(fd) == 0,
	    "a corrupt state written");
	w = fw_open(&o, p, 1, err, sizeof(err));
	ok(w == NULL && t_is_str(err, "st3:2: bad offset"), "a corrupt state names file:line");
	unlink("st3");
}

static void
test_follow(void)
{
	struct fw_opts o = { .follow = 1, .poll_ms = 5 };
	char *p[] = { (char *)"f.log", (char *)"later.log" };
	char err[256];
	struct fw *w;

	put("f.log", "before\nhalf");
	w = fw_open(&o, p, 2, err, sizeof(err));
	ok(w != NULL, "follow open");
	if (w == NULL)
		return;
	is_str(run(w), "W1:No such file or directory; waiting for it|", "a missing file is said");
	put("f.log", " done\n");
	is_str(run(w), "L0:1:half done|E0|", "from the end: the unfinished last line comes out whole");
	put("f.log", "a\nb");
	is_str(run(w), "L0:2:a|E0|", "appends, the partial line held back");
	put("f.log", "\n");
	rename("f.log", "f.log.1");
	put("f.log.1", "late in old\n");
	put("f.log", "new\n");
	is_str(run(w), "L0:3:b|L0:4:late in old|E0|W0:replaced; following the new file|"
	    "L0:1:new|E0|", "rename rotation: the old file drained first");
	put("f.log", "more\nend");
	truncate("f.log", 0);
	put("f.log", "x\n");
	is_str(run(w), "E0|W0:truncated; reading from the start|L0:1:x|E0|",
	    "copytruncate: from the start, the held-back part dropped");
	put("later.log", "hello\n");
	is_str(run(w), "W1:appeared; following it|L1:1:hello|E1|", "a file that appears later");
	unlink("later.log");
	put("f.log", "y\n");
	/* the vanished file is said after poll_ms, before or after f.log's END */
	run(w);
	ok(strncmp(events, "L0:2:y|", 7) == 0 && strstr(events, "|E0|") &&
	    strstr(events, "|W1:No such file or directory; waiting for it to come back|"),
	    "the other file goes on, a vanished file is said: %s", events);
	put("f.log", "z\n");
	is_str(run(w), "L0:3:z|E0|", "and said once");
	put("later.log", "again\n");
	is_str(run(w), "E1|W1:replaced; following the new file|L1:1:again|E1|",
	    "and followed when it comes back");
	fw_stop(w);
	is_str(run(w), ".", "fw_stop ends it");
	fw_close(w);

	o.from_start = 1;
	w = fw_open(&o, p, 1, err, sizeof(err));
	is_str(w ? run(w) : err, "L0:1:x|L0:2:y|L0:3:z|E0|", "--from-start");
	fw_close(w);
	unlink("f.log");
	unlink("f.log.1");
	unlink("later.log");
}

static void
test_follow_state(void)
{
	struct fw_opts o = { .follow = 1, .poll_ms = 5, .state = "st4" };
	char *p[] = { (char *)"g.log" };
	char err[256];
	struct fw *w;

	put("g.log", "g1\ng2\n");
	w = fw_open(&o, p, 1, err, sizeof(err));
	is_str(w ? run(w) : err, "", "follow with a new state: from the end");
	put("g.log", "g3\n");
	is_str(w ? run(w) : err, "L0:1:g3|E0|", "new lines (numbered from the start point)");
	ok(w && fw_save(w) == 0, "saved");
	fw_close(w);
	put("g.log", "g4\n");
	rename("g.log", "g.log.1");
	put("g.log", "h1\n");
	w = fw_open(&o, p, 1, err, sizeof(err));
	is_str(w ? run(w) : err, "L0:2:g4|E0|L0:1:h1|E0|",
	    "restart after a rotation: the rest of the old file, then the new one");
	fw_close(w);
	unlink("g.log");
	unlink("g.log.1");
}

/*
 * Following a file whose writes end inside lines (stdio's 4 KiB blocks):
 * every read stops short with a partial line kept back.  The reader's
 * buffer must stay the size it was (it used to double each time it
 * filled up, without end).
 */
static void
test_flat(void)
{
	struct fw_opts o = { .follow = 1, .from_start = 1, .poll_ms = 5 };
	char *p[] = { (char *)"flat.log" };
	char err[256], chunk[3000];
	struct mallinfo2 m;
	size_t before = 0, after;
	struct fw_ev ev;
	unsigned long long lines = 0;
	struct fw *w;

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = i % 100 == 99 ? '\n' : 'a';
	put("flat.log", "");
	if ((w = fw_open(&o, p, 1, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	for (int it = 0; it < 3000; it++) {
		FILE *fp = fopen("flat.log", "a");

		if (fp == NULL || fwrite(chunk, 1, sizeof(chunk) - 1 - it % 50, fp) == 0 ||
		    fclose(fp) != 0)
			break;
		/* read what is there (FW_FLUSH: every ready line handed out) */
		while (fw_next(w, &ev) == 1 && ev.kind != FW_FLUSH)
			lines += ev.kind == FW_LINE;
		if (it == 10) {
			m = mallinfo2();
			before = m.uordblks + m.hblkhd;
		}
	}
	m = mallinfo2();
	after = m.uordblks + m.hblkhd;
	fw_close(w);
	unlink("flat.log");
	ok(lines > 80000, "%llu lines followed", lines);
	if (before == 0)	/* a sanitizer's allocator: mallinfo2 says nothing */
		printf("ok %d - # skip no mallinfo2 figures\n", ++t_n);
	else
		ok(after <= before + 65536, "memory flat while following: %zu -> %zu bytes",
		    before, after);
}

int
main(void)
{
	char dir[] = "/tmp/follow-unit.XXXXXX";

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	if (mkdtemp(dir) == NULL || chdir(dir) < 0) {
		perror(dir);
		return 2;
	}
	test_state_text();
	test_cron();
	test_prune();
	test_cut();
	test_open_errors();
	test_follow();
	test_follow_state();
	test_flat();
	unlink("app.log");
	unlink("st");
	unlink("st.lock");
	unlink("st2");
	unlink("st2.lock");
	unlink("st3.lock");
	unlink("st4");
	unlink("st4.lock");
	if (chdir("/") == 0)
		rmdir(dir);
	return t_done();
}
