/* lf_parse.c: fuzz the log-line parsers of every format, logfmt field picking and format detection. */
#include <stdint.h>
#include <string.h>

#include "../../common/lf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lf_ctx ctx = { 1795392000LL * 1000000000LL };
	const char *lines[24];
	size_t lens[24], n = 0, a = 0;
	struct lf_rec r;
	int bin;

	for (int f = LF_UNKNOWN; f < LF_NFMT; f++) {
		if (lf_parse((enum lf_fmt)f, (const char *)data, size, &ctx, &r) == 1) {
			/* every span must lie inside the input */
			if (r.msg && (r.msg < (const char *)data || r.msg + r.msgn > (const char *)data + size))
				__builtin_trap();
			if (f == LF_LOGFMT)
				lf_pick(&r, NULL, NULL, NULL);
			for (size_t i = 0; i < r.nf; i++)
				if (r.f[i].vn > size)
					__builtin_trap();
		}
	}
	(void)lf_continuation((const char *)data, size);
	(void)lf_level((const char *)data, size);
	/* the input as lines for detection */
	for (size_t i = 0; i <= size && n < 24; i++)
		if (i == size || data[i] == '\n') {
			lines[n] = (const char *)data + a;
			lens[n++] = i - a;
			a = i + 1;
		}
	(void)lf_detect(lines, lens, n, &ctx, &bin);
	return 0;
}
