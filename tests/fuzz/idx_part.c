/* idx_part.c: fuzz target for the logindex part and manifest readers (validation and column decoding). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../../common/idx_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idx_part p = { 0 };
	struct idx_man m;
	struct idx_dec d = { 0 };
	unsigned char *copy;
	char err[512];
	ZSTD_DCtx *zd;

	if (size >= 8 && memcmp(data, IDX_MAN_MAGIC, 8) == 0) {
		if (idx_man_parse(&m, data, size, err, sizeof(err)) == 0)
			idx_man_free(&m);
		return 0;
	}
	/* an exact-size heap copy, so ASan sees any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL || (zd = ZSTD_createDCtx()) == NULL) {
		free(copy);
		return 0;
	}
	memcpy(copy, data, size);
	if (idx_part_parse(&p, copy, size, err, sizeof(err)) == 0) {
		idx_part_check_blooms(&p, err, sizeof(err));
		for (uint32_t b = 0; b < p.nblocks; b++)
			for (uint32_t c = 0; c < p.blocks[b].ncols; c++) {
				struct idx_col col;

				idx_col_get(&p.blocks[b], c, &col);
				idx_col_decode(&p, &p.blocks[b], &col, &d, zd, err, sizeof(err));
			}
	}
	free(p.fields);
	free(p.streams);
	free(p.blocks);
	idx_dec_free(&d);
	ZSTD_freeDCtx(zd);
	free(copy);
	return 0;
}
