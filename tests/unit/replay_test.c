/* SPDX-License-Identifier: MIT */
/*
 * The replay window against the kernel's selftest (drivers/net/wireguard/
 * selftest/counter.c, the same sequence as wireguard-go replay_test.go;
 * PROTOCOL.md c.8): 34 numbered steps on one window, then six bulk runs.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "crypto/replay.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	W = COUNTER_WINDOW_SIZE,
	L = COUNTER_WINDOW_SIZE + 1, /* the kernel's T_LIM */
};
#define R REJECT_AFTER_MESSAGES

static const struct {
	uint64_t counter;
	bool ok;
} steps[] = {
	/*  1 */ { 0, true },
	/*  2 */ { 1, true },
	/*  3 */ { 1, false },
	/*  4 */ { 9, true },
	/*  5 */ { 8, true },
	/*  6 */ { 7, true },
	/*  7 */ { 7, false },
	/*  8 */ { L, true },
	/*  9 */ { L - 1, true },
	/* 10 */ { L - 1, false },
	/* 11 */ { L - 2, true },
	/* 12 */ { 2, true },
	/* 13 */ { 2, false },
	/* 14 */ { L + 16, true },
	/* 15 */ { 3, false },
	/* 16 */ { L + 16, false },
	/* 17 */ { L * 4, true },
	/* 18 */ { L * 4 - (L - 1), true },
	/* 19 */ { 10, false },
	/* 20 */ { L * 4 - L, false },
	/* 21 */ { L * 4 - (L + 1), false },
	/* 22 */ { L * 4 - (L - 2), true },
	/* 23 */ { L * 4 + 1 - L, false },
	/* 24 */ { 0, false },
	/* 25 */ { R, false },
	/* 26 */ { R - 1, true },
	/* 27 */ { R, false },
	/* 28 */ { R - 1, false },
	/* 29 */ { R - 2, true },
	/* 30 */ { R + 1, false },
	/* 31 */ { R + 2, false },
	/* 32 */ { R - 2, false },
	/* 33 */ { R - 3, true },
	/* 34 */ { 0, false },
};

static struct replay_counter r;

static void check(uint64_t counter, bool ok, const char *run)
{
	cr_assert(eq(int, replay_counter_validate(&r, counter), ok), "%s: counter %llu", run,
		  (unsigned long long)counter);
}

Test(replay, kernel_sequence)
{
	replay_counter_init(&r);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		cr_assert(eq(int, replay_counter_validate(&r, steps[i].counter), steps[i].ok),
			  "case %zu (counter %llu)", i + 1, (unsigned long long)steps[i].counter);
}

Test(replay, bulk_ascending_then_zero)
{
	replay_counter_init(&r);
	for (uint64_t i = 1; i <= W; i++)
		check(i, true, "1..W");
	check(0, true, "after 1..W");
	check(0, false, "after 1..W");
}

Test(replay, bulk_ascending_from_two)
{
	replay_counter_init(&r);
	for (uint64_t i = 2; i <= W + 1; i++)
		check(i, true, "2..W+1");
	check(1, true, "after 2..W+1");
	check(0, false, "after 2..W+1");
}

/* The kernel's loop `for (i = W + 1; i-- > 0;)` visits W down to 0. */
Test(replay, bulk_descending_to_zero)
{
	replay_counter_init(&r);
	for (uint64_t i = W + 1; i-- > 0;)
		check(i, true, "W..0");
}

Test(replay, bulk_descending_from_w_plus_one)
{
	replay_counter_init(&r);
	for (uint64_t i = W + 2; i-- > 1;)
		check(i, true, "W+1..1");
	check(0, false, "after W+1..1");
}

Test(replay, bulk_descending_then_top)
{
	replay_counter_init(&r);
	for (uint64_t i = W + 1; i-- > 1;)
		check(i, true, "W..1");
	check(W + 1, true, "after W..1");
	check(0, false, "after W..1, W+1");
}

Test(replay, bulk_descending_then_zero_and_top)
{
	replay_counter_init(&r);
	for (uint64_t i = W + 1; i-- > 1;)
		check(i, true, "W..1");
	check(0, true, "after W..1");
	check(W + 1, true, "after W..1, 0");
}

/* Counter 0 is a valid first packet (smartalock/wireguard-lwip #5). */
Test(replay, zero_first)
{
	replay_counter_init(&r);
	check(0, true, "fresh");
	check(0, false, "replayed");
}

/* A jump of more than the whole ring must clear every word, not wrap onto stale bits. */
Test(replay, far_jump_clears_ring)
{
	replay_counter_init(&r);
	for (uint64_t i = 0; i < COUNTER_BITS_TOTAL; i++)
		check(i, true, "fill");
	check(10 * COUNTER_BITS_TOTAL, true, "jump");
	for (uint64_t i = 10 * COUNTER_BITS_TOTAL - W; i < 10 * COUNTER_BITS_TOTAL; i++)
		check(i, true, "window after jump");
	check(10 * COUNTER_BITS_TOTAL - W - 1, false, "just outside window");
}
