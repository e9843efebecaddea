/* spool.c: unit tests for the spool journal (records, CRC, torn tails, acks, compaction). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/spool.h"
#include "t.h"

static char dir[] = "/tmp/spool-unit.XXXXXX";

static long
fsize(const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void
truncate_by(long n)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/journal", dir);
	if (truncate(p, fsize("journal") - n) != 0)
		perror("truncate");
}

int
main(void)
{
	struct spool s;
	struct sb b = SB_INIT;
	struct spool_rec r;
	char err[128], p[300];
	unsigned char bad[64];

	/* encode / parse round trip, and every way a record can be wrong */
	ok(spool_encode(&b, SPOOL_DATA, "hello\n", 6) == 0, "encode");
	ok(spool_parse((unsigned char *)b.buf, b.len, &r, err, sizeof(err)) == 18, "parse size");
	ok(r.type == SPOOL_DATA && r.len == 6 && memcmp(r.payload, "hello\n", 6) == 0, "payload");
	for (size_t cut = 0; cut < b.len; cut++)
		if (spool_parse((unsigned char *)b.buf, cut, &r, err, sizeof(err)) != 0)
			ok(0, "torn record at %zu is not 'incomplete'", cut);
	ok(1, "every prefix is incomplete, not corrupt");
	memcpy(bad, b.buf, b.len);
	bad[14] ^= 1;
	ok(spool_parse(bad, b.len, &r, err, sizeof(err)) == -1, "flipped payload bit");
	is_str(err, "CRC mismatch", "reason");
	memcpy(bad, b.buf, b.len);
	bad[0] = 'X';
	ok(spool_parse(bad, b.len, &r, err, sizeof(err)) == -1, "bad type");
	memcpy(bad, b.buf, b.len);
	bad[7] = 0x7f;
	ok(spool_parse(bad, b.len, &r, err, sizeof(err)) == -1, "huge length");
	b.len = 0;
	ok(spool_encode(&b, SPOOL_ACK, "\1\0\0\0\0\0\0\0", 8) == 0 &&
	    spool_parse((unsigned char *)b.buf, b.len, &r, err, sizeof(err)) == 20 && r.ack == 1,
	    "ack record");
	sb_free(&b);

	/* a journal: append, ack part, reopen: only the rest is pending */
	if (!mkdtemp(dir))
		return 1;
	ok(spool_open(&s, dir) == 0 && s.pending.len == 0, "fresh spool");
	ok(spool_append(&s, "a\nb\n", 4) == 0 && spool_append(&s, "c\n", 2) == 0, "append");
	ok(spool_ack(&s, 2) == 0, "ack a");
	spool_close(&s);
	ok(spool_open(&s, dir) == 0 && s.pending.len == 4 &&
	    memcmp(s.pending.buf, "b\nc\n", 4) == 0, "reopen: b and c pending");
	ok(fsize("journal") == 8 + 12 + 4, "reopen compacts");
	/* a second opener is refused while we hold it */
	{
		struct spool s2;

		ok(spool_open(&s2, dir) == -1 && strstr(s2.err, "in use") != NULL,
		    "second opener refused: %s", s2.err);
	}
	ok(spool_append(&s, "d\n", 2) == 0, "append d");
	spool_close(&s);
	truncate_by(1);	/* killed while writing d's record */
	ok(spool_open(&s, dir) == 0 && s.pending.len == 4 && s.torn_bytes == 13,
	    "torn tail cut: %zu pending, %llu torn", s.pending.len,
	    (unsigned long long)s.torn_bytes);
	ok(spool_ack(&s, 4) == 0 && fsize("journal") == 8, "all acked: emptied");
	spool_close(&s);
	/* corruption in the middle: the rest is set aside */
	ok(spool_open(&s, dir) == 0 && spool_append(&s, "e\n", 2) == 0 &&
	    spool_append(&s, "f\n", 2) == 0, "two records");
	spool_close(&s);
	snprintf(p, sizeof(p), "%s/journal", dir);
	{
		int fd = open(p, O_RDWR);

		ok(fd >= 0 && pwrite(fd, "X", 1, 8 + 12) == 1, "corrupt first payload");
		close(fd);
	}
	ok(spool_open(&s, dir) == 0 && s.pending.len == 0 && s.bad_bytes == 28,
	    "corrupt record and the rest set aside (%llu bytes)", (unsigned long long)s.bad_bytes);
	ok(fsize("journal.corrupt") == 28, "journal.corrupt kept");
	spool_close(&s);
	/* a foreign file is refused by name */
	{
		FILE *fp = fopen(p, "w");

		fputs("LKSPOOL\002 future version", fp);
		fclose(fp);
	}
	ok(spool_open(&s, dir) == -1 && strstr(s.err, "unsupported version 2"), "version: %s", s.err);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p) != 0)
		return 1;
	return t_done();
}
