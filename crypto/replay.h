/* SPDX-License-Identifier: MIT */
/*
 * The receive counter's sliding window (RFC 6479 bitmap, COUNTER_WINDOW_SIZE = 8128),
 * as the kernel's counter.c. Call only after the AEAD tag has verified.
 */
#ifndef WGD_REPLAY_H
#define WGD_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"

struct replay_counter {
	uint64_t counter; /* one past the highest counter seen */
	uint64_t backtrack[COUNTER_BITS_TOTAL / 64];
};

void replay_counter_init(struct replay_counter *r);

/*
 * Returns true and records the counter if it is new and within the window;
 * false if it was seen, is too old, or is >= REJECT_AFTER_MESSAGES.
 */
bool replay_counter_validate(struct replay_counter *r, uint64_t counter);

#endif
