/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2 as WireGuard uses it (whitepaper §5.4.2-§5.4.3, Noise revision 34):
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss, {t}
 *   <- e, ee, se, psk, {}
 *
 * The message bodies are generic over protocol name, prologue and payload, so the
 * unit test can replay the Cacophony vector; the public functions fix the prologue
 * to WireGuard's identifier, the first payload to a TAI64N timestamp and the second
 * to nothing. Also owns the three keypair slots. Does not touch mac1/mac2 (cookie.c)
 * or transport data (data.c), and keeps no clock: time is always passed in.
 */
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "crypto/blake2s.h"
#include "crypto/kdf.h"
#include "crypto/noise.h"
#include "crypto/random.h"
#include "crypto/tai64n.h"

static const char handshake_name[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier_name[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* Handshake AEADs use each key exactly once, so their nonce is always zero (§5.4). */
static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

/* The generic bodies write e || AEAD(s) || AEAD(payload) contiguously: pin the wire layout. */
enum body_offsets {
	BODY_STATIC = NOISE_PUBLIC_KEY_LEN,
	BODY_INITIATION_PAYLOAD = BODY_STATIC + noise_encrypted_len(NOISE_PUBLIC_KEY_LEN),
	BODY_RESPONSE_PAYLOAD = NOISE_PUBLIC_KEY_LEN,
};
#define body_offset(type, field) (offsetof(type, field) - offsetof(type, unencrypted_ephemeral))
_Static_assert(body_offset(struct message_handshake_initiation, encrypted_static) == BODY_STATIC,
	       "static follows ephemeral");
_Static_assert(body_offset(struct message_handshake_initiation, encrypted_timestamp) ==
		       BODY_INITIATION_PAYLOAD,
	       "timestamp follows static");
_Static_assert(body_offset(struct message_handshake_response, encrypted_nothing) ==
		       BODY_RESPONSE_PAYLOAD,
	       "empty payload follows ephemeral");
_Static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == NOISE_AUTHTAG_LEN, "tag length");
_Static_assert(crypto_scalarmult_BYTES == NOISE_PUBLIC_KEY_LEN, "X25519 length");

void noise_static_identity_clear(struct noise_static_identity *id)
{
	wipe(id, sizeof(*id));
}

void noise_static_identity_set(struct noise_static_identity *id,
			       const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN])
{
	if (key_is_zero(private_key)) {
		noise_static_identity_clear(id);
		return;
	}
	memcpy(id->static_private, private_key, NOISE_PRIVATE_KEY_LEN);
	key_clamp(id->static_private);
	id->has_identity = crypto_scalarmult_base(id->static_public, id->static_private) == 0;
	if (!id->has_identity)
		noise_static_identity_clear(id);
}

/*
 * X25519 that refuses low-order points: libsodium already fails on an all-zero
 * result, and we check again so the rule never depends on the library build.
 */
static bool __must_check dh(uint8_t out[static NOISE_PUBLIC_KEY_LEN],
			    const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN],
			    const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN])
{
	if (crypto_scalarmult(out, private_key, public_key) != 0 ||
	    sodium_is_zero(out, NOISE_PUBLIC_KEY_LEN)) {
		wipe(out, NOISE_PUBLIC_KEY_LEN);
		return false;
	}
	return true;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	/*
	 * latest_timestamp and last_initiation_consumption_ns survive on purpose: they
	 * are the replay and flood state. local_index stays so the caller can unhash it.
	 */
	wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	wipe(hs->hash, sizeof(hs->hash));
	wipe(hs->chaining_key, sizeof(hs->chaining_key));
	hs->remote_index = 0;
	hs->state = HANDSHAKE_ZEROED;
}

void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_static_identity *id)
{
	(void)id; /* the DH waits for its first use: static_static() */
	noise_handshake_clear(hs);
	wipe(hs->precomputed_static_static, sizeof(hs->precomputed_static_static));
	hs->has_static_static = false;
}

/*
 * DH(s_local, S_remote), computed once per identity and peer. An all-zero result marks
 * a low-order peer key (or no identity yet): every handshake is then refused.
 */
static const uint8_t *static_static(struct noise_handshake *hs,
				    const struct noise_static_identity *id)
{
	if (!hs->has_static_static) {
		if (!id->has_identity ||
		    !dh(hs->precomputed_static_static, id->static_private, hs->remote_static))
			wipe(hs->precomputed_static_static, sizeof(hs->precomputed_static_static));
		hs->has_static_static = true;
	}
	return hs->precomputed_static_static;
}

