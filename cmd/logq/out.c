/* out.c: logq's output formats: JSON lines, table, logfmt, raw, csv. */
#include <stdlib.h>
#include <string.h>

#include "../../common/jw.h"
#include "../../common/rec.h"
#include "../tool.h"
#include "logq.h"

static void
flush_if(struct logq *lq, int force)
{
	if (lq->out.len && (force || lq->unbuffered || lq->out.len >= 1 << 16)) {
		out_write(lq->out.buf, lq->out.len);
		sb_reset(&lq->out);
		/* -u: past stdio's buffer too; out_close dies with the reason */
		if (lq->unbuffered && fflush(stdout) != 0)
			out_close();
	}
}

static void
oom(void)
{
	die(EXIT_FATAL, "out of memory");
}

static const char *
val_text(struct json_object *v, size_t *n)
{
	if (json_object_is_type(v, json_type_string)) {
		*n = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	/* records leave the pipeline flat and all-string; keep this total anyway */
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	*n = strlen(s);
	return s;
}

/* logfmt: bare when safe, else quoted with escapes; controls never raw. */
static void
logfmt_val(struct sb *o, const char *s, size_t n)
{
	int quote = n == 0;

	for (size_t i = 0; i < n && !quote; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			quote = 1;
	}
	if (!quote && jw_utf8_valid(s, n)) {
		if (sb_add(o, s, n) < 0)
			oom();
		return;
	}
	if (jw_str(o, s, n) < 0)
		oom();
}

static void
logfmt_rec(struct logq *lq, struct json_object *rec)
{
	static const char *canon[] = { REC_TIME, REC_STREAM, REC_MSG };
	struct json_object *v;
	int first = 1;
	size_t n;
	const char *s;

	for (size_t k = 0; k < 3; k++) {
		if (!json_object_object_get_ex(rec, canon[k], &v))
			continue;
		if (!first && sb_addc(&lq->out, ' ') < 0)
			oom();
		first = 0;
		s = val_text(v, &n);
		if (sb_adds(&lq->out, canon[k]) < 0 || sb_addc(&lq->out, '=') < 0)
			oom();
		logfmt_val(&lq->out, s, n);
	}
	json_object_object_foreach(rec, key, val) {
		if (!strcmp(key, REC_TIME) || !strcmp(key, REC_STREAM) || !strcmp(key, REC_MSG))
			continue;
		if (!first && sb_addc(&lq->out, ' ') < 0)
			oom();
		first = 0;
		logfmt_val(&lq->out, key, strlen(key));
		if (sb_addc(&lq->out, '=') < 0)
			oom();
		s = val_text(val, &n);
		logfmt_val(&lq->out, s, n);
	}
	if (sb_addc(&lq->out, '\n') < 0)
		oom();
}

int
out_record(void *arg, struct json_object *rec)
{
	struct logq *lq = arg;
	struct json_object *v;
	const char *s;
	size_t n;

	switch (lq->fmt) {
	case FMT_JSON:
		if (rec_write(&lq->out, rec) < 0)
			oom();
		break;
	case FMT_LOGFMT:
		logfmt_rec(lq, rec);
		break;
	case FMT_RAW:
		/* the message as it is: raw output is for people who want the text */
		if (json_object_object_get_ex(rec, REC_MSG, &v)) {
			s = val_text(v, &n);
			if (sb_add(&lq->out, s, n) < 0)
				oom();
		}
		if (sb_addc(&lq->out, '\n') < 0)
			oom();
		break;
	case FMT_TABLE:
	case FMT_CSV:
		if (lq->nrows == lq->caprows) {
			lq->caprows = lq->caprows ? lq->caprows * 2 : 256;
			lq->rows = xrealloc(lq->rows, lq->caprows * sizeof(*lq->rows));
		}
		lq->rows[lq->nrows++] = json_object_get(rec);
		return 0;
	}
	flush_if(lq, 0);
	return 0;
}

/* ---- table and csv ---- */

struct cols {
	char **name;
	size_t n;
};

static void
col_add(struct cols *c, const char *k)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], k) == 0)
			return;
	c->name = xrealloc(c->name, (c->n + 1) * sizeof(*c->name));
	c->name[c->n++] = xstrdup(k);
}

static void
columns(struct logq *lq, struct cols *c)
{
	static const char *canon[] = { REC_TIME, REC_STREAM, REC_MSG };

	for (size_t k = 0; k < 3; k++)
		for (size_t r = 0; r < lq->nrows; r++)
			if (json_object_object_get_ex(lq->rows[r], canon[k], NULL)) {
				col_add(c, canon[k]);
				break;
			}
	for (size_t r = 0; r < lq->nrows; r++) {
		json_object_object_foreach(lq->rows[r], key, val) {
			(void)val;
			col_add(c, key);
		}
	}
}

