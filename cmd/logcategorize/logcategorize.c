/* logcategorize: give each log file (or record naming one) a category; optionally sort files into DIR/<category>/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <xxhash.h>

#include "../../common/catrule.h"
#include "../../common/jw.h"
#include "../../common/lr.h"
#include "../../common/rec.h"
#include "../../common/sb.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logcategorize.h"

static const char synopsis[] =
    "usage: logcategorize [--rules FILE] [--into DIR [--symlink]]\n"
    "                     [--stats | --list CATEGORY [--limit N]] [PATH...]\n";

struct catstat {
	char *category;
	unsigned long long files, bytes;
	int64_t newest;
};

struct item {
	char *path;
	int64_t mtime;
	long long size;
};

struct lc {
	struct catrules rules;
	struct placer pl;
	const char *into;
	int stats;
	const char *list;
	long limit;
	int rval;
	struct sb out, path, dst, json;
	struct catstat *cs;
	size_t ncs;
	struct item *items;
	size_t nitems, capitems;
	char *sniff;		/* the first bytes of the file, for content rules */
	const char *sniff_path;
};

static void __attribute__((noreturn))
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_FATAL);
}

/* map: open addressing, used by place.c for the manifest */
static size_t
map_slot(const struct map *m, const char *k)
{
	size_t i = (size_t)XXH3_64bits(k, strlen(k)) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void
map_put(struct map *m, char *k, char *v)
{
	size_t i;

	if ((m->n + 1) * 2 >= m->cap) {
		struct map nm = { NULL, NULL, 0, m->cap ? m->cap * 2 : 64 };
		nm.keys = xcalloc(nm.cap, sizeof(char *));
		nm.vals = xcalloc(nm.cap, sizeof(char *));
		for (size_t j = 0; j < m->cap; j++)
			if (m->keys[j]) {
				size_t s = map_slot(&nm, m->keys[j]);
				nm.keys[s] = m->keys[j];
				nm.vals[s] = m->vals[j];
			}
		free(m->keys);
		free(m->vals);
		m->keys = nm.keys;
		m->vals = nm.vals;
		m->cap = nm.cap;
	}
	i = map_slot(m, k);
	if (m->keys[i]) {
		free(k);
		free(m->vals[i]);
	} else {
		m->keys[i] = k;
		m->n++;
	}
	m->vals[i] = v;
}

const char *
map_get(const struct map *m, const char *k)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = map_slot(m, k);
	return m->keys[i] ? m->vals[i] : NULL;
}

void
map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->keys[i]);
		free(m->vals[i]);
	}
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

#define SNIFF_MAX 65536

