/* SPDX-License-Identifier: MIT */
/*
 * The UAPI client (wgd/uapi_client.c). Reply texts come from wireguard-go
 * (tests/golden/uapi/get_basic.get, made by gen.sh there) or are written by hand from
 * wireguard-tools' ipc-uapi.h rules; the set serialisation is checked against hand-written
 * text in wg(8)'s line order and then round-tripped through the daemon's own parser and a
 * real in-process wgd device behind a UAPI connection.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/key.h"
#include "wgd/clock.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define X8(s) s s s s s s s s
#define KEY(c) X8(X8(c))
#define Z KEY("0")
#define A KEY("a")
#define B KEY("b")
#define C KEY("c")
#define OK "errno=0\n\n"

static void quiet(void)
{
	log_set_level(LOG_SILENT);
}

TestSuite(uapi_client, .init = quiet);

static int parse(struct uapi_state *st, const char *text)
{
	memset(st, 0, sizeof(*st));
	return uapi_client_get_parse(st, text, strlen(text));
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

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	cr_assert(not(eq(ptr, f, NULL)), "open %s (run from the repository root)", path);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *ep_text(const union cfg_sockaddr *ep)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	char ip[INET6_ADDRSTRLEN];

	if (ep->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ep->in4.sin_addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(ep->in4.sin_port));
	} else {
		inet_ntop(AF_INET6, &ep->in6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "[%s]:%u", ip, ntohs(ep->in6.sin6_port));
	}
	return buf;
}

static const char *aip_text(const struct cfg_allowedip *a)
{
	static char buf[INET6_ADDRSTRLEN + 8];
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->family, &a->ip6, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s%s/%u", a->is_removal ? "-" : "", ip, a->cidr);
	return buf;
}

/* --- get=1 replies ------------------------------------------------------------------- */

/* wireguard-go's reply to get_basic.set; the expected values are read off that file. */
Test(uapi_client, get_parse_wireguard_go_reply)
{
	char *text = read_text("tests/golden/uapi/get_basic.get");
	struct uapi_state st;
	const struct cfg_peer *p;
	char hex[KEY_HEX_LEN + 1];

	strcat(text, OK);
	cr_assert(eq(int, parse(&st, text), 0));
	cr_assert(eq(u32, st.cfg.flags, CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_LISTEN_PORT |
						CFG_DEV_HAS_FWMARK));
	key_to_hex(hex, st.cfg.private_key);
	cr_assert_str_eq(hex, "c0685bc374de94f73bfdfa5679f19ca910e64c2bbec8429a87efeee8171b0275");
	cr_assert(eq(u16, st.cfg.listen_port, 51820));
	cr_assert(eq(u32, st.cfg.fwmark, 51820));
	cr_assert(eq(sz, st.cfg.peers_len, 4));

	p = &st.cfg.peers[0];
	key_to_hex(hex, p->preshared_key);
	cr_assert_str_eq(hex, "39f6cc9c7905258eefb12281deb580f3daaf0803686f02ad0a83bfa08f8526b4");
	cr_assert(eq(u32, p->flags, CFG_PEER_HAS_PRESHARED_KEY | CFG_PEER_HAS_ENDPOINT |
					    CFG_PEER_HAS_PERSISTENT_KEEPALIVE));
	cr_assert_str_eq(ep_text(&p->endpoint), "192.0.2.1:51820");
	cr_assert(eq(u16, p->persistent_keepalive_s, 25));
	cr_assert(eq(sz, p->allowedips_len, 2));
	cr_assert_str_eq(aip_text(&p->allowedips[1]), "fd00:0:0:1::/64");

	p = &st.cfg.peers[1]; /* a zero preshared key means none, as wg(8) reads it */
	cr_assert(eq(u32, p->flags, CFG_PEER_HAS_ENDPOINT | CFG_PEER_HAS_PERSISTENT_KEEPALIVE));
	cr_assert_str_eq(ep_text(&p->endpoint), "[2001:db8::1]:12345");
	cr_assert_str_eq(aip_text(&p->allowedips[1]), "::/0");

	p = &st.cfg.peers[2];
	cr_assert(eq(u32, p->flags, CFG_PEER_HAS_PERSISTENT_KEEPALIVE));
	cr_assert(eq(sz, p->allowedips_len, 7));
	cr_assert_str_eq(aip_text(&p->allowedips[1]), "::ffff:1.2.3.4/128");
	cr_assert_str_eq(aip_text(&p->allowedips[6]), "192.168.7.0/24");

	p = &st.cfg.peers[3];
	cr_assert_str_eq(ep_text(&p->endpoint), "[::ffff:192.0.2.7]:1");
	cr_assert(eq(u16, p->persistent_keepalive_s, 65535));
	cr_assert(eq(sz, p->allowedips_len, 0));
	uapi_state_clear(&st);
	cr_assert(is_zero(&st, sizeof(st)));
	free(text);
}

