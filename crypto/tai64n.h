/* SPDX-License-Identifier: MIT */
/*
 * TAI64N timestamps for handshake initiations (whitepaper §5.4.2). Nanoseconds are
 * rounded down to a multiple of 2^24 ns so a timestamp does not reveal a precise clock.
 */
#ifndef WGD_TAI64N_H
#define WGD_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"

#define TAI64_BASE	     0x400000000000000aULL
#define TAI64N_WHITENER_MASK ((1U << 24) - 1)

/* unix_ns: wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME), passed in. */
void tai64n_from_unix_ns(uint8_t out[static NOISE_TIMESTAMP_LEN], uint64_t unix_ns);

/* True when a is strictly later than b (big-endian compare). */
bool tai64n_is_after(const uint8_t a[static NOISE_TIMESTAMP_LEN],
		     const uint8_t b[static NOISE_TIMESTAMP_LEN]);

#endif
