/* follow.h: read files to their end, or follow them as they grow (tail -F), remembering offsets in a state file. */
#ifndef LOGKIT_FOLLOW_H
#define LOGKIT_FOLLOW_H

#include <stddef.h>

/*
 * One reader over several files.  Without follow it reads each file from
 * its start (or from its offset in the state file) to its end, then
 * fw_next returns 0.  With follow it keeps waiting like `tail -F`:
 * survives rename rotation (drains the old file to its end before
 * switching to the new one), copytruncate (starts again at 0 when the
 * size drops below the offset), files that appear later, and files that
 * vanish.
 *
 * With a state file (or when following), an incomplete last line is held
 * back until its '\n' arrives, so a line is never split or output twice.
 * Without either, a final line lacking '\n' is returned at end of file.
 *
 * The state file (follow_st.h) holds, per path: device, inode, offset,
 * and a hash of the first bytes of the file, so that a replaced or
 * truncated file is noticed and read from 0; a file renamed away is looked
 * for by inode in its directory and its rest read first.  fw_save writes
 * it with temp file + fsync + rename; entries of paths not given stay,
 * unless no file has their path any more.  fw_open takes STATE.lock
 * (flock), so one run at a time uses a state.
 * Offsets saved are those after the last line fw_next handed out: call
 * fw_save only once everything handed out has been written.
 */

struct fw;

struct fw_opts {
	int follow;		/* keep waiting for data (tail -F) */
	int from_start;		/* follow: files not in the state start at 0, not at the end */
	const char *state;	/* state file path, or NULL */
	int poll_ms;		/* follow: how often to look for growth (0: 250) */
	size_t max_line;	/* cut longer lines (0: no limit) */
};

enum fw_kind {
	FW_LINE,	/* a line of file ev->file */
	FW_WARN,	/* ev->msg says something happened (rotation, truncation,
			   a file that could not be opened); ev->file names it */
	FW_IDLE,	/* following, and nothing new arrived for poll_ms: a
			   moment to flush pending events and stdout */
	FW_END,		/* file ev->file reached its end or was rotated away
			   (following: or has been quiet for poll_ms while
			   others were not): flush what is pending for it */
	FW_FLUSH,	/* following: every line ready so far was handed out:
			   a moment to flush stdout (but not pending events,
			   whose next line may be on its way) */
};

struct fw_ev {
	enum fw_kind kind;
	size_t file;		/* index into the paths given to fw_open */
	const char *line;	/* FW_LINE: the line, without '\n'; valid until the next call */
	size_t len;
	unsigned long long lineno;	/* FW_LINE: line number in the current file */
	int truncated;		/* FW_LINE: cut at max_line */
	const char *msg;	/* FW_WARN: the message, without the path */
	int failed;		/* FW_WARN: the file could not be read at all */
};

/*
 * Open paths ("-" is standard input; with follow it is read until EOF like
 * tail -f on a pipe).  Returns NULL with errno set and a message in err
 * (e.g. a corrupt state file: "state.json:3: bad offset").
 */
struct fw *fw_open(const struct fw_opts *o, char *const *paths, size_t n,
    char *err, size_t errsz);
/*
 * Next event.  Returns 1 with *ev filled, 0 when not following and every
 * file is at its end, -1 on a fatal error (errno set).
 */
int fw_next(struct fw *w, struct fw_ev *ev);
/* Write the state file (no-op without one).  Returns 0 or -1 (errno). */
int fw_save(struct fw *w);
/* Ask a following fw_next to return 0 soon (safe from a signal handler). */
void fw_stop(struct fw *w);
void fw_close(struct fw *w);

#endif
