/* SPDX-License-Identifier: MIT */
/*
 * netlink/rtnl against the running kernel, each test in a private network namespace
 * (Criterion forks per test; unshare(CLONE_NEWNET) gives each a fresh, empty one). Results
 * are checked with what the code under test did not produce: ioctl(SIOCGIF*) for links, and
 * ip(8) output for addresses, routes, rules and the kernel's extended-ACK text. Prefix codec
 * expectations come from RFC 5952 text forms and Python's ipaddress module.
 * Needs root (skipped otherwise) and veth (dummy is often not built).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "netlink/rtnl.h"
#include "netlink/rtnl_priv.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct rtnl *nl;

/* A fresh network namespace and an open socket in it; skips when that is impossible. */
static void netns_enter(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s", strerror(errno));
	cr_assert(eq(int, rtnl_open(&nl), 0));
}

static void netns_leave(void)
{
	rtnl_close(nl);
	nl = NULL;
}

TestSuite(rtnl, .fini = netns_leave);

/* A veth pair made by hand over rtnetlink: IFLA_LINKINFO { kind, data { peer } }. */
static void veth_add(const char *a, const char *b)
{
	struct nlattr *info, *data, *peer;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	void *fixed;
	int ret;

	nlh = rtnl_msg_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &fixed,
			     sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, a);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, b);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = rtnl_talk(nl, nlh, NULL, NULL);
	if (ret == -EOPNOTSUPP)
		cr_skip_test("no veth in this kernel");
	cr_assert(eq(int, ret, 0), "veth %s/%s: %s", a, b, strerror(-ret));
}

static const char *ip_path(void)
{
	static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	cr_skip_test("ip(8) is needed to check the results");
	return NULL;
}

/* Runs `ip ARGS 2>&1` in our namespace; its output goes to out. Returns the exit status. */
static int ip(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512], args[400];
	size_t n = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", ip_path(), args);
	f = popen(cmd, "r");
	cr_assert(not(eq(ptr, f, NULL)));
	while (!feof(f) && n + 1 < len)
		n += fread(out + n, 1, len - 1 - n, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void ip_ok(const char *fmt, const char *arg)
{
	char out[1024];

	cr_assert(eq(int, ip(out, sizeof(out), fmt, arg), 0), "ip %s: %s", arg, out);
}

static struct rtnl_prefix prefix(const char *s)
{
	struct rtnl_prefix p;

	cr_assert(eq(int, rtnl_prefix_parse(&p, s), 0), "%s", s);
	return p;
}

static int ifindex(const char *name)
{
	int i = (int)if_nametoindex(name);

	cr_assert(gt(int, i, 0), "%s", name);
	return i;
}

static int ioctl_ifreq(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	cr_assert(ge(int, fd, 0));
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	ret = ioctl(fd, req, ifr);
	close(fd);
	return ret;
}

/*
 * ip(8) prints a refused request as "Error: <extended ACK>.\n", adding the full stop only
 * if the kernel's text lacks one (iproute2 lib/libnetlink.c). Undo that to compare.
 */
static void assert_same_ext_ack(const char *ip_out, const char *ours)
{
	char want[256];
	size_t n;

	cr_assert_str_not_empty(ours, "no extended ACK captured");
	cr_assert(eq(int, strncmp(ip_out, "Error: ", 7), 0), "ip said: %s", ip_out);
	snprintf(want, sizeof(want), "%s", ip_out + 7);
	n = strcspn(want, "\n");
	want[n] = '\0';
	if (n && want[n - 1] == '.' && ours[strlen(ours) - 1] != '.')
		want[n - 1] = '\0';
	cr_assert_str_eq(ours, want);
}

/* ---- the prefix codec: tables, no kernel needed ---- */

static const struct {
	const char *in;
	int family;
	uint8_t addr[16], cidr;
} parse_ok[] = {
	{ "10.0.0.1/24", AF_INET, { 10, 0, 0, 1 }, 24 },
	{ "10.0.0.1", AF_INET, { 10, 0, 0, 1 }, 32 },
	{ "0.0.0.0/0", AF_INET, { 0 }, 0 },
	{ "255.255.255.255/32", AF_INET, { 255, 255, 255, 255 }, 32 },
	{ "192.168.1.7/08", AF_INET, { 192, 168, 1, 7 }, 8 },
	{ "fd00::1/64", AF_INET6, { 0xfd, [15] = 1 }, 64 },
	{ "fd00::1", AF_INET6, { 0xfd, [15] = 1 }, 128 },
	{ "::/0", AF_INET6, { 0 }, 0 },
	{ "2001:DB8::a:b/128", AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [13] = 0xa, [15] = 0xb }, 128 },
	{ "::ffff:1.2.3.4/96", AF_INET6, { [10] = 0xff, 0xff, 1, 2, 3, 4 }, 96 },
};

