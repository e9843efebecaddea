/* catrule_parse.c: fuzz the rules-file parser and run the parsed rules over a few paths. */
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>

#include "../../common/catrule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
content(void *ctx, const char **buf, size_t *len)
{
	(void)ctx;
	*buf = "INFO vLLM API server version 0.6\nline two\n";
	*len = strlen(*buf);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *paths[] = { "/data/raw/h1/server-1.log", "slurm-job-7.out", "",
		"a/b/c", "x.err" };
	static struct json_object *rec;
	struct catrules rs;
	char err[512];

	if (!rec)
		rec = json_tokener_parse("{\"path\":\"a/server-1.log\",\"source\":\"db\","
		    "\"host\":\"gpu7\",\"size\":42,\"k\":{\"n\":\"v\"}}");
	if (cr_parse(&rs, (const char *)data, size, "fuzz", err, sizeof(err)) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		struct cr_subject s = { .path = paths[i], .pathlen = strlen(paths[i]),
			.content = content, .rec = i % 2 ? rec : NULL };
		(void)cr_match(&rs, &s);
	}
	/* the path itself as a file name for the built-in rules */
	(void)cr_builtin((const char *)data, size);
	cr_free(&rs);
	return 0;
}
