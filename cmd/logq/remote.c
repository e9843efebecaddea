/* remote.c: logq --remote: the query on a VictoriaLogs server, or its LogQL form on Loki, printed as locally. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <curl/curl.h>

#include "../../common/curl_lazy.h"
#include "../../common/http.h"
#include "../../common/rec.h"
#include "../../common/stream.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logq.h"

#define RETRIES 2		/* after the first attempt, only before any output */
#define LOKI_PAGE 1000		/* entries per query_range request */
#define LOKI_PAGE_MAX 5000	/* Loki's default max_entries_limit_per_query */
#define ERR_BODY_MAX 4096	/* of an error answer, for its message */

enum backend { VICTORIALOGS, LOKI };

struct remote {
	struct logq *lq;
	enum backend be;
	char *base;		/* the server's URL, no trailing '/' */
	char *shown;		/* base without user:password, for messages */
	struct http_cred cred;
	struct http_opts ho;
	CURL *h;
	unsigned long long limit;	/* --limit: the most recent N */
	int drop_stream_id;	/* the query prints whole records: as locally */
	uint64_t rng;
	/* the transfer under way */
	long status;
	struct http_hdrs hdrs;
	/* --timeout: no byte for that long ends an attempt */
	long timeout;
	curl_off_t seen_bytes;
	struct timespec seen_at;
	int idle;
	struct sb body;		/* a partial line (VictoriaLogs), the document (Loki), an error */
	struct json_tokener *tok;
	unsigned long long lineno;
	/* figures */
	unsigned long long requests, received, printed;
	/* --limit: records held until the end, to print oldest first */
	struct held {
		int64_t ts;
		size_t seq;
		struct json_object *rec;
	} *held;
	size_t nheld, capheld;
};

static void
oom(void)
{
	die(EXIT_FATAL, "out of memory");
}

/* ---- set-up ---- */

static unsigned long long
parse_limit(const char *s)
{
	char *e;
	unsigned long long v;

	if (s == NULL)
		return 0;
	v = strtoull(s, &e, 10);
	if (*s < '0' || *s > '9' || *e || v == 0 || v > 1000000000ULL)
		die(EXIT_FATAL, "--limit: bad count '%s' (1 to 1000000000)", s);
	return v;
}

static long
parse_timeout(const char *s)
{
	int64_t ns;
	size_t n;

	if (s == NULL)
		return 60;
	n = strlen(s);
	if (n == 0 || ts_parse_duration(s, n, &ns) != n || ns <= 0)
		die(EXIT_FATAL, "--timeout: bad duration '%s' (e.g. 30s, 2m)", s);
	/* libcurl counts whole seconds */
	return ns >= 86400LL * 1000000000 ? 86400 : (long)((ns + 999999999) / 1000000000);
}

/* The URL without a user:password part, for messages. */
static char *
shown_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_URL, &s, 0);
	curl_url_cleanup(u);
	out = xstrdup(s ? s : url);
	curl_free(s);
	/* curl adds a '/' to a bare host: show what the user typed */
	if (strlen(out) > 0 && out[strlen(out) - 1] == '/' && url[strlen(url) - 1] != '/')
		out[strlen(out) - 1] = '\0';
	return out;
}