static const char *const parse_bad[] = {
	"",
	"/24",
	"10.0.0.1/",
	"10.0.0.1/33",
	"fd00::1/129",
	"10.0.0.1/2a",
	"10.0.0.1/-1",
	"10.0.0.1/+1",
	"10.0.0.1/ 24",
	" 10.0.0.1",
	"10.0.0.1 ",
	"10.0.0",
	"10.0.0.256",
	"fd00::1%v0/64",
	"10.0.0.1/24/1",
	"10.0.0.1/0024",
	"fd00::1/1000",
	"host",
	"fd00:::1",
	"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.1/1",
};

Test(rtnl, prefix_parse)
{
	struct rtnl_prefix p;

	for (size_t i = 0; i < ARRAY_SIZE(parse_ok); i++) {
		memset(&p, 0xa5, sizeof(p));
		cr_assert(eq(int, rtnl_prefix_parse(&p, parse_ok[i].in), 0), "%s", parse_ok[i].in);
		cr_assert(eq(int, p.family, parse_ok[i].family), "%s", parse_ok[i].in);
		cr_assert(eq(u8, p.cidr, parse_ok[i].cidr), "%s", parse_ok[i].in);
		cr_assert(
			eq(int, memcmp(&p.ip6, parse_ok[i].addr, p.family == AF_INET ? 4 : 16), 0),
			"%s", parse_ok[i].in);
	}
	for (size_t i = 0; i < ARRAY_SIZE(parse_bad); i++)
		cr_assert(eq(int, rtnl_prefix_parse(&p, parse_bad[i]), -EINVAL), "'%s'",
			  parse_bad[i]);
	cr_assert(eq(int, rtnl_prefix_parse(&p, NULL), -EINVAL));
}

/* Canonical text per RFC 5952 (lower case, longest zero run compressed). */
static const struct {
	const char *in, *out;
} format_cases[] = {
	{ "10.0.0.1/24", "10.0.0.1/24" },
	{ "10.0.0.1", "10.0.0.1/32" },
	{ "fd00:0:0:0:0:0:0:1/64", "fd00::1/64" },
	{ "2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128" },
	{ "::/0", "::/0" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1" },
};

Test(rtnl, prefix_format)
{
	struct rtnl_prefix p = { 0 };
	char out[RTNL_PREFIX_STRLEN];

	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
		p = prefix(format_cases[i].in);
		rtnl_prefix_format(&p, out, sizeof(out));
		cr_assert_str_eq(out, format_cases[i].out, "case %zu", i + 1);
	}
	p = prefix("10.0.0.1/24");
	rtnl_prefix_format(&p, out, 5);
	cr_assert_str_eq(out, "10.0", "truncated to the buffer");
	p.family = AF_UNIX;
	rtnl_prefix_format(&p, out, sizeof(out));
	cr_assert_str_empty(out);
}

/* Expected networks from Python: ipaddress.ip_network(s, strict=False). */
static const struct {
	const char *in, *out;
} mask_cases[] = {
	{ "10.1.2.3/24", "10.1.2.0/24" },
	{ "10.1.2.3/0", "0.0.0.0/0" },
	{ "10.1.2.255/31", "10.1.2.254/31" },
	{ "10.1.2.3/32", "10.1.2.3/32" },
	{ "10.1.2.3/9", "10.0.0.0/9" },
	{ "fd00::ffff/120", "fd00::ff00/120" },
	{ "fd00:1:2:3:4:5:6:7/33", "fd00:1::/33" },
	{ "fd00:1:2:3:4:5:6:7/127", "fd00:1:2:3:4:5:6:6/127" },
	{ "fd00:1:2:3:4:5:6:7/0", "::/0" },
	{ "2001:db8:ffff::/35", "2001:db8:e000::/35" },
};

Test(rtnl, prefix_mask)
{
	char out[RTNL_PREFIX_STRLEN];
	struct rtnl_prefix p;

	for (size_t i = 0; i < ARRAY_SIZE(mask_cases); i++) {
		p = prefix(mask_cases[i].in);
		rtnl_prefix_mask(&p);
		rtnl_prefix_format(&p, out, sizeof(out));
		cr_assert_str_eq(out, mask_cases[i].out, "case %zu", i + 1);
	}
}

