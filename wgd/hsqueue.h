/* SPDX-License-Identifier: MIT */
/*
 * The incoming handshake queue: a fixed ring of copied handshake messages (initiations and
 * responses) waiting for the loop, so that data datagrams read in the same batch are
 * decrypted and delivered first and a handshake flood costs queue slots, not data latency.
 * The kernel module and wireguard-go do the same with a bounded queue drained by workers
 * and drop what does not fit; see device.c (ingress and draining) and receive.c (the
 * queue's share in "under load").
 *
 * Allocated once by hsqueue_init, no allocation per packet. Handshake messages are public
 * (mac1 binds them to our public key, nothing more), so the ring is not wiped.
 * Single-threaded, like the rest of the device.
 */
#ifndef WGD_HSQUEUE_H
#define WGD_HSQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"
#include "wgd/socket.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

enum hsqueue_values {
	/*
	 * wireguard-go's QueueHandshakeSize. The kernel allows 4096 but drains them with one
	 * worker per CPU; one loop thread drains ours, and 1024 responses are already about a
	 * quarter of a second of X25519 work (bench "hs": about 225 us of CPU each), so a
	 * deeper queue would mostly hold initiations whose answer comes too late to matter.
	 * A power of two, so the ring index is a mask.
	 */
	HSQUEUE_LEN = 1024,
	/* 1/8 full: from here the device is under load (wireguard-go, the kernel) */
	HSQUEUE_LOAD = HSQUEUE_LEN / 8,
	/*
	 * Messages processed per turn of the loop (after a UDP read batch, or on the timer
	 * while a backlog remains), so data read meanwhile waits for at most this many
	 * handshakes: 32 full DH handshakes are about 7 ms of CPU, 32 cookie replies about
	 * 0.1 ms. Throughput does not depend on it as long as a turn's fixed cost (one timerfd
	 * re-arm, one epoll_wait, one read: a few us) is small next to a budget's work.
	 */
	HSQUEUE_BUDGET = 32,
	/* the largest message queued: an initiation */
	HSQUEUE_MSG_MAX = sizeof(struct message_handshake_initiation),
};

struct hsqueue_entry {
	struct endpoint from;	/* source and local address, as read */
	enum message_type type; /* MESSAGE_HANDSHAKE_INITIATION or _RESPONSE */
	uint16_t len;
	uint8_t buf[HSQUEUE_MSG_MAX];
};

struct hsqueue {
	struct hsqueue_entry *ring; /* HSQUEUE_LEN entries, NULL before init */
	unsigned int head;	    /* the oldest entry */
	unsigned int len;
};

/* Allocates the ring (0 or -ENOMEM); the queue starts empty. */
int __must_check hsqueue_init(struct hsqueue *q);
/* Frees the ring; safe on a zeroed or already freed queue. */
void hsqueue_free(struct hsqueue *q);

/*
 * Copies one handshake message (len <= HSQUEUE_MSG_MAX bytes) of the given type from
 * `from` to the tail. False when the queue is full (or len too long): the caller drops
 * the message and counts it.
 */
bool __must_check hsqueue_push(struct hsqueue *q, enum message_type type, const uint8_t *buf,
			       size_t len, const struct endpoint *from);

/*
 * The oldest entry, or NULL when empty. It stays queued (and counted by hsqueue_len)
 * until hsqueue_pop, so while it is processed the backlog includes it, as the kernel's
 * handshake_queue_len does; the pointer is valid until the next push or pop.
 */
struct hsqueue_entry *hsqueue_peek(struct hsqueue *q);
/* Drops the oldest entry (no-op when empty). */
void hsqueue_pop(struct hsqueue *q);

static inline unsigned int hsqueue_len(const struct hsqueue *q)
{
	return q->len;
}

#endif
