/* follow_state.c: fuzz the follower's state-file parser; what it accepts must be written back byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/follow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *out = NULL, *again = NULL;
	size_t outn = 0, againn = 0;

	err[0] = '\0';
	if (fw_state_parse("st", (const char *)data, size, &out, &outn, err, sizeof(err)) < 0) {
		/* refused: always with a message naming the file */
		if (strncmp(err, "st:", 3) != 0)
			__builtin_trap();
		return 0;
	}
	/* only canonical text is accepted, so it comes back unchanged (an
	   empty file is the one exception: it comes back as a header) */
	if (size > 0 && (outn != size || memcmp(out, data, size) != 0))
		__builtin_trap();
	if (fw_state_parse("st", out, outn, &again, &againn, err, sizeof(err)) < 0 ||
	    againn != outn || memcmp(again, out, outn) != 0)
		__builtin_trap();
	free(out);
	free(again);
	return 0;
}