/* ---- links ---- */

Test(rtnl, link_index)
{
	netns_enter();
	veth_add("v0", "v1");
	cr_assert(eq(int, rtnl_link_index(nl, "v0"), ifindex("v0")));
	cr_assert(eq(int, rtnl_link_index(nl, "v1"), ifindex("v1")));
	cr_assert(eq(int, rtnl_link_index(nl, "lo"), ifindex("lo")));
	cr_assert(eq(int, rtnl_link_index(nl, "nosuch0"), -ENODEV));
	cr_assert(eq(int, rtnl_link_index(nl, "a-name-far-too-long"), -EINVAL));
	cr_assert(eq(int, rtnl_link_index(nl, ""), -EINVAL));
}

Test(rtnl, link_up_down)
{
	struct ifreq ifr;
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	cr_assert(eq(int, rtnl_link_set_up(nl, v0, true), 0));
	cr_assert(eq(int, ioctl_ifreq("v0", SIOCGIFFLAGS, &ifr), 0));
	cr_assert(ifr.ifr_flags & IFF_UP);
	cr_assert(eq(int, rtnl_link_set_up(nl, v0, false), 0));
	cr_assert(eq(int, ioctl_ifreq("v0", SIOCGIFFLAGS, &ifr), 0));
	cr_assert(not(ifr.ifr_flags & IFF_UP));
	cr_assert(eq(int, rtnl_link_set_up(nl, 99999, true), -ENODEV));
}

Test(rtnl, link_mtu)
{
	char out[256];
	struct ifreq ifr;
	unsigned int mtu = 0;
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	cr_assert(eq(int, rtnl_link_set_mtu(nl, v0, 1400), 0));
	cr_assert(eq(int, ioctl_ifreq("v0", SIOCGIFMTU, &ifr), 0));
	cr_assert(eq(int, ifr.ifr_mtu, 1400));
	ip_ok("link set %s mtu 1333", "v0");
	cr_assert(eq(int, rtnl_link_get_mtu(nl, v0, &mtu), 0));
	cr_assert(eq(uint, mtu, 1333));
	cr_assert(eq(int, rtnl_link_get_mtu(nl, 99999, &mtu), -ENODEV));
	cr_assert(eq(int, rtnl_link_set_mtu(nl, 99999, 1400), -ENODEV));

	/* Below the minimum (68): the kernel's words, exactly as ip(8) reports them. */
	cr_assert(eq(int, rtnl_link_set_mtu(nl, v0, 10), -EINVAL));
	cr_assert(not(eq(int, ip(out, sizeof(out), "link set %s mtu 10", "v0"), 0)));
	assert_same_ext_ack(out, rtnl_error(nl));
	/* A success clears it. */
	cr_assert(eq(int, rtnl_link_get_mtu(nl, v0, &mtu), 0));
	cr_assert_str_empty(rtnl_error(nl));
}

Test(rtnl, link_delete)
{
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	cr_assert(eq(int, rtnl_link_delete(nl, v0), 0));
	cr_assert(eq(uint, if_nametoindex("v0"), 0));
	cr_assert(eq(uint, if_nametoindex("v1"), 0), "a veth dies with its peer");
	cr_assert(eq(int, rtnl_link_delete(nl, v0), -ENODEV));
}

/* ---- addresses ---- */

struct addr_seen {
	char text[8][RTNL_PREFIX_STRLEN];
	size_t n;
	int stop_with;	 /* returned at the first call if non-zero */
	int del_ifindex; /* deletes each address from inside the walk if > 0 */
};

static int addr_collect(void *ctx, const struct rtnl_prefix *p)
{
	struct addr_seen *s = ctx;

	cr_assert(lt(sz, s->n, ARRAY_SIZE(s->text)));
	rtnl_prefix_format(p, s->text[s->n++], RTNL_PREFIX_STRLEN);
	if (s->del_ifindex > 0)
		cr_assert(eq(int, rtnl_addr_del(nl, s->del_ifindex, p), 0));
	return s->stop_with;
}

static bool addr_seen_has(const struct addr_seen *s, const char *text)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->text[i], text))
			return true;
	return false;
}

