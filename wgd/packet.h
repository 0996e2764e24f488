/* SPDX-License-Identifier: MIT */
/*
 * Shared by send.c, receive.c, timers.c and device.c: the staged-packet pool and queues,
 * the fixed packet buffers' sizes, and the send/receive entry points. Not for the UAPI.
 *
 * Staged packets are plaintext IP packets waiting for a session (whitepaper §6.2). They
 * live in buffers from one device-wide pool: a buffer is allocated the first time the
 * pool runs dry (at most PACKET_POOL_MAX of them) and is recycled forever after, so the
 * steady state allocates nothing. A buffer grows to the largest packet it has carried.
 * When the pool is exhausted, send.c reclaims a buffer so that every peer keeps a share
 * of PACKET_POOL_MAX / peers; keepalives are never staged.
 */
#ifndef WGD_PACKET_H
#define WGD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

struct device;
struct peer;
struct endpoint;
struct gso_packet;
struct noise_keypair;
struct noise_handshake;
struct noise_initiation;
struct message_handshake_response;

enum packet_sizes {
	PACKET_IP_MAX = 65535, /* the largest IPv4/IPv6 packet a TUN read can return */
	/* header + packet + padding to 16 + tag: the largest data message we build */
	PACKET_TX_BUF_LEN = message_data_len(PACKET_IP_MAX + MESSAGE_PADDING_MULTIPLE),
	PACKET_RX_BUF_LEN = 65536, /* one UDP datagram, plus one byte to see oversize */
	/* one GSO batch of sealed segments, plus one more segment of the largest kind */
	PACKET_GSO_BUF_LEN = 2 * PACKET_TX_BUF_LEN,
	PACKET_POOL_MAX = MAX_QUEUED_PACKETS, /* staged packets across all peers */
	PACKET_BUF_MIN_CAP = 2048,
};

struct packet_buf {
	struct packet_buf *next;
	size_t len, cap;
	uint8_t data[];
};

struct packet_queue {
	struct packet_buf *head, *tail;
	size_t len;
};

struct packet_pool {
	struct packet_buf *free;
	size_t allocated; /* buffers in existence, free or queued */
};

void packet_pool_init(struct packet_pool *pool);
/* Frees the free list; queued buffers must have been returned first. */
void packet_pool_free(struct packet_pool *pool);
/* A buffer holding a copy of pkt, or NULL when the pool is exhausted or out of memory. */
struct packet_buf *packet_pool_get(struct packet_pool *pool, const void *pkt, size_t len);
void packet_pool_put(struct packet_pool *pool, struct packet_buf *buf);
/* True when every buffer the pool may have is queued somewhere. */
bool packet_pool_exhausted(const struct packet_pool *pool);

void packet_queue_init(struct packet_queue *q);
void packet_queue_push(struct packet_queue *q, struct packet_buf *buf);
struct packet_buf *packet_queue_pop(struct packet_queue *q);
/* Returns every buffer to the pool. */
void packet_queue_purge(struct packet_queue *q, struct packet_pool *pool);

/* send.c */

/*
 * Stages one plaintext IP packet read from the TUN for the peer that routes its
 * destination and flushes the peer's queue. pkt must sit at
 * dev->tx_buf + sizeof(struct message_data); may be sealed in place.
 */
void send_tun_packet(struct device *dev, size_t len, uint64_t now_ns);
/*
 * Sends every segment of a TUN super-packet (wgd/gso.h) to the peer that routes its
 * destination: sealed straight into dev->gso_buf and handed to the socket in GSO
 * batches when the session is ready, else staged one by one. gp->pkt may be in tx_buf.
 */
void send_tun_gso(struct device *dev, const struct gso_packet *gp, uint64_t now_ns);
/*
 * Sends the data messages send_tun_packet sealed into one pending GSO batch. The TUN
 * read loop calls it when it stops reading; every other send calls it first, so
 * messages leave in the order they were sealed.
 */
void send_flush(struct device *dev);
/*
 * send_flush, then with crypt threads (wgd/crypt_data.h) seals and sends everything the
 * burst recorded. The TUN read loop calls it at the end of a burst; so does every send
 * that does not go through the batches, first, so order is kept.
 */