/*
 * static_static() without writing hs: a DH not yet computed goes to opened, which
 * noise_handshake_accept_initiation keeps in hs.
 */
static const uint8_t *static_static_of(const struct noise_handshake *hs,
				       const struct noise_static_identity *id,
				       struct noise_initiation *opened)
{
	if (hs->has_static_static)
		return hs->precomputed_static_static;
	if (!id->has_identity || !dh(opened->static_static, id->static_private, hs->remote_static))
		wipe(opened->static_static, sizeof(opened->static_static));
	opened->has_static_static = true;
	return opened->static_static;
}

void noise_handshake_set_preshared_key(struct noise_handshake *hs, const uint8_t *preshared_key)
{
	/* No PSK is the same as an all-zero PSK (whitepaper §5.4.3, Q = 0^32). */
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	else
		wipe(hs->preshared_key, sizeof(hs->preshared_key));
}

void noise_handshake_init(struct noise_handshake *hs, const struct noise_static_identity *id,
			  const uint8_t remote_static[static NOISE_PUBLIC_KEY_LEN],
			  const uint8_t *preshared_key)
{
	wipe(hs, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	noise_handshake_set_preshared_key(hs, preshared_key);
	noise_handshake_precompute(hs, id);
}

/* Noise §5.2 MixHash: h = HASH(h || data). */
static void mix_hash(uint8_t h[static NOISE_HASH_LEN], const uint8_t *src, size_t len)
{
	struct blake2s_state state;

	blake2s_init(&state, NOISE_HASH_LEN);
	blake2s_update(&state, h, NOISE_HASH_LEN);
	blake2s_update(&state, src, len);
	blake2s_final(&state, h);
}

/* Noise §5.2 MixKey: (ck, k) = KDF2(ck, input); key NULL keeps only the chaining key. */
static void mix_key(uint8_t ck[static NOISE_HASH_LEN], uint8_t *key, const uint8_t *src, size_t len)
{
	kdf(ck, key, NULL, ck, src, len);
}

static bool __must_check mix_dh(uint8_t ck[static NOISE_HASH_LEN], uint8_t *key,
				const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN],
				const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN])
{
	uint8_t shared[NOISE_PUBLIC_KEY_LEN];
	bool ok = dh(shared, private_key, public_key);

	if (ok)
		mix_key(ck, key, shared, sizeof(shared));
	wipe(shared, sizeof(shared));
	return ok;
}

/* ss from the per-peer cache; zero means the peer's key is of low order. */
static bool __must_check mix_precomputed_dh(uint8_t ck[static NOISE_HASH_LEN],
					    uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
					    const uint8_t precomputed[static NOISE_PUBLIC_KEY_LEN])
{
	if (sodium_is_zero(precomputed, NOISE_PUBLIC_KEY_LEN))
		return false;
	mix_key(ck, key, precomputed, NOISE_PUBLIC_KEY_LEN);
	return true;
}

/* Noise §5.2 MixKeyAndHash: (ck, tau, k) = KDF3(ck, psk); h = HASH(h || tau). */
static void mix_psk(uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
		    uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		    const uint8_t psk[static NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[NOISE_HASH_LEN];

	kdf(ck, tau, key, ck, psk, NOISE_SYMMETRIC_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));
	wipe(tau, sizeof(tau));
}

/*
 * The e token. In a psk handshake Noise (§9.2) also mixes the ephemeral into the
 * chaining key, which is WireGuard's C = KDF1(C, E_pub).
 */
static void mix_ephemeral(uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
			  const uint8_t ephemeral[static NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(h, ephemeral, NOISE_PUBLIC_KEY_LEN);
	mix_key(ck, NULL, ephemeral, NOISE_PUBLIC_KEY_LEN);
}

/* Noise §5.2 EncryptAndHash: dst = AEAD(key, 0, src, h) (len + 16 bytes); h = HASH(h || dst). */
static void encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			     uint8_t h[static NOISE_HASH_LEN])
{
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, h, NOISE_HASH_LEN, NULL,
						  zero_nonce, key);
	mix_hash(h, dst, noise_encrypted_len(len));
}

