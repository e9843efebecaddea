/* http_hdr.c: fuzz target for the response header parser (http_header_cb, http_parse_retry_after). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_hdrs h;
	char *line = malloc(size + 1);
	uint64_t rng = size;
	int64_t ms;

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	http_hdrs_reset(&h);
	/* One header line per '\n', as libcurl hands them over. */
	for (size_t i = 0, s = 0; i <= size; i++) {
		if (i == size || line[i] == '\n') {
			if (http_header_cb(line + s, 1, i - s + (i < size), &h) != i - s + (i < size))
				abort();
			s = i + 1;
		}
	}
	if (strlen(h.etag) >= sizeof(h.etag) || strlen(h.last_modified) >= sizeof(h.last_modified))
		abort();
	ms = http_parse_retry_after(line, size, 1747457048);
	if (ms < -1)
		abort();
	ms = http_backoff_ms((unsigned)(size % 40), 500, 30000, ms, 300000, &rng);
	if (ms < 250 && ms != 0)
		abort();
	free(line);
	return 0;
}