static void
setup(struct remote *r, const struct logq *lq)
{
	const char *u = lq->remote.url;
	char err[256];
	size_t n;

	if (strncmp(u, "loki+", 5) == 0)
		r->be = LOKI, u += 5;
	else if (strncmp(u, "victorialogs+", 13) == 0)
		u += 13;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		die(EXIT_FATAL, "--remote: '%s': want an http:// or https:// URL "
		    "(loki+http://... for Loki)", lq->remote.url);
	r->base = xstrdup(u);
	for (n = strlen(r->base); n > 0 && r->base[n - 1] == '/'; n--)
		r->base[n - 1] = '\0';
	if (strchr(r->base, '?') || strchr(r->base, '#'))
		die(EXIT_FATAL, "--remote: '%s': give the server's base URL, without '?' or '#'",
		    lq->remote.url);
	/* The first curl call loads libcurl (curl_lazy.h): say so when it is not there. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		if (curl_lazy_error())
			die(EXIT_FATAL, "--remote: cannot load libcurl: %s", curl_lazy_error());
		die(EXIT_FATAL, "libcurl: initialisation failed");
	}
	r->shown = shown_url(r->base);
	if (http_cred_bind(&r->cred, r->base, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "--remote: %s", err);
	if (lq->remote.bearer_file) {
		struct sb s = SB_INIT, hdr = SB_INIT;
		struct curl_slist *l;

		if (http_read_secret(lq->remote.bearer_file, &s, err, sizeof(err)) < 0) {
			if (errno == EINVAL)
				die(EXIT_FATAL, "%s", err);
			die_errno(EXIT_FATAL, "%s", lq->remote.bearer_file);
		}
		if (sb_adds(&hdr, "Authorization: Bearer ") < 0 || sb_add(&hdr, s.buf, s.len) < 0 ||
		    (l = curl_slist_append(r->cred.headers, hdr.buf)) == NULL)
			oom();
		r->cred.headers = l;
		explicit_bzero(s.buf, s.len);
		explicit_bzero(hdr.buf, hdr.len);
		sb_free(&s);
		sb_free(&hdr);
	}
	if (lq->remote.basic_file) {
		struct sb s = SB_INIT;

		if (http_read_secret(lq->remote.basic_file, &s, err, sizeof(err)) < 0) {
			if (errno == EINVAL)
				die(EXIT_FATAL, "%s", err);
			die_errno(EXIT_FATAL, "%s", lq->remote.basic_file);
		}
		if (memchr(s.buf, ':', s.len) == NULL)
			die(EXIT_FATAL, "%s: expected user:password", lq->remote.basic_file);
		r->cred.userpwd = sb_detach(&s);
	}
	r->limit = parse_limit(lq->remote.limit);
	r->timeout = parse_timeout(lq->remote.timeout);
	r->ho.connect_timeout = r->ho.low_speed_time = r->timeout;
	r->ho.user_agent = "logq/" LOGKIT_VERSION;
	r->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if ((r->h = curl_easy_init()) == NULL)
		die(EXIT_FATAL, "libcurl: initialisation failed");
	if ((r->tok = json_tokener_new()) == NULL)
		oom();
}

/* ---- one HTTP request, with retries while nothing was printed ---- */

typedef void (*chunk_fn)(struct remote *r, const char *p, size_t n);

struct req {
	struct remote *r;
	chunk_fn on_ok;		/* the body of a 2xx answer */
	int ok;			/* the status was 2xx */
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct req *q = ud;
	struct remote *r = q->r;
	size_t n = size * nmemb;

	if (r->status == 0) {
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
		q->ok = r->status >= 200 && r->status < 300;
	}
	if (q->ok) {
		q->on_ok(r, p, n);
		return n;
	}
	if (r->body.len < ERR_BODY_MAX && sb_add(&r->body, p,
	    n < ERR_BODY_MAX - r->body.len ? n : ERR_BODY_MAX - r->body.len) < 0)
		oom();
	return n;
}

/*
 * libcurl's low-speed limit starts with the answer: a server that takes
 * the request and says nothing would hold us forever.  This counts
 * silence from the start of the attempt.
 */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct remote *r = ud;
	struct timespec now;

	(void)dltotal;
	(void)ultotal;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (dlnow + ulnow != r->seen_bytes) {
		r->seen_bytes = dlnow + ulnow;
		r->seen_at = now;
		return 0;
	}
	if (now.tv_sec - r->seen_at.tv_sec > r->timeout ||
	    (now.tv_sec - r->seen_at.tv_sec == r->timeout && now.tv_nsec >= r->seen_at.tv_nsec)) {
		r->idle = 1;
		return 1;
	}
	return 0;
}

/* "HTTP 400: cannot parse query [...]": the first line of the answer. */
static void
die_status(struct remote *r, const char *what)
{
	const char *b = r->body.buf ? r->body.buf : "";
	size_t n = 0;

	while (n < r->body.len && b[n] != '\n' && b[n] != '\r')
		n++;
	while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
		n--;
	if (n > 300)
		n = 300;
	die(EXIT_FATAL, "%s: %sHTTP %ld%s%.*s", r->shown, what, r->status, n ? ": " : "",
	    (int)n, b);
}

/*
 * GET url (post == NULL) or POST the form post.  Retries transient
 * failures (http_classify) while may_retry() holds, i.e. before any of
 * the answer reached the output.  Dies on a final failure.
 */
