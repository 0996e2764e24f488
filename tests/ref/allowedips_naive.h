/* SPDX-License-Identifier: MIT */
/*
 * A deliberately simple AllowedIPs table to check wgd/allowedips.c against, in the spirit
 * of Linux's selftest "horrible_allowedips". It shares no code or representation with the
 * trie: prefixes are byte arrays masked byte by byte, kept in a hash set keyed by the exact
 * (family, cidr, masked address). Longest-prefix lookup tries every length from longest
 * to shortest; lookup_scan instead compares against every stored prefix, and tests use it
 * to check the faster lookup. Per-peer order is kept with an insertion sequence number.
 */
#ifndef WGD_TESTS_ALLOWEDIPS_NAIVE_H
#define WGD_TESTS_ALLOWEDIPS_NAIVE_H

#include <stddef.h>
#include <stdint.h>

struct peer;
struct naive_entry;

struct allowedips_naive {
	struct naive_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint64_t next_seq;
};

struct naive_prefix {
	int family;
	uint8_t addr[16]; /* masked; 4 bytes used for AF_INET */
	uint8_t cidr;
};

int allowedips_naive_init(struct allowedips_naive *n, size_t nbuckets); /* 0 or -ENOMEM */
void allowedips_naive_free(struct allowedips_naive *n);
/* Same contract as allowedips_insert/allowedips_remove. */
int allowedips_naive_insert(struct allowedips_naive *n, int family, const void *addr, uint8_t cidr,
			    struct peer *peer);
int allowedips_naive_remove(struct allowedips_naive *n, int family, const void *addr, uint8_t cidr,
			    struct peer *peer);
void allowedips_naive_remove_by_peer(struct allowedips_naive *n, const struct peer *peer);
/* Owner of exactly addr/cidr, or NULL. */
struct peer *allowedips_naive_owner(const struct allowedips_naive *n, int family, const void *addr,
				    uint8_t cidr);
struct peer *allowedips_naive_lookup(const struct allowedips_naive *n, int family,
				     const void *addr);
struct peer *allowedips_naive_lookup_scan(const struct allowedips_naive *n, int family,
					  const void *addr);
/* Writes up to max prefixes of peer in insertion order; returns how many peer has. */
size_t allowedips_naive_list_by_peer(const struct allowedips_naive *n, const struct peer *peer,
				     struct naive_prefix *out, size_t max);

#endif
