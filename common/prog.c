/* prog.c: progress figures. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "prog.h"

int64_t
prog_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
prog_start(struct prog *p, uint64_t total)
{
	p->start_ns = prog_now();
	p->done = 0;
	p->total = total;
}

size_t
prog_bytes(uint64_t n, char *buf, size_t sz)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = 0;
	int k;

	while (v >= 1024 && u < 5)
		v /= 1024, u++;
	k = u ? snprintf(buf, sz, "%.1f %s", v, unit[u]) :
	    snprintf(buf, sz, "%llu B", (unsigned long long)n);
	return k < 0 ? 0 : (size_t)k;
}

size_t
prog_format(const struct prog *p, const char *label, char *buf, size_t sz)
{
	char done[32], total[32], rate[32];
	double secs = (double)(prog_now() - p->start_ns) / 1e9;
	double bps = secs > 0 ? (double)p->done / secs : 0;
	int k;

	prog_bytes(p->done, done, sizeof(done));
	prog_bytes((uint64_t)bps, rate, sizeof(rate));
	if (p->total) {
		unsigned long eta = bps > 0 && p->total > p->done ?
		    (unsigned long)((double)(p->total - p->done) / bps) : 0;

		prog_bytes(p->total, total, sizeof(total));
		k = snprintf(buf, sz, "%.30s %s / %s %3d%% %s/s ETA %lu:%02lu", label,
		    done, total, (int)(100.0 * (double)p->done / (double)p->total),
		    rate, eta / 60, eta % 60);
	} else
		k = snprintf(buf, sz, "%.30s %s %s/s", label, done, rate);
	return k < 0 ? 0 : strlen(buf);
}
