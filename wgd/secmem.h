/* SPDX-License-Identifier: MIT */
/*
 * Guarded, locked memory for long-lived key material (issue "Reliability and security":
 * keys in sodium_malloc/sodium_mlock memory). sodium_malloc puts every allocation between
 * inaccessible guard pages, with a canary before it, marks it MADV_DONTDUMP and tries to
 * mlock it, so a heap overflow elsewhere cannot run into a key, the keys never reach swap
 * or a core dump, and sodium_free wipes the pages before unmapping them.
 *
 * A guard-paged mapping per peer would cost three VMAs each (the kernel's default
 * max_map_count is 65 530), so peers come from a pool: fixed-size slots carved out of
 * guarded chunks, handed out zeroed and wiped on free. Each chunk costs two resident
 * pages besides its slots (sodium_malloc's read-only size page and the page its canary
 * spills into), so chunk sizes double from SECMEM_CHUNK_FIRST slots up to
 * SECMEM_CHUNK_MAX: a few peers take little memory and 10 000 peers pay about 3% more
 * than plain heap objects.
 * A freed slot is reused by the next allocation; chunks are released only when the pool
 * is destroyed, so a device that once held 10 000 peers keeps their pages (and the steady
 * state of add/remove cycles allocates nothing new).
 *
 * Locking is best effort, as in libsodium: without CAP_IPC_LOCK the worker is bound by
 * RLIMIT_MEMLOCK, which the root supervisor raises before it drops privileges. A failed
 * mlock is counted in secmem_unlocked_bytes() and logged once; the memory is still
 * guarded and wiped.
 */
#ifndef WGD_SECMEM_H
#define WGD_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

enum { SECMEM_CHUNK_FIRST = 4, SECMEM_CHUNK_MAX = 64 };

struct secmem_chunk;

struct secmem_pool {
	size_t slot_size;	     /* object size rounded up to a cache line */
	struct secmem_chunk *chunks; /* every chunk, newest first */
	void *free_slots;	     /* free slots linked through their first word */
	size_t live;		     /* slots handed out */
	size_t slots;		     /* slots in all chunks */
	size_t next_chunk;	     /* slots in the next chunk */
};

/* An empty pool for objects of obj_size bytes (> 0). Allocates nothing yet. */
void secmem_pool_init(struct secmem_pool *pool, size_t obj_size);

/* A zeroed slot, or NULL when no memory could be mapped. */
void *__must_check secmem_pool_alloc(struct secmem_pool *pool);

/* Wipes the slot and returns it to the pool. NULL is a no-op. */
void secmem_pool_free(struct secmem_pool *pool, void *obj);

/* Frees (and thereby wipes) every chunk; the pool is empty and reusable afterwards. */
void secmem_pool_destroy(struct secmem_pool *pool);

/* One zeroed object of size bytes in its own guarded, locked mapping; NULL on failure. */
void *__must_check secmem_alloc(size_t size);

/* Wipes and unmaps an object of secmem_alloc. NULL is a no-op. */
void secmem_free(void *obj);

/* Bytes this process asked to lock and could not (0 when every mlock succeeded). */
size_t secmem_unlocked_bytes(void);

#endif