/*
 * A cell for the terminal: controls as \n, \t or \xHH, invalid UTF-8 as
 * U+FFFD, so log data cannot drive the terminal.  Returns its width in
 * code points (wide characters count as one: a known limit).
 */
static size_t
cell(struct sb *o, const char *s, size_t n)
{
	struct sb j = SB_INIT;
	size_t w = 0;

	/* jw_str escapes and repairs; drop its quotes and unescape \" and \\ */
	if (jw_str(&j, s, n) < 0)
		oom();
	for (size_t i = 1; i + 1 < j.len; i++) {
		unsigned char c = (unsigned char)j.buf[i];

		if (c == '\\' && (j.buf[i + 1] == '"' || j.buf[i + 1] == '\\' ||
		    j.buf[i + 1] == '/')) {
			c = (unsigned char)j.buf[++i];
		}
		if (o && sb_addc(o, c) < 0)
			oom();
		if ((c & 0xC0) != 0x80)
			w++;
	}
	sb_free(&j);
	return w;
}

static void
table(struct logq *lq, struct cols *c)
{
	size_t *width = xcalloc(c->n + 1, sizeof(*width));
	struct json_object *v;
	const char *s;
	size_t n;

	for (size_t k = 0; k < c->n; k++)
		width[k] = cell(NULL, c->name[k], strlen(c->name[k]));
	for (size_t r = 0; r < lq->nrows; r++)
		for (size_t k = 0; k < c->n; k++)
			if (json_object_object_get_ex(lq->rows[r], c->name[k], &v)) {
				s = val_text(v, &n);
				if ((n = cell(NULL, s, n)) > width[k])
					width[k] = n;
			}
	for (size_t r = 0; r <= lq->nrows; r++) {
		if (r == 0 && lq->color && sb_adds(&lq->out, "\033[1m") < 0)
			oom();
		for (size_t k = 0; k < c->n; k++) {
			size_t w;

			if (r == 0)
				w = cell(&lq->out, c->name[k], strlen(c->name[k]));
			else if (json_object_object_get_ex(lq->rows[r - 1], c->name[k], &v)) {
				s = val_text(v, &n);
				w = cell(&lq->out, s, n);
			} else
				w = 0;
			/* pad all but the last column */
			if (k + 1 < c->n)
				for (; w < width[k] + 2; w++)
					if (sb_addc(&lq->out, ' ') < 0)
						oom();
		}
		if (r == 0 && lq->color && sb_adds(&lq->out, "\033[0m") < 0)
			oom();
		if (sb_addc(&lq->out, '\n') < 0)
			oom();
		flush_if(lq, 0);
	}
	free(width);
}

static void
csv_field(struct sb *o, const char *s, size_t n)
{
	int q = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);

	if (!q) {
		if (sb_add(o, s, n) < 0)
			oom();
		return;
	}
	if (sb_addc(o, '"') < 0)
		oom();
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '"' && sb_addc(o, '"') < 0) || sb_addc(o, s[i]) < 0)
			oom();
	if (sb_addc(o, '"') < 0)
		oom();
}

static void
csv(struct logq *lq, struct cols *c)
{
	struct json_object *v;
	const char *s;
	size_t n;

	for (size_t r = 0; r <= lq->nrows; r++) {
		for (size_t k = 0; k < c->n; k++) {
			if (k && sb_addc(&lq->out, ',') < 0)
				oom();
			if (r == 0)
				csv_field(&lq->out, c->name[k], strlen(c->name[k]));
			else if (json_object_object_get_ex(lq->rows[r - 1], c->name[k], &v)) {
				s = val_text(v, &n);
				csv_field(&lq->out, s, n);
			}
		}
		/* RFC 4180 line ends */
		if (sb_adds(&lq->out, "\r\n") < 0)
			oom();
		flush_if(lq, 0);
	}
}

void
out_finish(struct logq *lq)
{
	struct cols c = { NULL, 0 };

	if ((lq->fmt == FMT_TABLE || lq->fmt == FMT_CSV) && lq->nrows > 0) {
		columns(lq, &c);
		if (lq->fmt == FMT_TABLE)
			table(lq, &c);
		else
			csv(lq, &c);
		for (size_t k = 0; k < c.n; k++)
			free(c.name[k]);
		free(c.name);
	}
	for (size_t r = 0; r < lq->nrows; r++)
		json_object_put(lq->rows[r]);
	free(lq->rows);
	lq->rows = NULL;
	flush_if(lq, 1);
}