void send_commit(struct device *dev);
/* Initiates a handshake unless one went out less than REKEY_TIMEOUT ago. */
void send_handshake_initiation(struct peer *peer, bool is_retry, uint64_t now_ns);
/* Responder: creates the response, derives the session ("next" slot), sends. */
void send_handshake_response(struct peer *peer, uint64_t now_ns);
/*
 * As send_handshake_response for a response a crypt thread made (crypt_hs.c) on a copy
 * of the peer's handshake (`prepared`, after the same accepted initiation): takes over
 * its state, gives it a fresh local index (msg's sender_index too), then as above.
 */
void send_handshake_response_prepared(struct peer *peer, struct message_handshake_response *msg,
				      const struct noise_handshake *prepared, uint64_t now_ns);
/* Replies to a handshake message `msg` from `to` with a cookie (under load). */
void send_cookie_reply(struct device *dev, const uint8_t *msg, size_t len, uint32_t sender_index,
		       struct endpoint *to, uint64_t now_ns);
/* Sends an empty data message (not staged) or, with packets staged, those. */
void send_keepalive(struct peer *peer, uint64_t now_ns);
/* Encrypts and sends the staged packets on the current keypair, or starts a handshake. */
void send_staged_packets(struct peer *peer, uint64_t now_ns);
/* Sends len bytes to the peer's endpoint and counts tx_bytes; 0 or -errno. */
int send_to_peer(struct peer *peer, const void *buf, size_t len);

/* receive.c */

/*
 * The ingress framing rule: the message type when (type, length) is one of the four valid
 * shapes (148, 92, 64, >= 32 bytes for types 1..4, read as one little-endian u32 so the
 * reserved bytes must be zero), MESSAGE_INVALID otherwise. Pure.
 */
enum message_type receive_classify(const uint8_t *buf, size_t len);

/*
 * Whether a handshake message (initiation or response, exact length) carries a valid
 * mac1 for our public key: the cheap test (one keyed BLAKE2s) that tells a message meant
 * for us from junk before it is queued. False without a private key.
 */
bool receive_mac1_valid(struct device *dev, const uint8_t *buf, size_t len);

/*
 * For the crypt threads (crypt_data.c): the keypair that may open data message buf, or
 * NULL when the message is to be dropped (*peer is set either way); then, on the loop
 * thread and in read order, the rest of the path for a message that data_open
 * authenticated elsewhere (plain_len and nonce are what it returned).
 */
struct noise_keypair *receive_data_keypair(struct device *dev, const uint8_t *buf, uint64_t now_ns,
					   struct peer **peer);
void receive_data_opened(struct device *dev, uint8_t *buf, size_t len, size_t plain_len,
			 uint64_t nonce, struct endpoint *from, uint64_t now_ns);

/*
 * For the handshakes on crypt threads (crypt_hs.c). admitted: mac1, and under load mac2
 * or a cookie reply, then the per-source limit (loop thread, in queue order). The lookup
 * only reads the public-key table, so the threads may call it while the loop thread
 * waits. Then, on the loop thread in queue order, the rest of the path of an initiation
 * opened and answered on a copy (in, msg, prepared), and of a response consumed on a
 * copy of the initiator's handshake (dropped if that changed meanwhile).
 */
bool receive_handshake_admitted(struct device *dev, const uint8_t *buf, size_t len,
				struct endpoint *from, uint64_t now_ns);
struct noise_handshake *receive_lookup_handshake(void *ctx, const uint8_t *remote_static);
void receive_initiation_prepared(struct peer *p, const struct noise_initiation *in,
				 struct message_handshake_response *msg,
				 const struct noise_handshake *prepared, size_t len,
				 struct endpoint *from, uint64_t now_ns);
void receive_response_prepared(struct peer *p, const struct noise_handshake *consumed, size_t len,
			       struct endpoint *from, uint64_t now_ns);

/* Processes one datagram from `from`; buf is dev->rx_buf and may be decrypted in place. */
void receive_datagram(struct device *dev, uint8_t *buf, size_t len, struct endpoint *from,
		      uint64_t now_ns);
/* The same for a datagram already classified (type from receive_classify). */
void receive_message(struct device *dev, enum message_type type, uint8_t *buf, size_t len,
		     struct endpoint *from, uint64_t now_ns);

#endif