Test(uapi_client, get_parse_counters_and_minimal)
{
	struct uapi_state st;

	cr_assert(eq(int, parse(&st, "public_key=" A "\nrx_bytes=18446744073709551615\n"
				     "tx_bytes=7\nlast_handshake_time_sec=1700000000\n"
				     "last_handshake_time_nsec=999999999\nprotocol_version=1\n"
				     "some_future_key=whatever\n" OK),
		     0));
	cr_assert(eq(u32, st.cfg.flags, 0));
	cr_assert(eq(sz, st.cfg.peers_len, 1));
	cr_assert(eq(u64, st.peer_state[0].rx_bytes, UINT64_MAX));
	cr_assert(eq(u64, st.peer_state[0].tx_bytes, 7));
	cr_assert(eq(u64, st.peer_state[0].last_handshake_sec, 1700000000));
	cr_assert(eq(u64, st.peer_state[0].last_handshake_nsec, 999999999));
	uapi_state_clear(&st);

	cr_assert(eq(int, parse(&st, OK), 0)); /* a device with nothing configured */
	cr_assert(eq(sz, st.cfg.peers_len, 0));
	uapi_state_clear(&st);
}

/* Many peers: the state array must grow alongside the peer array. */
Test(uapi_client, get_parse_many_peers)
{
	enum { N = 300 };
	size_t cap = (size_t)N * 160 + 16, len = 0;
	char *text = malloc(cap);
	struct uapi_state st = { 0 };

	for (unsigned int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "public_key=%08x%s\ntx_bytes=%u\n", i,
					X8(X8("5")) + 8, i * 3);
	len += (size_t)snprintf(text + len, cap - len, OK);
	cr_assert(eq(int, uapi_client_get_parse(&st, text, len), 0));
	cr_assert(eq(sz, st.cfg.peers_len, N));
	for (unsigned int i = 0; i < N; i++)
		cr_assert(eq(u64, st.peer_state[i].tx_bytes, i * 3), "peer %u", i);
	uapi_state_clear(&st);
	free(text);
}

static const struct {
	const char *text;
	int ret;
} bad_replies[] = {
	/* framing */
	{ "", -EPROTO },
	{ "errno=0\n", -EPROTO },			/* no empty line */
	{ "private_key=" A "\n\n", -EPROTO },		/* no errno line */
	{ "errno=0\n\nerrno=0\n\n", -EPROTO },		/* a second reply */
	{ "errno=0\nfwmark=1\n\n", -EPROTO },		/* errno is the last line */
	{ "errno=0", -EPROTO },
	{ "listen_port\n" OK, -EPROTO },		/* no '=' */
	{ "=1\n" OK, -EPROTO },
	{ "fwmark=1\r\n" OK, -EPROTO },
	/* errno values */
	{ "errno=-98\n\n", -98 },
	{ "errno=5\n\n", -5 },
	{ "errno=x\n\n", -EPROTO },
	{ "errno=\n\n", -EPROTO },
	{ "errno=99999999999\n\n", -EPROTO },
	/* device keys */
	{ "private_key=" KEY("g") "\n" OK, -EPROTO },
	{ "private_key=aa\n" OK, -EPROTO },
	{ "listen_port=65536\n" OK, -EPROTO },
	{ "listen_port=-1\n" OK, -EPROTO },
	{ "listen_port=+1\n" OK, -EPROTO },
	{ "fwmark=4294967296\n" OK, -EPROTO },
	{ "fwmark=0x10\n" OK, -EPROTO },
	{ "public_key=" A "\nfwmark=1\n" OK, -EPROTO }, /* device key after a peer */
	/* peer keys */
	{ "allowed_ip=10.0.0.0/8\n" OK, -EPROTO },      /* before any public_key */
	{ "public_key=" A "\npublic_key=" B "\npublic_key=" A "\n" OK, -EPROTO },
	{ "public_key=" A "1\n" OK, -EPROTO },
	{ "public_key=" A "\npreshared_key=zz\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=192.0.2.1\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=192.0.2.1:65536\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=192.0.2.1:\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=example.com:51820\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=[2001:db8::1]51820\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=2001:db8::1:51820\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=[192.0.2.1]:1\n" OK, -EPROTO },
	{ "public_key=" A "\nendpoint=:1\n" OK, -EPROTO },
	{ "public_key=" A "\npersistent_keepalive_interval=65536\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=10.0.0.0\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=10.0.0.0/33\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=::/129\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=10.0.0.256/8\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=10.0.0.0/\n" OK, -EPROTO },
	{ "public_key=" A "\nallowed_ip=-10.0.0.0/8\n" OK, -EPROTO },
	{ "public_key=" A "\nrx_bytes=18446744073709551616\n" OK, -EPROTO },
	{ "public_key=" A "\nlast_handshake_time_sec=9223372036854775808\n" OK, -EPROTO },
	{ "public_key=" A "\ntx_bytes=1 \n" OK, -EPROTO },
};