static void
request(struct remote *r, const char *url, const char *post, chunk_fn on_ok,
    void (*reset)(struct remote *r), int (*may_retry)(struct remote *r))
{
	struct curl_slist *hl = NULL;
	char ebuf[CURL_ERROR_SIZE], err[256];

	for (unsigned attempt = 1;; attempt++) {
		struct req q = { r, on_ok, 0 };
		CURLcode cc;
		enum http_class cls;

		if (http_easy_setup(r->h, &r->ho, err, sizeof(err)) < 0)
			die(EXIT_FATAL, "%s", err);
		if (http_cred_apply(&r->cred, r->h, url, NULL, &hl) < 0)
			oom();
		ebuf[0] = '\0';
		r->status = 0;
		sb_reset(&r->body);
		http_hdrs_reset(&r->hdrs);
		reset(r);
		curl_easy_setopt(r->h, CURLOPT_URL, url);
		curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &q);
		curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, http_header_cb);
		curl_easy_setopt(r->h, CURLOPT_HEADERDATA, &r->hdrs);
		curl_easy_setopt(r->h, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(r->h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(r->h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(r->h, CURLOPT_XFERINFODATA, r);
		r->idle = 0;
		r->seen_bytes = 0;
		clock_gettime(CLOCK_MONOTONIC, &r->seen_at);
		if (post) {
			curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, post);
			curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post));
		}
		r->requests++;
		cc = curl_easy_perform(r->h);
		curl_slist_free_all(hl);
		hl = NULL;
		if (cc == CURLE_OK && r->status == 0)
			curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->idle) {
			cc = CURLE_OPERATION_TIMEDOUT;
			snprintf(ebuf, sizeof(ebuf), "timed out: nothing received for %ld s (--timeout)",
			    r->timeout);
		}
		cls = http_classify(cc, r->status);
		if (cls == HTTP_DONE && r->status >= 300) {
			char *loc = NULL;

			curl_easy_getinfo(r->h, CURLINFO_REDIRECT_URL, &loc);
			die(EXIT_FATAL, "%s: HTTP %ld: redirect to %s not followed (give that URL)",
			    r->shown, r->status, loc ? loc : "an unnamed place");
		}
		if (cls == HTTP_DONE)
			return;
		if (cls == HTTP_TRANSIENT && attempt <= RETRIES && may_retry(r)) {
			struct timespec ts;
			int64_t ms = http_backoff_ms(attempt, 250, 4000, r->hdrs.retry_after_ms, 10000,
			    &r->rng);

			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
			continue;
		}
		if (cc != CURLE_OK) {
			if (!may_retry(r)) {
				/* what came is printed, as by grep on a file cut short */
				out_finish(r->lq);
				die(EXIT_FATAL, "%s: answer cut short after %llu records: %s", r->shown,
				    r->received, *ebuf ? ebuf : curl_easy_strerror(cc));
			}
			die(EXIT_FATAL, "%s: %s", r->shown, *ebuf ? ebuf : curl_easy_strerror(cc));
		}
		die_status(r, "");
	}
}

/* ---- VictoriaLogs: /select/logsql/query answers JSON lines ---- */

static void
emit(struct remote *r, struct json_object *rec)
{
	r->printed++;
	out_record(r->lq, rec);
}

/* Keep rec (a reference is taken) until the end. */
static void
hold(struct remote *r, int64_t ts, struct json_object *rec)
{
	if (r->nheld == r->capheld) {
		r->capheld = r->capheld ? 2 * r->capheld : 256;
		r->held = xrealloc(r->held, r->capheld * sizeof(*r->held));
	}
	r->held[r->nheld].ts = ts;
	r->held[r->nheld].seq = r->nheld;
	r->held[r->nheld++].rec = json_object_get(rec);
}

