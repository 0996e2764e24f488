/* SPDX-License-Identifier: MIT */
/*
 * The threaded transport data path (crypt_data.h): the arenas, the recorded seals, sends
 * and opens, and the two items the pool runs (crypt_item_seal, crypt_item_open: the only
 * places that call the AEAD here).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/data.h"
#include "crypto/key.h"
#include "crypto/noise.h"
#include "wgd/aead.h"
#include "wgd/crypt_data.h"
#include "wgd/crypt_pool.h"
#include "wgd/device.h"
#include "wgd/packet.h"
#include "wgd/peer.h"

enum crypt_data_values {
	/* TUN side: room for several 64 KiB super-packets per commit */
	CRYPT_TX_ARENA = 8 * PACKET_GSO_BUF_LEN,
	/* the smallest message (a keepalive): the most seals the arena can hold */
	CRYPT_TX_SEALS = CRYPT_TX_ARENA / message_data_len(0),
	/* UDP side: reads per pass, each up to 64 KiB of GRO-coalesced datagrams */
	CRYPT_RX_READS = 16,
	CRYPT_RX_ENTRIES = CRYPT_RX_READS * UDP_SOCKET_GSO_MAX_SEGMENTS,
	/* as device.c: reads per wakeup, so no fd starves the others */
	CRYPT_RX_BATCH = 64,
};

struct crypt_seal_op {
	uint8_t *msg;
	const uint8_t *key; /* the keypair's sending key: no keypair changes before commit */
	uint64_t nonce;
	uint32_t remote_index;
	uint32_t plain_len, padded_len;
};

struct crypt_send_op {
	struct peer *peer;
	uint8_t *buf;
	size_t len, seg;
};

/* One datagram of a UDP pass. */
struct crypt_rx_entry {
	uint8_t *buf;
	const uint8_t *key; /* data with a usable keypair: to open; else NULL */
	size_t len, plain_len;
	uint64_t nonce;
	uint16_t read; /* which read of the pass (its source address) */
	bool is_open;  /* authenticated by the pool */
	bool ends_read;
};

/* A run of consecutive seals or datagrams, about CRYPT_POOL_ITEM_BYTES. */
struct crypt_item {
	struct crypt_data *c;
	uint32_t first, count;
};

struct crypt_data {
	struct crypt_pool *pool;
	uint8_t *saved_gso_buf; /* the device's own, given back by crypt_data_disable */

	uint8_t *tx_arena;
	size_t tx_cursor;
	struct crypt_seal_op *seals;
	size_t seals_len;
	struct crypt_send_op *sends;
	size_t sends_len;

	uint8_t *rx_arena;
	struct crypt_rx_entry *rx;
	size_t rx_len;
	struct endpoint from[CRYPT_RX_READS];

	struct crypt_item *items; /* CRYPT_TX_SEALS: more than either side needs */
	void *hs_jobs;		  /* crypt_hs.c's, hs_budget of them */
	unsigned int hs_budget;
};

unsigned int crypt_data_default_threads(void)
{
	const char *env = getenv("WGD_THREADS");
	long n = 0;
	char *end;

	if (env && *env) {
		n = strtol(env, &end, 10);
		if (*end || n < 1 || n > CRYPT_POOL_MAX_THREADS)
			n = 0;
	}
	if (!n)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > CRYPT_POOL_MAX_THREADS ? CRYPT_POOL_MAX_THREADS : (unsigned int)n;
}

/*
 * Each thread's context for the AEAD calls below (a "lane": cipher contexts of its own),
 * made on that thread when the pool starts (wgd/aead.h: a lane is never shared).
 */
static void *crypt_lane_init(void *arg, unsigned int idx)
{
	(void)arg;
	(void)idx;
	return aead_lane_new(); /* NULL: that thread falls back to crypto/data.c */
}

static void crypt_lane_exit(void *arg, void *lane)
{
	(void)arg;
	aead_lane_free(lane);
}

/*
 * The AEAD calls of the threaded path, with the thread's lane as ctx. Each item ends with
 * aead_lane_forget, so no crypt thread holds a key once the loop's burst is over
 * (whitepaper §6.4, key erasure).
 */
static void crypt_item_seal(void *ctx, void *items, size_t i)
{
	const struct crypt_item *it = (const struct crypt_item *)items + i;
	const struct crypt_seal_op *op = it->c->seals + it->first;
	struct aead_lane *lane = ctx;

	for (uint32_t k = 0; k < it->count; k++, op++) {
		if (lane)
			(void)aead_seal(lane, op->msg, op->plain_len, op->padded_len, op->key,
					op->remote_index, op->nonce);
		else
			(void)data_seal(op->msg, op->plain_len, op->padded_len, op->key,
					op->remote_index, op->nonce);
	}
	aead_lane_forget(lane);
}