Test(uapi_client, get_parse_rejects_malformed)
{
	struct uapi_state st;

	for (size_t i = 0; i < ARRAY_SIZE(bad_replies); i++) {
		cr_assert(eq(int, parse(&st, bad_replies[i].text), bad_replies[i].ret), "case %zu",
			  i + 1);
		cr_assert(is_zero(&st, sizeof(st)), "case %zu leaves state behind", i + 1);
	}
}

Test(uapi_client, get_parse_embedded_nul_and_long_lines)
{
	static const char nul[] = "fwmark=1\0\n" OK;
	char long_line[2048];
	struct uapi_state st = { 0 };

	cr_assert(eq(int, uapi_client_get_parse(&st, nul, sizeof(nul) - 1), -EPROTO));
	/* an unknown key may carry any value; a known one that long is malformed */
	snprintf(long_line, sizeof(long_line), "future=%01000d\n" OK, 7);
	cr_assert(eq(int, parse(&st, long_line), 0));
	uapi_state_clear(&st);
	snprintf(long_line, sizeof(long_line), "public_key=" A "\nallowed_ip=%01000d/8\n" OK, 7);
	cr_assert(eq(int, parse(&st, long_line), -EPROTO));
}

/* --- set=1 serialisation ------------------------------------------------------------- */

static void add_aip(struct cfg_peer *p, const char *ip, uint8_t cidr, bool removal)
{
	struct cfg_allowedip a = { .cidr = cidr, .is_removal = removal };

	a.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	cr_assert(eq(int, inet_pton(a.family, ip, &a.ip6), 1));
	cr_assert(eq(int, cfg_peer_add_allowedip(p, &a), 0));
}

/* A request that uses every line type once. */
static void full_request(struct cfg_device *cfg)
{
	struct cfg_peer *p;

	memset(cfg, 0, sizeof(*cfg));
	memset(cfg->private_key, 0xaa, sizeof(cfg->private_key));
	cfg->listen_port = 51820;
	cfg->fwmark = 4294967295U;
	cfg->flags = CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_LISTEN_PORT | CFG_DEV_HAS_FWMARK |
		     CFG_DEV_REPLACE_PEERS;
	p = cfg_device_add_peer(cfg);
	memset(p->public_key, 0xbb, 32);
	p->flags = CFG_PEER_REMOVE_ME | CFG_PEER_HAS_ENDPOINT; /* remove says it all */
	p = cfg_device_add_peer(cfg);
	memset(p->public_key, 0xcc, 32);
	p->flags = CFG_PEER_UPDATE_ONLY | CFG_PEER_HAS_PRESHARED_KEY | CFG_PEER_HAS_ENDPOINT |
		   CFG_PEER_HAS_PERSISTENT_KEEPALIVE | CFG_PEER_REPLACE_ALLOWEDIPS;
	p->endpoint.in6.sin6_family = AF_INET6;
	p->endpoint.in6.sin6_port = htons(12345);
	inet_pton(AF_INET6, "2001:db8::1", &p->endpoint.in6.sin6_addr);
	p->persistent_keepalive_s = 0;
	add_aip(p, "10.0.0.0", 8, false);
	add_aip(p, "fd00::", 64, true);
	p = cfg_device_add_peer(cfg);
	memset(p->public_key, 0xaa, 32);
	p->flags = CFG_PEER_HAS_ENDPOINT | CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	p->endpoint.in4.sin_family = AF_INET;
	p->endpoint.in4.sin_port = htons(1);
	inet_pton(AF_INET, "192.0.2.1", &p->endpoint.in4.sin_addr);
	p->persistent_keepalive_s = 65535;
}

