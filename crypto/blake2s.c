/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s (RFC 7693) written from the RFC, since libsodium ships only BLAKE2b,
 * plus HMAC-BLAKE2s (RFC 2104) for WireGuard's KDF. Portable C, no SIMD.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/blake2s.h"

/* RFC 7693 §2.6: the SHA-256 initial values. */
static const uint32_t blake2s_iv[8] = {
	0x6a09e667U, 0xbb67ae85U, 0x3c6ef372U, 0xa54ff53aU,
	0x510e527fU, 0x9b05688cU, 0x1f83d9abU, 0x5be0cd19U,
};

/* RFC 7693 §2.7: message word permutations, one row per round (10 rounds). */
static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t ror32(uint32_t w, unsigned int c)
{
	return (w >> c) | (w << (32 - c));
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t w)
{
	p[0] = (uint8_t)w;
	p[1] = (uint8_t)(w >> 8);
	p[2] = (uint8_t)(w >> 16);
	p[3] = (uint8_t)(w >> 24);
}

/* RFC 7693 §3.1: the mixing function G with BLAKE2s rotations (16, 12, 8, 7). */
static inline void mix(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

/* RFC 7693 §3.2: compress one block; the counter must already include it. */
static void compress(struct blake2s_state *state, const uint8_t block[static BLAKE2S_BLOCK_LEN])
{
	uint32_t m[16], v[16];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = load_le32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = state->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= state->t[0];
	v[13] ^= state->t[1];
	v[14] ^= state->f[0];
	v[15] ^= state->f[1];
	for (i = 0; i < 10; i++) {
		const uint8_t *s = blake2s_sigma[i];

		mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
		mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
		mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
		mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
		mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
		mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
		mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
		mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (i = 0; i < 8; i++)
		state->h[i] ^= v[i] ^ v[i + 8];
	sodium_memzero(m, sizeof(m));
	sodium_memzero(v, sizeof(v));
}

/* The 64-bit byte counter t is kept as two words (RFC 7693 §2.3). */
static void increment_counter(struct blake2s_state *state, uint32_t inc)
{
	state->t[0] += inc;
	state->t[1] += (state->t[0] < inc);
}

void blake2s_init_key(struct blake2s_state *state, size_t outlen, const uint8_t *key, size_t keylen)
{
	uint8_t block[BLAKE2S_BLOCK_LEN] = { 0 };

	memset(state, 0, sizeof(*state));
	memcpy(state->h, blake2s_iv, sizeof(state->h));
	/* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
	state->h[0] ^= 0x01010000U ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
	state->outlen = outlen;
	if (keylen) {
		/* RFC 7693 §3.3: the key, zero-padded, is the first data block. */
		memcpy(block, key, keylen);
		blake2s_update(state, block, BLAKE2S_BLOCK_LEN);
		sodium_memzero(block, sizeof(block));
	}
}

void blake2s_init(struct blake2s_state *state, size_t outlen)
{
	blake2s_init_key(state, outlen, NULL, 0);
}

void blake2s_update(struct blake2s_state *state, const uint8_t *in, size_t inlen)
{
	size_t fill = BLAKE2S_BLOCK_LEN - state->buflen;

	if (!inlen)
		return;
	/*
	 * A full buffer is compressed only once more input arrives: the last
	 * block must wait for final() to set the finalization flag.
	 */
	if (inlen > fill) {
		memcpy(state->buf + state->buflen, in, fill);
		increment_counter(state, BLAKE2S_BLOCK_LEN);
		compress(state, state->buf);
		state->buflen = 0;
		in += fill;
		inlen -= fill;
		while (inlen > BLAKE2S_BLOCK_LEN) {
			increment_counter(state, BLAKE2S_BLOCK_LEN);
			compress(state, in);
			in += BLAKE2S_BLOCK_LEN;
			inlen -= BLAKE2S_BLOCK_LEN;
		}
	}
	memcpy(state->buf + state->buflen, in, inlen);
	state->buflen += inlen;
}

void blake2s_final(struct blake2s_state *state, uint8_t *out)
{
	uint8_t digest[BLAKE2S_HASH_LEN];
	int i;

	increment_counter(state, (uint32_t)state->buflen);
	state->f[0] = UINT32_MAX;
	memset(state->buf + state->buflen, 0, BLAKE2S_BLOCK_LEN - state->buflen);
	compress(state, state->buf);
	for (i = 0; i < 8; i++)
		store_le32(digest + 4 * i, state->h[i]);
	memcpy(out, digest, state->outlen);
	sodium_memzero(digest, sizeof(digest));
	sodium_memzero(state, sizeof(*state));
}

void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen, const uint8_t *key,
	     size_t keylen)
{
	struct blake2s_state state;

	blake2s_init_key(&state, outlen, key, keylen);
	blake2s_update(&state, in, inlen);
	blake2s_final(&state, out);
}

void blake2s_hmac(uint8_t out[static BLAKE2S_HASH_LEN], const uint8_t *in, size_t inlen,
		  const uint8_t *key, size_t keylen)
{
	struct blake2s_state state;
	uint8_t x_key[BLAKE2S_BLOCK_LEN] = { 0 };
	uint8_t i_hash[BLAKE2S_HASH_LEN];
	int i;

	/* RFC 2104 §2: keys longer than the block are hashed first. */
	if (keylen > BLAKE2S_BLOCK_LEN)
		blake2s(x_key, BLAKE2S_HASH_LEN, key, keylen, NULL, 0);
	else if (keylen)
		memcpy(x_key, key, keylen);

	for (i = 0; i < BLAKE2S_BLOCK_LEN; i++)
		x_key[i] ^= 0x36;
	blake2s_init(&state, BLAKE2S_HASH_LEN);
	blake2s_update(&state, x_key, BLAKE2S_BLOCK_LEN);
	blake2s_update(&state, in, inlen);
	blake2s_final(&state, i_hash);

	/* 0x36 ^ 0x5c turns the inner pad into the outer pad. */
	for (i = 0; i < BLAKE2S_BLOCK_LEN; i++)
		x_key[i] ^= 0x5c ^ 0x36;
	blake2s_init(&state, BLAKE2S_HASH_LEN);
	blake2s_update(&state, x_key, BLAKE2S_BLOCK_LEN);
	blake2s_update(&state, i_hash, BLAKE2S_HASH_LEN);
	blake2s_final(&state, out);

	sodium_memzero(x_key, sizeof(x_key));
	sodium_memzero(i_hash, sizeof(i_hash));
}
