/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the receive replay window, replay_counter_validate(), differential against
 * a naive reference written here: every accepted counter kept in a hash set, and the
 * rule as the kernel's counter.c states it (RFC 6479 with COUNTER_WINDOW_SIZE = 8128): a
 * counter is accepted when it is below REJECT_AFTER_MESSAGES, has not been accepted
 * before, and is no more than 8128 below the highest accepted so far. (The keypair-level
 * stop once the highest reaches the limit is data_keypair_can_receive's, checked by the
 * data_path target.)
 *
 * Input: a sequence of counters, each as { u8 mode, value }: absolute u64, a u16 step
 * forward or back from the highest, or a u16 below REJECT_AFTER_MESSAGES, so the fuzzer
 * reaches the window edges, the ring's wrap and the limit quickly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/replay.h"
#include "tests/fuzz/fuzz.h"

enum {
	RP_MAX_OPS = 4096,
	RP_BUCKETS = 8192, /* a power of two above RP_MAX_OPS */
};

/* what the last input did, for the regression test */
static struct {
	size_t accepted;
} rp_stats;

struct rp_naive {
	uint64_t keys[RP_BUCKETS]; /* counter + 1; 0 = empty */
	uint64_t top;		   /* highest accepted + 1; 0 = none yet */
};

static bool rp_naive_seen(struct rp_naive *n, uint64_t c, bool insert)
{
	size_t i = (size_t)((c * 0x9e3779b97f4a7c15ULL) >> 51) & (RP_BUCKETS - 1);

	while (n->keys[i]) {
		if (n->keys[i] == c + 1)
			return true;
		i = (i + 1) & (RP_BUCKETS - 1);
	}
	if (insert)
		n->keys[i] = c + 1;
	return false;
}

static bool rp_naive_validate(struct rp_naive *n, uint64_t c)
{
	uint64_t highest = n->top - 1;

	/* counter.c's first test; top cannot pass the limit, but the rule says so */
	if (n->top >= REJECT_AFTER_MESSAGES + 1 || c >= REJECT_AFTER_MESSAGES)
		return false;
	if (n->top && c < highest && highest - c > COUNTER_WINDOW_SIZE)
		return false;
	if (rp_naive_seen(n, c, true))
		return false;
	if (!n->top || c > highest)
		n->top = c + 1;
	return true;
}

static uint64_t rp_next(struct fz_in *in, const struct rp_naive *n)
{
	uint8_t mode = fz_u8(in);
	uint64_t top = n->top;

	switch (mode & 3) {
	case 0:
		return fz_u64(in);
	case 1:
		return top + fz_u16(in);
	case 2:
		return top - 1 - fz_u16(in);
	default:
		return REJECT_AFTER_MESSAGES - 1 - fz_u16(in) + (mode >> 7);
	}
}

static void fz_replay_one(const uint8_t *data, size_t size)
{
	static struct rp_naive naive;
	struct replay_counter r;
	struct fz_in in = { data, size };

	memset(&naive, 0, sizeof(naive));
	memset(&rp_stats, 0, sizeof(rp_stats));
	replay_counter_init(&r);
	for (int i = 0; i < RP_MAX_OPS && in.n; i++) {
		uint64_t c = rp_next(&in, &naive);
		bool want = rp_naive_validate(&naive, c);
		bool got = replay_counter_validate(&r, c);

		FZ_CHECK(got == want, "op %d counter %llu: window says %d, reference %d", i,
			 (unsigned long long)c, got, want);
		rp_stats.accepted += got;
	}
}

FZ_ENTRY(fz_replay_one)
