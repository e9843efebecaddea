/* ar.c: archive member path and link-target checks (see ar.h). */
#include <string.h>

#include "ar.h"

#define AR_NAME_MAX 255

int
ar_path_clean(const char *in, char *out, size_t outsz, const char **why)
{
	size_t o = 0;
	const char *p = in;

	if (in == NULL || *in == '\0') {
		*why = "empty path";
		return -1;
	}
	if (*in == '/') {
		*why = "absolute path";
		return -1;
	}
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "a//b", "./a": nothing to add */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "'..' component";
			return -1;
		} else if (n > AR_NAME_MAX) {
			*why = "name too long";
			return -1;
		} else {
			if (o + n + 2 > outsz) {
				*why = "name too long";
				return -1;
			}
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (outsz == 0) {
		*why = "name too long";
		return -1;
	}
	out[o] = '\0';
	return o == 0 ? 1 : 0;
}

int
ar_link_ok(const char *member, const char *target, const char **why)
{
	long depth = 0;
	int named = 0;
	const char *p;

	if (target == NULL || *target == '\0') {
		*why = "empty link target";
		return -1;
	}
	if (*target == '/') {
		*why = "link to an absolute path";
		return -1;
	}
	/* Depth of the directory holding member: its count of '/'. */
	for (p = member; *p; p++)
		depth += *p == '/';
	p = target;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (named) {
				*why = "link target has '..' after a name";
				return -1;
			}
			if (--depth < 0) {
				*why = "link points outside the target";
				return -1;
			}
		} else if (n > AR_NAME_MAX) {
			*why = "name too long";
			return -1;
		} else {
			named = 1;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}
