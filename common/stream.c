/* stream.c: stream label sets. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int
st_set(struct st_labels *l, const char *key, const char *val, size_t vn)
{
	char *v;
	size_t i;

	if ((v = malloc(vn + 1)) == NULL)
		return -1;
	memcpy(v, val, vn);
	v[vn] = '\0';
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].val);
			l->v[i].val = v;
			return 0;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct st_label *p = realloc(l->v, cap * sizeof(*p));

		if (p == NULL)
			goto fail;
		l->v = p;
		l->cap = cap;
	}
	if ((l->v[l->n].key = strdup(key)) == NULL)
		goto fail;
	l->v[l->n++].val = v;
	return 0;
fail:
	free(v);
	return -1;
}

const char *
st_get(const struct st_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct st_label *)a)->key,
	    ((const struct st_label *)b)->key);
}

void
st_sort(struct st_labels *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_label);
}

void
st_clear(struct st_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	l->n = 0;
}

void
st_free(struct st_labels *l)
{
	st_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

/* Go's strconv.Quote escapes, which VictoriaLogs uses for label values. */
static int
quote(struct sb *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (sb_addc(out, '"') < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int r;

		switch (c) {
		case '"': r = sb_add(out, "\\\"", 2); break;
		case '\\': r = sb_add(out, "\\\\", 2); break;
		case '\n': r = sb_add(out, "\\n", 2); break;
		case '\r': r = sb_add(out, "\\r", 2); break;
		case '\t': r = sb_add(out, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
				r = sb_add(out, e, 4);
			} else
				r = sb_addc(out, c);
		}
		if (r < 0)
			return -1;
	}
	return sb_addc(out, '"');
}

int
st_format(struct st_labels *l, struct sb *out)
{
	st_sort(l);
	if (sb_addc(out, '{') < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if ((i && sb_addc(out, ',') < 0) || sb_adds(out, l->v[i].key) < 0 ||
		    sb_addc(out, '=') < 0 || quote(out, l->v[i].val) < 0)
			return -1;
	}
	return sb_addc(out, '}');
}

static size_t
skipws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

int
st_parse(const char *s, size_t n, struct st_labels *l, size_t *errpos)
{
	struct sb key = SB_INIT, val = SB_INIT;
	size_t i = skipws(s, n, 0);
	int rc = -1;

	if (i >= n || s[i] != '{')
		goto out;
	i = skipws(s, n, i + 1);
	if (i < n && s[i] == '}') {
		i++;
		goto done;
	}
	for (;;) {
		sb_reset(&key);
		sb_reset(&val);
		while (i < n && s[i] != '=' && s[i] != ' ' && s[i] != '"' &&
		    s[i] != ',' && s[i] != '}')
			if (sb_addc(&key, s[i++]) < 0)
				goto out;
		i = skipws(s, n, i);
		if (key.len == 0 || i >= n || s[i] != '=')
			goto out;
		i = skipws(s, n, i + 1);
		if (i >= n || s[i] != '"')
			goto out;
		for (i++; i < n && s[i] != '"'; i++) {
			int c = (unsigned char)s[i];

			if (c == '\\') {
				if (++i >= n)
					goto out;
				switch (s[i]) {
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 't': c = '\t'; break;
				case 'x': {
					int v = 0;

					for (int k = 0; k < 2; k++) {
						char h = ++i < n ? s[i] : 0;

						if (h >= '0' && h <= '9') v = v * 16 + h - '0';
						else if (h >= 'a' && h <= 'f') v = v * 16 + h - 'a' + 10;
						else if (h >= 'A' && h <= 'F') v = v * 16 + h - 'A' + 10;
						else goto out;
					}
					c = v;
					break;
				}
				default: c = (unsigned char)s[i];
				}
			}
			if (sb_addc(&val, c) < 0)
				goto out;
		}
		if (i >= n)
			goto out;
		if (st_set(l, key.buf, val.buf ? val.buf : "", val.len) < 0)
			goto out;
		i = skipws(s, n, i + 1);
		if (i < n && s[i] == ',') {
			i = skipws(s, n, i + 1);
			continue;
		}
		if (i < n && s[i] == '}') {
			i++;
			break;
		}
		goto out;
	}
done:
	i = skipws(s, n, i);
	if (i == n)
		rc = 0;
out:
	if (rc < 0 && errpos)
		*errpos = i;
	sb_free(&key);
	sb_free(&val);
	return rc;
}
