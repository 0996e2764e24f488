/* SPDX-License-Identifier: MIT */
/*
 * The staged-packet pool shared by a device's peers (wgd/packet.h, send.c): eight offline
 * peers with full queues (8 x MAX_STAGED_PACKETS = PACKET_POOL_MAX buffers) must not keep
 * a ninth peer from staging and starting its handshake, must not stop keepalives, and
 * each peer keeps a share of PACKET_POOL_MAX / peers buffers.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "device_harness.h"

enum { OFFLINE = 8 };

static struct harness a, b;

/* A keyless peer of a: public key bytes all `seed`, 10.9.<seed>.1/32, endpoint 192.0.2.<seed>. */
static struct peer *add_offline_peer(uint8_t seed)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp = cfg_device_add_peer(&cfg);
	uint8_t key[32];
	char aip[32];

	cr_assert_not_null(cp);
	memset(key, seed, sizeof(key));
	memcpy(cp->public_key, key, sizeof(key));
	cp->endpoint.in4.sin_family = AF_INET;
	cp->endpoint.in4.sin_port = htons(51820);
	cp->endpoint.in4.sin_addr.s_addr = htonl(0xc0000200 | seed);
	cp->flags = CFG_PEER_HAS_ENDPOINT | CFG_PEER_REPLACE_ALLOWEDIPS;
	snprintf(aip, sizeof(aip), "10.9.%u.1", seed);
	h_add_aip(cp, AF_INET, aip, 32);
	cr_assert_eq(device_apply_cfg(a.dev, &cfg, H_T0), 0);
	cfg_device_clear(&cfg);
	return device_lookup_peer(a.dev, key);
}

/* n packets from the TUN to offline peer `seed` at time now. */
static void to_offline(uint8_t seed, unsigned int n, uint64_t now)
{
	char dst[32];

	snprintf(dst, sizeof(dst), "10.9.%u.1", seed);
	for (unsigned int i = 0; i < n; i++)
		h_tun_packet(&a, "10.0.0.1", dst, 100, now);
}

/* Peers 1..8 offline with MAX_STAGED_PACKETS each: the pool is exhausted. */
static void exhaust_pool(struct peer *p[OFFLINE], uint64_t now)
{
	for (uint8_t i = 0; i < OFFLINE; i++) {
		p[i] = add_offline_peer(i + 1);
		cr_assert_not_null(p[i]);
	}
	for (uint8_t i = 0; i < OFFLINE; i++)
		to_offline(i + 1, MAX_STAGED_PACKETS, now);
	for (uint8_t i = 0; i < OFFLINE; i++)
		cr_assert_eq(p[i]->staged.len, MAX_STAGED_PACKETS);
	cr_assert_eq(a.dev->pool.allocated, PACKET_POOL_MAX);
	cr_assert(packet_pool_exhausted(&a.dev->pool));
}

static size_t count_type(const struct harness *h, uint32_t type, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nsent; i++)
		n += h_type(&h->sent[i]) == type && (!len || h->sent[i].len == len);
	return n;
}

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(staged, .init = setup, .fini = teardown);

/* A ninth keyless peer still stages its packet and sends its handshake initiation. */
Test(staged, ninth_peer_starts_handshake_on_exhausted_pool)
{
	struct peer *p[OFFLINE], *ninth;

	exhaust_pool(p, H_T0);
	ninth = add_offline_peer(9);
	a.nsent = 0;
	to_offline(9, 1, H_T0 + MS(1));
	cr_assert_eq(count_type(&a, MESSAGE_HANDSHAKE_INITIATION, 0), 1, "no handshake started");
	cr_assert_eq(ninth->staged.len, 1);
	cr_assert_eq(a.dev->pool.allocated, PACKET_POOL_MAX);
}

/*
 * Each of the nine peers keeps PACKET_POOL_MAX / 9 = 113 buffers: the ninth, flooding,
 * stops at its share; the longest queues gave theirs up, so none fell below it.
 */
Test(staged, every_peer_keeps_its_share)
{
	struct peer *p[OFFLINE], *ninth;
	size_t share = PACKET_POOL_MAX / (OFFLINE + 1), total;

	exhaust_pool(p, H_T0);
	ninth = add_offline_peer(9);
	to_offline(9, 300, H_T0 + MS(1));
	cr_assert_eq(ninth->staged.len, share);
	total = ninth->staged.len;
	for (int i = 0; i < OFFLINE; i++) {
		cr_assert_geq(p[i]->staged.len, share, "peer %d: %zu", i + 1, p[i]->staged.len);
		total += p[i]->staged.len;
	}
	cr_assert_eq(total, PACKET_POOL_MAX);
	/* the offline peers flooding again only recycle their own buffers */
	to_offline(1, 50, H_T0 + MS(2));
	cr_assert_eq(ninth->staged.len, share);
}

/* Hands a's captured data messages to b; how many b authenticated (by rx_bytes). */
static size_t deliver_data(uint64_t now)
{
	struct peer *pa = b.dev->peers_first;
	uint64_t rx = pa->rx_bytes;

	for (size_t i = 0; i < a.nsent; i++)
		if (h_type(&a.sent[i]) == MESSAGE_DATA)
			h_receive(&b, &a, a.sent[i].buf, a.sent[i].len, now);
	a.nsent = 0;
	return (size_t)(pa->rx_bytes - rx) / message_data_len(0);
}

/*
 * b has a session with a, whose eight other peers hold the whole pool. a's passive
 * keepalive (10 s after b's data) and then its persistent keepalive (25 s after that)
 * still leave, and b accepts them.
 */
Test(staged, keepalives_without_a_pool_buffer)
{
	struct peer *p[OFFLINE], *pb = h_add_peer(&a, &b, "10.0.0.2", 32, 25);

	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0);
	h_converse(&a, &b, H_T0);
	cr_assert(pb->keypairs.current.sending.is_valid);
	exhaust_pool(p, H_T0 + S(1));
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, H_T0 + S(1));
	h_deliver(&b, &a, H_T0 + S(1));
	a.nsent = 0;
	h_run(&a, H_T0 + S(12));
	cr_assert_eq(count_type(&a, MESSAGE_DATA, message_data_len(0)), 1, "no passive keepalive");
	cr_assert_eq(deliver_data(H_T0 + S(12)), 1);
	h_run(&a, H_T0 + S(37));
	cr_assert_eq(count_type(&a, MESSAGE_DATA, message_data_len(0)), 1,
		     "no persistent keepalive");
	cr_assert_eq(deliver_data(H_T0 + S(37)), 1);
}
