/* SPDX-License-Identifier: MIT */
/*
 * allowedips: hand-written IPv4/IPv6 cases in the spirit of Linux's selftest/allowedips.c
 * (expected owners worked out by hand from the longest-prefix rule), a 129-deep chain,
 * per-peer walks, a 130 560-prefix peer, and a randomized comparison against the naive
 * reference in tests/ref/allowedips_naive.c.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/ref/allowedips_naive.h"
#include "wgd/allowedips.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct peer {
	int id;
};

static int parse(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	cr_assert(eq(int, inet_pton(AF_INET6, s, addr), 1), "bad test address %s", s);
	return AF_INET6;
}

static int insert_str(struct allowedips *t, const char *s, uint8_t cidr, struct peer *peer)
{
	uint8_t addr[16];
	int family = parse(s, addr);

	return allowedips_insert(t, family, addr, cidr, peer);
}

static int remove_str(struct allowedips *t, const char *s, uint8_t cidr, struct peer *peer)
{
	uint8_t addr[16];
	int family = parse(s, addr);

	return allowedips_remove(t, family, addr, cidr, peer);
}

static struct peer *lookup_str(const struct allowedips *t, const char *s)
{
	uint8_t addr[16];
	int family = parse(s, addr);

	return allowedips_lookup(t, family, addr);
}

enum { A, B, C, D, E, F, G, H, NONE = -1 };
static struct peer letters[8] = { { 'a' }, { 'b' }, { 'c' }, { 'd' },
				  { 'e' }, { 'f' }, { 'g' }, { 'h' } };

static const struct {
	const char *addr;
	uint8_t cidr;
	int peer;
} static_routes[] = {
	{ "192.168.4.0", 24, A },
	{ "192.168.4.4", 32, B },
	{ "192.168.0.0", 16, C },
	{ "192.95.5.64", 27, D },
	{ "192.95.5.65", 27, C }, /* same masked prefix: replaces d, host bits ignored */
	{ "0.0.0.0", 0, E },
	{ "64.15.112.0", 20, G },
	{ "64.15.123.211", 25, H }, /* stored as 64.15.123.128/25 */
	{ "10.0.0.0", 25, A },
	{ "10.0.0.128", 25, B },
	{ "10.1.0.0", 30, A },
	{ "10.1.0.4", 30, B },
	{ "10.1.0.8", 29, C },
	{ "10.1.0.16", 29, D },
	{ "2607:5300:6000:6b00::c05f:543", 128, D },
	{ "2607:5300:6000:6b00::", 64, C },
	{ "::", 0, E },
	{ "::", 0, F }, /* replaces e */
	{ "2404:6800::", 32, G },
	{ "2404:6800:4004:800:dead:beef:dead:beef", 64, H },
	{ "2404:6800:4004:800:dead:beef:dead:beef", 128, A },
	{ "2444:6800:40e4:800:deae:beef:def:beef", 128, C },
	{ "2444:6800:f0e4:800:eeae:beef::", 98, B },
};

