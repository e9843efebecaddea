/* alert_rules.c: fuzz logalert's rules-file parser, then use what it accepts (match, templates, durations). */
#include <stdint.h>
#include <string.h>

#include "../../common/arule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
lookup(void *ctx, const char *name, size_t n, size_t *len)
{
	(void)ctx;
	*len = n;
	return name;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ar_set rs = { 0 };
	struct sb errs = SB_INIT, out = SB_INIT;
	struct json_object *rec = json_tokener_parse(
	    "{\"_time\":\"2025-05-17T04:44:04Z\",\"_msg\":\"disk error on db1\","
	    "\"host\":\"db1\",\"lat\":\"12.5\",\"a\":{\"b\":3}}");
	char d[64];

	if (ar_parse(&rs, (const char *)data, size, "fuzz", &errs) == 0) {
		for (size_t i = 0; i < rs.n; i++) {
			struct ar_rule *r = &rs.v[i];
			size_t n;

			(void)qry_match(r->q, rec);
			for (size_t k = 0; k < r->nby; k++)
				(void)ar_field_text(r, rec, r->by[k], &n);
			for (size_t k = 0; k < r->nannots; k++) {
				sb_reset(&out);
				(void)ar_render(r->annots[k].val, lookup, NULL, &out);
			}
			(void)ar_holds(r, 3.0);
			(void)ar_fmt_dur(r->window, d, sizeof(d));
			(void)ar_fmt_dur(r->cooldown, d, sizeof(d));
		}
	}
	ar_free(&rs);
	json_object_put(rec);
	sb_free(&errs);
	sb_free(&out);
	return 0;
}
