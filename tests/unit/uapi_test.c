/* SPDX-License-Identifier: MIT */
/*
 * The UAPI text (uapi_text.c); the socket side is in uapi_server_test.c.
 *
 * set=1 parsing is a numbered table of message bodies with the expected errno, failing
 * line, key name and, for the good ones, a dump of the staged cfg written by hand from
 * the rules in wireguard-go's device/uapi.go (PROTOCOL.md §2). Edge results were checked
 * against Debian's wireguard-go 0.0.20220316 over its socket; where wgd is deliberately
 * stricter the case says so.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wgd/clock.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/peer.h"
#include "wgd/uapi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 64 hex digits: every byte of the key is 0xcc */
#define X8(s) s s s s s s s s
#define KEY(c) X8(X8(c))
#define Z KEY("0")
#define A KEY("a")
#define B KEY("b")
#define C KEY("c")

static void quiet(void)
{
	log_set_level(LOG_SILENT); /* the failure lines are expected here */
}

TestSuite(uapi, .init = quiet);

/* --- a dump of a staged cfg, independent of the code under test --------------------- */

struct dump {
	char s[4096];
	size_t len;
};

static void __attribute__((format(printf, 2, 3))) put(struct dump *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	d->len += (size_t)vsnprintf(d->s + d->len, sizeof(d->s) - d->len, fmt, ap);
	va_end(ap);
	cr_assert(lt(sz, d->len, sizeof(d->s)));
}

static void put_hex(struct dump *d, const char *name, const uint8_t *key)
{
	put(d, " %s=", name);
	for (int i = 0; i < 32; i++)
		put(d, "%02x", key[i]);
}

static void put_endpoint(struct dump *d, const union cfg_sockaddr *ep)
{
	char ip[INET6_ADDRSTRLEN];

	if (ep->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ep->in4.sin_addr, ip, sizeof(ip));
		put(d, " endpoint=%s:%u", ip, ntohs(ep->in4.sin_port));
	} else {
		inet_ntop(AF_INET6, &ep->in6.sin6_addr, ip, sizeof(ip));
		put(d, " endpoint=[%s%%%u]:%u", ip, ep->in6.sin6_scope_id,
		    ntohs(ep->in6.sin6_port));
	}
}

static void put_peer(struct dump *d, const struct cfg_peer *p)
{
	char ip[INET6_ADDRSTRLEN];

	put_hex(d, "| peer", p->public_key);
	if (p->flags & CFG_PEER_REMOVE_ME)
		put(d, " remove");
	if (p->flags & CFG_PEER_UPDATE_ONLY)
		put(d, " update_only");
	if (p->flags & CFG_PEER_HAS_PRESHARED_KEY)
		put_hex(d, "psk", p->preshared_key);
	if (p->flags & CFG_PEER_HAS_ENDPOINT)
		put_endpoint(d, &p->endpoint);
	if (p->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE)
		put(d, " keepalive=%u", p->persistent_keepalive_s);
	if (p->flags & CFG_PEER_REPLACE_ALLOWEDIPS)
		put(d, " replace_allowed_ips");
	for (size_t i = 0; i < p->allowedips_len; i++) {
		const struct cfg_allowedip *a = &p->allowedips[i];

		inet_ntop(a->family, &a->ip6, ip, sizeof(ip));
		put(d, "%s%s%s/%u", i ? "," : " allowed_ips=", a->is_removal ? "-" : "", ip,
		    a->cidr);
	}
}

static const char *dump_cfg(struct dump *d, const struct cfg_device *cfg)
{
	d->len = 0;
	put(d, "dev");
	if (cfg->flags & CFG_DEV_REPLACE_PEERS)
		put(d, " replace_peers");
	if (cfg->flags & CFG_DEV_HAS_PRIVATE_KEY)
		put_hex(d, "private_key", cfg->private_key);
	if (cfg->flags & CFG_DEV_HAS_LISTEN_PORT)
		put(d, " listen_port=%u", cfg->listen_port);
	if (cfg->flags & CFG_DEV_HAS_FWMARK)
		put(d, " fwmark=%u", cfg->fwmark);
	for (size_t i = 0; i < cfg->peers_len; i++)
		put_peer(d, &cfg->peers[i]);
	return d->s;
}

