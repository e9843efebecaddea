/* lines.c: logunpack --lines: members split into lines over libarchive blocks, emitted as records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "../tool.h"
#include "../../common/jv.h"
#include "../../common/jw.h"
#include "../../common/rec.h"
#include "logunpack.h"

/* Per member: the escaped ,"_file":"NAME","_line": tail and a tokener for slow paths. */
struct member {
	struct sb tail;
	const char *name;
	unsigned long long lineno;
	unsigned long bad;	/* malformed JSON lines */
	struct json_tokener *tok;
};

/* Append the line number, '}' and '\n' (printf is a tenth of the run time here). */
static void
add_lineno(struct lu *u, unsigned long long n)
{
	char num[24], *p = num + sizeof(num);

	*--p = '\n';
	*--p = '}';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	if (sb_add(&u->out, p, (size_t)(num + sizeof(num) - p)) < 0)
		die(EXIT_FATAL, "out of memory");
}

static void
add_tail(struct lu *u, struct member *m)
{
	sb_add(&u->out, m->tail.buf, m->tail.len);
	add_lineno(u, m->lineno);
}

static const char *
error_desc(enum json_tokener_error je)
{
	if (je == json_tokener_success)
		return "not a single JSON object";
	if (je == json_tokener_continue)
		return "unexpected end of line";
	return json_tokener_error_desc(je);
}

/* The slow path: json-c decides; objects get _file/_line set, the rest becomes _msg. */
static void
slow_json(struct lu *u, struct member *m, const char *p, size_t n)
{
	struct json_object *o;
	enum json_tokener_error je;

	json_tokener_reset(m->tok);
	o = json_tokener_parse_ex(m->tok, p, (int)(n > 0x7fffffff ? 0x7fffffff : n));
	je = json_tokener_get_error(m->tok);
	if (o && je == json_tokener_success) {
		/* One object and nothing after it but blanks. */
		size_t k = json_tokener_get_parse_end(m->tok);

		while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
			k++;
		if (k < n || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	}
	if (o) {
		json_object_object_add(o, "_file", json_object_new_string(m->name));
		json_object_object_add(o, "_line", json_object_new_int64((int64_t)m->lineno));
		if (rec_write(&u->out, o) < 0)
			die(EXIT_FATAL, "out of memory");
		json_object_put(o);
		return;
	}
	json_object_put(o);
	if (m->bad++ < 5)
		warn_msg("%s: %s:%llu: malformed JSON (%s), kept as _msg", u->name, m->name,
		    m->lineno, error_desc(je));
	{
		struct jw w;

		jw_begin(&w, &u->out);
		jw_field_str(&w, "_msg", p, n);
		jw_field_cstr(&w, "_file", m->name);
		jw_field_u64(&w, "_line", m->lineno);
		jw_field_cstr(&w, "_parse_error", error_desc(je));
		if (jw_end(&w) < 0 || sb_addc(&u->out, '\n') < 0)
			die(EXIT_FATAL, "out of memory");
	}
}

/* Does the line mention "_file" or "_line" (as a key, or anywhere: then the slow path decides)? */
static int
has_our_keys(const char *p, size_t n)
{
	const char *q = p, *e = p + n;

	while ((q = memchr(q, '_', (size_t)(e - q))) != NULL) {
		if (q > p && q[-1] == '"' && e - q >= 6 &&
		    (memcmp(q + 1, "file\"", 5) == 0 || memcmp(q + 1, "line\"", 5) == 0))
			return 1;
		q++;
	}
	return 0;
}

static void
line(struct lu *u, struct member *m, const char *p, size_t n)
{
	size_t i = 0;

	m->lineno++;
	if (n && p[n - 1] == '\r')
		n--;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n)
		return;		/* blank lines are passed over */
	if (p[i] == '{') {
		size_t end = n;

		/*
		 * Fast path: a valid object without our fields is copied as
		 * text, its closing brace replaced by the _file/_line tail.
		 */
		if (!has_our_keys(p, n) && jv_object(p, n, NULL)) {
			while (end > 0 && p[end - 1] != '}')
				end--;
			end--;	/* the closing brace */
			{
				size_t k = end;

				while (k > i + 1 && (p[k - 1] == ' ' || p[k - 1] == '\t' ||
				    p[k - 1] == '\n' || p[k - 1] == '\r'))
					k--;
				sb_add(&u->out, p + i, end - i);
				/* "{}" has no field before ours: skip the comma. */
				if (k == i + 1)
					sb_add(&u->out, m->tail.buf + 1, m->tail.len - 1);
				else
					sb_add(&u->out, m->tail.buf, m->tail.len);
			}
			add_lineno(u, m->lineno);
			lu_flush(u, 0);
			return;
		}
		slow_json(u, m, p, n);
		lu_flush(u, 0);
		return;
	}
	if (sb_add(&u->out, "{\"_msg\":", 8) < 0 || jw_str(&u->out, p, n) < 0)
		die(EXIT_FATAL, "out of memory");
	add_tail(u, m);
	lu_flush(u, 0);
}

