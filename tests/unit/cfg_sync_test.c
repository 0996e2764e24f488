/* SPDX-License-Identifier: MIT */
/*
 * cfg_sync_diff, the `wg syncconf` computation. Each case gives the running state and the
 * wanted configuration in get=1 text, and the request expected in set=1 text, written by
 * hand from wireguard-tools setconf.c (sync_conf) plus the rules in wgd/cfg_sync.h:
 * vanished peers first with remove=true, then each wanted peer with its full state and
 * replace_allowed_ips; device keys only where wanted names them and they differ.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgd/cfg_sync.h"
#include "wgd/uapi_client.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define X8(s)	      s s s s s s s s
#define KEY(c)	      X8(X8(c))
#define Z	      KEY("0")
#define A	      KEY("a")
#define B	      KEY("b")
#define C	      KEY("c")
#define D	      KEY("d")
#define E	      "errno=0\n\n"
#define PSK1	      KEY("1")
#define PRIV1	      KEY("3")
#define PRIV2	      KEY("2")

/* wanted peer with everything, unchanged between running and wanted */
#define PEER_A_FULL                                                                                \
	"public_key=" A "\npreshared_key=" PSK1 "\nendpoint=192.0.2.1:51820\n"                     \
	"persistent_keepalive_interval=25\nallowed_ip=10.0.0.1/32\n"                               \
	"allowed_ip=fd00::1/128\n"
#define REQ_A_FULL                                                                                 \
	"public_key=" A "\npreshared_key=" PSK1 "\nendpoint=192.0.2.1:51820\n"                     \
	"persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"                             \
	"allowed_ip=10.0.0.1/32\nallowed_ip=fd00::1/128\n"
/* a bare peer, and what syncing it sends */
#define PEER(k) "public_key=" k "\n"
#define REQ_BARE(k)                                                                                \
	"public_key=" k "\npreshared_key=" Z "\npersistent_keepalive_interval=0\n"                 \
	"replace_allowed_ips=true\n"
#define REMOVE(k) "public_key=" k "\nremove=true\n"

static const struct {
	const char *what, *running, *wanted, *request;
} cases[] = {
	{ "nothing to nothing", E, E, "set=1\n\n" },
	{ "unchanged peer is restated in full, without replace_peers",
	  "private_key=" PRIV1 "\nlisten_port=51820\n" PEER_A_FULL E,
	  "private_key=" PRIV1 "\nlisten_port=51820\n" PEER_A_FULL E, "set=1\n" REQ_A_FULL "\n" },
	{ "vanished peers are removed first", PEER(B) PEER_A_FULL PEER(C) E, PEER_A_FULL E,
	  "set=1\n" REMOVE(B) REMOVE(C) REQ_A_FULL "\n" },
	{ "new peers are added in wanted order", PEER(B) E, PEER(D) PEER(B) PEER(C) E,
	  "set=1\n" REQ_BARE(D) REQ_BARE(B) REQ_BARE(C) "\n" },
	{ "a dropped psk and keepalive are zeroed, allowed ips emptied", PEER_A_FULL E,
	  "public_key=" A "\nendpoint=192.0.2.1:51820\n" E,
	  "set=1\npublic_key=" A "\npreshared_key=" Z "\nendpoint=192.0.2.1:51820\n"
	  "persistent_keepalive_interval=0\nreplace_allowed_ips=true\n\n" },
	{ "no endpoint in wanted leaves the learned one alone",
	  "public_key=" A "\nendpoint=[2001:db8::1]:1\n" E, PEER(A) E, "set=1\n" REQ_BARE(A) "\n" },
	{ "changed private key", "private_key=" PRIV1 "\n" E, "private_key=" PRIV2 "\n" E,
	  "set=1\nprivate_key=" PRIV2 "\n\n" },
	{ "private key not named (a peers-only file): the running one is kept",
	  "private_key=" PRIV1 "\n" PEER(A) E, PEER(A) E, "set=1\n" REQ_BARE(A) "\n" },
	{ "private key named as zeros: removed", "private_key=" PRIV1 "\n" E,
	  "private_key=" Z "\n" E, "set=1\nprivate_key=" Z "\n\n" },
	{ "private key zeros, none running: nothing to do", E, "private_key=" Z "\n" E,
	  "set=1\n\n" },
	{ "private key added", E, "private_key=" PRIV1 "\n" E, "set=1\nprivate_key=" PRIV1 "\n\n" },
	{ "fwmark not named: the running one is kept", "fwmark=16\n" E, E, "set=1\n\n" },
	{ "fwmark 0 named: removed", "fwmark=16\n" E, "fwmark=0\n" E, "set=1\nfwmark=0\n\n" },
	{ "fwmark changed", "fwmark=16\n" E, "fwmark=17\n" E, "set=1\nfwmark=17\n\n" },
	{ "fwmark 0 stated, none running", E, "fwmark=0\n" E, "set=1\n\n" },
	{ "listen port not named: the current one is kept", "listen_port=40000\n" E, E,
	  "set=1\n\n" },
	{ "listen port changed", "listen_port=40000\n" E, "listen_port=51820\n" E,
	  "set=1\nlisten_port=51820\n\n" },
	{ "listen port 0 named: rebind at random", "listen_port=40000\n" E, "listen_port=0\n" E,
	  "set=1\nlisten_port=0\n\n" },
	{ "all at once", "private_key=" PRIV1 "\nlisten_port=1\nfwmark=2\n" PEER(A) PEER(B) E,
	  "private_key=" PRIV2 "\nlisten_port=3\nfwmark=4\n" PEER(C) PEER(A) E,
	  "set=1\nprivate_key=" PRIV2 "\nlisten_port=3\nfwmark=4\n" REMOVE(B) REQ_BARE(C)
		  REQ_BARE(A) "\n" },
};

