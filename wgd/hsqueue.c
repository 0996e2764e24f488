/* SPDX-License-Identifier: MIT */
/* The incoming handshake ring; see hsqueue.h. */
#include "wgd/hsqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((HSQUEUE_LEN & (HSQUEUE_LEN - 1)) == 0, "HSQUEUE_LEN must be a power of two");

int hsqueue_init(struct hsqueue *q)
{
	memset(q, 0, sizeof(*q));
	q->ring = calloc(HSQUEUE_LEN, sizeof(*q->ring));
	return q->ring ? 0 : -ENOMEM;
}

void hsqueue_free(struct hsqueue *q)
{
	free(q->ring);
	memset(q, 0, sizeof(*q));
}

bool hsqueue_push(struct hsqueue *q, enum message_type type, const uint8_t *buf, size_t len,
		  const struct endpoint *from)
{
	struct hsqueue_entry *e;

	if (!q->ring || q->len == HSQUEUE_LEN || len > HSQUEUE_MSG_MAX)
		return false;
	e = &q->ring[(q->head + q->len) & (HSQUEUE_LEN - 1)];
	e->from = *from;
	e->type = type;
	e->len = (uint16_t)len;
	memcpy(e->buf, buf, len);
	q->len++;
	return true;
}

struct hsqueue_entry *hsqueue_peek(struct hsqueue *q)
{
	return q->len ? &q->ring[q->head] : NULL;
}

void hsqueue_pop(struct hsqueue *q)
{
	if (!q->len)
		return;
	q->head = (q->head + 1) & (HSQUEUE_LEN - 1);
	q->len--;
}
