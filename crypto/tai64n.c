/* SPDX-License-Identifier: MIT */
/*
 * TAI64N encoding for the initiation timestamp (whitepaper §5.4.2). The caller
 * passes the wall clock in, so this file never reads a clock itself.
 */
#include <string.h>

#include "crypto/tai64n.h"

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void store_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void tai64n_from_unix_ns(uint8_t out[static NOISE_TIMESTAMP_LEN], uint64_t unix_ns)
{
	uint32_t nsec = (uint32_t)(unix_ns % NSEC_PER_SEC);

	/*
	 * Round down to 2^24 ns (~16.8 ms, just under 1/INITIATIONS_PER_SECOND) as
	 * the kernel and wireguard-go do: the responder only needs monotonicity,
	 * and finer bits would expose our clock to anyone holding the static key.
	 */
	nsec &= ~TAI64N_WHITENER_MASK;
	store_be64(out, TAI64_BASE + unix_ns / NSEC_PER_SEC);
	store_be32(out + 8, nsec);
}

bool tai64n_is_after(const uint8_t a[static NOISE_TIMESTAMP_LEN],
		     const uint8_t b[static NOISE_TIMESTAMP_LEN])
{
	/* Big-endian seconds then nanoseconds: byte order is numeric order. */
	return memcmp(a, b, NOISE_TIMESTAMP_LEN) > 0;
}
