/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets in tests/fuzz/. Header-only and all static, because each
 * target is one translation unit compiled together with the whole core (and the regression
 * test, tests/unit/fuzz_regress_test.c, includes several targets at once).
 *
 * What it provides: a reader that turns the fuzzer's bytes into small decisions (running
 * dry yields zeros, so every input is valid), a deterministic randomness hook reseeded
 * for each input (so ephemerals, indices and cookie secrets, hence crashes, reproduce),
 * FZ_CHECK (abort() under libFuzzer, a Criterion assertion in the regression test), and a
 * device whose UDP sends and TUN writes are captured and whose clock is virtual, built as
 * tests/unit/device_harness.h builds it but without Criterion.
 */
#ifndef WGD_TESTS_FUZZ_H
#define WGD_TESTS_FUZZ_H

#include <arpa/inet.h>
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/key.h"
#include "crypto/messages.h"
#include "crypto/random.h"
#include "wgd/cfg.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/packet.h"
#include "wgd/peer.h"

#ifdef FZ_CRITERION
#include <criterion/criterion.h>
#define FZ_CHECK(cond, ...) cr_assert((cond), __VA_ARGS__)
#else
/* to fd 2 itself: the wgctl target points stdio's stderr at /dev/null */
#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			dprintf(2, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);        \
			dprintf(2, __VA_ARGS__);                                                   \
			dprintf(2, "\n");                                                          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
#endif

/* Each target defines fz_NAME_one(); this adds the libFuzzer entry unless included. */
#ifdef FZ_NO_MAIN
#define FZ_ENTRY(fn)
#else
#define FZ_ENTRY(fn)                                                                               \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                              \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
	{                                                                                          \
		fn(data, size);                                                                    \
		return 0;                                                                          \
	}
#endif

#define FZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- the input reader ------------------------------------------------------------------ */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* Copies up to len bytes; the rest of dst is zeroed. Returns how many came from the input. */
static inline size_t fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t take = len < in->n ? len : in->n;

	memcpy(dst, in->p, take);
	memset((uint8_t *)dst + take, 0, len - take);
	in->p += take;
	in->n -= take;
	return take;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t v;

	fz_bytes(in, &v, sizeof(v));
	return le16toh(v);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v;

	fz_bytes(in, &v, sizeof(v));
	return le32toh(v);
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v;

	fz_bytes(in, &v, sizeof(v));
	return le64toh(v);
}

/* A borrowed slice of up to max bytes, its length first as a u16. */
static inline const uint8_t *fz_slice(struct fz_in *in, size_t max, size_t *len)
{
	size_t want = fz_u16(in);
	const uint8_t *p = in->p;

	if (want > max)
		want = max;
	if (want > in->n)
		want = in->n;
	in->p += want;
	in->n -= want;
	*len = want;
	return p;
}

/* --- randomness and process setup ----------------------------------------------------- */

static uint64_t fz_rng_state;

/* splitmix64: deterministic, so a crash input replays to the same ephemerals and indices */
static void fz_random(void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t z = (fz_rng_state += 0x9e3779b97f4a7c15ULL);
		size_t n = len < sizeof(z) ? len : sizeof(z);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(out, &z, n);
		out += n;
		len -= n;
	}
}

/* Once per process: libsodium, silence, the hook; then reseed for this input. */
static inline void fz_begin(uint64_t seed)
{
	static bool ready;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		log_set_level(LOG_SILENT);
		crypto_random_set_hook(fz_random);
		ready = true;
	}
	fz_rng_state = seed;
}

/* --- a device with captured I/O ------------------------------------------------------- */

enum {
	FZ_CAP_MAX = 320, /* > MAX_STAGED_PACKETS + tun_egress's TE_MAX_SEGMENTS */
	FZ_PORT_A = 10001,
	FZ_PORT_B = 10002,
};
#define FZ_T0		 (1000 * NSEC_PER_SEC) /* virtual CLOCK_BOOTTIME of the first step */
#define FZ_REALTIME_BASE (1700000000ULL * NSEC_PER_SEC)

struct fz_pkt {
	uint8_t *buf;
	size_t len;
	uint16_t port; /* destination port (host order) of a UDP send */
};

struct fz_caps {
	struct fz_pkt pkt[FZ_CAP_MAX];
	size_t len;
	size_t total; /* including those dropped for want of room */
};

struct fz_dev {
	struct device *dev;
	uint8_t private_key[NOISE_PRIVATE_KEY_LEN], public_key[NOISE_PUBLIC_KEY_LEN];
	union endpoint_addr self; /* our address as the other side sees it */
	struct device_io real_io; /* what device_create installed (the real TUN write, say) */
	int64_t realtime_skew_ns; /* added to the wall clock: lets a target move it back */
	uint64_t now_ns;
	struct fz_caps sent, tun;
};

static inline void fz_caps_add(struct fz_caps *c, const void *buf, size_t len, uint16_t port)
{
	uint8_t *copy;

	c->total++;
	if (c->len == FZ_CAP_MAX)
		return;
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, buf, len);
	c->pkt[c->len++] = (struct fz_pkt){ copy, len, port };
}

static inline void fz_caps_clear(struct fz_caps *c)
{
	for (size_t i = 0; i < c->len; i++)
		free(c->pkt[i].buf);
	memset(c, 0, sizeof(*c));
}

static int fz_udp_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	struct fz_dev *d = dev->io.ctx;

	fz_caps_add(&d->sent, buf, len, ntohs(ep->addr.in4.sin_port));
	return 0;
}

