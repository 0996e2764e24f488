/* SPDX-License-Identifier: MIT */
/*
 * cfg.c: adding, finding and clearing staged peers and allowed IPs, including growth
 * far past the initial capacity with every element checked afterwards.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "wgd/cfg.h"

static void key_fill(uint8_t key[NOISE_PUBLIC_KEY_LEN], uint32_t n)
{
	memset(key, 0x5a, NOISE_PUBLIC_KEY_LEN);
	memcpy(key, &n, sizeof(n));
}

static bool is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		if (b[i])
			return false;
	}
	return true;
}

Test(cfg, add_returns_zeroed_peer)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *p;

	p = cfg_device_add_peer(&cfg);
	cr_assert(not(eq(ptr, p, NULL)));
	cr_assert(is_zero(p, sizeof(*p)));
	cr_assert(eq(sz, cfg.peers_len, 1));
	memset(p->preshared_key, 0xff, sizeof(p->preshared_key));
	p->flags = CFG_PEER_REMOVE_ME;
	cfg_device_clear(&cfg);
	/* after a clear the slot comes back zeroed, not with the old flags */
	p = cfg_device_add_peer(&cfg);
	cr_assert(is_zero(p, sizeof(*p)));
	cfg_device_clear(&cfg);
}

Test(cfg, find_by_public_key)
{
	struct cfg_device cfg = { 0 };
	uint8_t k[NOISE_PUBLIC_KEY_LEN];

	for (uint32_t i = 0; i < 5; i++)
		key_fill(cfg_device_add_peer(&cfg)->public_key, i);
	for (uint32_t i = 0; i < 5; i++) {
		key_fill(k, i);
		cr_assert(eq(ptr, cfg_device_find_peer(&cfg, k), &cfg.peers[i]), "peer %u", i);
	}
	key_fill(k, 5);
	cr_assert(eq(ptr, cfg_device_find_peer(&cfg, k), NULL));
	cfg_device_clear(&cfg);
	key_fill(k, 0);
	cr_assert(eq(ptr, cfg_device_find_peer(&cfg, k), NULL));
}

Test(cfg, clear_zeroes_everything)
{
	struct cfg_device cfg = { 0 };
	struct cfg_allowedip aip = { .family = AF_INET, .cidr = 8 };
	struct cfg_peer *p;

	memset(cfg.private_key, 0x77, sizeof(cfg.private_key));
	cfg.flags = CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_REPLACE_PEERS;
	cfg.listen_port = 51820;
	p = cfg_device_add_peer(&cfg);
	cr_assert(eq(int, cfg_peer_add_allowedip(p, &aip), 0));
	cfg_device_clear(&cfg);
	cr_assert(is_zero(&cfg, sizeof(cfg)));
	cfg_device_clear(&cfg); /* idempotent on an empty cfg */
	cr_assert(is_zero(&cfg, sizeof(cfg)));
}

Test(cfg, peers_grow_and_keep_content)
{
	enum { N = 5000 };
	struct cfg_device cfg = { 0 };
	uint8_t k[NOISE_PUBLIC_KEY_LEN];
	struct cfg_peer *p;

	for (uint32_t i = 0; i < N; i++) {
		p = cfg_device_add_peer(&cfg);
		cr_assert(not(eq(ptr, p, NULL)));
		key_fill(p->public_key, i);
		p->persistent_keepalive_s = (uint16_t)i;
	}
	cr_assert(eq(sz, cfg.peers_len, N));
	cr_assert(ge(sz, cfg.peers_cap, N));
	for (uint32_t i = 0; i < N; i++) {
		key_fill(k, i);
		cr_assert(eq(int, memcmp(cfg.peers[i].public_key, k, sizeof(k)), 0), "peer %u", i);
		cr_assert(eq(u16, cfg.peers[i].persistent_keepalive_s, (uint16_t)i));
	}
	cfg_device_clear(&cfg);
}

Test(cfg, allowedips_grow_in_order)
{
	enum { N = 130560 }; /* the 255 * 512 lines of the big wg setconf case */
	struct cfg_device cfg = { 0 };
	struct cfg_allowedip aip = { .family = AF_INET, .cidr = 32 };
	struct cfg_peer *p = cfg_device_add_peer(&cfg);

	for (uint32_t i = 0; i < N; i++) {
		aip.ip4.s_addr = htonl(0x0a000000U + i);
		aip.is_removal = i & 1;
		cr_assert(eq(int, cfg_peer_add_allowedip(p, &aip), 0));
	}
	/* a second peer added after the first grew must not disturb the first's array */
	cr_assert(not(eq(ptr, cfg_device_add_peer(&cfg), NULL)));
	p = &cfg.peers[0];
	cr_assert(eq(sz, p->allowedips_len, N));
	for (uint32_t i = 0; i < N; i++) {
		cr_assert(eq(u32, ntohl(p->allowedips[i].ip4.s_addr), 0x0a000000U + i));
		cr_assert(eq(int, p->allowedips[i].family, AF_INET));
		cr_assert(eq(int, p->allowedips[i].is_removal, (int)(i & 1)));
	}
	cfg_device_clear(&cfg);
}
