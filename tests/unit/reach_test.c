/* SPDX-License-Identifier: MIT */
/*
 * wgd/reach: the nft script for Isolate and Reach written out by hand (exact text), the
 * cases without a table, the counters read back from nft's JSON, the report lines; and
 * netlink/rtnl_tenant's VRF table lookup on a hand-built RTM_NEWLINK message.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "netlink/rtnl_tenant.h"
#include "wgd/conf.h"
#include "wgd/reach.h"

#define KEY_PRIV "PrivateKey = kHwK5kV+Ft6YExF+aB+No99zfMONq0Q8W3kTO8M1Ml8=\n"
#define KEY_A	 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_B	 "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
#define KEY_C	 "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="

static void parse(struct conf *c, const char *text)
{
	char err[256] = "";

	cr_assert(eq(int, conf_parse_string(c, "t.conf", text, strlen(text), err, sizeof(err)), 0),
		  "%s", err);
}

static const char hub[] = "[Interface]\n" KEY_PRIV "Isolate = true\n"
			  "[Peer]\nPublicKey = " KEY_A "\n"
			  "AllowedIPs = 10.1.0.0/24, fd01::/64\n"
			  "Reach = 10.9.0.0/24, 10.2.0.0/16, fd09::/64\n"
			  "[Peer]\nPublicKey = " KEY_B "\n"
			  "AllowedIPs = 10.0.0.0/8\n"
			  "[Peer]\nPublicKey = " KEY_C "\n"
			  "AllowedIPs = 10.1.7.0/28\n"
			  "Reach = 10.9.0.1/32\n";

Test(reach, script_is_exact)
{
	static const char want[] =
		"table inet wgd-reach-wg0 {}\n"
		"delete table inet wgd-reach-wg0\n"
		"table inet wgd-reach-wg0 {\n"
		"\tcounter refused-0 {\n\t\tcomment \"" KEY_A "\"\n\t}\n"
		"\tset reach-0-v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n"
		"\t\telements = { 10.9.0.0/24, 10.2.0.0/16 }\n\t}\n"
		"\tset reach-0-v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tauto-merge\n"
		"\t\telements = { fd09::/64 }\n\t}\n"
		"\tchain peer-0 {\n"
		"\t\tip daddr @reach-0-v4 accept\n"
		"\t\tip6 daddr @reach-0-v6 accept\n"
		"\t\tcounter name \"refused-0\" drop\n\t}\n"
		"\tcounter refused-1 {\n\t\tcomment \"" KEY_B "\"\n\t}\n"
		"\tchain peer-1 {\n"
		"\t\tcounter name \"refused-1\" drop\n\t}\n"
		"\tcounter refused-2 {\n\t\tcomment \"" KEY_C "\"\n\t}\n"
		"\tset reach-2-v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n"
		"\t\telements = { 10.9.0.1/32 }\n\t}\n"
		"\tchain peer-2 {\n"
		"\t\tip daddr @reach-2-v4 accept\n"
		"\t\tcounter name \"refused-2\" drop\n\t}\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tiifname != \"wg0\" accept\n"
		"\t\tct state established,related accept\n"
		/* longest prefix first: 10.1.7.0/28 is peer 2's inside peer 1's 10.0.0.0/8 */
		"\t\tip saddr 10.1.7.0/28 jump peer-2\n"
		"\t\tip saddr 10.1.0.0/24 jump peer-0\n"
		"\t\tip saddr 10.0.0.0/8 jump peer-1\n"
		"\t\tip6 saddr fd01::/64 jump peer-0\n"
		"\t\tcounter drop\n"
		"\t}\n"
		"}\n";
	struct conf c;
	char *s;

	parse(&c, hub);
	cr_assert(eq(int, reach_script(&s, "wg0", &c, &c.dev), 0));
	cr_assert(ne(ptr, s, NULL));
	cr_expect_str_eq(s, want, "got:\n%s", s);
	free(s);
	conf_clear(&c);
}

/* Without Isolate a peer without Reach has no chain, and nothing else is dropped. */
Test(reach, without_isolate_only_reach_restricts)
{
	static const char text[] = "[Interface]\n" KEY_PRIV "[Peer]\nPublicKey = " KEY_A "\n"
				   "AllowedIPs = 10.1.0.0/24\nReach = 10.9.0.0/24\n"
				   "[Peer]\nPublicKey = " KEY_B "\nAllowedIPs = 10.2.0.0/24\n";
	struct conf c;
	char *s;

	parse(&c, text);
	cr_assert(eq(int, reach_script(&s, "wg0", &c, &c.dev), 0));
	cr_assert(ne(ptr, strstr(s, "ip saddr 10.1.0.0/24 jump peer-0\n"), NULL));
	cr_expect(eq(ptr, strstr(s, "peer-1"), NULL), "%s", s);
	cr_expect(eq(ptr, strstr(s, "\t\tcounter drop\n"), NULL), "%s", s);
	free(s);
	conf_clear(&c);
}

Test(reach, no_table_without_isolate_or_reach)
{
	static const char text[] = "[Interface]\n" KEY_PRIV "[Peer]\nPublicKey = " KEY_A "\n"
				   "AllowedIPs = 10.1.0.0/24\n";
	struct conf c;
	char *s = (char *)1;

	parse(&c, text);
	cr_expect(eq(int, reach_script(&s, "wg0", &c, &c.dev), 0));
	cr_expect(eq(ptr, s, NULL));
	conf_clear(&c);
}

