/* logunpack.h: logunpack's state shared by its archive reading, extracting and --lines code. */
#ifndef LOGUNPACK_H
#define LOGUNPACK_H

#include <pthread.h>
#include <stdint.h>
#include <archive.h>
#include <zstd.h>
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
	int compressed;		/* our zstd decoder runs (libarchive sees no filter) */
	char last_member[256];	/* for errors between members */
};

enum { MIB = 1024 * 1024 };
#define RATIO_FLOOR (16ULL * MIB)	/* the ratio cap starts to count here */

/*
 * src.c: the bytes libarchive reads.  A zstd stream is decoded there
 * rather than by libarchive's filter so that the window limit holds for
 * every frame, and on a second thread; other formats pass through.
 */
#define NSLOT 3
struct slot {
	unsigned char *buf;
	size_t len;
	uint64_t raw_in;	/* compressed bytes consumed when it was filled */
	int full;
};

struct src {
	int fd;
	int zstd;
	ZSTD_DStream *zd;
	ZSTD_inBuffer ib;
	unsigned char *in, *out;
	size_t cap;
	int eof;
	uint64_t raw_in;	/* decoder side: compressed bytes consumed */
	uint64_t produced;	/* decoder side: decompressed bytes made */
	size_t last;		/* ZSTD_decompressStream's last hint: 0 at a frame end */
	uint64_t max_window;
	uint64_t cap_bytes, max_ratio;	/* the caps, as in struct lu */
	char err[256];		/* set by the decoder before done */
	/* the hand-over between the decoder thread and libarchive's reads */
	struct slot slot[NSLOT];
	int head;		/* next slot the reader takes */
	int held;		/* slot libarchive is holding, or -1 */
	int done;		/* decoder finished: 1 at end, -1 on error */
	int quit;
	int started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t raw_main;	/* reader side: what the caps see */
	char err_main[256];	/* reader side: s->err, once the decoder is done */
};

/* Start on fd (sniffs the zstd magic; caps from lu).  Returns 0 or -1 (errno). */
int src_open(struct src *s, int fd, const struct lu *lu);
/* The archive_read_open read callback, with a struct src as client data. */
la_ssize_t src_read_first(struct archive *a, void *ud, const void **buf);
void src_close(struct src *s);

/* What a cap check says. */
int lu_over_caps(struct lu *u, uint64_t more, char *why, size_t whysz);
/*
 * The name of the member whose header was just read (the file's own name
 * for a lone compressed file), or NULL when the archive must stop there:
 * too many entries, or not an archive at all.
 */
const char *lu_member(struct lu *u, struct archive *a, struct archive_entry *e);
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
int lines_archive(struct lu *u, struct archive *a);

#endif
