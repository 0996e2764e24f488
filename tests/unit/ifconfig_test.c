/* SPDX-License-Identifier: MIT */
/*
 * What the supervisor installs for a config file (ifconfig_plan, ifconfig_policy_prepare),
 * without touching the system. The expectations are wg-quick(8)'s rules
 * (wireguard-tools src/wg-quick/linux.bash, PROTOCOL.md §3): one route per AllowedIPs
 * prefix with the host bits cleared, in main for Table=auto, in N for Table=N, none for
 * Table=off; a /0 under Table=auto goes to table 51820 (or the FwMark's) with the two
 * policy rules, and the fwmark becomes that table. Configs come from conf_parse_string.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/conf.h"
#include "wgd/ifconfig.h"

#define KEY   "sEcBENYRC/Eu6sW21O4pYHJ8IXaaQs+C1wXNwtJP+X8="
#define PEER1 "6EE4pFnfTlDgHcsYRZ+tSPtCdMGF5fSMz8bHhTBh2Rs="
#define PEER2 "GGOzGAsQntYuIDv9SpHDXVakSwOO0hcUMnkgsjxqtmg="

static struct conf conf;
static struct ifconfig_state want;

static void teardown(void)
{
	conf_clear(&conf);
	ifconfig_state_clear(&want);
}

static void parse(const char *iface_lines, const char *peer1_ips, const char *peer2_ips)
{
	char text[2048], err[256] = "";

	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKey = " KEY "\n%s\n"
		 "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = %s\n"
		 "[Peer]\nPublicKey = " PEER2 "\nAllowedIPs = %s\n",
		 iface_lines, peer1_ips, peer2_ips);
	cr_assert(eq(int,
		     conf_parse_string(&conf, "test.conf", text, strlen(text), err, sizeof(err)),
		     0),
		  "%s", err);
}

static void plan(void)
{
	cr_assert(eq(int, ifconfig_plan(&want, &conf), 0));
}

/* Whether want holds the route "text" (written as ip(8) would) in table. */
static bool has_route(const char *text, uint32_t table)
{
	char buf[RTNL_PREFIX_STRLEN];

	for (size_t i = 0; i < want.routes_len; i++) {
		rtnl_prefix_format(&want.routes[i].prefix, buf, sizeof(buf));
		if (!strcmp(buf, text) && want.routes[i].table == table)
			return true;
	}
	return false;
}

static bool has_addr(const char *text)
{
	char buf[RTNL_PREFIX_STRLEN];

	for (size_t i = 0; i < want.addrs_len; i++) {
		rtnl_prefix_format(&want.addrs[i], buf, sizeof(buf));
		if (!strcmp(buf, text))
			return true;
	}
	return false;
}

TestSuite(ifconfig, .fini = teardown);