/* Noise §5.2 DecryptAndHash; src_len includes the tag. dst may be NULL when it is empty. */
static bool __must_check decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t src_len,
					  const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
					  uint8_t h[static NOISE_HASH_LEN])
{
	uint8_t empty[1] = { 0 };

	if (crypto_aead_chacha20poly1305_ietf_decrypt(dst ? dst : empty, NULL, NULL, src, src_len,
						      h, NOISE_HASH_LEN, zero_nonce, key) != 0)
		return false;
	mix_hash(h, src, src_len);
	return true;
}

/*
 * Noise §5.2 InitializeSymmetric, then MixHash(prologue) and the pre-message
 * "<- s". For WireGuard: C0 = HASH(construction), H0 = HASH(C0 || identifier),
 * H = HASH(H0 || S_resp_pub) (whitepaper §5.4.2).
 */
static void symmetric_init(uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
			   const char *name, size_t name_len, const uint8_t *prologue,
			   size_t prologue_len)
{
	if (name_len <= NOISE_HASH_LEN) {
		memset(ck, 0, NOISE_HASH_LEN);
		memcpy(ck, name, name_len);
	} else {
		blake2s(ck, NOISE_HASH_LEN, (const uint8_t *)name, name_len, NULL, 0);
	}
	memcpy(h, ck, NOISE_HASH_LEN);
	mix_hash(h, prologue, prologue_len);
}

static void handshake_init(uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
			   const char *name, size_t name_len, const uint8_t *prologue,
			   size_t prologue_len,
			   const uint8_t responder_static[static NOISE_PUBLIC_KEY_LEN])
{
	symmetric_init(ck, h, name, name_len, prologue, prologue_len);
	mix_hash(h, responder_static, NOISE_PUBLIC_KEY_LEN);
}

static void wireguard_init(uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
			   const uint8_t responder_static[static NOISE_PUBLIC_KEY_LEN])
{
	handshake_init(ck, h, handshake_name, sizeof(handshake_name) - 1,
		       (const uint8_t *)identifier_name, sizeof(identifier_name) - 1,
		       responder_static);
}

static void ephemeral_generate(uint8_t private_key[static NOISE_PRIVATE_KEY_LEN])
{
	crypto_random(private_key, NOISE_PRIVATE_KEY_LEN);
	key_clamp(private_key);
}

/*
 * -> e, es, s, ss, {payload}. out receives e (32) || AEAD(s) (48) || AEAD(payload)
 * (payload_len + 16): the initiation from unencrypted_ephemeral on.
 */
static bool __must_check initiation_write(
	uint8_t *out, uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
	const uint8_t ephemeral_private[static NOISE_PRIVATE_KEY_LEN], struct noise_handshake *hs,
	const struct noise_static_identity *id, const uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	bool ok = false;

	/* e */
	if (crypto_scalarmult_base(out, ephemeral_private) != 0)
		goto out;
	mix_ephemeral(ck, h, out);
	/* es */
	if (!mix_dh(ck, key, ephemeral_private, hs->remote_static))
		goto out;
	/* s */
	encrypt_and_hash(out + BODY_STATIC, id->static_public, NOISE_PUBLIC_KEY_LEN, key, h);
	/* ss */
	if (!mix_precomputed_dh(ck, key, static_static(hs, id)))
		goto out;
	/* {t} */
	encrypt_and_hash(out + BODY_INITIATION_PAYLOAD, payload, payload_len, key, h);
	ok = true;
out:
	wipe(key, sizeof(key));
	return ok;
}

/*
 * The responder's half of message 1. Returns the initiator's handshake (found by
 * the decrypted static key) with the payload decrypted, or NULL. Writes the remote
 * ephemeral to e; commits nothing.
 */
