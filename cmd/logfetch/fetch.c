/* fetch.c: logfetch's transfer engine: a libcurl multi loop with per-URL resume, redirects and retries. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tool.h"
#include "../../common/jw.h"
#include "logfetch.h"

static struct opts *opt;
static CURLM *multi;

static int
is_file_url(const char *u)
{
	return strncasecmp(u, "file:", 5) == 0;
}

static void
close_part(struct job *j)
{
	hw_end(&j->hw, 1);	/* what arrived is good: keep it for the resume */
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static void
remove_part(struct job *j)
{
	close_part(j);
	unlink(j->part);
	unlink(j->partmeta);
}

/* Feed the bytes already in the .part to the digest (once, on resume). */
static int
hash_part(struct job *j, off_t n)
{
	static char buf[1 << 16];
	off_t off = 0;

	sha256_init(&j->sha);
	while (off < n) {
		ssize_t r = pread(j->fd, buf, (size_t)(n - off < (off_t)sizeof(buf) ?
		    n - off : (off_t)sizeof(buf)), off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		sha256_update(&j->sha, buf, (size_t)r);
		off += r;
	}
	return 0;
}

/* The first body byte: decide from the status whether and where to write it. */
static int
begin_body(struct job *j)
{
	long code = 0;
	struct meta pm;
	long long start = -1;

	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	j->decided = 1;
	if (code == 206) {
		if (sscanf(j->hdrs.content_range, "bytes %lld-", &start) != 1 ||
		    start != (long long)j->have) {
			snprintf(j->err, sizeof(j->err),
			    "server sent range '%s', asked for %lld-",
			    j->hdrs.content_range, (long long)j->have);
			return -1;
		}
		if ((j->fd = open(j->part, O_RDWR | O_CLOEXEC)) < 0 ||
		    hash_part(j, j->have) < 0 || lseek(j->fd, j->have, SEEK_SET) < 0)
			goto syserr;
		j->resumed = 1;
		j->hw = hw_new(j->fd, &j->sha, !opt->no_fsync);
		return 1;
	}
	if (code != 200 && code != 0)
		return 0;	/* an error page or a redirect: not our file */
	/* A whole new body: what the .part held is stale. */
	j->have = 0;
	sha256_init(&j->sha);
	if ((j->fd = open(j->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto syserr;
	memset(&pm, 0, sizeof(pm));
	pm.bytes = -1;
	snprintf(pm.etag, sizeof(pm.etag), "%s", j->hdrs.etag);
	snprintf(pm.lm, sizeof(pm.lm), "%s", j->hdrs.last_modified);
	if (range_validator(&pm) == NULL)
		unlink(j->partmeta);
	else if (meta_write(j->partmeta, &pm) < 0)
		goto syserr;
	j->hw = hw_new(j->fd, &j->sha, !opt->no_fsync);
	return 1;
syserr:
	snprintf(j->err, sizeof(j->err), "%s: %s", j->part, strerror(errno));
	return -1;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb;

	if (!j->decided) {
		int r = begin_body(j);

		if (r < 0)
			return 0;
		if (r == 0)
			j->fd = -2;	/* discard */
	}
	if (j->fd == -2)
		return n;
	if (hw_write(j->hw, p, n) < 0) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->part, strerror(errno));
		return 0;
	}
	j->got += (off_t)n;
	return n;
}

/* Give up on j; msg (or, when NULL, what j->err already says) is the reason. */
static void
fail(struct job *j, const char *msg)
{
	if (msg)
		snprintf(j->err, sizeof(j->err), "%s", msg);
	j->status = "failed";
	j->st = J_DONE;
}

/*
 * Hold the cache entry's lock (DIR/.NAME.lock, flock) from the first
 * request to the result: two logfetch runs on one cache (parallel CI
 * jobs) would otherwise write the same .part at once, and the first
 * rename could put a file with the other's truncation in it under the
 * final name.  The second one waits, then finds the file cached.
 * Returns 1 when held, 0 when waiting (j stays queued), -1 when failed.
 */
static int
lock_entry(struct job *j, int64_t now)
{
	struct stat a, b;
	int fd, tries = 0;

again:
	if ((fd = open(j->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->lock, strerror(errno));
		fail(j, NULL);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		/* The holder before us removes the file when done: a lock on that old inode is none. */
		if (fstat(fd, &a) == 0 && stat(j->lock, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			j->lockfd = fd;
			return 1;
		}
		close(fd);
		if (++tries < 100)
			goto again;
		errno = EWOULDBLOCK;
	} else {
		close(fd);
	}
	if (errno != EWOULDBLOCK) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->lock, strerror(errno));
		fail(j, NULL);
		return -1;
	}
	if (j->deadline_ns && now >= j->deadline_ns) {
		fail(j, "timed out (--max-time) waiting for another logfetch on this file");
		return -1;
	}
	if (!j->lockwait++) {
		progress_clear();
		warn_msg("%s: waiting for another logfetch on %s", j->url, j->path);
	}
	j->next_ns = now + 200000000;
	return 0;
}

static void
start(struct job *j)
{
	struct curl_slist *extra = NULL;
	struct stat st;
	struct meta m;
	char hv[320];
	CURLcode cc = CURLE_OK;
	int64_t now = prog_now();
	struct http_opts ho = opt->http;
	char errbuf[256];

	if (j->h == NULL && (j->h = curl_easy_init()) == NULL)
		die(EXIT_FATAL, "libcurl: cannot create a handle");
	if (!j->begun) {
		/* The clock of a URL starts when it leaves the -j queue. */
		j->begun = 1;
		j->start_ns = now;
		if (opt->max_time > 0)
			j->deadline_ns = now + (int64_t)(opt->max_time * 1e9);
	}
	if (j->lockfd < 0 && lock_entry(j, now) <= 0)
		return;
	ho.allow_file = j->from_argv && is_file_url(j->cur);
	if (http_easy_setup(j->h, &ho, errbuf, sizeof(errbuf)) < 0) {
		fail(j, errbuf);
		return;
	}
	j->have = j->got = 0;
	j->xfer_ns = now;
	j->decided = 0;
	j->err[0] = '\0';
	http_hdrs_reset(&j->hdrs);
	if (!is_file_url(j->cur)) {
		if (stat(j->part, &st) == 0 && st.st_size > 0 &&
		    meta_read(j->partmeta, &m) == 0 && range_validator(&m)) {
			/* Resume; If-Range makes a changed file come back whole (200). */
			j->have = st.st_size;
			snprintf(hv, sizeof(hv), "If-Range: %s", range_validator(&m));
			extra = curl_slist_append(extra, hv);
			snprintf(hv, sizeof(hv), "%lld-", (long long)st.st_size);
			cc = curl_easy_setopt(j->h, CURLOPT_RANGE, hv);
		} else if (stat(j->path, &st) == 0 && meta_read(j->meta, &m) == 0 &&
		    m.bytes == (long long)st.st_size && (m.etag[0] || m.lm[0])) {
			if (m.etag[0]) {
				snprintf(hv, sizeof(hv), "If-None-Match: %s", m.etag);
				extra = curl_slist_append(extra, hv);
			}
			if (m.lm[0]) {
				snprintf(hv, sizeof(hv), "If-Modified-Since: %s", m.lm);
				extra = curl_slist_append(extra, hv);
			}
		}
	}
	curl_slist_free_all(j->hl);
	j->hl = NULL;
	if (http_cred_apply(&j->cred, j->h, j->cur, extra, &j->hl) < 0) {
		curl_slist_free_all(extra);
		fail(j, "out of memory");
		return;
	}
	curl_slist_free_all(extra);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(j->h, CURLOPT_URL, j->cur);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	j->curlerr[0] = '\0';
	curl_easy_setopt(j->h, CURLOPT_ERRORBUFFER, j->curlerr);
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(j->h, CURLOPT_HEADERDATA, &j->hdrs);
	curl_easy_setopt(j->h, CURLOPT_XFERINFOFUNCTION, progress_xfer);
	curl_easy_setopt(j->h, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(j->h, CURLOPT_NOPROGRESS, 0L);
	/*
	 * 64 KiB receive blocks: fewer callbacks than the default 16 KiB,
	 * and still in the CPU cache when copied on (with 512 KiB the copies
	 * ran slower).
	 */
	curl_easy_setopt(j->h, CURLOPT_BUFFERSIZE, 64L * 1024);
	if (j->deadline_ns) {
		int64_t left = (j->deadline_ns - now) / 1000000;

		if (left <= 0) {
			fail(j, "timed out (--max-time)");
			return;
		}
		curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, (long)left);
	}
	if (cc != CURLE_OK) {
		fail(j, curl_easy_strerror(cc));
		return;
	}
	j->st = J_RUN;
	curl_multi_add_handle(multi, j->h);
}

/* The .part is complete: check, rename into place, remember validators. */
static void
finalize(struct job *j)
{
	struct meta m;

	if (j->fd < 0 && (j->fd = open(j->part, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) >= 0)
		sha256_init(&j->sha);	/* an empty body: never called on_body */
	if (j->fd < 0 || hw_end(&j->hw, 1) < 0 || (!opt->no_fsync && fsync(j->fd) < 0)) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->part, strerror(errno));
		close_part(j);
		fail(j, NULL);
		return;
	}
	close_part(j);
	j->bytes = j->have + j->got;
	sha256_final_hex(&j->sha, j->sha_hex);
	if (j->want_sha && strcmp(j->want_sha, j->sha_hex) != 0) {
		snprintf(j->err, sizeof(j->err), "sha256 mismatch: expected %s, got %s",
		    j->want_sha, j->sha_hex);
		remove_part(j);
		fail(j, NULL);
		return;
	}
	if (rename(j->part, j->path) < 0) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->path, strerror(errno));
		fail(j, NULL);
		return;
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.etag, sizeof(m.etag), "%s", j->hdrs.etag);
	snprintf(m.lm, sizeof(m.lm), "%s", j->hdrs.last_modified);
	memcpy(m.sha, j->sha_hex, 65);
	m.bytes = (long long)j->bytes;
	if (meta_write(j->meta, &m) < 0)
		unlink(j->meta);	/* no validators: fetched again next time */
	unlink(j->partmeta);
	j->status = j->resumed ? "resumed" : "downloaded";
	j->st = J_DONE;
}

