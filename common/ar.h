/* ar.h: archive member safety: path and link-target checks done before anything is written. */
#ifndef LOGKIT_AR_H
#define LOGKIT_AR_H

#include <stddef.h>

/*
 * Clean a member path: drop "." and empty components, and refuse what
 * could land outside the target directory.  Writes the clean relative
 * path ("a/b/c", no leading or trailing '/') into out[outsz].  Returns 0
 * when usable, 1 when the path names the target itself ("./", "."), -1
 * when refused with *why set ("absolute path", "'..' component", "empty
 * path", "name too long").
 */
int ar_path_clean(const char *in, char *out, size_t outsz, const char **why);

/*
 * May member (a clean path) be a symlink to target?  Only relative
 * targets of the shape "../../name/name" are accepted: leading ".."
 * components (no more than member's directory depth), then names, no
 * ".." after a name (so a chain of our own symlinks cannot climb out,
 * e.g. l1 -> "." and l2 -> "l1/..").  Returns 0, or -1 with *why set.
 */
int ar_link_ok(const char *member, const char *target, const char **why);

#endif