static bool is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		if (b[i])
			return false;
	}
	return true;
}

/* --- set=1: the numbered table ------------------------------------------------------ */

#define M(s) s, sizeof(s) - 1
#define PK "public_key=" A "\n"
#define OK(body, want) { M(body), 0, 0, NULL, want }
#define BAD(body, err, line, key) { M(body), -err, line, key, NULL }
#define DEV_A " private_key=" A
#define PEER_A " | peer=" A
#define PEER_B " | peer=" B

static const struct set_case {
	const char *body;
	size_t len;
	int ret;
	unsigned int line; /* "set=1" is line 1 */
	const char *key;
	const char *want;
} set_cases[] = {
	/* device keys */
	/*  1 */ OK("", "dev"),
	/*  2 */ OK("private_key=" A "\n", "dev" DEV_A),
	/*  3 */ OK("private_key=" KEY("A") "\n", "dev" DEV_A), /* Go's hex takes either case */
	/*  4 */ OK("private_key=" Z "\n", "dev private_key=" Z), /* all zero: remove it */
	/*  5 */ OK("listen_port=51820\n", "dev listen_port=51820"),
	/*  6 */ OK("listen_port=0\n", "dev listen_port=0"),
	/*  7 */ OK("listen_port=65535\n", "dev listen_port=65535"),
	/*  8 */ OK("listen_port=0051820\n", "dev listen_port=51820"), /* as strconv.ParseUint */
	/*  9 */ OK("fwmark=4294967295\n", "dev fwmark=4294967295"),
	/* 10 */ OK("fwmark=0\n", "dev fwmark=0"),
	/* 11 */ OK("replace_peers=true\n", "dev replace_peers"),
	/* 12 */ OK("listen_port=1\nlisten_port=2\n", "dev listen_port=2"), /* the last wins */
	/* 13 */ OK("listen_port=5", "dev listen_port=5"), /* EOF ends the last line */
	/* 14 */ OK("listen_port=5\n\nbogus\n", "dev listen_port=5"), /* stops at the blank line */
	/* what `wg setconf` sends */
	/* 15 */ OK("private_key=" A "\nlisten_port=51820\nfwmark=0\nreplace_peers=true\n"
		    "public_key=" B "\npreshared_key=" C "\nendpoint=192.0.2.1:51820\n"
		    "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
		    "allowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n",
		    "dev replace_peers" DEV_A " listen_port=51820 fwmark=0" PEER_B " psk=" C
		    " endpoint=192.0.2.1:51820 keepalive=25 replace_allowed_ips"
		    " allowed_ips=10.0.0.2/32,fd00::2/128"),
	/* peers */
	/* 16 */ OK(PK, "dev" PEER_A),
	/* 17 */ OK("public_key=" Z "\n", "dev | peer=" Z), /* syntax only: the device decides */
	/* 18 */ OK(PK "protocol_version=1\n", "dev" PEER_A),
	/* 19 */ OK(PK "remove=true\n", "dev" PEER_A " remove"),
	/* 20 */ OK(PK "update_only=true\n", "dev" PEER_A " update_only"),
	/* 21 */ OK(PK "remove=true\nendpoint=1.2.3.4:5\n", /* kept; the device ignores them */
		    "dev" PEER_A " remove endpoint=1.2.3.4:5"),
	/* 22 */ OK(PK "preshared_key=" Z "\n", "dev" PEER_A " psk=" Z),
	/* 23 */ OK(PK "persistent_keepalive_interval=0\n", "dev" PEER_A " keepalive=0"),
	/* 24 */ OK(PK "persistent_keepalive_interval=65535\n", "dev" PEER_A " keepalive=65535"),
	/* 25 */ OK(PK "public_key=" B "\npublic_key=" C "\n",
		    "dev" PEER_A PEER_B " | peer=" C),
	/* 26 */ OK("listen_port=7\n" PK "endpoint=1.2.3.4:5\npublic_key=" B "\n"
		    "persistent_keepalive_interval=9\n",
		    "dev listen_port=7" PEER_A " endpoint=1.2.3.4:5" PEER_B " keepalive=9"),
	/* endpoints */
	/* 27 */ OK(PK "endpoint=[2001:db8::1]:51820\n", "dev" PEER_A
		    " endpoint=[2001:db8::1%0]:51820"),
	/* 28 */ OK(PK "endpoint=[::ffff:1.2.3.4]:7\n", "dev" PEER_A
		    " endpoint=[::ffff:1.2.3.4%0]:7"),
	/* 29 */ OK(PK "endpoint=[fe80::1%1]:5\n", "dev" PEER_A " endpoint=[fe80::1%1]:5"),
	/* 30 */ OK(PK "endpoint=[fe80::1%lo]:5\n", "dev" PEER_A " endpoint=[fe80::1%1]:5"),
	/* 31 */ OK(PK "endpoint=[::1]:05\n", "dev" PEER_A " endpoint=[::1%0]:5"),
	/* 32 */ OK(PK "endpoint=1.2.3.4:5\nendpoint=5.6.7.8:9\n", "dev" PEER_A
		    " endpoint=5.6.7.8:9"),
	/* allowed IPs */
	/* 33 */ OK(PK "allowed_ip=0.0.0.0/0\nallowed_ip=::/0\n", "dev" PEER_A
		    " allowed_ips=0.0.0.0/0,::/0"),
	/* 34 */ OK(PK "allowed_ip=10.1.2.3/8\n", "dev" PEER_A " allowed_ips=10.1.2.3/8"),
	/* 35 */ OK(PK "allowed_ip=::ffff:1.2.3.4/128\nallowed_ip=FE80::ABCD/128\n",
		    "dev" PEER_A " allowed_ips=::ffff:1.2.3.4/128,fe80::abcd/128"),
	/* 36 */ OK(PK "allowed_ip=-10.0.0.0/8\nallowed_ip=-::/0\n", /* newer Go: removal */
		    "dev" PEER_A " allowed_ips=-10.0.0.0/8,-::/0"),
	/* 37 */ OK(PK "allowed_ip=10.0.0.0/8\nreplace_allowed_ips=true\nallowed_ip=10.9.0.0/16\n",
		    "dev" PEER_A " replace_allowed_ips allowed_ips=10.9.0.0/16"), /* as Go, in order */
	/* 38 */ OK(PK "replace_allowed_ips=true\n", "dev" PEER_A " replace_allowed_ips"),
	/* 39 */ OK(PK "allowed_ip=1.2.3.4/32\nallowed_ip=1.2.3.4/32\n", "dev" PEER_A
		    " allowed_ips=1.2.3.4/32,1.2.3.4/32"),

	/* framing and key names */
	/* 40 */ BAD("listen_port\n", EPROTO, 2, "line without '='"),
	/* 41 */ BAD("listen_port=1\nfwmark=2\nbogus\n", EPROTO, 4, "line without '='"),
	/* 42 */ BAD("=5\n", EINVAL, 2, "unknown key"),
	/* 43 */ BAD("foo=bar\n", EINVAL, 2, "unknown key"),
	/* 44 */ BAD("Listen_port=5\n", EINVAL, 2, "unknown key"),
	/* 45 */ BAD("listen_port =5\n", EINVAL, 2, "unknown key"),
	/* 46 */ BAD("errno=0\n", EINVAL, 2, "unknown key"),
	/* 47 */ BAD("last_handshake_time_sec=0\n", EINVAL, 2, "unknown key"),
	/* 48 */ BAD(PK "tx_bytes=0\n", EINVAL, 3, "unknown key"),
	/* 49 */ BAD("listen_port=5\r\n", EINVAL, 2, "listen_port"), /* Go strips \r: stricter */
	/* 50 */ BAD("replace_peers=true\0\n", EINVAL, 2, "replace_peers"),
	/* 51 */ BAD("listen_port\0=5\n", EINVAL, 2, "unknown key"),
	/* numbers */
	/* 52 */ BAD("listen_port= 5\n", EINVAL, 2, "listen_port"),
	/* 53 */ BAD("listen_port=5 \n", EINVAL, 2, "listen_port"),
	/* 54 */ BAD("listen_port=+5\n", EINVAL, 2, "listen_port"),
	/* 55 */ BAD("listen_port=-5\n", EINVAL, 2, "listen_port"),
	/* 56 */ BAD("listen_port=\n", EINVAL, 2, "listen_port"),
	/* 57 */ BAD("listen_port=65536\n", EINVAL, 2, "listen_port"),
	/* 58 */ BAD("listen_port=99999999999999999999999\n", EINVAL, 2, "listen_port"),
	/* 59 */ BAD("listen_port=0x10\n", EINVAL, 2, "listen_port"),
	/* 60 */ BAD("fwmark=4294967296\n", EINVAL, 2, "fwmark"),
	/* 61 */ BAD("fwmark=18446744073709551616\n", EINVAL, 2, "fwmark"), /* 2^64 */
	/* 62 */ BAD("fwmark=-1\n", EINVAL, 2, "fwmark"),
	/* 63 */ BAD(PK "persistent_keepalive_interval=65536\n", EINVAL, 3,
		     "persistent_keepalive_interval"),
	/* 64 */ BAD(PK "persistent_keepalive_interval=\n", EINVAL, 3,
		     "persistent_keepalive_interval"),
	/* 65 */ BAD(PK "persistent_keepalive_interval=1s\n", EINVAL, 3,
		     "persistent_keepalive_interval"),
	/* keys */
	/* 66 */ BAD("private_key=" X8(X8("a")) "a\n", EINVAL, 2, "private_key"), /* 65 digits */
	/* 67 */ BAD("private_key=aa\n", EINVAL, 2, "private_key"),
	/* 68 */ BAD("private_key=\n", EINVAL, 2, "private_key"),
	/* 69 */ BAD("private_key=g" X8("a") X8("a") X8("a") X8("a") X8("a") X8("a") X8("a")
		     "aaaaaaa\n", EINVAL, 2, "private_key"),
	/* 70 */ BAD("private_key=" KEY("a") " \n", EINVAL, 2, "private_key"),
	/* 71 */ BAD("public_key=" X8("b") "\n", EINVAL, 2, "public_key"),
	/* 72 */ BAD(PK "preshared_key=\n", EINVAL, 3, "preshared_key"),
	/* 73 */ BAD(PK "preshared_key=" X8(X8("c")) "c\n", EINVAL, 3, "preshared_key"),
	/* flags */
	/* 74 */ BAD("replace_peers=false\n", EINVAL, 2, "replace_peers"),
	/* 75 */ BAD("replace_peers=True\n", EINVAL, 2, "replace_peers"),
	/* 76 */ BAD("replace_peers=1\n", EINVAL, 2, "replace_peers"),
	/* 77 */ BAD(PK "remove=false\n", EINVAL, 3, "remove"),
	/* 78 */ BAD(PK "update_only=True\n", EINVAL, 3, "update_only"),
	/* 79 */ BAD(PK "replace_allowed_ips=yes\n", EINVAL, 3, "replace_allowed_ips"),
	/* 80 */ BAD(PK "protocol_version=2\n", EINVAL, 3, "protocol_version"),
	/* 81 */ BAD(PK "protocol_version=01\n", EINVAL, 3, "protocol_version"),
	/* 82 */ BAD(PK "protocol_version=\n", EINVAL, 3, "protocol_version"),
	/* order: device keys only before the first peer, peer keys only after */
	/* 83 */ BAD(PK "listen_port=1\n", EINVAL, 3, "listen_port"),
	/* 84 */ BAD(PK "private_key=" A "\n", EINVAL, 3, "private_key"),
	/* 85 */ BAD(PK "replace_peers=true\n", EINVAL, 3, "replace_peers"),
	/* 86 */ BAD(PK "fwmark=0\n", EINVAL, 3, "fwmark"),
	/* 87 */ BAD("protocol_version=1\n", EINVAL, 2, "protocol_version"),
	/* 88 */ BAD("endpoint=1.2.3.4:5\n", EINVAL, 2, "endpoint"),
	/* 89 */ BAD("allowed_ip=10.0.0.0/8\n", EINVAL, 2, "allowed_ip"),
	/* 90 */ BAD("remove=true\n", EINVAL, 2, "remove"),
	/* 91 */ BAD("preshared_key=" C "\n", EINVAL, 2, "preshared_key"),
	/* a public key twice in one message (wireguard-go allows it; we stage peers) */
	/* 92 */ BAD(PK "public_key=" B "\npublic_key=" A "\n", EINVAL, 4, "public_key"),
	/* 93 */ BAD(PK "public_key=" KEY("A") "\n", EINVAL, 3, "public_key"),
	/* endpoints */
	/* 94 */ BAD(PK "endpoint=1.2.3.4\n", EINVAL, 3, "endpoint"),
	/* 95 */ BAD(PK "endpoint=1.2.3.4:\n", EINVAL, 3, "endpoint"),
	/* 96 */ BAD(PK "endpoint=1.2.3.4:65536\n", EINVAL, 3, "endpoint"),
	/* 97 */ BAD(PK "endpoint=::1:5\n", EINVAL, 3, "endpoint"),
	/* 98 */ BAD(PK "endpoint=[1.2.3.4]:7\n", EINVAL, 3, "endpoint"),
	/* 99 */ BAD(PK "endpoint=localhost:7\n", EINVAL, 3, "endpoint"),
	/* 100 */ BAD(PK "endpoint=[::1]\n", EINVAL, 3, "endpoint"),
	/* 101 */ BAD(PK "endpoint=[::1]:\n", EINVAL, 3, "endpoint"),
	/* 102 */ BAD(PK "endpoint=1.2.3.4:5 \n", EINVAL, 3, "endpoint"),
	/* 103 */ BAD(PK "endpoint=010.0.0.1:5\n", EINVAL, 3, "endpoint"),
	/* 104 */ BAD(PK "endpoint=1.2.3.4:+5\n", EINVAL, 3, "endpoint"),
	/* 105 */ BAD(PK "endpoint=[fe80::1%nosuchif0]:5\n", EINVAL, 3, "endpoint"),
	/* 106 */ BAD(PK "endpoint=\n", EINVAL, 3, "endpoint"),
	/* 107 */ BAD(PK "endpoint=[::1]:5" X8(X8("0")) X8(X8("0")) "\n", EINVAL, 3, "endpoint"),
	/* allowed IPs */
	/* 108 */ BAD(PK "allowed_ip=10.0.0.1/33\n", EINVAL, 3, "allowed_ip"),
	/* 109 */ BAD(PK "allowed_ip=10.0.0.1\n", EINVAL, 3, "allowed_ip"),
	/* 110 */ BAD(PK "allowed_ip=10.0.0.1/\n", EINVAL, 3, "allowed_ip"),
	/* 111 */ BAD(PK "allowed_ip=10.0.0.1/+3\n", EINVAL, 3, "allowed_ip"), /* Go 1.18 took it */
	/* 112 */ BAD(PK "allowed_ip=10.0.0.1/08\n", EINVAL, 3, "allowed_ip"), /* as Go >= 1.22 */
	/* 113 */ BAD(PK "allowed_ip=10.0.0.1/-1\n", EINVAL, 3, "allowed_ip"),
	/* 114 */ BAD(PK "allowed_ip=010.0.0.1/8\n", EINVAL, 3, "allowed_ip"),
	/* 115 */ BAD(PK "allowed_ip=fe80::1%eth0/64\n", EINVAL, 3, "allowed_ip"),
	/* 116 */ BAD(PK "allowed_ip=::/129\n", EINVAL, 3, "allowed_ip"),
	/* 117 */ BAD(PK "allowed_ip=1.2.3.4/32/32\n", EINVAL, 3, "allowed_ip"),
	/* 118 */ BAD(PK "allowed_ip=--10.0.0.0/8\n", EINVAL, 3, "allowed_ip"),
	/* 119 */ BAD(PK "allowed_ip=-\n", EINVAL, 3, "allowed_ip"),
	/* 120 */ BAD(PK "allowed_ip=\n", EINVAL, 3, "allowed_ip"),
	/* 121 */ BAD(PK "allowed_ip=10.0.0.0/8 \n", EINVAL, 3, "allowed_ip"),
	/* 122 */ BAD(PK "allowed_ip= 10.0.0.0/8\n", EINVAL, 3, "allowed_ip"),
	/* 123 */ BAD(PK "allowed_ip=10.0.0/8\n", EINVAL, 3, "allowed_ip"),
	/* 124 */ BAD(PK "allowed_ip=::ffff:1.2.3.4/129\n", EINVAL, 3, "allowed_ip"),
	/* 125 */ BAD(PK "allowed_ip=1.2.3.4/3x\n", EINVAL, 3, "allowed_ip"),
	/* the error is reported at its line even after many good ones */
	/* 126 */ BAD(PK "allowed_ip=10.0.0.1/32\nallowed_ip=10.0.0.2/32\nendpoint=x\n", EINVAL, 5,
		      "endpoint"),
};