Test(rtnl, addr_add_list_del)
{
	struct rtnl_prefix a4 = prefix("10.1.0.1/24"), a6 = prefix("fd00:1::1/64");
	struct addr_seen seen = { 0 };
	char out[2048];
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	/* Down, so the kernel adds no fe80:: link-local address of its own. */
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &a4), 0));
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &a6), 0));
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &a4), -EEXIST));
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &a6), -EEXIST));

	cr_assert(eq(int, ip(out, sizeof(out), "-o addr show dev %s", "v0"), 0));
	cr_assert(not(eq(ptr, strstr(out, "inet 10.1.0.1/24 "), NULL)), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, "inet6 fd00:1::1/64 "), NULL)), "%s", out);

	cr_assert(eq(int, rtnl_addr_list(nl, v0, addr_collect, &seen), 0));
	cr_assert(eq(sz, seen.n, 2));
	cr_assert(addr_seen_has(&seen, "10.1.0.1/24"));
	cr_assert(addr_seen_has(&seen, "fd00:1::1/64"));
	memset(&seen, 0, sizeof(seen));
	cr_assert(eq(int, rtnl_addr_list(nl, ifindex("v1"), addr_collect, &seen), 0));
	cr_assert(eq(sz, seen.n, 0), "only the asked link's addresses");

	seen.stop_with = -ECANCELED;
	cr_assert(eq(int, rtnl_addr_list(nl, v0, addr_collect, &seen), -ECANCELED));
	cr_assert(eq(sz, seen.n, 1), "a negative return stops the walk");

	cr_assert(eq(int, rtnl_addr_del(nl, v0, &a4), 0));
	cr_assert(eq(int, rtnl_addr_del(nl, v0, &a4), -EADDRNOTAVAIL));
	cr_assert(eq(int, ip(out, sizeof(out), "-o addr show dev %s", "v0"), 0));
	cr_assert(eq(ptr, strstr(out, "10.1.0.1"), NULL), "%s", out);
	cr_assert(not(eq(ptr, strstr(out, "fd00:1::1/64"), NULL)), "%s", out);
}

Test(rtnl, addr_delete_while_listing)
{
	struct rtnl_prefix a = prefix("10.1.0.1/24"), b = prefix("10.1.1.1/24"),
			   c = prefix("fd00:1::1/64");
	struct addr_seen seen = { 0 };
	char out[2048];
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &a), 0));
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &b), 0));
	cr_assert(eq(int, rtnl_addr_add(nl, v0, &c), 0));
	seen.del_ifindex = v0;
	cr_assert(eq(int, rtnl_addr_list(nl, v0, addr_collect, &seen), 0));
	cr_assert(eq(sz, seen.n, 3));
	cr_assert(eq(int, ip(out, sizeof(out), "-o addr show dev %s", "v0"), 0));
	cr_assert_str_empty(out);
}

Test(rtnl, addr_errors)
{
	struct rtnl_prefix a = prefix("10.1.0.1/24"), bad = a;

	netns_enter();
	veth_add("v0", "v1");
	cr_assert(eq(int, rtnl_addr_add(nl, 99999, &a), -ENODEV));
	cr_assert_str_not_empty(rtnl_error(nl), "the kernel names the missing device");
	bad.cidr = 33;
	cr_assert(eq(int, rtnl_addr_add(nl, ifindex("v0"), &bad), -EINVAL));
	bad.family = AF_UNIX;
	cr_assert(eq(int, rtnl_addr_add(nl, ifindex("v0"), &bad), -EAFNOSUPPORT));
}

/* ---- routes ---- */

/* Whether `ip -o FAMILY route show table TABLE` lists a line containing want. */
static bool route_listed(const char *family, const char *table, const char *want)
{
	char out[4096];

	cr_assert(eq(int, ip(out, sizeof(out), "-o %s route show table %s", family, table), 0),
		  "%s", out);
	return strstr(out, want) != NULL;
}

static void link_up(const char *name)
{
	cr_assert(eq(int, rtnl_link_set_up(nl, ifindex(name), true), 0));
}

