/* http.h: libcurl plumbing shared by the network tools: safe handles, secrets, retry policy. */
#ifndef LOGKIT_HTTP_H
#define LOGKIT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <curl/curl.h>

#include "sb.h"

/*
 * The contract, for every tool that talks HTTP (logfetch, logpush,
 * logalert...):
 *
 *  - Handles come from http_easy_setup: only http and https (file only
 *    when the caller allows it for a URL the user typed), TLS peer and
 *    host verification on, an optional extra CA file, timeouts.  libcurl
 *    never follows redirects itself (CURLOPT_FOLLOWLOCATION off): the
 *    caller follows them with http_redirect, so that credentials are
 *    re-decided for every hop.  libcurl 7.88 drops a custom
 *    "Authorization:" header on a cross-host redirect but forwards every
 *    other custom header (X-Api-Key, Cookie...), and a netrc file is
 *    consulted again for the new host: following by hand is the only way
 *    to hold "credentials go to the host they were given for" for all of
 *    them.
 *
 *  - Credentials (struct http_cred) are bound to one origin (scheme, host,
 *    port).  http_cred_apply sets them on a handle only when the URL about
 *    to be requested has that origin, and clears them otherwise.  Every
 *    header of a header file counts as a credential.
 *
 *  - Secrets come from files (http_read_secret, http_read_headers) or the
 *    environment, never from argv.
 *
 *  - Outcomes are classified by http_classify: transient ones (connect
 *    errors, timeouts, a dropped connection, 408, 429, 5xx) are retried
 *    after http_backoff_ms, which honours Retry-After; the rest are final.
 *
 * Nothing here prints or exits: functions return -1 (or a class) and
 * write a short reason into err[errsz] when one is given.
 */

struct http_opts {
	long connect_timeout;	/* seconds; 0: 30 */
	long low_speed_time;	/* abort when < 1 byte/s for this long; 0: 60 */
	const char *cacert;	/* extra CA bundle (PEM), or NULL */
	int allow_file;		/* allow file:// (for a URL typed by the user) */
	const char *user_agent;	/* NULL: "logkit/VERSION" chosen by the caller */
};

/*
 * Reset h and set the safe defaults above.  Call before each request of a
 * reused handle, then set URL, callbacks and credentials.  Returns 0, or
 * -1 with err set (a libcurl too old for CURLOPT_PROTOCOLS_STR, ...).
 */
int http_easy_setup(CURL *h, const struct http_opts *o, char *err, size_t errsz);

/* Credentials and the origin ("https://host:443") they belong to. */
struct http_cred {
	char *origin;		/* NULL: not bound yet (http_cred_bind) */
	char *userpwd;		/* "user:password" or NULL */
	struct curl_slist *headers;	/* header-file lines, or NULL */
	char *netrc_file;	/* or NULL */
};

/*
 * Bind cred to the origin of url (the URL the user gave).  Returns 0, or
 * -1 when url does not parse.
 */
int http_cred_bind(struct http_cred *c, const char *url, char *err, size_t errsz);
/*
 * Set or clear the credentials on h for a request of url.  extra is the
 * caller's own non-secret header list (appended after a copy of the
 * credential headers, or used alone); the list set on h is returned in
 * *owned and must be freed with curl_slist_free_all after the transfer.
 * Returns 1 when credentials were applied, 0 when withheld, -1 on error.
 */
int http_cred_apply(const struct http_cred *c, CURL *h, const char *url,
    const struct curl_slist *extra, struct curl_slist **owned);
void http_cred_free(struct http_cred *c);

/* The origin of url as "scheme://host:port" (port made explicit), malloc'd; NULL on error. */
char *http_origin(const char *url);

/*
 * Decide a redirect: location is CURLINFO_REDIRECT_URL (already absolute).
 * Returns 0 when it may be followed (an http or https URL), -1 with err
 * set otherwise ("redirect to file:///etc/passwd refused").
 */
int http_redirect_ok(const char *location, char *err, size_t errsz);

/*
 * Read a secret from a file: its first line, without the line end and
 * trailing blanks.  Refuses an empty secret.  Returns 0 or -1 (errno set,
 * or EINVAL with err).
 */
int http_read_secret(const char *path, struct sb *out, char *err, size_t errsz);
/*
 * Read "Name: value" lines into *list (appended).  Blank lines and lines
 * starting with '#' are skipped; a line without a colon is an error
 * ("FILE:LINE: expected 'Name: value'").  Returns 0 or -1.
 */
int http_read_headers(const char *path, struct curl_slist **list, char *err,
    size_t errsz);

enum http_class {
	HTTP_DONE,		/* 2xx, 304, or a 3xx the caller follows */
	HTTP_TRANSIENT,		/* retry later */
	HTTP_PERMANENT,		/* give up on this URL */
};
/* Classify a transfer result (cc) and the HTTP status (0 if none). */
enum http_class http_classify(CURLcode cc, long status);

/*
 * Retry-After value (delta-seconds or an HTTP-date) as milliseconds from
 * now, or -1 when it does not parse.  Past dates give 0.
 */
int64_t http_parse_retry_after(const char *v, size_t n, time_t now);

/*
 * Delay before retry number attempt (1-based): exponential from base_ms,
 * capped at cap_ms, with "equal jitter" (uniform in [d/2, d]) from *rng
 * (any seed; advanced).  A Retry-After (retry_after_ms >= 0) wins when
 * longer, itself capped at max_after_ms so a server cannot park us.
 */
int64_t http_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms,
    int64_t retry_after_ms, int64_t max_after_ms, uint64_t *rng);

/*
 * A header callback for CURLOPT_HEADERFUNCTION with a struct http_hdrs
 * as CURLOPT_HEADERDATA: keeps the headers every tool wants.  Values are
 * reset at each new status line (interim 100 Continue, ...).
 */
struct http_hdrs {
	char etag[256];
	char last_modified[64];
	char content_range[128];
	int64_t retry_after_ms;		/* -1 when absent */
	long long content_length;	/* -1 when absent */
};
void http_hdrs_reset(struct http_hdrs *h);
size_t http_header_cb(char *p, size_t size, size_t nmemb, void *ud);

#endif
