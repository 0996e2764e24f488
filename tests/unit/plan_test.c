/* SPDX-License-Identifier: MIT */
/*
 * The plan (wgd/plan.h): peers added, removed, changed (with the fields) and unchanged,
 * as the syncconf comparison sees them; addresses and routes from two ifconfig states;
 * the MTU; and the text and JSON a script reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/conf.h"
#include "wgd/plan.h"

static struct cfg_peer *peer(struct cfg_device *d, uint8_t id, uint32_t net)
{
	struct cfg_peer *p = cfg_device_add_peer(d);
	struct cfg_allowedip a = { .family = AF_INET, .cidr = 24 };

	cr_assert(ne(ptr, p, NULL));
	memset(p->public_key, id, sizeof(p->public_key));
	a.ip4.s_addr = htonl(net);
	cr_assert(eq(int, cfg_peer_add_allowedip(p, &a), 0));
	return p;
}

static void add_ip(struct cfg_peer *p, uint32_t net)
{
	struct cfg_allowedip a = { .family = AF_INET, .cidr = 24 };

	a.ip4.s_addr = htonl(net);
	cr_assert(eq(int, cfg_peer_add_allowedip(p, &a), 0));
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *s = text; (s = strstr(s, line)); s++) {
		if ((s == text || s[-1] == '\n') && (s[n] == '\n' || !s[n]))
			return true;
	}
	return false;
}

Test(plan, peers_added_removed_changed_unchanged)
{
	struct cfg_device run = { 0 }, want = { 0 };
	struct conf_peer_extra extra[3] = { 0 };
	char bfile[] = "/etc/wgd/wg0.d/b.conf", dfile[] = "/etc/wgd/wg0.d/d.conf";
	struct plan p = { .ifname = "wg0", .path = "/etc/wgd/wg0.conf" };
	char *text;

	peer(&run, 1, 0x0a000100);
	peer(&run, 2, 0x0a000200);
	peer(&run, 3, 0x0a000300);
	peer(&want, 1, 0x0a000100);
	struct cfg_peer *b = peer(&want, 2, 0x0a000200);
	b->persistent_keepalive_s = 25;
	b->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	add_ip(b, 0x0a002200);
	peer(&want, 4, 0x0a000400);
	extra[1].file = bfile;
	extra[2].file = dfile;
	p.is_peers_only = true;
	cr_assert(eq(int, plan_peers(&p, &run, &want, extra), 0));
	cr_assert(eq(sz, p.added.len, 1));
	cr_assert(eq(u8, p.added.v[0].public_key[0], 4));
	cr_assert(eq(int, strcmp(p.added.v[0].file, "d.conf"), 0));
	cr_assert(eq(sz, p.removed.len, 1));
	cr_assert(eq(u8, p.removed.v[0].public_key[0], 3));
	cr_assert(eq(sz, p.changed.len, 1));
	cr_assert(eq(int, p.changed.v[0].fields,
		     CFG_SYNC_FIELD_KEEPALIVE | CFG_SYNC_FIELD_ALLOWEDIPS));
	cr_assert(eq(sz, p.unchanged, 1));
	cr_assert(plan_has_changes(&p));
	text = plan_format(&p, false);
	cr_assert(ne(ptr, text, NULL));
	cr_assert(has_line(text, "Plan for wg0 from /etc/wgd/wg0.conf: would change"), "%s", text);
	cr_assert(has_line(text, "+ peer BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ= (d.conf)"),
		  "%s", text);
	cr_assert(has_line(text, "- peer AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="), "%s",
		  text);
	cr_assert(has_line(text, "~ peer AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=: "
				 "allowed-ips, keepalive (b.conf)"),
		  "%s", text);
	cr_assert(has_line(text, "peers 1 added, 1 removed, 1 changed, 1 unchanged"), "%s", text);
	cr_assert(ne(ptr, strstr(text, "note: wg0 is not served by wgd"), NULL), "%s", text);
	free(text);
	text = plan_format(&p, true);
	cr_assert(ne(ptr, strstr(text, "\"changes\": true"), NULL), "%s", text);
	cr_assert(ne(ptr, strstr(text, "\"peers_only\": true"), NULL), "%s", text);
	cr_assert(ne(ptr, strstr(text, "\"fields\": [\"allowed-ips\", \"keepalive\"]"), NULL), "%s",
		  text);
	cr_assert(ne(ptr, strstr(text, "\"unchanged\": 1\n"), NULL), "%s", text);
	cr_assert(ne(ptr, strstr(text, "\"addresses\": null"), NULL), "%s", text);
	free(text);
	plan_clear(&p);
	cfg_device_clear(&run);
	cfg_device_clear(&want);
}

Test(plan, same_peers_in_any_order_is_no_change)
{
	struct cfg_device run = { 0 }, want = { 0 };
	struct plan p = { 0 };
	struct cfg_peer *x;
	char *text;

	x = peer(&run, 1, 0x0a000100);
	add_ip(x, 0x0a001100);
	peer(&run, 2, 0x0a000200);
	peer(&want, 2, 0x0a000200);
	x = peer(&want, 1, 0x0a001100);
	add_ip(x, 0x0a000100);
	cr_assert(eq(int, plan_peers(&p, &run, &want, NULL), 0));
	cr_assert(eq(sz, p.unchanged, 2));
	cr_assert(not(plan_has_changes(&p)));
	text = plan_format(&p, false);
	cr_assert(ne(ptr, strstr(text, ": no change\n"), NULL), "%s", text);
	free(text);
	plan_clear(&p);
	cfg_device_clear(&run);
	cfg_device_clear(&want);
}

Test(plan, a_key_twice_in_the_file_is_refused)
{
	struct cfg_device run = { 0 }, want = { 0 };
	struct plan p = { 0 };

	peer(&want, 1, 0x0a000100);
	peer(&want, 1, 0x0a000200);
	cr_assert(eq(int, plan_peers(&p, &run, &want, NULL), -EINVAL));
	plan_clear(&p);
	cfg_device_clear(&want);
}

Test(plan, listen_port_and_endpoint)
{
	struct cfg_device run = { 0 }, want = { 0 };
	struct plan p = { 0 };
	struct cfg_peer *x;
	char *text;

	run.listen_port = 51820;
	run.flags = CFG_DEV_HAS_LISTEN_PORT;
	want.listen_port = 51821;
	want.flags = CFG_DEV_HAS_LISTEN_PORT;
	peer(&run, 1, 0x0a000100);
	x = peer(&want, 1, 0x0a000100);
	x->flags |= CFG_PEER_HAS_ENDPOINT;
	x->endpoint.in4.sin_family = AF_INET;
	x->endpoint.in4.sin_port = htons(51820);
	cr_assert(eq(int, plan_peers(&p, &run, &want, NULL), 0));
	cr_assert(eq(int, p.changed.v[0].fields, CFG_SYNC_FIELD_ENDPOINT));
	text = plan_format(&p, false);
	cr_assert(has_line(text, "~ listen port 51820 -> 51821"), "%s", text);
	free(text);
	text = plan_format(&p, true);
	cr_assert(
		ne(ptr, strstr(text, "\"listen_port\": { \"from\": 51820, \"to\": 51821 }"), NULL),
		"%s", text);
	free(text);
	plan_clear(&p);
	cfg_device_clear(&run);
	cfg_device_clear(&want);
}

static void addr(struct ifconfig_state *s, int family, const char *ip, uint8_t cidr)
{
	struct rtnl_prefix *a = realloc(s->addrs, (s->addrs_len + 1) * sizeof(*a));

	cr_assert(ne(ptr, a, NULL));
	s->addrs = a;
	a = &a[s->addrs_len++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->cidr = cidr;
	cr_assert(eq(int, inet_pton(family, ip, &a->ip6), 1));
	s->addrs_cap = s->addrs_len;
}

static void route(struct ifconfig_state *s, const char *ip, uint8_t cidr, uint32_t table)
{
	struct ifconfig_route *r = realloc(s->routes, (s->routes_len + 1) * sizeof(*r));

	cr_assert(ne(ptr, r, NULL));
	s->routes = r;
	r = &r[s->routes_len++];
	memset(r, 0, sizeof(*r));
	r->prefix.family = AF_INET;
	r->prefix.cidr = cidr;
	r->table = table;
	cr_assert(eq(int, inet_pton(AF_INET, ip, &r->prefix.ip4), 1));
	s->routes_cap = s->routes_len;
}

Test(plan, addresses_routes_and_mtu)
{
	struct ifconfig_state have = { .mtu = 1420 }, want = { 0 };
	struct plan p = { .ifname = "wg0", .path = "wg0.conf" };
	char *text;

	addr(&have, AF_INET, "10.0.0.1", 24);
	addr(&have, AF_INET, "10.9.0.1", 24);
	addr(&want, AF_INET6, "fd00::1", 64);
	addr(&want, AF_INET, "10.0.0.1", 24);
	route(&have, "10.0.1.0", 24, 0);
	route(&have, "10.0.2.0", 24, 0);
	route(&want, "10.0.2.0", 24, 0);
	route(&want, "10.0.3.0", 24, 51820);
	cr_assert(eq(int, plan_interface(&p, &have, &want, 1300), 0));
	cr_assert(eq(sz, p.addrs_added.addrs_len, 1));
	cr_assert(eq(int, p.addrs_added.addrs[0].family, AF_INET6));
	cr_assert(eq(sz, p.addrs_removed.addrs_len, 1));
	cr_assert(eq(sz, p.routes_added.routes_len, 1));
	cr_assert(eq(sz, p.routes_removed.routes_len, 1));
	cr_assert(plan_has_changes(&p));
	text = plan_format(&p, false);
	cr_assert(has_line(text, "+ address fd00::1/64"), "%s", text);
	cr_assert(has_line(text, "- address 10.9.0.1/24"), "%s", text);
	cr_assert(has_line(text, "+ route 10.0.3.0/24 table 51820"), "%s", text);
	cr_assert(has_line(text, "- route 10.0.1.0/24"), "%s", text);
	cr_assert(has_line(text, "~ MTU 1420 -> 1300"), "%s", text);
	cr_assert(has_line(text, "peers 0 added, 0 removed, 0 changed, 0 unchanged; addresses 1 "
				 "added, 1 removed; routes 1 added, 1 removed"),
		  "%s", text);
	free(text);
	text = plan_format(&p, true);
	cr_assert(ne(ptr, strstr(text, "{ \"prefix\": \"10.0.3.0/24\", \"table\": 51820 }"), NULL),
		  "%s", text);
	cr_assert(ne(ptr, strstr(text, "\"mtu\": { \"from\": 1420, \"to\": 1300 }"), NULL), "%s",
		  text);
	free(text);
	plan_clear(&p);
	ifconfig_state_clear(&have);
	ifconfig_state_clear(&want);
}

Test(plan, same_interface_is_no_change)
{
	struct ifconfig_state have = { .mtu = 1420 }, want = { 0 };
	struct plan p = { 0 };

	addr(&have, AF_INET, "10.0.0.1", 24);
	addr(&want, AF_INET, "10.0.0.1", 24);
	route(&have, "10.0.1.0", 24, 0);
	route(&want, "10.0.1.0", 24, 0);
	cr_assert(eq(int, plan_interface(&p, &have, &want, 1420), 0));
	cr_assert(not(plan_has_changes(&p)));
	plan_clear(&p);
	ifconfig_state_clear(&have);
	ifconfig_state_clear(&want);
}
