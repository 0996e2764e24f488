/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s-256 (RFC 7693): one-shot, streaming and keyed; HMAC-BLAKE2s (RFC 2104)
 * as WireGuard's HKDF uses it. Pure computation: no I/O, no allocation.
 */
#ifndef WGD_BLAKE2S_H
#define WGD_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

enum blake2s_lengths {
	BLAKE2S_BLOCK_LEN = 64,
	BLAKE2S_HASH_LEN = 32,
	BLAKE2S_KEY_LEN = 32,
};

struct blake2s_state {
	uint32_t h[8];
	uint32_t t[2];
	uint32_t f[2];
	uint8_t buf[BLAKE2S_BLOCK_LEN];
	size_t buflen;
	size_t outlen;
};

/* outlen 1..32; keylen 0..32 (key may be NULL when keylen is 0). */
void blake2s_init(struct blake2s_state *state, size_t outlen);
void blake2s_init_key(struct blake2s_state *state, size_t outlen, const uint8_t *key,
		      size_t keylen);
void blake2s_update(struct blake2s_state *state, const uint8_t *in, size_t inlen);
/* Writes state->outlen bytes and wipes the state. */
void blake2s_final(struct blake2s_state *state, uint8_t *out);

/* One-shot hash; key may be NULL when keylen is 0. */
void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen, const uint8_t *key,
	     size_t keylen);

/* HMAC-BLAKE2s-256 (RFC 2104 with a 64-byte block). */
void blake2s_hmac(uint8_t out[static BLAKE2S_HASH_LEN], const uint8_t *in, size_t inlen,
		  const uint8_t *key, size_t keylen);

#endif