static struct noise_handshake *initiation_read(const uint8_t *in, uint8_t ck[static NOISE_HASH_LEN],
					       uint8_t h[static NOISE_HASH_LEN],
					       uint8_t e[static NOISE_PUBLIC_KEY_LEN],
					       const struct noise_static_identity *id,
					       noise_lookup_fn lookup, void *ctx, uint8_t *payload,
					       size_t payload_len, struct noise_initiation *opened)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t s[NOISE_PUBLIC_KEY_LEN];
	struct noise_handshake *hs = NULL;

	/* e */
	memcpy(e, in, NOISE_PUBLIC_KEY_LEN);
	mix_ephemeral(ck, h, e);
	/* es */
	if (!mix_dh(ck, key, id->static_private, e))
		goto out;
	/* s */
	if (!decrypt_and_hash(s, in + BODY_STATIC, noise_encrypted_len(NOISE_PUBLIC_KEY_LEN), key,
			      h))
		goto out;
	hs = lookup(ctx, s);
	if (!hs)
		goto out;
	/* ss: the handshake is only read here (this may run on a crypt thread) */
	if (!mix_precomputed_dh(ck, key, static_static_of(hs, id, opened))) {
		hs = NULL;
		goto out;
	}
	/* {t} */
	if (!decrypt_and_hash(payload, in + BODY_INITIATION_PAYLOAD,
			      noise_encrypted_len(payload_len), key, h))
		hs = NULL;
out:
	wipe(key, sizeof(key));
	wipe(s, sizeof(s));
	return hs;
}

/* <- e, ee, se, psk, {payload}. out receives e (32) || AEAD(payload) (payload_len + 16). */
static bool __must_check
response_write(uint8_t *out, uint8_t ck[static NOISE_HASH_LEN], uint8_t h[static NOISE_HASH_LEN],
	       const uint8_t ephemeral_private[static NOISE_PRIVATE_KEY_LEN],
	       const struct noise_handshake *hs, const uint8_t *payload, size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	bool ok = false;

	/* e */
	if (crypto_scalarmult_base(out, ephemeral_private) != 0)
		goto out;
	mix_ephemeral(ck, h, out);
	/* ee */
	if (!mix_dh(ck, NULL, ephemeral_private, hs->remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, ephemeral_private, hs->remote_static))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	encrypt_and_hash(out + BODY_RESPONSE_PAYLOAD, payload, payload_len, key, h);
	ok = true;
out:
	wipe(key, sizeof(key));
	return ok;
}

/* The initiator's half of message 2; writes the remote ephemeral to e, commits nothing. */
static bool __must_check response_read(const uint8_t *in, uint8_t ck[static NOISE_HASH_LEN],
				       uint8_t h[static NOISE_HASH_LEN],
				       uint8_t e[static NOISE_PUBLIC_KEY_LEN],
				       const struct noise_handshake *hs,
				       const struct noise_static_identity *id, uint8_t *payload,
				       size_t payload_len)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	bool ok = false;

	/* e */
	memcpy(e, in, NOISE_PUBLIC_KEY_LEN);
	mix_ephemeral(ck, h, e);
	/* ee */
	if (!mix_dh(ck, NULL, hs->ephemeral_private, e))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, id->static_private, e))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	ok = decrypt_and_hash(payload, in + BODY_RESPONSE_PAYLOAD, noise_encrypted_len(payload_len),
			      key, h);
out:
	wipe(key, sizeof(key));
	return ok;
}

