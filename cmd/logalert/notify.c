/* notify.c: logalert's notifiers: --exec (event on stdin, no shell), --webhook, --alertmanager; retries with backoff. */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "../../common/curl_lazy.h"
#include "../../common/http.h"
#include "../../common/jw.h"
#include "../../common/ts.h"
#include "../tool.h"
#include "logalert.h"

static CURL *curl;
static struct http_cred wcred;	/* the webhook's token, bound to its origin */
static struct sb amurl, genbase, body, resp;
static uint64_t rng;

/*
 * Split a command line by simple rules: blanks separate words; '...'
 * keeps everything literally; "..." keeps everything but \" and \\;
 * a backslash outside quotes takes the next character.  No variables,
 * globs, redirections or pipes: the words go to execvp as they are.
 */
char **
nt_split(const char *s, char *err, size_t errsz)
{
	char **v = NULL;
	size_t n = 0;
	struct sb w = SB_INIT;

	for (;;) {
		int have = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == '\0')
			break;
		sb_reset(&w);
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			have = 1;
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');

				if (e == NULL)
					goto unterminated;
				if (sb_add(&w, s + 1, (size_t)(e - s - 1)) < 0)
					goto oom;
				s = e + 1;
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					if (sb_addc(&w, *s) < 0)
						goto oom;
				}
				if (*s != '"')
					goto unterminated;
				s++;
			} else {
				if (*s == '\\' && s[1])
					s++;
				if (sb_addc(&w, *s++) < 0)
					goto oom;
			}
		}
		if (have) {
			v = xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = xstrdup(w.buf ? w.buf : "");
			v[n] = NULL;
		}
	}
	sb_free(&w);
	if (n == 0)
		snprintf(err, errsz, "empty command");
	return v;
unterminated:
	snprintf(err, errsz, "unterminated quote");
	goto fail;
oom:
	snprintf(err, errsz, "out of memory");
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	sb_free(&w);
	return NULL;
}

/* Percent-encode s into out, keeping unreserved characters (and those in keep). */
static void
pct(struct sb *out, const char *s, const char *keep)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) || (keep && strchr(keep, c))) {
			if (sb_addc(out, (char)c) < 0)
				die(EXIT_FATAL, "out of memory");
		} else if (sb_addf(out, "%%%02X", c) < 0)
			die(EXIT_FATAL, "out of memory");
	}
}

void
nt_init(void)
{
	char err[300];

	rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
	if (o.webhook == NULL && o.am == NULL)
		return;
	/* The first curl call loads libcurl (curl_lazy.h): say so when it is not there. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		if (curl_lazy_error())
			die(EXIT_FATAL, "%s: cannot load libcurl: %s",
			    o.webhook ? "--webhook" : "--alertmanager", curl_lazy_error());
		die(EXIT_FATAL, "libcurl: initialisation failed");
	}
	if ((curl = curl_easy_init()) == NULL)
		die(EXIT_FATAL, "libcurl: initialisation failed");
	if (o.token_file) {
		struct sb tokbuf = SB_INIT, h = SB_INIT;
		struct curl_slist *l;

		if (o.webhook == NULL)
			die(EXIT_FATAL, "--webhook-token-file needs --webhook");
		if (http_read_secret(o.token_file, &tokbuf, err, sizeof(err)) < 0) {
			if (*err)
				die(EXIT_FATAL, "%s", err);
			die_errno(EXIT_FATAL, "%s", o.token_file);
		}
		if (sb_addf(&h, "Authorization: Bearer %s", tokbuf.buf) < 0 ||
		    (l = curl_slist_append(NULL, h.buf)) == NULL)
			die(EXIT_FATAL, "out of memory");
		wcred.headers = l;
		explicit_bzero(tokbuf.buf, tokbuf.len);
		explicit_bzero(h.buf, h.len);
		sb_free(&tokbuf);
		sb_free(&h);
	}
	if (o.webhook && http_cred_bind(&wcred, o.webhook, err, sizeof(err)) < 0)
		die(EXIT_FATAL, "--webhook: %s", err);
	if (o.am) {
		size_t n = strlen(o.am);

		while (n > 0 && o.am[n - 1] == '/')
			n--;
		if (sb_add(&amurl, o.am, n) < 0)
			die(EXIT_FATAL, "out of memory");
		if (n < 14 || strcmp(amurl.buf + n - 14, "/api/v2/alerts") != 0)
			if (sb_adds(&amurl, "/api/v2/alerts") < 0)
				die(EXIT_FATAL, "out of memory");
		if (o.generator_url == NULL) {
			char *abs = realpath(o.rules, NULL);

			if (sb_adds(&genbase, "file://") < 0)
				die(EXIT_FATAL, "out of memory");
			pct(&genbase, abs ? abs : o.rules, "/");
			free(abs);
		}
	}
}

int
nt_any(void)
{
	return o.exec_argv || o.webhook || o.am;
}

void
nt_free(void)
{
	if (curl) {
		curl_easy_cleanup(curl);
		curl_global_cleanup();
	}
	curl = NULL;
	http_cred_free(&wcred);
	sb_free(&amurl);
	sb_free(&genbase);
	sb_free(&body);
	sb_free(&resp);
	if (o.exec_argv) {
		for (size_t i = 0; o.exec_argv[i]; i++)
			free(o.exec_argv[i]);
		free(o.exec_argv);
	}
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
backoff(unsigned attempt, int64_t retry_after_ms)
{
	int64_t base = o.backoff / 1000000;

	return http_backoff_ms(attempt, base > 0 ? base : 1, 30000, retry_after_ms, 60000, &rng);
}

/* ---- --exec ---- */

/* One run of the command; 1 when it exited 0, else 0 with why. */
static int
exec_once(const struct rrule *rr, enum ev_state st, const char *ev, size_t n, char *why,
    size_t wsz)
{
	int in[2], status = 0, done = 0;
	pid_t pid;
	int64_t deadline = now_ms() + o.timeout / 1000000;
	size_t off = 0;

	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(why, wsz, "pipe: %s", strerror(errno));
		return 0;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, wsz, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return 0;
	}
	if (pid == 0) {
		/* the command's stdout is our stderr: stdout carries only events */
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		setenv("LOGALERT_RULE", rr->r->name, 1);
		setenv("LOGALERT_STATE", st == EV_FIRING ? "firing" : "resolved", 1);
		setenv("LOGALERT_SEVERITY", ar_sev_name(rr->r->severity), 1);
		execvp(o.exec_argv[0], o.exec_argv);
		warn_errno("--exec: %s", o.exec_argv[0]);
		_exit(127);
	}
	close(in[0]);
	/* the event, then EOF; a command that does not read it is its business */
	while (off <= n) {
		struct pollfd pf = { in[1], POLLOUT, 0 };
		int64_t left = deadline - now_ms();
		ssize_t w;

		if (left <= 0 || poll(&pf, 1, (int)(left > INT_MAX ? INT_MAX : left)) == 0)
			break;
		if (off == n)
			w = write(in[1], "\n", 1);
		else
			w = write(in[1], ev + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	close(in[1]);
	while (!done) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			done = 1;
		else if (r < 0 && errno != EINTR)
			break;
		else if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			snprintf(why, wsz, "timed out");
			return 0;
		} else
			sleep_ms(5);
	}
	if (done && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (done && WIFEXITED(status))
		snprintf(why, wsz, "exited with status %d", WEXITSTATUS(status));
	else if (done && WIFSIGNALED(status))
		snprintf(why, wsz, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, wsz, "waitpid: %s", strerror(errno));
	return 0;
}

/* ---- HTTP ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sb *b = ud;
	size_t n = size * nmemb;

	/* the start of an answer is enough to say what went wrong */
	if (b->len < 512 && sb_add(b, p, n < 512 ? n : 512) < 0)
		return 0;
	return n;
}

