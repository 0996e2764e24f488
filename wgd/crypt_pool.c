/* SPDX-License-Identifier: MIT */
/*
 * The fork-join pool (crypt_pool.h). One run at a time: run() publishes the job under
 * the mutex and bumps a generation number, the threads wake on `start`, take items with
 * an atomic counter, and the last one to finish signals `done`. The kernel's WireGuard
 * spreads packets over per-CPU workers and puts them back in order through a per-peer
 * queue; here the order is kept by construction, since the loop thread only reads the
 * results once the whole run is over.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "wgd/crypt_pool.h"

struct crypt_pool_thread {
	struct crypt_pool *pool;
	pthread_t tid;
	unsigned int idx;
	void *ctx;
};

struct crypt_pool {
	unsigned int n; /* threads, the caller included */
	crypt_pool_init_fn init;
	crypt_pool_exit_fn exit;
	void *arg;
	void *ctx0; /* the caller's context */

	pthread_mutex_t lock;
	pthread_cond_t start, done;
	unsigned long gen;     /* bumped by each run (under lock) */
	unsigned int busy;     /* threads still in the current run, or still starting */
	bool is_stopping;      /* under lock */
	crypt_pool_item_fn fn; /* the current run's job, under lock */
	void *items;
	size_t n_items;
	atomic_size_t next; /* the next item to take */

	unsigned int started; /* threads created so far */
	struct crypt_pool_thread threads[];
};

static void take_items(struct crypt_pool *p, crypt_pool_item_fn fn, void *items, size_t n_items,
		       void *ctx)
{
	size_t i;

	while ((i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < n_items)
		fn(ctx, items, i);
}

/* Marks the calling thread done with the current run (or its start). */
static void leave_run(struct crypt_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (--p->busy == 0)
		pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
}

static void *thread_main(void *arg)
{
	struct crypt_pool_thread *t = arg;
	struct crypt_pool *p = t->pool;
	unsigned long seen = 0;
	crypt_pool_item_fn fn;
	void *items;
	size_t n_items;

	/* so that ps, top and the tests tell them apart; before any sandbox (prctl) */
	(void)pthread_setname_np(pthread_self(), "wgd-crypt");
	t->ctx = p->init ? p->init(p->arg, t->idx) : NULL;
	leave_run(p); /* started: see crypt_pool_create_with */
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->gen == seen && !p->is_stopping)
			pthread_cond_wait(&p->start, &p->lock);
		if (p->is_stopping) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		seen = p->gen;
		fn = p->fn;
		items = p->items;
		n_items = p->n_items;
		pthread_mutex_unlock(&p->lock);
		take_items(p, fn, items, n_items, t->ctx);
		leave_run(p);
	}
	if (p->exit)
		p->exit(p->arg, t->ctx);
	return NULL;
}

/* Waits until every thread has left the current run (or finished starting). */
static void wait_idle(struct crypt_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->busy)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

int crypt_pool_create_with(struct crypt_pool **out, unsigned int n, crypt_pool_init_fn init,
			   crypt_pool_exit_fn exit, void *arg)
{
	struct crypt_pool *p;
	int ret = 0;

	*out = NULL;
	if (n < 1 || n > CRYPT_POOL_MAX_THREADS)
		return -EINVAL;
	p = calloc(1, sizeof(*p) + (n - 1) * sizeof(p->threads[0]));
	if (!p)
		return -ENOMEM;
	p->n = n;
	p->init = init;
	p->exit = exit;
	p->arg = arg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->start, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->next, 0);
	p->ctx0 = init ? init(arg, 0) : NULL;
	/* every thread counts as busy until its init hook has run */
	p->busy = n - 1;
	for (unsigned int i = 0; i + 1 < n; i++) {
		struct crypt_pool_thread *t = &p->threads[i];

		t->pool = p;
		t->idx = i + 1;
		ret = -pthread_create(&t->tid, NULL, thread_main, t);
		if (ret < 0) {
			pthread_mutex_lock(&p->lock);
			p->busy -= n - 1 - i; /* the threads never created */
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->started++;
	}
	/* the contexts exist before the caller goes on (into its sandbox, say) */
	wait_idle(p);
	if (ret < 0) {
		crypt_pool_destroy(p);
		return ret;
	}
	*out = p;
	return 0;
}

int crypt_pool_create(struct crypt_pool **out, unsigned int n)
{
	return crypt_pool_create_with(out, n, NULL, NULL, NULL);
}

void crypt_pool_run(struct crypt_pool *p, crypt_pool_item_fn fn, void *items, size_t n_items)
{
	if (!n_items)
		return;
	if (p->n == 1 || n_items == 1) {
		for (size_t i = 0; i < n_items; i++)
			fn(p->ctx0, items, i);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->items = items;
	p->n_items = n_items;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	p->busy = p->started;
	p->gen++;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);
	take_items(p, fn, items, n_items, p->ctx0);
	wait_idle(p);
}

unsigned int crypt_pool_threads(const struct crypt_pool *p)
{
	return p->n;
}

void crypt_pool_destroy(struct crypt_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->is_stopping = true;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->started; i++)
		pthread_join(p->threads[i].tid, NULL);
	if (p->exit)
		p->exit(p->arg, p->ctx0);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->start);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