static int fz_tun_write(struct device *dev, const void *buf, size_t len)
{
	struct fz_dev *d = dev->io.ctx;

	fz_caps_add(&d->tun, buf, len, 0);
	return 0;
}

static uint64_t fz_realtime(struct device *dev)
{
	struct fz_dev *d = dev->io.ctx;

	return FZ_REALTIME_BASE + d->now_ns + (uint64_t)d->realtime_skew_ns;
}

static uint64_t fz_jitter(struct device *dev, uint64_t max_ns)
{
	(void)dev;
	(void)max_ns;
	return 0;
}

static inline void fz_key_from_seed(uint8_t key[static 32], uint8_t seed)
{
	memset(key, seed, 32);
	key_clamp(key);
}

/* A device whose private key is all `seed' bytes (clamped), seen at 127.0.0.1:port. */
static inline void fz_dev_init(struct fz_dev *d, uint8_t seed, uint16_t port)
{
	struct cfg_device cfg = { 0 };

	memset(d, 0, sizeof(*d));
	if (device_create(&d->dev, "wgfuzz", -1, NULL) < 0)
		abort();
	d->real_io = d->dev->io;
	d->dev->io = (struct device_io){ .udp_send = fz_udp_send,
					 .tun_write = fz_tun_write,
					 .realtime_ns = fz_realtime,
					 .jitter_ns = fz_jitter,
					 .ctx = d };
	fz_key_from_seed(d->private_key, seed);
	if (crypto_scalarmult_base(d->public_key, d->private_key) < 0)
		abort();
	d->self.in4.sin_family = AF_INET;
	d->self.in4.sin_port = htons(port);
	d->self.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->now_ns = FZ_T0;
	memcpy(cfg.private_key, d->private_key, sizeof(cfg.private_key));
	cfg.flags = CFG_DEV_HAS_PRIVATE_KEY;
	if (device_apply_cfg(d->dev, &cfg, d->now_ns) < 0)
		abort();
	cfg_device_clear(&cfg);
}

static inline void fz_dev_free(struct fz_dev *d)
{
	device_destroy(d->dev);
	fz_caps_clear(&d->sent);
	fz_caps_clear(&d->tun);
	memset(d, 0, sizeof(*d));
}

static inline void fz_add_aip(struct cfg_peer *cp, int family, const char *addr, uint8_t cidr)
{
	struct cfg_allowedip a = { .family = family, .cidr = cidr };

	if (inet_pton(family, addr, &a.ip6) != 1 || cfg_peer_add_allowedip(cp, &a) < 0)
		abort();
}

/*
 * Adds the device with public key pub (and endpoint ep, when not NULL) as a peer of d,
 * owning aip4/32 and aip6/128 (either may be NULL), with an optional preshared key.
 */
static inline struct peer *fz_add_peer(struct fz_dev *d, const uint8_t pub[static 32],
				       const union endpoint_addr *ep, const char *aip4,
				       const char *aip6, const uint8_t *psk)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp = cfg_device_add_peer(&cfg);

	if (!cp)
		abort();
	memcpy(cp->public_key, pub, 32);
	cp->flags = CFG_PEER_REPLACE_ALLOWEDIPS;
	if (ep) {
		memcpy(&cp->endpoint, ep, sizeof(cp->endpoint));
		cp->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	if (psk) {
		memcpy(cp->preshared_key, psk, 32);
		cp->flags |= CFG_PEER_HAS_PRESHARED_KEY;
	}
	if (aip4)
		fz_add_aip(cp, AF_INET, aip4, 32);
	if (aip6)
		fz_add_aip(cp, AF_INET6, aip6, 128);
	if (device_apply_cfg(d->dev, &cfg, d->now_ns) < 0)
		abort();
	cfg_device_clear(&cfg);
	return device_lookup_peer(d->dev, pub);
}

/* Hands one datagram to `to' as if it came from the address `from'. */
static inline void fz_receive(struct fz_dev *to, const union endpoint_addr *from, const void *buf,
			      size_t len, uint64_t now)
{
	struct endpoint ep;

	if (len > PACKET_RX_BUF_LEN)
		len = PACKET_RX_BUF_LEN;
	memset(&ep, 0, sizeof(ep));
	ep.addr = *from;
	to->now_ns = now;
	memcpy(to->dev->rx_buf, buf, len);
	receive_datagram(to->dev, to->dev->rx_buf, len, &ep, now);
}

/* Hands every datagram `from' sent to `to', in order, and forgets them. */
static inline void fz_deliver(struct fz_dev *from, struct fz_dev *to, uint64_t now)
{
	struct fz_caps sent = from->sent;

	memset(&from->sent, 0, sizeof(from->sent));
	for (size_t i = 0; i < sent.len; i++)
		fz_receive(to, &from->self, sent.pkt[i].buf, sent.pkt[i].len, now);
	fz_caps_clear(&sent);
}

static inline uint32_t fz_type(const struct fz_pkt *p)
{
	uint32_t t = 0;

	if (p->len >= sizeof(t))
		memcpy(&t, p->buf, sizeof(t));
	return le32toh(t);
}

/* The mac1 a sender to `receiver_pub' puts on msg (initiation or response), via cookie.c. */
static inline void fz_set_mac1(uint8_t *msg, size_t len, const uint8_t receiver_pub[static 32],
			       uint64_t now)
{
	struct cookie_maker m;

	cookie_maker_init(&m, receiver_pub);
	cookie_add_mac_to_packet(msg, len, &m, now);
	cookie_maker_clear(&m);
}

#endif