static void crypt_item_open(void *ctx, void *items, size_t i)
{
	const struct crypt_item *it = (const struct crypt_item *)items + i;
	struct crypt_rx_entry *e = it->c->rx + it->first;
	struct aead_lane *lane = ctx;

	for (uint32_t k = 0; k < it->count; k++, e++) {
		if (!e->key)
			continue;
		e->is_open =
			lane ? aead_open(lane, e->buf, e->len, e->key, &e->plain_len, &e->nonce)
			     : data_open(e->buf, e->len, e->key, &e->plain_len, &e->nonce);
	}
	aead_lane_forget(lane);
}

/* Cuts n records of the given sizes into items of about CRYPT_POOL_ITEM_BYTES. */
static size_t make_items(struct crypt_data *c, size_t n,
			 size_t (*bytes)(struct crypt_data *, size_t))
{
	size_t n_items = 0, acc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!n_items || acc >= CRYPT_POOL_ITEM_BYTES) {
			c->items[n_items++] = (struct crypt_item){ c, (uint32_t)i, 0 };
			acc = 0;
		}
		c->items[n_items - 1].count++;
		acc += bytes(c, i);
	}
	return n_items;
}

static size_t seal_bytes(struct crypt_data *c, size_t i)
{
	return c->seals[i].padded_len + message_data_len(0);
}

static size_t open_bytes(struct crypt_data *c, size_t i)
{
	return c->rx[i].key ? c->rx[i].len : 0;
}

int crypt_data_enable(struct device *dev, unsigned int n)
{
	struct crypt_data *c;
	int ret = -ENOMEM;

	if (n <= 1 || dev->crypt)
		return n < 1 ? -EINVAL : 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tx_arena = malloc(CRYPT_TX_ARENA);
	c->seals = calloc(CRYPT_TX_SEALS, sizeof(*c->seals));
	c->sends = calloc(CRYPT_TX_SEALS, sizeof(*c->sends));
	c->rx_arena = malloc((size_t)CRYPT_RX_READS * PACKET_RX_BUF_LEN);
	c->rx = calloc(CRYPT_RX_ENTRIES, sizeof(*c->rx));
	c->items = calloc(CRYPT_TX_SEALS, sizeof(*c->items));
	/* a turn takes as much DH time off the loop as one thread's budget would */
	c->hs_budget = HSQUEUE_BUDGET * n;
	c->hs_jobs = calloc(c->hs_budget, crypt_hs_job_size());
	if (c->tx_arena && c->seals && c->sends && c->rx_arena && c->rx && c->items && c->hs_jobs)
		ret = crypt_pool_create_with(&c->pool, n, crypt_lane_init, crypt_lane_exit, c);
	if (ret < 0) {
		dev->crypt = c;
		crypt_data_disable(dev);
		return ret;
	}
	c->saved_gso_buf = dev->gso_buf;
	dev->gso_buf = c->tx_arena;
	dev->crypt = c;
	return 0;
}

void crypt_data_disable(struct device *dev)
{
	struct crypt_data *c = dev->crypt;

	if (!c)
		return;
	crypt_pool_destroy(c->pool);
	if (c->saved_gso_buf)
		dev->gso_buf = c->saved_gso_buf;
	/* the arenas held plaintext */
	if (c->tx_arena)
		wipe(c->tx_arena, CRYPT_TX_ARENA);
	if (c->rx_arena)
		wipe(c->rx_arena, (size_t)CRYPT_RX_READS * PACKET_RX_BUF_LEN);
	free(c->tx_arena);
	free(c->seals);
	free(c->sends);
	free(c->rx_arena);
	free(c->rx);
	free(c->items);
	free(c->hs_jobs); /* wiped after each run */
	free(c);
	dev->crypt = NULL;
}

unsigned int crypt_data_threads(const struct device *dev)
{
	return dev->crypt ? crypt_pool_threads(dev->crypt->pool) : 1;
}

void *crypt_data_hs_jobs(struct device *dev)
{
	return dev->crypt->hs_jobs;
}

unsigned int crypt_data_hs_budget(const struct device *dev)
{
	return dev->crypt->hs_budget;
}

void crypt_data_run(struct device *dev, void (*fn)(void *ctx, void *items, size_t i), void *items,
		    size_t n)
{
	crypt_pool_run(dev->crypt->pool, fn, items, n);
}

void crypt_data_add_seal(struct device *dev, uint8_t *msg, size_t plain_len, size_t padded_len,
			 const uint8_t *key, uint32_t remote_index, uint64_t nonce)
{
	struct crypt_data *c = dev->crypt;

	c->seals[c->seals_len++] = (struct crypt_seal_op){
		msg, key, nonce, remote_index, (uint32_t)plain_len, (uint32_t)padded_len
	};
}

