/* ilp.c: unit tests for InfluxDB line protocol escaping. */
#include <math.h>
#include <string.h>

#include "../../common/ilp.h"
#include "t.h"

static const char *
name(const char *s, int kind, int *rc)
{
	static struct sb b;

	b.len = 0;
	*rc = ilp_name(&b, s, strlen(s), kind);
	sb_addc(&b, 0);
	return b.buf;
}

int
main(void)
{
	struct sb b = SB_INIT;
	int rc;

	is_str(name("cpu load,x=1", ILP_MEASUREMENT, &rc), "cpu\\ load\\,x=1", "measurement: comma, space");
	is_str(name("a b,c=d", ILP_TAG, &rc), "a\\ b\\,c\\=d", "tag: comma, equals, space");
	is_str(name("a b,c=d", ILP_FIELD_KEY, &rc), "a\\ b\\,c\\=d", "field key alike");
	is_str(name("x\\y", ILP_TAG, &rc), "x\\y", "lone backslash stays");
	is_str(name("two\nlines", ILP_TAG, &rc), "two\\nlines", "newline as \\n");
	is_str(name("tab\there", ILP_TAG, &rc), "tab\there", "tab raw");
	is_str(name("a\\\\,b", ILP_TAG, &rc), "a\\\\\\,b", "even backslash run before comma");
	ok(rc == 0, "representable");
	name("end\\", ILP_TAG, &rc);
	ok(rc == ILP_UNREPRESENTABLE, "trailing backslash");
	name("a\\,b", ILP_TAG, &rc);
	ok(rc == ILP_UNREPRESENTABLE, "odd backslash run before comma");
	name("a\\=b", ILP_MEASUREMENT, &rc);
	ok(rc == 0, "equals is not special in a measurement");
	ilp_string(&b, "say \"hi\" \\ \n", 12);
	sb_addc(&b, 0);
	is_str(b.buf, "\"say \\\"hi\\\" \\\\ \\n\"", "string field: quote, backslash, newline");
	b.len = 0;
	ilp_int(&b, -42);
	sb_addc(&b, ' ');
	ilp_float(&b, 1.5);
	sb_addc(&b, ' ');
	ilp_float(&b, 2.0);
	sb_addc(&b, ' ');
	ilp_float(&b, 1e300);
	sb_addc(&b, 0);
	is_str(b.buf, "-42i 1.5 2 1e+300", "numbers");
	ok(ilp_float(&b, NAN) == ILP_UNREPRESENTABLE && ilp_float(&b, INFINITY) == ILP_UNREPRESENTABLE,
	    "NaN and Inf");
	sb_free(&b);
	return t_done();
}
