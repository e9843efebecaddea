/* logindex: append JSON-lines records to an index directory; merge, expire, verify and summarise it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/idx_write.h"
#include "../../common/jw.h"
#include "../../common/lr.h"
#include "../../common/stream.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logindex.h"

#define MAX_WARN 10

enum mode { M_INGEST, M_MAINT, M_STATS, M_VERIFY };

struct logindex {
	enum mode mode;
	const char *dir;
	int merge, prom, verbose;
	int64_t retention;		/* 0: none */
	unsigned long long sync_every;
	struct idx_w_opts o;
	char **time_fields, **msg_fields, **stream_fields;
	size_t ntime, nmsg, nstream;
	struct st_labels extra;		/* -l k=v */
	unsigned long long bad;
	struct idx_w *w;
};

static void
usage(FILE *fp, int eval)
{
	fprintf(fp, "usage: logindex -d dir [-v] [-l key=value] [--level n] [--max-streams n]\n"
	    "                [--msg-field f] [--stream-fields f,...] [--sync-every n]\n"
	    "                [--time-field f] [--merge] [--retention duration]\n"
	    "       logindex -d dir --merge | --retention duration\n"
	    "       logindex -d dir --stats [--format json|prometheus]\n"
	    "       logindex -d dir --verify\n");
	exit(eval);
}

static void
warn_cb(void *arg, const char *msg)
{
	(void)arg;
	warn_msg("%s", msg);
}

static void
split_list(const char *s, char ***v, size_t *n)
{
	char *d = xstrdup(s), *p = d, *c;

	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
	do {
		if ((c = strchr(p, ',')) != NULL)
			*c = '\0';
		while (*p == ' ')
			p++;
		if (*p) {
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = xstrdup(p);
		}
		p = c + 1;
	} while (c != NULL);
	free(d);
}

static void
bad_line(struct logindex *li, const char *fmt, unsigned long long lineno, const char *what)
{
	(void)fmt;	/* always "<stdin>:LINE: what" */
	if (++li->bad <= MAX_WARN)
		warn_msg("<stdin>:%llu: %s", lineno, what);
	if (li->bad == MAX_WARN + 1)
		warn_msg("further bad lines are skipped without a message");
}

static int
in_list(char **v, size_t n, const char *k, size_t kn)
{
	/* called for every field of every line: the first byte rules most out */
	for (size_t i = 0; i < n; i++)
		if (kn > 0 && v[i][0] == k[0] && strlen(v[i]) == kn && memcmp(v[i], k, kn) == 0)
			return (int)i;
	return -1;
}