/* The running peers decide the prefixes: one removed has no rules, one unknown to the file none. */
Test(reach, running_peers_decide)
{
	struct conf c, run;
	char *s;

	parse(&c, hub);
	parse(&run, hub);
	run.dev.peers[0].flags |= CFG_PEER_REMOVE_ME;
	cr_assert(eq(int, reach_script(&s, "wg0", &c, &run.dev), 0));
	cr_expect(eq(ptr, strstr(s, "jump peer-0"), NULL), "%s", s);
	cr_expect(ne(ptr, strstr(s, "jump peer-1"), NULL), "%s", s);
	free(s);
	conf_clear(&run);
	conf_clear(&c);
}

Test(reach, unquotable_name_refused)
{
	struct conf c;
	char *s;

	parse(&c, hub);
	cr_expect(eq(int, reach_script(&s, "w\"g", &c, &c.dev), -EINVAL));
	cr_expect(eq(ptr, s, NULL));
	conf_clear(&c);
}

struct seen {
	char keys[4][64];
	uint64_t packets[4];
	size_t n;
};

static void on_counter(void *ctx, const char *key, uint64_t packets)
{
	struct seen *s = ctx;

	cr_assert(lt(sz, s->n, 4));
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->packets[s->n++] = packets;
}

/* As nft 1.0.6 prints it (`nft -j list table inet wgd-reach-wg0`). */
Test(reach, counters_from_nft_json)
{
	static const char json[] =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}, {\"table\": "
		"{\"family\": "
		"\"inet\", \"name\": \"wgd-reach-wg0\", \"handle\": 2}}, {\"counter\": "
		"{\"family\": "
		"\"inet\", \"name\": \"refused-0\", \"table\": \"wgd-reach-wg0\", \"handle\": 3, "
		"\"comment\": \"" KEY_A "\", \"packets\": 7, \"bytes\": 588}}, {\"counter\": "
		"{\"family\": \"inet\", \"name\": \"refused-1\", \"table\": \"wgd-reach-wg0\", "
		"\"handle\": 4, \"comment\": \"" KEY_B "\", \"packets\": 0, \"bytes\": 0}}, "
		"{\"rule\": {\"expr\": [{\"counter\": \"refused-1\"}, {\"drop\": null}]}}]}";
	struct seen s = { .n = 0 };

	cr_assert(eq(sz, reach_parse_counters(json, on_counter, &s), 2));
	cr_expect_str_eq(s.keys[0], KEY_A);
	cr_expect(eq(u64, s.packets[0], 7));
	cr_expect_str_eq(s.keys[1], KEY_B);
	cr_expect(eq(u64, s.packets[1], 0));
	cr_expect(eq(sz, reach_parse_counters("garbage {\"counter\": {", on_counter, &s), 0));
}

/* A table that cannot be listed (none here) reads 0 everywhere; without one, no lines. */
Test(reach, report_lines)
{
	static const char want[] = KEY_A " 0 10.9.0.0/24,10.2.0.0/16,fd09::/64\n" KEY_B
					 " 0 none\n" KEY_C " 0 10.9.0.1/32\n";
	char x[] = "x";
	struct reach none = { .applied = NULL }, some = { .applied = x };
	struct conf c;
	char buf[1024];

	parse(&c, hub);
	cr_assert(eq(int, reach_report(&none, "wgd-test-none", &c, buf, sizeof(buf)), 0));
	cr_expect_str_eq(buf, "");
	cr_assert(eq(int, reach_report(&some, "wgd-test-none", &c, buf, sizeof(buf)), 0));
	cr_expect_str_eq(buf, want);
	c.isolate = false;
	cr_assert(eq(int, reach_report(&some, "wgd-test-none", &c, buf, sizeof(buf)), 0));
	cr_expect(ne(ptr, strstr(buf, KEY_B " 0 any\n"), NULL), "%s", buf);
	cr_expect(eq(int, reach_report(&some, "wgd-test-none", &c, buf, 10), -ENOSPC));
	conf_clear(&c);
}

/* An RTM_NEWLINK of kind kind with a VRF table attribute, as the kernel answers. */
static size_t link_msg(char *buf, size_t len, const char *kind, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *li, *data;

	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 42;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "vrf-blue");
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (table)
		mnl_attr_put_u32(nlh, IFLA_VRF_TABLE, table);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nlh->nlmsg_len;
}

Test(reach, vrf_table_lookup)
{
	_Alignas(struct nlmsghdr) char buf[512];
	uint32_t table = 0;
	int ifindex = 0;
	size_t n;

	n = link_msg(buf, sizeof(buf), "vrf", 1001);
	cr_assert(eq(int, rtnl_vrf_parse(buf, n, &ifindex, &table), 0));
	cr_expect(eq(int, ifindex, 42));
	cr_expect(eq(u32, table, 1001));
	n = link_msg(buf, sizeof(buf), "bridge", 1001);
	cr_expect(eq(int, rtnl_vrf_parse(buf, n, &ifindex, &table), -EMEDIUMTYPE));
	n = link_msg(buf, sizeof(buf), "vrf", 0);
	cr_expect(eq(int, rtnl_vrf_parse(buf, n, &ifindex, &table), -EMEDIUMTYPE));
	cr_expect(eq(int, rtnl_vrf_parse(buf, 8, &ifindex, &table), -EBADMSG));
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_NEWADDR;
	cr_expect(eq(int, rtnl_vrf_parse(buf, n, &ifindex, &table), -EBADMSG));
}
