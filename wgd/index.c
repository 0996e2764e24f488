/* SPDX-License-Identifier: MIT */
/*
 * Receiver-index and public-key tables: linear probing with backward-shift deletion
 * (no tombstones), at most half full. Capacity is reserved at configuration time, so
 * the packet path only probes. Receiver indices are our own random draws; public keys
 * are hashed with a random SipHash key because consume_initiation looks up a key the
 * sender chose.
 */
#include "wgd/index.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/key.h"
#include "crypto/random.h"
#include "wgd/peer.h"

enum { TABLE_MIN_SLOTS = 16 };

/* Slots for `entries` at a load factor of at most 1/2, a power of two. */
static size_t slots_for(size_t entries)
{
	size_t n = TABLE_MIN_SLOTS;

	while (n < entries * 2) {
		if (n > SIZE_MAX / 4)
			return 0;
		n <<= 1;
	}
	return n;
}

/* Fibonacci hashing: indices are random, but a test hook may hand out sequential ones. */
static size_t index_home(uint32_t index, size_t mask)
{
	return (size_t)(((uint64_t)index * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

/* True when home h lies cyclically in (hole, j]: the entry at j must stay put. */
static bool stays(size_t hole, size_t j, size_t h)
{
	if (hole <= j)
		return hole < h && h <= j;
	return hole < h || h <= j;
}

void index_table_init(struct index_table *t)
{
	memset(t, 0, sizeof(*t));
}

void index_table_free(struct index_table *t)
{
	free(t->slots);
	index_table_init(t);
}

static void index_place(struct index_entry *slots, size_t mask, uint32_t index, struct peer *peer)
{
	size_t i = index_home(index, mask);

	while (slots[i].peer)
		i = (i + 1) & mask;
	slots[i].index = index;
	slots[i].peer = peer;
}

int index_table_reserve(struct index_table *t, size_t entries)
{
	size_t n = slots_for(entries);
	struct index_entry *slots;

	if (!n)
		return -ENOMEM;
	if (t->slots && n <= t->mask + 1)
		return 0;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; t->slots && i <= t->mask; i++)
		if (t->slots[i].peer)
			index_place(slots, n - 1, t->slots[i].index, t->slots[i].peer);
	free(t->slots);
	t->slots = slots;
	t->mask = n - 1;
	return 0;
}

static struct index_entry *index_find(const struct index_table *t, uint32_t index)
{
	size_t i;

	if (!t->slots)
		return NULL;
	for (i = index_home(index, t->mask); t->slots[i].peer; i = (i + 1) & t->mask)
		if (t->slots[i].index == index)
			return &t->slots[i];
	return NULL;
}

uint32_t index_table_add_random(struct index_table *t, struct peer *peer)
{
	uint32_t index;

	/* Retry on collision (whitepaper §5.4.1: indices are random and unique per device). */
	do
		crypto_random(&index, sizeof(index));
	while (index_find(t, index));
	index_place(t->slots, t->mask, index, peer);
	t->len++;
	return index;
}

void index_table_remove(struct index_table *t, uint32_t index)
{
	struct index_entry *e = index_find(t, index);
	size_t hole, j;

	if (!e)
		return;
	hole = (size_t)(e - t->slots);
	for (j = (hole + 1) & t->mask; t->slots[j].peer; j = (j + 1) & t->mask) {
		if (stays(hole, j, index_home(t->slots[j].index, t->mask)))
			continue;
		t->slots[hole] = t->slots[j];
		hole = j;
	}
	t->slots[hole].peer = NULL;
	t->slots[hole].index = 0;
	t->len--;
}

struct peer *index_table_lookup(const struct index_table *t, uint32_t index)
{
	struct index_entry *e = index_find(t, index);

	return e ? e->peer : NULL;
}

void pubkey_table_init(struct pubkey_table *t)
{
	memset(t, 0, sizeof(*t));
	crypto_random(t->hash_key, sizeof(t->hash_key));
}

void pubkey_table_free(struct pubkey_table *t)
{
	free(t->slots);
	wipe(t->hash_key, sizeof(t->hash_key));
	memset(t, 0, sizeof(*t));
}

static uint64_t pubkey_hash(const struct pubkey_table *t, const uint8_t *key)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, key, NOISE_PUBLIC_KEY_LEN, t->hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static void pubkey_place(struct pubkey_entry *slots, size_t mask, uint64_t hash, struct peer *peer)
{
	size_t i = (size_t)hash & mask;

	while (slots[i].peer)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].peer = peer;
}

int pubkey_table_reserve(struct pubkey_table *t, size_t entries)
{
	size_t n = slots_for(entries);
	struct pubkey_entry *slots;

	if (!n)
		return -ENOMEM;
	if (t->slots && n <= t->mask + 1)
		return 0;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; t->slots && i <= t->mask; i++)
		if (t->slots[i].peer)
			pubkey_place(slots, n - 1, t->slots[i].hash, t->slots[i].peer);
	free(t->slots);
	t->slots = slots;
	t->mask = n - 1;
	return 0;
}

void pubkey_table_add(struct pubkey_table *t, struct peer *peer)
{
	pubkey_place(t->slots, t->mask, pubkey_hash(t, peer_public_key(peer)), peer);
	t->len++;
}

static struct pubkey_entry *pubkey_find(const struct pubkey_table *t, const uint8_t *key)
{
	uint64_t h;
	size_t i;

	if (!t->slots)
		return NULL;
	h = pubkey_hash(t, key);
	for (i = (size_t)h & t->mask; t->slots[i].peer; i = (i + 1) & t->mask)
		if (t->slots[i].hash == h && key_equal(peer_public_key(t->slots[i].peer), key))
			return &t->slots[i];
	return NULL;
}

void pubkey_table_remove(struct pubkey_table *t, struct peer *peer)
{
	struct pubkey_entry *e = pubkey_find(t, peer_public_key(peer));
	size_t hole, j;

	if (!e || e->peer != peer)
		return;
	hole = (size_t)(e - t->slots);
	for (j = (hole + 1) & t->mask; t->slots[j].peer; j = (j + 1) & t->mask) {
		if (stays(hole, j, (size_t)t->slots[j].hash & t->mask))
			continue;
		t->slots[hole] = t->slots[j];
		hole = j;
	}
	t->slots[hole].peer = NULL;
	t->slots[hole].hash = 0;
	t->len--;
}

struct peer *pubkey_table_lookup(const struct pubkey_table *t,
				 const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct pubkey_entry *e = pubkey_find(t, public_key);

	return e ? e->peer : NULL;
}
