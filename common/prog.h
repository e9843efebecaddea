/* prog.h: progress figures (bytes, rate, ETA) formatted for a status line. */
#ifndef LOGKIT_PROG_H
#define LOGKIT_PROG_H

#include <stddef.h>
#include <stdint.h>

struct prog {
	int64_t start_ns;	/* monotonic */
	uint64_t done;
	uint64_t total;		/* 0 when unknown */
};

int64_t prog_now(void);		/* CLOCK_MONOTONIC in ns */
void prog_start(struct prog *p, uint64_t total);
/* "12.3 MiB / 1.0 GiB  45.6 MiB/s  ETA 0:21" (fits in 80 columns). */
size_t prog_format(const struct prog *p, const char *label, char *buf, size_t sz);
/* "1.5 KiB" style. */
size_t prog_bytes(uint64_t n, char *buf, size_t sz);

#endif