static int
held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One answer line: a record in the local shape, printed or held. */
static void
vl_line(struct remote *r, const char *line, size_t len)
{
	struct json_object *o, *rec, *v;
	int64_t ns = INT64_MIN;

	r->lineno++;
	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;
	if (len > (size_t)INT32_MAX - 1)
		die(EXIT_FATAL, "%s: answer line %llu: too long for the JSON parser", r->shown,
		    r->lineno);
	json_tokener_reset(r->tok);
	o = json_tokener_parse_ex(r->tok, line, (int)len);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(r->tok) < len) {
		out_finish(r->lq);
		die(EXIT_FATAL, "%s: answer line %llu: not a JSON object", r->shown, r->lineno);
	}
	r->received++;
	/* every value a string, nested objects flattened: the local data model */
	if ((rec = qry_flatten(o)) == NULL)
		oom();
	json_object_put(o);
	/* _time with nine fraction digits, whatever the server's precision */
	if (json_object_object_get_ex(rec, REC_TIME, &v)) {
		const char *s = json_object_get_string(v);
		size_t n = strlen(s);
		char b[TS_BUFSZ];

		if (n > 0 && ts_parse_iso(s, n, &ns) == n) {
			size_t bn = ts_format(ns, b);

			if (rec_set_str(rec, REC_TIME, b, bn) < 0)
				oom();
		} else
			ns = INT64_MIN;
	}
	/* VictoriaLogs adds the stream's id; a local record has none */
	if (r->drop_stream_id)
		json_object_object_del(rec, "_stream_id");
	if (r->limit) {
		if (r->nheld >= r->limit)
			die(EXIT_FATAL, "%s: answered more than --limit %llu records", r->shown,
			    r->limit);
		hold(r, ns, rec);
	} else
		emit(r, rec);
	json_object_put(rec);
}

/* Lines as they arrive: memory holds one line, not the answer. */
static void
vl_chunk(struct remote *r, const char *p, size_t n)
{
	const char *nl;

	while ((nl = memchr(p, '\n', n)) != NULL) {
		size_t k = (size_t)(nl - p);

		if (r->body.len) {
			if (sb_add(&r->body, p, k) < 0)
				oom();
			vl_line(r, r->body.buf, r->body.len);
			sb_reset(&r->body);
		} else
			vl_line(r, p, k);
		p += k + 1;
		n -= k + 1;
	}
	if (n && sb_add(&r->body, p, n) < 0)
		oom();
}

static void
vl_reset(struct remote *r)
{
	r->lineno = 0;
}

static int
vl_may_retry(struct remote *r)
{
	return r->received == 0;
}

static void
add_arg(struct sb *form, const char *k, const char *v)
{
	char *e = curl_easy_escape(NULL, v, 0);

	if (e == NULL || (form->len && sb_addc(form, '&') < 0) || sb_adds(form, k) < 0 ||
	    sb_addc(form, '=') < 0 || sb_adds(form, e) < 0)
		oom();
	curl_free(e);
}

static void
run_victorialogs(struct remote *r, const char *text, int now_given)
{
	struct sb url = SB_INIT, form = SB_INIT;
	int64_t lo, hi;
	char b[TS_BUFSZ], num[32];
	int all;
	const char *const *names;
	size_t nn;

	qry_fields(r->lq->q, &all, &names, &nn);
	r->drop_stream_id = all;
	add_arg(&form, "query", text);
	if (r->limit) {
		snprintf(num, sizeof(num), "%llu", r->limit);
		add_arg(&form, "limit", num);
	}
	/*
	 * Relative times (_time:5m) are the server's to resolve, by its clock;
	 * absolute ones also go as start and end, which it may use to skip
	 * partitions.  end is exclusive.
	 */
	if (qry_has_relative_time(r->lq->q)) {
		if (now_given)
			die(EXIT_FATAL, "--now: VictoriaLogs resolves relative _time filters by "
			    "its own clock; give absolute times (_time:[start, end))");
	} else if (!qry_time_bounds(r->lq->q, &lo, &hi)) {
		goto out;	/* an empty time range: nothing can match */
	} else {
		if (lo != INT64_MIN) {
			ts_format(lo, b);
			add_arg(&form, "start", b);
		}
		if (hi != INT64_MAX) {
			ts_format(hi + 1, b);
			add_arg(&form, "end", b);
		}
	}
	if (sb_adds(&url, r->base) < 0 || sb_adds(&url, "/select/logsql/query") < 0)
		oom();
	if (r->lq->explain)
		fprintf(stderr, "logq: explain: remote: POST %s/select/logsql/query %s\n",
		    r->shown, form.buf);
	request(r, url.buf, form.buf, vl_chunk, vl_reset, vl_may_retry);
	/* a last line without '\n' */
	if (r->body.len) {
		vl_line(r, r->body.buf, r->body.len);
		sb_reset(&r->body);
	}
	if (r->nheld) {
		/* the most recent N, printed oldest first as a local file would be */
		qsort(r->held, r->nheld, sizeof(*r->held), held_cmp);
		for (size_t i = 0; i < r->nheld; i++) {
			emit(r, r->held[i].rec);
			json_object_put(r->held[i].rec);
		}
	}
out:
	sb_free(&url);
	sb_free(&form);
}

