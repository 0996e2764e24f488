/* SPDX-License-Identifier: MIT */
/*
 * The loop thread's AEAD lane in a device (wgd/aead.c wired into send.c, receive.c and
 * device.c): large packets go through it and arrive intact, it holds the session's key
 * only until the entry point ends (device_rearm forgets it, so no key copy outlives a
 * burst, whitepaper §6.4), small packets never key it, and a key rotation in the middle
 * of traffic is followed.
 */
#include <criterion/criterion.h>

#include "device_harness.h"
#include "wgd/aead.h"

static struct harness a, b;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	h_add_peer(&a, &b, "10.0.0.0", 24, 0);
	h_add_peer(&b, &a, "10.0.1.1", 32, 0);
	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", 8, H_T0);
	h_converse(&a, &b, H_T0);
	cr_assert(a.dev->peers_first->keypairs.current.sending.is_valid);
	b.ntun = 0;
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(lane, .init = setup, .fini = teardown);

static bool lane_holds(const struct device *dev, bool sealing, const uint8_t *key)
{
	return !memcmp(aead_lane_key_for_test(dev->aead, sealing), key, NOISE_SYMMETRIC_KEY_LEN);
}

static bool lane_empty(const struct device *dev)
{
	return sodium_is_zero(aead_lane_key_for_test(dev->aead, true), NOISE_SYMMETRIC_KEY_LEN) &&
	       sodium_is_zero(aead_lane_key_for_test(dev->aead, false), NOISE_SYMMETRIC_KEY_LEN);
}

/* a sends payload bytes to b; b must write the same packet to its TUN. */
static void send_and_check(size_t payload, uint64_t now)
{
	uint8_t want[H_BUF];
	size_t len = h_ipv4(want, "10.0.1.1", "10.0.0.2", payload);

	b.ntun = 0;
	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", payload, now);
	cr_assert_eq(h_deliver(&a, &b, now), 1);
	cr_assert_eq(b.ntun, 1);
	cr_assert_eq(b.tun[0].len, len);
	cr_assert(!memcmp(b.tun[0].buf, want, len), "%zu-byte payload changed in transit", payload);
}

Test(lane, large_packets_key_it_until_the_entry_point_ends)
{
	struct peer *pa = a.dev->peers_first, *pb = b.dev->peers_first;

	device_rearm(a.dev);
	device_rearm(b.dev);
	cr_assert(lane_empty(a.dev) && lane_empty(b.dev));
	send_and_check(1000, H_T0 + MS(1));
	cr_assert(lane_holds(a.dev, true, pa->keypairs.current.sending.key),
		  "a's lane did not seal the 1000-byte packet");
	cr_assert(lane_holds(b.dev, false, pb->keypairs.current.receiving.key),
		  "b's lane did not open it");
	device_rearm(a.dev);
	device_rearm(b.dev);
	cr_assert(lane_empty(a.dev), "a's lane kept a key after its entry point");
	cr_assert(lane_empty(b.dev), "b's lane kept a key after its entry point");
}

Test(lane, small_packets_stay_on_libsodium)
{
	device_rearm(a.dev);
	device_rearm(b.dev);
	for (size_t payload = 0; payload + 20 + 16 <= AEAD_OPENSSL_MIN_LEN; payload += 7)
		send_and_check(payload, H_T0 + MS(1));
	cr_assert(lane_empty(a.dev) && lane_empty(b.dev));
}

/*
 * Every size from the threshold's neighbourhood up to the MTU, without forgetting in
 * between, then a new session: the lane must follow the rotated key (a keypair slot is
 * rewritten in place, so the key's address may not change).
 */
Test(lane, sizes_and_key_rotation)
{
	struct noise_keypair *kp = &a.dev->peers_first->keypairs.current;
	uint8_t old[NOISE_SYMMETRIC_KEY_LEN];

	for (size_t payload = AEAD_OPENSSL_MIN_LEN - 60; payload <= 1400; payload += 13)
		send_and_check(payload, H_T0 + MS(2));
	memcpy(old, kp->sending.key, sizeof(old));
	cr_assert(lane_holds(a.dev, true, old));
	/* REKEY_AFTER_MESSAGES reached: a initiates on its next send (past REKEY_TIMEOUT) */
	kp->sending_counter = REKEY_AFTER_MESSAGES + 1;
	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", 1000, H_T0 + S(6));
	h_converse(&a, &b, H_T0 + S(6));
	cr_assert(memcmp(kp->sending.key, old, sizeof(old)), "no new session");
	for (size_t payload = 200; payload <= 1400; payload += 100)
		send_and_check(payload, H_T0 + S(7));
	cr_assert(lane_holds(a.dev, true, kp->sending.key), "a's lane kept the old key");
	cr_assert(lane_holds(b.dev, false, b.dev->peers_first->keypairs.current.receiving.key));
}
