/* SPDX-License-Identifier: MIT */
/*
 * device_apply_cfg: the UAPI set semantics of wireguard-go's device/uapi.go and PROTOCOL.md
 * §2 (replace_peers, update_only, remove, replace_allowed_ips, "-" removals, key rules,
 * keepalive, port, fwmark), and atomicity: a request that fails anywhere leaves a
 * snapshot of the whole device state byte-for-byte unchanged.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "device_harness.h"

static struct harness a, b;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(device, .init = setup, .fini = teardown);

struct text {
	char buf[16384];
	size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t->len += (size_t)vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	cr_assert_lt(t->len, sizeof(t->buf));
}

static void text_key(struct text *t, const char *name, const uint8_t *key)
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), key, 32);
	text_add(t, "%s=%s\n", name, hex);
}

static int text_route(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	text_add(ctx, "allowed_ip=%s/%u\n", ip, cidr);
	return 0;
}

/* Everything a get=1 shows, plus the session state, as text. */
static void snapshot(struct device *dev, struct text *t)
{
	char ep[ENDPOINT_STRING_LEN];
	struct peer *p;

	t->len = 0;
	text_add(t, "identity=%d port=%u fwmark=%u peers=%zu\n", dev->identity.has_identity,
		 dev->sock.port, dev->fwmark, dev->peers_len);
	text_key(t, "private", dev->identity.static_private);
	for (p = dev->peers_first; p; p = p->next) {
		text_key(t, "public_key", peer_public_key(p));
		text_key(t, "preshared_key", peer_preshared_key(p));
		endpoint_to_string(&p->endpoint.addr, ep, sizeof(ep));
		text_add(t, "endpoint=%s keepalive=%u rx=%llu tx=%llu hs=%d\n", ep,
			 p->persistent_keepalive_s, (unsigned long long)p->rx_bytes,
			 (unsigned long long)p->tx_bytes, p->handshake.state);
		text_add(t, "current=%d/%d next=%d\n", p->keypairs.current.sending.is_valid,
			 p->keypairs.current.receiving.is_valid, p->keypairs.next.sending.is_valid);
		allowedips_walk_by_peer(&dev->allowedips, p, text_route, t);
	}
}

static struct cfg_peer *cfg_peer(struct cfg_device *cfg, const uint8_t *key, unsigned int flags)
{
	struct cfg_peer *cp = cfg_device_add_peer(cfg);

	cr_assert_not_null(cp);
	memcpy(cp->public_key, key, 32);
	cp->flags = flags;
	return cp;
}

static void key_of(uint8_t key[32], uint8_t seed)
{
	memset(key, 0, 32);
	key[0] = seed;
	key[1] = 0x42; /* a made-up public key; never our own */
}

static size_t route_count(struct device *dev, const uint8_t *key)
{
	struct peer *p = device_lookup_peer(dev, key);

	return p ? allowedips_count_by_peer(&dev->allowedips, p) : 0;
}

static struct peer *route(struct device *dev, const char *ip)
{
	uint8_t addr[4];

	cr_assert_eq(inet_pton(AF_INET, ip, addr), 1);
	return allowedips_lookup(&dev->allowedips, AF_INET, addr);
}

static int apply(struct device *dev, struct cfg_device *cfg)
{
	int ret = device_apply_cfg(dev, cfg, H_T0 + S(1));

	cfg_device_clear(cfg);
	return ret;
}

/* a and b with a session, plus two extra peers on a. */
static void populate(void)
{
	struct cfg_device cfg = { 0 };
	uint8_t k[32];

	h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0);
	h_converse(&a, &b, H_T0);
	cr_assert_eq(b.ntun, 1);
	key_of(k, 1);
	h_add_aip(cfg_peer(&cfg, k, 0), AF_INET, "10.1.0.0", 16);
	key_of(k, 2);
	h_add_aip(cfg_peer(&cfg, k, 0), AF_INET, "10.2.0.0", 16);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.dev->peers_len, 3);
}

