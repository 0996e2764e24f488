/* SPDX-License-Identifier: MIT */
/*
 * DoS protection (whitepaper §5.4.4, §5.4.7): mac1 and mac2 on handshake messages,
 * the rotating cookie secret, and the XChaCha20-Poly1305 cookie reply. The source
 * address is passed as opaque bytes (IP bytes then port in network order).
 */
#ifndef WGD_COOKIE_H
#define WGD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/key.h"
#include "crypto/messages.h"

enum cookie_mac_state {
	INVALID_MAC,
	VALID_MAC_BUT_NO_COOKIE,
	VALID_MAC_WITH_COOKIE,
};

/* The responder's side: one per device. */
struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birthdate_ns;
	bool has_secret;
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

/* The initiator's side: one per peer. */
struct cookie_maker {
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t birthdate_ns;
	bool is_valid;
	bool have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_MAC_LEN];
};

/* Keys derive from our public key (checker) or the peer's (maker): HASH(label || pub). */
void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t local_public[static NOISE_PUBLIC_KEY_LEN]);
void cookie_maker_init(struct cookie_maker *m,
		       const uint8_t remote_public[static NOISE_PUBLIC_KEY_LEN]);
void cookie_checker_clear(struct cookie_checker *c);
void cookie_maker_clear(struct cookie_maker *m);

/*
 * msg is a whole initiation or response (len 148 or 92); its macs are the last 32
 * bytes. mac1 is always checked; with check_cookie, mac2 too, against the cookie for
 * src (rotating the secret after COOKIE_SECRET_MAX_AGE_S).
 */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const uint8_t *msg,
					     size_t len, const uint8_t *src, size_t src_len,
					     bool check_cookie, uint64_t now_ns);

/* Writes mac1, and mac2 if the maker holds a cookie younger than 120 - 5 s. */
void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie_maker *m, uint64_t now_ns);

/* Builds the reply to msg (whose mac1 is the AD) from src; random nonce. */
void cookie_message_create(struct message_handshake_cookie *dst, const uint8_t *msg, size_t len,
			   uint32_t receiver_index, struct cookie_checker *c, const uint8_t *src,
			   size_t src_len, uint64_t now_ns);

/* Decrypts a reply to our last mac1 and stores the cookie. False if it does not open. */
bool __must_check cookie_message_consume(struct cookie_maker *m,
					 const struct message_handshake_cookie *src,
					 uint64_t now_ns);

#endif