static const struct {
	const char *addr;
	int peer;
} static_queries[] = {
	{ "192.168.4.20", A },
	{ "192.168.4.0", A },
	{ "192.168.4.4", B },
	{ "192.168.4.5", A },
	{ "192.168.200.182", C },
	{ "192.95.5.68", C },
	{ "192.95.5.95", C },
	{ "192.95.5.96", E },
	{ "192.95.5.63", E },
	{ "64.15.116.26", G },
	{ "64.15.127.3", G },
	{ "64.15.128.0", E },
	{ "64.15.123.1", G },
	{ "64.15.123.128", H },
	{ "64.15.123.211", H },
	{ "10.0.0.5", A },
	{ "10.0.0.127", A },
	{ "10.0.0.128", B },
	{ "10.0.0.255", B },
	{ "10.1.0.2", A },
	{ "10.1.0.6", B },
	{ "10.1.0.12", C },
	{ "10.1.0.20", D },
	{ "10.1.0.24", E },
	{ "8.8.8.8", E },
	{ "255.255.255.255", E },
	{ "2607:5300:6000:6b00::c05f:543", D },
	{ "2607:5300:6000:6b00::c05f:542", C },
	{ "2607:5300:6000:6b00::c02e:1ee", C },
	{ "2607:5300:6000:6b01::", F },
	{ "2404:6800:4004:806::1006", G },
	{ "2404:6800:ffff::1", G },
	{ "2404:6800:4004:800::1", H },
	{ "2404:6800:4004:800:dead:beef:dead:beef", A },
	{ "2404:6800:4004:800:dead:beef:dead:beee", H },
	{ "2444:6800:40e4:800:deae:beef:def:beef", C },
	{ "2444:6800:40e4:800:deae:beef:def:beee", F },
	{ "2444:6800:f0e4:800:eeae:beef::", B },
	{ "2444:6800:f0e4:800:eeae:beef:3fff:ffff", B }, /* bits 97..98 = 00 */
	{ "2444:6800:f0e4:800:eeae:beef:4000:0", F },	 /* bits 97..98 = 01 */
	{ "::", F },
	{ "ffff::", F },
};

static struct peer *letter(int i)
{
	return i == NONE ? NULL : &letters[i];
}

static void insert_static_routes(struct allowedips *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(static_routes); i++) {
		int ret = insert_str(t, static_routes[i].addr, static_routes[i].cidr,
				     letter(static_routes[i].peer));

		cr_assert(eq(int, ret, 0), "insert %zu", i + 1);
	}
}

static void check_queries(const struct allowedips *t, const char *stage)
{
	for (size_t i = 0; i < ARRAY_SIZE(static_queries); i++) {
		struct peer *got = lookup_str(t, static_queries[i].addr);

		cr_assert(eq(ptr, got, letter(static_queries[i].peer)),
			  "%s: query %zu (%s): got %c", stage, i + 1, static_queries[i].addr,
			  got ? got->id : '-');
	}
}

Test(allowedips, static_v4_v6)
{
	struct allowedips t;

	allowedips_init(&t);
	insert_static_routes(&t);
	check_queries(&t, "full");
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[D]), 2)); /* its /27 went to c */
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[E]), 1)); /* its ::/0 went to f */

	allowedips_remove_by_peer(&t, &letters[C]);
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[C]), 0));
	cr_assert(eq(ptr, lookup_str(&t, "192.168.200.182"), &letters[E]));
	cr_assert(eq(ptr, lookup_str(&t, "192.95.5.68"), &letters[E]));
	cr_assert(eq(ptr, lookup_str(&t, "10.1.0.12"), &letters[E]));
	cr_assert(eq(ptr, lookup_str(&t, "192.168.4.20"), &letters[A]));
	cr_assert(eq(ptr, lookup_str(&t, "2607:5300:6000:6b00::c02e:1ee"), &letters[F]));
	cr_assert(eq(ptr, lookup_str(&t, "2607:5300:6000:6b00::c05f:543"), &letters[D]));
	cr_assert(eq(ptr, lookup_str(&t, "2444:6800:40e4:800:deae:beef:def:beef"), &letters[F]));

	for (size_t i = 0; i < ARRAY_SIZE(letters); i++)
		allowedips_remove_by_peer(&t, &letters[i]);
	cr_assert(eq(ptr, t.root4, NULL));
	cr_assert(eq(ptr, t.root6, NULL));
	cr_assert(eq(ptr, lookup_str(&t, "8.8.8.8"), NULL));
	cr_assert(eq(sz, t.lists_len, 0));
	allowedips_free(&t);
}

Test(allowedips, static_free_while_populated)
{
	struct allowedips t;
	uint64_t seq;

	allowedips_init(&t);
	insert_static_routes(&t);
	seq = t.seq;
	allowedips_free(&t); /* ASan reports any node or list left behind */
	cr_assert(t.seq > seq);
	cr_assert(eq(ptr, t.root4, NULL));
	cr_assert(eq(ptr, t.root6, NULL));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[A]), 0));
	cr_assert(eq(int, insert_str(&t, "1.2.3.4", 32, &letters[A]), 0)); /* reusable */
	cr_assert(eq(ptr, lookup_str(&t, "1.2.3.4"), &letters[A]));
	allowedips_free(&t);
}

