/* logcat.h: state shared by logcat's files (options, per-input state, record output). */
#ifndef LOGCAT_H
#define LOGCAT_H

#include <stdint.h>
#include <json-c/json.h>

#include "../../common/lf.h"
#include "../../common/sb.h"
#include "../../common/stream.h"

/* First lines looked at to detect an input's format. */
#define SAMPLE_LINES 24
#define SAMPLE_BYTES 65536

struct kv {
	char *k, *v;
};

/* One input: its format, detection sample, and the event being joined. */
struct input {
	const char *name;	/* as shown in messages: "<stdin>" for - */
	enum lf_fmt fmt;
	int detected;
	int skip;		/* binary: the rest is ignored */
	int warned;		/* one malformed-line message per input */
	/* the detection sample: lines copied into sample, ends in off[] */
	struct sb sample;
	size_t off[SAMPLE_LINES + 1];
	unsigned long long sline[SAMPLE_LINES];
	int strunc[SAMPLE_LINES];
	size_t nsample;
	/* the pending event of a text format: its first line (copied) parsed
	   into rec, further lines in cont */
	int pending;
	struct sb line;
	struct lf_rec rec;
	struct sb cont;
	int cut;
	unsigned long long lineno;
	/*
	 * Lines that arrive as records {"_msg":LINE,"_file":F,"_line":N}
	 * (logunpack --lines on a text member) are lines of file F: they go
	 * through member, an input of their own (format detection, joined
	 * stack traces), whose records carry _file and _line again.
	 */
	struct input *member;
	char *member_name;	/* member's name, owned */
	int is_member;
};

struct lc {
	enum lf_fmt format;	/* forced, or LF_UNKNOWN to detect */
	const char *time_field, *msg_field, *level_field;
	struct kv *add;
	size_t nadd;
	struct st_labels stream;	/* --stream */
	char **sfields;		/* --stream-fields */
	size_t nsfields;
	struct sb fixed_stream;	/* the _stream value as JSON text, when no
				   --stream-fields; empty without labels */
	int skip_invalid, time_now, unbuffered, follow, from_start;
	int poll_ms;		/* --sleep-interval, in ms (0: the follower's default) */
	const char *state;
	size_t max_event;
	struct lf_ctx ctx;
	struct json_tokener *tok;
	struct sb out, tmp, tmp2;
	struct st_labels labels;	/* scratch for --stream-fields */
	/* counts for the summary at exit */
	unsigned long long malformed, skipped, repaired, nul, cut, binary;
	int rval;
};

/* logcat.c: one input's lines in, records out */
void input_init(struct lc *lc, struct input *in, const char *path);
void input_line(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, int truncated);
/* The input ended (or went idle while following): write what is pending. */
void input_flush(struct lc *lc, struct input *in);
void input_member_line(struct lc *lc, struct input *in, const char *file, const char *line,
    size_t len, unsigned long long lineno);
void input_free(struct input *in);

/* tail.c: -f and --state, over common/follow.h */
void follow_files(struct lc *lc, char **paths, size_t n);

/* emit.c */
void emit_text(struct lc *lc, struct input *in);
void emit_json_line(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, int truncated);
void emit_invalid(struct lc *lc, struct input *in, const char *line, size_t len,
    unsigned long long lineno, const char *why);
void emit_flush(struct lc *lc, int force);
/* Is o a line record {"_msg":"..","_file":"..","_line":N}?  Sets *file, *line. */
int line_record(struct json_object *o, const char **file, const char **msg, size_t *msgn,
    unsigned long long *line);

#endif
