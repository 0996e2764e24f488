/* SPDX-License-Identifier: MIT */
/*
 * TAI64N encoding: known values (expected bytes computed with /usr/bin/python3
 * struct.pack('>QI', 0x400000000000000a + s, ns & ~(2**24 - 1))), the whitening
 * granularity of wireguard-go's TestMonotonic, and the is_after ordering.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "crypto/tai64n.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void unhex(uint8_t out[NOISE_TIMESTAMP_LEN], const char *hex)
{
	cr_assert(eq(sz, strlen(hex), 2 * NOISE_TIMESTAMP_LEN));
	for (size_t i = 0; i < NOISE_TIMESTAMP_LEN; i++) {
		unsigned int b;

		cr_assert(eq(int, sscanf(hex + 2 * i, "%2x", &b), 1));
		out[i] = (uint8_t)b;
	}
}

static const struct {
	uint64_t unix_ns;
	const char *tai64n;
} known[] = {
	{ 0, "400000000000000a00000000" },
	{ 999999999, "400000000000000a3b000000" },
	{ 1000000000, "400000000000000b00000000" },
	{ 16777215, "400000000000000a00000000" }, /* 2^24 - 1 ns whitens to 0 */
	{ 16777216, "400000000000000a01000000" },
	{ 123456789, "400000000000000a07000000" },
	{ 1700000000123456789ULL, "400000006553f10a07000000" },
	{ UINT64_MAX, "400000044b82fa132a000000" },
};

Test(tai64n, known_values)
{
	uint8_t got[NOISE_TIMESTAMP_LEN], want[NOISE_TIMESTAMP_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		tai64n_from_unix_ns(got, known[i].unix_ns);
		unhex(want, known[i].tai64n);
		cr_assert(eq(u8[12], got, want), "case %zu (unix_ns %llu)", i + 1,
			  (unsigned long long)known[i].unix_ns);
	}
}

/* wireguard-go tai64n_test.go TestMonotonic: whitening hides < ~16.8 ms. */
Test(tai64n, whitening_granularity)
{
	static const struct {
		uint64_t delta_ns;
		bool is_after;
	} cases[] = {
		{ 10, false },
		{ 10 * 1000ULL, false },
		{ NSEC_PER_MSEC, false },
		{ 10 * NSEC_PER_MSEC, false },
		{ 20 * NSEC_PER_MSEC, true },
	};
	const uint64_t start = 123456789; /* a nontrivial bit pattern, as in Go */
	uint8_t t1[NOISE_TIMESTAMP_LEN], t2[NOISE_TIMESTAMP_LEN];

	tai64n_from_unix_ns(t1, start);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		tai64n_from_unix_ns(t2, start + cases[i].delta_ns);
		cr_assert(eq(int, tai64n_is_after(t2, t1), cases[i].is_after), "case %zu", i + 1);
	}
}

Test(tai64n, is_after_ordering)
{
	static const struct {
		uint64_t a_ns, b_ns;
		bool a_after_b;
	} cases[] = {
		{ 0, 0, false },
		{ NSEC_PER_SEC, 0, true },
		{ 0, NSEC_PER_SEC, false },
		/* Seconds dominate nanoseconds. */
		{ 2 * NSEC_PER_SEC, NSEC_PER_SEC + 999999999, true },
		{ NSEC_PER_SEC + 999999999, 2 * NSEC_PER_SEC, false },
		{ NSEC_PER_SEC + (1ULL << 24), NSEC_PER_SEC, true },
		/* A carry across a byte boundary of the seconds field. */
		{ 256 * NSEC_PER_SEC, 255 * NSEC_PER_SEC + 999999999, true },
		{ UINT64_MAX, 0, true },
	};
	uint8_t a[NOISE_TIMESTAMP_LEN], b[NOISE_TIMESTAMP_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		tai64n_from_unix_ns(a, cases[i].a_ns);
		tai64n_from_unix_ns(b, cases[i].b_ns);
		cr_assert(eq(int, tai64n_is_after(a, b), cases[i].a_after_b), "case %zu", i + 1);
	}
}

/* Strictly later: the responder rejects a replayed (equal) timestamp. */
Test(tai64n, equal_is_not_after)
{
	uint8_t a[NOISE_TIMESTAMP_LEN], b[NOISE_TIMESTAMP_LEN];

	memset(a, 0xff, sizeof(a));
	memcpy(b, a, sizeof(b));
	cr_assert(not(tai64n_is_after(a, b)));
	b[NOISE_TIMESTAMP_LEN - 1] = 0xfe;
	cr_assert(tai64n_is_after(a, b));
	cr_assert(not(tai64n_is_after(b, a)));
}
