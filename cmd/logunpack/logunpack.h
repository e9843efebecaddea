/* logunpack.h: logunpack's state shared by its archive reading, extracting and --lines code. */
#ifndef LOGUNPACK_H
#define LOGUNPACK_H

#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>

#include "../../common/sb.h"

struct lu {
	/* options */
	const char *target;	/* -C */
	int lines, overwrite, strict;
	char **members;		/* --member globs, NULL-terminated */
	uint64_t max_bytes;	/* 0: derived from the archive size */
	uint64_t max_entries;
	uint64_t max_ratio;	/* 0: off */
	uint64_t max_window;
	/* per archive */
	const char *name;	/* archive as named by the user */
	const char *rawname;	/* member name for a lone compressed file */
	uint64_t cap_bytes;	/* max_bytes in force for this archive */
	uint64_t out_bytes, entries;
	uint64_t *raw_in;	/* compressed bytes read so far */
	int refused;		/* members refused in this archive */
	int stop;		/* give up on the rest of this archive */
	struct sb out;		/* records not yet written */
	const char *src_err;	/* the decoder's own reason, when it failed */
	char last_member[256];	/* for errors between members */
};

/* What a cap check says. */
int lu_over_caps(struct lu *u, uint64_t more, char *why, size_t whysz);
/* Does member name pass the --member globs? */
int lu_selected(const struct lu *u, const char *name);
/* The best reason for a libarchive failure: the decoder's own, or libarchive's. */
const char *lu_errstr(const struct lu *u, struct archive *a);
/* Flush u->out to stdout when it is big (force: always). */
void lu_flush(struct lu *u, int force);
/* "logunpack: ARCHIVE: MEMBER: why" and count the refusal. */
void lu_refuse(struct lu *u, const char *member, const char *why);

/* extract.c: write the members of a under the target directory. Returns 0, or -1 when the archive could not be processed to the end. */
int extract_archive(struct lu *u, struct archive *a, const char *target, int made_target);
/* extract.c: remove the temp file being written (from a signal handler). */
void extract_cleanup_signal(void);

/* lines.c: stream the text members of a as records. Returns 0 or -1 like extract_archive. */
int lines_archive(struct lu *u, struct archive *a, const char *rawname);

#endif