/* ---- Loki: /loki/api/v1/query_range, page by page ---- */

struct ent {
	int64_t ts;
	size_t stream, rank, i;	/* rank: of the stream's labels, sorted */
	const char *line;
	size_t len;
};

struct loki {
	struct qry_logql lq;
	int backward;
	unsigned page;
	/* entries at the page boundary already handled ("stream\nline") */
	int64_t edge;
	char **seen;
	size_t nseen;
	struct sb key;
	int done;
};

static int
ent_cmp_fwd(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Newest first; entries on one time in their forward order (held_cmp keeps it). */
static int
ent_cmp_back(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts > y->ts ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->i > y->i ? -1 : x->i < y->i;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
loki_chunk(struct remote *r, const char *p, size_t n)
{
	if (sb_add(&r->body, p, n) < 0)
		oom();
}

static void
loki_reset(struct remote *r)
{
	(void)r;
}

static int
loki_may_retry(struct remote *r)
{
	(void)r;
	return 1;	/* a page is printed only once it is complete */
}

static void
bad_answer(struct remote *r, const char *what)
{
	die(EXIT_FATAL, "%s: unexpected answer from query_range: %s", r->shown, what);
}

static int
seen(struct loki *k, const char *key)
{
	for (size_t i = 0; i < k->nseen; i++)
		if (strcmp(k->seen[i], key) == 0)
			return 1;
	return 0;
}

static void
seen_clear(struct loki *k)
{
	for (size_t i = 0; i < k->nseen; i++)
		free(k->seen[i]);
	k->nseen = 0;
}

static void
seen_add(struct loki *k, const char *key)
{
	k->seen = xrealloc(k->seen, (k->nseen + 1) * sizeof(*k->seen));
	k->seen[k->nseen++] = xstrdup(key);
}

/* A Loki entry as a record: {_time, _stream, _msg}. */
static struct json_object *
loki_record(int64_t ts, const char *stream, const char *line, size_t len)
{
	struct json_object *o = json_object_new_object();
	char b[TS_BUFSZ];
	size_t bn = ts_format(ts, b);

	if (o == NULL || rec_set_str(o, REC_TIME, b, bn) < 0 ||
	    rec_set_str(o, REC_STREAM, stream, strlen(stream)) < 0 ||
	    rec_set_str(o, REC_MSG, line, len) < 0)
		oom();
	return o;
}

/* Hand the entries of one page on; returns the count Loki sent. */
static size_t
loki_page(struct remote *r, struct loki *k, struct json_object *doc)
{
	struct json_object *v, *data, *result;
	struct ent *e = NULL;
	size_t ne = 0, ns;
	char **streams;
	int64_t far;

	if (!json_object_object_get_ex(doc, "status", &v) ||
	    strcmp(json_object_get_string(v), "success") != 0)
		bad_answer(r, "status is not \"success\"");
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_object_get_ex(data, "resultType", &v) ||
	    strcmp(json_object_get_string(v), "streams") != 0)
		bad_answer(r, "resultType is not \"streams\"");
	if (!json_object_object_get_ex(data, "result", &result) ||
	    !json_object_is_type(result, json_type_array))
		bad_answer(r, "no result array");
	ns = json_object_array_length(result);
	streams = xcalloc(ns + 1, sizeof(*streams));
	for (size_t s = 0; s < ns; s++) {
		struct json_object *st = json_object_array_get_idx(result, s), *lab, *vals;
		struct st_labels labels = { 0 };
		struct sb txt = SB_INIT;
		size_t nv;

		if (!json_object_object_get_ex(st, "stream", &lab) ||
		    !json_object_is_type(lab, json_type_object) ||
		    !json_object_object_get_ex(st, "values", &vals) ||
		    !json_object_is_type(vals, json_type_array))
			bad_answer(r, "a result without stream labels or values");
		json_object_object_foreach(lab, key, val) {
			const char *lv = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string))
				bad_answer(r, "a label value that is not a string");
			if (st_set(&labels, key, lv, strlen(lv)) < 0)
				oom();
		}
		if (st_format(&labels, &txt) < 0)
			oom();
		st_free(&labels);
		streams[s] = sb_detach(&txt);
		nv = json_object_array_length(vals);
		e = xrealloc(e, (ne + nv + 1) * sizeof(*e));
		for (size_t i = 0; i < nv; i++) {
			struct json_object *pair = json_object_array_get_idx(vals, i), *t, *l;
			const char *ts;
			char *end;
			long long x;

			if (!json_object_is_type(pair, json_type_array) ||
			    json_object_array_length(pair) < 2 ||
			    !json_object_is_type(t = json_object_array_get_idx(pair, 0), json_type_string) ||
			    !json_object_is_type(l = json_object_array_get_idx(pair, 1), json_type_string))
				bad_answer(r, "an entry that is not [\"<ns>\", \"line\"]");
			ts = json_object_get_string(t);
			errno = 0;
			x = strtoll(ts, &end, 10);
			if (*ts < '0' || *ts > '9' || *end || errno)
				bad_answer(r, "a timestamp that is not nanoseconds");
			e[ne].ts = x;
			e[ne].stream = s;
			e[ne].i = i;
			e[ne].line = json_object_get_string(l);
			e[ne].len = (size_t)json_object_get_string_len(l);
			ne++;
		}
	}
	/* entries on one time: by stream labels, whichever direction Loki listed them in */
	if (ne) {
		char **sorted = xcalloc(ns, sizeof(*sorted));

		memcpy(sorted, streams, ns * sizeof(*sorted));
		qsort(sorted, ns, sizeof(*sorted), str_cmp);
		for (size_t i = 0; i < ne; i++) {
			char **at = bsearch(&streams[e[i].stream], sorted, ns, sizeof(*sorted), str_cmp);

			e[i].rank = (size_t)(at - sorted);
		}
		free(sorted);
	}
	r->received += ne;
	if (ne)
		qsort(e, ne, sizeof(*e), k->backward ? ent_cmp_back : ent_cmp_fwd);
	/* the far end of the page: the next page starts there */
	far = ne ? e[ne - 1].ts : k->edge;
	for (size_t i = 0; i < ne && !k->done; i++) {
		struct json_object *rec;

		sb_reset(&k->key);
		if (sb_adds(&k->key, streams[e[i].stream]) < 0 || sb_addc(&k->key, '\n') < 0 ||
		    sb_add(&k->key, e[i].line, e[i].len) < 0)
			oom();
		/* the edge of the last page comes again: each entry once */
		if (e[i].ts == k->edge && seen(k, k->key.buf))
			continue;
		rec = loki_record(e[i].ts, streams[e[i].stream], e[i].line, e[i].len);
		if (k->backward) {
			/* --limit: the N most recent matches, printed oldest first */
			if (qry_match(r->lq->q, rec)) {
				hold(r, e[i].ts, rec);
				if (r->nheld == r->limit)
					k->done = 1;
			}
		} else {
			int rc = qry_run_push(r->lq->run, rec);

			if (rc < 0)
				oom();
			if (rc > 0)
				k->done = 1;
		}
		json_object_put(rec);
		/* remember what sits on the new edge, to skip it next page */
		if (e[i].ts == far) {
			if (far != k->edge) {
				seen_clear(k);
				k->edge = far;
			}
			seen_add(k, k->key.buf);
		}
	}
	for (size_t s = 0; s < ns; s++)
		free(streams[s]);
	free(streams);
	free(e);
	return ne;
}