Test(ifconfig, auto_routes_to_main_merged_and_masked)
{
	parse("Address = 10.0.0.1/24, fd00::1/64", "10.1.0.0/16, 10.2.3.4/32, 10.9.8.7/8",
	      "fd01::/48, 10.1.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0));
	cr_assert(eq(u32, conf.dev.fwmark, 0));
	plan();
	cr_assert(eq(sz, want.addrs_len, 2));
	/* an interface address keeps its host bits */
	cr_assert(has_addr("10.0.0.1/24"));
	cr_assert(has_addr("fd00::1/64"));
	cr_assert(eq(sz, want.routes_len, 4));
	cr_assert(has_route("10.1.0.0/16", 0));
	cr_assert(has_route("10.2.3.4/32", 0));
	cr_assert(has_route("10.0.0.0/8", 0));
	cr_assert(has_route("fd01::/48", 0));
	cr_assert(eq(u32, want.rule_table, 0));
	cr_assert(not(want.has_rules[0]));
	cr_assert(not(want.has_rules[1]));
	cr_assert(eq(uint, want.mtu, 0));
}

Test(ifconfig, full_tunnel_v4_uses_table_51820)
{
	parse("MTU = 1300", "0.0.0.0/0", "10.5.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 51820));
	cr_assert(eq(u32, conf.dev.fwmark, 51820));
	cr_assert(ne(uint, conf.dev.flags & CFG_DEV_HAS_FWMARK, 0));
	plan();
	cr_assert(eq(sz, want.routes_len, 2));
	cr_assert(has_route("0.0.0.0/0", 51820));
	cr_assert(has_route("10.5.0.0/16", 0));
	cr_assert(eq(u32, want.rule_table, 51820));
	cr_assert(want.has_rules[0]);
	cr_assert(not(want.has_rules[1]));
	cr_assert(eq(uint, want.mtu, 1300));
}

Test(ifconfig, full_tunnel_v6_takes_the_configured_fwmark)
{
	parse("FwMark = 0x1234", "::/0", "10.5.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0x1234));
	cr_assert(eq(u32, conf.dev.fwmark, 0x1234));
	plan();
	cr_assert(has_route("::/0", 0x1234));
	cr_assert(eq(u32, want.rule_table, 0x1234));
	cr_assert(not(want.has_rules[0]));
	cr_assert(want.has_rules[1]);
}

Test(ifconfig, table_off_routes_nothing)
{
	parse("Table = off\nAddress = 10.0.0.1/24", "0.0.0.0/0, ::/0", "10.5.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0));
	cr_assert(eq(u32, conf.dev.fwmark, 0));
	plan();
	cr_assert(eq(sz, want.routes_len, 0));
	cr_assert(eq(sz, want.addrs_len, 1));
	cr_assert(eq(u32, want.rule_table, 0));
	cr_assert(not(want.has_rules[0]));
	cr_assert(not(want.has_rules[1]));
}

Test(ifconfig, table_number_takes_every_route_without_rules)
{
	parse("Table = 1234", "0.0.0.0/0, 10.6.0.0/16", "fd02::/64");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0));
	plan();
	cr_assert(eq(sz, want.routes_len, 3));
	cr_assert(has_route("0.0.0.0/0", 1234));
	cr_assert(has_route("10.6.0.0/16", 1234));
	cr_assert(has_route("fd02::/64", 1234));
	cr_assert(eq(u32, want.rule_table, 0));
	cr_assert(not(want.has_rules[0]));
}

/* VRF=: the routes go to the VRF's table, a /0 too, and no policy rules are made. */
Test(ifconfig, vrf_takes_every_route_into_its_table)
{
	parse("VRF = vrf-blue", "0.0.0.0/0", "10.5.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0));
	cr_assert(eq(u32, conf.dev.fwmark, 0));
	conf.vrf_table = 1001; /* as netns_vrf_attach finds it */
	plan();
	cr_assert(eq(sz, want.routes_len, 2));
	cr_assert(has_route("0.0.0.0/0", 1001));
	cr_assert(has_route("10.5.0.0/16", 1001));
	cr_assert(eq(u32, want.rule_table, 0));
	cr_assert(not(want.has_rules[0]));
}

Test(ifconfig, table_main_is_254)
{
	parse("Table = main", "10.7.0.0/16", "10.8.0.0/16");
	plan();
	cr_assert(has_route("10.7.0.0/16", 254));
	cr_assert(has_route("10.8.0.0/16", 254));
}

/* ---- the routes of the running peers (follow.c) and the record's check ---- */

/* A device as a UAPI get reports it: one peer with the given allowed IPs. */
static void running(struct cfg_device *dev, struct cfg_peer *peer, struct cfg_allowedip *aips,
		    const char *const *ips, size_t n)
{
	memset(dev, 0, sizeof(*dev));
	memset(peer, 0, sizeof(*peer));
	for (size_t i = 0; i < n; i++) {
		struct rtnl_prefix p;

		cr_assert(eq(int, rtnl_prefix_parse(&p, ips[i]), 0), "%s", ips[i]);
		memset(&aips[i], 0, sizeof(aips[i]));
		aips[i].family = p.family;
		memcpy(&aips[i].ip6, &p.ip6, sizeof(p.ip6));
		aips[i].cidr = p.cidr;
	}
	peer->allowedips = aips;
	peer->allowedips_len = n;
	dev->peers = peer;
	dev->peers_len = 1;
}

Test(ifconfig, running_peers_give_the_routes_the_config_the_rest)
{
	static const char *const ips[] = { "10.20.0.0/16", "fd20::/48" };
	struct cfg_allowedip aips[2];
	struct cfg_device dev;
	struct cfg_peer peer;

	parse("Table = 1234\nAddress = 10.0.0.1/24\nMTU = 1300", "10.1.0.0/16", "10.2.0.0/16");
	running(&dev, &peer, aips, ips, 2);
	cr_assert(eq(int, ifconfig_plan_peers(&want, &conf, &dev), 0));
	cr_assert(eq(sz, want.routes_len, 2));
	cr_assert(has_route("10.20.0.0/16", 1234));
	cr_assert(has_route("fd20::/48", 1234));
	cr_assert(not(has_route("10.1.0.0/16", 1234)), "the file's peers are not running");
	cr_assert(has_addr("10.0.0.1/24"));
	cr_assert(eq(uint, want.mtu, 1300));
}

/* A running /0 under Table=auto: the policy table if the file set one up, else nothing. */
Test(ifconfig, running_default_route_needs_the_files_policy_table)
{
	static const char *const ips[] = { "0.0.0.0/0", "::/0", "10.30.0.0/16" };
	struct cfg_allowedip aips[3];
	struct cfg_device dev;
	struct cfg_peer peer;

	parse("", "10.1.0.0/16", "10.2.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 0));
	running(&dev, &peer, aips, ips, 3);
	cr_assert(eq(int, ifconfig_plan_peers(&want, &conf, &dev), 0));
	cr_assert(eq(sz, want.routes_len, 1), "no default route into main");
	cr_assert(has_route("10.30.0.0/16", 0));
	cr_assert(not(want.has_rules[0]));
	ifconfig_state_clear(&want);
	conf_clear(&conf);

	parse("", "0.0.0.0/0", "10.2.0.0/16");
	cr_assert(eq(u32, ifconfig_policy_prepare(&conf), 51820));
	cr_assert(eq(int, ifconfig_plan_peers(&want, &conf, &dev), 0));
	cr_assert(has_route("0.0.0.0/0", 51820));
	cr_assert(has_route("::/0", 51820));
	cr_assert(want.has_rules[0]);
	cr_assert(want.has_rules[1]);
}

static void add_route(struct ifconfig_state *s, const char *text, uint32_t table)
{
	struct ifconfig_route r = { .table = table };

	cr_assert(eq(int, rtnl_prefix_parse(&r.prefix, text), 0), "%s", text);
	s->routes = realloc(s->routes, (s->routes_len + 1) * sizeof(r));
	cr_assert(not(eq(ptr, s->routes, NULL)));
	s->routes_cap = ++s->routes_len;
	s->routes[s->routes_len - 1] = r;
}

static void add_addr(struct ifconfig_state *s, const char *text)
{
	struct rtnl_prefix p;

	cr_assert(eq(int, rtnl_prefix_parse(&p, text), 0), "%s", text);
	s->addrs = realloc(s->addrs, (s->addrs_len + 1) * sizeof(p));
	cr_assert(not(eq(ptr, s->addrs, NULL)));
	s->addrs_cap = ++s->addrs_len;
	s->addrs[s->addrs_len - 1] = p;
}

/* The record keeps only what the kernel still holds, whatever order it reports. */
Test(ifconfig, retain_forgets_what_the_kernel_lost)
{
	struct ifconfig_state present = { 0 };

	add_route(&want, "10.1.0.0/16", 0);
	add_route(&want, "10.2.0.0/16", 0);
	add_route(&want, "10.3.0.0/16", 0);
	add_route(&want, "fd01::/48", 0);
	add_route(&want, "0.0.0.0/0", 51820);
	add_addr(&want, "10.0.0.1/24");
	add_addr(&want, "fd00::1/64");
	/* present: a route down, one now in another table, a /24 not a /16, an extra */
	add_route(&present, "10.9.0.0/16", 0);
	add_route(&present, "0.0.0.0/0", 51820);
	add_route(&present, "10.3.0.0/16", 1234);
	add_route(&present, "fd01::/48", 0);
	add_route(&present, "10.2.0.0/24", 0);
	add_route(&present, "10.1.0.0/16", 0);
	add_addr(&present, "10.0.0.1/24");
	ifconfig_state_retain(&want, &present);
	cr_assert(eq(sz, want.routes_len, 3));
	cr_assert(has_route("10.1.0.0/16", 0));
	cr_assert(has_route("fd01::/48", 0));
	cr_assert(has_route("0.0.0.0/0", 51820));
	cr_assert(eq(sz, want.addrs_len, 1), "the IPv6 address went with the link");
	cr_assert(has_addr("10.0.0.1/24"));
	ifconfig_state_retain(&want, &(struct ifconfig_state){ 0 });
	cr_assert(eq(sz, want.routes_len, 0));
	cr_assert(eq(sz, want.addrs_len, 0));
	ifconfig_state_clear(&present);
}
