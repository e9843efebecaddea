/* tail.c: placeholder until common/follow.c lands (the real one is tail.c.wip). */
#include "../tool.h"
#include "logcat.h"

void
follow_files(struct lc *lc, char **paths, size_t n)
{
	(void)lc, (void)paths, (void)n;
	die(EXIT_FATAL, "-f and --state: the follower is not built yet");
}
