/* SPDX-License-Identifier: MIT */
/*
 * Transport data AEAD "lanes": the same seal/open as crypto/data.h (whitepaper §5.4.6,
 * ChaCha20-Poly1305 with the counter nonce), done by OpenSSL's EVP ChaCha20-Poly1305
 * for packets of at least AEAD_OPENSSL_MIN_LEN padded bytes and by libsodium below
 * (docs/ARCHITECTURE.md, "The transport AEAD", has the measurements behind the split).
 *
 * A lane is one thread's: it holds an EVP context per direction, keyed with the last
 * key it used, so a burst of one peer's packets sets up its key once. It lives in
 * wgd/, not crypto/, because the EVP contexts allocate. The caller calls
 * aead_lane_forget at the end of every burst, so the lane never holds a key after the
 * loop has returned (and so never one that outlives its keypair: whitepaper §6.4).
 */
#ifndef WGD_AEAD_H
#define WGD_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"

/* From this padded length on, OpenSSL seals and opens: see docs/ARCHITECTURE.md. */
enum { AEAD_OPENSSL_MIN_LEN = 192 };

/* Which implementation a lane uses: AEAD_AUTO by size; the others for tests and benches. */
enum aead_impl { AEAD_AUTO, AEAD_SODIUM, AEAD_OPENSSL };

struct aead_lane;

/* A new lane in guarded memory, or NULL (out of memory, or OpenSSL failed to start). */
struct aead_lane *aead_lane_new(void);
/* Wipes and frees; NULL is a no-op. */
void aead_lane_free(struct aead_lane *lane);

/* Wipes the lane's key copies and its EVP contexts' keys; the next use keys them again. */
void aead_lane_forget(struct aead_lane *lane);

/* Pins the implementation regardless of size (tests, tests/tools/aeadbench.c). */
void aead_lane_force(struct aead_lane *lane, enum aead_impl impl);

/* As data_seal (crypto/data.h): seals in place, returns the message length. */
size_t aead_seal(struct aead_lane *lane, uint8_t *msg, size_t plain_len, size_t padded_len,
		 const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint32_t receiver_index,
		 uint64_t nonce);

/*
 * As data_open (crypto/data.h): opens in place, false on any length or tag failure.
 * On a tag failure the payload is wiped, since OpenSSL decrypts before it verifies.
 */
bool __must_check aead_open(struct aead_lane *lane, uint8_t *msg, size_t msg_len,
			    const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], size_t *plain_len,
			    uint64_t *nonce);

/*
 * Test-only: the lane's copy of the key it holds for one direction (sealing or
 * opening), NOISE_SYMMETRIC_KEY_LEN bytes, so a test can see that forget wiped it.
 */
const uint8_t *aead_lane_key_for_test(const struct aead_lane *lane, bool sealing);

#endif
