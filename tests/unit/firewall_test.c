/* SPDX-License-Identifier: MIT */
/*
 * wgd/firewall: the script against wg-quick's rules written out by hand (wg-quick.bash,
 * add_default: preraw at priority -300 dropping packets for the interface's addresses
 * from other interfaces unless the source is local; premangle/postmangle at -150 moving
 * the fwmark through conntrack for UDP), and a real nft in a private network namespace:
 * apply, replace, remove, and the error when nft is missing. Needs root and nft for the
 * second part; skipped otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/firewall.h"

static struct rtnl_prefix prefix(int family, const char *ip, unsigned int cidr)
{
	struct rtnl_prefix p = { .family = family, .cidr = cidr };

	cr_assert(eq(int, inet_pton(family, ip, &p.ip6), 1));
	return p;
}

Test(firewall, script_is_wg_quicks_rules)
{
	static char want4[] =
		"table ip wgd-wg0 {}\n"
		"delete table ip wgd-wg0\n"
		"table ip wgd-wg0 {\n"
		"\tchain preraw {\n"
		"\t\ttype filter hook prerouting priority -300; policy accept;\n"
		"\t\tiifname != \"wg0\" ip daddr 10.0.0.2 fib saddr type != local drop\n"
		"\t\tiifname != \"wg0\" ip daddr 192.0.2.7 fib saddr type != local drop\n"
		"\t}\n"
		"\tchain premangle {\n"
		"\t\ttype filter hook prerouting priority -150; policy accept;\n"
		"\t\tmeta l4proto udp meta mark set ct mark\n"
		"\t}\n"
		"\tchain postmangle {\n"
		"\t\ttype filter hook postrouting priority -150; policy accept;\n"
		"\t\tmeta l4proto udp meta mark 51820 ct mark set meta mark\n"
		"\t}\n"
		"}\n";
	struct rtnl_prefix addrs[3] = {
		prefix(AF_INET, "10.0.0.2", 24),
		prefix(AF_INET6, "fd00::2", 64),
		prefix(AF_INET, "192.0.2.7", 32),
	};
	char buf[4096];
	int n = firewall_script(buf, sizeof(buf), "wg0", AF_INET, 51820, addrs, 3);

	cr_assert(eq(int, n, (int)strlen(want4)));
	cr_assert(eq(str, buf, want4));
	n = firewall_script(buf, sizeof(buf), "wg0", AF_INET6, 0xca6c, addrs, 3);
	cr_assert(gt(int, n, 0));
	cr_assert(not(eq(ptr, strstr(buf, "table ip6 wgd-wg0 {\n"), NULL)));
	cr_assert(not(eq(ptr, strstr(buf, "iifname != \"wg0\" ip6 daddr fd00::2 fib saddr "
					 "type != local drop\n"),
			     NULL)));
	cr_assert(eq(ptr, strstr(buf, "10.0.0.2"), NULL));
	cr_assert(not(eq(ptr, strstr(buf, "meta mark 51820 ct mark"), NULL)));
}

Test(firewall, script_refuses_what_nft_cannot_quote_or_hold)
{
	struct rtnl_prefix a = prefix(AF_INET, "10.0.0.2", 24);
	char buf[4096];

	cr_assert(eq(int, firewall_script(buf, sizeof(buf), "w\"g", AF_INET, 1, &a, 1), -EINVAL));
	cr_assert(eq(int, firewall_script(buf, sizeof(buf), "w\\g", AF_INET, 1, &a, 1), -EINVAL));
	cr_assert(eq(int, firewall_script(buf, sizeof(buf), "", AF_INET, 1, &a, 1), -EINVAL));
	cr_assert(eq(int, firewall_script(buf, sizeof(buf), "wg0", AF_UNIX, 1, &a, 1), -EINVAL));
	cr_assert(eq(int, firewall_script(buf, 100, "wg0", AF_INET, 1, &a, 1), -ENOSPC));
}

/* 0 when `nft list table FAMILY wgd-NAME` prints a line containing needle. */
static int nft_shows(const char *family, const char *name, const char *needle)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "nft list table %s wgd-%s 2>/dev/null | grep -qF '%s'",
		 family, name, needle);
	return system(cmd);
}

static void private_netns(void)
{
	/*
	 * As in wgd's main: a missing nft exits before reading its script, and the write
	 * to its stdin must fail with EPIPE, not kill the process.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0 || system("command -v nft >/dev/null") != 0)
		cr_skip("needs root and nft");
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip("no private network namespace: %m");
}

Test(firewall, real_nft_apply_replace_remove, .init = private_netns)
{
	struct rtnl_prefix a = prefix(AF_INET, "10.9.0.1", 24), b = prefix(AF_INET, "10.9.0.2", 24);
	char err[256] = "";

	cr_assert(eq(int, firewall_apply("wgfw0", AF_INET, 4242, &a, 1, err, sizeof(err)), 0),
		  "%s", err);
	cr_assert(eq(int, nft_shows("ip", "wgfw0", "ip daddr 10.9.0.1 fib saddr type != local drop"), 0));
	cr_assert(eq(int, nft_shows("ip", "wgfw0", "meta mark 0x00001092 ct mark set meta mark"), 0));
	/* a second apply replaces the table: the old address is gone */
	cr_assert(eq(int, firewall_apply("wgfw0", AF_INET, 4242, &b, 1, err, sizeof(err)), 0),
		  "%s", err);
	cr_assert(eq(int, nft_shows("ip", "wgfw0", "10.9.0.2"), 0));
	cr_assert(ne(int, nft_shows("ip", "wgfw0", "10.9.0.1"), 0));
	firewall_remove("wgfw0", AF_INET);
	cr_assert(ne(int, system("nft list table ip wgd-wgfw0 >/dev/null 2>&1"), 0));
	firewall_remove("wgfw0", AF_INET); /* already gone: quiet */
}

Test(firewall, missing_nft_is_one_clear_line, .init = private_netns)
{
	struct rtnl_prefix a = prefix(AF_INET, "10.9.0.1", 24);
	char err[256] = "", *path = strdup(getenv("PATH") ? getenv("PATH") : "");
	int ret;

	setenv("PATH", "/nonexistent", 1);
	ret = firewall_apply("wgfw1", AF_INET, 1, &a, 1, err, sizeof(err));
	setenv("PATH", path, 1);
	free(path);
	cr_assert(lt(int, ret, 0));
	cr_assert(not(eq(ptr, strstr(err, "nft not found (install nftables)"), NULL)), "%s", err);
	cr_assert(eq(ptr, strchr(err, '\n'), NULL));
}