static void parse(struct cfg_device *cfg, const char *text)
{
	struct uapi_state st = { 0 };

	cr_assert(eq(int, uapi_client_get_parse(&st, text, strlen(text)), 0), "%s", text);
	*cfg = st.cfg; /* take the configuration, drop the counters */
	free(st.peer_state);
}

static void check(const struct cfg_device *out, const char *want, const char *what)
{
	char *text = NULL;
	size_t len = 0;

	cr_assert(eq(int, uapi_client_set_format(&text, &len, out), 0));
	cr_assert(eq(int, strcmp(text, want), 0), "%s:\n--- got\n%s--- want\n%s", what, text, want);
	uapi_client_text_free(text, len);
}

Test(cfg_sync, table)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cfg_device running, wanted, out = { 0 };

		parse(&running, cases[i].running);
		parse(&wanted, cases[i].wanted);
		cr_assert(eq(int, cfg_sync_diff(&out, &running, &wanted), 0), "case %zu", i + 1);
		check(&out, cases[i].request, cases[i].what);
		cfg_device_clear(&running);
		cfg_device_clear(&wanted);
		cfg_device_clear(&out);
	}
}

/* A wanted entry marked for removal counts as absent; removal allowed IPs are dropped. */
Test(cfg_sync, wanted_removals_and_allowedip_removals)
{
	struct cfg_device running, wanted, out = { 0 };
	struct cfg_allowedip rm = { .family = AF_INET, .cidr = 8, .is_removal = true };

	parse(&running, PEER(A) PEER(B) E);
	parse(&wanted, PEER(A) PEER(B) E);
	wanted.peers[1].flags |= CFG_PEER_REMOVE_ME;
	cr_assert(eq(int, cfg_peer_add_allowedip(&wanted.peers[0], &rm), 0));
	cr_assert(eq(int, cfg_sync_diff(&out, &running, &wanted), 0));
	check(&out, "set=1\n" REMOVE(B) REQ_BARE(A) "\n", "removals");
	cfg_device_clear(&running);
	cfg_device_clear(&wanted);
	cfg_device_clear(&out);
}

Test(cfg_sync, duplicate_wanted_key_is_refused)
{
	struct cfg_device running, wanted, out = { 0 };

	parse(&running, E);
	parse(&wanted, PEER(A) PEER(B) E);
	memcpy(wanted.peers[1].public_key, wanted.peers[0].public_key, 32);
	cr_assert(eq(int, cfg_sync_diff(&out, &running, &wanted), -EINVAL));
	cr_assert(eq(sz, out.peers_len, 0));
	cr_assert(eq(ptr, out.peers, NULL));
	/* a duplicate that is itself marked for removal is harmless */
	wanted.peers[1].flags |= CFG_PEER_REMOVE_ME;
	cr_assert(eq(int, cfg_sync_diff(&out, &running, &wanted), 0));
	check(&out, "set=1\n" REQ_BARE(A) "\n", "duplicate marked for removal");
	cfg_device_clear(&running);
	cfg_device_clear(&wanted);
	cfg_device_clear(&out);
}

static void numbered_peers(struct cfg_device *cfg, unsigned int from, unsigned int to)
{
	for (unsigned int i = from; i < to; i++) {
		struct cfg_peer *p = cfg_device_add_peer(cfg);

		cr_assert(not(eq(ptr, p, NULL)));
		p->public_key[0] = (uint8_t)(i >> 16);
		p->public_key[1] = (uint8_t)(i >> 8);
		p->public_key[2] = (uint8_t)i;
		p->public_key[31] = 0x42;
	}
}