/* Written by hand in wireguard-tools ipc-uapi.h's order, plus update_only and "-". */
static const char full_text[] = "set=1\n"
				"private_key=" A "\n"
				"listen_port=51820\n"
				"fwmark=4294967295\n"
				"replace_peers=true\n"
				"public_key=" B "\n"
				"remove=true\n"
				"public_key=" C "\n"
				"update_only=true\n"
				"preshared_key=" Z "\n"
				"endpoint=[2001:db8::1]:12345\n"
				"persistent_keepalive_interval=0\n"
				"replace_allowed_ips=true\n"
				"allowed_ip=10.0.0.0/8\n"
				"allowed_ip=-fd00::/64\n"
				"public_key=" A "\n"
				"endpoint=192.0.2.1:1\n"
				"persistent_keepalive_interval=65535\n"
				"\n";

Test(uapi_client, set_format_text)
{
	struct cfg_device cfg;
	char *text = NULL;
	size_t len = 0;

	full_request(&cfg);
	cr_assert(eq(int, uapi_client_set_format(&text, &len, &cfg), 0));
	cr_assert_str_eq(text, full_text);
	cr_assert(eq(sz, len, strlen(full_text)));
	uapi_client_text_free(text, len);

	cfg_device_clear(&cfg);
	cr_assert(eq(int, uapi_client_set_format(&text, &len, &cfg), 0));
	cr_assert_str_eq(text, "set=1\n\n");
	uapi_client_text_free(text, len);
}

Test(uapi_client, set_format_rejects_unknown_family)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *p = cfg_device_add_peer(&cfg);
	struct cfg_allowedip bad = { .family = AF_UNIX, .cidr = 1 };
	char *text = NULL;
	size_t len = 0;

	p->flags = CFG_PEER_HAS_ENDPOINT; /* endpoint family 0 */
	cr_assert(eq(int, uapi_client_set_format(&text, &len, &cfg), -EINVAL));
	p->flags = 0;
	cr_assert(eq(int, cfg_peer_add_allowedip(p, &bad), 0));
	cr_assert(eq(int, uapi_client_set_format(&text, &len, &cfg), -EINVAL));
	cfg_device_clear(&cfg);
}

/* The daemon's own parser must read back exactly what was serialised. */
Test(uapi_client, set_format_round_trip_through_daemon_parser)
{
	struct uapi_set_error err = { 0 };
	struct cfg_device cfg, back = { 0 };
	char *text = NULL;
	size_t len = 0;

	full_request(&cfg);
	cr_assert(eq(int, uapi_client_set_format(&text, &len, &cfg), 0));
	cr_assert(eq(int, uapi_set_parse(&back, text + 6, len - 6, &err), 0), "line %u (%s)",
		  err.line, err.key);
	cr_assert(eq(u32, back.flags, cfg.flags));
	cr_assert(eq(u8[32], back.private_key, cfg.private_key));
	cr_assert(eq(sz, back.peers_len, 3));
	cr_assert(ne(u32, back.peers[0].flags & CFG_PEER_REMOVE_ME, 0));
	for (size_t i = 1; i < 3; i++) {
		struct cfg_peer *a = &cfg.peers[i], *b = &back.peers[i];

		cr_assert(eq(u8[32], a->public_key, b->public_key));
		cr_assert(eq(u32, a->flags, b->flags), "peer %zu", i);
		cr_assert(eq(u16, a->persistent_keepalive_s, b->persistent_keepalive_s));
		cr_assert_str_eq(ep_text(&b->endpoint), ep_text(&a->endpoint));
		cr_assert(eq(sz, a->allowedips_len, b->allowedips_len));
		for (size_t j = 0; j < a->allowedips_len; j++)
			cr_assert(eq(int, memcmp(&a->allowedips[j], &b->allowedips[j],
						 sizeof(a->allowedips[j])),
				     0));
	}
	uapi_client_text_free(text, len);
	cfg_device_clear(&cfg);
	cfg_device_clear(&back);
}