Test(device, failed_requests_change_nothing)
{
	struct text before, after;
	uint8_t k[32];
	int sock;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);

	populate();
	snapshot(a.dev, &before);
	/* Each request mixes many valid changes with one bad element at the end. */
	for (int bad = 0; bad < 5; bad++) {
		struct cfg_device cfg = { 0 };
		struct cfg_peer *cp;

		cfg.flags = CFG_DEV_REPLACE_PEERS | CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_FWMARK;
		memset(cfg.private_key, 0x99, 32);
		cfg.fwmark = 77;
		key_of(k, 7);
		cp = cfg_peer(&cfg, k, CFG_PEER_HAS_PERSISTENT_KEEPALIVE);
		cp->persistent_keepalive_s = 5;
		h_add_aip(cp, AF_INET, "10.0.0.2", 32);
		key_of(k, 8);
		cp = cfg_peer(&cfg, k, 0);
		if (bad == 0) {
			h_add_aip(cp, AF_INET, "10.9.0.0", 16);
			cp->allowedips[0].cidr = 33;
		}
		if (bad == 1) {
			h_add_aip(cp, AF_INET6, "fd00::", 8);
			cp->allowedips[0].cidr = 129;
		}
		if (bad == 2) {
			cp->flags |= CFG_PEER_HAS_ENDPOINT;
			cp->endpoint.sa.sa_family = AF_UNIX;
		}
		if (bad == 3)
			cfg_peer(&cfg, k, 0); /* the same public key twice */
		if (bad == 4) {
			h_add_aip(cp, AF_INET, "10.9.0.0", 16);
			cp->allowedips[0].family = AF_UNIX;
		}
		cr_assert_eq(apply(a.dev, &cfg), -EINVAL, "bad element %d", bad);
		snapshot(a.dev, &after);
		cr_assert_str_eq(after.buf, before.buf, "bad element %d", bad);
	}
	/* A listen port in use: bound elsewhere, so binding fails last of all. */
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(sock, 0);
	cr_assert_eq(bind(sock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(sock, (struct sockaddr *)&sin, &slen), 0);
	{
		struct cfg_device cfg = { 0 };

		cfg.flags = CFG_DEV_REPLACE_PEERS | CFG_DEV_HAS_LISTEN_PORT;
		cfg.listen_port = ntohs(sin.sin_port);
		key_of(k, 9);
		h_add_aip(cfg_peer(&cfg, k, 0), AF_INET, "10.0.0.0", 8);
		cr_assert_eq(apply(a.dev, &cfg), -EADDRINUSE);
	}
	close(sock);
	snapshot(a.dev, &after);
	cr_assert_str_eq(after.buf, before.buf);
	/* The untouched session still carries data. */
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(2));
	h_deliver(&a, &b, H_T0 + S(2));
	cr_assert_eq(b.ntun, 2);
}

Test(device, replace_peers)
{
	struct cfg_device cfg = { 0 };
	uint8_t k1[32], k3[32];
	struct peer *p;

	populate();
	key_of(k1, 1);
	key_of(k3, 3);
	cfg.flags = CFG_DEV_REPLACE_PEERS;
	/* b is re-added: wireguard-go removes every peer first, so its session goes. */
	h_add_aip(cfg_peer(&cfg, b.public_key, 0), AF_INET, "10.0.0.2", 32);
	h_add_aip(cfg_peer(&cfg, k3, 0), AF_INET, "10.3.0.0", 16);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.dev->peers_len, 2);
	cr_assert_null(device_lookup_peer(a.dev, k1));
	cr_assert_null(route(a.dev, "10.1.2.3"));
	p = device_lookup_peer(a.dev, b.public_key);
	cr_assert(noise_keypair_is_empty(&p->keypairs.current));
	cr_assert_eq(p->endpoint.addr.sa.sa_family, 0);
	cr_assert_eq(route(a.dev, "10.0.0.2"), p);
	cr_assert_eq(route(a.dev, "10.3.0.1"), device_lookup_peer(a.dev, k3));
	/* Creation order is get=1 order. */
	cr_assert_eq(a.dev->peers_first, p);
	cr_assert_eq(a.dev->index.len, 0, "indices of removed peers are gone");
}

Test(device, update_only_and_remove)
{
	struct cfg_device cfg = { 0 };
	uint8_t k1[32], k5[32];
	struct cfg_peer *cp;

	populate();
	key_of(k1, 1);
	key_of(k5, 5);
	cp = cfg_peer(&cfg, k5, CFG_PEER_UPDATE_ONLY);
	h_add_aip(cp, AF_INET, "10.5.0.0", 16);
	cp = cfg_peer(&cfg, k1, CFG_PEER_UPDATE_ONLY | CFG_PEER_HAS_PERSISTENT_KEEPALIVE);
	cp->persistent_keepalive_s = 0;
	h_add_aip(cp, AF_INET, "10.6.0.0", 16);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_null(device_lookup_peer(a.dev, k5), "update_only never creates");
	cr_assert_null(route(a.dev, "10.5.0.1"));
	cr_assert_eq(route_count(a.dev, k1), 2);

	cfg_peer(&cfg, k1, CFG_PEER_REMOVE_ME);
	cfg_peer(&cfg, k5, CFG_PEER_REMOVE_ME); /* absent: nothing to do */
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_null(device_lookup_peer(a.dev, k1));
	cr_assert_null(route(a.dev, "10.6.0.1"));
	cr_assert_null(route(a.dev, "10.1.0.1"));
	cr_assert_eq(a.dev->peers_len, 2);
}