bool noise_handshake_create_initiation(struct message_handshake_initiation *dst,
				       struct noise_handshake *hs,
				       const struct noise_static_identity *id, uint32_t local_index,
				       uint64_t unix_ns)
{
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t ephemeral_private[NOISE_PRIVATE_KEY_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	bool ok = false;

	if (!id->has_identity)
		goto out;
	wireguard_init(ck, h, hs->remote_static);
	ephemeral_generate(ephemeral_private);
	tai64n_from_unix_ns(timestamp, unix_ns);
	if (!initiation_write(dst->unencrypted_ephemeral, ck, h, ephemeral_private, hs, id,
			      timestamp, sizeof(timestamp)))
		goto out;
	dst->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	dst->sender_index = htole32(local_index);

	memcpy(hs->ephemeral_private, ephemeral_private, sizeof(ephemeral_private));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = local_index;
	hs->remote_index = 0;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	ok = true;
out:
	wipe(ck, sizeof(ck));
	wipe(h, sizeof(h));
	wipe(ephemeral_private, sizeof(ephemeral_private));
	wipe(timestamp, sizeof(timestamp));
	return ok;
}

/*
 * At most INITIATIONS_PER_SECOND accepted initiations per peer, as the kernel's
 * flood_attack check: a valid initiation still costs the responder DH work.
 */
static bool is_flood(const struct noise_handshake *hs, uint64_t now_ns)
{
	uint64_t last = hs->last_initiation_consumption_ns;

	if (!last)
		return false;
	return now_ns < last || now_ns - last < NSEC_PER_SEC / INITIATIONS_PER_SECOND;
}

bool noise_handshake_open_initiation(const struct message_handshake_initiation *src,
				     const struct noise_static_identity *id, noise_lookup_fn lookup,
				     void *ctx, struct noise_initiation *out)
{
	wipe(out, sizeof(*out));
	if (!id->has_identity)
		return false;
	wireguard_init(out->chaining_key, out->hash, id->static_public);
	out->hs = initiation_read(src->unencrypted_ephemeral, out->chaining_key, out->hash,
				  out->remote_ephemeral, id, lookup, ctx, out->timestamp,
				  sizeof(out->timestamp), out);
	out->sender_index = le32toh(src->sender_index);
	if (!out->hs)
		wipe(out, sizeof(*out));
	return out->hs != NULL;
}

bool noise_handshake_initiation_is_fresh(const struct noise_handshake *hs,
					 const struct noise_initiation *in, uint64_t now_ns)
{
	/* A replayed initiation carries a timestamp we already saw (whitepaper §5.1). */
	return tai64n_is_after(in->timestamp, hs->latest_timestamp) && !is_flood(hs, now_ns);
}

bool noise_handshake_accept_initiation(struct noise_handshake *hs,
				       const struct noise_initiation *in, uint64_t now_ns)
{
	if (in->has_static_static && !hs->has_static_static) {
		memcpy(hs->precomputed_static_static, in->static_static,
		       sizeof(hs->precomputed_static_static));
		hs->has_static_static = true;
	}
	if (!noise_handshake_initiation_is_fresh(hs, in, now_ns))
		return false;
	memcpy(hs->remote_ephemeral, in->remote_ephemeral, sizeof(hs->remote_ephemeral));
	memcpy(hs->latest_timestamp, in->timestamp, sizeof(in->timestamp));
	memcpy(hs->hash, in->hash, sizeof(in->hash));
	memcpy(hs->chaining_key, in->chaining_key, sizeof(in->chaining_key));
	hs->remote_index = in->sender_index;
	hs->last_initiation_consumption_ns = now_ns;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	return true;
}

struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   const struct noise_static_identity *id, noise_lookup_fn lookup,
				   void *ctx, uint64_t now_ns)
{
	struct noise_initiation in;
	struct noise_handshake *hs = NULL;

	if (noise_handshake_open_initiation(src, id, lookup, ctx, &in) &&
	    noise_handshake_accept_initiation(in.hs, &in, now_ns))
		hs = in.hs;
	wipe(&in, sizeof(in));
	return hs;
}

void noise_handshake_adopt(struct noise_handshake *hs, const struct noise_handshake *from)
{
	hs->state = from->state;
	memcpy(hs->remote_ephemeral, from->remote_ephemeral, sizeof(hs->remote_ephemeral));
	memcpy(hs->ephemeral_private, from->ephemeral_private, sizeof(hs->ephemeral_private));
	memcpy(hs->hash, from->hash, sizeof(hs->hash));
	memcpy(hs->chaining_key, from->chaining_key, sizeof(hs->chaining_key));
	hs->remote_index = from->remote_index;
}