Test(uapi, set_parse_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(set_cases); i++) {
		const struct set_case *t = &set_cases[i];
		struct uapi_set_error err = { 0 };
		struct cfg_device cfg = { 0 };
		struct dump d;
		int ret;

		ret = uapi_set_parse(&cfg, t->body, t->len, &err);
		cr_assert(eq(int, ret, t->ret), "case %zu", i + 1);
		if (t->ret) {
			cr_assert(eq(u32, err.line, t->line), "case %zu", i + 1);
			cr_assert_str_eq(err.key, t->key, "case %zu", i + 1);
			/* a failed parse leaves nothing staged */
			cr_assert(is_zero(&cfg, sizeof(cfg)), "case %zu", i + 1);
			continue;
		}
		cr_assert_str_eq(dump_cfg(&d, &cfg), t->want, "case %zu:\n got %s\nwant %s", i + 1, d.s,
				 t->want);
		cfg_device_clear(&cfg);
	}
}

/* wg's biggest case: one peer with 255 * 512 allowed IPs, about 4 MB of text */
Test(uapi, set_parse_big_message)
{
	enum { N = 130560 };
	struct uapi_buf msg = { 0 };
	struct uapi_set_error err = { 0 };
	struct cfg_device cfg = { 0 };
	const struct cfg_allowedip *a;

	cr_assert(eq(int, uapi_buf_printf(&msg, "public_key=%s\nreplace_allowed_ips=true\n", A), 0));
	for (uint32_t i = 0; i < N; i++)
		cr_assert(eq(int, uapi_buf_printf(&msg, "allowed_ip=10.%u.%u.%u/32\n", i >> 16,
						  (i >> 8) & 255, i & 255), 0));
	cr_assert(eq(int, uapi_set_parse(&cfg, msg.data, msg.len, &err), 0));
	cr_assert(eq(sz, cfg.peers_len, 1));
	cr_assert(eq(sz, cfg.peers[0].allowedips_len, N));
	for (uint32_t i = 0; i < N; i++) {
		a = &cfg.peers[0].allowedips[i];
		cr_assert(eq(u32, ntohl(a->ip4.s_addr), 0x0a000000U | i), "line %u", i);
	}
	cfg_device_clear(&cfg);
	uapi_buf_free(&msg);
}