Test(device, allowed_ips_replace_add_remove_steal)
{
	struct cfg_device cfg = { 0 };
	uint8_t k1[32], k2[32];
	struct cfg_peer *cp;
	struct peer *p1, *p2;

	populate();
	key_of(k1, 1);
	key_of(k2, 2);
	p1 = device_lookup_peer(a.dev, k1);
	p2 = device_lookup_peer(a.dev, k2);
	/* Without replace: appended. */
	h_add_aip(cfg_peer(&cfg, k1, 0), AF_INET, "10.11.0.0", 16);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(route_count(a.dev, k1), 2);
	/* With replace: only the new list; an empty list clears. */
	cp = cfg_peer(&cfg, k1, CFG_PEER_REPLACE_ALLOWEDIPS);
	h_add_aip(cp, AF_INET, "10.12.0.0", 16);
	cfg_peer(&cfg, k2, CFG_PEER_REPLACE_ALLOWEDIPS);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(route_count(a.dev, k1), 1);
	cr_assert_eq(route(a.dev, "10.12.0.1"), p1);
	cr_assert_eq(route_count(a.dev, k2), 0);
	/* A prefix given to another peer moves there (last writer wins). */
	h_add_aip(cfg_peer(&cfg, k2, 0), AF_INET, "10.12.0.0", 16);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(route(a.dev, "10.12.0.1"), p2);
	cr_assert_eq(route_count(a.dev, k1), 0);
	/* "-prefix" removes only the caller's own route. */
	cp = cfg_peer(&cfg, k1, 0);
	h_add_aip(cp, AF_INET, "10.12.0.0", 16);
	cp->allowedips[0].is_removal = true;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(route(a.dev, "10.12.0.1"), p2);
	cp = cfg_peer(&cfg, k2, 0);
	h_add_aip(cp, AF_INET, "10.12.0.0", 16);
	cp->allowedips[0].is_removal = true;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_null(route(a.dev, "10.12.0.1"));
}

Test(device, private_key_rules)
{
	struct cfg_device cfg = { .flags = CFG_DEV_HAS_PRIVATE_KEY };
	struct peer *pb;
	struct harness c;

	populate();
	pb = device_lookup_peer(a.dev, b.public_key);
	/* The same key again (wg syncconf): the session survives. */
	memcpy(cfg.private_key, a.private_key, 32);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert(pb->keypairs.current.sending.is_valid);
	/* A new key whose public key is a peer's: that peer goes, sessions expire. */
	h_init(&c, 0x33, 10003);
	h_add_peer(&a, &c, "10.3.3.3", 32, 0);
	cfg.flags = CFG_DEV_HAS_PRIVATE_KEY;
	memcpy(cfg.private_key, c.private_key, 32);
	cfg_peer(&cfg, c.public_key, 0); /* our own key: ignored */
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_null(device_lookup_peer(a.dev, c.public_key));
	cr_assert_null(route(a.dev, "10.3.3.3"));
	cr_assert_arr_eq(a.dev->identity.static_public, c.public_key, 32);
	cr_assert_not(pb->keypairs.current.sending.is_valid, "no more sending on old keys");
	cr_assert(pb->keypairs.current.receiving.is_valid, "still receiving");
	/* The next packet starts a handshake under the new identity. */
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(2));
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	/* All zero: no identity. */
	cfg.flags = CFG_DEV_HAS_PRIVATE_KEY;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_not(a.dev->identity.has_identity);
	h_free(&c);
}

Test(device, preshared_key_and_keepalive)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp;
	struct peer *pb;

	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	pb = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	cp = cfg_peer(&cfg, b.public_key, CFG_PEER_HAS_PRESHARED_KEY);
	memset(cp->preshared_key, 0x5a, 32);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(peer_preshared_key(pb)[7], 0x5a);
	cfg_peer(&cfg, b.public_key, CFG_PEER_HAS_PRESHARED_KEY);
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert(sodium_is_zero(peer_preshared_key(pb), 32));
	/* Keepalive off -> on: sent at once (a handshake, as there is no session). */
	cp = cfg_peer(&cfg, b.public_key, CFG_PEER_HAS_PERSISTENT_KEEPALIVE);
	cp->persistent_keepalive_s = 25;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	h_converse(&a, &b, H_T0 + S(1));
	a.nsent = 0;
	/* on -> on: nothing extra. */
	cp = cfg_peer(&cfg, b.public_key, CFG_PEER_HAS_PERSISTENT_KEEPALIVE);
	cp->persistent_keepalive_s = 30;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.nsent, 0);
	cr_assert_eq(pb->persistent_keepalive_s, 30);
}