bool noise_handshake_create_response(struct message_handshake_response *dst,
				     struct noise_handshake *hs,
				     const struct noise_static_identity *id, uint32_t local_index)
{
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t ephemeral_private[NOISE_PRIVATE_KEY_LEN];
	bool ok = false;

	if (!id->has_identity || hs->state != HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	ephemeral_generate(ephemeral_private);
	if (!response_write(dst->unencrypted_ephemeral, ck, h, ephemeral_private, hs, NULL, 0))
		goto out;
	dst->header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
	dst->sender_index = htole32(local_index);
	dst->receiver_index = htole32(hs->remote_index);

	memcpy(hs->ephemeral_private, ephemeral_private, sizeof(ephemeral_private));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	ok = true;
out:
	wipe(ck, sizeof(ck));
	wipe(h, sizeof(h));
	wipe(ephemeral_private, sizeof(ephemeral_private));
	return ok;
}

bool noise_handshake_consume_response(struct noise_handshake *hs,
				      const struct message_handshake_response *src,
				      const struct noise_static_identity *id)
{
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t e[NOISE_PUBLIC_KEY_LEN];
	bool ok = false;

	if (!id->has_identity || hs->state != HANDSHAKE_CREATED_INITIATION ||
	    le32toh(src->receiver_index) != hs->local_index)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	if (!response_read(src->unencrypted_ephemeral, ck, h, e, hs, id, NULL, 0))
		goto out;

	memcpy(hs->remote_ephemeral, e, sizeof(e));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->remote_index = le32toh(src->sender_index);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ok = true;
out:
	wipe(ck, sizeof(ck));
	wipe(h, sizeof(h));
	wipe(e, sizeof(e));
	return ok;
}

bool noise_keypair_is_empty(const struct noise_keypair *kp)
{
	return !kp->sending.is_valid && !kp->receiving.is_valid;
}

/* Slots hold keypairs by value: moving one wipes its source, so no key lingers. */
static void slot_move(struct noise_keypair *dst, struct noise_keypair *src)
{
	memcpy(dst, src, sizeof(*dst));
	wipe(src, sizeof(*src));
}

/* As the kernel's add_new_keypair (drivers/net/wireguard/noise.c). */
static void keypairs_add(struct noise_keypairs *kps, struct noise_keypair *kp)
{
	if (!kp->i_am_the_initiator) {
		/*
		 * A responder may not send on the new keypair until the initiator's first
		 * data message confirms it: park it in next, replacing any older
		 * unconfirmed one, and drop previous.
		 */
		slot_move(&kps->next, kp);
		wipe(&kps->previous, sizeof(kps->previous));
		return;
	}
	/* The initiator has the response in hand, so the new keypair is usable now. */
	if (!noise_keypair_is_empty(&kps->next)) {
		/*
		 * An unconfirmed responder keypair was pending: it becomes previous (it may
		 * still receive) and the current one goes.
		 */
		slot_move(&kps->previous, &kps->next);
		wipe(&kps->current, sizeof(kps->current));
	} else {
		slot_move(&kps->previous, &kps->current);
	}
	slot_move(&kps->current, kp);
}

static void symmetric_key_init(struct noise_symmetric_key *k, uint64_t now_ns)
{
	k->birthdate_ns = now_ns;
	k->is_valid = true;
}

bool noise_handshake_begin_session(struct noise_handshake *hs, struct noise_keypairs *kps,
				   uint64_t now_ns)
{
	struct noise_keypair kp;

	if (hs->state != HANDSHAKE_CREATED_RESPONSE && hs->state != HANDSHAKE_CONSUMED_RESPONSE)
		return false;
	memset(&kp, 0, sizeof(kp));
	kp.i_am_the_initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;
	kp.local_index = hs->local_index;
	kp.remote_index = hs->remote_index;
	/* (T_send, T_recv) = KDF2(C, ε), the first key being the initiator's (§5.4.5). */
	if (kp.i_am_the_initiator)
		kdf(kp.sending.key, kp.receiving.key, NULL, hs->chaining_key, NULL, 0);
	else
		kdf(kp.receiving.key, kp.sending.key, NULL, hs->chaining_key, NULL, 0);
	symmetric_key_init(&kp.sending, now_ns);
	symmetric_key_init(&kp.receiving, now_ns);
	kp.sending_counter = 0;
	replay_counter_init(&kp.receiving_counter);
	noise_handshake_clear(hs);
	keypairs_add(kps, &kp);
	wipe(&kp, sizeof(kp));
	return true;
}

struct noise_keypair *noise_keypairs_lookup(struct noise_keypairs *kps, uint32_t local_index)
{
	struct noise_keypair *slots[] = { &kps->current, &kps->previous, &kps->next };
	size_t i;

	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (!noise_keypair_is_empty(slots[i]) && slots[i]->local_index == local_index)
			return slots[i];
	return NULL;
}

/*
 * As the kernel's wg_noise_received_with_keypair: data under "next" confirms the
 * responder's keypair, so next slides into current and current into previous.
 * Pointers into the slots are stale afterwards.
 */
bool noise_keypairs_received_with(struct noise_keypairs *kps, const struct noise_keypair *kp)
{
	if (kp != &kps->next || noise_keypair_is_empty(&kps->next))
		return false;
	slot_move(&kps->previous, &kps->current);
	slot_move(&kps->current, &kps->next);
	return true;
}

void noise_keypairs_clear(struct noise_keypairs *kps)
{
	wipe(kps, sizeof(*kps));
}
