/* SPDX-License-Identifier: MIT */
/*
 * Transport data messages (whitepaper §5.4.6): padding, the per-keypair send
 * counter and its limits, and in-place ChaCha20-Poly1305 seal/open. The replay
 * window (replay.c) and the keypair slots (noise.c) are applied by the caller.
 */
#include <endian.h>
#include <string.h>

#include <sodium.h>

#include "crypto/data.h"

_Static_assert(crypto_aead_chacha20poly1305_IETF_NPUBBYTES == 12, "96-bit nonce");
_Static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == NOISE_AUTHTAG_LEN, "tag length");

static size_t padding_align(size_t len)
{
	return (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
}

/* The kernel's calculate_skb_padding, returning the padded length instead of the pad. */
size_t data_padded_len(size_t plain_len, size_t mtu)
{
	size_t last_unit = plain_len, padded;

	if (!mtu)
		return padding_align(plain_len);
	/* A packet longer than the MTU: pad only its last MTU-sized unit. */
	if (last_unit > mtu)
		last_unit %= mtu;
	padded = padding_align(last_unit);
	if (padded > mtu)
		padded = mtu;
	return plain_len + (padded - last_unit);
}

/* As the kernel's wg_birthdate_has_expired: expired once birth + limit <= now. */
static bool has_expired(uint64_t birthdate_ns, uint64_t limit_s, uint64_t now_ns)
{
	return birthdate_ns + limit_s * NSEC_PER_SEC <= now_ns;
}

bool data_keypair_next_nonce(struct noise_keypair *kp, uint64_t now_ns, uint64_t *nonce)
{
	if (!kp->sending.is_valid ||
	    has_expired(kp->sending.birthdate_ns, REJECT_AFTER_TIME_S, now_ns))
		return false;
	/* Never let the counter reach a value the receiver's window would refuse. */
	if (kp->sending_counter >= REJECT_AFTER_MESSAGES)
		return false;
	*nonce = kp->sending_counter++;
	return true;
}

bool data_keypair_can_receive(const struct noise_keypair *kp, uint64_t now_ns)
{
	return kp->receiving.is_valid &&
	       !has_expired(kp->receiving.birthdate_ns, REJECT_AFTER_TIME_S, now_ns) &&
	       kp->receiving_counter.counter < REJECT_AFTER_MESSAGES;
}

/* RFC 8439 §2.8 nonce as WireGuard fills it: 32 zero bits, then the counter little-endian. */
static void nonce_from_counter(uint8_t nonce[static crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
			       uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, sizeof(le));
}

size_t data_seal(uint8_t *msg, size_t plain_len, size_t padded_len,
		 const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint32_t receiver_index,
		 uint64_t nonce)
{
	struct message_data *hdr = (struct message_data *)msg;
	uint8_t *payload = msg + sizeof(struct message_data);
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	/* padded_len < plain_len is a caller bug: seal only padded_len bytes, never more. */
	if (padded_len > plain_len)
		memset(payload + plain_len, 0, padded_len - plain_len);
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->key_idx = htole32(receiver_index);
	hdr->counter = htole64(nonce);
	nonce_from_counter(n, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt(payload, NULL, payload, padded_len, NULL, 0, NULL,
						  n, key);
	return message_data_len(padded_len);
}

bool data_open(uint8_t *msg, size_t msg_len, const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
	       size_t *plain_len, uint64_t *nonce)
{
	const struct message_data *hdr = (const struct message_data *)msg;
	uint8_t *payload = msg + sizeof(struct message_data);
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint64_t counter;

	if (msg_len < MESSAGE_MINIMUM_LENGTH || le32toh(hdr->header.type) != MESSAGE_DATA)
		return false;
	counter = le64toh(hdr->counter);
	nonce_from_counter(n, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(payload, NULL, NULL, payload,
						      msg_len - sizeof(struct message_data), NULL,
						      0, n, key) != 0)
		return false;
	*plain_len = msg_len - MESSAGE_MINIMUM_LENGTH;
	*nonce = counter;
	return true;
}