static void
run_loki(struct remote *r)
{
	struct loki k = { .page = LOKI_PAGE };
	struct sb url = SB_INIT;
	char why[300];
	int64_t start, end;
	uint64_t want;

	if (qry_to_logql(r->lq->q, &k.lq, why, sizeof(why)) < 0)
		die(EXIT_FATAL, "%s: cannot translate to LogQL: %s", r->shown, why);
	start = k.lq.start;
	end = k.lq.end;
	k.backward = r->limit > 0;
	want = r->limit ? r->limit : k.lq.limit;
	if (want && want < k.page)
		k.page = want < 100 ? 100 : (unsigned)want;
	k.edge = INT64_MIN;
	if (r->lq->explain) {
		char b1[TS_BUFSZ], b2[TS_BUFSZ];

		ts_format(start, b1);
		ts_format(end, b2);
		fprintf(stderr, "logq: explain: remote: loki: %s over [%s, %s) %s\n",
		    k.lq.expr.buf, b1, b2, k.backward ? "backward" : "forward");
	}
	while (start < end && !k.done) {
		char *e = curl_easy_escape(NULL, k.lq.expr.buf, (int)k.lq.expr.len);
		struct json_object *doc;
		size_t got;
		int64_t edge_before = k.edge;

		if (e == NULL)
			oom();
		sb_reset(&url);
		if (sb_addf(&url, "%s/loki/api/v1/query_range?query=%s&start=%lld&end=%lld"
		    "&limit=%u&direction=%s", r->base, e, (long long)start, (long long)end, k.page,
		    k.backward ? "backward" : "forward") < 0)
			oom();
		curl_free(e);
		request(r, url.buf, NULL, loki_chunk, loki_reset, loki_may_retry);
		json_tokener_reset(r->tok);
		doc = json_tokener_parse_ex(r->tok, r->body.buf ? r->body.buf : "",
		    (int)r->body.len);
		if (doc == NULL || !json_object_is_type(doc, json_type_object))
			bad_answer(r, "not a JSON object");
		got = loki_page(r, &k, doc);
		json_object_put(doc);
		if (got < k.page)
			break;
		if (k.edge == edge_before) {
			/* a whole page on one timestamp: ask for more at once */
			if (k.page >= LOKI_PAGE_MAX)
				die(EXIT_FATAL, "%s: more than %u entries share the timestamp %lld",
				    r->shown, k.page, (long long)k.edge);
			k.page = k.page * 2 > LOKI_PAGE_MAX ? LOKI_PAGE_MAX : k.page * 2;
			continue;
		}
		/* the next page starts at the edge, which it repeats (seen[] skips it) */
		if (k.backward)
			end = k.edge + 1;
		else
			start = k.edge;
	}
	if (k.backward) {
		/* oldest first, as a local file would have them */
		qsort(r->held, r->nheld, sizeof(*r->held), held_cmp);
		for (size_t i = 0; i < r->nheld; i++) {
			int rc = k.done < 2 ? qry_run_push(r->lq->run, r->held[i].rec) : 0;

			json_object_put(r->held[i].rec);
			if (rc < 0)
				oom();
			if (rc > 0)
				k.done = 2;	/* a "| limit" in the query is reached */
		}
	}
	if (qry_run_finish(r->lq->run) < 0)
		oom();
	{
		struct qry_run_stats st;

		qry_run_get_stats(r->lq->run, &st);
		r->printed = st.emitted;
	}
	seen_clear(&k);
	free(k.seen);
	sb_free(&k.key);
	sb_free(&k.lq.expr);
	sb_free(&url);
}