Test(rtnl, route_main)
{
	struct rtnl_prefix p4 = prefix("10.2.3.4/16"), p6 = prefix("fd00:2::77/64");
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	link_up("v0");
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 0), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p6, 0), 0));
	/* Masked, a device route, ours, link scope (ip(8) omits scope for IPv6). */
	cr_assert(route_listed("-4", "main", "10.2.0.0/16 dev v0 proto static scope link"));
	cr_assert(route_listed("-6", "main", "fd00:2::/64 dev v0 proto static"));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 0), -EEXIST));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p6, RT_TABLE_MAIN), -EEXIST));

	cr_assert(eq(int, rtnl_route_del(nl, v0, &p4, 0), 0));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p6, 0), 0));
	cr_assert(not(route_listed("-4", "main", "10.2.0.0/16")));
	cr_assert(not(route_listed("-6", "main", "fd00:2::/64")));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p4, 0), -ESRCH));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p6, 0), -ESRCH));
}

Test(rtnl, route_table)
{
	struct rtnl_prefix p4 = prefix("10.3.0.0/24"), p6 = prefix("fd00:3::/48"),
			   all4 = prefix("0.0.0.0/0"), all6 = prefix("::/0");
	int v0, v1;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	v1 = ifindex("v1");
	link_up("v0");
	link_up("v1");
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 1234), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p6, 1234), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &all4, 1234), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &all6, 200), 0));
	cr_assert(route_listed("-4", "1234", "10.3.0.0/24 dev v0 proto static scope link"));
	cr_assert(route_listed("-6", "1234", "fd00:3::/48 dev v0 proto static"));
	cr_assert(route_listed("-4", "1234", "default dev v0 proto static scope link"));
	cr_assert(route_listed("-6", "200", "default dev v0 proto static"));
	cr_assert(not(route_listed("-4", "main", "10.3.0.0/24")));
	cr_assert(not(route_listed("-6", "main", "fd00:3::/48")));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 1234), -EEXIST));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 0), 0), "another table is another route");

	/* Deletes match table and device. */
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p4, 1235), -ESRCH));
	cr_assert(eq(int, rtnl_route_del(nl, v1, &p4, 1234), -ESRCH));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p4, 1234), 0));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &p6, 1234), 0));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &all4, 1234), 0));
	cr_assert(eq(int, rtnl_route_del(nl, v0, &all6, 200), 0));
	cr_assert(not(route_listed("-4", "1234", "v0")));
	cr_assert(not(route_listed("-6", "1234", "v0")));
	cr_assert(route_listed("-4", "main", "10.3.0.0/24 dev v0 proto static"));
}

Test(rtnl, route_del_leaves_foreign_routes)
{
	struct rtnl_prefix p = prefix("10.9.0.0/24");

	netns_enter();
	veth_add("v0", "v1");
	link_up("v0");
	ip_ok("route add 10.9.0.0/24 dev %s", "v0"); /* proto boot, the administrator's */
	cr_assert(eq(int, rtnl_route_del(nl, ifindex("v0"), &p, 0), -ESRCH));
	cr_assert(route_listed("-4", "main", "10.9.0.0/24 dev v0"));
}

struct route_seen {
	struct rtnl_route v[16];
	size_t n;
};

static int route_collect(void *ctx, const struct rtnl_route *r)
{
	struct route_seen *seen = ctx;

	cr_assert(lt(sz, seen->n, ARRAY_SIZE(seen->v)));
	seen->v[seen->n++] = *r;
	return 0;
}

/* The route of seen with prefix text in table, or NULL. */
static const struct rtnl_route *route_find(const struct route_seen *seen, const char *text,
					   uint32_t table)
{
	char buf[RTNL_PREFIX_STRLEN];

	for (size_t i = 0; i < seen->n; i++) {
		rtnl_prefix_format(&seen->v[i].prefix, buf, sizeof(buf));
		if (!strcmp(buf, text) && seen->v[i].table == table)
			return &seen->v[i];
	}
	return NULL;
}