void crypt_data_add_send(struct device *dev, struct peer *peer, uint8_t *buf, size_t len,
			 size_t seg)
{
	struct crypt_data *c = dev->crypt;

	c->sends[c->sends_len++] = (struct crypt_send_op){ peer, buf, len, seg };
	c->tx_cursor = (size_t)(buf - c->tx_arena) + len;
	dev->gso_buf = c->tx_arena + c->tx_cursor;
	/* the next batch, or one 64 KiB packet laid out before it is cut, must fit */
	if (CRYPT_TX_ARENA - c->tx_cursor < PACKET_GSO_BUF_LEN)
		crypt_data_commit(dev);
}

void crypt_data_commit(struct device *dev)
{
	struct crypt_data *c = dev->crypt;
	struct crypt_send_op *op;

	crypt_pool_run(c->pool, crypt_item_seal, c->items, make_items(c, c->seals_len, seal_bytes));
	for (size_t i = 0; i < c->sends_len; i++) {
		op = &c->sends[i];
		if (device_udp_send_segments(dev, &op->peer->endpoint, op->buf, op->len, op->seg) ==
		    0)
			op->peer->tx_bytes += op->len;
	}
	c->seals_len = 0;
	c->sends_len = 0;
	c->tx_cursor = 0;
	dev->gso_buf = c->tx_arena;
}

/* Records one datagram; a data message with a usable keypair gets its key to open. */
static void rx_record(struct device *dev, uint8_t *buf, size_t len, uint16_t read, uint64_t now_ns)
{
	struct crypt_data *c = dev->crypt;
	struct crypt_rx_entry *e = &c->rx[c->rx_len++];
	struct noise_keypair *kp = NULL;
	struct peer *p;

	*e = (struct crypt_rx_entry){ .buf = buf, .len = len, .read = read };
	if (receive_classify(buf, len) == MESSAGE_DATA && dev->is_up)
		kp = receive_data_keypair(dev, buf, now_ns, &p);
	e->key = kp ? kp->receiving.key : NULL;
}

/* Reads up to `budget` times into the arena; how many reads gave datagrams. */
static unsigned int rx_read(struct device *dev, int fd, unsigned int budget, bool *is_drained,
			    uint64_t now_ns)
{
	struct crypt_data *c = dev->crypt;
	unsigned int reads = 0;
	size_t seg, len;
	uint8_t *buf;
	ssize_t n;

	c->rx_len = 0;
	for (unsigned int i = 0; i < budget && reads < CRYPT_RX_READS; i++) {
		buf = c->rx_arena + (size_t)reads * PACKET_RX_BUF_LEN;
		n = udp_socket_recv_segments(fd, buf, PACKET_RX_BUF_LEN, &c->from[reads], &seg);
		if (n == -EMSGSIZE)
			continue;
		if (n < 0) {
			*is_drained = true;
			break;
		}
		for (size_t off = 0; off < (size_t)n; off += seg) {
			len = (size_t)n - off < seg ? (size_t)n - off : seg;
			rx_record(dev, buf + off, len, (uint16_t)reads, now_ns);
		}
		if (c->rx_len)
			c->rx[c->rx_len - 1].ends_read = true;
		reads++;
	}
	return reads;
}

/* In read order: opened data goes on through receive.c, the rest as with one thread. */
static void rx_deliver(struct device *dev, uint64_t now_ns)
{
	struct crypt_data *c = dev->crypt;
	struct crypt_rx_entry *e;

	for (size_t i = 0; i < c->rx_len; i++) {
		e = &c->rx[i];
		if (e->is_open)
			receive_data_opened(dev, e->buf, e->len, e->plain_len, e->nonce,
					    &c->from[e->read], now_ns);
		else if (!e->key && receive_classify(e->buf, e->len) != MESSAGE_DATA)
			device_udp_receive(dev, e->buf, e->len, &c->from[e->read], now_ns);
		/* the TUN batch points into this read's datagrams */
		if (e->ends_read)
			device_tun_flush(dev);
	}
	device_tun_flush(dev);
}

void crypt_data_udp_readable(struct device *dev, int fd, uint64_t now_ns)
{
	struct crypt_data *c = dev->crypt;
	unsigned int done = 0, reads;
	bool is_drained = false;

	while (done < CRYPT_RX_BATCH && !is_drained) {
		reads = rx_read(dev, fd, CRYPT_RX_BATCH - done, &is_drained, now_ns);
		if (!reads)
			break;
		done += reads;
		crypt_pool_run(c->pool, crypt_item_open, c->items,
			       make_items(c, c->rx_len, open_bytes));
		rx_deliver(dev, now_ns);
	}
	device_handshakes_run(dev, now_ns);
	device_rearm(dev);
}
