/* SPDX-License-Identifier: MIT */
/*
 * The fork-join pool (wgd/crypt_pool.h): every item is processed exactly once, results
 * land in their own item so the caller reads them in order, each thread uses its own
 * context from the init hook (released by the exit hook on the same thread), a pool of
 * one thread runs everything on the caller, and many runs in a row reuse the threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/crypt_pool.h"

struct ctx {
	unsigned int idx;
	pthread_t self;
	size_t items; /* processed by this thread */
};

static atomic_uint inits, exits, wrong_thread;

static void *ctx_init(void *arg, unsigned int idx)
{
	struct ctx *c = calloc(1, sizeof(*c));

	(void)arg;
	c->idx = idx;
	c->self = pthread_self();
	atomic_fetch_add(&inits, 1);
	return c;
}

static void ctx_exit(void *arg, void *p)
{
	struct ctx *c = p;

	(void)arg;
	if (!pthread_equal(c->self, pthread_self()))
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&exits, 1);
	free(c);
}

struct item {
	uint64_t in, out;
	unsigned int done; /* times processed */
	unsigned int by;   /* the thread's index */
};

/* Some work worth spreading: a few rounds of a 64-bit mix. */
static void work(void *p, void *items, size_t i)
{
	struct ctx *c = p;
	struct item *it = (struct item *)items + i;
	uint64_t x = it->in;

	if (c && !pthread_equal(c->self, pthread_self()))
		atomic_fetch_add(&wrong_thread, 1);
	for (int r = 0; r < 2000; r++)
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + (uint64_t)r;
	it->out = x;
	it->done++;
	it->by = c ? c->idx : 0;
	if (c)
		c->items++;
}

static uint64_t expected(uint64_t x)
{
	for (int r = 0; r < 2000; r++)
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + (uint64_t)r;
	return x;
}

static void check_run(struct crypt_pool *p, size_t n)
{
	struct item *items = calloc(n ? n : 1, sizeof(*items));

	for (size_t i = 0; i < n; i++)
		items[i].in = i * 7919 + 1;
	crypt_pool_run(p, work, items, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert(eq(u32, items[i].done, 1), "item %zu processed %u times", i,
			  items[i].done);
		cr_assert(eq(u64, items[i].out, expected(items[i].in)), "item %zu", i);
	}
	free(items);
}

Test(crypt_pool, every_item_once_in_its_place)
{
	struct crypt_pool *p;

	cr_assert(eq(int, crypt_pool_create(&p, 4), 0));
	cr_assert(eq(u32, crypt_pool_threads(p), 4));
	for (size_t n = 0; n < 70; n++)
		check_run(p, n);
	check_run(p, 5000);
	crypt_pool_destroy(p);
}

Test(crypt_pool, hooks_run_on_their_own_thread)
{
	struct crypt_pool *p;

	atomic_store(&inits, 0);
	atomic_store(&exits, 0);
	atomic_store(&wrong_thread, 0);
	cr_assert(eq(int, crypt_pool_create_with(&p, 3, ctx_init, ctx_exit, NULL), 0));
	/* every context exists when create returns */
	cr_assert(eq(u32, atomic_load(&inits), 3));
	for (int r = 0; r < 200; r++)
		check_run(p, 64);
	crypt_pool_destroy(p);
	cr_assert(eq(u32, atomic_load(&exits), 3));
	cr_assert(eq(u32, atomic_load(&wrong_thread), 0));
}

/* N = 1: no thread; the caller processes the items itself, in order. */
Test(crypt_pool, one_thread_is_the_caller_in_order)
{
	struct crypt_pool *p;
	struct item items[32] = { 0 };

	atomic_store(&wrong_thread, 0);
	cr_assert(eq(int, crypt_pool_create_with(&p, 1, ctx_init, ctx_exit, NULL), 0));
	crypt_pool_run(p, work, items, 32);
	for (size_t i = 0; i < 32; i++) {
		cr_assert(eq(u32, items[i].done, 1));
		cr_assert(eq(u32, items[i].by, 0));
	}
	cr_assert(eq(u32, atomic_load(&wrong_thread), 0));
	crypt_pool_destroy(p);
}

/* With enough work, more than one thread takes part (the pool is not the caller alone). */
Test(crypt_pool, work_is_shared)
{
	struct crypt_pool *p;
	size_t n = 4096;
	struct item *items = calloc(n, sizeof(*items));
	int shared = 0;

	cr_assert(eq(int, crypt_pool_create_with(&p, 2, ctx_init, ctx_exit, NULL), 0));
	for (int r = 0; r < 50 && !shared; r++) {
		unsigned int by1 = 0;

		crypt_pool_run(p, work, items, n);
		for (size_t i = 0; i < n; i++)
			by1 += items[i].by == 1;
		shared = by1 > 0;
	}
	cr_assert(shared, "thread 1 never took an item");
	crypt_pool_destroy(p);
	free(items);
}

Test(crypt_pool, bad_sizes_are_refused)
{
	struct crypt_pool *p = (void *)1;

	cr_assert(eq(int, crypt_pool_create(&p, 0), -22));
	cr_assert_null(p);
	cr_assert(eq(int, crypt_pool_create(&p, CRYPT_POOL_MAX_THREADS + 1), -22));
	crypt_pool_destroy(NULL);
}