/* The link's unicast routes in every table, with their protocol; no other link's. */
Test(rtnl, route_list)
{
	struct rtnl_prefix p4 = prefix("10.4.0.0/16"), p6 = prefix("fd00:4::/64"),
			   all4 = prefix("0.0.0.0/0");
	struct route_seen seen = { 0 };
	const struct rtnl_route *r;
	int v0, v1;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	v1 = ifindex("v1");
	link_up("v0");
	link_up("v1");
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 0), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p6, 0), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &all4, 1234), 0));
	cr_assert(eq(int, rtnl_route_add(nl, v1, &p4, 1234), 0));
	ip_ok("route add 10.5.0.0/24 dev %s", "v0"); /* proto boot, the administrator's */
	cr_assert(eq(int, rtnl_route_list(nl, v0, route_collect, &seen), 0));
	r = route_find(&seen, "10.4.0.0/16", RT_TABLE_MAIN);
	cr_assert(r != NULL);
	cr_assert(eq(u8, r->protocol, RTNL_PROTOCOL));
	r = route_find(&seen, "fd00:4::/64", RT_TABLE_MAIN);
	cr_assert(r != NULL);
	cr_assert(eq(u8, r->protocol, RTNL_PROTOCOL));
	r = route_find(&seen, "0.0.0.0/0", 1234);
	cr_assert(r != NULL);
	r = route_find(&seen, "10.5.0.0/24", RT_TABLE_MAIN);
	cr_assert(r != NULL);
	cr_assert(eq(u8, r->protocol, RTPROT_BOOT));
	cr_assert(route_find(&seen, "10.4.0.0/16", 1234) == NULL, "v1's route");
	/* the kernel's local and broadcast routes are not unicast ones */
	for (size_t i = 0; i < seen.n; i++)
		cr_assert(not(eq(u32, seen.v[i].table, RT_TABLE_LOCAL)));
}

Test(rtnl, route_errors_carry_ext_ack)
{
	struct rtnl_prefix p4 = prefix("10.4.0.0/24"), p6 = prefix("fd00:4::/64"), bad = p4;
	char out[256];
	int v0;

	netns_enter();
	veth_add("v0", "v1");
	v0 = ifindex("v0");
	/* A device route on a link that is down: refused, in the kernel's words. */
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p4, 0), -ENETDOWN));
	cr_assert(not(eq(int, ip(out, sizeof(out), "route add 10.4.0.0/24 dev %s", "v0"), 0)));
	assert_same_ext_ack(out, rtnl_error(nl));
	cr_assert(eq(int, rtnl_route_add(nl, v0, &p6, 0), -ENETDOWN));
	cr_assert(not(eq(int, ip(out, sizeof(out), "-6 route add fd00:4::/64 dev %s", "v0"), 0)));
	assert_same_ext_ack(out, rtnl_error(nl));

	/* A prefix length ip(8) would never send. */
	link_up("v0");
	bad.cidr = 33;
	cr_assert(eq(int, rtnl_route_add(nl, v0, &bad, 0), -EINVAL));
	cr_assert_str_not_empty(rtnl_error(nl));
	cr_assert(eq(int, rtnl_route_add(nl, 99999, &p4, 0), -ENODEV));
	bad.family = AF_UNIX;
	cr_assert(eq(int, rtnl_route_add(nl, v0, &bad, 0), -EAFNOSUPPORT));
}

/* ---- route MTU ---- */

static unsigned int mtu_towards(int family, const char *addr)
{
	struct in6_addr a;
	unsigned int mtu = 0;

	cr_assert(eq(int, inet_pton(family, addr, &a), 1));
	cr_assert(eq(int, rtnl_route_mtu_towards(nl, family, &a, &mtu), 0), "%s", addr);
	return mtu;
}

/* v0 (MTU 1400) and v1 up, 10.5.0.1/24 and fd00:5::/64 on v0; via ip(8), not the API. */
static void mtu_topology(void)
{
	netns_enter();
	veth_add("v0", "v1");
	ip_ok("link set %s mtu 1400 up", "v0");
	ip_ok("link set %s up", "v1");
	ip_ok("addr add 10.5.0.1/24 dev %s", "v0");
	ip_ok("-6 route add fd00:5::/64 dev %s", "v0");
}

Test(rtnl, route_mtu_towards)
{
	struct in_addr a4;
	struct in6_addr a6;
	unsigned int mtu;

	mtu_topology();
	cr_assert(eq(uint, mtu_towards(AF_INET, "10.5.0.2"), 1400));
	cr_assert(eq(uint, mtu_towards(AF_INET6, "fd00:5::9"), 1400));
	ip_ok("route add 10.6.0.0/24 dev %s mtu 1300", "v0");
	ip_ok("-6 route add fd00:6::/64 dev %s mtu 1300", "v0");
	cr_assert(eq(uint, mtu_towards(AF_INET, "10.6.0.9"), 1300), "the route's own metric");
	cr_assert(eq(uint, mtu_towards(AF_INET6, "fd00:6::9"), 1300), "the route's own metric");
	ip_ok("link set %s up", "lo");
	cr_assert(eq(uint, mtu_towards(AF_INET, "127.0.0.1"), 65536));

	cr_assert(eq(int, inet_pton(AF_INET, "192.0.2.1", &a4), 1));
	cr_assert(eq(int, rtnl_route_mtu_towards(nl, AF_INET, &a4, &mtu), -ENETUNREACH));
	cr_assert(eq(int, inet_pton(AF_INET6, "2001:db8::1", &a6), 1));
	cr_assert(eq(int, rtnl_route_mtu_towards(nl, AF_INET6, &a6, &mtu), -ENETUNREACH));
	ip_ok("route add unreachable 192.0.2.0/24%s", "");
	cr_assert(lt(int, rtnl_route_mtu_towards(nl, AF_INET, &a4, &mtu), 0));
	cr_assert(eq(int, rtnl_route_mtu_towards(nl, AF_UNIX, &a4, &mtu), -EAFNOSUPPORT));
}