static void
commit_or_die(struct logindex *li)
{
	char err[4400];

	if (idx_w_commit(li->w, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s", err);
	if (li->verbose)
		warn_msg("committed %llu records", (unsigned long long)idx_w_committed(li->w));
}

/*
 * What a field name is to ingest: time field (index in the list, -1 no),
 * stream field, message field.  Cached by position in the line, since
 * lines mostly name their fields in the same order.
 */
struct fclass {
	char name[48];
	size_t len;		/* 0: empty slot */
	int ti, si, mi;
};
#define NFCLASS 32

static const struct fclass *
classify(struct logindex *li, struct fclass *cache, size_t pos, const char *k, size_t kn)
{
	static struct fclass tmp;
	struct fclass *c = pos < NFCLASS && kn < sizeof(cache->name) ? &cache[pos] : &tmp;

	if (c != &tmp && c->len == kn && memcmp(c->name, k, kn) == 0)
		return c;
	c->ti = in_list(li->time_fields, li->ntime, k, kn);
	c->si = in_list(li->stream_fields, li->nstream, k, kn);
	c->mi = in_list(li->msg_fields, li->nmsg, k, kn);
	c->len = 0;
	if (c != &tmp) {
		memcpy(c->name, k, kn);
		c->len = kn;
	}
	return c;
}

/* Stream texts of recent stream keys: building one per line costs more than the rest of it. */
#define NSCACHE 64

static size_t
key_hash(const char *s, size_t n)
{
	size_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void
ingest(struct logindex *li)
{
	struct fclass fcache[NFCLASS];
	struct jl j = { 0 };
	struct lr lr;
	struct st_labels lab = { 0 };
	struct sb stext = SB_INIT, key = SB_INIT, *cur;
	struct scache { struct sb key, text; } scache[NSCACHE], *sc;
	struct idx_kv *kv = NULL;
	size_t capkv = 0;
	unsigned long long since = 0;
	const char *line;
	size_t len;
	char err[4400];
	int rc;
	struct timespec now;

	memset(fcache, 0, sizeof(fcache));
	memset(scache, 0, sizeof(scache));
	if ((j.tok = json_tokener_new()) == NULL || lr_init(&lr, STDIN_FILENO, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	json_tokener_set_flags(j.tok, JSON_TOKENER_STRICT);
	while ((rc = lr_next(&lr, &line, &len)) > 0) {
		int64_t t = INT64_MIN;
		size_t nkv = 0, i;
		int tpri = -1;

		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		if ((rc = jl_parse(&j, line, len)) == -2)
			die(EXIT_FATAL, "out of memory");
		if (rc < 0) {
			bad_line(li, "<stdin>:%llu: %s", lr.lineno, "not a JSON object");
			continue;
		}
		if (j.n > capkv) {
			capkv = j.n * 2;
			kv = xrealloc(kv, capkv * sizeof(*kv));
		}
		/* the stream key: _stream's text and the --stream-fields values */
		key.len = 0;
		for (i = 0; i < j.n; i++) {
			struct jkv *f = &j.kv[i];
			const struct fclass *fc;
			int si, ti;

			if (f->kn == 0)
				continue;
			if (f->kn == 7 && memcmp(f->k, "_stream", 7) == 0) {
				if (sb_addc(&key, 0) < 0 || sb_add(&key, f->v, f->vn) < 0)
					die(EXIT_FATAL, "out of memory");
				continue;
			}
			fc = classify(li, fcache, i, f->k, f->kn);
			if ((ti = fc->ti) >= 0) {
				int64_t v;
				size_t used = f->quoted ? ts_parse_iso(f->v, f->vn, &v) : 0;

				if (used != f->vn || f->vn == 0)
					used = ts_parse_unix(f->v, f->vn, &v);
				if (used != f->vn || f->vn == 0) {
					if (tpri < 0) {
						char what[200];

						snprintf(what, sizeof(what), "bad time in field '%.*s': '%.*s'",
						    (int)(f->kn > 60 ? 60 : f->kn), f->k, (int)(f->vn > 60 ? 60 : f->vn), f->v);
						bad_line(li, "<stdin>:%llu: %s", lr.lineno, what);
						tpri = -2;
					}
					continue;
				}
				if (tpri < 0 || ti < tpri)
					t = v, tpri = ti;
				continue;
			}
			if ((si = fc->si) >= 0) {
				if (sb_addc(&key, 1 + si) < 0 || sb_add(&key, f->v, f->vn) < 0)
					die(EXIT_FATAL, "out of memory");
			}
			kv[nkv].k = f->k;
			kv[nkv].kn = f->kn;
			kv[nkv].v = f->v;
			kv[nkv].vn = f->vn;
			if (fc->mi >= 0) {
				kv[nkv].k = "_msg";
				kv[nkv].kn = 4;
			}
			nkv++;
		}
		if (tpri == -2)
			continue;
		if (t == INT64_MIN) {
			clock_gettime(CLOCK_REALTIME, &now);
			t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		}
		sc = &scache[key_hash(key.buf, key.len) % NSCACHE];
		if (sc->key.len == key.len && sc->text.len > 0 &&
		    (key.len == 0 || memcmp(sc->key.buf, key.buf, key.len) == 0)) {
			cur = &sc->text;
		} else {
			/* a stream key not seen lately: build its text */
			unsigned long long bad0 = li->bad;

			st_clear(&lab);
			for (i = 0; i < li->extra.n; i++)
				if (st_set(&lab, li->extra.v[i].key, li->extra.v[i].val,
				    strlen(li->extra.v[i].val)) < 0)
					die(EXIT_FATAL, "out of memory");
			for (i = 0; i < j.n; i++) {
				struct jkv *f = &j.kv[i];
				size_t pos;

				if (f->kn == 7 && memcmp(f->k, "_stream", 7) == 0) {
					if (st_parse(f->v, f->vn, &lab, &pos) < 0)
						bad_line(li, "<stdin>:%llu: %s", lr.lineno,
						    "_stream is not {label=\"value\",...}; labels after the error dropped");
				} else if (in_list(li->stream_fields, li->nstream, f->k, f->kn) >= 0) {
					char *k = xmalloc(f->kn + 1);

					memcpy(k, f->k, f->kn);
					k[f->kn] = '\0';
					if (st_set(&lab, k, f->v, f->vn) < 0)
						die(EXIT_FATAL, "out of memory");
					free(k);
				}
			}
			stext.len = 0;
			if (st_format(&lab, &stext) < 0)
				die(EXIT_FATAL, "out of memory");
			cur = &stext;
			/* a malformed _stream is reported for every line that has it */
			if (li->bad == bad0) {
				sc->key.len = sc->text.len = 0;
				if (sb_add(&sc->key, key.buf, key.len) < 0 ||
				    sb_add(&sc->text, stext.buf, stext.len) < 0)
					die(EXIT_FATAL, "out of memory");
			}
		}
		if (idx_w_add(li->w, cur->buf, cur->len, t, kv, nkv, err, sizeof(err)) < 0) {
			if (strcmp(err, "out of memory") == 0 || strchr(err, '/') != NULL)
				die(EXIT_FATAL, "%s", err);
			bad_line(li, "<stdin>:%llu: %s", lr.lineno, err);
			continue;
		}
		if (li->sync_every && ++since >= li->sync_every) {
			commit_or_die(li);
			since = 0;
		}
	}
	if (rc < 0)
		die_errno(EXIT_FATAL, "<stdin>");
	commit_or_die(li);
	/*
	 * One part a day for what this run wrote (it cut a part per buffer):
	 * a query opens each part.  The records are durable already, so a
	 * merge that fails is only reported.
	 */
	if (idx_w_merge_run(li->w, err, sizeof(err)) < 0)
		warn_msg("%s (the records are in the index; logindex --merge can try again)", err);
	st_free(&lab);
	sb_free(&stext);
	sb_free(&key);
	for (size_t k = 0; k < NSCACHE; k++) {
		sb_free(&scache[k].key);
		sb_free(&scache[k].text);
	}
	free(kv);
	jl_free(&j);
	lr_free(&lr);
}

static void
prom_label(struct sb *s, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sb_addc(s, '\\'), sb_addc(s, *v);
		else if (*v == '\n')
			sb_adds(s, "\\n");
		else
			sb_addc(s, *v);
	}
}

static void
prom_metric(struct sb *s, const char *name, const char *help, const char *dir, const char *lk,
    const char *lv, double v, int head)
{
	if (head)
		sb_addf(s, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	sb_addf(s, "%s{dir=\"", name);
	prom_label(s, dir);
	if (lk) {
		sb_addf(s, "\",%s=\"", lk);
		prom_label(s, lv);
	}
	sb_addf(s, "\"} %.17g\n", v);
}

static int
stats(struct logindex *li)
{
	struct idx_stats st;
	struct sb s = SB_INIT;
	char err[4400], t0[TS_BUFSZ], t1[TS_BUFSZ];
	struct jw w, fw;

	if (idx_stats_get(li->dir, &st, warn_cb, NULL, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s", err);
	ts_format(st.records ? st.tmin : 0, t0);
	ts_format(st.records ? st.tmax : 0, t1);
	if (li->prom) {
		prom_metric(&s, "logindex_records", "Records in the index.", li->dir, NULL, NULL, (double)st.records, 1);
		prom_metric(&s, "logindex_bytes", "Bytes of column data: raw before compression, compressed on disk.",
		    li->dir, "kind", "raw", (double)st.bytes_raw, 1);
		prom_metric(&s, "logindex_bytes", NULL, li->dir, "kind", "compressed", (double)st.bytes_compressed, 0);
		prom_metric(&s, "logindex_parts", "Part files in the manifest.", li->dir, NULL, NULL, (double)st.parts, 1);
		prom_metric(&s, "logindex_day_partitions", "UTC days with records.", li->dir, NULL, NULL, (double)st.days, 1);
		prom_metric(&s, "logindex_blocks", "Column blocks in all parts.", li->dir, NULL, NULL, (double)st.blocks, 1);
		prom_metric(&s, "logindex_streams", "Distinct streams.", li->dir, NULL, NULL, (double)st.streams, 1);
		if (st.records) {
			prom_metric(&s, "logindex_time_min_seconds", "Oldest _time, seconds since the epoch.", li->dir,
			    NULL, NULL, (double)st.tmin / 1e9, 1);
			prom_metric(&s, "logindex_time_max_seconds", "Newest _time, seconds since the epoch.", li->dir,
			    NULL, NULL, (double)st.tmax / 1e9, 1);
		}
		for (size_t i = 0; i < st.nfields; i++)
			prom_metric(&s, "logindex_field_values", "Records with a non-empty value of the field.",
			    li->dir, "field", st.fields[i].name, (double)st.fields[i].values, i == 0);
		for (size_t i = 0; i < st.nfields; i++)
			prom_metric(&s, "logindex_field_cardinality",
			    "Estimated distinct values of the field (HyperLogLog).", li->dir, "field",
			    st.fields[i].name, (double)(uint64_t)(st.fields[i].cardinality + 0.5), i == 0);
	} else {
		jw_begin(&w, &s);
		jw_field_cstr(&w, "dir", li->dir);
		jw_field_u64(&w, "records", st.records);
		jw_field_u64(&w, "bytes_raw", st.bytes_raw);
		jw_field_u64(&w, "bytes_compressed", st.bytes_compressed);
		jw_field_u64(&w, "parts", st.parts);
		jw_field_u64(&w, "days", st.days);
		jw_field_u64(&w, "blocks", st.blocks);
		jw_field_u64(&w, "streams", st.streams);
		if (st.records) {
			jw_field_cstr(&w, "time_min", t0);
			jw_field_cstr(&w, "time_max", t1);
		}
		jw_key(&w, "fields");
		sb_addc(&s, '{');
		for (size_t i = 0; i < st.nfields; i++) {
			if (i)
				sb_addc(&s, ',');
			jw_str(&s, st.fields[i].name, strlen(st.fields[i].name));
			sb_addc(&s, ':');
			jw_begin(&fw, &s);
			jw_field_u64(&fw, "values", st.fields[i].values);
			jw_field_u64(&fw, "cardinality", (uint64_t)(st.fields[i].cardinality + 0.5));
			jw_end(&fw);
		}
		sb_addc(&s, '}');
		w.nfields++;
		jw_end(&w);
		sb_addc(&s, '\n');
	}
	if (s.buf == NULL)
		die(EXIT_FATAL, "out of memory");
	out_write(s.buf, s.len);
	sb_free(&s);
	idx_stats_free(&st);
	return EXIT_OK;
}

static void
verify_bad(void *arg, const char *msg)
{
	(void)arg;
	warn_msg("%s", msg);
}

static int
verify(struct logindex *li)
{
	char err[4400];
	uint64_t records;
	long nbad = idx_verify(li->dir, verify_bad, NULL, &records, err, sizeof(err));

	if (nbad < 0)
		die(EXIT_FATAL, "%s", err);
	printf("{\"dir\":");
	fflush(stdout);
	{
		struct sb s = SB_INIT;

		jw_str(&s, li->dir, strlen(li->dir));
		sb_addf(&s, ",\"records_ok\":%" PRIu64 ",\"bad_parts\":%ld}\n", records, nbad);
		out_write(s.buf, s.len);
		sb_free(&s);
	}
	return nbad ? EXIT_SOME : EXIT_OK;
}

static void
free_opts(struct logindex *li)
{
	split_list("", &li->time_fields, &li->ntime);
	split_list("", &li->msg_fields, &li->nmsg);
	split_list("", &li->stream_fields, &li->nstream);
	st_free(&li->extra);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "label", required_argument, NULL, 'l' },
		{ "level", required_argument, NULL, 'L' },
		{ "max-streams", required_argument, NULL, 'S' },
		{ "merge", no_argument, NULL, 'M' },
		{ "msg-field", required_argument, NULL, 'm' },
		{ "retention", required_argument, NULL, 'R' },
		{ "stats", no_argument, NULL, 's' },
		{ "stream-fields", required_argument, NULL, 'f' },
		{ "sync-every", required_argument, NULL, 'y' },
		{ "time-field", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "verify", no_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct logindex li = { .mode = M_INGEST, .o = { 1, 0, 100000, 8 } };
	const char *fmt = "json";
	char err[4400], *end;
	int c, rval = EXIT_OK, explicit_mode = 0;

	tool_init("logindex");
	split_list("_time", &li.time_fields, &li.ntime);
	split_list("_msg", &li.msg_fields, &li.nmsg);
	while ((c = getopt_long(argc, argv, "d:hl:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			li.mode = M_VERIFY;
			explicit_mode = 1;
			break;
		case 'd':
			li.dir = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "prometheus"))
				die(EXIT_FATAL, "bad --format '%s' (json or prometheus)", optarg);
			fmt = optarg;
			break;
		case 'f':
			split_list(optarg, &li.stream_fields, &li.nstream);
			break;
		case 'h':
			usage(stdout, EXIT_OK);
			break;
		case 'L':
			li.o.level = (int)strtol(optarg, &end, 10);
			if (*end || li.o.level < 1 || li.o.level > 19)
				die(EXIT_FATAL, "bad --level '%s' (1..19)", optarg);
			break;
		case 'l': {
			const char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg)
				die(EXIT_FATAL, "bad -l '%s' (want key=value)", optarg);
			{
				char *k = xmalloc((size_t)(eq - optarg) + 1);

				memcpy(k, optarg, (size_t)(eq - optarg));
				k[eq - optarg] = '\0';
				if (st_set(&li.extra, k, eq + 1, strlen(eq + 1)) < 0)
					die(EXIT_FATAL, "out of memory");
				free(k);
			}
			break;
		}
		case 'M':
			li.merge = 1;
			break;
		case 'm':
			split_list(optarg, &li.msg_fields, &li.nmsg);
			break;
		case 'R': {
			size_t n = ts_parse_duration(optarg, strlen(optarg), &li.retention);

			if (n == 0 || n != strlen(optarg) || li.retention <= 0)
				die(EXIT_FATAL, "bad --retention '%s' (a duration such as 30d)", optarg);
			break;
		}
		case 'S':
			li.o.max_streams = (size_t)strtoull(optarg, &end, 10);
			if (*end || !*optarg || *optarg == '-')
				die(EXIT_FATAL, "bad --max-streams '%s'", optarg);
			break;
		case 's':
			li.mode = M_STATS;
			explicit_mode = 1;
			break;
		case 't':
			split_list(optarg, &li.time_fields, &li.ntime);
			break;
		case 'V':
			printf("logindex %s\n", LOGKIT_VERSION);
			free_opts(&li);
			return EXIT_OK;
		case 'v':
			li.verbose = li.o.verbose = 1;
			break;
		case 'y':
			li.sync_every = strtoull(optarg, &end, 10);
			if (*end || !*optarg || *optarg == '-' || li.sync_every == 0)
				die(EXIT_FATAL, "bad --sync-every '%s' (a positive count)", optarg);
			break;
		default:
			usage(stderr, EXIT_FATAL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0 || li.dir == NULL)
		usage(stderr, EXIT_FATAL);
	li.prom = strcmp(fmt, "prometheus") == 0;
	if (!explicit_mode && (li.merge || li.retention))
		li.mode = M_MAINT;
	switch (li.mode) {
	case M_STATS:
		rval = stats(&li);
		break;
	case M_VERIFY:
		rval = verify(&li);
		break;
	case M_INGEST:
	case M_MAINT:
		/* a half-written temp part is removed by the next writer */
		if ((li.w = idx_w_open(li.dir, &li.o, warn_cb, NULL, err, sizeof(err))) == NULL)
			die(EXIT_FATAL, "%s", err);
		if (li.mode == M_INGEST)
			ingest(&li);
		if (li.retention) {
			struct timespec ts;
			unsigned days;

			clock_gettime(CLOCK_REALTIME, &ts);
			if (idx_w_retention(li.w, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - li.retention,
			    &days, err, sizeof(err)) < 0)
				die(EXIT_FATAL, "%s", err);
			if (li.verbose)
				warn_msg("retention dropped %u days", days);
		}
		if (li.merge && idx_w_merge_all(li.w, err, sizeof(err)) < 0)
			die(EXIT_FATAL, "%s", err);
		idx_w_close(li.w);
		if (li.bad)
			rval = EXIT_SOME;
		break;
	}
	free_opts(&li);
	out_close();
	return rval;
}
