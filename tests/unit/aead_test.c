/* SPDX-License-Identifier: MIT */
/*
 * wgd/aead.c against crypto/data.c (libsodium) as the reference: random keys, counters
 * and payloads at sizes 0..65535 (every size up to 320, a window around each boundary
 * that matters, and a random sample), sealed by one and opened by the other in both
 * directions, on the OpenSSL path and on the size-chosen one; tampered messages are
 * refused and their payload wiped; one lane reused across keys (also a key rewritten
 * in place under the same pointer, as a keypair slot is) never uses a stale key; and
 * aead_lane_forget leaves no key in the lane.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/data.h"
#include "wgd/aead.h"

#define HDR	sizeof(struct message_data)
#define MAX_LEN 65535

static struct aead_lane *lane;
static uint8_t *plain, *ref, *got;

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	lane = aead_lane_new();
	cr_assert(lane);
	plain = malloc(message_data_len(MAX_LEN + 1));
	ref = malloc(message_data_len(MAX_LEN + 1));
	got = malloc(message_data_len(MAX_LEN + 1));
	cr_assert(plain && ref && got);
}

static void teardown(void)
{
	aead_lane_free(lane);
	free(plain);
	free(ref);
	free(got);
}

TestSuite(aead, .init = setup, .fini = teardown);

/* Sizes to test: dense where size classes, SIMD block widths and the MTU change. */
static size_t sizes(size_t *out, size_t cap)
{
	static const size_t edges[] = { 512,  1024, 1280, 1420,	 1500,	2048,
					4096, 8192, 9000, 16384, 32768, 65536 - 64 };
	size_t n = 0;

	for (size_t s = 0; s <= 320 && n < cap; s++)
		out[n++] = s;
	for (size_t e = 0; e < sizeof(edges) / sizeof(*edges); e++)
		for (size_t s = edges[e] - 17; s <= edges[e] + 17 && n < cap; s++)
			out[n++] = s;
	for (size_t s = MAX_LEN - 40; s <= MAX_LEN && n < cap; s++)
		out[n++] = s;
	while (n < cap)
		out[n++] = randombytes_uniform(MAX_LEN + 1);
	return n;
}

static uint64_t random_counter(void)
{
	uint64_t c;

	randombytes_buf(&c, sizeof(c));
	/* small, large and near REJECT_AFTER_MESSAGES: the nonce's every byte */
	switch (randombytes_uniform(3)) {
	case 0:
		return c & 0xffff;
	case 1:
		return REJECT_AFTER_MESSAGES - 1 - (c & 0xff);
	default:
		return c;
	}
}

/* Seals len bytes of plain into ref (libsodium) and got (the lane), padded to padded. */
static size_t seal_both(size_t len, size_t padded, const uint8_t *key, uint32_t idx, uint64_t ctr)
{
	size_t a, b;

	memcpy(ref + HDR, plain, len);
	/* garbage where the padding goes: both must zero it themselves */
	memset(got + HDR + len, 0xa5, padded - len);
	memcpy(got + HDR, plain, len);
	memset(ref + HDR + len, 0x5a, padded - len);
	a = data_seal(ref, len, padded, key, idx, ctr);
	b = aead_seal(lane, got, len, padded, key, idx, ctr);
	cr_assert_eq(a, b, "length %zu: seal returned %zu, libsodium %zu", len, b, a);
	cr_assert_eq(a, message_data_len(padded));
	cr_assert(!memcmp(ref, got, a), "length %zu (padded %zu): sealed bytes differ", len,
		  padded);
	return a;
}

/* Opens ref with the lane and got with libsodium; both must give plain back. */
static void open_both(size_t msg_len, size_t len, const uint8_t *key, uint64_t ctr)
{
	size_t pl_a = 0, pl_b = 0;
	uint64_t n_a = 0, n_b = 0;

	cr_assert(aead_open(lane, ref, msg_len, key, &pl_a, &n_a), "lane refused %zu bytes", len);
	cr_assert(data_open(got, msg_len, key, &pl_b, &n_b), "libsodium refused the lane's %zu",
		  len);
	cr_assert(pl_a == pl_b && n_a == ctr && n_b == ctr);
	cr_assert(!memcmp(ref + HDR, plain, len) && !memcmp(got + HDR, plain, len),
		  "length %zu: opened payload differs", len);
}

