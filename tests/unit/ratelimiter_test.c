/* SPDX-License-Identifier: MIT */
/*
 * ratelimiter: the burst/refill sequence of PROTOCOL.md §4 c.9 (Linux's
 * selftest/ratelimiter.c, wireguard-go's ratelimiter_test.go) on a virtual clock for IPv4
 * and IPv6, the /64 grouping, token carry-over at the 50 ms boundary, garbage collection
 * and the table's capacity. Expected answers come from those sources, not from the code.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/messages.h"
#include "wgd/ratelimiter.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t t0 = 1000 * NSEC_PER_SEC; /* an arbitrary CLOCK_BOOTTIME instant */

/* c.9: 20 packets/s, burst 5; delays are slept before the packet is offered */
static const struct {
	uint64_t delay_ns;
	bool expected;
} c9_steps[] = {
	{ 0, true }, /* 1: a new source starts with a full burst */
	{ 0, true },  { 0, true },
	{ 0, true },  { 0, true },		     /* 5: the burst is spent */
	{ 0, false }, { 50 * NSEC_PER_MSEC, true },  /* 7: 1/20 s buys one packet */
	{ 0, false }, { 100 * NSEC_PER_MSEC, true }, /* 9: 2/20 s buys two */
	{ 0, true },  { 0, false },
};

static void parse(int family, const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	cr_assert(eq(int, inet_pton(family, s, addr), 1), "bad test address %s", s);
}

static void add_u32(uint8_t *p, uint32_t n)
{
	uint32_t v;

	memcpy(&v, p, 4);
	v = htonl(ntohl(v) + n);
	memcpy(p, &v, 4);
}

/*
 * Walks the table for one source; at each step a source never seen before must pass.
 * For IPv6 the limited source changes its interface identifier every step (Linux does the
 * same): the /64 is what is limited.
 */
static void run_c9(int family, const char *src_str)
{
	uint8_t src[16], other[16];
	struct ratelimiter rl;
	uint64_t now = t0;

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	parse(family, src_str, src);
	for (size_t i = 0; i < ARRAY_SIZE(c9_steps); i++) {
		now += c9_steps[i].delay_ns;
		if (family == AF_INET6) {
			add_u32(src + 8, 0x01000193);
			add_u32(src + 12, 0x2545f491);
		}
		cr_assert(eq(int, ratelimiter_allow(&rl, family, src, now), c9_steps[i].expected),
			  "step %zu", i + 1);
		memcpy(other, src, sizeof(other));
		add_u32(other, (uint32_t)i + 1);
		cr_assert(ratelimiter_allow(&rl, family, other, now), "step %zu, other source",
			  i + 1);
	}
	ratelimiter_uninit(&rl);
}

Test(ratelimiter, c9_sequence_v4)
{
	run_c9(AF_INET, "0.0.31.246");
}

Test(ratelimiter, c9_sequence_v6)
{
	run_c9(AF_INET6, "0:4bc:4:69a4::");
}

/* Refusals keep the credit they accrued: 1 ns short of 50 ms is refused, 50 ms passes. */
Test(ratelimiter, refill_boundary_and_cap)
{
	static const struct {
		uint64_t delay_ns;
		bool expected;
	} steps[] = {
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, false },
		{ 50 * NSEC_PER_MSEC - 1, false },
		{ 1, true },
		{ 0, false },
		{ 10 * NSEC_PER_SEC, true }, /* a long idle still refills only the burst of 5 */
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, false },
		{ 250 * NSEC_PER_MSEC, true }, /* exactly 5 x 50 ms: full again */
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, true },
		{ 0, false },
	};
	struct ratelimiter rl;
	uint64_t now = t0;
	uint8_t src[16];

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	parse(AF_INET, "198.51.100.7", src);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		now += steps[i].delay_ns;
		cr_assert(eq(int, ratelimiter_allow(&rl, AF_INET, src, now), steps[i].expected),
			  "step %zu", i + 1);
	}
	ratelimiter_uninit(&rl);
}

static void spend_burst(struct ratelimiter *rl, int family, const char *s, uint64_t now)
{
	uint8_t addr[16];

	parse(family, s, addr);
	for (int i = 0; i < 5; i++)
		cr_assert(ratelimiter_allow(rl, family, addr, now), "%s packet %d", s, i + 1);
}

static bool allow_str(struct ratelimiter *rl, int family, const char *s, uint64_t now)
{
	uint8_t addr[16];

	parse(family, s, addr);
	return ratelimiter_allow(rl, family, addr, now);
}

Test(ratelimiter, keyed_by_v4_address_and_v6_slash64)
{
	struct ratelimiter rl;

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	/* five hosts of one /64 share its burst */
	spend_burst(&rl, AF_INET6, "2001:db8:1:2::1", t0);
	cr_assert(not(allow_str(&rl, AF_INET6, "2001:db8:1:2::2", t0)));
	cr_assert(not(allow_str(&rl, AF_INET6, "2001:db8:1:2:ffff:ffff:ffff:ffff", t0)));
	cr_assert(not(allow_str(&rl, AF_INET6, "2001:db8:1:2:8000::", t0)));
	cr_assert(allow_str(&rl, AF_INET6, "2001:db8:1:3::1", t0)); /* differs in bit 63 only */
	cr_assert(not(allow_str(&rl, AF_INET6, "2001:db8:1:2::1", t0)));

	/* IPv4 is limited per address */
	spend_burst(&rl, AF_INET, "192.0.2.1", t0);
	cr_assert(not(allow_str(&rl, AF_INET, "192.0.2.1", t0)));
	cr_assert(allow_str(&rl, AF_INET, "192.0.2.2", t0));
	cr_assert(allow_str(&rl, AF_INET, "193.0.2.1", t0));
	/* the same leading bytes in the other family are another source */
	cr_assert(allow_str(&rl, AF_INET6, "c000:201::", t0));
	cr_assert(allow_str(&rl, AF_INET6, "::ffff:192.0.2.1", t0));
	cr_assert(eq(u32, rl.count, 7));
	ratelimiter_uninit(&rl);
}