/* One POST; returns the class, with why set unless it succeeded. */
static enum http_class
post_once(const char *url, const struct http_cred *c, const char *p, size_t n,
    int64_t *retry_after, char *why, size_t wsz)
{
	struct curl_slist *extra = NULL, *owned = NULL;
	struct http_opts ho = { 0 };
	struct http_hdrs hh;
	char ebuf[CURL_ERROR_SIZE] = "", err[300];
	long status = 0;
	CURLcode cc;
	enum http_class k;

	ho.connect_timeout = (long)((o.timeout + 999999999) / 1000000000);
	ho.cacert = o.cacert;
	ho.user_agent = "logalert/" LOGKIT_VERSION;
	*retry_after = -1;
	if (http_easy_setup(curl, &ho, err, sizeof(err)) < 0) {
		snprintf(why, wsz, "%s", err);
		return HTTP_PERMANENT;
	}
	http_hdrs_reset(&hh);
	sb_reset(&resp);
	if ((extra = curl_slist_append(extra, "Content-Type: application/json")) == NULL ||
	    (extra = curl_slist_append(extra, "Expect:")) == NULL)
		die(EXIT_FATAL, "out of memory");
	if (http_cred_apply(c, curl, url, extra, &owned) < 0)
		die(EXIT_FATAL, "out of memory");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hh);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(o.timeout / 1000000));
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(owned);
	curl_slist_free_all(extra);
	k = http_classify(cc, status);
	*retry_after = hh.retry_after_ms;
	if (cc != CURLE_OK)
		snprintf(why, wsz, "%s", *ebuf ? ebuf : curl_easy_strerror(cc));
	else if (status >= 300) {
		/* the server's own words, on one line */
		for (size_t i = 0; i < resp.len; i++)
			if ((unsigned char)resp.buf[i] < 0x20)
				resp.buf[i] = ' ';
		while (resp.len > 0 && resp.buf[resp.len - 1] == ' ')
			resp.len--;
		snprintf(why, wsz, "HTTP %ld%s%.*s", status, resp.len ? ": " : "",
		    (int)(resp.len > 200 ? 200 : resp.len), resp.buf ? resp.buf : "");
		if (k == HTTP_DONE)
			k = HTTP_PERMANENT;	/* a redirect: not followed for a POST */
	}
	return k;
}

