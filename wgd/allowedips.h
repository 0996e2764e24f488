/* SPDX-License-Identifier: MIT */
/*
 * AllowedIPs: longest-prefix match from an inner IPv4/IPv6 address to the peer that owns
 * it (whitepaper §2, "cryptokey routing"). Used on send to pick the peer for a destination
 * and on receive to check that a decrypted packet's source belongs to its sender.
 *
 * A path-compressed binary trie per family, after the Linux allowedips.c: every node holds
 * a masked prefix; nodes with a peer are routes, nodes without one are "glue" joining two
 * subtrees. Per-peer bookkeeping lives inside the table, so struct peer needs no member for
 * it: each route node sits on a doubly linked list in insertion order, and the list heads
 * are kept in a small hash map keyed by the peer pointer. That gives O(1) lookup of a
 * peer's routes for walk/count/remove_by_peer without the daemon having to initialise
 * anything. Removal finds a node's parent by walking down from the root (at most 129
 * steps), so nodes carry no parent pointer and stay at 64 bytes.
 *
 * The table keeps peer pointers without owning them: call allowedips_remove_by_peer before
 * freeing a peer, or a later peer allocated at the same address would inherit its routes.
 * Memory is allocated only by insert (configuration time); lookup never allocates.
 * Single-threaded: the loop owns the table; callers serialise all access.
 */
#ifndef WGD_ALLOWEDIPS_H
#define WGD_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct peer;
struct allowedips_node;
struct allowedips_list;

struct allowedips {
	struct allowedips_node *root4, *root6;
	uint64_t seq; /* bumped on every change, so a paged dump can detect one */
	/* per-peer route lists, hashed by peer pointer; private to allowedips.c */
	struct allowedips_list **lists;
	size_t lists_mask; /* bucket count - 1, or 0 before the first insert */
	size_t lists_len;
};

void allowedips_init(struct allowedips *t);

/* Frees every node and the per-peer index; t is then empty and may be reused. */
void allowedips_free(struct allowedips *t);

/*
 * Adds addr/cidr -> peer, with the host bits masked off. An identical prefix already
 * present is re-assigned to peer and moves to the tail of peer's list (as in Linux).
 * Returns 0, -EINVAL (bad family, cidr > 32/128, NULL addr or peer) or -ENOMEM, in which
 * case the table is unchanged.
 */
int __must_check allowedips_insert(struct allowedips *t, int family, const void *addr, uint8_t cidr,
				   struct peer *peer);

/*
 * Removes the exact prefix addr/cidr if it belongs to peer. Returns 0, -ENOENT when it
 * is absent or owned by another peer, or -EINVAL for a bad family, cidr, addr or peer.
 */
int allowedips_remove(struct allowedips *t, int family, const void *addr, uint8_t cidr,
		      struct peer *peer);

/* Removes every prefix of peer; O(n) in the peer's prefixes. Never fails. */
void allowedips_remove_by_peer(struct allowedips *t, struct peer *peer);

/* addr is in network byte order (4 or 16 bytes). Returns a borrowed peer or NULL. */
struct peer *allowedips_lookup(const struct allowedips *t, int family, const void *addr);

/*
 * Calls fn for each prefix of peer in insertion order with the masked address (network
 * byte order, 4 or 16 bytes, valid only during the call). Stops at and returns fn's first
 * nonzero value; 0 otherwise. fn must not modify t.
 */
int allowedips_walk_by_peer(const struct allowedips *t, const struct peer *peer,
			    int (*fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
			    void *ctx);

size_t allowedips_count_by_peer(const struct allowedips *t, const struct peer *peer);

#endif
