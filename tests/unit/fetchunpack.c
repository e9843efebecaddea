/* fetchunpack.c: unit tests for common/http (origins, credentials, classes, backoff), ar (paths, links), jv, sha256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/ar.h"
#include "../../common/http.h"
#include "../../common/jv.h"
#include "../../common/sha256.h"
#include "t.h"

static const char *
clean(const char *in)
{
	static char out[256];
	const char *why = NULL;
	int r = ar_path_clean(in, out, sizeof(out), &why);

	if (r < 0)
		return why;
	return r == 1 ? "(root)" : out;
}

static const char *
link_ok(const char *member, const char *target)
{
	const char *why = NULL;

	return ar_link_ok(member, target, &why) == 0 ? "ok" : why;
}

static char *
origin(const char *u)
{
	static char buf[256];
	char *o = http_origin(u);

	snprintf(buf, sizeof(buf), "%s", o ? o : "(null)");
	free(o);
	return buf;
}

int
main(void)
{
	static const struct { const char *in, *want; } paths[] = {
		{ "a/b/c", "a/b/c" }, { "./a//b/./c/", "a/b/c" }, { "./", "(root)" },
		{ ".", "(root)" }, { "", "empty path" }, { "/etc/passwd", "absolute path" },
		{ "../x", "'..' component" }, { "a/../../x", "'..' component" },
		{ "a/..", "'..' component" }, { "..a/b..", "..a/b.." }, { "a\\..\\b", "a\\..\\b" },
	};
	static const struct { const char *m, *t, *want; } links[] = {
		{ "a/l", "../b", "ok" }, { "l", "../x", "link points outside the target" },
		{ "l", "/", "link to an absolute path" }, { "l", ".", "ok" },
		{ "l2", "l1/..", "link target has '..' after a name" },
		{ "a/b/l", "../../c/d", "ok" }, { "a/b/l", "../../../c", "link points outside the target" },
		{ "l", "", "empty link target" },
	};
	static const struct { const char *s; int want; } objs[] = {
		{ "{}", 1 }, { " {\"a\":[1,-2.5e-3,true,false,null,{}]} ", 1 },
		{ "{\"a\":\"\\u00e9\\n\xc3\xa9\"}", 1 }, { "{\"a\":1,}", 0 }, { "{\"a\":01}", 0 },
		{ "[1]", 0 }, { "{\"a\":1} x", 0 }, { "{\"a\":\"\x01\"}", 0 },
		{ "{\"a\":\"\xff\"}", 0 }, { "{\"a\":\"\xed\xa0\x80\"}", 0 }, { "{\"a\":\"\\x\"}", 0 },
		{ "{\"a\"}", 0 }, { "{\"a\":tru}", 0 }, { "{", 0 },
	};
	struct http_cred c = { 0 };
	struct curl_slist *owned = NULL;
	struct sha256 s;
	char hex[65], err[200];
	uint64_t rng = 1;
	CURL *h;
	int64_t d;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_str(clean(paths[i].in), paths[i].want, "ar_path_clean '%s'", paths[i].in);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		is_str(link_ok(links[i].m, links[i].t), links[i].want, "ar_link_ok %s -> '%s'",
		    links[i].m, links[i].t);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		ok(jv_object(objs[i].s, strlen(objs[i].s), NULL) == objs[i].want, "jv_object %zu", i);
	{
		char deep[2 * JV_MAX_DEPTH + 20];
		size_t n = 0;

		n += (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
		for (int i = 0; i < JV_MAX_DEPTH; i++)
			deep[n++] = '[';
		deep[n] = '\0';
		ok(!jv_object(deep, n, NULL), "jv_object: nesting deeper than JV_MAX_DEPTH refused");
	}

	is_str(origin("HTTP://Example.COM/x"), "http://example.com:80", "origin folds case, adds port");
	is_str(origin("https://h:8443/a?b"), "https://h:8443", "origin keeps an explicit port");
	is_str(origin("file:///etc/passwd"), "file://", "origin of file:");
	ok(http_redirect_ok("https://x/y", err, sizeof(err)) == 0, "redirect to https ok");
	ok(http_redirect_ok("file:///etc/passwd", err, sizeof(err)) < 0, "redirect to file: refused");
	ok(http_redirect_ok("ftp://x/", err, sizeof(err)) < 0, "redirect to ftp: refused");

	ok(http_classify(CURLE_OK, 200) == HTTP_DONE, "200 done");
	ok(http_classify(CURLE_OK, 304) == HTTP_DONE, "304 done");
	ok(http_classify(CURLE_OK, 404) == HTTP_PERMANENT, "404 permanent");
	ok(http_classify(CURLE_OK, 408) == HTTP_TRANSIENT, "408 transient");
	ok(http_classify(CURLE_OK, 429) == HTTP_TRANSIENT, "429 transient");
	ok(http_classify(CURLE_OK, 503) == HTTP_TRANSIENT, "503 transient");
	ok(http_classify(CURLE_OK, 501) == HTTP_PERMANENT, "501 permanent");
	ok(http_classify(CURLE_PARTIAL_FILE, 200) == HTTP_TRANSIENT, "dropped connection transient");
	ok(http_classify(CURLE_COULDNT_CONNECT, 0) == HTTP_TRANSIENT, "refused connection transient");
	ok(http_classify(CURLE_OPERATION_TIMEDOUT, 0) == HTTP_TRANSIENT, "timeout transient");
	ok(http_classify(CURLE_GOT_NOTHING, 0) == HTTP_TRANSIENT, "empty answer transient");
	ok(http_classify(CURLE_RECV_ERROR, 0) == HTTP_TRANSIENT, "reset connection transient");
	ok(http_classify(CURLE_OK, 400) == HTTP_PERMANENT, "400 permanent");
	ok(http_classify(CURLE_OK, 401) == HTTP_PERMANENT, "401 permanent");
	ok(http_classify(CURLE_OK, 410) == HTTP_PERMANENT, "410 permanent");
	ok(http_classify(CURLE_OK, 500) == HTTP_TRANSIENT, "500 transient");
	ok(http_classify(CURLE_PEER_FAILED_VERIFICATION, 0) == HTTP_PERMANENT, "bad certificate permanent");

	ok(http_parse_retry_after("120", 3, 0) == 120000, "Retry-After seconds");
	ok(http_parse_retry_after(" 7 \r\n", 5, 0) == 7000, "Retry-After with blanks");
	ok(http_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 29, 1445412480) == 10000,
	    "Retry-After HTTP-date");
	ok(http_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 29, 1445412500) == 0,
	    "Retry-After in the past");
	ok(http_parse_retry_after("soon", 4, 0) == -1, "Retry-After garbage");
	for (unsigned a = 1; a <= 12; a++) {
		int64_t base = 500, cap = 30000, full = base;

		for (unsigned i = 1; i < a && full < cap; i++)
			full *= 2;
		if (full > cap)
			full = cap;
		d = http_backoff_ms(a, base, cap, -1, 300000, &rng);
		ok(d >= full / 2 && d <= full, "backoff attempt %u: %lld in [%lld, %lld]", a,
		    (long long)d, (long long)full / 2, (long long)full);
	}
	ok(http_backoff_ms(1, 500, 30000, 5000, 300000, &rng) == 5000, "Retry-After wins when longer");
	ok(http_backoff_ms(1, 500, 30000, 999999999, 300000, &rng) == 300000, "Retry-After capped");

	/* Credentials go to their origin only. */
	h = curl_easy_init();
	c.headers = curl_slist_append(NULL, "Authorization: Bearer x");
	c.userpwd = strdup("u:p");
	ok(http_cred_bind(&c, "https://a.example/x", err, sizeof(err)) == 0, "cred bind");
	ok(http_cred_apply(&c, h, "https://a.example:443/other", NULL, &owned) == 1,
	    "cred applied to the same origin");
	ok(owned && strcmp(owned->data, "Authorization: Bearer x") == 0, "header copied");
	curl_slist_free_all(owned);
	ok(http_cred_apply(&c, h, "https://b.example/x", NULL, &owned) == 0, "withheld from another host");
	ok(owned == NULL, "no headers for another host");
	ok(http_cred_apply(&c, h, "http://a.example/x", NULL, &owned) == 0, "withheld on another scheme");
	ok(http_cred_apply(&c, h, "https://a.example:444/x", NULL, &owned) == 0, "withheld on another port");
	http_cred_free(&c);
	curl_easy_cleanup(h);

	/* SHA-256 against FIPS 180-2 examples, through the block path and the tail. */
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final_hex(&s, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
	sha256_init(&s);
	for (int i = 0; i < 1000000; i += 1000) {
		char a[1000];

		memset(a, 'a', sizeof(a));
		sha256_update(&s, a, sizeof(a));
	}
	sha256_final_hex(&s, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    "sha256 million a");
	return t_done();
}
