/* idx.c: unit tests of the index writer and reader: round trip, push-down skips, merge, retention, damage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../common/idx.h"
#include "../../common/idx_fmt.h"
#include "../../common/idx_write.h"
#include "../../common/qry.h"
#include "../../common/tok.h"
#include "t.h"

#define DAY 86400000000000LL
#define T0 1747457048000000000LL	/* 2025-05-17T04:44:08Z */

static char dir[256];
static int nwarn;
static char lastwarn[4400];

static void
on_warn(void *arg, const char *msg)
{
	(void)arg;
	nwarn++;
	snprintf(lastwarn, sizeof(lastwarn), "%s", msg);
}

struct cnt {
	struct qry *q;
	long seen, matched;
};

static int
count_cb(void *arg, struct json_object *rec)
{
	struct cnt *c = arg;

	c->seen++;
	c->matched += qry_match(c->q, rec);
	return 0;
}

/* Matches of text over the index; st filled. */
static long
query(const char *text, struct idx_scan_stats *st)
{
	struct qry_err qe;
	struct cnt c = { qry_parse(text, strlen(text), &qe), 0, 0 };
	char err[512];
	struct idx *ix = idx_open(dir, on_warn, NULL, err, sizeof(err));

	if (c.q == NULL || ix == NULL) {
		printf("# %s: %s\n", text, ix ? qe.msg : err);
		return -1;
	}
	if (idx_scan(ix, c.q, count_cb, &c, st, err, sizeof(err)) < 0)
		c.matched = -1;
	idx_close(ix);
	qry_free(c.q);
	return c.matched;
}

static void
fill(struct idx_w *w, int n, int64_t base)
{
	static const char *const sev[] = { "INFO", "WARN", "ERROR" };
	char msg[100], id[40], lat[20], err[512];

	for (int i = 0; i < n; i++) {
		const char *st = i % 3 == 0 ? "{app=\"a\"}" : i % 3 == 1 ? "{app=\"b\"}" : "{app=\"c\"}";
		struct idx_kv kv[4] = {
			{ "_msg", 4, msg, 0 }, { "severity", 8, sev[i % 3], strlen(sev[i % 3]) },
			{ "id", 2, id, 0 }, { "latency", 7, lat, 0 },
		};

		snprintf(msg, sizeof(msg), "request %d done%s", i, i == 4242 ? " coredump here" : "");
		snprintf(id, sizeof(id), "id-%08d", i);
		snprintf(lat, sizeof(lat), "%d.5", i % 1000);
		kv[0].vn = strlen(msg);
		kv[2].vn = strlen(id);
		kv[3].vn = strlen(lat);
		if (idx_w_add(w, st, strlen(st), base + (int64_t)i * 1000000, kv, 4, err, sizeof(err)) < 0)
			printf("# add: %s\n", err);
	}
}

/*
 * Tiered merges: commits of parts over 2 MiB pile up to 32 in the tier
 * [2 MiB, 64 MiB), then the 32 become one part.  Values are random
 * letters and digits, which zstd cannot shrink below the 2 MiB a part
 * needs to leave the small parts' rule.
 */