Test(allowedips, invalid_arguments)
{
	struct allowedips t;
	uint8_t addr[16] = { 10 };

	allowedips_init(&t);
	cr_assert(eq(int, allowedips_insert(&t, AF_UNIX, addr, 8, &letters[A]), -EINVAL));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET, addr, 33, &letters[A]), -EINVAL));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET6, addr, 129, &letters[A]), -EINVAL));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET, addr, 8, NULL), -EINVAL));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET, NULL, 8, &letters[A]), -EINVAL));
	cr_assert(eq(int, allowedips_remove(&t, AF_INET, addr, 33, &letters[A]), -EINVAL));
	cr_assert(eq(int, allowedips_remove(&t, AF_UNIX, addr, 8, &letters[A]), -EINVAL));
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_UNIX, addr), NULL));
	cr_assert(eq(ptr, t.root4, NULL));
	cr_assert(eq(ptr, t.root6, NULL));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET, addr, 32, &letters[A]), 0));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET6, addr, 128, &letters[B]), 0));
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET, addr), &letters[A]));
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), &letters[B]));
	allowedips_free(&t);
}

Test(allowedips, remove_exact_prefix)
{
	struct allowedips t;

	allowedips_init(&t);
	cr_assert(eq(int, insert_str(&t, "10.0.0.0", 8, &letters[A]), 0));
	cr_assert(eq(int, insert_str(&t, "10.1.0.0", 16, &letters[B]), 0));
	cr_assert(eq(int, insert_str(&t, "10.1.1.0", 24, &letters[C]), 0));
	cr_assert(eq(int, insert_str(&t, "10.2.0.0", 16, &letters[D]), 0));
	cr_assert(eq(int, insert_str(&t, "10.3.0.0", 16, &letters[E]), 0));
	cr_assert(eq(int, insert_str(&t, "2001:db8::", 32, &letters[A]), 0));
	cr_assert(eq(int, insert_str(&t, "2001:db8:1::", 48, &letters[B]), 0));

	/* 10.2/16 and 10.3/16 are joined by an internal 10.2.0.0/15: not a route */
	cr_assert(eq(int, remove_str(&t, "10.2.0.0", 15, &letters[D]), -ENOENT));
	cr_assert(eq(int, remove_str(&t, "10.1.0.0", 16, &letters[A]), -ENOENT)); /* b's */
	cr_assert(eq(int, remove_str(&t, "10.1.0.0", 17, &letters[B]), -ENOENT));
	cr_assert(eq(int, remove_str(&t, "11.0.0.0", 8, &letters[A]), -ENOENT));
	cr_assert(eq(int, remove_str(&t, "2001:db8::", 32, &letters[B]), -ENOENT));
	cr_assert(eq(ptr, lookup_str(&t, "10.2.9.9"), &letters[D]));

	cr_assert(eq(int, remove_str(&t, "10.1.0.7", 16, &letters[B]), 0)); /* host bits masked */
	cr_assert(eq(int, remove_str(&t, "10.1.0.0", 16, &letters[B]), -ENOENT));
	cr_assert(eq(ptr, lookup_str(&t, "10.1.2.3"), &letters[A]));
	cr_assert(eq(ptr, lookup_str(&t, "10.1.1.1"), &letters[C]));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[B]), 1));

	cr_assert(eq(int, remove_str(&t, "10.0.0.0", 8, &letters[A]), 0));
	cr_assert(eq(ptr, lookup_str(&t, "10.9.9.9"), NULL));
	cr_assert(eq(ptr, lookup_str(&t, "10.1.1.1"), &letters[C]));
	cr_assert(eq(ptr, lookup_str(&t, "10.3.0.1"), &letters[E]));

	cr_assert(eq(int, remove_str(&t, "10.2.0.0", 16, &letters[D]), 0));
	cr_assert(eq(ptr, lookup_str(&t, "10.2.0.1"), NULL));
	cr_assert(eq(ptr, lookup_str(&t, "10.3.0.1"), &letters[E]));
	cr_assert(eq(int, remove_str(&t, "2001:db8::", 32, &letters[A]), 0));
	cr_assert(eq(ptr, lookup_str(&t, "2001:db8:1::1"), &letters[B]));
	cr_assert(eq(ptr, lookup_str(&t, "2001:db8:2::1"), NULL));

	cr_assert(eq(int, remove_str(&t, "10.3.0.0", 16, &letters[E]), 0));
	cr_assert(eq(int, remove_str(&t, "10.1.1.0", 24, &letters[C]), 0));
	cr_assert(eq(int, remove_str(&t, "2001:db8:1::", 48, &letters[B]), 0));
	cr_assert(eq(ptr, t.root4, NULL));
	cr_assert(eq(ptr, t.root6, NULL));
	cr_assert(eq(sz, t.lists_len, 0));
	allowedips_free(&t);
}

