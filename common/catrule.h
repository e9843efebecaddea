/* catrule.h: file categories: the built-in name rules and a rules file (globs, regexes, content, LogsQL on records). */
#ifndef LOGKIT_CATRULE_H
#define LOGKIT_CATRULE_H

#include <stddef.h>

struct json_object;
struct qry;

/*
 * The built-in rules, tried in this order, first match wins; each is a
 * case-insensitive substring of the file name (the last path component):
 *
 *   server      server-  orchestrator  slurm-job
 *   client      client-  benchmark-
 *   monitoring  monitor  prometheus  grafana
 *   vllm        vllm  model-server  inference
 *   slurm       .err  .out  slurm-  sbatch
 *   logs        logs-service
 *
 * .err and .out count only as an extension: at the end of the name or
 * followed by '.' (job.out, job.out.1, job.err.gz), not in "x.output".
 * Order matters: slurm-job-7.out is server, model-server-1.log is server
 * (it holds "server-"), vllm-client-2.log is client.
 */
#define CR_UNCATEGORIZED "uncategorized"

/* The built-in category of a file name, or NULL when none matches. */
const char *cr_builtin(const char *name, size_t n);

/* Where the built-in rules sit relative to the rules of a file. */
enum cr_builtins { CR_BUILTINS_LAST, CR_BUILTINS_FIRST, CR_BUILTINS_OFF };

enum cr_kind {
	CR_NAME,	/* glob (fnmatch) on the file name */
	CR_PATH,	/* glob on the whole path; '*' also matches '/' */
	CR_REGEX,	/* PCRE2 regex on the whole path, unanchored */
	CR_CONTENT,	/* PCRE2 regex, multiline, on the file's first lines */
	CR_RECORD,	/* LogsQL filter (qry.h) on the record's fields */
};

struct cr_rule {
	enum cr_kind kind;
	char *category;
	char *pattern;
	void *re;		/* pcre2_code for CR_REGEX and CR_CONTENT */
	struct qry *q;		/* the filter of CR_RECORD */
	unsigned line;		/* line in the rules file */
};

struct catrules {
	struct cr_rule *rules;
	size_t n;
	enum cr_builtins builtins;
	unsigned sniff_lines;	/* lines of content the content rules see (default 20) */
	int has_content;	/* some rule needs the file's first lines */
	int has_record;		/* some rule is a record rule */
	void *md;		/* pcre2_match_data shared by the rules */
};

/*
 * Parse a rules file held in text[0..len).  One rule or directive per
 * line; '#' starts a comment line; blank lines are ignored.
 *
 *   CATEGORY KIND PATTERN      KIND: name, path, regex, content, record
 *   builtins first|last|off    where the built-in rules are tried (last)
 *   sniff-lines N              lines of content for content rules (20)
 *
 * PATTERN is the rest of the line with surrounding blanks removed.
 * CATEGORY is 1..64 of [A-Za-z0-9_.-], not starting with '.' or '-'
 * (it becomes a directory name).  Rules are tried in file order.
 * A record rule's PATTERN is a LogsQL filter without pipes (source:db,
 * host:gpu* AND NOT level:debug); it is parsed here, so a bad one is an
 * error with its column.
 *
 * Returns 0, or -1 with "NAME:LINE: what" in err (rs is then freed).
 * Zero-initialise rs first; release it with cr_free.
 */
int cr_parse(struct catrules *rs, const char *text, size_t len, const char *name,
    char *err, size_t errsz);
void cr_free(struct catrules *rs);
/* Set up rs as the built-in rules alone (what no rules file means). */
void cr_init_builtin(struct catrules *rs);

/*
 * What a rule looks at.  content is called at most once, and only when a
 * content rule is reached; it returns 0 with the file's first bytes, or
 * -1 when the file cannot be read (the content rules then do not match).
 */
struct cr_subject {
	const char *path;	/* NUL-terminated: path[pathlen] == '\0' */
	size_t pathlen;
	int (*content)(void *ctx, const char **buf, size_t *len);
	void *ctx;
	/*
	 * The record naming the file, or NULL (a bare path).  Only record
	 * rules look at it; they never match a bare path.  With pathlen 0
	 * (a record that names no file) only record rules are tried.
	 */
	struct json_object *rec;
	/* filled in by cr_match */
	const char *cbuf;
	size_t clen;
	int cstate;		/* 0 not fetched, 1 fetched, -1 unreadable */
};

/* The category of s: the first rule that matches, or CR_UNCATEGORIZED. */
const char *cr_match(struct catrules *rs, struct cr_subject *s);

/* The file name part of path[0..n) (after the last '/'). */
const char *cr_basename(const char *path, size_t n, size_t *namelen);

#endif
