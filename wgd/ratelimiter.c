/* SPDX-License-Identifier: MIT */
/*
 * Handshake ratelimiter (whitepaper §5.3): a token bucket per source, after Linux's
 * ratelimiter.c. Tokens are counted in nanoseconds of credit, so refilling is just adding
 * the time elapsed: a packet costs 1 s / 20, and the bucket holds 5 packets' worth.
 */
#include "wgd/ratelimiter.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/messages.h"
#include "crypto/random.h"

struct ratelimiter_entry {
	uint64_t last_time_ns;
	uint64_t tokens; /* nanoseconds of credit, at most TOKEN_MAX_NS */
	uint64_t ip;	 /* the IPv4 address or the IPv6 /64, as raw bytes */
	uint32_t next;	 /* pool index + 1 of the next entry in the chain or free list */
	uint8_t family;
};

#define PACKET_COST_NS	(NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX_NS	(PACKET_COST_NS * RATELIMITER_PACKETS_BURSTABLE)
#define IDLE_TIMEOUT_NS NSEC_PER_SEC

_Static_assert(NSEC_PER_SEC % RATELIMITER_PACKETS_PER_SECOND == 0, "whole-ns packet cost");
_Static_assert((RATELIMITER_TABLE_SIZE & (RATELIMITER_TABLE_SIZE - 1)) == 0, "power of two");
_Static_assert(RATELIMITER_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");

/* The key a source is limited by: an IPv6 host usually owns a whole /64 (RFC 4291 §2.5.4). */
static bool source_key(int family, const void *addr, uint64_t *ip)
{
	*ip = 0;
	if (family == AF_INET)
		memcpy(ip, addr, 4);
	else if (family == AF_INET6)
		memcpy(ip, addr, 8);
	else
		return false;
	return true;
}

static uint32_t *bucket_of(struct ratelimiter *rl, int family, uint64_t ip)
{
	uint8_t in[1 + sizeof(ip)], out[crypto_shorthash_BYTES];
	uint64_t h;

	in[0] = (uint8_t)family;
	memcpy(in + 1, &ip, sizeof(ip));
	crypto_shorthash(out, in, sizeof(in), rl->hash_key);
	memcpy(&h, out, sizeof(h));
	return &rl->buckets[h & (RATELIMITER_TABLE_SIZE - 1)];
}

/* Refills by the time since the last packet, capped at the burst, then spends one packet. */
static bool take_token(struct ratelimiter_entry *e, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > e->last_time_ns ? now_ns - e->last_time_ns : 0;
	uint64_t tokens = e->tokens + (elapsed < TOKEN_MAX_NS ? elapsed : TOKEN_MAX_NS);

	if (tokens > TOKEN_MAX_NS)
		tokens = TOKEN_MAX_NS;
	if (now_ns > e->last_time_ns)
		e->last_time_ns = now_ns;
	if (tokens < PACKET_COST_NS) {
		e->tokens = tokens;
		return false;
	}
	e->tokens = tokens - PACKET_COST_NS;
	return true;
}

static struct ratelimiter_entry *entry_alloc(struct ratelimiter *rl)
{
	uint32_t i;

	if (rl->free_head) {
		i = rl->free_head - 1;
		rl->free_head = rl->pool[i].next;
	} else if (rl->used < RATELIMITER_MAX_ENTRIES) {
		i = rl->used++;
	} else {
		return NULL;
	}
	rl->count++;
	return &rl->pool[i];
}

int ratelimiter_init(struct ratelimiter *rl)
{
	memset(rl, 0, sizeof(*rl));
	rl->buckets = calloc(RATELIMITER_TABLE_SIZE, sizeof(*rl->buckets));
	/* calloc of this size maps zero pages lazily: only entries in use cost memory */
	rl->pool = calloc(RATELIMITER_MAX_ENTRIES, sizeof(*rl->pool));
	if (!rl->buckets || !rl->pool) {
		ratelimiter_uninit(rl);
		return -ENOMEM;
	}
	crypto_random(rl->hash_key, sizeof(rl->hash_key));
	return 0;
}

void ratelimiter_uninit(struct ratelimiter *rl)
{
	free(rl->pool);
	free(rl->buckets);
	sodium_memzero(rl, sizeof(*rl));
}

bool ratelimiter_allow(struct ratelimiter *rl, int family, const void *addr, uint64_t now_ns)
{
	struct ratelimiter_entry *e;
	uint32_t *bucket, i;
	uint64_t ip;

	if (!rl->pool || !source_key(family, addr, &ip))
		return false;
	bucket = bucket_of(rl, family, ip);
	for (i = *bucket; i; i = e->next) {
		e = &rl->pool[i - 1];
		if (e->ip == ip && e->family == family)
			return take_token(e, now_ns);
	}
	e = entry_alloc(rl);
	/* Full: collect idle entries, but at most once a second so a flood of new sources
	 * cannot turn every packet into a walk over the whole table. */
	if (!e && now_ns >= rl->last_gc_ns + NSEC_PER_SEC) {
		ratelimiter_gc(rl, now_ns);
		e = entry_alloc(rl);
	}
	if (!e)
		return false;
	e->ip = ip;
	e->family = (uint8_t)family;
	e->last_time_ns = now_ns;
	e->tokens = TOKEN_MAX_NS - PACKET_COST_NS; /* a full burst, minus this packet */
	e->next = *bucket;
	*bucket = (uint32_t)(e - rl->pool) + 1;
	return true;
}

void ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns)
{
	struct ratelimiter_entry *e;
	uint32_t *link, i;
	size_t b;

	rl->last_gc_ns = now_ns;
	for (b = 0; rl->count && b < RATELIMITER_TABLE_SIZE; b++) {
		link = &rl->buckets[b];
		while ((i = *link)) {
			e = &rl->pool[i - 1];
			if (now_ns <= e->last_time_ns + IDLE_TIMEOUT_NS) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			e->next = rl->free_head;
			rl->free_head = i;
			rl->count--;
		}
	}
}