/* many peers: the repeat check must stay fast and still find a late duplicate */
Test(uapi, set_parse_many_peers_duplicate)
{
	enum { N = 50000 };
	struct uapi_buf msg = { 0 };
	struct uapi_set_error err = { 0 };
	struct cfg_device cfg = { 0 };

	for (uint32_t i = 0; i < N; i++)
		cr_assert(eq(int, uapi_buf_printf(&msg, "public_key=%08x%s\n", i,
						  X8(X8("5")) + 8), 0));
	cr_assert(eq(int, uapi_set_parse(&cfg, msg.data, msg.len, &err), 0));
	cr_assert(eq(sz, cfg.peers_len, N));
	cr_assert(eq(u8, cfg.peers[N - 1].public_key[3], (N - 1) & 255));
	cfg_device_clear(&cfg);
	/* repeat peer 12345 at the end: line N + 2 */
	cr_assert(eq(int, uapi_buf_printf(&msg, "public_key=%08x%s\n", 12345, X8(X8("5")) + 8), 0));
	cr_assert(eq(int, uapi_set_parse(&cfg, msg.data, msg.len, &err), -EINVAL));
	cr_assert(eq(u32, err.line, N + 2));
	cr_assert(is_zero(&cfg, sizeof(cfg)));
	uapi_buf_free(&msg);
}