Test(allowedips, reassign_between_peers)
{
	struct allowedips t;

	allowedips_init(&t);
	cr_assert(eq(int, insert_str(&t, "192.0.2.0", 24, &letters[A]), 0));
	cr_assert(eq(int, insert_str(&t, "198.51.100.0", 24, &letters[A]), 0));
	cr_assert(eq(int, insert_str(&t, "192.0.2.99", 24, &letters[B]), 0));
	cr_assert(eq(ptr, lookup_str(&t, "192.0.2.1"), &letters[B]));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[A]), 1));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[B]), 1));
	cr_assert(eq(int, remove_str(&t, "192.0.2.0", 24, &letters[A]), -ENOENT));
	allowedips_remove_by_peer(&t, &letters[A]);
	cr_assert(eq(ptr, lookup_str(&t, "192.0.2.1"), &letters[B]));
	cr_assert(eq(ptr, lookup_str(&t, "198.51.100.1"), NULL));
	cr_assert(eq(sz, t.lists_len, 1));
	allowedips_free(&t);
}

/* Collects a walk, as the UAPI get=1 dump will. */
struct walk_log {
	size_t n, cap, stop_at;
	struct naive_prefix *items;
};

static int walk_collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_log *log = ctx;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 64;
		log->items = realloc(log->items, log->cap * sizeof(*log->items));
		if (!log->items)
			cr_fatal("out of memory");
	}
	memset(&log->items[log->n], 0, sizeof(log->items[0]));
	log->items[log->n].family = family;
	log->items[log->n].cidr = cidr;
	memcpy(log->items[log->n].addr, addr, family == AF_INET ? 4 : 16);
	log->n++;
	return log->n == log->stop_at ? 7 : 0;
}

