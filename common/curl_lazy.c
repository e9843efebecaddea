/* curl_lazy.c: the curl_* functions logkit calls, forwarded to libcurl.so.4 loaded at first use (see curl_lazy.h). */
/* These are definitions of curl's own functions: no type-checking macros. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "curl_lazy.h"

#define CURL_SONAME "libcurl.so.4"

/* Any function pointer, to carry a callback through varargs (va_arg needs a typedef). */
typedef void (*any_fn)(void);

/* The real functions, typed as curl.h declares them. */
struct curl_fns {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	char *(*easy_unescape)(CURL *, const char *, int, int *);
	void (*free)(void *);
	time_t (*getdate)(const char *, const time_t *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
};

#define SYM(f) { "curl_" #f, offsetof(struct curl_fns, f) }
static const struct {
	const char *name;
	size_t off;
} syms[] = {
	SYM(global_init), SYM(global_cleanup), SYM(easy_init), SYM(easy_cleanup),
	SYM(easy_reset), SYM(easy_perform), SYM(easy_setopt), SYM(easy_getinfo),
	SYM(easy_strerror), SYM(easy_escape), SYM(easy_unescape), SYM(free),
	SYM(getdate), SYM(slist_append), SYM(slist_free_all), SYM(url),
	SYM(url_cleanup), SYM(url_get), SYM(url_set), SYM(multi_init),
	SYM(multi_cleanup), SYM(multi_add_handle), SYM(multi_remove_handle),
	SYM(multi_perform), SYM(multi_poll), SYM(multi_info_read),
};
#undef SYM

/* dlsym's void * is copied into the slots (POSIX makes the two the same size). */
_Static_assert(sizeof(void *) == sizeof(any_fn), "function pointers must fit a void *");

static struct curl_fns real;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/*
 * Set once every slot is filled.  The releasing functions read it without
 * going through pthread_once: they must not load libcurl only to free
 * nothing at exit (a tool that did no HTTP would pay the load after all).
 */
static atomic_int loaded;
static char dlerr[512];		/* why loading failed; empty while it did not */
static char strerr[600];	/* curl_easy_strerror's answer without libcurl */

static void
load_once(void)
{
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *e;
	size_t i;

	if (lib == NULL)
		goto fail;
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p;

		dlerror();
		if ((p = dlsym(lib, syms[i].name)) == NULL) {
			/* Not even the error text is left after dlclose: keep it first. */
			e = dlerror();
			snprintf(dlerr, sizeof(dlerr), "%s", e ? e : syms[i].name);
			dlclose(lib);
			goto out;
		}
		memcpy((char *)&real + syms[i].off, &p, sizeof(p));
	}
	atomic_store_explicit(&loaded, 1, memory_order_release);
	return;
fail:
	e = dlerror();
	snprintf(dlerr, sizeof(dlerr), "%s", e ? e : CURL_SONAME ": cannot load");
out:
	snprintf(strerr, sizeof(strerr), "cannot load libcurl: %s", dlerr);
}

/* Load libcurl if this is the first call: 1 when it is there, 0 when not. */
static int
load(void)
{
	pthread_once(&once, load_once);
	return atomic_load_explicit(&loaded, memory_order_acquire);
}

/* For the releasing functions: what they release can only come from a loaded libcurl. */
static int
is_loaded(void)
{
	return atomic_load_explicit(&loaded, memory_order_acquire);
}

const char *
curl_lazy_error(void)
{
	if (is_loaded())
		return NULL;
	/* pthread_once orders dlerr for a caller that saw a curl_* call fail. */
	return dlerr[0] ? dlerr : NULL;
}

CURLcode
curl_global_init(long flags)
{
	return load() ? real.global_init(flags) : CURLE_FAILED_INIT;
}

void
curl_global_cleanup(void)
{
	if (is_loaded())
		real.global_cleanup();
}

CURL *
curl_easy_init(void)
{
	return load() ? real.easy_init() : NULL;
}

void
curl_easy_cleanup(CURL *curl)
{
	if (is_loaded())
		real.easy_cleanup(curl);
}

void
curl_easy_reset(CURL *curl)
{
	if (is_loaded())
		real.easy_reset(curl);
}

CURLcode
curl_easy_perform(CURL *curl)
{
	return load() ? real.easy_perform(curl) : CURLE_FAILED_INIT;
}

/*
 * The argument is fetched with the type its option number says, the way
 * libcurl's own curl_easy_setopt does (a long, an object pointer, a
 * function pointer, a curl_off_t, a struct curl_blob *): va_arg with any
 * other type would be undefined, and a curl_off_t is not a pointer.
 */
CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	if (!load())
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = real.easy_setopt(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = real.easy_setopt(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = real.easy_setopt(curl, option, va_arg(ap, any_fn));
	else if (option < CURLOPTTYPE_BLOB)
		rc = real.easy_setopt(curl, option, va_arg(ap, curl_off_t));
	else if (option < CURLOPTTYPE_BLOB + 10000)
		rc = real.easy_setopt(curl, option, va_arg(ap, struct curl_blob *));
	else
		rc = CURLE_UNKNOWN_OPTION;
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (!load())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = real.easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *
curl_easy_strerror(CURLcode code)
{
	return load() ? real.easy_strerror(code) : strerr;
}

char *
curl_easy_escape(CURL *curl, const char *s, int len)
{
	return load() ? real.easy_escape(curl, s, len) : NULL;
}

char *
curl_easy_unescape(CURL *curl, const char *s, int len, int *outlen)
{
	return load() ? real.easy_unescape(curl, s, len, outlen) : NULL;
}

void
curl_free(void *p)
{
	if (is_loaded())
		real.free(p);
}

time_t
curl_getdate(const char *p, const time_t *unused)
{
	return load() ? real.getdate(p, unused) : -1;
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *s)
{
	return load() ? real.slist_append(list, s) : NULL;
}

void
curl_slist_free_all(struct curl_slist *list)
{
	if (is_loaded())
		real.slist_free_all(list);
}

CURLU *
curl_url(void)
{
	return load() ? real.url() : NULL;
}

void
curl_url_cleanup(CURLU *u)
{
	if (is_loaded())
		real.url_cleanup(u);
}

CURLUcode
curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return load() ? real.url_get(u, what, part, flags) : CURLUE_BAD_HANDLE;
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return load() ? real.url_set(u, what, part, flags) : CURLUE_BAD_HANDLE;
}

CURLM *
curl_multi_init(void)
{
	return load() ? real.multi_init() : NULL;
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	return is_loaded() ? real.multi_cleanup(m) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *curl)
{
	return load() ? real.multi_add_handle(m, curl) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *curl)
{
	return load() ? real.multi_remove_handle(m, curl) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_perform(CURLM *m, int *running)
{
	return load() ? real.multi_perform(m, running) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_poll(CURLM *m, struct curl_waitfd extra[], unsigned int nextra, int timeout_ms,
    int *numfds)
{
	return load() ? real.multi_poll(m, extra, nextra, timeout_ms, numfds) : CURLM_BAD_HANDLE;
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	return load() ? real.multi_info_read(m, left) : NULL;
}
