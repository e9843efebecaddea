/* http.c: logpush's HTTP plumbing over one reused libcurl easy handle. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <curl/curl.h>

#include "../tool.h"
#include "logpush.h"

static CURL *curl;
static const struct opts *opt;
static struct sb gz;

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

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb;

	if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		const char *v = p + 12;

		while (*v == ' ' || *v == '\t')
			v++;
		/* Delay-seconds only; an HTTP date falls back to our backoff. */
		if (isdigit((unsigned char)*v)) {
			long s = strtol(v, NULL, 10);

			if (s > 3600)
				s = 3600;
			r->retry_after_ns = (int64_t)s * 1000000000;
		}
	}
	return n;
}

void
http_init(const struct opts *o)
{
	opt = o;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL)
		die(EXIT_FATAL, "libcurl: initialisation failed");
}

void
http_cleanup(void)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = NULL;
	curl_global_cleanup();
	sb_free(&gz);
}

static void
perform(const char *url, struct curl_slist *h, struct resp *r)
{
	CURLcode rc;
	char ebuf[CURL_ERROR_SIZE] = "";

	r->status = 0;
	r->body.len = 0;
	r->err[0] = '\0';
	r->retry_after_ns = -1;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(opt->timeout_ns / 1000000));
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (sb_addc(&r->body, 0) < 0)
		die(EXIT_FATAL, "out of memory");
	r->body.len--;
}

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
	if (opt->auth_header)
		h = curl_slist_append(h, opt->auth_header);
	if (!h)
		die(EXIT_FATAL, "out of memory");
	return h;
}

void
http_post(const char *url, const char *ctype, const char *body, size_t n, int gzip,
    struct resp *r)
{
	struct curl_slist *h = headers(ctype, gzip);

	if (gzip) {
		gzip_body(body, n);
		body = gz.buf;
		n = gz.len;
	}
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	perform(url, h, r);
	curl_slist_free_all(h);
}

void
http_get(const char *url, struct resp *r)
{
	struct curl_slist *h = headers(NULL, 0);

	curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	perform(url, h, r);
	curl_slist_free_all(h);
}

/*
 * A secret file holds the token (bearer) or "user:password" (basic) on
 * its first line; the trailing newline is not part of it.
 */
char *
http_read_secret(const char *path, int basic)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *out;
	size_t cap = 0;
	ssize_t n;
	struct sb h = SB_INIT;

	if (!fp)
		die_errno(EXIT_FATAL, "%s", path);
	n = getline(&line, &cap, fp);
	fclose(fp);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0)
		die(EXIT_FATAL, "%s: empty secret file", path);
	if (basic && !strchr(line, ':'))
		die(EXIT_FATAL, "%s: expected user:password", path);
	if (basic) {
		static const char b64[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const unsigned char *s = (unsigned char *)line;

		sb_adds(&h, "Authorization: Basic ");
		for (ssize_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
			    (i + 2 < n ? s[i + 2] : 0);

			sb_addc(&h, b64[v >> 18 & 63]);
			sb_addc(&h, b64[v >> 12 & 63]);
			sb_addc(&h, i + 1 < n ? b64[v >> 6 & 63] : '=');
			sb_addc(&h, i + 2 < n ? b64[v & 63] : '=');
		}
	} else
		sb_addf(&h, "Authorization: %s %s", opt && opt->to == T_INFLUX &&
		    opt->bucket ? "Token" : "Bearer", line);
	explicit_bzero(line, cap);
	free(line);
	if ((out = sb_detach(&h)) == NULL)
		die(EXIT_FATAL, "out of memory");
	return out;
}

int
http_transient(const struct resp *r)
{
	return r->status == 0 || r->status == 408 || r->status == 429 || r->status >= 500;
}

int64_t
http_backoff(const struct opts *o, int k, const struct resp *r)
{
	int64_t cap = o->backoff_ns;

	for (int i = 1; i < k && cap < o->backoff_max_ns; i++)
		cap *= 2;
	if (cap > o->backoff_max_ns)
		cap = o->backoff_max_ns;
	/* Retry-After is the server's word: honour it, not less. */
	if (r && r->retry_after_ns >= 0)
		return r->retry_after_ns + (int64_t)((double)random() / RAND_MAX *
		    (double)(r->retry_after_ns / 10));
	return (int64_t)((double)random() / RAND_MAX * (double)cap);
}