Test(allowedips, walk_masked_in_insertion_order)
{
	static const struct {
		const char *in, *masked;
		uint8_t cidr;
	} want[] = {
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1::", 48 },
		{ "10.11.12.13", "10.11.12.0", 24 },
		{ "172.16.255.255", "172.16.0.0", 12 },
		{ "fe80::1234:5678", "fe80::1234:5600", 120 },
		{ "203.0.113.77", "203.0.113.77", 32 },
		{ "0.0.0.0", "0.0.0.0", 0 },
		{ "255.255.255.255", "254.0.0.0", 7 },
	};
	struct walk_log log = { 0 };
	struct allowedips t;
	uint8_t addr[16];

	allowedips_init(&t);
	/* "old" goes first, then is re-inserted and so moves to the tail (as in Linux) */
	cr_assert(eq(int, insert_str(&t, "100.64.0.0", 10, &letters[A]), 0));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cr_assert(eq(int, insert_str(&t, want[i].in, want[i].cidr, &letters[A]), 0));
		cr_assert(eq(int, insert_str(&t, "198.18.0.0", (uint8_t)(16 + i), &letters[B]), 0));
	}
	cr_assert(eq(int, insert_str(&t, "100.127.1.1", 10, &letters[A]), 0));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[A]), ARRAY_SIZE(want) + 1));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &letters[C]), 0));

	cr_assert(eq(int, allowedips_walk_by_peer(&t, &letters[A], walk_collect, &log), 0));
	cr_assert(eq(sz, log.n, ARRAY_SIZE(want) + 1));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		int family = parse(want[i].masked, addr);

		cr_assert(eq(int, log.items[i].family, family), "item %zu", i);
		cr_assert(eq(u8, log.items[i].cidr, want[i].cidr), "item %zu", i);
		/* memcmp, not eq(u8[16]): Criterion 2.4.1 leaks the nodes of array assertions */
		cr_assert(zero(int, memcmp(log.items[i].addr, addr, 16)), "item %zu (%s)", i,
			  want[i].masked);
	}
	parse("100.64.0.0", addr);
	cr_assert(zero(int, memcmp(log.items[ARRAY_SIZE(want)].addr, addr, 16)));
	cr_assert(eq(u8, log.items[ARRAY_SIZE(want)].cidr, 10));

	log.n = 0;
	log.stop_at = 3;
	cr_assert(eq(int, allowedips_walk_by_peer(&t, &letters[A], walk_collect, &log), 7));
	cr_assert(eq(sz, log.n, 3));
	log.n = 0;
	cr_assert(eq(int, allowedips_walk_by_peer(&t, &letters[C], walk_collect, &log), 0));
	cr_assert(eq(sz, log.n, 0));
	free(log.items);
	allowedips_free(&t);
}

static void set_bit(uint8_t addr[16], unsigned int i)
{
	addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

Test(allowedips, chain_129_deep)
{
	static struct peer p[129];
	uint8_t addr[16], ones[16];
	struct allowedips t;

	allowedips_init(&t);
	memset(ones, 0xff, sizeof(ones));
	/* ffff.../i for i = 0..128: one path of 129 routes, each inside the previous */
	for (unsigned int i = 0; i <= 128; i++)
		cr_assert(eq(int, allowedips_insert(&t, AF_INET6, ones, (uint8_t)i, &p[i]), 0));
	/* j leading ones then a zero: the longest matching route is /j */
	for (unsigned int j = 0; j <= 128; j++) {
		memset(addr, 0, sizeof(addr));
		for (unsigned int k = 0; k < j; k++)
			set_bit(addr, k);
		if (j < 127)
			set_bit(addr, 127);
		cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), &p[j]), "j=%u", j);
	}
	cr_assert(eq(int, allowedips_remove(&t, AF_INET6, ones, 64, &p[64]), 0));
	memset(addr, 0, sizeof(addr));
	memset(addr, 0xff, 8);
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), &p[63]));
	for (unsigned int i = 0; i <= 128; i++)
		allowedips_remove_by_peer(&t, &p[i]);
	cr_assert(eq(ptr, t.root6, NULL));

	/* single-bit addresses /128: a chain of 127 internal nodes, freed while full */
	for (unsigned int i = 0; i < 128; i++) {
		memset(addr, 0, sizeof(addr));
		set_bit(addr, i);
		cr_assert(eq(int, allowedips_insert(&t, AF_INET6, addr, 128, &p[i]), 0));
	}
	memset(addr, 0, sizeof(addr));
	cr_assert(eq(int, allowedips_insert(&t, AF_INET6, addr, 128, &p[128]), 0));
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), &p[128]));
	for (unsigned int i = 0; i < 128; i++) {
		memset(addr, 0, sizeof(addr));
		set_bit(addr, i);
		cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), &p[i]), "bit %u", i);
		set_bit(addr, i == 127 ? 126 : 127);
		cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET6, addr), NULL), "bit %u+", i);
	}
	allowedips_free(&t);
}

/* 255 * 256 full-length v4 and as many v6 prefixes, alternating, all on one peer */
enum { BIG_HALF = 255 * 256 };

