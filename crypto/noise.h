/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2 as WireGuard uses it (whitepaper §5.4): create and consume the
 * initiation and response, derive the transport keypair, and manage the three
 * keypair slots (previous, current, next). Sans-IO: messages are byte structs,
 * time is passed in, the peer lookup is a callback. Does not compute mac1/mac2
 * (cookie.h) nor seal data (data.h).
 */
#ifndef WGD_NOISE_H
#define WGD_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/key.h"
#include "crypto/messages.h"
#include "crypto/replay.h"

struct noise_static_identity {
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_private[NOISE_PRIVATE_KEY_LEN];
	bool has_identity;
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

/* One per peer; embedded in struct peer. Holds secrets: wipe before free. */
struct noise_handshake {
	enum noise_handshake_state state;
	uint64_t last_initiation_consumption_ns; /* 0 = never */
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN]; /* all zero: refuse (low order) */
	bool has_static_static; /* precomputed_static_static is computed (at its first use) */
	uint8_t ephemeral_private[NOISE_PRIVATE_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint32_t local_index;  /* ours, as sent in sender_index */
	uint32_t remote_index; /* theirs */
};

struct noise_symmetric_key {
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t birthdate_ns;
	bool is_valid;
};

struct noise_keypair {
	struct noise_symmetric_key sending;
	uint64_t sending_counter; /* next nonce to use */
	struct noise_symmetric_key receiving;
	struct replay_counter receiving_counter;
	uint32_t local_index;
	uint32_t remote_index;
	bool i_am_the_initiator;
};

/*
 * Slots per whitepaper §5.4.6 and the kernel's noise.c: "next" holds a responder's
 * keypair until the initiator's first data message confirms it. A slot is empty
 * when its sending.is_valid and receiving.is_valid are both false.
 */
struct noise_keypairs {
	struct noise_keypair previous;
	struct noise_keypair current;
	struct noise_keypair next;
};

/* Clamps the key and derives the public key. All-zero private_key clears the identity. */
void noise_static_identity_set(struct noise_static_identity *id,
			       const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN]);
void noise_static_identity_clear(struct noise_static_identity *id);

/*
 * Prepares a peer's handshake: remote static key, optional PSK (NULL = none). The
 * static-static DH(s_local, S_remote) is computed at the handshake that first needs it
 * and kept: adding a peer costs no X25519, so `wg setconf` of 10 000 peers does not
 * spend 10 000 of them (0.44 s here) before it returns. The kernel computes it when the
 * peer is added; the handshakes are the same.
 */
void noise_handshake_init(struct noise_handshake *hs, const struct noise_static_identity *id,
			  const uint8_t remote_static[static NOISE_PUBLIC_KEY_LEN],
			  const uint8_t *preshared_key);
void noise_handshake_set_preshared_key(struct noise_handshake *hs, const uint8_t *preshared_key);
/* Forgets the static-static DH (after the identity changed) and drops any handshake in flight. */
void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_static_identity *id);
/* Wipes the in-flight state (ephemeral, hash, chaining key) and returns to HANDSHAKE_ZEROED. */
void noise_handshake_clear(struct noise_handshake *hs);

/*
 * Initiator, message 1. Fills everything but the macs. unix_ns is CLOCK_REALTIME
 * for the TAI64N timestamp. False if there is no identity or the static-static DH
 * is all zero.
 */
bool __must_check noise_handshake_create_initiation(struct message_handshake_initiation *dst,
						    struct noise_handshake *hs,
						    const struct noise_static_identity *id,
						    uint32_t local_index, uint64_t unix_ns);

/* Returns the handshake configured for remote_static, or NULL; borrowed. */
typedef struct noise_handshake *(*noise_lookup_fn)(
	void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]);

/*
 * Responder, message 1. Decrypts the initiator's static key, finds its handshake
 * through lookup, and checks the timestamp is newer than the last accepted and that
 * the peer has not initiated within 1/INITIATIONS_PER_SECOND (now_ns is CLOCK_BOOTTIME).
 * Returns the peer's handshake in HANDSHAKE_CONSUMED_INITIATION, or NULL.
 */
struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   const struct noise_static_identity *id, noise_lookup_fn lookup,
				   void *ctx, uint64_t now_ns);

/*
 * The responder's message 1 in two steps, so that the DH work can run on a crypt thread
 * that must not write the peer's state: open reads (finds the handshake through lookup,
 * decrypts the static key and the timestamp) and writes only *out; accept, on the thread
 * that owns hs, checks the timestamp and the 20-per-second limit against hs as it is
 * then and commits (consume_initiation is open + accept). out holds secrets: wipe it.
 */
struct noise_initiation {
	struct noise_handshake *hs; /* the initiator's, as found by lookup */
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	uint8_t static_static[NOISE_PUBLIC_KEY_LEN]; /* computed by open when hs had none */
	bool has_static_static;
	uint32_t sender_index;
};
bool __must_check noise_handshake_open_initiation(const struct message_handshake_initiation *src,
						  const struct noise_static_identity *id,
						  noise_lookup_fn lookup, void *ctx,
						  struct noise_initiation *out);
/* Whether accept would take in now (timestamp newer, not within the flood limit). */
bool noise_handshake_initiation_is_fresh(const struct noise_handshake *hs,
					 const struct noise_initiation *in, uint64_t now_ns);
bool __must_check noise_handshake_accept_initiation(struct noise_handshake *hs,
						    const struct noise_initiation *in,
						    uint64_t now_ns);
/*
 * Takes over the outcome of noise_handshake_create_response or _consume_response run on
 * a copy of hs (`from`): state, ephemerals, hash, chaining key, remote index. The local
 * index stays hs's; the caller checked that hs did not change since the copy.
 */
void noise_handshake_adopt(struct noise_handshake *hs, const struct noise_handshake *from);

/* Responder, message 2. Fills everything but the macs. */
bool __must_check noise_handshake_create_response(struct message_handshake_response *dst,
						  struct noise_handshake *hs,
						  const struct noise_static_identity *id,
						  uint32_t local_index);

/*
 * Initiator, message 2. The caller found hs by src->receiver_index. On success the
 * state is HANDSHAKE_CONSUMED_RESPONSE; on failure hs is unchanged.
 */
bool __must_check noise_handshake_consume_response(struct noise_handshake *hs,
						   const struct message_handshake_response *src,
						   const struct noise_static_identity *id);

/*
 * Derives the transport keys (KDF2(C, ε)) from a handshake in CONSUMED_RESPONSE
 * (initiator) or CREATED_RESPONSE (responder), installs them into the slots, and
 * zeroes the handshake. The new keypair's local_index is hs->local_index. An
 * initiator's keypair becomes current; a responder's becomes next until confirmed.
 */
bool __must_check noise_handshake_begin_session(struct noise_handshake *hs,
						struct noise_keypairs *kps, uint64_t now_ns);

/* The slot whose local_index matches, or NULL; borrowed. */
struct noise_keypair *noise_keypairs_lookup(struct noise_keypairs *kps, uint32_t local_index);

/*
 * Called after data authenticated under kp. If kp is the "next" slot it is promoted
 * to current (key confirmation) and true is returned.
 */
bool noise_keypairs_received_with(struct noise_keypairs *kps, const struct noise_keypair *kp);

/* Wipes every slot. */
void noise_keypairs_clear(struct noise_keypairs *kps);
bool noise_keypair_is_empty(const struct noise_keypair *kp);

#endif
