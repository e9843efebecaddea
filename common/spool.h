/* spool.h: logpush's spool, an append-only journal of input bytes and acknowledgements. */
#ifndef LOGKIT_SPOOL_H
#define LOGKIT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/*
 * File DIR/journal (described in logpush(1), FILES):
 *
 *   header  8 bytes  "LKSPOOL" + version byte 1
 *   record  u8 type ('D' data, 'A' ack), 3 zero bytes,
 *           u32 payload length, u32 CRC-32 (zlib) of the 8 bytes before
 *           it and the payload, then the payload.  Integers little-endian.
 *
 * Data payloads concatenated are the input byte stream as read; an ack
 * payload is a u64: the stream offset up to which every record has had
 * its final outcome (delivered or dead-lettered).  Acks only grow.
 * A record cut short (the writer was killed) ends the valid part; the
 * writer truncates the file there before appending.
 */
#define SPOOL_MAGIC	"LKSPOOL\001"
#define SPOOL_HDRSZ	8
#define SPOOL_RECHDR	12
/* Largest payload a record may claim; a longer one is corrupt. */
#define SPOOL_MAXREC	(64u << 20)

enum { SPOOL_DATA = 'D', SPOOL_ACK = 'A' };

struct spool_rec {
	int type;
	const unsigned char *payload;
	uint32_t len;
	uint64_t ack;		/* SPOOL_ACK: acknowledged stream offset */
};

/*
 * Parse the record at buf[0..n).  Returns the record's total size (> 0)
 * with *r set; 0 when buf holds only the start of a record (torn tail);
 * -1 when it is corrupt (bad type, size, CRC, or ack payload), with a
 * reason in err.
 */
long spool_parse(const unsigned char *buf, size_t n, struct spool_rec *r,
    char *err, size_t errsz);
/* 1 if buf starts with a valid file header. */
int spool_header_ok(const unsigned char *buf, size_t n);
/* Append one record to out.  Returns 0 or -1 (ENOMEM). */
int spool_encode(struct sb *out, int type, const void *payload, uint32_t len);

/*
 * An open spool.  spool_open takes an exclusive lock on DIR/lock (so a
 * second logpush on the same spool fails with EWOULDBLOCK), reads the
 * journal, truncates a torn tail, and leaves the unacknowledged input in
 * pending (caller frees nothing: spool_close does).  A corrupt record in
 * the middle stops the scan: the rest is moved to DIR/journal.corrupt
 * and counted in bad_bytes.
 */
struct spool {
	int fd, lockfd;
	char *dir;
	uint64_t stream;	/* stream offset of the end of the journal */
	uint64_t acked;		/* stream offset acknowledged */
	uint64_t base;		/* stream offset of the journal's first data byte */
	uint64_t file_end;	/* valid end of the journal file */
	uint64_t bad_bytes;	/* bytes set aside as corrupt */
	uint64_t torn_bytes;	/* bytes of a torn tail cut off */
	struct sb pending;	/* stream bytes [acked, stream), kept for compaction */
	char err[256];
};

/* Returns 0, or -1 with errno set and s->err describing the failure. */
int spool_open(struct spool *s, const char *dir);
/* Append input bytes (one data record).  0 or -1 (errno). */
int spool_append(struct spool *s, const void *p, size_t n);
/* Make appended data durable (fdatasync).  0 or -1. */
int spool_sync(struct spool *s);
/*
 * Acknowledge the stream up to off (a stream offset: the bytes of the
 * pending replay count from 0, appended bytes follow).  When everything
 * is acknowledged, or the journal has grown past SPOOL_COMPACT, it is
 * rewritten as header + one data record of the unacknowledged bytes
 * (temp file, fsync, rename), which keeps it small.  0 or -1.
 */
#define SPOOL_COMPACT	(8u << 20)
int spool_ack(struct spool *s, uint64_t off);
void spool_close(struct spool *s);

#endif
