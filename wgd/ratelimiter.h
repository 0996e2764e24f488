/* SPDX-License-Identifier: MIT */
/*
 * Per-source token bucket for handshake messages under load (whitepaper §5.3; Linux
 * ratelimiter.c): 20 packets/s with a burst of 5 per IPv4 address or per IPv6 /64. It only
 * answers allow/deny; deciding when the device is "under load" is the caller's job.
 *
 * Every entry is allocated once, in ratelimiter_init, so an attacker choosing source
 * addresses makes nothing allocate; when all entries are taken, new sources are refused.
 * Bucket choice is keyed SipHash with a random key, so sources cannot be picked to pile
 * into one chain. Single-threaded: the loop owns it. No clock: callers pass now_ns.
 */
#ifndef WGD_RATELIMITER_H
#define WGD_RATELIMITER_H

#include <stdbool.h>
#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

enum ratelimiter_values {
	RATELIMITER_PACKETS_PER_SECOND = 20,
	RATELIMITER_PACKETS_BURSTABLE = 5,
	RATELIMITER_TABLE_SIZE = 8192, /* Linux's size on hosts with more than 1 GiB */
	RATELIMITER_MAX_ENTRIES = RATELIMITER_TABLE_SIZE * 8,
	RATELIMITER_HASH_KEY_LEN = 16,
};

struct ratelimiter_entry;

struct ratelimiter {
	struct ratelimiter_entry *pool; /* RATELIMITER_MAX_ENTRIES, allocated once */
	uint32_t *buckets;		/* pool index + 1 of each chain's head; 0 ends a chain */
	uint32_t free_head;		/* pool index + 1 of the first recycled entry */
	uint32_t used;	/* entries ever handed out; the rest of the pool is untouched */
	uint32_t count; /* live entries */
	uint64_t last_gc_ns;
	uint8_t hash_key[RATELIMITER_HASH_KEY_LEN];
};

/* Allocates the table and entry pool and draws a hash key. 0 or -ENOMEM. */
int __must_check ratelimiter_init(struct ratelimiter *rl);

/* Frees everything; rl is left zeroed, so a second call is harmless. */
void ratelimiter_uninit(struct ratelimiter *rl);

/*
 * Takes one token from the bucket of addr's source (4 bytes for AF_INET, 16 for
 * AF_INET6, network order). A new source starts with a full burst. False when the bucket
 * is empty, the family is unknown, or the table is full (after one attempt to collect
 * idle entries, at most once per second).
 */
bool ratelimiter_allow(struct ratelimiter *rl, int family, const void *addr, uint64_t now_ns);

/* Drops entries idle for more than a second; call about once a second. */
void ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns);

#endif
