/* loggen.c: deterministic generator of realistic test-run logs, for tests, benchmarks and the demo. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ts.h"

/*
 * Every output is a pure function of (kind, seed, size), so benchmarks and
 * tests regenerate the same bytes.  Values follow a Zipf-like law (a few
 * nodes and event types dominate) and rare words appear at fixed rates:
 *   "coredump"  in ~1 of 10800 events lines (~250 in 2.7 M records)
 *   "segfault"  in ~1 of 2000 service ERROR events
 * and every event_id is a fresh uuid (each appears once).
 */

static uint64_t rng;

static uint64_t
next(void)	/* splitmix64 */
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
unif(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

/* Zipf(s=1.1) over n items, by inversion of a precomputed table. */
struct zipf {
	size_t n;
	double *cdf;
};

static void
zipf_init(struct zipf *z, size_t n)
{
	double sum = 0;

	z->n = n;
	if ((z->cdf = malloc(n * sizeof(double))) == NULL)
		exit(2);
	for (size_t i = 0; i < n; i++)
		z->cdf[i] = (sum += 1.0 / pow((double)(i + 1), 1.1));
	for (size_t i = 0; i < n; i++)
		z->cdf[i] /= sum;
}

static size_t
zipf(const struct zipf *z)
{
	double u = unif();
	size_t lo = 0, hi = z->n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *const actions[] = {
	"Started - start_scylla_server", "Finished - start_scylla_server",
	"Started - stop_scylla_server", "Finished - stop_scylla_server",
	"Started - upgrade_node", "Finished - upgrade_node", "Started - rollback_node",
	"Finished - rollback_node", "Started - run_nodetool_repair",
	"Finished - run_nodetool_repair", "Started - wait_for_init", "Finished - wait_for_init",
	"Started - check_schema_agreement", "Finished - check_schema_agreement",
	"Started - drain", "Finished - drain", "Started - decommission", "Finished - decommission",
};
static const char *const sources[] = { "tester", "nemesis", "db", "monitor", "loader", "sct" };
static const char *const types[] = {
	"DATABASE_ERROR", "OVERSIZED_ALLOCATION", "REACTOR_STALLED", "BACKTRACE",
	"RUNTIME_ERROR", "NO_SPACE_ERROR", "BAD_ALLOC", "SCHEMA_FAILURE", "FILESYSTEM_ERROR",
	"STACKTRACE", "ABORTING_ON_SHARD", "SEGMENTATION", "INTEGRITY_CHECK", "POWER_OFF",
	"SUPPRESSED_MESSAGES", "COMPACTION_STOPPED", "DISK_ERROR", "CORRUPTED_SSTABLE",
};
static const char *const bases[] = { "DatabaseLogEvent", "CassandraStressLogEvent",
	"InfoEvent", "NodetoolEvent", "DisruptionEvent" };
static const char *const severities[] = { "NORMAL", "WARNING", "ERROR", "CRITICAL", "DEBUG" };
static const double sev_cdf[] = { 0.55, 0.80, 0.95, 0.97, 1.0 };
static const char *const words[] = {
	"reactor", "stalled", "for", "ms", "on", "shard", "compaction", "of", "sstable",
	"memtable", "flush", "commitlog", "segment", "allocation", "bytes", "large", "partition",
	"row", "cache", "query", "timeout", "read", "write", "repair", "stream", "gossip",
	"node", "token", "range", "schema", "keyspace", "table", "hint", "batch", "the", "a",
	"failed", "completed", "started", "waiting", "in", "with", "after", "retry",
};
static const char *const loggers[] = {
	"org.example.gateway.RequestHandler", "org.example.db.ConnectionPool",
	"org.example.scheduler.JobRunner", "org.example.cache.LruCache",
	"org.example.auth.TokenService", "org.example.http.Server",
};
static const char *const threads[] = { "main", "worker-1", "worker-2", "pool-3-thread-7",
	"scheduler", "http-nio-8080-exec-4" };
static const char *const levels[] = { "INFO", "DEBUG", "WARN", "ERROR", "TRACE" };
static const double lvl_cdf[] = { 0.70, 0.85, 0.95, 0.995, 1.0 };

#define N(a) (sizeof(a) / sizeof(a[0]))

static int64_t now_ns;
static struct zipf znode, zword, ztype, zcust;

static const char *
pick_cdf(const char *const *v, const double *cdf, size_t n)
{
	double u = unif();

	for (size_t i = 0; i < n; i++)
		if (u < cdf[i])
			return v[i];
	return v[n - 1];
}

static void
tick(void)
{
	now_ns += (int64_t)(next() % 50000000);	/* 0..50 ms */
}

static int
node_name(char *buf, size_t sz)
{
	return snprintf(buf, sz, "rolling-upgrade--ubuntu-focal-db-node-407cb58b-%zu",
	    zipf(&znode) + 1);
}

static void
sentence(FILE *fp, size_t nwords)
{
	for (size_t i = 0; i < nwords; i++)
		fprintf(fp, "%s%s", i ? " " : "", words[zipf(&zword)]);
}

static void
uuid(char buf[37])
{
	uint64_t a = next(), b = next();

	snprintf(buf, 37, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
	    a >> 32, (a >> 16) & 0xffff, a & 0xfff, (b >> 48 & 0x3fff) | 0x8000,
	    (uint64_t)(b & 0xffffffffffffULL));
}

static long
gen_actions(FILE *fp)
{
	char t[TS_BUFSZ], node[96];

	tick();
	ts_format(now_ns, t);
	t[26] = 'Z', t[27] = '\0';	/* microseconds, as Python writes them */
	node_name(node, sizeof(node));
	return fprintf(fp, "{\"datetime\": \"%s\", \"status\": \"%s\", \"source\": \"%s\", "
	    "\"action\": \"%s\", \"target\": \"%s\"}\n", t, unif() < 0.97 ? "info" : "error",
	    sources[next() % N(sources)], actions[next() % N(actions)], node);
}

static long
gen_events(FILE *fp)
{
	char node[96], id[37];
	long start = ftell(fp);
	const char *sev = pick_cdf(severities, sev_cdf, N(severities));

	tick();
	node_name(node, sizeof(node));
	uuid(id);
	fprintf(fp, "{\"base\": \"%s\", \"type\": \"%s\", \"event_timestamp\": %" PRId64 ".%07"
	    PRId64 ", \"severity\": \"%s\", \"event_id\": \"%s\", \"node\": \"%s\", \"line\": \"",
	    bases[zipf(&ztype) % N(bases)], types[zipf(&ztype)], now_ns / 1000000000,
	    (now_ns % 1000000000) / 100, sev, id, node);
	sentence(fp, 4 + next() % 12);
	if (next() % 10800 == 0)
		fputs(" coredump written to /var/lib/scylla/coredump", fp);
	fputs("\"}\n", fp);
	return ftell(fp) - start;
}

static long
gen_service(FILE *fp)
{
	char t[TS_BUFSZ];
	long start = ftell(fp);
	const char *lvl = pick_cdf(levels, lvl_cdf, N(levels));

	tick();
	ts_format(now_ns, t);
	/* "2025-05-17 04:44:04,545" */
	t[10] = ' ', t[19] = ',', t[23] = '\0';
	fprintf(fp, "%s %-5s [%s] %s: ", t, lvl, threads[next() % N(threads)],
	    loggers[next() % N(loggers)]);
	sentence(fp, 3 + next() % 10);
	fputc('\n', fp);
	if (strcmp(lvl, "ERROR") == 0) {
		int depth = 3 + (int)(next() % 8);

		fprintf(fp, "java.lang.%s: %s\n", next() % 2000 == 0 ? "IllegalStateException: segfault in native code" :
		    "IllegalStateException", "operation failed");
		for (int i = 0; i < depth; i++)
			fprintf(fp, "\tat %s.method%d(%s.java:%d)\n", loggers[next() % N(loggers)], i,
			    "Source", (int)(next() % 900) + 10);
		if (next() % 3 == 0)
			fputs("Caused by: java.io.IOException: Connection reset by peer\n"
			    "\tat java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)\n"
			    "\t... 12 more\n", fp);
	}
	return ftell(fp) - start;
}

static long
gen_app(FILE *fp)
{
	char t[TS_BUFSZ];
	static const char *const lv[] = { "info", "debug", "warn", "error" };
	static const double lc[] = { 0.7, 0.85, 0.96, 1.0 };
	static const char *const src[] = { "api", "db", "cache", "auth", "queue" };

	tick();
	ts_format(now_ns, t);
	return fprintf(fp, "{\"time\":\"%s\",\"level\":\"%s\",\"source\":\"%s\",\"customer\":"
	    "\"cust_%zu\",\"latency\":%.1f,\"msg\":\"request %s\"}\n", t,
	    pick_cdf(lv, lc, N(lv)), src[zipf(&znode) % N(src)], zipf(&zcust) + 1,
	    -log(1 - unif()) * 40.0, words[zipf(&zword)]);
}

typedef long (*genfn)(FILE *);

static genfn
kind_fn(const char *k)
{
	if (strcmp(k, "actions") == 0) return gen_actions;
	if (strcmp(k, "events") == 0) return gen_events;
	if (strcmp(k, "service") == 0) return gen_service;
	if (strcmp(k, "app") == 0) return gen_app;
	return NULL;
}

static void
generate(FILE *fp, genfn fn, uint64_t size, uint64_t count)
{
	uint64_t bytes = 0, n = 0;

	while ((size && bytes < size) || (count && n < count)) {
		long k = fn(fp);

		if (k < 0 || ferror(fp)) {
			perror("loggen: write");
			exit(2);
		}
		bytes += (uint64_t)k;
		n++;
	}
}

static void
seed_all(uint64_t seed)
{
	rng = seed * 0x2545f4914f6cdd1dULL + 1;
	ts_make(2025, 5, 17, 4, 40, 0, 0, &now_ns);
	now_ns += (int64_t)(seed % 60) * 1000000000LL;
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1024 * 1024; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
	case '\0': break;
	default: fprintf(stderr, "loggen: bad size '%s'\n", s); exit(2);
	}
	return (uint64_t)v;
}

static void
add_file(struct archive *a, const char *path, const char *name)
{
	struct archive_entry *e = archive_entry_new();
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		perror(path);
		exit(2);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 1747457048, 0);	/* fixed: reproducible bytes */
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto fail;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			goto fail;
	close(fd);
	archive_entry_free(e);
	return;
fail:
	fprintf(stderr, "loggen: %s: %s\n", name, archive_error_string(a));
	exit(2);
}

