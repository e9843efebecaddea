/* idx.h: reading a logindex directory: open a consistent snapshot and scan it with a query's push-down. */
#ifndef LOGKIT_IDX_H
#define LOGKIT_IDX_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "qry.h"

/*
 * The on-disk format is described in logindex(5).  An index directory
 * holds a MANIFEST listing immutable part files, one UTC day per part;
 * inside a part, records are grouped by stream and sorted by _time,
 * stored in blocks of columns with per-block time range, token bloom
 * filters, numeric min/max and dictionaries.
 *
 * Snapshots: idx_open reads the MANIFEST and maps every part it lists.
 * A writer replaces the MANIFEST atomically (rename) before it unlinks
 * the parts a merge or --retention made obsolete, and a mapped part
 * stays readable after unlink, so the open index sees exactly the
 * records of the manifest it read, however long it is used.  If a part
 * vanishes between reading the MANIFEST and mapping it, idx_open reads
 * the new MANIFEST and tries again (a few times).
 *
 * Damage: a part whose header, footer or checksums do not verify is
 * skipped with a warning (through the warn callback) naming the file and
 * the offset; the other parts are still read.  A missing MANIFEST, an
 * unknown format version or a malformed MANIFEST make idx_open fail.
 *
 * Nothing here prints or exits; nothing is thread-shared: use one
 * struct idx per thread.
 */

struct idx;

/* Called with a one-line message ("DIR/20250517/p000003.part: bad
   block checksum (offset 4096)"); msg is valid only during the call. */
typedef void (*idx_warn_fn)(void *arg, const char *msg);

/*
 * Open the index in dir.  Returns NULL with err filled ("DIR: no
 * MANIFEST (not a logindex directory)", "DIR/MANIFEST: format version 3
 * is not supported (this build reads version 2)", "out of memory").
 * warn may be NULL; parts that fail validation at open are reported
 * through it and left out.
 */
struct idx *idx_open(const char *dir, idx_warn_fn warn, void *warn_arg,
    char *err, size_t errsz);
void idx_close(struct idx *ix);

/* What idx_scan did, for logq --explain. */
struct idx_scan_stats {
	unsigned long long parts;		/* parts in the snapshot */
	unsigned long long parts_skipped_time;	/* whole part outside the time range */
	unsigned long long parts_bad;		/* skipped as damaged (warned) */
	unsigned long long blocks;		/* blocks in the parts looked at */
	unsigned long long skip_time;		/* blocks skipped: time range */
	unsigned long long skip_stream;		/*   stream ruled out */
	unsigned long long skip_token;		/*   bloom filter: a word is absent */
	unsigned long long skip_field;		/*   a needed field is absent */
	unsigned long long skip_range;		/*   numeric min/max */
	unsigned long long blocks_read;		/* blocks whose columns were decoded */
	unsigned long long bytes_read;		/* compressed column bytes decoded */
	unsigned long long rows_read;		/* rows of the blocks read */
	unsigned long long rows_prefiltered;	/* rows dropped by the per-row word test */
	unsigned long long records;		/* records handed to the callback */
	unsigned long long rows_counted;	/* rows counted by dictionary code, no record each */
};

/*
 * Hand the records of the snapshot that may match q's filter to cb, one
 * by one.  Blocks are skipped with qry_time_bounds, qry_stream_may_match
 * and qry_block_may_match against each block's bloom filters and
 * min/max; rows of the remaining blocks are tested word by word on the
 * raw column values before a record is built.  cb gets every record
 * that may match, not only those that do: the caller still runs
 * qry_match / qry_run_push.  Only the columns qry_fields asks for are
 * decoded (plus those the filter tests), so records carry just those
 * fields when the query does not need them all.
 *
 * Records are in the LogsQL data model (every value a string, nested
 * fields flattened to dotted names) with _time (RFC 3339, 9 digits),
 * _stream and _msg when present.  rec is borrowed: json_object_get it to
 * keep it, and do not modify it (the same object may be handed out
 * again for another row with equal values).
 *
 * Order: parts in day order (then oldest part first); inside a part,
 * stream by stream, and in _time order within a stream.  There is no
 * global time order across streams or parts: sort in the query.
 *
 * cb returns 0 to go on or nonzero to stop; that value is returned.
 * Returns 0 when every block was seen, -1 with err filled on a fatal
 * error (out of memory).  Damaged blocks met while scanning are warned
 * about and their part's remaining blocks skipped (counted in
 * st->parts_bad), which is not an error.  st may be NULL; it is zeroed
 * first.
 */
int idx_scan(struct idx *ix, struct qry *q,
    int (*cb)(void *arg, struct json_object *rec), void *arg,
    struct idx_scan_stats *st, char *err, size_t errsz);

/*
 * idx_scan for a query whose pipeline takes weighted records
 * (qry_run_weighted: a first stats pipe that only counts).  Records may
 * come to cbn(arg, rec, n, tested) instead of cb: rec stands for n rows
 * with equal values, and tested is 1 when every one of them is known to
 * match the filter (the block's time range, stream and filters said so),
 * in which case rec carries only the fields the stats pipe reads.  Rows
 * of a block whose needed columns are all dictionaries are counted by
 * their codes, without a record each (st->rows_counted).  When the query
 * does not qualify, this is idx_scan.
 */
int idx_scan_weighted(struct idx *ix, struct qry *q,
    int (*cb)(void *arg, struct json_object *rec),
    int (*cbn)(void *arg, struct json_object *rec, uint64_t n, int tested), void *arg,
    struct idx_scan_stats *st, char *err, size_t errsz);

#endif