/* --- get=1: formatting against wireguard-go's own output ----------------------------- */

#define GOLDEN "tests/golden/uapi/"

static void read_file(struct uapi_buf *b, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(not(eq(ptr, f, NULL)), "open %s (run from the repository root)", path);
	do {
		cr_assert(eq(int, uapi_buf_reserve(b, 4096), 0));
		n = fread(b->data + b->len, 1, 4096, f);
		b->len += n;
	} while (n);
	fclose(f);
	cr_assert(eq(int, uapi_buf_reserve(b, 1), 0));
	b->data[b->len] = '\0';
}

/*
 * The device must not send real datagrams when a keepalive is switched on. Refuse them as
 * wireguard-go's namespace (which has no routes) did when the golden text was made, so
 * that tx_bytes stays 0 here too.
 */
static int drop_udp(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	(void)dev;
	(void)ep;
	(void)buf;
	(void)len;
	return -ENETUNREACH;
}

static struct device *test_device(void)
{
	struct device *dev;

	cr_assert(eq(int, device_create(&dev, "wgdut", -1, NULL), 0));
	dev->io.udp_send = drop_udp;
	return dev;
}

static void apply(struct device *dev, const char *body, size_t len, unsigned int clear_flags)
{
	struct uapi_set_error err = { 0 };
	struct cfg_device cfg = { 0 };

	cr_assert(eq(int, uapi_set_parse(&cfg, body, len, &err), 0), "line %u", err.line);
	cfg.flags &= ~clear_flags;
	cr_assert(eq(int, device_apply_cfg(dev, &cfg, clock_boottime_ns()), 0));
	cfg_device_clear(&cfg);
}

