/* follow_st.h: the follower's state file (format in logcat(1), FILES): parse, write, save. */
#ifndef LOGKIT_FOLLOW_ST_H
#define LOGKIT_FOLLOW_ST_H

#include <stddef.h>

#include "sb.h"

/*
 * The text: a line "logkit-follow 1", then per file one line
 * "DEV INO OFFSET LINE HASHLEN HASH CUT PATH": decimal numbers without
 * sign or leading zeros, HASH the XXH64 of the file's first HASHLEN bytes
 * (HASHLEN <= 1024 and <= OFFSET) as 16 lower-case hex digits, CUT 0 or
 * 1, PATH absolute with backslash and newline written \\ and \n.  Only
 * this canonical spelling is read, so what parses is written back byte
 * for byte.
 */
#define FST_HASH_MAX 1024

/* One file: where reading stopped. */
struct fw_ent {
	char *key;		/* absolute path */
	unsigned long long dev, ino, off, line, hash;
	unsigned hashlen;	/* hash is XXH64 of the first hashlen bytes */
	int cut;		/* inside a line cut at max_line: drop up to '\n' */
};

/* Parse text (an empty one has no entries): 0, or -1 with "name:LINE: why". */
int fst_parse(const char *name, const char *text, size_t n, struct fw_ent **ents,
    size_t *nents, char *err, size_t errsz);
/* Append the text of e[0..n) to o.  0 or -1 (ENOMEM). */
int fst_format(struct sb *o, const struct fw_ent *e, size_t n);
/* Read and parse path; a missing file has no entries.  0 or -1 with err. */
int fst_load(const char *path, struct fw_ent **ents, size_t *nents, char *err,
    size_t errsz);
/* Write path: temp file, fsync, rename, fsync of the directory.  0 or -1 (errno). */
int fst_save(const char *path, const struct fw_ent *e, size_t n);
void fst_free(struct fw_ent *e, size_t n);
/* The directory part of path in buf ("." when it has none). */
void fst_dir(const char *path, char *buf, size_t bufsz);

#endif
