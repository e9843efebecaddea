/* sha256.h: SHA-256 (FIPS 180-4), with the x86 SHA extensions when the CPU has them. */
#ifndef LOGKIT_SHA256_H
#define LOGKIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Write the digest as 64 lower-case hex digits and a NUL into hex[65]. */
void sha256_final_hex(struct sha256 *s, char hex[65]);

#endif
