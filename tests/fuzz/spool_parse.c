/* spool_parse.c: fuzz the spool journal reader: walk records as spool_open does. */
#include <stdint.h>
#include <string.h>

#include "../../common/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_rec r;
	char err[128];
	size_t pos = 0;
	uint64_t stream = 0, ack = 0;

	if (spool_header_ok(data, size))
		pos = SPOOL_HDRSZ;
	while (pos < size) {
		long k = spool_parse(data + pos, size - pos, &r, err, sizeof(err));

		if (k <= 0)
			break;
		if ((size_t)k > size - pos)	/* a record may never claim more than it has */
			__builtin_trap();
		if (r.type == SPOOL_DATA)
			stream += r.len;
		else if (r.ack > ack && r.ack <= stream)
			ack = r.ack;
		pos += (size_t)k;
	}
	return 0;
}
