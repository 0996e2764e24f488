/* SPDX-License-Identifier: MIT */
/*
 * DoS protection (whitepaper §5.4.4, §5.4.7), after the kernel's cookie.c: mac1
 * proves the sender knows our public key, mac2 proves it can receive at its source
 * address. The checker's secret rotates every COOKIE_SECRET_MAX_AGE_S; the maker
 * stops using a cookie COOKIE_SECRET_LATENCY_S before the issuer would rotate it.
 * Time is passed in; randomness comes only from crypto_random().
 */
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "crypto/blake2s.h"
#include "crypto/cookie.h"
#include "crypto/random.h"

static const char mac1_key_label[] = "mac1----";
static const char cookie_key_label[] = "cookie--";

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == COOKIE_NONCE_LEN, "nonce length");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == NOISE_AUTHTAG_LEN, "tag length");
_Static_assert(sizeof(mac1_key_label) - 1 == 8 && sizeof(cookie_key_label) - 1 == 8, "labels");

/* key = HASH(label || public key) (§5.4.4, §5.4.7). */
static void precompute_key(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], const char *label,
			   const uint8_t pub[static NOISE_PUBLIC_KEY_LEN])
{
	struct blake2s_state state;

	blake2s_init(&state, NOISE_SYMMETRIC_KEY_LEN);
	blake2s_update(&state, (const uint8_t *)label, 8);
	blake2s_update(&state, pub, NOISE_PUBLIC_KEY_LEN);
	blake2s_final(&state, key);
}

void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t local_public[static NOISE_PUBLIC_KEY_LEN])
{
	wipe(c, sizeof(*c));
	precompute_key(c->cookie_encryption_key, cookie_key_label, local_public);
	precompute_key(c->message_mac1_key, mac1_key_label, local_public);
}

void cookie_maker_init(struct cookie_maker *m,
		       const uint8_t remote_public[static NOISE_PUBLIC_KEY_LEN])
{
	wipe(m, sizeof(*m));
	precompute_key(m->cookie_decryption_key, cookie_key_label, remote_public);
	precompute_key(m->message_mac1_key, mac1_key_label, remote_public);
}

void cookie_checker_clear(struct cookie_checker *c)
{
	wipe(c, sizeof(*c));
}

void cookie_maker_clear(struct cookie_maker *m)
{
	wipe(m, sizeof(*m));
}

static bool has_expired(uint64_t birthdate_ns, uint64_t limit_s, uint64_t now_ns)
{
	return birthdate_ns + limit_s * NSEC_PER_SEC <= now_ns;
}

/* The macs are the last 32 bytes; mac1 covers what precedes it, mac2 also mac1. */
static struct message_macs *macs_of(const uint8_t *msg, size_t len)
{
	return (struct message_macs *)(uintptr_t)(msg + len - sizeof(struct message_macs));
}

static void compute_mac1(uint8_t mac[static COOKIE_MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN])
{
	blake2s(mac, COOKIE_MAC_LEN, msg, len - sizeof(struct message_macs), key,
		NOISE_SYMMETRIC_KEY_LEN);
}

static void compute_mac2(uint8_t mac[static COOKIE_MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[static COOKIE_LEN])
{
	blake2s(mac, COOKIE_MAC_LEN, msg,
		len - sizeof(struct message_macs) + offsetof(struct message_macs, mac2), cookie,
		COOKIE_LEN);
}

/* cookie = MAC(R, source), R rotated every COOKIE_SECRET_MAX_AGE_S (§5.4.7). */
static void make_cookie(uint8_t cookie[static COOKIE_LEN], struct cookie_checker *c,
			const uint8_t *src, size_t src_len, uint64_t now_ns)
{
	if (!c->has_secret ||
	    has_expired(c->secret_birthdate_ns, COOKIE_SECRET_MAX_AGE_S, now_ns)) {
		crypto_random(c->secret, sizeof(c->secret));
		c->secret_birthdate_ns = now_ns;
		c->has_secret = true;
	}
	blake2s(cookie, COOKIE_LEN, src, src_len, c->secret, sizeof(c->secret));
}

enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const uint8_t *msg,
					     size_t len, const uint8_t *src, size_t src_len,
					     bool check_cookie, uint64_t now_ns)
{
	const struct message_macs *macs;
	uint8_t computed[COOKIE_MAC_LEN];
	uint8_t cookie[COOKIE_LEN];
	enum cookie_mac_state ret = INVALID_MAC;

	if (len < sizeof(struct message_macs))
		return INVALID_MAC;
	macs = macs_of(msg, len);
	compute_mac1(computed, msg, len, c->message_mac1_key);
	if (sodium_memcmp(computed, macs->mac1, COOKIE_MAC_LEN) != 0)
		goto out;
	ret = VALID_MAC_BUT_NO_COOKIE;
	if (!check_cookie)
		goto out;
	make_cookie(cookie, c, src, src_len, now_ns);
	compute_mac2(computed, msg, len, cookie);
	if (sodium_memcmp(computed, macs->mac2, COOKIE_MAC_LEN) != 0)
		goto out;
	ret = VALID_MAC_WITH_COOKIE;
out:
	wipe(cookie, sizeof(cookie));
	wipe(computed, sizeof(computed));
	return ret;
}

void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie_maker *m, uint64_t now_ns)
{
	struct message_macs *macs;

	if (len < sizeof(struct message_macs))
		return;
	macs = macs_of(msg, len);
	compute_mac1(macs->mac1, msg, len, m->message_mac1_key);
	/* Remembered as the AD a cookie reply to this message must carry. */
	memcpy(m->last_mac1_sent, macs->mac1, COOKIE_MAC_LEN);
	m->have_sent_mac1 = true;

	if (m->is_valid && !has_expired(m->birthdate_ns,
					COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S, now_ns))
		compute_mac2(macs->mac2, msg, len, m->cookie);
	else
		memset(macs->mac2, 0, COOKIE_MAC_LEN);
}

void cookie_message_create(struct message_handshake_cookie *dst, const uint8_t *msg, size_t len,
			   uint32_t receiver_index, struct cookie_checker *c, const uint8_t *src,
			   size_t src_len, uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	const uint8_t *mac1;

	/* Callers pass a checked handshake message; anything shorter gets no reply. */
	if (len < sizeof(struct message_macs)) {
		memset(dst, 0, sizeof(*dst));
		return;
	}
	mac1 = macs_of(msg, len)->mac1;
	dst->header.type = htole32(MESSAGE_HANDSHAKE_COOKIE);
	dst->receiver_index = htole32(receiver_index);
	crypto_random(dst->nonce, sizeof(dst->nonce));
	make_cookie(cookie, c, src, src_len, now_ns);
	/* The AD binds the reply to the message that provoked it (§5.4.7). */
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst->encrypted_cookie, NULL, cookie, COOKIE_LEN,
						   mac1, COOKIE_MAC_LEN, NULL, dst->nonce,
						   c->cookie_encryption_key);
	wipe(cookie, sizeof(cookie));
}

bool cookie_message_consume(struct cookie_maker *m, const struct message_handshake_cookie *src,
			    uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	bool ok = false;

	/* Only a reply to a message we actually sent can be authentic. */
	if (!m->have_sent_mac1)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, NULL, NULL, src->encrypted_cookie, sizeof(src->encrypted_cookie),
		    m->last_mac1_sent, COOKIE_MAC_LEN, src->nonce, m->cookie_decryption_key) != 0)
		goto out;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->birthdate_ns = now_ns;
	m->is_valid = true;
	m->have_sent_mac1 = false;
	ok = true;
out:
	wipe(cookie, sizeof(cookie));
	return ok;
}