/* --- over a socket ------------------------------------------------------------------- */

static void pair(int sv[2])
{
	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0));
}

static const char *drain(int fd)
{
	static char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

Test(uapi_client, get_fd_sends_get_and_reads_one_reply)
{
	static const char reply[] = "listen_port=7\npublic_key=" A "\n" OK;
	struct uapi_state st = { 0 };
	int sv[2];

	pair(sv);
	cr_assert(eq(sz, (size_t)write(sv[1], reply, sizeof(reply) - 1), sizeof(reply) - 1));
	cr_assert(eq(int, uapi_client_get_fd(sv[0], &st, NULL), 0));
	cr_assert_str_eq(drain(sv[1]), "get=1\n\n");
	cr_assert(eq(u16, st.cfg.listen_port, 7));
	uapi_state_clear(&st);

	/* the daemon hangs up mid-reply */
	cr_assert(eq(sz, (size_t)write(sv[1], "listen_port=7\n", 14), 14));
	shutdown(sv[1], SHUT_WR);
	cr_assert(eq(int, uapi_client_get_fd(sv[0], &st, NULL), -EPROTO));
	close(sv[0]);
	close(sv[1]);
}

Test(uapi_client, set_fd_returns_daemon_errno)
{
	static const struct {
		const char *reply;
		int ret;
	} cases[] = {
		{ "errno=0\n\n", 0 },
		{ "errno=-98\n\n", -98 },  /* wireguard-go's sign */
		{ "errno=22\n\n", -22 },   /* boringtun's sign, made negative */
		{ "errno=0\n", -EPROTO },  /* then EOF */
		{ "ok\n\n", -EPROTO },
		{ "errno=0\n\nx", -EPROTO },
		{ "errno=-1x\n\n", -EPROTO },
	};
	struct cfg_device cfg = { .listen_port = 9, .flags = CFG_DEV_HAS_LISTEN_PORT };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int sv[2];

		pair(sv);
		cr_assert(eq(sz, (size_t)write(sv[1], cases[i].reply, strlen(cases[i].reply)),
			     strlen(cases[i].reply)));
		shutdown(sv[1], SHUT_WR);
		cr_assert(eq(int, uapi_client_set_fd(sv[0], &cfg, NULL), cases[i].ret),
			  "case %zu", i + 1);
		cr_assert_str_eq(drain(sv[1]), "set=1\nlisten_port=9\n\n");
		close(sv[0]);
		close(sv[1]);
	}
}

Test(uapi_client, connect_rejects_bad_names_and_missing_sockets)
{
	char name[IFNAMSIZ];
	pid_t pid;

	cr_assert(eq(int, uapi_client_connect("a/b"), -EINVAL));
	cr_assert(eq(int, uapi_client_connect(""), -EINVAL));
	cr_assert(eq(int, uapi_client_connect("sixteen-chars-xx"), -EINVAL));
	snprintf(name, sizeof(name), "wgnone%d", getpid() % 100000);
	cr_assert(eq(int, uapi_client_connect(name), -ENODEV));
	cr_assert(eq(int, uapi_client_peer_pid(name, &pid), -ENODEV));
}

/* A socket file nobody listens on is a dead daemon's: reported absent and removed. */
Test(uapi_client, connect_removes_stale_socket)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char name[IFNAMSIZ];
	struct uapi_iflist l;
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "wgstale%d", getpid() % 100000);
	snprintf(addr.sun_path, sizeof(addr.sun_path), RUNSTATEDIR "/wireguard/%s.sock", name);
	mkdir(RUNSTATEDIR "/wireguard", 0755);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		cr_skip_test("cannot create %s: %s", addr.sun_path, strerror(errno));
	}
	close(fd); /* bound, never listening: connect() is refused */
	cr_assert(eq(int, uapi_client_list(&l), 0));
	for (size_t i = 0; i < l.len; i++)
		cr_assert(ne(int, strcmp(l.names[i], name), 0), "a stale socket is listed");
	uapi_iflist_clear(&l);
	cr_assert(eq(int, stat(addr.sun_path, &st), -1), "listing removes a stale socket");

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	close(fd);
	cr_assert(eq(int, uapi_client_connect(name), -ENODEV));
	cr_assert(eq(int, stat(addr.sun_path, &st), -1));
}

/* --- against a real wgd device, served in process ------------------------------------- */

