/* logcategorize.h: what the parts of logcategorize share (a string map, the placer). */
#ifndef LOGCATEGORIZE_H
#define LOGCATEGORIZE_H

#include "../../common/sb.h"

/* String-to-string hash map; it owns keys and values. */
struct map {
	char **keys, **vals;
	size_t n, cap;
};
/* Takes ownership of k and v (replacing any old value). */
void map_put(struct map *m, char *k, char *v);
const char *map_get(const struct map *m, const char *k);
void map_free(struct map *m);

struct placer {
	const char *into;
	int symlinks;
	int manifest;		/* fd of DIR/.logcategorize-placed, appended to */
	struct map placed;	/* placed path -> source (absolute) */
};

void place_init(struct placer *pl, const char *into, int symlinks);
void place_free(struct placer *pl);
/*
 * Put src into INTO/category/ (hard link, else copy; symlink with
 * --symlink).  Sets dst to where it is.  Returns 0, or -1 with errno.
 */
int place(struct placer *pl, const char *src, const char *category, const char *host,
    struct sb *dst);

#endif
