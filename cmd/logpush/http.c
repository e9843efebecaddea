/* http.c: logpush's requests over one reused libcurl handle, on common/http's safe set-up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <curl/curl.h>

#include "../tool.h"
#include "logpush.h"

static CURL *curl;
static const struct opts *opt;
static struct sb gz;
static const char *post_body;	/* for the request under way, or NULL (GET) */
static size_t post_len;
static uint64_t rng;		/* backoff jitter */

/* Compress into gz at level 1: the body is sent at once, speed matters more. */
static void
gzip_body(const char *p, size_t n)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die(EXIT_FATAL, "zlib: deflateInit2 failed");
	gz.len = 0;
	if (sb_grow(&gz, deflateBound(&z, n) + 16) < 0)
		die(EXIT_FATAL, "out of memory");
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)gz.buf;
	z.avail_out = (uInt)(gz.cap - 1);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die(EXIT_FATAL, "zlib: deflate failed");
	gz.len = z.total_out;
	deflateEnd(&z);
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb;

	/* Keep at most 1 MiB of an answer: enough for any error report. */
	if (r->body.len < (1u << 20) && sb_add(&r->body, p, n) < 0)
		return 0;
	return n;
}

void
lp_http_init(struct opts *o)
{
	char err[256];

	opt = o;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL)
		die(EXIT_FATAL, "libcurl: initialisation failed");
	/* credentials go to the origin of the URL given, and only there */
	if (http_cred_bind(&o->cred, o->url, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "%s", err);
	rng = (uint64_t)prog_now() ^ ((uint64_t)getpid() << 32);
}

void
lp_http_cleanup(void)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = NULL;
	curl_global_cleanup();
	sb_free(&gz);
}

static void
perform(const char *url, const struct curl_slist *extra, struct resp *r)
{
	struct http_opts ho = { .connect_timeout = 5, .user_agent = "logpush/" LOGKIT_VERSION };
	struct http_hdrs hdrs;
	struct curl_slist *hl = NULL;
	CURLcode rc;
	char ebuf[CURL_ERROR_SIZE] = "";

	r->status = 0;
	r->body.len = 0;
	r->err[0] = '\0';
	r->retry_after_ns = -1;
	/* a reset handle keeps its connections: one keep-alive connection */
	if (http_easy_setup(curl, &ho, r->err, sizeof(r->err)) < 0)
		die(EXIT_FATAL, "%s", r->err);
	if (http_cred_apply(&opt->cred, curl, url, extra, &hl) < 0)
		die(EXIT_FATAL, "out of memory");
	http_hdrs_reset(&hdrs);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hdrs);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(opt->timeout_ns / 1000000));
	if (post_body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
	}
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hl);
	if (rc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (hdrs.retry_after_ms >= 0)
		r->retry_after_ns = hdrs.retry_after_ms * 1000000;
	if (sb_addc(&r->body, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	r->body.len--;
}

/* The request's own headers; credentials are added by http_cred_apply. */
static struct curl_slist *
headers(const char *ctype, int gzip)
{
	struct curl_slist *h = NULL;
	char buf[256];

	if (ctype) {
		snprintf(buf, sizeof(buf), "Content-Type: %s", ctype);
		h = curl_slist_append(h, buf);
	}
	if (gzip)
		h = curl_slist_append(h, "Content-Encoding: gzip");
	/* no "Expect: 100-continue" round trip for large bodies */
	h = curl_slist_append(h, "Expect:");
	if (!h)
		die(EXIT_FATAL, "out of memory");
	return h;
}

void
lp_post(const char *url, const char *ctype, const char *body, size_t n, int gzip,
    struct resp *r)
{
	struct curl_slist *h = headers(ctype, gzip);

	if (gzip) {
		gzip_body(body, n);
		body = gz.buf;
		n = gz.len;
	}
	post_body = body;
	post_len = n;
	perform(url, h, r);
	post_body = NULL;
	curl_slist_free_all(h);
}

void
lp_get(const char *url, struct resp *r)
{
	struct curl_slist *h = headers(NULL, 0);

	perform(url, h, r);
	curl_slist_free_all(h);
}

/*
 * The secret file holds the token (bearer; "Token" for InfluxDB 2.x) or
 * "user:password" (basic) on its first line: http_read_secret reads it,
 * the credentials are bound to the URL's origin.
 */
void
lp_read_secret(struct opts *o, const char *path, int basic)
{
	struct sb s = SB_INIT, h = SB_INIT;
	struct curl_slist *l;
	char err[300];

	if (http_read_secret(path, &s, err, sizeof(err)) < 0) {
		if (errno == EINVAL)
			die(EXIT_FATAL, "%s", err);
		die_errno(EXIT_FATAL, "%s", path);
	}
	if (basic) {
		if (memchr(s.buf, ':', s.len) == NULL)
			die(EXIT_FATAL, "%s: expected user:password", path);
		o->cred.userpwd = sb_detach(&s);
		return;
	}
	if (sb_addf(&h, "Authorization: %s ", o->to == T_INFLUX && o->bucket ? "Token" :
	    "Bearer") < 0 || sb_add(&h, s.buf, s.len) < 0 ||
	    (l = curl_slist_append(o->cred.headers, h.buf)) == NULL)
		die(EXIT_FATAL, "out of memory");
	o->cred.headers = l;
	explicit_bzero(s.buf, s.len);
	explicit_bzero(h.buf, h.len);
	sb_free(&s);
	sb_free(&h);
}

int
lp_transient(const struct resp *r)
{
	/* no answer (connect error, timeout, dropped), 408, 429, 5xx but 501/505 */
	return r->status == 0 || http_classify(CURLE_OK, r->status) == HTTP_TRANSIENT;
}

int64_t
lp_backoff(const struct opts *o, int k, const struct resp *r)
{
	/* Retry-After is the server's word: honoured up to an hour */
	int64_t ms = http_backoff_ms((unsigned)k, o->backoff_ns / 1000000, o->backoff_max_ns / 1000000,
	    r && r->retry_after_ns >= 0 ? r->retry_after_ns / 1000000 : -1, 3600 * 1000, &rng);

	return ms * 1000000;
}