Test(ratelimiter, gc_drops_entries_idle_over_one_second)
{
	struct ratelimiter rl;

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	cr_assert(allow_str(&rl, AF_INET, "10.0.0.1", t0));
	cr_assert(allow_str(&rl, AF_INET6, "fd00::1", t0));
	cr_assert(allow_str(&rl, AF_INET6, "fd00::1", t0 + NSEC_PER_SEC / 2));
	cr_assert(eq(u32, rl.count, 2));
	ratelimiter_gc(&rl, t0 + NSEC_PER_SEC); /* idle exactly 1 s: kept */
	cr_assert(eq(u32, rl.count, 2));
	ratelimiter_gc(&rl, t0 + NSEC_PER_SEC + 1);
	cr_assert(eq(u32, rl.count, 1));
	ratelimiter_gc(&rl, t0 + 3 * NSEC_PER_SEC / 2);
	cr_assert(eq(u32, rl.count, 1));
	ratelimiter_gc(&rl, t0 + 3 * NSEC_PER_SEC / 2 + 1);
	cr_assert(eq(u32, rl.count, 0));
	/* a collected source comes back as new, with a full burst */
	spend_burst(&rl, AF_INET, "10.0.0.1", t0 + 2 * NSEC_PER_SEC);
	cr_assert(not(allow_str(&rl, AF_INET, "10.0.0.1", t0 + 2 * NSEC_PER_SEC)));
	cr_assert(eq(u32, rl.count, 1));
	ratelimiter_uninit(&rl);
}

static void fill(struct ratelimiter *rl, int family, uint32_t first, uint32_t n, uint64_t now)
{
	uint8_t addr[16] = { 0 };

	for (uint32_t i = first; i < first + n; i++) {
		uint32_t be = htonl(i);

		memcpy(addr, &be, 4); /* for IPv6 this varies the /64 */
		/* a plain check: a Criterion assertion per source would dominate the run time */
		if (!ratelimiter_allow(rl, family, addr, now))
			cr_fatal("source %u refused before the table was full", i);
	}
}

Test(ratelimiter, capacity_limit)
{
	struct ratelimiter rl;

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	fill(&rl, AF_INET, 0, RATELIMITER_MAX_ENTRIES, t0);
	cr_assert(eq(u32, rl.count, RATELIMITER_MAX_ENTRIES));
	cr_assert(not(allow_str(&rl, AF_INET, "203.0.113.1", t0)));
	cr_assert(not(allow_str(&rl, AF_INET6, "2001:db8::1", t0)));
	cr_assert(allow_str(&rl, AF_INET, "0.0.0.0", t0)); /* known sources keep their burst */
	cr_assert(allow_str(&rl, AF_INET, "0.0.255.255", t0));
	/* nothing has been idle for a second yet, so nothing can make room */
	cr_assert(not(allow_str(&rl, AF_INET, "203.0.113.1", t0 + NSEC_PER_SEC / 2)));
	cr_assert(eq(u64, rl.last_gc_ns, t0), "a full table is swept at most once a second");
	cr_assert(eq(u32, rl.count, RATELIMITER_MAX_ENTRIES));

	/* two seconds on, a new source makes the full table collect its idle entries */
	cr_assert(allow_str(&rl, AF_INET, "203.0.113.1", t0 + 2 * NSEC_PER_SEC));
	cr_assert(eq(u32, rl.count, 1));
	/* recycled entries fill up exactly as fresh ones did */
	fill(&rl, AF_INET6, 0, RATELIMITER_MAX_ENTRIES - 1, t0 + 2 * NSEC_PER_SEC);
	cr_assert(eq(u32, rl.count, RATELIMITER_MAX_ENTRIES));
	cr_assert(not(allow_str(&rl, AF_INET, "203.0.113.2", t0 + 2 * NSEC_PER_SEC)));
	ratelimiter_uninit(&rl);
}

Test(ratelimiter, unknown_family_and_uninit)
{
	struct ratelimiter rl;
	uint8_t addr[16] = { 10, 0, 0, 1 };

	cr_assert(eq(int, ratelimiter_init(&rl), 0));
	cr_assert(not(ratelimiter_allow(&rl, AF_UNIX, addr, t0)));
	cr_assert(eq(u32, rl.count, 0));
	ratelimiter_uninit(&rl);
	ratelimiter_uninit(&rl); /* harmless, as Linux's extra uninit */
	cr_assert(not(ratelimiter_allow(&rl, AF_INET, addr, t0)));
	ratelimiter_gc(&rl, t0);
	cr_assert(eq(int, ratelimiter_init(&rl), 0)); /* and usable again */
	cr_assert(ratelimiter_allow(&rl, AF_INET, addr, t0));
	ratelimiter_uninit(&rl);
}