int
remote_query(struct logq *lq, const char *text, int nfiles, int now_given)
{
	struct remote r = { .lq = lq };

	if (nfiles > 0)
		die(EXIT_FATAL, "--remote: no file operands (the server holds the records)");
	/* a closed stdout would be the next socket's descriptor: the answer would go back */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0)
		die_errno(EXIT_FATAL, "stdout");
	if (lq->dir != NULL)
		die(EXIT_FATAL, "--remote and -d: choose one");
	setup(&r, lq);
	if (r.be == LOKI) {
		if ((lq->run = qry_run_new(lq->q, out_record, lq)) == NULL)
			oom();
		run_loki(&r);
	} else
		run_victorialogs(&r, text, now_given);
	out_finish(lq);
	if (lq->explain)
		fprintf(stderr, "logq: explain: remote: requests %llu, records received %llu, "
		    "output %llu\n", r.requests, r.received, r.printed);
	curl_easy_cleanup(r.h);
	curl_global_cleanup();
	json_tokener_free(r.tok);
	http_cred_free(&r.cred);
	sb_free(&r.body);
	free(r.held);
	free(r.base);
	free(r.shown);
	qry_run_free(lq->run);
	qry_free(lq->q);
	sb_free(&lq->out);
	out_close();
	return r.printed ? EXIT_OK : EXIT_SOME;
}