/* cr_subject content callback: the first 64 KiB of the file. */
static int
fetch(void *ctx, const char **buf, size_t *len)
{
	struct lc *lc = ctx;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(lc->sniff_path, O_RDONLY | O_CLOEXEC)) < 0) {
		warn_errno("%s", lc->sniff_path);
		lc->rval = EXIT_SOME;
		return -1;
	}
	while (got < SNIFF_MAX && (n = read(fd, lc->sniff + got, SNIFF_MAX - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warn_errno("%s", lc->sniff_path);
			lc->rval = EXIT_SOME;
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = lc->sniff;
	*len = got;
	return 0;
}

static void
flush_out(struct lc *lc, int force)
{
	if (lc->out.len && (force || lc->out.len >= 65536)) {
		out_write(lc->out.buf, lc->out.len);
		sb_reset(&lc->out);
	}
}

static void
add_stat(struct lc *lc, const char *category, const struct stat *st)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	struct catstat *c = NULL;

	for (size_t i = 0; i < lc->ncs; i++)
		if (strcmp(lc->cs[i].category, category) == 0)
			c = &lc->cs[i];
	if (!c) {
		lc->cs = xrealloc(lc->cs, (lc->ncs + 1) * sizeof(*lc->cs));
		c = &lc->cs[lc->ncs++];
		memset(c, 0, sizeof(*c));
		c->category = xstrdup(category);
		c->newest = INT64_MIN;
	}
	c->files++;
	c->bytes += (unsigned long long)st->st_size;
	if (mt > c->newest)
		c->newest = mt;
}

/*
 * Categorize one path (NUL-terminated in lc->path); rec is its record,
 * or NULL for a bare path.  has_path 0: a record that names no file.
 */
static void
handle(struct lc *lc, struct json_object *rec, int has_path)
{
	struct cr_subject s = { .path = lc->path.buf ? lc->path.buf : "",
		.pathlen = has_path ? lc->path.len : 0, .content = fetch, .ctx = lc, .rec = rec };
	const char *cat, *host = NULL;
	int placed = 0;
	struct stat st;

	lc->sniff_path = s.path;
	/* a record with no file still meets the record rules */
	cat = cr_match(&lc->rules, &s);
	if (rec)
		host = rec_get_str(rec, "host", NULL);
	if (lc->into && has_path) {
		if (place(&lc->pl, s.path, cat, host, &lc->dst) < 0) {
			if (errno == EINVAL)
				warn_msg("%s: not a regular file, not placed", s.path);
			else
				warn_errno("%s: cannot place in %s/%s", s.path, lc->into, cat);
			lc->rval = EXIT_SOME;
		} else
			placed = 1;
	}
	if (lc->stats || lc->list) {
		if (!has_path)
			return;
		if (stat(s.path, &st) < 0) {
			warn_errno("%s", s.path);
			lc->rval = EXIT_SOME;
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			warn_msg("%s: not a regular file", s.path);
			lc->rval = EXIT_SOME;
			return;
		}
		if (lc->stats)
			add_stat(lc, cat, &st);
		else if (strcmp(cat, lc->list) == 0) {
			if (lc->nitems == lc->capitems) {
				lc->capitems = lc->capitems ? lc->capitems * 2 : 64;
				lc->items = xrealloc(lc->items, lc->capitems * sizeof(*lc->items));
			}
			lc->items[lc->nitems].path = xstrdup(s.path);
			lc->items[lc->nitems].mtime =
			    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			lc->items[lc->nitems].size = (long long)st.st_size;
			lc->nitems++;
		}
		return;
	}
	if (rec) {
		if (rec_set_str(rec, "category", cat, strlen(cat)) < 0 ||
		    (placed && rec_set_str(rec, "into", lc->dst.buf, lc->dst.len) < 0) ||
		    rec_write(&lc->out, rec) < 0)
			die(EXIT_FATAL, "out of memory");
	} else {
		struct jw w;
		jw_begin(&w, &lc->out);
		jw_field_str(&w, "path", s.path, s.pathlen);
		jw_field_cstr(&w, "category", cat);
		if (placed)
			jw_field_str(&w, "into", lc->dst.buf, lc->dst.len);
		jw_end(&w);
		sb_addc(&lc->out, '\n');
	}
	flush_out(lc, 0);
}

static void
set_path(struct lc *lc, const char *p, size_t n)
{
	sb_reset(&lc->path);
	if (sb_add(&lc->path, p, n) < 0 || sb_grow(&lc->path, 1) < 0)
		die(EXIT_FATAL, "out of memory");
	lc->path.buf[lc->path.len] = '\0';
}

/* Records or bare paths, one per line. */
static void
read_input(struct lc *lc, int fd, const char *name)
{
	struct json_tokener *tok = json_tokener_new();
	const char *line;
	size_t len;
	struct lr lr;
	int r;

	if (!tok || lr_init(&lr, fd, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	while ((r = lr_next(&lr, &line, &len)) == 1) {
		struct json_object *obj;
		const char *p;
		size_t i = 0, plen;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			continue;
		if (line[i] != '{') {
			/* a bare path (taken as it is, blanks and all) */
			if (memchr(line, '\0', len)) {
				warn_msg("%s:%llu: NUL byte in path", name, lr.lineno);
				lc->rval = EXIT_SOME;
				continue;
			}
			set_path(lc, line, len);
			handle(lc, NULL, 1);
			continue;
		}
		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, line + i, (int)(len - i));
		if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
		    tok->char_offset != (int)(len - i) || !json_object_is_type(obj, json_type_object)) {
			warn_msg("%s:%llu: not a JSON object", name, lr.lineno);
			lc->rval = EXIT_SOME;
			json_object_put(obj);
			continue;
		}
		if ((p = rec_get_str(obj, "path", &plen)) == NULL)
			p = rec_get_str(obj, "_file", &plen);
		if (p && !memchr(p, '\0', plen))
			set_path(lc, p, plen);
		else
			set_path(lc, "", 0);
		handle(lc, obj, p != NULL && plen > 0);
		json_object_put(obj);
	}
	if (r < 0) {
		warn_errno("%s", name);
		lc->rval = EXIT_SOME;
	}
	lr_free(&lr);
	json_tokener_free(tok);
}

static int
skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every regular file below dir (hidden names skipped), in name order. */
static void
walk(struct lc *lc, const char *dir, int depth)
{
	struct dirent **ents;
	int n;

	if (depth > 64) {
		warn_msg("%s: too deep, not descending", dir);
		lc->rval = EXIT_SOME;
		return;
	}
	if ((n = scandir(dir, &ents, skip_dots, alphasort)) < 0) {
		warn_errno("%s", dir);
		lc->rval = EXIT_SOME;
		return;
	}
	for (int i = 0; i < n; i++) {
		struct sb p = SB_INIT;
		struct stat st;

		sb_addf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ents[i]->d_name);
		if (lstat(p.buf, &st) < 0) {
			warn_errno("%s", p.buf);
			lc->rval = EXIT_SOME;
		} else if (S_ISDIR(st.st_mode)) {
			walk(lc, p.buf, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			set_path(lc, p.buf, p.len);
			handle(lc, NULL, 1);
		}
		sb_free(&p);
		free(ents[i]);
	}
	free(ents);
}

static int
cmp_stat(const void *a, const void *b)
{
	return strcmp(((const struct catstat *)a)->category, ((const struct catstat *)b)->category);
}

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void
print_stats(struct lc *lc)
{
	int tty = isatty(1);
	char tbuf[TS_BUFSZ];

	qsort(lc->cs, lc->ncs, sizeof(*lc->cs), cmp_stat);
	if (tty)
		sb_addf(&lc->out, "%-16s %8s %14s  %s\n", "CATEGORY", "FILES", "BYTES", "NEWEST");
	for (size_t i = 0; i < lc->ncs; i++) {
		struct catstat *c = &lc->cs[i];
		ts_format(c->newest, tbuf);
		if (tty) {
			sb_addf(&lc->out, "%-16s %8llu %14llu  %s\n", c->category, c->files,
			    c->bytes, tbuf);
		} else {
			struct jw w;
			jw_begin(&w, &lc->out);
			jw_field_cstr(&w, "category", c->category);
			jw_field_u64(&w, "files", c->files);
			jw_field_u64(&w, "bytes", c->bytes);
			jw_field_cstr(&w, "newest", tbuf);
			jw_end(&w);
			sb_addc(&lc->out, '\n');
		}
		free(c->category);
	}
	free(lc->cs);
}

static void
print_list(struct lc *lc)
{
	char tbuf[TS_BUFSZ];

	qsort(lc->items, lc->nitems, sizeof(*lc->items), cmp_item);
	for (size_t i = 0; i < lc->nitems; i++) {
		if (lc->limit < 0 || (long)i < lc->limit) {
			struct jw w;
			ts_format(lc->items[i].mtime, tbuf);
			jw_begin(&w, &lc->out);
			jw_field_cstr(&w, "path", lc->items[i].path);
			jw_field_cstr(&w, "category", lc->list);
			jw_field_i64(&w, "size", lc->items[i].size);
			jw_field_cstr(&w, "mtime", tbuf);
			jw_end(&w);
			sb_addc(&lc->out, '\n');
			flush_out(lc, 0);
		}
		free(lc->items[i].path);
	}
	free(lc->items);
}

static void
load_rules(struct catrules *rs, const char *file)
{
	struct sb text = SB_INIT;
	char buf[65536], err[512];
	ssize_t n;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		die_errno(EXIT_FATAL, "%s", file);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sb_add(&text, buf, (size_t)n) < 0 || text.len > (1 << 24))
			die(EXIT_FATAL, "%s: rules file too large", file);
	if (n < 0)
		die_errno(EXIT_FATAL, "%s", file);
	close(fd);
	if (cr_parse(rs, text.buf ? text.buf : "", text.len, file, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s", err);
	sb_free(&text);
}

int
main(int argc, char **argv)
{
	enum { O_LIMIT = 256, O_SYMLINK, O_VERSION };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "into", required_argument, NULL, 'i' },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "list", required_argument, NULL, 'l' },
		{ "rules", required_argument, NULL, 'r' },
		{ "stats", no_argument, NULL, 's' },
		{ "symlink", no_argument, NULL, O_SYMLINK },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct lc lc = { .limit = -1 };
	const char *rules = NULL;
	int c, symlinks = 0;
	char *end;

	tool_init("logcategorize");
	/* A closed stdout would let the next open(2) take fd 1 and receive our output. */
	if (fcntl(1, F_GETFD) < 0)
		die_errno(EXIT_FATAL, "stdout");
	while ((c = getopt_long(argc, argv, "hi:l:r:s", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(synopsis, stdout); out_close(); return EXIT_OK;
		case 'i': lc.into = optarg; break;
		case O_LIMIT:
			errno = 0;
			lc.limit = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || lc.limit < 0)
				die(EXIT_FATAL, "--limit: bad number '%s'", optarg);
			break;
		case 'l': lc.list = optarg; break;
		case 'r': rules = optarg; break;
		case 's': lc.stats = 1; break;
		case O_SYMLINK: symlinks = 1; break;
		case O_VERSION: printf("logcategorize %s\n", LOGKIT_VERSION); out_close(); return EXIT_OK;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((lc.stats && lc.list) || (symlinks && !lc.into) || (lc.limit >= 0 && !lc.list))
		usage();
	if (rules)
		load_rules(&lc.rules, rules);
	else
		cr_init_builtin(&lc.rules);
	if (lc.rules.has_content)
		lc.sniff = xmalloc(SNIFF_MAX);
	if (lc.into)
		place_init(&lc.pl, lc.into, symlinks);

	if (argc == 0)
		read_input(&lc, 0, "<stdin>");
	for (int i = 0; i < argc; i++) {
		struct stat st;

		if (strcmp(argv[i], "-") == 0) {
			read_input(&lc, 0, "<stdin>");
		} else if (stat(argv[i], &st) < 0) {
			warn_errno("%s", argv[i]);
			lc.rval = EXIT_SOME;
		} else if (S_ISDIR(st.st_mode)) {
			walk(&lc, argv[i], 0);
		} else {
			set_path(&lc, argv[i], strlen(argv[i]));
			handle(&lc, NULL, 1);
		}
	}
	if (lc.stats)
		print_stats(&lc);
	else if (lc.list)
		print_list(&lc);
	flush_out(&lc, 1);
	if (lc.into)
		place_free(&lc.pl);
	cr_free(&lc.rules);
	free(lc.sniff);
	sb_free(&lc.out);
	sb_free(&lc.path);
	sb_free(&lc.dst);
	sb_free(&lc.json);
	out_close();
	return lc.rval;
}