static void differential(enum aead_impl impl)
{
	static size_t list[2000];
	size_t n = sizes(list, sizeof(list) / sizeof(*list));
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];

	aead_lane_force(lane, impl);
	for (size_t i = 0; i < n; i++) {
		size_t len = list[i], padded, msg_len;
		uint64_t ctr = random_counter();
		uint32_t idx = randombytes_random();

		/* a new key every few sizes: the lane re-keys, and keeps keys in between */
		if (i % 7 == 0)
			randombytes_buf(key, sizeof(key));
		randombytes_buf(plain, len);
		padded = i % 2 ? len : data_padded_len(len, 1420);
		if (padded > MAX_LEN + 1)
			padded = len;
		msg_len = seal_both(len, padded, key, idx, ctr);
		open_both(msg_len, len, key, ctr);
		if (i % 64 == 0)
			aead_lane_forget(lane);
	}
}

Test(aead, differential_openssl)
{
	differential(AEAD_OPENSSL);
}

Test(aead, differential_auto)
{
	differential(AEAD_AUTO);
}

Test(aead, differential_sodium)
{
	differential(AEAD_SODIUM);
}

/* Flips one bit at pos of a sealed copy: refused, and the payload left wiped. */
static void check_tampered(size_t msg_len, size_t pos, const uint8_t *key)
{
	size_t pl;
	uint64_t nonce;

	memcpy(got, ref, msg_len);
	got[pos] ^= (uint8_t)(1u << randombytes_uniform(8));
	cr_assert(!aead_open(lane, got, msg_len, key, &pl, &nonce),
		  "%zu-byte message with byte %zu flipped was accepted", msg_len, pos);
	/* past the type check OpenSSL has decrypted (libsodium zeroes too): nothing stays */
	if (pos >= 4)
		for (size_t i = HDR; i < msg_len - NOISE_AUTHTAG_LEN; i++)
			cr_assert(got[i] == 0, "byte %zu of a refused message not wiped", i);
}

/*
 * Every byte but the receiver index, which is not authenticated (whitepaper §5.4.6: it
 * only selects the key), of the header, the tag and a stride through the ciphertext.
 */
Test(aead, tampered_refused)
{
	static const size_t lens[] = { 0, 1, 16, 100, 191, 192, 193, 512, 1420, 9000, MAX_LEN };
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];

	for (int impl = AEAD_AUTO; impl <= AEAD_OPENSSL; impl++) {
		aead_lane_force(lane, (enum aead_impl)impl);
		for (size_t l = 0; l < sizeof(lens) / sizeof(*lens); l++) {
			size_t len = lens[l], msg_len;

			randombytes_buf(key, sizeof(key));
			randombytes_buf(plain, len);
			msg_len = seal_both(len, len, key, 7, random_counter());
			for (size_t pos = 0; pos < msg_len;
			     pos += (pos < HDR || pos >= msg_len - NOISE_AUTHTAG_LEN) ? 1 : 97)
				if (pos < 4 || pos >= 8)
					check_tampered(msg_len, pos, key);
			/* the wrong key, a truncated message */
			memcpy(got, ref, msg_len);
			key[0] ^= 1;
			cr_assert(!aead_open(lane, got, msg_len, key, &(size_t){ 0 },
					     &(uint64_t){ 0 }));
			key[0] ^= 1;
			memcpy(got, ref, msg_len);
			cr_assert(!aead_open(lane, got, msg_len - 1, key, &(size_t){ 0 },
					     &(uint64_t){ 0 }));
			/* and the original still opens afterwards on the same lane */
			memcpy(got, ref, msg_len);
			cr_assert(aead_open(lane, got, msg_len, key, &(size_t){ 0 },
					    &(uint64_t){ 0 }));
		}
	}
}

