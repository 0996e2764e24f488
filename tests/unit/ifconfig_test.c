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

Test(ifconfig, table_main_is_254)
{
	parse("Table = main", "10.7.0.0/16", "10.8.0.0/16");
	plan();
	cr_assert(has_route("10.7.0.0/16", 254));
	cr_assert(has_route("10.8.0.0/16", 254));
}
