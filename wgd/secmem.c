/* SPDX-License-Identifier: MIT */
/* Guarded, locked memory for key material; the design is in secmem.h. */
#include "wgd/secmem.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "wgd/log.h"

enum { SECMEM_ALIGN = 64 };

struct secmem_chunk {
	struct secmem_chunk *next;
	uint8_t pad[SECMEM_ALIGN - sizeof(struct secmem_chunk *)];
	uint8_t slots[]; /* pool->next_chunk slots of slot_size when it was made */
};

static size_t unlocked_bytes;

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/*
 * sodium_malloc places the block so that it ends at a guard page: with a size that is a
 * multiple of SECMEM_ALIGN the start is aligned too. It ignores a failed mlock, so lock
 * again (mlock is idempotent) to learn the outcome.
 */
static void *guarded_alloc(size_t size)
{
	size_t len = round_up(size, SECMEM_ALIGN);
	void *p;

	/* sodium_malloc needs the page size that sodium_init records; init is idempotent */
	if (sodium_init() < 0)
		return NULL;
	p = sodium_malloc(len);
	if (!p)
		return NULL;
	memset(p, 0, len); /* sodium_malloc fills with 0xdb */
	if (sodium_mlock(p, len) < 0) {
		if (!unlocked_bytes)
			log_error("Cannot lock key memory (%s); raise RLIMIT_MEMLOCK or grant "
				  "CAP_IPC_LOCK, or keys may reach swap",
				  strerror(errno));
		unlocked_bytes += len;
	}
	return p;
}

void *secmem_alloc(size_t size)
{
	return guarded_alloc(size ? size : 1);
}

void secmem_free(void *obj)
{
	sodium_free(obj); /* wipes, munlocks and unmaps; NULL is a no-op */
}

size_t secmem_unlocked_bytes(void)
{
	return unlocked_bytes;
}

void secmem_pool_init(struct secmem_pool *pool, size_t obj_size)
{
	memset(pool, 0, sizeof(*pool));
	pool->slot_size =
		round_up(obj_size > sizeof(void *) ? obj_size : sizeof(void *), SECMEM_ALIGN);
	pool->next_chunk = SECMEM_CHUNK_FIRST;
}

static int pool_grow(struct secmem_pool *pool)
{
	size_t n = pool->next_chunk;
	struct secmem_chunk *c = guarded_alloc(sizeof(*c) + n * pool->slot_size);

	if (!c)
		return -ENOMEM;
	if (n < SECMEM_CHUNK_MAX)
		pool->next_chunk = n * 2;
	c->next = pool->chunks;
	pool->chunks = c;
	/* push the slots in reverse, so they are handed out in address order */
	for (size_t i = n; i-- > 0;) {
		void *slot = c->slots + i * pool->slot_size;

		memcpy(slot, &pool->free_slots, sizeof(void *));
		pool->free_slots = slot;
	}
	pool->slots += n;
	return 0;
}

void *secmem_pool_alloc(struct secmem_pool *pool)
{
	void *slot;

	if (!pool->free_slots && pool_grow(pool) < 0)
		return NULL;
	slot = pool->free_slots;
	memcpy(&pool->free_slots, slot, sizeof(void *));
	memset(slot, 0, pool->slot_size);
	pool->live++;
	return slot;
}

void secmem_pool_free(struct secmem_pool *pool, void *obj)
{
	if (!obj)
		return;
	sodium_memzero(obj, pool->slot_size);
	memcpy(obj, &pool->free_slots, sizeof(void *));
	pool->free_slots = obj;
	pool->live--;
}

void secmem_pool_destroy(struct secmem_pool *pool)
{
	struct secmem_chunk *c = pool->chunks, *next;

	while (c) {
		next = c->next;
		sodium_free(c);
		c = next;
	}
	secmem_pool_init(pool, pool->slot_size);
}