Test(aead, too_short_or_wrong_type)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN] = { 1 };

	aead_lane_force(lane, AEAD_OPENSSL);
	memset(plain, 0, 64);
	seal_both(0, 0, key, 1, 1);
	for (size_t len = 0; len < MESSAGE_MINIMUM_LENGTH; len++)
		cr_assert(!aead_open(lane, ref, len, key, &(size_t){ 0 }, &(uint64_t){ 0 }));
	ref[0] = MESSAGE_HANDSHAKE_COOKIE;
	cr_assert(!aead_open(lane, ref, MESSAGE_MINIMUM_LENGTH, key, &(size_t){ 0 },
			     &(uint64_t){ 0 }));
}

/*
 * A keypair slot is rewritten in place when keys rotate, so the same key pointer can
 * hold a new key from one packet to the next: the lane must compare the key, not its
 * address. Alternating keys and directions on one lane, too.
 */
Test(aead, lane_reuse_across_keys)
{
	uint8_t slot[NOISE_SYMMETRIC_KEY_LEN], other[NOISE_SYMMETRIC_KEY_LEN];

	aead_lane_force(lane, AEAD_OPENSSL);
	randombytes_buf(other, sizeof(other));
	for (unsigned int i = 0; i < 200; i++) {
		size_t len = 192 + randombytes_uniform(1400), msg_len;
		const uint8_t *key = i % 3 == 2 ? other : slot;

		if (i % 3 == 0)
			randombytes_buf(slot, sizeof(slot)); /* same address, new key */
		randombytes_buf(plain, len);
		msg_len = seal_both(len, len, key, i, i);
		open_both(msg_len, len, key, i);
	}
}

static bool is_zero(const uint8_t *b, size_t len)
{
	return sodium_is_zero(b, len) == 1;
}

Test(aead, forget_wipes_keys)
{
	uint8_t k_seal[NOISE_SYMMETRIC_KEY_LEN], k_open[NOISE_SYMMETRIC_KEY_LEN];
	size_t msg_len;

	aead_lane_force(lane, AEAD_OPENSSL);
	randombytes_buf(k_seal, sizeof(k_seal));
	randombytes_buf(k_open, sizeof(k_open));
	randombytes_buf(plain, 1420);
	(void)seal_both(1420, 1420, k_seal, 1, 1);
	msg_len = seal_both(1420, 1420, k_open, 1, 2);
	open_both(msg_len, 1420, k_open, 2);
	cr_assert(!memcmp(aead_lane_key_for_test(lane, true), k_open, sizeof(k_open)),
		  "the lane should hold the last sealing key");
	cr_assert(!memcmp(aead_lane_key_for_test(lane, false), k_open, sizeof(k_open)));
	aead_lane_forget(lane);
	cr_assert(is_zero(aead_lane_key_for_test(lane, true), NOISE_SYMMETRIC_KEY_LEN),
		  "forget left the sealing key");
	cr_assert(is_zero(aead_lane_key_for_test(lane, false), NOISE_SYMMETRIC_KEY_LEN),
		  "forget left the opening key");
	/* a forgotten lane keys itself again */
	msg_len = seal_both(1420, 1420, k_seal, 1, 3);
	open_both(msg_len, 1420, k_seal, 3);
	aead_lane_forget(lane);
	aead_lane_forget(lane); /* twice is harmless */
	cr_assert(is_zero(aead_lane_key_for_test(lane, true), NOISE_SYMMETRIC_KEY_LEN));
}

/* Small packets never reach OpenSSL on the size-chosen path: its key copy stays empty. */
Test(aead, auto_keeps_small_packets_on_libsodium)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN] = { 9 };

	aead_lane_force(lane, AEAD_AUTO);
	aead_lane_forget(lane);
	randombytes_buf(plain, AEAD_OPENSSL_MIN_LEN);
	(void)seal_both(AEAD_OPENSSL_MIN_LEN - 1, AEAD_OPENSSL_MIN_LEN - 1, key, 1, 1);
	cr_assert(is_zero(aead_lane_key_for_test(lane, true), NOISE_SYMMETRIC_KEY_LEN));
	(void)seal_both(AEAD_OPENSSL_MIN_LEN, AEAD_OPENSSL_MIN_LEN, key, 1, 1);
	cr_assert(!memcmp(aead_lane_key_for_test(lane, true), key, sizeof(key)));
}