Test(rtnl, default_route_mtu)
{
	unsigned int mtu = 0;

	mtu_topology();
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET, &mtu), -ENOENT));
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET6, &mtu), -ENOENT));
	veth_add("v2", "v3");
	ip_ok("link set %s mtu 1350 up", "v2");
	ip_ok("route add default dev %s table 100", "v0"); /* not main: ignored */
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET, &mtu), -ENOENT));
	ip_ok("route add default dev %s metric 20", "v0");
	ip_ok("route add default dev %s metric 10", "v2");
	ip_ok("-6 route add default dev %s metric 5", "v2");
	ip_ok("-6 route add default dev %s metric 1", "v0");
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET, &mtu), 0));
	cr_assert(eq(uint, mtu, 1350), "the lowest metric default");
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET6, &mtu), 0));
	cr_assert(eq(uint, mtu, 1400));
	ip_ok("route replace default dev %s metric 10 mtu 1200", "v2");
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_INET, &mtu), 0));
	cr_assert(eq(uint, mtu, 1200), "the route's own metric");
	cr_assert(eq(int, rtnl_default_route_mtu(nl, AF_UNIX, &mtu), -EAFNOSUPPORT));
}

static struct sockaddr_in sin4(const char *addr)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(51820) };

	cr_assert(eq(int, inet_pton(AF_INET, addr, &s.sin_addr), 1));
	return s;
}

Test(rtnl, tunnel_mtu)
{
	struct sockaddr_in e1 = sin4("10.5.0.2"), e2 = sin4("10.6.0.9"), lost = sin4("192.0.2.1");
	struct sockaddr_in6 e3 = { .sin6_family = AF_INET6 };
	const struct sockaddr *eps[4] = { NULL };

	mtu_topology();
	cr_assert(eq(int, inet_pton(AF_INET6, "fd00:5::9", &e3.sin6_addr), 1));
	ip_ok("route add 10.6.0.0/24 dev %s mtu 1300", "v0");
	/* Nothing known: wg-quick's 1500 - 80. */
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, NULL, 0), 1420));
	eps[0] = (const struct sockaddr *)&lost;
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, eps, 1), 1420));
	eps[1] = (const struct sockaddr *)&e2;
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, eps, 2), 1300 - 80));
	eps[2] = (const struct sockaddr *)&e1;
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, eps, 3), 1300 - 80), "the smallest path wins");
	eps[0] = (const struct sockaddr *)&e3;
	eps[1] = NULL;
	eps[2] = NULL;
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, eps, 3), 1400 - 80));
	/* No endpoint: the IPv4 default route's device. */
	veth_add("v2", "v3");
	ip_ok("link set %s mtu 1350 up", "v2");
	ip_ok("-6 route add default dev %s", "v2");
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, NULL, 0), 1350 - 80), "IPv6-only host");
	ip_ok("route add default dev %s", "v0");
	cr_assert(eq(uint, rtnl_tunnel_mtu(nl, NULL, 0), 1400 - 80));
}

/* ---- policy rules ---- */

static bool rule_listed(const char *family, const char *want)
{
	char out[4096];

	cr_assert(eq(int, ip(out, sizeof(out), "%s rule show", family), 0), "%s", out);
	return strstr(out, want) != NULL;
}

static const struct {
	int family;
	const char *flag;
} rule_families[] = { { AF_INET, "-4" }, { AF_INET6, "-6" } };