/* Split b[0..len) into lines; the part after the last newline waits in carry. */
static void
feed(struct lu *u, struct member *m, struct sb *carry, const char *b, size_t len)
{
	const char *e = b + len, *nl;

	if (carry->len) {
		if ((nl = memchr(b, '\n', len)) == NULL) {
			if (sb_add(carry, b, len) < 0)
				die(EXIT_FATAL, "out of memory");
			return;
		}
		if (sb_add(carry, b, (size_t)(nl - b)) < 0)
			die(EXIT_FATAL, "out of memory");
		line(u, m, carry->buf, carry->len);
		carry->len = 0;
		b = nl + 1;
	}
	while (b < e && (nl = memchr(b, '\n', (size_t)(e - b))) != NULL) {
		line(u, m, b, (size_t)(nl - b));
		b = nl + 1;
	}
	if (b < e && sb_add(carry, b, (size_t)(e - b)) < 0)
		die(EXIT_FATAL, "out of memory");
}

enum { SNIFF = 8192 };	/* a NUL byte in this much of a member: binary */

/* Stream one member's data blocks through the line splitter.  Returns 0 or -1 (archive must stop). */
static int
member_lines(struct lu *u, struct archive *a, struct member *m)
{
	struct sb carry = SB_INIT, head = SB_INIT;
	const void *vb;
	size_t len;
	la_int64_t off;
	int r, sniffing = 1, rc = 0;
	char why[512];

	while ((r = archive_read_data_block(a, &vb, &len, &off)) == ARCHIVE_OK) {
		if (lu_over_caps(u, len, why, sizeof(why))) {
			lu_refuse(u, m->name, why);
			u->stop = 1;
			rc = -1;
			goto out;
		}
		u->out_bytes += len;
		if (!sniffing) {
			feed(u, m, &carry, vb, len);
			continue;
		}
		/*
		 * Blocks can be a few bytes long (the first one of a lone
		 * compressed file, a member straddling a read): gather the
		 * first SNIFF bytes before deciding, and emit nothing before.
		 */
		if (sb_add(&head, vb, len) < 0)
			die(EXIT_FATAL, "out of memory");
		if (head.len < SNIFF)
			continue;
		if (memchr(head.buf, '\0', SNIFF))
			goto binary;
		sniffing = 0;
		feed(u, m, &carry, head.buf, head.len);
		sb_free(&head);
	}
	if (r != ARCHIVE_EOF) {
		snprintf(why, sizeof(why), "%s", lu_errstr(u, a));
		lu_refuse(u, m->name, why);
		u->stop = 1;
		rc = -1;
		goto out;
	}
	if (sniffing && head.len) {
		if (memchr(head.buf, '\0', head.len))
			goto binary;
		feed(u, m, &carry, head.buf, head.len);
	}
	if (carry.len)
		line(u, m, carry.buf, carry.len);
	if (m->bad > 5)
		warn_msg("%s: %s: %lu malformed JSON lines in all", u->name, m->name, m->bad);
	goto out;
binary:
	warn_msg("%s: %s: binary member skipped", u->name, m->name);
out:
	sb_free(&carry);
	sb_free(&head);
	return rc;
}

int
lines_archive(struct lu *u, struct archive *a)
{
	struct archive_entry *e;
	struct member m;
	int r, rc = 0;

	memset(&m, 0, sizeof(m));
	if ((m.tok = json_tokener_new()) == NULL)
		die(EXIT_FATAL, "out of memory");
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = lu_member(u, a, e);

		if (name == NULL)
			break;
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    !lu_selected(u, name))
			continue;
		m.name = name;
		m.lineno = 0;
		m.bad = 0;
		m.tail.len = 0;
		if (sb_add(&m.tail, ",\"_file\":", 9) < 0 || jw_str(&m.tail, name, strlen(name)) < 0 ||
		    sb_add(&m.tail, ",\"_line\":", 9) < 0)
			die(EXIT_FATAL, "out of memory");
		if (member_lines(u, a, &m) < 0)
			break;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN && r != ARCHIVE_EOF && !u->stop) {
		if (u->last_member[0])
			warn_msg("%s: after %s: %s", u->name, u->last_member, lu_errstr(u, a));
		else
			warn_msg("%s: %s", u->name, lu_errstr(u, a));
		rc = -1;
	}
	if (u->stop)
		rc = -1;
	/* No forced flush here: under --strict the caller drops the records of a refused archive. */
	sb_free(&m.tail);
	json_tokener_free(m.tok);
	return rc;
}