/*
 * get_basic.set went to wireguard-go and get_basic.get is its reply (gen.sh). The same
 * request on our device must print the same text. listen_port is not bound here (the
 * port may be taken on this machine): the device's port is set for the formatter only.
 */
Test(uapi, get_format_golden)
{
	struct uapi_buf set = { 0 }, want = { 0 }, got = { 0 };
	struct device *dev = test_device();

	read_file(&set, GOLDEN "get_basic.set");
	read_file(&want, GOLDEN "get_basic.get");
	cr_assert(eq(int, strncmp(set.data, "set=1\n", 6), 0));
	apply(dev, set.data + 6, set.len - 6, CFG_DEV_HAS_LISTEN_PORT);
	dev->sock.port = 51820;
	cr_assert(eq(int, uapi_get_format(&got, dev), 0));
	cr_assert(eq(int, uapi_buf_reserve(&got, 1), 0));
	got.data[got.len] = '\0';
	cr_assert_str_eq(got.data, want.data, "got:\n%s\nwant:\n%s", got.data, want.data);
	uapi_buf_free(&set);
	uapi_buf_free(&want);
	uapi_buf_free(&got);
	device_destroy(dev);
}

/* Fields wireguard-go cannot be made to show without traffic; values from their definitions. */
Test(uapi, get_format_counters_and_device_keys)
{
	struct uapi_buf got = { 0 };
	struct device *dev = test_device();
	struct peer *p;

	apply(dev, M(PK "endpoint=[fe80::1%1]:7\n"), 0);
	dev->sock.port = 0; /* not shown when 0 */
	p = dev->peers_first;
	p->last_handshake_unix_ns = 1700000000ULL * 1000000000ULL + 123456789;
	p->tx_bytes = UINT64_MAX;
	p->rx_bytes = 1;
	cr_assert(eq(int, uapi_get_format(&got, dev), 0));
	cr_assert(eq(int, uapi_buf_printf(&got, "%c", '\0'), 0));
	cr_assert_str_eq(got.data,
			 "public_key=" A "\npreshared_key=" Z "\nprotocol_version=1\n"
			 "endpoint=[fe80::1%lo]:7\n"
			 "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=123456789\n"
			 "tx_bytes=18446744073709551615\nrx_bytes=1\n"
			 "persistent_keepalive_interval=0\n",
			 "got:\n%s", got.data);
	uapi_buf_free(&got);
	device_destroy(dev);
}