static void big_addr(size_t i, int *family, uint8_t addr[16])
{
	size_t j = i / 2;

	memset(addr, 0, 16);
	if (i % 2 == 0) {
		*family = AF_INET;
		addr[0] = 10;
		addr[1] = (uint8_t)(j >> 8);
		addr[2] = (uint8_t)j;
		addr[3] = 1;
	} else {
		*family = AF_INET6;
		addr[0] = 0xfd;
		addr[13] = (uint8_t)(j >> 8);
		addr[14] = (uint8_t)j;
		addr[15] = 0x42;
	}
}

Test(allowedips, one_peer_130560_prefixes)
{
	struct walk_log log = { 0 };
	struct peer a = { 'a' }, b = { 'b' };
	struct allowedips t;
	uint8_t addr[16];
	int family;

	allowedips_init(&t);
	for (size_t i = 0; i < 2 * BIG_HALF; i++) {
		big_addr(i, &family, addr);
		if (allowedips_insert(&t, family, addr, family == AF_INET ? 32 : 128, &a))
			cr_fatal("insert %zu failed", i);
	}
	parse("10.0.0.0", addr);
	cr_assert(eq(int, allowedips_insert(&t, AF_INET, addr, 8, &b), 0));
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &a), 2 * BIG_HALF));
	cr_assert(eq(int, allowedips_walk_by_peer(&t, &a, walk_collect, &log), 0));
	cr_assert(eq(sz, log.n, 130560));
	for (size_t i = 0; i < log.n; i++) {
		big_addr(i, &family, addr);
		/* plain checks: a Criterion assertion per item would dominate the run time */
		if (log.items[i].family != family ||
		    log.items[i].cidr != (family == AF_INET ? 32 : 128) ||
		    memcmp(log.items[i].addr, addr, 16))
			cr_fatal("walk item %zu differs", i);
	}
	parse("10.7.7.1", addr);
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET, addr), &a));
	parse("10.255.255.1", addr);
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET, addr), &b));

	allowedips_remove_by_peer(&t, &a);
	cr_assert(eq(sz, allowedips_count_by_peer(&t, &a), 0));
	cr_assert(eq(ptr, t.root6, NULL));
	parse("10.7.7.1", addr);
	cr_assert(eq(ptr, allowedips_lookup(&t, AF_INET, addr), &b));
	allowedips_remove_by_peer(&t, &b);
	cr_assert(eq(ptr, t.root4, NULL));
	free(log.items);
	allowedips_free(&t);
}

/*
 * Randomized comparison with the naive reference (after Linux's DEBUG_RANDOM_TRIE and
 * wireguard-go's TestTrieRandom): random base prefixes plus mutated copies sharing a random
 * number of leading bits, random queries and queries near inserted prefixes, then rounds
 * that remove a batch of peers and some single prefixes and query again.
 */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r) /* splitmix64 */
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Keeps the first keep bits of addr and randomizes the rest of its bits bytes. */
static void randomize_after(struct rng *r, uint8_t addr[16], unsigned int keep, unsigned int bits)
{
	for (unsigned int i = keep; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));

		addr[i / 8] = (uint8_t)((addr[i / 8] & ~m) | (rng_next(r) & 1 ? m : 0));
	}
}

struct rand_params {
	unsigned int peers, bases, mutations, queries, batch, removals;
};

struct rand_prefix {
	int family;
	uint8_t addr[16]; /* as inserted, host bits included */
	uint8_t cidr;
};

struct rand_state {
	struct rng rng;
	uint64_t seed;
	struct rand_params p;
	struct peer *peers;
	struct rand_prefix *inserted;
	size_t n_inserted;
	struct allowedips t;
	struct allowedips_naive n;
	unsigned int round;
};

static struct rand_params rand_params(void)
{
	const char *slow = getenv("WGD_TEST_SLOW");
	struct rand_params p = { .peers = 256,
				 .bases = 300,
				 .mutations = 100,
				 .queries = 200000,
				 .batch = 48,
				 .removals = 500 };

