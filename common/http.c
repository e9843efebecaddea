/* http.c: libcurl plumbing shared by the network tools (see http.h for the contract). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"

static void
seterr(char *err, size_t errsz, const char *msg, const char *arg)
{
	if (err && errsz)
		snprintf(err, errsz, "%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
}

int
http_easy_setup(CURL *h, const struct http_opts *o, char *err, size_t errsz)
{
	CURLcode cc = CURLE_OK;

	curl_easy_reset(h);
	/* Each call is checked through cc: the first failure is kept. */
#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, o->allow_file ? "http,https,file" : "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Redirects are followed by the caller, hop by hop (see http.h). */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/*
	 * CAINFO replaces the bundle file, but libcurl's default CAPATH
	 * (/etc/ssl/certs on Debian) stays, so --cacert adds a CA.
	 */
	if (o->cacert)
		SET(CURLOPT_CAINFO, o->cacert);
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout : 30L);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time > 0 ? o->low_speed_time : 60L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	if (o->user_agent)
		SET(CURLOPT_USERAGENT, o->user_agent);
#undef SET
	if (cc != CURLE_OK) {
		seterr(err, errsz, "libcurl setup", curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

char *
http_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	size_t n;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "file") == 0) {
		out = strdup("file://");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	n = strlen(scheme) + strlen(host) + strlen(port) + 5;
	if ((out = malloc(n)) == NULL)
		goto out;
	snprintf(out, n, "%s://%s:%s", scheme, host, port);
	/* Scheme and host compare case-insensitively: fold them. */
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

int
http_cred_bind(struct http_cred *c, const char *url, char *err, size_t errsz)
{
	char *o = http_origin(url);

	if (o == NULL) {
		seterr(err, errsz, "malformed URL", url);
		return -1;
	}
	free(c->origin);
	c->origin = o;
	return 0;
}

static int
slist_copy(struct curl_slist **to, const struct curl_slist *from)
{
	for (; from; from = from->next) {
		struct curl_slist *n = curl_slist_append(*to, from->data);

		if (n == NULL)
			return -1;
		*to = n;
	}
	return 0;
}

int
http_cred_apply(const struct http_cred *c, CURL *h, const char *url,
    const struct curl_slist *extra, struct curl_slist **owned)
{
	struct curl_slist *list = NULL;
	char *o = http_origin(url);
	int same = o && c && c->origin && strcmp(o, c->origin) == 0;

	free(o);
	*owned = NULL;
	if (same && slist_copy(&list, c->headers) < 0)
		goto fail;
	if (slist_copy(&list, extra) < 0)
		goto fail;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_USERPWD, same ? c->userpwd : NULL);
	if (same && c->netrc_file) {
		curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		curl_easy_setopt(h, CURLOPT_NETRC_FILE, c->netrc_file);
	} else {
		curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	}
	*owned = list;
	return same && (c->userpwd || c->headers || c->netrc_file);
fail:
	curl_slist_free_all(list);
	return -1;
}

void
http_cred_free(struct http_cred *c)
{
	free(c->origin);
	if (c->userpwd) {
		/* Do not leave the password in freed memory. */
		memset(c->userpwd, 0, strlen(c->userpwd));
		free(c->userpwd);
	}
	curl_slist_free_all(c->headers);
	free(c->netrc_file);
	memset(c, 0, sizeof(*c));
}

int
http_redirect_ok(const char *location, char *err, size_t errsz)
{
	if (location == NULL || *location == '\0') {
		seterr(err, errsz, "redirect without a Location", NULL);
		return -1;
	}
	if (strncasecmp(location, "http://", 7) == 0 ||
	    strncasecmp(location, "https://", 8) == 0)
		return 0;
	seterr(err, errsz, "redirect refused (only http and https)", location);
	return -1;
}

/* Read at most max bytes of path into sb. */
static int
slurp(const char *path, size_t max, struct sb *sb, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		if (sb_grow(sb, 4096) < 0)
			goto fail;
		n = read(fd, sb->buf + sb->len, sb->cap - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		if (sb->len > max) {
			close(fd);
			seterr(err, errsz, "file too large", path);
			errno = EINVAL;
			return -1;
		}
	}
	close(fd);
	return 0;
fail:
	n = errno;
	close(fd);
	errno = (int)n;
	return -1;
}

int
http_read_secret(const char *path, struct sb *out, char *err, size_t errsz)
{
	struct sb sb = SB_INIT;
	size_t n;

	if (slurp(path, 65536, &sb, err, errsz) < 0) {
		sb_free(&sb);
		return -1;
	}
	n = 0;
	while (n < sb.len && sb.buf[n] != '\n' && sb.buf[n] != '\r')
		n++;
	while (n > 0 && (sb.buf[n - 1] == ' ' || sb.buf[n - 1] == '\t'))
		n--;
	if (n == 0 || memchr(sb.buf, '\0', n)) {
		seterr(err, errsz, n ? "NUL byte in secret" : "empty secret", path);
		memset(sb.buf, 0, sb.len);
		sb_free(&sb);
		errno = EINVAL;
		return -1;
	}
	out->len = 0;
	if (sb_add(out, sb.buf, n) < 0) {
		memset(sb.buf, 0, sb.len);
		sb_free(&sb);
		return -1;
	}
	memset(sb.buf, 0, sb.len);
	sb_free(&sb);
	return 0;
}

