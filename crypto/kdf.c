/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's HKDF (whitepaper §5.4, after RFC 5869 with HMAC-BLAKE2s): extract
 * t0 = HMAC(key, in), then expand up to three 32-byte outputs. Every output is
 * written only after all reads of key, so outputs may alias the key.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/blake2s.h"
#include "crypto/kdf.h"

void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[static NOISE_HASH_LEN],
	 const uint8_t *in, size_t inlen)
{
	uint8_t prk[NOISE_HASH_LEN];
	uint8_t out[NOISE_HASH_LEN + 1];

	/* Extract: t0 = HMAC(key, in). */
	blake2s_hmac(prk, in, inlen, key, NOISE_HASH_LEN);

	/* Expand: t1 = HMAC(t0, 0x1). */
	out[0] = 1;
	blake2s_hmac(out, out, 1, prk, NOISE_HASH_LEN);
	memcpy(t1, out, NOISE_HASH_LEN);
	if (!t2)
		goto out;

	/* t2 = HMAC(t0, t1 || 0x2). */
	out[NOISE_HASH_LEN] = 2;
	blake2s_hmac(out, out, NOISE_HASH_LEN + 1, prk, NOISE_HASH_LEN);
	memcpy(t2, out, NOISE_HASH_LEN);
	if (!t3)
		goto out;

	/* t3 = HMAC(t0, t2 || 0x3). */
	out[NOISE_HASH_LEN] = 3;
	blake2s_hmac(out, out, NOISE_HASH_LEN + 1, prk, NOISE_HASH_LEN);
	memcpy(t3, out, NOISE_HASH_LEN);

out:
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(out, sizeof(out));
}