	if (slow && *slow && strcmp(slow, "0")) {
		p.peers = 2000;
		p.bases = 400;
		p.queries = 1200000;
		p.batch = 100;
		p.removals = 2000;
	}
#if defined(__SANITIZE_ADDRESS__)
	else {
		p.queries /= 4;
	}
#endif
	return p;
}

static const char *fmt_addr(int family, const uint8_t *addr, char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(family, addr, buf, INET6_ADDRSTRLEN);
}

static void rand_insert(struct rand_state *s, int family, const uint8_t addr[16], uint8_t cidr)
{
	struct peer *peer = &s->peers[rng_below(&s->rng, s->p.peers)];
	struct rand_prefix *rp = &s->inserted[s->n_inserted++];

	rp->family = family;
	memcpy(rp->addr, addr, 16);
	rp->cidr = cidr;
	if (allowedips_insert(&s->t, family, addr, cidr, peer) ||
	    allowedips_naive_insert(&s->n, family, addr, cidr, peer))
		cr_fatal("insert %zu failed", s->n_inserted);
}

static void rand_populate(struct rand_state *s)
{
	static const int families[] = { AF_INET, AF_INET6 };
	uint8_t base[16], mutated[16];

	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		unsigned int bits = families[f] == AF_INET ? 32 : 128;

		for (unsigned int i = 0; i < s->p.bases; i++) {
			memset(base, 0, sizeof(base));
			randomize_after(&s->rng, base, 0, bits);
			rand_insert(s, families[f], base, (uint8_t)(1 + rng_below(&s->rng, bits)));
			for (unsigned int j = 0; j < s->p.mutations; j++) {
				memcpy(mutated, base, sizeof(mutated));
				randomize_after(&s->rng, mutated, rng_below(&s->rng, bits), bits);
				rand_insert(s, families[f], mutated,
					    (uint8_t)(1 + rng_below(&s->rng, bits)));
			}
		}
	}
}

/* Half uniform addresses, half sharing a random number of leading bits with a prefix. */
static int rand_query_addr(struct rand_state *s, uint8_t addr[16])
{
	const struct rand_prefix *rp;
	int family = rng_next(&s->rng) & 1 ? AF_INET : AF_INET6;
	unsigned int bits;

	memset(addr, 0, 16);
	if (rng_next(&s->rng) & 1) {
		rp = &s->inserted[rng_below(&s->rng, (uint32_t)s->n_inserted)];
		family = rp->family;
		bits = family == AF_INET ? 32 : 128;
		memcpy(addr, rp->addr, 16);
		randomize_after(&s->rng, addr, rng_below(&s->rng, bits + 1), bits);
	} else {
		randomize_after(&s->rng, addr, 0, family == AF_INET ? 32 : 128);
	}
	return family;
}

static void rand_queries(struct rand_state *s)
{
	char buf[INET6_ADDRSTRLEN];
	struct peer *got, *want;
	/* once the table is empty, a few queries show it answers nothing */
	unsigned int hits = 0, queries = s->n.count ? s->p.queries : s->p.queries / 16;
	uint8_t addr[16];
	int family;

	for (unsigned int i = 0; i < queries; i++) {
		family = rand_query_addr(s, addr);
		got = allowedips_lookup(&s->t, family, addr);
		want = allowedips_naive_lookup(&s->n, family, addr);
		if (got != want)
			cr_fatal("seed %#llx round %u query %u: %s -> %d, want %d",
				 (unsigned long long)s->seed, s->round, i,
				 fmt_addr(family, addr, buf), got ? got->id : -1,
				 want ? want->id : -1);
		/* the reference checks itself: its length probe must agree with a full scan */
		if (i % 2048 == 0 && want != allowedips_naive_lookup_scan(&s->n, family, addr))
			cr_fatal("reference disagrees with itself: seed %#llx round %u query %u",
				 (unsigned long long)s->seed, s->round, i);
		hits += want != NULL;
	}
	cr_log_info("round %u: %u of %u queries matched a prefix", s->round, hits, queries);
}