/* The two rules wg-quick adds for a /0 in table 51820 with fwmark 51820 (0xca6c). */
Test(rtnl, rules_full_tunnel)
{
	netns_enter();
	for (size_t i = 0; i < ARRAY_SIZE(rule_families); i++) {
		int f = rule_families[i].family;
		const char *flag = rule_families[i].flag;

		cr_assert(eq(int, rtnl_rule_add(nl, f, 51820, 51820, true, -1, 0), 0));
		cr_assert(eq(int, rtnl_rule_add(nl, f, 0, 0, false, 0, 0), 0));
		cr_assert(
			rule_listed(flag, "not from all fwmark 0xca6c lookup 51820 proto static"));
		cr_assert(rule_listed(flag,
				      "from all lookup main suppress_prefixlength 0 proto static"));
		cr_assert(eq(int, rtnl_rule_del(nl, f, 51820, 51820, true, -1, 0), 0));
		cr_assert(eq(int, rtnl_rule_del(nl, f, 0, 0, false, 0, 0), 0));
		cr_assert(not(rule_listed(flag, "0xca6c")));
		cr_assert(not(rule_listed(flag, "suppress_prefixlength")));
		cr_assert(eq(int, rtnl_rule_del(nl, f, 51820, 51820, true, -1, 0), -ENOENT));
		cr_assert(eq(int, rtnl_rule_del(nl, f, 0, 0, false, -1, 0), -ENOENT),
			  "deletes match our protocol only");
		cr_assert(rule_listed(flag, "from all lookup main"), "the kernel's own rule stays");
	}
}

Test(rtnl, rules_priority)
{
	netns_enter();
	for (size_t i = 0; i < ARRAY_SIZE(rule_families); i++) {
		int f = rule_families[i].family;
		const char *flag = rule_families[i].flag;

		cr_assert(eq(int, rtnl_rule_add(nl, f, 1234, 7, false, -1, 100), 0));
		cr_assert(rule_listed(flag, "100:\tfrom all fwmark 0x7 lookup 1234 proto static"));
		cr_assert(eq(int, rtnl_rule_add(nl, f, 1234, 7, false, -1, 100), -EEXIST));
		cr_assert(eq(int, rtnl_rule_del(nl, f, 1234, 7, false, -1, 100), 0));
		cr_assert(not(rule_listed(flag, "lookup 1234")));
	}
	cr_assert(eq(int, rtnl_rule_add(nl, AF_UNIX, 1, 0, false, -1, 0), -EAFNOSUPPORT));
}

/* ---- who may answer ---- */

/*
 * A NETLINK_ROUTE socket of another process in this namespace (as root it may send to
 * any port id, as the worker may with CAP_NET_ADMIN): port id of the sender, or fails.
 */
static int forger_open(void)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	cr_assert(ge(int, fd, 0), "socket: %s", strerror(errno));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&me, sizeof(me)), 0));
	return fd;
}

/* Sends an NLMSG_ERROR carrying err, with seq and our socket's port id, to nl's port. */
static void forge_error(int fd, uint32_t seq, int err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[256] = { 0 };
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = nl->portid };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = nl->portid;
	e->error = err;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr);
	e->msg.nlmsg_seq = seq;
	e->msg.nlmsg_pid = nl->portid;
	cr_assert(eq(sz,
		     (size_t)sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)),
		     (size_t)nlh->nlmsg_len),
		  "sendto: %s", strerror(errno));
}

/*
 * An error reply with the very sequence number our next request gets, queued before the
 * request by a userspace sender: it must be dropped, and the kernel's ACK taken.
 */
Test(rtnl, reply_forged_by_another_socket_is_ignored)
{
	int fd;

	netns_enter();
	fd = forger_open();
	forge_error(fd, nl->seq + 1, -EPERM);
	forge_error(fd, nl->seq + 1, -EPERM);
	cr_assert(eq(int, rtnl_link_set_up(nl, ifindex("lo"), true), 0));
	/* the socket stays in step: the next request gets its own answer */
	cr_assert(eq(int, rtnl_link_set_up(nl, 99999, true), -ENODEV));
	close(fd);
}

/* Sequence numbers come from getrandom(2), not the clock another process can read. */
Test(rtnl, sequence_numbers_are_random)
{
	uint32_t now = (uint32_t)time(NULL);
	struct rtnl *other;

	netns_enter();
	cr_assert(eq(int, rtnl_open(&other), 0));
	cr_assert(ne(u32, nl->seq, other->seq), "two sockets opened at once share seq %u", nl->seq);
	/* within a minute of the clock: one chance in 35 million for a random number */
	cr_assert(gt(u32, nl->seq - now + 60, 120), "seq %u is the clock %u", nl->seq, now);
	rtnl_close(other);
}