/* 304: the file we have is current. */
static void
cached(struct job *j)
{
	struct meta m;
	struct stat st;

	close_part(j);
	if (meta_read(j->meta, &m) < 0 || m.sha[0] == '\0' || stat(j->path, &st) < 0 ||
	    (long long)st.st_size != m.bytes) {
		/* We asked conditionally, so this cannot happen unless someone edited the cache. */
		unlink(j->meta);
		snprintf(j->err, sizeof(j->err), "%s: cache entry changed under us; fetch again",
		    j->path);
		fail(j, NULL);
		return;
	}
	if (j->want_sha && strcmp(j->want_sha, m.sha) != 0) {
		/* As after a download: a file that fails the check does not stay. */
		snprintf(j->err, sizeof(j->err), "sha256 mismatch: expected %s, cached %s",
		    j->want_sha, m.sha);
		unlink(j->path);
		unlink(j->meta);
		fail(j, NULL);
		return;
	}
	memcpy(j->sha_hex, m.sha, 65);
	j->bytes = (off_t)m.bytes;
	j->status = "cached";
	j->st = J_DONE;
}

static void
retry_or_fail(struct job *j, const char *why)
{
	int64_t now = prog_now(), d;
	uint64_t seed = (uint64_t)now ^ (uint64_t)(uintptr_t)j;

	d = http_backoff_ms(j->attempt + 1, opt->retry_base_ms, 30000,
	    j->hdrs.retry_after_ms, 300000, &seed);
	if ((long)j->attempt >= opt->retries ||
	    (j->deadline_ns && now + d * 1000000 >= j->deadline_ns)) {
		if (j->attempt > 0)
			snprintf(j->err, sizeof(j->err), "%.300s (after %u attempts)", why,
			    j->attempt + 1);
		else
			snprintf(j->err, sizeof(j->err), "%.300s", why);
		fail(j, NULL);
		return;
	}
	j->attempt++;
	j->next_ns = now + d * 1000000;
	j->st = J_WAIT;
}

