/* SPDX-License-Identifier: MIT */
/*
 * Transport data messages (whitepaper §5.4.6): in-place ChaCha20-Poly1305 with a
 * 64-bit counter nonce, zero padding to a multiple of 16 never beyond the MTU, and
 * the keypair age and counter limits. A keepalive is an empty payload.
 */
#ifndef WGD_DATA_H
#define WGD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"

/* Plaintext length after padding: a multiple of 16, capped at the MTU (kernel's rule). */
size_t data_padded_len(size_t plain_len, size_t mtu);

/*
 * Reserves the next sending counter. False if the keypair is empty, older than
 * REJECT_AFTER_TIME, or has reached REJECT_AFTER_MESSAGES.
 */
bool __must_check data_keypair_next_nonce(struct noise_keypair *kp, uint64_t now_ns,
					  uint64_t *nonce);

/* True if kp may still receive (valid, younger than REJECT_AFTER_TIME). */
bool data_keypair_can_receive(const struct noise_keypair *kp, uint64_t now_ns);

/*
 * Seals in place. On entry msg + sizeof(struct message_data) holds plain_len bytes of
 * plaintext and the buffer has room for message_data_len(padded_len). Writes the
 * header, zero padding and tag. Returns the message length.
 */
size_t data_seal(uint8_t *msg, size_t plain_len, size_t padded_len,
		 const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint32_t receiver_index,
		 uint64_t nonce);

/*
 * Opens in place. On success the (padded) plaintext is at msg + sizeof(struct
 * message_data), *plain_len is its length and *nonce the message counter; the caller
 * then applies the replay window. False on any length or tag failure.
 */
bool __must_check data_open(uint8_t *msg, size_t msg_len,
			    const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], size_t *plain_len,
			    uint64_t *nonce);

#endif
