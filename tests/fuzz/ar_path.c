/* ar_path.c: fuzz target for ar_path_clean and ar_link_ok: input is "member\0target". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/ar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lexically resolve target from member's directory; -1 if it climbs above the root. */
static int
climbs(const char *member, const char *target)
{
	long depth = 0;
	const char *p;

	for (p = member; *p; p++)
		depth += *p == '/';
	for (p = target; *p; ) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (e != NULL);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[4096];
	const char *why = NULL, *target;
	int r;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	target = strlen(in) < size ? in + strlen(in) + 1 : "";
	r = ar_path_clean(in, out, sizeof(out), &why);
	if (r < 0 && why == NULL)
		abort();
	if (r == 0) {
		/* A clean path is relative, has no "." or ".." or empty part. */
		if (out[0] == '/' || out[0] == '\0' || strstr(out, "//"))
			abort();
		for (const char *p = out; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
			if ((p[0] == '.' && (p[1] == '/' || p[1] == '\0')) ||
			    (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')))
				abort();
		/* Whatever ar_link_ok accepts stays inside, read lexically. */
		if (ar_link_ok(out, target, &why) == 0 && (target[0] == '/' || climbs(out, target)))
			abort();
	}
	free(in);
	return 0;
}
