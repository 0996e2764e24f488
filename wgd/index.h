/* SPDX-License-Identifier: MIT */
/*
 * The device's two lookup tables: random 32-bit receiver index -> peer (whitepaper §5.4.1:
 * the index names a handshake or a keypair of that peer) and static public key -> peer.
 * Both are open-addressing hash tables whose capacity is reserved at configuration time
 * (index_table_reserve, pubkey_table_reserve), so adding an entry on the packet path never
 * allocates and never fails. Single-threaded: the loop owns them.
 */
#ifndef WGD_INDEX_H
#define WGD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct peer;

struct index_entry {
	uint32_t index;
	struct peer *peer; /* NULL: free slot */
};

struct index_table {
	struct index_entry *slots;
	size_t mask; /* slot count - 1; 0 before the first reserve */
	size_t len;
};

struct pubkey_entry {
	struct peer *peer; /* NULL: free slot; the key is read from the peer */
	uint64_t hash;
};

struct pubkey_table {
	struct pubkey_entry *slots;
	size_t mask;
	size_t len;
	uint8_t hash_key[16]; /* SipHash key: lookups take attacker-chosen public keys */
};

void index_table_init(struct index_table *t);
void index_table_free(struct index_table *t);

/* Makes room for `entries` live indices without further allocation. 0 or -ENOMEM (unchanged). */
int __must_check index_table_reserve(struct index_table *t, size_t entries);

/*
 * Draws random indices (crypto_random) until one is unused, records index -> peer and
 * returns it. Requires reserved room (index_table_reserve) for the new entry.
 */
uint32_t index_table_add_random(struct index_table *t, struct peer *peer);

/* Removes index if present; a no-op otherwise. */
void index_table_remove(struct index_table *t, uint32_t index);

/* The peer that owns index, or NULL; borrowed until the loop returns. */
struct peer *index_table_lookup(const struct index_table *t, uint32_t index);

void pubkey_table_init(struct pubkey_table *t);
void pubkey_table_free(struct pubkey_table *t);
int __must_check pubkey_table_reserve(struct pubkey_table *t, size_t entries);

/*
 * Records peer under its public key (peer_public_key(peer)); the table keeps the pointer
 * until pubkey_table_remove. Requires reserved room; the key must not be present yet.
 */
void pubkey_table_add(struct pubkey_table *t, struct peer *peer);
void pubkey_table_remove(struct pubkey_table *t, struct peer *peer);

/* The peer with this public key, or NULL; borrowed until the loop returns. */
struct peer *pubkey_table_lookup(const struct pubkey_table *t,
				 const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);

#endif