static int drop_udp(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	(void)dev;
	(void)ep;
	(void)buf;
	(void)len;
	return -ENETUNREACH;
}

struct client_job {
	int fd;
	const struct cfg_device *set; /* NULL: get into got */
	struct uapi_state got;
	int ret;
	atomic_bool done;
};

static void *client_thread(void *arg)
{
	struct client_job *job = arg;

	job->ret = job->set ? uapi_client_set_fd(job->fd, job->set, NULL)
			    : uapi_client_get_fd(job->fd, &job->got, NULL);
	atomic_store(&job->done, true);
	return NULL;
}

/* Runs one client operation in a thread while this thread plays the daemon's loop. */
static void serve(struct uapi_server *srv, struct client_job *job)
{
	pthread_t t;

	cr_assert(eq(int, pthread_create(&t, NULL, client_thread, job), 0));
	while (!atomic_load(&job->done)) {
		for (size_t i = 0; i < UAPI_MAX_CLIENTS; i++) {
			if (srv->conns[i])
				srv->conns[i]->src.fn(&srv->conns[i]->src, EPOLLIN | EPOLLOUT);
		}
		usleep(1000);
	}
	pthread_join(t, NULL);
}

/* Binds a UDP socket to a random port on every v4 address and returns that port. */
static uint16_t taken_port(int *fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(ge(int, *fd, 0));
	cr_assert(eq(int, bind(*fd, (struct sockaddr *)&sin, sizeof(sin)), 0));
	cr_assert(eq(int, getsockname(*fd, (struct sockaddr *)&sin, &len), 0));
	return ntohs(sin.sin_port);
}

Test(uapi_client, round_trip_with_wgd_device)
{
	struct uapi_server srv = { 0 };
	struct cfg_device cfg;
	struct client_job job;
	struct device *dev;
	struct loop loop;
	int sv[2], lfd, udp;

	cr_assert(eq(int, loop_init(&loop), 0));
	cr_assert(eq(int, device_create(&dev, "wgdcl", -1, NULL), 0));
	dev->io.udp_send = drop_udp;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert(eq(int, uapi_server_init(&srv, dev, &loop, lfd), 0));
	pair(sv);
	cr_assert(eq(int, uapi_server_add_client(&srv, sv[0]), 0));

	full_request(&cfg);
	cfg.flags &= ~CFG_DEV_HAS_LISTEN_PORT; /* the port may be taken on this machine */
	cfg.peers[1].flags &= ~CFG_PEER_UPDATE_ONLY;
	cfg.peers[1].allowedips_len = 1; /* drop the removal entry */
	job = (struct client_job){ .fd = sv[1], .set = &cfg };
	serve(&srv, &job);
	cr_assert(eq(int, job.ret, 0));

	job = (struct client_job){ .fd = sv[1] };
	serve(&srv, &job);
	cr_assert(eq(int, job.ret, 0));
	key_clamp(cfg.private_key); /* the daemon keeps the clamped form, as wireguard-go does */
	cr_assert(eq(u8[32], job.got.cfg.private_key, cfg.private_key));
	cr_assert(eq(u32, job.got.cfg.fwmark, 4294967295U));
	cr_assert(eq(sz, job.got.cfg.peers_len, 2)); /* the removed one never existed */
	cr_assert(eq(u8[32], job.got.cfg.peers[0].public_key, cfg.peers[1].public_key));
	cr_assert_str_eq(ep_text(&job.got.cfg.peers[0].endpoint), "[2001:db8::1]:12345");
	cr_assert_str_eq(aip_text(&job.got.cfg.peers[0].allowedips[0]), "10.0.0.0/8");
	cr_assert(eq(u16, job.got.cfg.peers[1].persistent_keepalive_s, 65535));
	uapi_state_clear(&job.got);

	/* a refused set comes back as the daemon's negative errno: a port already taken */
	cfg_device_clear(&cfg);
	cfg.flags = CFG_DEV_HAS_LISTEN_PORT;
	cfg.listen_port = taken_port(&udp);
	job = (struct client_job){ .fd = sv[1], .set = &cfg };
	serve(&srv, &job);
	cr_assert(eq(int, job.ret, -EADDRINUSE));
	close(udp);

	close(sv[1]);
	uapi_server_clear(&srv);
	device_destroy(dev);
	loop_clear(&loop);
}