static void
tiers(void)
{
	struct idx_w_opts o = { 1, 0, 100000, 8, 0 };
	struct idx_scan_stats st;
	static const char an[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char err[4400], v[257];
	uint64_t x = 88172645463325252ULL;
	struct idx_w *w;
	long parts = 0;
	int i, k;

	snprintf(dir, sizeof(dir), "/tmp/idx-tiers.%ld", (long)getpid());
	if ((w = idx_w_open(dir, &o, on_warn, NULL, err, sizeof(err))) == NULL) {
		ok(0, "tiers: open: %s", err);
		return;
	}
	for (k = 0; k < 33; k++) {
		for (i = 0; i < 12000; i++) {
			struct idx_kv kv = { "_msg", 4, v, 256 };

			for (int j = 0; j < 256; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				v[j] = an[x % 62];
			}
			if (k == 5 && i == 77)
				memcpy(v, "needle ", 7);
			idx_w_add(w, "{}", 2, T0 + ((int64_t)k * 12000 + i) * 1000000, &kv, 1, err, sizeof(err));
		}
		if (idx_w_commit(w, err, sizeof(err)) < 0) {
			ok(0, "tiers: commit %d: %s", k, err);
			break;
		}
		query("* | stats count()", &st);
		parts = (long)st.parts;
		if (k == 30)
			ok(parts == 31, "31 parts of one tier stay: %ld", parts);
	}
	ok(parts == 2, "the 32nd made them one, the 33rd another: %ld parts", parts);
	ok(query("*", &st) == 33 * 12000, "every record kept");
	ok(query("needle", &st) == 1, "a word still found");
	idx_w_close(w);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	ok(system(err) == 0, "tiers: cleanup");
}

/* The only part of dir: its path in buf. */
static int
only_part(char *buf, size_t n)
{
	char cmd[600];
	FILE *fp;
	int ok1;

	snprintf(cmd, sizeof(cmd), "ls %s/*/*.part", dir);
	if ((fp = popen(cmd, "r")) == NULL)
		return 0;
	ok1 = fgets(buf, (int)n, fp) != NULL;
	pclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
	return ok1;
}

/*
 * Version 3's column forms: a column of lowercase uuids goes as 16 bytes
 * a row (IDX_ENC_UUID, stored); one uppercase uuid keeps the column text;
 * a small column is stored; a big one is zstd's.  Each reads back as
 * written, and a stored column whose sizes disagree is refused at open.
 */
static void
encodings(void)
{
	struct idx_w_opts o = { 1, 0, 0, 0, 0 };
	struct idx_scan_stats st;
	struct idx_part p;
	struct idx_w *w;
	char err[4400], path[512], msg[200], u[40], mixed[40], cmd[600];
	int seen[8] = { 0 };
	unsigned char *copy;

	snprintf(dir, sizeof(dir), "/tmp/idx-enc.%ld", (long)getpid());
	if ((w = idx_w_open(dir, &o, on_warn, NULL, err, sizeof(err))) == NULL) {
		ok(0, "encodings: open: %s", err);
		return;
	}
	for (int i = 0; i < 1000; i++) {
		struct idx_kv kv[4] = {
			{ "_msg", 4, msg, 0 }, { "u", 1, u, 36 }, { "mixed", 5, mixed, 36 },
			{ "sev", 3, i % 2 ? "INFO" : "ERROR", i % 2 ? 4u : 5u },
		};

		snprintf(u, sizeof(u), "%08x-0000-4000-8000-%012x", (unsigned)i, (unsigned)i * 7919);
		memcpy(mixed, u, 37);
		if (i == 500)
			mixed[0] = 'A';
		snprintf(msg, sizeof(msg), "request %d served in %d ms by worker %d", i, i % 97, i % 7);
		kv[0].vn = strlen(msg);
		idx_w_add(w, "{}", 2, T0 + (int64_t)i * 1000000, kv, 4, err, sizeof(err));
	}
	ok(idx_w_commit(w, err, sizeof(err)) == 0, "encodings: commit: %s", err);
	idx_w_close(w);
	if (!only_part(path, sizeof(path)) || idx_part_open(&p, path, err, sizeof(err)) < 0) {
		ok(0, "encodings: open part: %s", err);
		return;
	}
	ok(p.version == IDX_PART_VERSION, "version %u", p.version);
	for (uint32_t b = 0; b < p.nblocks; b++)
		for (uint32_t k = 0; k < p.blocks[b].ncols; k++) {
			struct idx_col c;
			const char *f;
			size_t fl;

			idx_col_get(&p.blocks[b], k, &c);
			f = p.fields[c.field].name;
			fl = p.fields[c.field].nlen;
			if (fl == 1 && f[0] == 'u')
				seen[0] += c.enc == IDX_ENC_UUID && (c.flags & IDX_COL_STORED) &&
				    c.csize == 16 * p.blocks[b].nrows;
			else if (fl == 5 && memcmp(f, "mixed", 5) == 0)
				seen[1] += c.enc == (p.blocks[b].tmin <= T0 + 500000000LL &&
				    p.blocks[b].tmax >= T0 + 500000000LL ? IDX_ENC_PLAIN : IDX_ENC_UUID);
			else if (fl == 3 && memcmp(f, "sev", 3) == 0)
				seen[2] += c.enc == IDX_ENC_DICT && (c.flags & IDX_COL_STORED);
			else if (fl == 4 && memcmp(f, "_msg", 4) == 0)
				seen[3] += c.enc == IDX_ENC_PLAIN && !(c.flags & IDX_COL_STORED) &&
				    c.csize < c.rawsize;
		}
	ok(p.nblocks > 1 && seen[0] == (int)p.nblocks, "lowercase uuids: 16 bytes a row, stored (%d of %u blocks)",
	    seen[0], p.nblocks);
	ok(seen[1] == (int)p.nblocks, "one uppercase uuid: its block keeps the column text");
	ok(seen[2] == (int)p.nblocks, "a small dictionary column is stored");
	ok(seen[3] == (int)p.nblocks, "a big column is compressed");
	ok(query("u:=\"000003e7-0000-4000-8000-00000078b6a9\" sev:INFO", &st) == 1, "a uuid found by its text");
	ok(query("u:000003e7*", &st) == 1 && query("mixed:A*", &st) == 1 &&
	    query("u:~\"^000003e7-\"", &st) == 1, "prefix and regex over uuids");
	ok(query("*", &st) == 1000, "every record reads back");

	/* a uuid column whose size disagrees, the index checksum made right */
	copy = malloc(p.size);
	memcpy(copy, p.map, p.size);
	for (uint32_t k = 0; k < p.blocks[0].ncols; k++) {
		unsigned char *d = copy + (p.blocks[0].cols - p.map) + (size_t)k * IDX_COL_DESC;

		if (d[4] == IDX_ENC_UUID)
			idx_put32(d + 16, 15999);
	}
	{
		unsigned char *f = copy + p.size - IDX_PART_FTR;
		uint64_t ioff = idx_get64(f), isz = idx_get64(f + 8);
		struct idx_part q = { 0 };

		idx_put64(f + 40, XXH64(copy + ioff, isz, 0));
		ok(idx_part_parse(&q, copy, p.size, err, sizeof(err)) < 0 &&
		    strstr(err, "bad column descriptor") != NULL, "a uuid column of the wrong size: %s", err);
		free(q.fields);
		free(q.streams);
		free(q.blocks);
	}
	free(copy);
	idx_part_close(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ok(system(cmd) == 0, "encodings: cleanup");
}

/* idx_tokens must hash exactly the words tok_each finds: a search hashes those. */
struct toks {
	uint64_t h[64];
	size_t n;
};

static void
tok_hash(void *arg, uint64_t h)
{
	struct toks *t = arg;

	if (t->n < 64)
		t->h[t->n++] = h;
}

static int
tok_word(void *arg, const char *w, size_t n)
{
	tok_hash(arg, idx_hash(w, n));
	return 0;
}

static void
tokens_agree(void)
{
	static const char *in[] = {
		"", "a", "disk error on node-3: /dev/sda1 failed, errors=42",
		"__init__ x_y 0x1F  tabs\tand\nnewlines", "Ünïcode straße café-bar",
		"日本語 テキスト mixed日本ascii", "trailing-", "-leading", "a\u00e9b",
		"ee0368b3-0b89-4cb1-835d-29460f349bef", "   ", "\x80\xff broken utf8 \xc3",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
		struct toks a = { { 0 }, 0 }, b = { { 0 }, 0 };

		idx_tokens(in[i], strlen(in[i]), tok_hash, &a);
		tok_each(in[i], strlen(in[i]), tok_word, &b);
		ok(a.n == b.n && memcmp(a.h, b.h, a.n * sizeof(*a.h)) == 0,
		    "idx_tokens agrees with tok_each on '%s' (%zu, %zu words)", in[i], a.n, b.n);
	}
}

int
main(void)
{
	struct idx_w_opts o = { 1, 0, 2, 0, 0 };
	struct idx_scan_stats st;
	struct idx_w *w, *w2;
	char err[4400], path[512];
	unsigned days;
	uint64_t recs;
	long n;

	snprintf(dir, sizeof(dir), "/tmp/idx-unit.%ld", (long)getpid());
	w = idx_w_open(dir, &o, on_warn, NULL, err, sizeof(err));
	ok(w != NULL, "open for writing: %s", w ? "" : err);
	if (w == NULL)
		return t_done();
	w2 = idx_w_open(dir, &o, on_warn, NULL, err, sizeof(err));
	ok(w2 == NULL && strstr(err, "locked by another logindex (pid ") != NULL, "second writer refused: %s", err);
	fill(w, 30000, T0);
	ok(nwarn == 1 && strstr(lastwarn, "--max-streams 2") != NULL, "cardinality warning: %s", lastwarn);
	ok(idx_w_commit(w, err, sizeof(err)) == 0, "commit 1: %s", err);
	fill(w, 9000, T0 + DAY);
	ok(idx_w_commit(w, err, sizeof(err)) == 0, "commit 2: %s", err);
	ok(idx_w_committed(w) == 39000, "committed count");

	ok(query("*", &st) == 39000, "all records come back");
	ok(st.parts == 2, "two parts (two days): %llu", st.parts);
	ok(query("severity:ERROR", &st) == 13000, "severity:ERROR");
	n = query("coredump", &st);
	ok(n == 2, "rare word in both days: %ld", n);
	ok(st.skip_token + st.skip_stream >= st.blocks - 4, "bloom skipped most blocks: %llu of %llu",
	    st.skip_token + st.skip_stream, st.blocks);
	ok(query("{app=\"b\"}", &st) == 13000 && st.skip_stream > 0, "stream filter skips blocks");
	ok(query("id:=\"id-00004242\"", &st) == 2, "exact value");
	ok(query("latency:>998", &st) == 78, "numeric range");
	n = query("latency:>5000", &st);
	ok(n == 0 && st.skip_range == st.blocks - st.skip_field, "numeric range skips: %llu of %llu", st.skip_range, st.blocks);
	n = query("_time:[2025-05-17T04:44:08Z, 2025-05-17T04:44:09Z)", &st);
	ok(n == 1000 && st.skip_time > 0 && st.parts_skipped_time == 1,
	    "time range skips blocks (%llu) and parts (%llu)", st.skip_time, st.parts_skipped_time);
	n = query("nosuchword", &st);
	ok(n == 0 && st.blocks_read <= 1, "absent word reads no block (bloom false positives aside): %llu",
	    st.blocks_read);

	/* merge keeps every record; retention drops the old day */
	fill(w, 100, T0);
	ok(idx_w_commit(w, err, sizeof(err)) == 0, "commit 3");
	ok(idx_w_merge_all(w, err, sizeof(err)) == 0, "merge: %s", err);
	ok(query("*", &st) == 39100 && st.parts == 2, "after merge: %llu parts", st.parts);
	ok(query("coredump", &st) == 2, "rare word after merge");
	ok(idx_w_retention(w, T0 + DAY / 2, &days, err, sizeof(err)) == 0 && days == 0, "nothing expires yet");
	ok(idx_w_retention(w, T0 + DAY, &days, err, sizeof(err)) == 0 && days == 1, "first day expires");
	ok(query("*", &st) == 9000 && st.parts == 1, "one day left");
	idx_w_close(w);
	ok(idx_verify(dir, on_warn, NULL, &recs, err, sizeof(err)) == 0 && recs == 9000, "verify clean");

	/* damage: flip a byte inside column data */
	{
		struct idx_man m;
		int fd;

		idx_man_read(&m, dir, err, sizeof(err));
		idx_part_path(dir, m.e[0].day, m.e[0].id, path, sizeof(path));
		idx_man_free(&m);
		fd = open(path, O_RDWR);
		pwrite(fd, "\xff\xff\xff\xff", 4, 200);
		close(fd);
		nwarn = 0;
		ok(idx_verify(dir, on_warn, NULL, &recs, err, sizeof(err)) == 1 && strstr(lastwarn, path) &&
		    strstr(lastwarn, "(offset "), "verify names part and offset: %s", lastwarn);
		nwarn = 0;
		n = query("*", &st);
		ok(nwarn == 1 && st.parts_bad == 1, "scan warns about the bad part: %s", lastwarn);
		(void)n;
		/* an unknown version is refused by name */
		fd = open(path, O_RDWR);
		pwrite(fd, "\x07\x00\x00\x00", 4, 8);
		close(fd);
		nwarn = 0;
		query("*", &st);
		ok(strstr(lastwarn, "format version 7 is not supported") != NULL, "newer version: %s", lastwarn);
	}
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	ok(system(err) == 0, "cleanup");
	tokens_agree();
	encodings();
	tiers();
	is_str("idx", "idx", "done");
	return t_done();
}
