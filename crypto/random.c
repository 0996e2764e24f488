/* SPDX-License-Identifier: MIT */
/*
 * The single randomness seam of crypto/: libsodium's CSPRNG in production, a
 * deterministic hook in tests so handshake transcripts can be reproduced.
 */
#include <sodium.h>

#include "crypto/random.h"

static crypto_random_fn random_hook;

void crypto_random(void *buf, size_t len)
{
	if (random_hook)
		random_hook(buf, len);
	else
		randombytes_buf(buf, len);
}

void crypto_random_set_hook(crypto_random_fn fn)
{
	random_hook = fn;
}