static void
run(const char *dir, const char *id, uint64_t size, uint64_t seed)
{
	static const struct { const char *name; genfn fn; double share; } parts[] = {
		{ "actions.log", gen_actions, 0.3 }, { "raw_events.log", gen_events, 0.6 },
		{ "service.log", gen_service, 0.1 },
	};
	char path[4096], tmp[4200], name[512];
	struct archive *a;

	snprintf(path, sizeof(path), "%s/%s", dir, id);
	mkdir(dir, 0755);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(2);
	}
	for (size_t i = 0; i < N(parts); i++) {
		FILE *fp;

		seed_all(seed + i);
		snprintf(path, sizeof(path), "%s/%s/%s", dir, id, parts[i].name);
		if ((fp = fopen(path, "w")) == NULL) {
			perror(path);
			exit(2);
		}
		generate(fp, parts[i].fn, (uint64_t)((double)size * parts[i].share) + 1, 0);
		if (fclose(fp) != 0) {
			perror(path);
			exit(2);
		}
	}
	snprintf(path, sizeof(path), "%s/%s.tar.zst", dir, id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_zstd(a);
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		fprintf(stderr, "loggen: %s: %s\n", tmp, archive_error_string(a));
		exit(2);
	}
	for (size_t i = 0; i < N(parts); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, id, parts[i].name);
		snprintf(name, sizeof(name), "%s/%s", id, parts[i].name);
		add_file(a, path, name);
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		fprintf(stderr, "loggen: %s: %s\n", tmp, archive_error_string(a));
		exit(2);
	}
	archive_write_free(a);
	snprintf(path, sizeof(path), "%s/%s.tar.zst", dir, id);
	if (rename(tmp, path) < 0) {
		perror(path);
		exit(2);
	}
}

static void
usage(void)
{
	fputs("usage: loggen actions|events|service|app [--seed N] [--size BYTES | --count N]\n"
	    "       loggen run -o DIR [--run-id ID] [--seed N] [--size BYTES]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "run-id", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *id = "run-0001";
	uint64_t seed = 1, size = 0, count = 0;
	static char obuf[1 << 20];
	genfn fn = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "n:o:r:s:S:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'o': dir = optarg; break;
		case 'r': id = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'S': size = parse_size(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	zipf_init(&znode, 12);
	zipf_init(&zword, N(words));
	zipf_init(&ztype, N(types));
	zipf_init(&zcust, 500);
	if (strcmp(argv[0], "run") == 0) {
		if (dir == NULL || strchr(id, '/') != NULL)
			usage();
		run(dir, id, size ? size : 4 << 20, seed);
		return 0;
	}
	if ((fn = kind_fn(argv[0])) == NULL)
		usage();
	if (!size && !count)
		count = 1000;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	seed_all(seed);
	generate(stdout, fn, size, count);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("loggen: write");
		return 2;
	}
	return 0;
}