static int
post(const char *url, const struct http_cred *c, const char *p, size_t n, char *why,
    size_t wsz)
{
	for (unsigned attempt = 1;; attempt++) {
		int64_t ra;
		enum http_class k = post_once(url, c, p, n, &ra, why, wsz);

		if (k == HTTP_DONE)
			return 1;
		if (k == HTTP_PERMANENT || attempt > (unsigned)o.retries) {
			if (attempt > 1) {
				char tmp[400];

				snprintf(tmp, sizeof(tmp), "%s (after %u attempts)", why, attempt);
				snprintf(why, wsz, "%s", tmp);
			}
			return 0;
		}
		sleep_ms(backoff(attempt, ra));
	}
}

/*
 * A label name Alertmanager takes, [a-zA-Z_][a-zA-Z0-9_]*: other bytes
 * become '_'; a group field named like a label logalert sets itself
 * (alertname, severity) gets "group_" in front.
 */
static void
label_name(struct sb *out, const char *s, size_t n)
{
	int e = 0;

	sb_reset(out);
	if ((n == 9 && memcmp(s, "alertname", 9) == 0) || (n == 8 && memcmp(s, "severity", 8) == 0))
		e |= sb_adds(out, "group_");
	else if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		e |= sb_addc(out, '_');
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		e |= sb_addc(out, c);
	}
	if (e)
		die(EXIT_FATAL, "out of memory");
}

static void
am_body(const struct rrule *rr, const struct group *g, enum ev_state st, int64_t t)
{
	const struct ar_rule *r = rr->r;
	struct sb name = SB_INIT, gen = SB_INIT;
	struct jw a, l;
	char b[TS_BUFSZ];
	int e = 0;

	sb_reset(&body);
	e |= sb_addc(&body, '[');
	e |= jw_begin(&a, &body);
	e |= jw_key(&a, "labels");
	e |= jw_begin(&l, &body);
	e |= jw_field_cstr(&l, "alertname", r->name);
	e |= jw_field_cstr(&l, "severity", ar_sev_name(r->severity));
	for (size_t k = 0; k < r->nby; k++) {
		size_t vn;
		const char *v = win_keypart(g, k, &vn);

		label_name(&name, r->by[k], strlen(r->by[k]));
		e |= jw_field_str(&l, name.buf, v, vn);
	}
	for (size_t i = 0; i < r->nlabels; i++) {
		int clash = 0;

		for (size_t k = 0; k < r->nby; k++) {
			label_name(&name, r->by[k], strlen(r->by[k]));
			clash |= !strcmp(name.buf, r->labels[i].key);
		}
		if (!clash)	/* the group's own value wins */
			e |= jw_field_cstr(&l, r->labels[i].key, r->labels[i].val);
	}
	e |= jw_end(&l);
	e |= jw_field_raw(&a, "annotations", g->annots, strlen(g->annots));
	e |= jw_field_str(&a, "startsAt", b, ts_format((g->since != NEVER ? g->since : t) +
	    E.wall_offset, b));
	if (st == EV_RESOLVED)
		e |= jw_field_str(&a, "endsAt", b, ts_format(t + E.wall_offset, b));
	if (o.generator_url) {
		/* {{$rule}} in the URL becomes the rule name, percent-encoded */
		const char *u = o.generator_url, *m;

		while ((m = strstr(u, "{{$rule}}")) != NULL) {
			e |= sb_add(&gen, u, (size_t)(m - u));
			pct(&gen, r->name, NULL);
			u = m + 9;
		}
		e |= sb_adds(&gen, u);
	} else {
		e |= sb_add(&gen, genbase.buf, genbase.len);
		e |= sb_addc(&gen, '#');
		pct(&gen, r->name, NULL);
	}
	e |= jw_field_str(&a, "generatorURL", gen.buf, gen.len);
	e |= jw_end(&a);
	e |= sb_addc(&body, ']');
	if (e)
		die(EXIT_FATAL, "out of memory");
	sb_free(&name);
	sb_free(&gen);
}

int
nt_send(const struct rrule *rr, const struct group *g, enum ev_state st, const char *ev,
    size_t evlen, int64_t t)
{
	char why[600];
	int ok = 1;

	if (o.exec_argv) {
		for (unsigned attempt = 1;; attempt++) {
			if (exec_once(rr, st, ev, evlen, why, sizeof(why)))
				break;
			if (attempt > (unsigned)o.retries) {
				warn_msg("rule '%s': --exec %s: %s (after %u attempts)", rr->r->name,
				    o.exec_argv[0], why, attempt);
				ok = 0;
				break;
			}
			sleep_ms(backoff(attempt, -1));
		}
	}
	if (o.webhook && !post(o.webhook, &wcred, ev, evlen, why, sizeof(why))) {
		warn_msg("rule '%s': --webhook %s: %s", rr->r->name, o.webhook, why);
		ok = 0;
	}
	if (o.am) {
		am_body(rr, g, st, t);
		if (!post(amurl.buf, NULL, body.buf, body.len, why, sizeof(why))) {
			warn_msg("rule '%s': --alertmanager %s: %s", rr->r->name, amurl.buf, why);
			ok = 0;
		}
	}
	return ok;
}
