/* logsync.h: what the parts of logsync share (options, state table, one rsync run). */
#ifndef LOGSYNC_H
#define LOGSYNC_H

#include <signal.h>
#include <stdint.h>

#include "../../common/sb.h"

struct opts {
	const char *dest;
	const char *state;		/* --state, or DEST/.logsync/state */
	const char *identity, *ssh_config, *known_hosts, *port;
	const char *max_size, *bwlimit;
	const char **filters;		/* "--include=PAT" / "--exclude=PAT" in order */
	int nfilters;
	int timeout;			/* seconds; rsync --timeout and ssh ConnectTimeout */
	int interval;			/* 0: --once */
	int accept_new, delete_missing, allow_old, verbose;
	int list_all;			/* this run: -ii, every file, not only the copied ones */
	const char *rsync, *ssh;	/* programs ($LOGSYNC_RSYNC, $LOGSYNC_SSH) */
};

/* A file logsync has seen in DEST, keyed by its path relative to DEST. */
struct ent {
	char *path;
	uint64_t hash;			/* of path, kept for probing and growing */
	int64_t size, mtime;		/* mtime in ns */
};

/* Open-addressing table of ents (the state file in memory). */
struct state {
	struct ent *ents;
	size_t n, cap;			/* ents used, slots */
	int dirty;
	char *arena;			/* the loaded file: paths point into it */
	size_t arenalen;
	int loaded;			/* state_load done (the first run does it while rsync works) */
};

int state_load(struct state *st, const char *file, char *err, size_t errsz);
/* Whether the state file holds no file (or is missing), without loading it. */
int state_empty(const char *file);
int state_save(const struct state *st, const char *file);
struct ent *state_get(struct state *st, const char *path);
/* Insert or update; returns 0 or -1 (ENOMEM). */
int state_put(struct state *st, const char *path, int64_t size, int64_t mtime);
void state_del(struct state *st, const char *path);
void state_free(struct state *st);

/* One source operand, parsed. */
struct source {
	const char *arg;		/* as given */
	char *host;			/* directory name under DEST */
	char *path;			/* the path part (remote or local) */
	int remote;
};

/* What one rsync run did. */
struct result {
	int ok;				/* 0: the source failed */
	char msg[512];			/* failure, in words */
	uint64_t files_new, files_changed, bytes;
};

/* Set by the signal handlers. */
extern volatile sig_atomic_t got_usr1, got_term, got_int;
/* Signal mask to use while waiting (the handled signals unblocked). */
extern sigset_t wait_mask;

int source_parse(struct source *s, const char *arg, char *err, size_t errsz);
/* Run rsync for one source, print the new/changed files, update st. */
void sync_source(const struct opts *o, struct source *s, struct state *st,
    struct result *r);
/*
 * 0 when rsync is recent enough (or allowed); else -1 with err set.  A
 * program whose stamp (path, inode, size, times) matches the file cache
 * passed before and is not run again.  On return stamp holds what to
 * write to cache (empty: nothing).
 */
int rsync_check_version(const struct opts *o, const char *cache, struct sb *stamp,
    char *err, size_t errsz);
/* 0 when rsync accepts --max-size, --bwlimit and the filters; else -1 with err set. */
int rsync_check_opts(const struct opts *o, char *err, size_t errsz);

#endif