int
http_read_headers(const char *path, struct curl_slist **list, char *err,
    size_t errsz)
{
	struct sb sb = SB_INIT;
	char *p, *end;
	unsigned long lineno = 0;
	int rc = -1;

	if (slurp(path, 1 << 20, &sb, err, errsz) < 0)
		goto out;
	p = sb.buf ? sb.buf : (char *)"";
	end = p + sb.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end, *colon;
		struct curl_slist *n;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		*le = '\0';
		if (*p == '\0' || *p == '#')
			goto next;
		colon = strchr(p, ':');
		if (colon == NULL || colon == p || memchr(p, ' ', (size_t)(colon - p)) ||
		    strlen(p) != (size_t)(le - p)) {
			if (err && errsz)
				snprintf(err, errsz, "%s:%lu: expected 'Name: value'",
				    path, lineno);
			errno = EINVAL;
			goto out;
		}
		if ((n = curl_slist_append(*list, p)) == NULL)
			goto out;
		*list = n;
next:
		p = nl ? nl + 1 : end;
	}
	rc = 0;
out:
	if (sb.buf)
		memset(sb.buf, 0, sb.len);
	sb_free(&sb);
	return rc;
}

enum http_class
http_classify(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return HTTP_TRANSIENT;
	default:
		return HTTP_PERMANENT;
	}
	if (status == 408 || status == 429)
		return HTTP_TRANSIENT;
	/* 501 Not Implemented and 505 will not change by asking again. */
	if (status >= 500 && status != 501 && status != 505)
		return HTTP_TRANSIENT;
	if (status >= 400)
		return HTTP_PERMANENT;
	return HTTP_DONE;
}

int64_t
http_parse_retry_after(const char *v, size_t n, time_t now)
{
	char buf[80];
	time_t t;
	size_t i;

	while (n > 0 && isspace((unsigned char)*v))
		v++, n--;
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (i = 0; i < n && isdigit((unsigned char)v[i]); i++)
		;
	if (i == n) {
		int64_t s = 0;

		for (i = 0; i < n; i++) {
			if (s > INT64_MAX / 10000)
				return INT64_MAX / 1000 * 1000;
			s = s * 10 + (v[i] - '0');
		}
		return s * 1000;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	/* An HTTP-date must name a day; curl_getdate alone takes "3" too. */
	if (!isalpha((unsigned char)buf[0]) || (t = curl_getdate(buf, NULL)) == -1)
		return -1;
	return t <= now ? 0 : ((int64_t)t - (int64_t)now) * 1000;
}

int64_t
http_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms,
    int64_t retry_after_ms, int64_t max_after_ms, uint64_t *rng)
{
	int64_t d = base_ms > 0 ? base_ms : 1;
	uint64_t x;

	for (unsigned i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* xorshift64*: jitter needs spread, not strength. */
	x = *rng ? *rng : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*rng = x;
	x *= 0x2545f4914f6cdd1dULL;
	d = d / 2 + (int64_t)(x % (uint64_t)(d / 2 + 1));
	if (retry_after_ms >= 0) {
		if (retry_after_ms > max_after_ms)
			retry_after_ms = max_after_ms;
		if (retry_after_ms > d)
			d = retry_after_ms;
	}
	return d;
}

void
http_hdrs_reset(struct http_hdrs *h)
{
	h->etag[0] = h->last_modified[0] = h->content_range[0] = '\0';
	h->retry_after_ms = -1;
	h->content_length = -1;
}

/* Copy the value of a header line (after the colon) into buf, trimmed. */
static void
hdr_value(const char *p, size_t n, char *buf, size_t sz)
{
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= sz)
		n = 0;	/* too long to be trusted: treat as absent */
	memcpy(buf, p, n);
	buf[n] = '\0';
}

#define HDR_IS(p, n, name) \
	((n) > sizeof(name) - 1 && strncasecmp((p), name, sizeof(name) - 1) == 0)

size_t
http_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_hdrs *h = ud;
	size_t n = size * nmemb;
	char tmp[64];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		http_hdrs_reset(h);
	} else if (HDR_IS(p, n, "etag:")) {
		hdr_value(p + 5, n - 5, h->etag, sizeof(h->etag));
	} else if (HDR_IS(p, n, "last-modified:")) {
		hdr_value(p + 14, n - 14, h->last_modified, sizeof(h->last_modified));
	} else if (HDR_IS(p, n, "content-range:")) {
		hdr_value(p + 14, n - 14, h->content_range, sizeof(h->content_range));
	} else if (HDR_IS(p, n, "retry-after:")) {
		h->retry_after_ms = http_parse_retry_after(p + 12, n - 12, time(NULL));
	} else if (HDR_IS(p, n, "content-length:")) {
		char *e;
		long long v;

		hdr_value(p + 15, n - 15, tmp, sizeof(tmp));
		errno = 0;
		v = strtoll(tmp, &e, 10);
		if (tmp[0] && *e == '\0' && errno == 0 && v >= 0)
			h->content_length = v;
	}
	return n;
}