/* --- the supervisor's bounds on an untrusted daemon (its worker) --------------------- */

struct flooder {
	int fd;
	size_t written;
};

/* A daemon whose get reply never ends: unknown keys, no blank line, until the client goes. */
static void *flood_thread(void *arg)
{
	struct flooder *f = arg;
	char line[4096];
	ssize_t n;

	memset(line, 'x', sizeof(line));
	memcpy(line, "junk=", 5);
	line[sizeof(line) - 1] = '\n';
	while ((n = send(f->fd, line, sizeof(line), MSG_NOSIGNAL)) > 0)
		f->written += (size_t)n;
	return NULL;
}

/* Private memory (VmData) of this process, from /proc/self/status, in bytes. */
__attribute__((unused)) static size_t vm_data(void)
{
	char line[256];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert(not(eq(ptr, f, NULL)));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %zu kB", &kib) == 1)
			break;
	fclose(f);
	return kib << 10;
}

/*
 * An endless reply stops at the cap: -EMSGSIZE after reading no more than the cap, with
 * the process's private memory limited to its size now plus 4 caps (the read buffer
 * grows to a power of two, and is copied once while growing). The old fixed cap of
 * 256 MiB would have run into that limit (-ENOMEM) long before.
 */
Test(uapi_client, endless_reply_stops_at_the_cap, .timeout = 10)
{
	const struct uapi_client_bounds b = { .timeout_ms = 20000, .max_reply = 4 << 20 };
	struct flooder f = { 0 };
	struct uapi_state st = { 0 };
	struct rlimit lim;
	pthread_t t;
	int sv[2], pending = 0;

	pair(sv);
	f.fd = sv[1];
	cr_assert(eq(int, pthread_create(&t, NULL, flood_thread, &f), 0));
#if !defined(__SANITIZE_ADDRESS__)
	/* ASan reserves terabytes of shadow: there the read count below must do */
	lim.rlim_cur = lim.rlim_max = vm_data() + 4 * b.max_reply;
	cr_assert(eq(int, setrlimit(RLIMIT_DATA, &lim), 0));
#else
	(void)lim;
#endif
	cr_assert(eq(int, uapi_client_get_fd(sv[0], &st, &b), -EMSGSIZE));
	shutdown(sv[0], SHUT_RDWR); /* the flooder's send fails: it stops */
	cr_assert(eq(int, ioctl(sv[0], FIONREAD, &pending), 0));
	pthread_join(t, NULL);
	cr_assert(le(sz, f.written - (size_t)pending, b.max_reply), "read %zu of %zu written",
		  f.written - (size_t)pending, f.written);
	close(sv[0]);
	close(sv[1]);
}

/* A daemon that never answers: -ETIMEDOUT once the deadline has passed, not before. */
Test(uapi_client, stalled_reply_times_out, .timeout = 10)
{
	const struct uapi_client_bounds b = { .timeout_ms = 300 };
	struct uapi_state st = { 0 };
	uint64_t t0 = clock_boottime_ns();
	int sv[2];

	pair(sv);
	cr_assert(eq(int, uapi_client_get_fd(sv[0], &st, &b), -ETIMEDOUT));
	cr_assert(ge(u64, clock_boottime_ns() - t0, 300 * 1000000ULL));
	cr_assert_str_eq(drain(sv[1]), "get=1\n\n");
	/* a set's reply, likewise */
	t0 = clock_boottime_ns();
	cr_assert(eq(int, uapi_client_set_fd(sv[0], &(struct cfg_device){ 0 }, &b), -ETIMEDOUT));
	cr_assert(ge(u64, clock_boottime_ns() - t0, 300 * 1000000ULL));
	close(sv[0]);
	close(sv[1]);
}

/* A daemon that stops reading: a set larger than the socket buffers times out in send. */
Test(uapi_client, stalled_request_times_out, .timeout = 10)
{
	const struct uapi_client_bounds b = { .timeout_ms = 300 };
	struct cfg_device cfg = { 0 };
	int sv[2];

	for (int i = 0; i < 20000; i++) {
		struct cfg_peer *p = cfg_device_add_peer(&cfg);

		cr_assert(not(eq(ptr, p, NULL)));
		memset(p->public_key, 1 + i % 250, sizeof(p->public_key));
		memcpy(p->public_key, &i, sizeof(i));
	}
	pair(sv);
	cr_assert(eq(int, uapi_client_set_fd(sv[0], &cfg, &b), -ETIMEDOUT));
	cfg_device_clear(&cfg);
	close(sv[0]);
	close(sv[1]);
}

