/* jw.c: JSON string escaping, UTF-8 repair, record and stream round trips. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/jw.h"
#include "../../common/lr.h"
#include "../../common/rec.h"
#include "../../common/stream.h"
#include "t.h"

static char *
esc(const char *s, size_t n, long *rep)
{
	static struct sb sb;

	sb_reset(&sb);
	*rep = jw_str(&sb, s, n);
	return sb.buf;
}

int
main(void)
{
	struct sb sb = SB_INIT;
	struct st_labels l = { 0 };
	long rep;
	size_t pos;

	is_str(esc("plain", 5, &rep), "\"plain\"", "plain text");
	is_str(esc("a\"b\\c", 5, &rep), "\"a\\\"b\\\\c\"", "quote and backslash");
	is_str(esc("\t\n\r", 3, &rep), "\"\\t\\n\\r\"", "short escapes");
	is_str(esc("\x1b[31m", 5, &rep), "\"\\u001b[31m\"", "ESC escaped");
	is_str(esc("a\0b", 3, &rep), "\"a\\u0000b\"", "NUL escaped");
	is_str(esc("\x7f", 1, &rep), "\"\\u007f\"", "DEL escaped");
	is_str(esc("\xc2\x9b", 2, &rep), "\"\\u009b\"", "C1 CSI escaped");
	is_str(esc("caf\xc3\xa9", 5, &rep), "\"caf\xc3\xa9\"", "valid UTF-8 kept");
	ok(rep == 0, "nothing repaired");
	is_str(esc("a\xff" "b", 3, &rep), "\"a\xef\xbf\xbd" "b\"", "invalid byte replaced");
	ok(rep == 1, "one repaired byte");
	is_str(esc("\xed\xa0\x80", 3, &rep), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "surrogate refused");
	is_str(esc("\xc0\xaf", 2, &rep), "\"\xef\xbf\xbd\xef\xbf\xbd\"", "overlong refused");
	is_str(esc("\xe2\x82", 2, &rep), "\"\xef\xbf\xbd\xef\xbf\xbd\"", "truncated sequence");
	is_str(esc("\xf0\x9f\x98\x80", 4, &rep), "\"\xf0\x9f\x98\x80\"", "4-byte emoji kept");
	ok(jw_utf8_valid("ok\xc3\xa9", 4) && !jw_utf8_valid("\xc3", 1), "utf8_valid");

	sb_reset(&sb);
	jw_double(&sb, 0.1);
	is_str(sb.buf, "0.1", "shortest double");
	sb_reset(&sb);
	jw_double(&sb, 1.0 / 0.0);
	is_str(sb.buf, "null", "infinity becomes null");

	/* Records: canonical fields first, controls escaped. */
	{
		struct json_object *o = json_tokener_parse(
		    "{\"a\":1,\"_msg\":\"m\\u001b\",\"_time\":\"t\",\"b\":[1.50,true,null],\"_stream\":\"{}\"}");
		sb_reset(&sb);
		rec_write(&sb, o);
		is_str(sb.buf, "{\"_time\":\"t\",\"_stream\":\"{}\",\"_msg\":\"m\\u001b\",\"a\":1,\"b\":[1.50,true,null]}\n",
		    "rec_write order and escapes");
		json_object_put(o);
	}

	/* Reader: malformed, truncated, blank, not-an-object, long lines. */
	{
		int fd[2];
		struct rec_reader r;
		struct json_object *o;
		const char *in = "{\"a\":1}\n\n{\"a\":\n[1]\n{\"a\":1} x\n{\"b\":2}";

		if (pipe(fd) != 0)
			return 1;
		if (write(fd[1], in, strlen(in)) < 0)
			return 1;
		close(fd[1]);
		rec_reader_init(&r, fd[0], "in.json");
		ok(rec_read(&r, &o) == 1 && o != NULL, "first record");
		json_object_put(o);
		ok(rec_read(&r, &o) == 1 && o == NULL, "truncated line is an error");
		is_str(r.err, "in.json:3: truncated JSON", "error names file and line");
		ok(rec_read(&r, &o) == 1 && o == NULL, "array refused");
		is_str(r.err, "in.json:4: not a JSON object", "not an object");
		ok(rec_read(&r, &o) == 1 && o == NULL, "trailing data refused");
		ok(rec_read(&r, &o) == 1 && o != NULL, "last line without newline");
		json_object_put(o);
		ok(rec_read(&r, &o) == 0, "EOF");
		rec_reader_free(&r);
		close(fd[0]);
	}

	/* Line reader: a cut line keeps memory bounded. */
	{
		int fd[2];
		struct lr lr;
		const char *line;
		size_t len;
		char big[5000];

		memset(big, 'x', sizeof(big));
		big[sizeof(big) - 1] = '\n';
		if (pipe(fd) != 0 || write(fd[1], big, sizeof(big)) < 0 ||
		    write(fd[1], "next\n", 5) < 0)
			return 1;
		close(fd[1]);
		lr_init(&lr, fd[0], 0);
		lr.max_line = 100;
		ok(lr_next(&lr, &line, &len) == 1 && len == 100 && lr.truncated, "cut at max_line");
		ok(lr_next(&lr, &line, &len) == 1 && len == 4 && !memcmp(line, "next", 4),
		    "rest of long line dropped");
		ok(lr.lineno == 2, "line numbers count cut lines once");
		ok(lr_next(&lr, &line, &len) == 0, "EOF after");
		lr_free(&lr);
		close(fd[0]);
	}

	/* Streams. */
	st_set(&l, "run_id", "R1", 2);
	st_set(&l, "host", "a\"b\n", 4);
	sb_reset(&sb);
	st_format(&l, &sb);
	is_str(sb.buf, "{host=\"a\\\"b\\n\",run_id=\"R1\"}", "stream sorted and quoted");
	st_clear(&l);
	ok(st_parse(sb.buf, sb.len, &l, &pos) == 0 && l.n == 2, "stream parses back");
	is_str(st_get(&l, "host"), "a\"b\n", "value unescaped");
	st_clear(&l);
	ok(st_parse("{a=\"x\"", 6, &l, &pos) == -1, "unterminated stream refused");
	st_clear(&l);
	ok(st_parse(" { } ", 5, &l, &pos) == 0 && l.n == 0, "empty stream");
	st_free(&l);
	sb_free(&sb);
	return t_done();
}
