/* follow_state.c: fuzz the follower's state-file parser; what it accepts must be written back byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/follow_st.h"
#include "../../common/sb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_ent *e = NULL, *e2 = NULL;
	struct sb out = SB_INIT, again = SB_INIT;
	size_t n = 0, n2 = 0;
	char err[256];

	err[0] = '\0';
	if (fst_parse("st", (const char *)data, size, &e, &n, err, sizeof(err)) < 0) {
		/* refused: always with a message naming the file */
		if (strncmp(err, "st", 2) != 0 || (err[2] != ':'))
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (e[i].key[0] != '/' || e[i].hashlen > FST_HASH_MAX ||
		    e[i].hashlen > e[i].off || e[i].off > INT64_MAX)
			__builtin_trap();
	/* only canonical text is accepted, so it comes back unchanged (an
	   empty file is the one exception: it comes back as a header) */
	if (fst_format(&out, e, n) < 0)
		goto done;
	if (size > 0 && (out.len != size || memcmp(out.buf, data, size) != 0))
		__builtin_trap();
	if (fst_parse("st", out.buf, out.len, &e2, &n2, err, sizeof(err)) < 0 || n2 != n ||
	    fst_format(&again, e2, n2) < 0 || again.len != out.len ||
	    memcmp(again.buf, out.buf, out.len) != 0)
		__builtin_trap();
done:
	fst_free(e, n);
	fst_free(e2, n2);
	sb_free(&out);
	sb_free(&again);
	return 0;
}
