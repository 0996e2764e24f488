/* SPDX-License-Identifier: MIT */
/*
 * A fork-join pool of crypt threads: the loop thread hands it an array of items, every
 * thread of the pool (the caller included, as thread 0) takes items by an atomic index
 * until none is left, and crypt_pool_run returns once all of them are done. The items
 * must be independent of each other and of any state the loop thread changes: the loop
 * thread prepares them before the run (taking counters, finding keys) and applies their
 * results after it, in order, so the pool itself knows nothing about peers or packets.
 * The run's start and end are the synchronisation points (a mutex and two condition
 * variables): whatever the loop thread wrote before crypt_pool_run is visible to the
 * threads, and whatever they wrote to the items is visible to it once the run returns.
 *
 * Each thread may have a context of its own (an AEAD "lane": cipher contexts that must not
 * be shared), made by the init hook on that thread when the pool starts and released by
 * the exit hook on that thread when it stops; thread 0's are called by the creator.
 * The threads are created at once, named "wgd-crypt", and live until crypt_pool_destroy,
 * so a sandbox entered later only needs to allow futex (see sandbox.c).
 */
#ifndef WGD_CRYPT_POOL_H
#define WGD_CRYPT_POOL_H

#include <stddef.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

enum crypt_pool_values {
	CRYPT_POOL_MAX_THREADS = 64, /* more would only wait on the one loop thread */
	/* bytes of packets per item: big enough to pay for a hand-over, small enough to spread */
	CRYPT_POOL_ITEM_BYTES = 16384,
};

struct crypt_pool;

/* Makes thread idx's context (arg from crypt_pool_create_with); NULL is a valid context. */
typedef void *(*crypt_pool_init_fn)(void *arg, unsigned int idx);
/* Releases a context made by the init hook, on the same thread. */
typedef void (*crypt_pool_exit_fn)(void *arg, void *ctx);
/* Processes item i of a run, on any thread, with that thread's context. */
typedef void (*crypt_pool_item_fn)(void *ctx, void *items, size_t i);

/*
 * A pool of n threads in all (1 <= n <= CRYPT_POOL_MAX_THREADS), the caller being thread
 * 0: n - 1 are created. init and exit may be NULL. 0, -EINVAL or -errno from
 * pthread_create or allocation (nothing is left running then).
 */
int __must_check crypt_pool_create_with(struct crypt_pool **out, unsigned int n,
					crypt_pool_init_fn init, crypt_pool_exit_fn exit,
					void *arg);
int __must_check crypt_pool_create(struct crypt_pool **out, unsigned int n);

/*
 * Runs fn(ctx, items, i) for every i < n_items, spread over the threads, and returns when
 * all are done. With one item, or a pool of one thread, the caller runs them alone, in
 * order, with no hand-over. Only the thread that created the pool may call it.
 */
void crypt_pool_run(struct crypt_pool *p, crypt_pool_item_fn fn, void *items, size_t n_items);

/* Threads in the pool, the caller included. */
unsigned int crypt_pool_threads(const struct crypt_pool *p);

/* Stops and joins the threads (each runs its exit hook), then frees. NULL is a no-op. */
void crypt_pool_destroy(struct crypt_pool *p);

#endif
