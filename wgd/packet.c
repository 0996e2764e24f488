/* SPDX-License-Identifier: MIT */
/*
 * The staged-packet pool and FIFO queues (see packet.h). Buffers hold plaintext user
 * packets, not keys; they are wiped only when the pool itself is freed.
 */
#include "wgd/packet.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"

void packet_pool_init(struct packet_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
}

void packet_pool_free(struct packet_pool *pool)
{
	struct packet_buf *b;

	while ((b = pool->free)) {
		pool->free = b->next;
		wipe(b->data, b->cap);
		free(b);
		pool->allocated--;
	}
}

/* Takes a free buffer of at least len bytes, growing or creating one as needed. */
static struct packet_buf *pool_take(struct packet_pool *pool, size_t len)
{
	struct packet_buf *b = pool->free, *grown;
	size_t cap = len < PACKET_BUF_MIN_CAP ? PACKET_BUF_MIN_CAP : len;

	if (b) {
		pool->free = b->next;
		if (b->cap >= len)
			return b;
		grown = realloc(b, sizeof(*b) + cap);
		if (!grown) {
			b->next = pool->free;
			pool->free = b;
			return NULL;
		}
		grown->cap = cap;
		return grown;
	}
	if (pool->allocated >= PACKET_POOL_MAX)
		return NULL;
	b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	b->cap = cap;
	pool->allocated++;
	return b;
}

struct packet_buf *packet_pool_get(struct packet_pool *pool, const void *pkt, size_t len)
{
	struct packet_buf *b = pool_take(pool, len);

	if (!b)
		return NULL;
	b->next = NULL;
	b->len = len;
	if (len)
		memcpy(b->data, pkt, len);
	return b;
}

void packet_pool_put(struct packet_pool *pool, struct packet_buf *b)
{
	b->next = pool->free;
	pool->free = b;
}

bool packet_pool_exhausted(const struct packet_pool *pool)
{
	return !pool->free && pool->allocated >= PACKET_POOL_MAX;
}

void packet_queue_init(struct packet_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void packet_queue_push(struct packet_queue *q, struct packet_buf *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->len++;
}

struct packet_buf *packet_queue_pop(struct packet_queue *q)
{
	struct packet_buf *b = q->head;

	if (!b)
		return NULL;
	q->head = b->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	b->next = NULL;
	return b;
}

void packet_queue_purge(struct packet_queue *q, struct packet_pool *pool)
{
	struct packet_buf *b;

	while ((b = packet_queue_pop(q)))
		packet_pool_put(pool, b);
}