static void
finish(struct job *j, CURLcode cc, const char *errbuf)
{
	long code = 0;
	char why[300];
	char *loc = NULL;
	long long total = -1;

	curl_multi_remove_handle(multi, j->h);
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	j->http_status = code;
	if (j->fd == -2)
		j->fd = -1;
	if (cc == CURLE_OK && (code == 301 || code == 302 || code == 303 ||
	    code == 307 || code == 308)) {
		curl_easy_getinfo(j->h, CURLINFO_REDIRECT_URL, &loc);
		close_part(j);
		if (j->redirs >= opt->max_redirs) {
			fail(j, "too many redirects (--max-redirs)");
			return;
		}
		if (http_redirect_ok(loc, j->err, sizeof(j->err)) < 0) {
			fail(j, NULL);
			return;
		}
		free(j->cur);
		j->cur = xstrdup(loc);
		j->redirs++;
		j->next_ns = 0;
		j->st = J_WAIT;
		return;
	}
	if (cc == CURLE_OK && code == 304) {
		cached(j);
		return;
	}
	if (cc == CURLE_OK && code == 416) {
		close_part(j);
		/* "bytes * / N": our .part may already be the whole file. */
		if (sscanf(j->hdrs.content_range, "bytes */%lld", &total) == 1 &&
		    total == (long long)j->have && j->have > 0 && j->restarts == 0 &&
		    (j->fd = open(j->part, O_RDWR | O_CLOEXEC)) >= 0 &&
		    hash_part(j, j->have) == 0) {
			j->resumed = 1;
			j->got = 0;
			finalize(j);
			return;
		}
		remove_part(j);
		if (j->restarts++ < 2) {
			j->next_ns = 0;
			j->st = J_WAIT;
			return;
		}
	}
	switch (http_classify(cc, code)) {
	case HTTP_DONE:
		if (code != 0 && (code < 200 || code > 299)) {
			snprintf(why, sizeof(why), "HTTP %ld", code);
			close_part(j);
			fail(j, why);
			return;
		}
		finalize(j);
		return;
	case HTTP_TRANSIENT:
		close_part(j);
		if (cc == CURLE_OK)
			snprintf(why, sizeof(why), "HTTP %ld", code);
		else
			snprintf(why, sizeof(why), "%.290s", errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
		retry_or_fail(j, why);
		return;
	case HTTP_PERMANENT:
		if (cc == CURLE_WRITE_ERROR && j->err[0]) {
			close_part(j);	/* keep it: a later run may resume */
			fail(j, NULL);
			return;
		}
		if (cc == CURLE_OK) {
			/* The resource is gone or forbidden: so is our partial copy. */
			snprintf(why, sizeof(why), "HTTP %ld", code);
			remove_part(j);
		} else {
			snprintf(why, sizeof(why), "%.290s", errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
			close_part(j);
		}
		fail(j, why);
		return;
	}
}

/* j has its result: print it and let other processes at the entry. */
static void
done(struct job *j)
{
	emit_record(j);
	if (j->lockfd >= 0) {
		unlink(j->lock);	/* before the unlock: see lock_entry */
		close(j->lockfd);
	}
	j->lockfd = -1;
}

void
fetch_all(struct opts *o, struct job *jobs, size_t njobs)
{
	size_t left = njobs;

	opt = o;
	if ((multi = curl_multi_init()) == NULL)
		die(EXIT_FATAL, "libcurl: cannot create a multi handle");
	progress_start(o->progress);
	for (size_t i = 0; i < njobs; i++) {
		jobs[i].start_ns = prog_now();
		if (jobs[i].st == J_DONE) {
			done(&jobs[i]);
			left--;
		}
	}
	while (left > 0) {
		int64_t now = prog_now(), wait_ms = 1000;
		long running = 0;
		int still, nq;
		CURLMsg *msg;

		for (size_t i = 0; i < njobs; i++)
			running += jobs[i].st == J_RUN;
		for (size_t i = 0; i < njobs && running < o->jobs; i++) {
			struct job *j = &jobs[i];

			if (j->st != J_WAIT)
				continue;
			if (j->next_ns > now) {
				if ((j->next_ns - now) / 1000000 < wait_ms)
					wait_ms = (j->next_ns - now) / 1000000 + 1;
				continue;
			}
			start(j);
			if (j->st == J_RUN) {
				running++;
			} else if (j->st == J_DONE) {
				done(j);
				left--;
			}
		}
		curl_multi_perform(multi, &still);
		while ((msg = curl_multi_info_read(multi, &nq)) != NULL) {
			struct job *j = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			finish(j, msg->data.result, j->curlerr);
			if (j->st == J_DONE) {
				done(j);
				left--;
			} else {
				wait_ms = 0;
			}
		}
		progress_tty(jobs, njobs);
		if (left > 0 && wait_ms > 0)
			curl_multi_poll(multi, NULL, 0, (int)wait_ms, NULL);
	}
	progress_clear();
	for (size_t i = 0; i < njobs; i++) {
		if (jobs[i].h)
			curl_easy_cleanup(jobs[i].h);
		jobs[i].h = NULL;
		curl_slist_free_all(jobs[i].hl);
		jobs[i].hl = NULL;
	}
	curl_multi_cleanup(multi);
}
