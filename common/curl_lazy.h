/* curl_lazy.h: libcurl loaded with dlopen at its first use, for tools that do HTTP only on request. */
#ifndef LOGKIT_CURL_LAZY_H
#define LOGKIT_CURL_LAZY_H

/*
 * curl_lazy.c defines the curl_* functions logkit calls; the first of them
 * to run loads libcurl.so.4 (and its thirty-odd libraries) with dlopen, so
 * a tool that links it instead of -lcurl pays for libcurl only when it
 * makes a request.  It is not part of libcommon.a: the Makefile links it
 * into the tools named in CURL_LAZY.
 *
 * When libcurl cannot be loaded, each function fails the way libcurl
 * reports failure (curl_global_init CURLE_FAILED_INIT, curl_easy_init and
 * curl_url NULL, ...) and releasing functions do nothing.
 */

/*
 * Why libcurl could not be loaded (dlerror's text, e.g. "libcurl.so.4:
 * cannot open shared object file: No such file or directory"), or NULL
 * when it loaded or no curl_* function has run yet.  Call it after a
 * curl_* function failed, to tell a missing library from other failures.
 */
const char *curl_lazy_error(void);

#endif
