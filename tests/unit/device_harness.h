/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the daemon core (timers_test, receive_test, device_test): a device
 * whose UDP sends and TUN writes are captured instead of performed, whose wall clock and
 * retransmit jitter are set by the test, and which is driven on a virtual CLOCK_BOOTTIME.
 * Two harnesses exchange their captured datagrams with h_deliver(), so a whole session
 * runs in one process without sockets. Header-only; include it from one test file.
 */
#ifndef WGD_TEST_DEVICE_HARNESS_H
#define WGD_TEST_DEVICE_HARNESS_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <endian.h>
#include <string.h>

#include <sodium.h>

#include "crypto/messages.h"
#include "wgd/cfg.h"
#include "wgd/device.h"
#include "wgd/packet.h"
#include "wgd/peer.h"
#include "wgd/timers.h"

#define H_MAX		256
#define H_BUF		2048
#define H_T0		(1000 * NSEC_PER_SEC) /* virtual boot time of the first step */
#define H_REALTIME_BASE (1700000000ULL * NSEC_PER_SEC)
#define S(x)		((uint64_t)(x)*NSEC_PER_SEC)
#define MS(x)		((uint64_t)(x)*NSEC_PER_MSEC)

struct h_datagram {
	uint8_t buf[H_BUF];
	size_t len;
};

struct harness {
	struct device *dev;
	uint8_t private_key[32], public_key[32];
	union endpoint_addr self; /* our address as the other side sees it */
	uint64_t now_ns;	  /* the virtual CLOCK_BOOTTIME of the current step */
	uint64_t jitter_ns;
	struct h_datagram sent[H_MAX];
	size_t nsent, sends; /* captured now; total ever */
	struct h_datagram tun[H_MAX];
	size_t ntun;
	int send_result; /* what the fake socket returns */
};

static inline int h_udp_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	struct harness *h = dev->io.ctx;

	(void)ep;
	if (h->send_result)
		return h->send_result;
	h->sends++;
	if (h->nsent < H_MAX && len <= H_BUF) {
		memcpy(h->sent[h->nsent].buf, buf, len);
		h->sent[h->nsent++].len = len;
	}
	return 0;
}

static inline int h_tun_write(struct device *dev, const void *buf, size_t len)
{
	struct harness *h = dev->io.ctx;

	if (h->ntun < H_MAX && len <= H_BUF) {
		memcpy(h->tun[h->ntun].buf, buf, len);
		h->tun[h->ntun++].len = len;
	}
	return 0;
}

static inline uint64_t h_realtime(struct device *dev)
{
	struct harness *h = dev->io.ctx;

	return H_REALTIME_BASE + h->now_ns;
}

static inline uint64_t h_jitter(struct device *dev, uint64_t max_ns)
{
	struct harness *h = dev->io.ctx;

	cr_assert_lt(h->jitter_ns, max_ns);
	return h->jitter_ns;
}

/* A device with private key bytes all `seed` (clamped by noise), reachable at 127.0.0.1:port. */
static inline void h_init(struct harness *h, uint8_t seed, uint16_t port)
{
	struct cfg_device cfg = { 0 };

	memset(h, 0, sizeof(*h));
	cr_assert_eq(sodium_init() < 0, 0);
	cr_assert_eq(device_create(&h->dev, "wgtest", -1, NULL), 0);
	h->dev->io = (struct device_io){ h_udp_send, h_tun_write, h_realtime, h_jitter, h };
	memset(h->private_key, seed, sizeof(h->private_key));
	h->private_key[0] &= 248;
	h->private_key[31] = (h->private_key[31] & 127) | 64;
	cr_assert_eq(crypto_scalarmult_base(h->public_key, h->private_key), 0);
	h->self.in4.sin_family = AF_INET;
	h->self.in4.sin_port = htons(port);
	h->self.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(cfg.private_key, h->private_key, 32);
	cfg.flags = CFG_DEV_HAS_PRIVATE_KEY;
	cr_assert_eq(device_apply_cfg(h->dev, &cfg, H_T0), 0);
	cfg_device_clear(&cfg);
}

static inline void h_free(struct harness *h)
{
	device_destroy(h->dev);
	h->dev = NULL;
}

static inline void h_add_aip(struct cfg_peer *cp, int family, const char *addr, uint8_t cidr)
{
	struct cfg_allowedip a = { .family = family, .cidr = cidr };

	cr_assert_eq(inet_pton(family, addr, &a.ip6), 1);
	cr_assert_eq(cfg_peer_add_allowedip(cp, &a), 0);
}

/* Adds `other` as a peer of h owning aip/cidr, with other's address as endpoint. */
static inline struct peer *h_add_peer(struct harness *h, const struct harness *other,
				      const char *aip, uint8_t cidr, uint16_t keepalive_s)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp = cfg_device_add_peer(&cfg);

	cr_assert_not_null(cp);
	memcpy(cp->public_key, other->public_key, 32);
	memcpy(&cp->endpoint, &other->self, sizeof(cp->endpoint));
	cp->flags = CFG_PEER_HAS_ENDPOINT | CFG_PEER_REPLACE_ALLOWEDIPS;
	if (keepalive_s) {
		cp->persistent_keepalive_s = keepalive_s;
		cp->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	}
	h_add_aip(cp, AF_INET, aip, cidr);
	cr_assert_eq(device_apply_cfg(h->dev, &cfg, h->now_ns ? h->now_ns : H_T0), 0);
	cfg_device_clear(&cfg);
	return device_lookup_peer(h->dev, other->public_key);
}

/* An IPv4 packet src -> dst with `payload` bytes after the 20-byte header. */
static inline size_t h_ipv4(uint8_t *pkt, const char *src, const char *dst, size_t payload)
{
	size_t len = 20 + payload;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 17;
	cr_assert_eq(inet_pton(AF_INET, src, pkt + 12), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, pkt + 16), 1);
	for (size_t i = 20; i < len; i++)
		pkt[i] = (uint8_t)i;
	return len;
}

/* As if the TUN produced an IPv4 packet src -> dst at time now. */
static inline void h_tun_packet(struct harness *h, const char *src, const char *dst, size_t payload,
				uint64_t now)
{
	size_t len;

	h->now_ns = now;
	len = h_ipv4(h->dev->tx_buf + sizeof(struct message_data), src, dst, payload);
	send_tun_packet(h->dev, len, now);
}

static inline void h_receive(struct harness *to, const struct harness *from, const uint8_t *buf,
			     size_t len, uint64_t now)
{
	struct endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr = from->self;
	to->now_ns = now;
	memcpy(to->dev->rx_buf, buf, len);
	receive_datagram(to->dev, to->dev->rx_buf, len, &ep, now);
}

/* Hands every datagram `from` captured to `to`, in order; returns how many. */
static inline size_t h_deliver(struct harness *from, struct harness *to, uint64_t now)
{
	size_t n = from->nsent;

	for (size_t i = 0; i < n; i++)
		h_receive(to, from, from->sent[i].buf, from->sent[i].len, now);
	from->nsent = 0;
	return n;
}

static inline void h_run(struct harness *h, uint64_t now)
{
	h->now_ns = now;
	timers_run(h->dev, now);
}

static inline uint32_t h_type(const struct h_datagram *d)
{
	uint32_t t;

	memcpy(&t, d->buf, sizeof(t));
	return le32toh(t);
}

/* Lets the two talk until both are quiet. */
static inline void h_converse(struct harness *a, struct harness *b, uint64_t now)
{
	while (a->nsent || b->nsent) {
		h_deliver(a, b, now);
		h_deliver(b, a, now);
	}
}

#endif
