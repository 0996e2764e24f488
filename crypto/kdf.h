/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's HKDF (whitepaper §5.4 "KDFn"): t0 = HMAC(key, input), t1 = HMAC(t0, 0x1),
 * t_i = HMAC(t0, t_{i-1} || i). Every output is NOISE_HASH_LEN (32) bytes.
 */
#ifndef WGD_KDF_H
#define WGD_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

/* t2 and t3 may be NULL to compute KDF1 or KDF2. Outputs may alias key. */
void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[static NOISE_HASH_LEN],
	 const uint8_t *in, size_t inlen);

#endif
