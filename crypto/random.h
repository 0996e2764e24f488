/* SPDX-License-Identifier: MIT */
/*
 * The one source of randomness for crypto/ (ephemeral keys, cookie secrets and nonces).
 * Tests install a deterministic hook so transcripts are reproducible.
 */
#ifndef WGD_RANDOM_H
#define WGD_RANDOM_H

#include <stddef.h>

typedef void (*crypto_random_fn)(void *buf, size_t len);

/* Fills buf from the hook, or from libsodium's randombytes_buf when no hook is set. */
void crypto_random(void *buf, size_t len);

/* Installs fn; NULL restores libsodium. Not thread-safe: call before starting threads. */
void crypto_random_set_hook(crypto_random_fn fn);

#endif