static void rand_check_walk(struct rand_state *s, const struct peer *peer)
{
	size_t count = allowedips_count_by_peer(&s->t, peer), max = count + 1;
	struct naive_prefix *want = calloc(max, sizeof(*want));
	struct walk_log log = { 0 };

	cr_assert(not(eq(ptr, want, NULL)));
	cr_assert(eq(sz, allowedips_naive_list_by_peer(&s->n, peer, want, max), count),
		  "seed %#llx round %u peer %d", (unsigned long long)s->seed, s->round, peer->id);
	cr_assert(eq(int, allowedips_walk_by_peer(&s->t, peer, walk_collect, &log), 0));
	cr_assert(eq(sz, log.n, count));
	for (size_t i = 0; i < count; i++)
		if (memcmp(&log.items[i], &want[i], sizeof(want[i])))
			cr_fatal("seed %#llx round %u peer %d item %zu",
				 (unsigned long long)s->seed, s->round, peer->id, i);
	free(log.items);
	free(want);
}

/* Single removals, right owner or not: both tables must give the same answer. */
static void rand_remove_some(struct rand_state *s)
{
	const struct rand_prefix *rp;
	struct peer *peer;
	int got, want;

	for (unsigned int i = 0; i < s->p.removals; i++) {
		rp = &s->inserted[rng_below(&s->rng, (uint32_t)s->n_inserted)];
		peer = allowedips_naive_owner(&s->n, rp->family, rp->addr, rp->cidr);
		if (!peer || rng_below(&s->rng, 4) == 0)
			peer = &s->peers[rng_below(&s->rng, s->p.peers)];
		got = allowedips_remove(&s->t, rp->family, rp->addr, rp->cidr, peer);
		want = allowedips_naive_remove(&s->n, rp->family, rp->addr, rp->cidr, peer);
		if (got != want)
			cr_fatal("seed %#llx round %u removal %u: %d, want %d",
				 (unsigned long long)s->seed, s->round, i, got, want);
	}
}

Test(allowedips, random_vs_naive)
{
	const char *seed_env = getenv("WGD_TEST_SEED");
	struct rand_state s = { .p = rand_params() };
	unsigned int removed = 0;

	s.seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x77676400a11dULL;
	s.rng.s = s.seed;
	s.peers = calloc(s.p.peers, sizeof(*s.peers));
	s.inserted = calloc((size_t)s.p.bases * (s.p.mutations + 1) * 2, sizeof(*s.inserted));
	cr_assert(s.peers && s.inserted);
	for (unsigned int i = 0; i < s.p.peers; i++)
		s.peers[i].id = (int)i;
	allowedips_init(&s.t);
	cr_assert(eq(int, allowedips_naive_init(&s.n, 1U << 17), 0));
	rand_populate(&s);
	cr_log_info("%zu distinct prefixes", s.n.count);
	cr_assert(s.n.count >= 40000, "too few distinct prefixes: %zu", s.n.count);

	for (s.round = 0;; s.round++) {
		rand_queries(&s);
		for (unsigned int k = 0; k < 8; k++)
			rand_check_walk(&s, &s.peers[rng_below(&s.rng, s.p.peers)]);
		if (removed == s.p.peers)
			break;
		rand_remove_some(&s);
		for (unsigned int k = 0; k < s.p.batch && removed < s.p.peers; k++, removed++) {
			allowedips_remove_by_peer(&s.t, &s.peers[removed]);
			allowedips_naive_remove_by_peer(&s.n, &s.peers[removed]);
			cr_assert(eq(sz, allowedips_count_by_peer(&s.t, &s.peers[removed]), 0));
		}
	}
	cr_assert(eq(ptr, s.t.root4, NULL), "seed %#llx", (unsigned long long)s.seed);
	cr_assert(eq(ptr, s.t.root6, NULL), "seed %#llx", (unsigned long long)s.seed);
	cr_assert(eq(sz, s.t.lists_len, 0));
	cr_assert(eq(sz, s.n.count, 0));
	allowedips_free(&s.t);
	allowedips_naive_free(&s.n);
	free(s.inserted);
	free(s.peers);
}
