/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's KDF against wireguard-go's TestKDF vectors and a Python-computed
 * full-key vector (tests/vectors/kdf_vectors.h), KDF1/2/3 prefixes, in-place use,
 * and the handshake's initial chaining key and hash (PROTOCOL.md c.3).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "crypto/blake2s.h"
#include "crypto/kdf.h"
#include "tests/vectors/kdf_vectors.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void unhex(uint8_t out[NOISE_HASH_LEN], const char *hex)
{
	cr_assert(eq(sz, strlen(hex), 2 * NOISE_HASH_LEN));
	for (size_t i = 0; i < NOISE_HASH_LEN; i++) {
		unsigned int b;

		cr_assert(eq(int, sscanf(hex + 2 * i, "%2x", &b), 1));
		out[i] = (uint8_t)b;
	}
}

struct kdf_case {
	uint8_t key[NOISE_HASH_LEN];
	const uint8_t *in;
	size_t inlen;
	uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];
};

static void load_case(struct kdf_case *c, size_t i)
{
	const struct kdf_vector *v = &kdf_vectors[i];

	memset(c->key, 0, sizeof(c->key));
	memcpy(c->key, v->key, strlen(v->key));
	c->in = (const uint8_t *)v->input;
	c->inlen = strlen(v->input);
	unhex(c->t1, v->t1);
	unhex(c->t2, v->t2);
	unhex(c->t3, v->t3);
}

Test(kdf, kdf3_vectors)
{
	uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];
	struct kdf_case c;

	for (size_t i = 0; i < ARRAY_SIZE(kdf_vectors); i++) {
		load_case(&c, i);
		kdf(t1, t2, t3, c.key, c.in, c.inlen);
		cr_assert(eq(u8[32], t1, c.t1), "case %zu t1", i);
		cr_assert(eq(u8[32], t2, c.t2), "case %zu t2", i);
		cr_assert(eq(u8[32], t3, c.t3), "case %zu t3", i);
	}
}

Test(kdf, kdf2_and_kdf1_are_prefixes)
{
	uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN];
	struct kdf_case c;

	for (size_t i = 0; i < ARRAY_SIZE(kdf_vectors); i++) {
		load_case(&c, i);
		kdf(t1, t2, NULL, c.key, c.in, c.inlen);
		cr_assert(eq(u8[32], t1, c.t1), "KDF2 case %zu t1", i);
		cr_assert(eq(u8[32], t2, c.t2), "KDF2 case %zu t2", i);
		memset(t1, 0, sizeof(t1));
		kdf(t1, NULL, NULL, c.key, c.in, c.inlen);
		cr_assert(eq(u8[32], t1, c.t1), "KDF1 case %zu", i);
	}
}

Test(kdf, full_32_byte_key)
{
	uint8_t key[NOISE_HASH_LEN], in[NOISE_HASH_LEN], want[NOISE_HASH_LEN];
	uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];

	for (size_t i = 0; i < NOISE_HASH_LEN; i++) {
		key[i] = (uint8_t)(0x80 + i);
		in[i] = (uint8_t)i;
	}
	kdf(t1, t2, t3, key, in, sizeof(in));
	unhex(want, kdf_full_key.t1);
	cr_assert(eq(u8[32], t1, want));
	unhex(want, kdf_full_key.t2);
	cr_assert(eq(u8[32], t2, want));
	unhex(want, kdf_full_key.t3);
	cr_assert(eq(u8[32], t3, want));
}

/* The handshake writes the new chaining key over the old one: C = KDF1(C, x). */
Test(kdf, outputs_may_alias_key)
{
	uint8_t buf[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];
	struct kdf_case c;

	for (size_t i = 0; i < ARRAY_SIZE(kdf_vectors); i++) {
		load_case(&c, i);
		memcpy(buf, c.key, sizeof(buf));
		kdf(buf, NULL, NULL, buf, c.in, c.inlen);
		cr_assert(eq(u8[32], buf, c.t1), "t1 over key, case %zu", i);

		memcpy(buf, c.key, sizeof(buf));
		kdf(t2, buf, t3, buf, c.in, c.inlen);
		cr_assert(eq(u8[32], t2, c.t1), "case %zu t1", i);
		cr_assert(eq(u8[32], buf, c.t2), "t2 over key, case %zu", i);
		cr_assert(eq(u8[32], t3, c.t3), "case %zu t3", i);
	}
}

Test(kdf, handshake_initial_constants)
{
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN], want[NOISE_HASH_LEN];
	struct blake2s_state state;

	blake2s(ck, sizeof(ck), (const uint8_t *)VEC_NOISE_CONSTRUCTION,
		strlen(VEC_NOISE_CONSTRUCTION), NULL, 0);
	unhex(want, VEC_NOISE_CK0_HEX);
	cr_assert(eq(u8[32], ck, want));

	blake2s_init(&state, NOISE_HASH_LEN);
	blake2s_update(&state, ck, sizeof(ck));
	blake2s_update(&state, (const uint8_t *)VEC_NOISE_IDENTIFIER, strlen(VEC_NOISE_IDENTIFIER));
	blake2s_final(&state, h);
	unhex(want, VEC_NOISE_H0_HEX);
	cr_assert(eq(u8[32], h, want));
}
