/* SPDX-License-Identifier: MIT */
/*
 * The receive-side replay window: an RFC 6479 ring of COUNTER_BITS_TOTAL bits in
 * 64-bit words, one word redundant, so the usable window is COUNTER_WINDOW_SIZE.
 * The logic follows the kernel's counter.c so both accept exactly the same
 * counters. Callers validate only after the AEAD tag verified, otherwise a
 * forged packet could slide the window (whitepaper §5.4.6).
 */
#include <string.h>

#include "crypto/replay.h"

enum {
	WORD_BITS = 64,
	WORD_SHIFT = 6, /* log2(WORD_BITS) */
	RING_WORDS = COUNTER_BITS_TOTAL / WORD_BITS,
};

_Static_assert((RING_WORDS & (RING_WORDS - 1)) == 0, "ring size must be a power of two");

void replay_counter_init(struct replay_counter *r)
{
	memset(r, 0, sizeof(*r));
}

/* Clears the words that the window slides over on its way up to word index. */
static void slide_window(struct replay_counter *r, uint64_t index)
{
	uint64_t current = r->counter >> WORD_SHIFT;
	uint64_t top = index - current;

	if (top > RING_WORDS)
		top = RING_WORDS;
	for (uint64_t i = 1; i <= top; i++)
		r->backtrack[(current + i) & (RING_WORDS - 1)] = 0;
}

bool replay_counter_validate(struct replay_counter *r, uint64_t counter)
{
	uint64_t index, bit;
	bool seen;

	if (r->counter >= REJECT_AFTER_MESSAGES + 1 || counter >= REJECT_AFTER_MESSAGES)
		return false;
	/* Store counter + 1 so that counter 0 is distinguishable from "nothing yet". */
	counter++;
	if (counter + COUNTER_WINDOW_SIZE < r->counter)
		return false;

	index = counter >> WORD_SHIFT;
	if (counter > r->counter) {
		slide_window(r, index);
		r->counter = counter;
	}
	index &= RING_WORDS - 1;
	bit = 1ULL << (counter & (WORD_BITS - 1));
	seen = r->backtrack[index] & bit;
	r->backtrack[index] |= bit;
	return !seen;
}