/* 20 000 running and 20 000 wanted peers overlapping by half: counts, order and speed. */
Test(cfg_sync, large_reload_is_fast, .timeout = 10)
{
	enum { N = 20000 };
	struct cfg_device running = { 0 }, wanted = { 0 }, out = { 0 };

	numbered_peers(&running, 0, N);
	numbered_peers(&wanted, N / 2, N + N / 2);
	cr_assert(eq(int, cfg_sync_diff(&out, &running, &wanted), 0));
	cr_assert(eq(sz, out.peers_len, N / 2 + N));
	for (size_t i = 0; i < N / 2; i++) {
		cr_assert(eq(u32, out.peers[i].flags, CFG_PEER_REMOVE_ME), "removal %zu", i);
		cr_assert(eq(u8, out.peers[i].public_key[2], (uint8_t)i));
	}
	for (size_t i = 0; i < N; i++)
		cr_assert(
			eq(int,
			   memcmp(out.peers[N / 2 + i].public_key, wanted.peers[i].public_key, 32),
			   0));
	cfg_device_clear(&running);
	cfg_device_clear(&wanted);
	cfg_device_clear(&out);
}

/* cfg_sync_count: what the same diff changes, in numbers for `wgctl reload'. */
static const struct {
	const char *what, *running, *wanted;
	size_t added, removed, changed, unchanged;
	bool key, mark, port;
} counts[] = {
	{ "nothing", E, E, 0, 0, 0, 0, false, false, false },
	{ "same peer, full", PEER_A_FULL E, PEER_A_FULL E, 0, 0, 0, 1, false, false, false },
	{ "allowed IPs in another order, host bits set in the file",
	  "public_key=" A "\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n" E,
	  "public_key=" A "\nallowed_ip=fd00::1/64\nallowed_ip=10.0.0.7/24\n" E, 0, 0, 0, 1, false,
	  false, false },
	{ "one allowed IP more", "public_key=" A "\nallowed_ip=10.0.0.0/24\n" E,
	  "public_key=" A "\nallowed_ip=10.0.0.0/24\nallowed_ip=10.0.1.0/24\n" E, 0, 0, 1, 0, false,
	  false, false },
	{ "a psk dropped", PEER_A_FULL E,
	  "public_key=" A "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
	  "allowed_ip=10.0.0.1/32\nallowed_ip=fd00::1/128\n" E,
	  0, 0, 1, 0, false, false, false },
	{ "an endpoint the file does not name is left alone",
	  "public_key=" A "\nendpoint=[2001:db8::1]:1\n" E, PEER(A) E, 0, 0, 0, 1, false, false,
	  false },
	{ "a new endpoint", "public_key=" A "\nendpoint=192.0.2.1:1\n" E,
	  "public_key=" A "\nendpoint=192.0.2.1:2\n" E, 0, 0, 1, 0, false, false, false },
	{ "added, removed, unchanged", PEER(A) PEER(B) PEER(C) E, PEER(A) PEER(C) PEER(D) E, 1, 1,
	  0, 2, false, false, false },
	{ "device keys", "private_key=" PRIV1 "\nlisten_port=1\nfwmark=2\n" E,
	  "private_key=" PRIV2 "\nlisten_port=3\nfwmark=4\n" E, 0, 0, 0, 0, true, true, true },
	{ "listen port not named", "listen_port=40000\n" E, E, 0, 0, 0, 0, false, false, false },
};

Test(cfg_sync, count_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		struct cfg_device running, wanted;
		struct cfg_sync_counts c;

		parse(&running, counts[i].running);
		parse(&wanted, counts[i].wanted);
		cr_assert(eq(int, cfg_sync_count(&c, &running, &wanted), 0), "%s", counts[i].what);
		cr_assert(eq(sz, c.peers_added, counts[i].added), "%s", counts[i].what);
		cr_assert(eq(sz, c.peers_removed, counts[i].removed), "%s", counts[i].what);
		cr_assert(eq(sz, c.peers_changed, counts[i].changed), "%s", counts[i].what);
		cr_assert(eq(sz, c.peers_unchanged, counts[i].unchanged), "%s", counts[i].what);
		cr_assert(eq(int, c.is_private_key_changed, counts[i].key), "%s", counts[i].what);
		cr_assert(eq(int, c.is_fwmark_changed, counts[i].mark), "%s", counts[i].what);
		cr_assert(eq(int, c.is_listen_port_changed, counts[i].port), "%s", counts[i].what);
		cfg_device_clear(&running);
		cfg_device_clear(&wanted);
	}
}

/* The large reload again, counted: O(n log n) as the diff is. */
Test(cfg_sync, large_count_is_fast, .timeout = 10)
{
	enum { N = 20000 };
	struct cfg_device running = { 0 }, wanted = { 0 };
	struct cfg_sync_counts c;

	numbered_peers(&running, 0, N);
	numbered_peers(&wanted, N / 2, N + N / 2);
	cr_assert(eq(int, cfg_sync_count(&c, &running, &wanted), 0));
	cr_assert(eq(sz, c.peers_added, N / 2));
	cr_assert(eq(sz, c.peers_removed, N / 2));
	cr_assert(eq(sz, c.peers_unchanged, N / 2));
	cr_assert(eq(sz, c.peers_changed, 0));
	cfg_device_clear(&running);
	cfg_device_clear(&wanted);
}