/* A daemon that stopped accepting (its listen backlog full): connect times out too. */
Test(uapi_client, full_backlog_times_out, .timeout = 10)
{
	const struct uapi_client_bounds b = { .timeout_ms = 300 };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct uapi_state st = { 0 };
	char name[IFNAMSIZ];
	int lfd, cfd;

	snprintf(name, sizeof(name), "wgfull%d", getpid() % 100000);
	snprintf(addr.sun_path, sizeof(addr.sun_path), RUNSTATEDIR "/wireguard/%s.sock", name);
	mkdir(RUNSTATEDIR "/wireguard", 0755);
	unlink(addr.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(lfd);
		cr_skip_test("cannot create %s: %s", addr.sun_path, strerror(errno));
	}
	cr_assert(eq(int, listen(lfd, 0), 0));
	/* backlog 0 holds one connection; a non-blocking one finds out when it is full */
	for (;;) {
		cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			break;
	}
	cr_assert(eq(int, errno, EAGAIN));
	close(cfd);
	cr_assert(eq(int, uapi_client_get_bounded(name, &st, &b), -ETIMEDOUT));
	unlink(addr.sun_path);
	close(lfd);
}

/*
 * The figures behind the supervisor's cap: the widest peer a get can report (every
 * counter at its maximum, a scoped IPv6 endpoint) and the widest allowed IP fit their
 * budgets, and the cap is twice the configured peers' budget plus the slack.
 */
Test(uapi_client, worker_bounds_follow_the_config)
{
	static const char widest_peer[] =
		"public_key=" A "\npreshared_key=" B "\nprotocol_version=1\n"
		"endpoint=[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535\n"
		"last_handshake_time_sec=9223372036854775807\n"
		"last_handshake_time_nsec=999999999\n"
		"tx_bytes=18446744073709551615\nrx_bytes=18446744073709551615\n"
		"persistent_keepalive_interval=65535\n";
	static const char widest_aip[] = "allowed_ip=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n";
	struct uapi_client_bounds b = uapi_client_worker_bounds(NULL);
	struct cfg_device cfg = { 0 };
	struct cfg_allowedip aip = { .family = AF_INET, .cidr = 32 };
	char why[128];

	cr_assert(le(sz, sizeof(widest_peer) - 1, UAPI_CLIENT_PEER_REPLY_MAX));
	cr_assert(le(sz, sizeof(widest_aip) - 1, UAPI_CLIENT_AIP_REPLY_MAX));
	cr_assert(eq(u32, b.timeout_ms, UAPI_CLIENT_WORKER_TIMEOUT_MS));
	cr_assert(eq(sz, b.max_reply, UAPI_CLIENT_WORKER_SLACK));
	for (int i = 0; i < 1000; i++) {
		struct cfg_peer *p = cfg_device_add_peer(&cfg);

		cr_assert(eq(int, cfg_peer_add_allowedip(p, &aip), 0));
		cr_assert(eq(int, cfg_peer_add_allowedip(p, &aip), 0));
	}
	b = uapi_client_worker_bounds(&cfg);
	cr_assert(eq(sz, b.max_reply,
		     UAPI_CLIENT_WORKER_SLACK +
			     2 * 1000 * (UAPI_CLIENT_PEER_REPLY_MAX + 2 * UAPI_CLIENT_AIP_REPLY_MAX)));
	cr_assert(eq(u32, b.timeout_ms, UAPI_CLIENT_WORKER_TIMEOUT_MS));
	cr_assert_str_eq(uapi_client_worker_strerror(-ETIMEDOUT, &b, why, sizeof(why)),
			 "the worker did not answer within 5 s");
	/* every 10 000 items wait a second more; no file is ever capped above wgctl */
	cfg.peers[0].allowedips_len = 3 * 1000 * 1000; /* counted, never read */
	b = uapi_client_worker_bounds(&cfg);
	cr_assert(eq(sz, b.max_reply, UAPI_CLIENT_MAX_REPLY));
	cr_assert(eq(u32, b.timeout_ms, UAPI_CLIENT_WORKER_TIMEOUT_MS + 300 * 1000));
	cfg.peers[0].allowedips_len = 2;
	cfg_device_clear(&cfg);
}