Test(device, listen_port_and_fwmark)
{
	struct cfg_device cfg = { 0 };
	uint16_t old = a.dev->sock.port, port;
	uint32_t mark = 0;
	socklen_t len = sizeof(mark);
	int sock;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	cfg.flags = CFG_DEV_HAS_LISTEN_PORT;
	cfg.listen_port = 0; /* a different random port */
	cr_assert_eq(apply(a.dev, &cfg), 0);
	port = a.dev->sock.port;
	cr_assert_neq(port, old);
	/* The old port was released. */
	sin.sin_port = htons(old);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(sock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(sock);
	/* The same port again: nothing is rebound. */
	cfg.flags = CFG_DEV_HAS_LISTEN_PORT | CFG_DEV_HAS_FWMARK;
	cfg.listen_port = port;
	cfg.fwmark = 0x1234;
	if (geteuid() != 0) {
		cr_assert_eq(apply(a.dev, &cfg), -EPERM);
		return;
	}
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.dev->sock.port, port);
	cr_assert_eq(a.dev->fwmark, 0x1234);
	cr_assert_eq(getsockopt(a.dev->sock.fd4, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	cr_assert_eq(mark, 0x1234);
	cfg.flags = CFG_DEV_HAS_FWMARK;
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(getsockopt(a.dev->sock.fd4, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	cr_assert_eq(mark, 0);
}

Test(device, many_peers_and_routes)
{
	struct cfg_device cfg = { .flags = CFG_DEV_REPLACE_PEERS };
	uint8_t k[32] = { 0 };
	char ip[32];
	struct peer *p;
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		struct cfg_peer *cp;

		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		k[2] = 0x42;
		cp = cfg_peer(&cfg, k, 0);
		snprintf(ip, sizeof(ip), "10.%d.%d.0", i >> 8, i & 255);
		h_add_aip(cp, AF_INET, ip, 24);
	}
	cr_assert_eq(apply(a.dev, &cfg), 0);
	cr_assert_eq(a.dev->peers_len, 1000);
	for (p = a.dev->peers_first; p; p = p->next) {
		cr_assert_eq(peer_public_key(p)[0], (uint8_t)n, "creation order");
		n++;
	}
	cr_assert_eq(route(a.dev, "10.3.231.9"),
		     device_lookup_peer(a.dev, (uint8_t[32]){ 231, 3, 0x42 }));
}

/* The receiver-index table against a plain array, through growth and backward shifts. */
Test(device, index_table_matches_naive)
{
	static uint32_t live[3000];
	struct index_table t;
	struct peer *tag = (struct peer *)&t; /* any non-NULL pointer will do */
	size_t n = 0;

	srand(777);
	index_table_init(&t);
	cr_assert_eq(index_table_reserve(&t, 16), 0);
	for (int op = 0; op < 60000; op++) {
		if (n < 3000 && (rand() % 3 || !n)) {
			cr_assert_eq(index_table_reserve(&t, n + 1), 0);
			live[n] = index_table_add_random(&t, tag);
			n++;
		} else {
			size_t k = (size_t)rand() % n;

			index_table_remove(&t, live[k]);
			cr_assert_null(index_table_lookup(&t, live[k]), "op %d", op);
			live[k] = live[--n];
		}
		cr_assert_eq(t.len, n);
		if (op % 97 == 0)
			for (size_t i = 0; i < n; i++)
				cr_assert_not_null(index_table_lookup(&t, live[i]), "op %d", op);
	}
	index_table_free(&t);
}

Test(device, pubkey_table_add_remove)
{
	struct cfg_device cfg = { 0 };
	uint8_t k[32] = { 0 };
	struct peer *p, *next;
	size_t n;

	for (int i = 0; i < 300; i++) {
		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		k[2] = 0x42;
		cfg_peer(&cfg, k, 0);
	}
	cr_assert_eq(apply(a.dev, &cfg), 0);
	/* Remove every third peer; the rest must still be found by key. */
	n = 0;
	for (p = a.dev->peers_first; p; p = next) {
		next = p->next;
		if (n++ % 3 == 0)
			device_remove_peer(a.dev, p);
	}
	cr_assert_eq(a.dev->pubkeys.len, 200);
	for (int i = 0; i < 300; i++) {
		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		p = device_lookup_peer(a.dev, k);
		if (i % 3 == 0)
			cr_assert_null(p, "peer %d", i);
		else
			cr_assert(p && !memcmp(peer_public_key(p), k, 32), "peer %d", i);
	}
}
