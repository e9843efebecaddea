/* tail.c: logcat -f and --state: lines come from the follower (common/follow.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/follow.h"
#include "../tool.h"
#include "logcat.h"

static struct fw *volatile stop_me;
static volatile sig_atomic_t stopping;

/* The first ^C (or SIGTERM) ends cleanly; a second one, if we are stuck
   in a read of a pipe that says nothing, ends us at once. */
static void
on_signal(int sig)
{
	if (stopping) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stopping = 1;
	if (stop_me)
		fw_stop(stop_me);
}

/* Does an input hold lines that were not written yet (a detection sample)? */
static int
holds_lines(const struct input *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!in[i].detected && in[i].nsample > 0)
			return 1;
	return 0;
}

/* An input's pending event is complete; an input without a line yet keeps
   its format undecided (detecting from no lines would fix it as text). */
static void
flush_input(struct lc *lc, struct input *in)
{
	if (in->detected || in->nsample > 0)
		input_flush(lc, in);
}

void
follow_files(struct lc *lc, char **paths, size_t n)
{
	struct fw_opts o = { .follow = lc->follow, .from_start = lc->from_start,
		.state = lc->state, .poll_ms = lc->poll_ms, .max_line = lc->max_event };
	struct input *in;
	struct sigaction sa;
	struct fw_ev ev;
	struct fw *w;
	char err[512];
	int rc, save_warned = 0;

	/* A closed stdout would hand fd 1 to a file we open: records would
	   go there, and the state would say they were written. */
	if (fcntl(STDOUT_FILENO, F_GETFL) < 0)
		die_errno(EXIT_FATAL, "write error");
	/* ^C while following: stop, write what is pending, save the state.
	   SA_RESTART: a write to a slow reader must not fail with EINTR.  Set
	   before fw_open takes the state's lock, so that a signal from then
	   on ends us cleanly too. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((w = fw_open(&o, paths, n, err, sizeof(err))) == NULL)
		die(EXIT_FATAL, "%s", err[0] ? err : strerror(errno));
	stop_me = w;
	if (stopping)
		fw_stop(w);
	in = xcalloc(n, sizeof(*in));
	for (size_t i = 0; i < n; i++)
		input_init(lc, &in[i], paths[i]);
	while ((rc = fw_next(w, &ev)) == 1) {
		switch (ev.kind) {
		case FW_LINE:
			input_line(lc, &in[ev.file], ev.line, ev.len, ev.lineno, ev.truncated);
			break;
		case FW_WARN:
			warn_msg("%s: %s", in[ev.file].name, ev.msg);
			if (ev.failed)
				lc->rval = EXIT_SOME;
			break;
		case FW_IDLE:
			for (size_t i = 0; i < n; i++)
				if (in[i].detected)
					input_flush(lc, &in[i]);
			emit_flush(lc, 1);
			/* everything handed out is on stdout: a crash from here
			   on repeats nothing and loses nothing */
			if (lc->state && !holds_lines(in, n)) {
				if (fw_save(w) < 0) {
					if (!save_warned)
						warn_errno("%s", lc->state);
					save_warned = 1;
				} else
					save_warned = 0;
			}
			break;
		case FW_END:
			flush_input(lc, &in[ev.file]);
			break;
		case FW_FLUSH:
			/* following: records out as soon as complete, in one
			   write per read rather than one per record */
			emit_flush(lc, 1);
			break;
		}
	}
	if (rc < 0)
		warn_errno("follow");
	for (size_t i = 0; i < n; i++)
		flush_input(lc, &in[i]);
	/* the state may say "done" only for what reached stdout */
	emit_flush(lc, 1);
	if (fw_save(w) < 0) {
		warn_errno("%s", lc->state);
		lc->rval = EXIT_FATAL;
	}
	stop_me = NULL;
	fw_close(w);
	for (size_t i = 0; i < n; i++)
		input_free(&in[i]);
	free(in);
	if (rc < 0)
		lc->rval = EXIT_FATAL;
}
