/* SPDX-License-Identifier: MIT */
/*
 * Addresses, MTU, routes and policy rules of the tunnel interface, kept as two sets:
 * what a config wants (a plan, computed afresh) and what we installed (ic->have). Every
 * change goes through one helper per object kind that updates `have' only when the
 * kernel accepted it, so the record never claims something the system does not hold.
 * An object that already existed (-EEXIST) is left out of the record: it is not ours to
 * remove later. wg-quick(8) (wireguard-tools src/wg-quick/linux.bash) is the reference
 * for what gets installed; the nftables anti-spoofing rules it adds for a full tunnel are
 * not reproduced (see wgd(8)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "wgd/conf.h"
#include "wgd/firewall.h"
#include "wgd/ifconfig.h"
#include "wgd/log.h"

#define SRC_VALID_MARK "/proc/sys/net/ipv4/conf/all/src_valid_mark"

_Static_assert(sizeof(struct conf_prefix) == sizeof(struct rtnl_prefix) &&
		       offsetof(struct conf_prefix, cidr) == offsetof(struct rtnl_prefix, cidr),
	       "conf.h promises rtnl_prefix's layout");

static size_t fam_index(int family)
{
	return family == AF_INET6;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static bool prefix_equal(const struct rtnl_prefix *a, const struct rtnl_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       !memcmp(&a->ip6, &b->ip6, addr_len(a->family));
}

static bool route_equal(const struct ifconfig_route *a, const struct ifconfig_route *b)
{
	return a->table == b->table && prefix_equal(&a->prefix, &b->prefix);
}

static bool has_addr(const struct ifconfig_state *s, const struct rtnl_prefix *p)
{
	for (size_t i = 0; i < s->addrs_len; i++)
		if (prefix_equal(&s->addrs[i], p))
			return true;
	return false;
}

static bool has_route(const struct ifconfig_state *s, const struct ifconfig_route *r)
{
	for (size_t i = 0; i < s->routes_len; i++)
		if (route_equal(&s->routes[i], r))
			return true;
	return false;
}

/* Room for one more element of size elem in *arr. 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t len, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 8;
	void *p;

	if (len < *cap)
		return 0;
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static int state_add_addr(struct ifconfig_state *s, const struct rtnl_prefix *p)
{
	if (has_addr(s, p))
		return 0;
	if (grow((void **)&s->addrs, &s->addrs_cap, s->addrs_len, sizeof(*p)) < 0)
		return -ENOMEM;
	s->addrs[s->addrs_len++] = *p;
	return 0;
}

static int state_add_route(struct ifconfig_state *s, const struct ifconfig_route *r)
{
	if (has_route(s, r))
		return 0;
	if (grow((void **)&s->routes, &s->routes_cap, s->routes_len, sizeof(*r)) < 0)
		return -ENOMEM;
	s->routes[s->routes_len++] = *r;
	return 0;
}

/* Removes element i (order does not matter: we never rely on it). */
static void state_remove_addr(struct ifconfig_state *s, size_t i)
{
	s->addrs[i] = s->addrs[--s->addrs_len];
}

static void state_remove_route(struct ifconfig_state *s, size_t i)
{
	s->routes[i] = s->routes[--s->routes_len];
}

/* A total order on routes, for the sorted lookups of ifconfig_state_retain. */
static int route_cmp(const void *pa, const void *pb)
{
	const struct ifconfig_route *a = pa, *b = pb;

	if (a->prefix.family != b->prefix.family)
		return a->prefix.family < b->prefix.family ? -1 : 1;
	if (a->prefix.cidr != b->prefix.cidr)
		return a->prefix.cidr < b->prefix.cidr ? -1 : 1;
	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	return memcmp(&a->prefix.ip6, &b->prefix.ip6, addr_len(a->prefix.family));
}

void ifconfig_state_retain(struct ifconfig_state *have, struct ifconfig_state *present)
{
	/* sorted: a link may carry many thousand routes, and this runs on every peer change */
	if (present->routes_len)
		qsort(present->routes, present->routes_len, sizeof(*present->routes), route_cmp);
	for (size_t i = have->routes_len; i-- > 0;)
		if (!present->routes_len ||
		    !bsearch(&have->routes[i], present->routes, present->routes_len,
			     sizeof(*present->routes), route_cmp))
			state_remove_route(have, i);
	for (size_t i = have->addrs_len; i-- > 0;)
		if (!has_addr(present, &have->addrs[i]))
			state_remove_addr(have, i);
}

void ifconfig_state_clear(struct ifconfig_state *s)
{
	free(s->addrs);
	free(s->routes);
	memset(s, 0, sizeof(*s));
}

static bool wants_policy(const struct conf *c)
{
	if (c->table_mode != CONF_TABLE_AUTO || c->vrf)
		return false; /* in a VRF a /0 is just a route of its table */
	for (size_t i = 0; i < c->dev.peers_len; i++)
		for (size_t j = 0; j < c->dev.peers[i].allowedips_len; j++)
			if (!c->dev.peers[i].allowedips[j].cidr &&
			    !c->dev.peers[i].allowedips[j].is_removal)
				return true;
	return false;
}

uint32_t ifconfig_policy_prepare(struct conf *c)
{
	if (!wants_policy(c))
		return 0;
	if (!c->dev.fwmark) {
		c->dev.fwmark = IFCONFIG_POLICY_TABLE;
		c->dev.flags |= CFG_DEV_HAS_FWMARK;
	}
	return c->dev.fwmark;
}

/*
 * The route an AllowedIPs entry asks for under c's Table=; false for none. Under
 * Table=auto a /0 goes to the policy table, and gets no route at all without one: a live
 * peer's /0 (`wg set`) that the file lacks would otherwise become a default route in main
 * that the tunnel's own packets follow too.
 */
static bool route_for(const struct conf *c, const struct cfg_allowedip *aip, uint32_t policy,
		      struct ifconfig_route *r)
{
	if (aip->is_removal || c->table_mode == CONF_TABLE_OFF)
		return false;
	if (c->table_mode == CONF_TABLE_AUTO && !aip->cidr && !policy && !c->vrf_table)
		return false;
	memset(r, 0, sizeof(*r));
	r->prefix.family = aip->family;
	memcpy(&r->prefix.ip6, &aip->ip6, addr_len(aip->family));
	r->prefix.cidr = aip->cidr;
	rtnl_prefix_mask(&r->prefix);
	if (c->table_mode == CONF_TABLE_ID)
		r->table = c->table;
	else if (c->vrf_table)
		r->table = c->vrf_table; /* VRF=: the VRF's own table (Table=auto) */
	else if (!aip->cidr)
		r->table = policy;
	return true;
}

int ifconfig_plan(struct ifconfig_state *want, const struct conf *c)
{
	return ifconfig_plan_peers(want, c, &c->dev);
}

int ifconfig_plan_peers(struct ifconfig_state *want, const struct conf *c,
			const struct cfg_device *peers)
{
	uint32_t policy = 0;
	struct ifconfig_route r;
	int ret;

	if (wants_policy(c))
		policy = c->dev.fwmark ? c->dev.fwmark : IFCONFIG_POLICY_TABLE;
	want->rule_table = policy;
	want->mtu = c->mtu;
	for (size_t i = 0; i < c->addresses_len; i++) {
		struct rtnl_prefix p;

		memcpy(&p, &c->addresses[i], sizeof(p));
		ret = state_add_addr(want, &p);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < peers->peers_len; i++) {
		const struct cfg_peer *peer = &peers->peers[i];

		if (peer->flags & CFG_PEER_REMOVE_ME)
			continue;
		for (size_t j = 0; j < peer->allowedips_len; j++) {
			if (!route_for(c, &peer->allowedips[j], policy, &r))
				continue;
			if (policy && !r.prefix.cidr)
				want->has_rules[fam_index(r.prefix.family)] = true;
			ret = state_add_route(want, &r);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

unsigned int ifconfig_auto_mtu(struct ifconfig *ic, const struct conf *c)
{
	const struct sockaddr **eps = calloc(c->dev.peers_len + 1, sizeof(*eps));
	unsigned int mtu;
	size_t n = 0;

	for (size_t i = 0; eps && i < c->dev.peers_len; i++)
		if (c->dev.peers[i].flags & CFG_PEER_HAS_ENDPOINT)
			eps[n++] = &c->dev.peers[i].endpoint.sa;
	/* the endpoints are reached from where the UDP sockets are, not from Namespace= */
	mtu = rtnl_tunnel_mtu(ic->endpoint_nl ? ic->endpoint_nl : ic->nl, eps, n);
	free(eps);
	return mtu;
}

/* "what: strerror (kernel's extended ACK)" into err. */
static int fail(struct ifconfig *ic, int ret, char *err, size_t errlen, const char *what)
{
	const char *ack = rtnl_error(ic->nl);

	snprintf(err, errlen, "%s on %s: %s%s%s%s", what, ic->ifname, strerror(-ret),
		 *ack ? " (" : "", ack, *ack ? ")" : "");
	return ret;
}

static int describe(char *out, size_t len, const char *verb, const struct rtnl_prefix *p,
		    uint32_t table)
{
	char text[RTNL_PREFIX_STRLEN];

	rtnl_prefix_format(p, text, sizeof(text));
	if (table)
		return snprintf(out, len, "cannot %s %s (table %u)", verb, text, table);
	return snprintf(out, len, "cannot %s %s", verb, text);
}

static int addr_add(struct ifconfig *ic, const struct rtnl_prefix *p, char *err, size_t errlen)
{
	char what[128];
	int ret = rtnl_addr_add(ic->nl, ic->ifindex, p);

	if (ret == -EEXIST)
		return 0; /* someone else's: not recorded, so never removed by us */
	if (ret == 0) {
		ic->is_firewall_stale = true;
		ret = state_add_addr(&ic->have, p);
	}
	if (ret < 0) {
		describe(what, sizeof(what), "add address", p, 0);
		return fail(ic, ret, err, errlen, what);
	}
	return 0;
}

static int route_add(struct ifconfig *ic, const struct ifconfig_route *r, char *err, size_t errlen)
{
	char what[128];
	int ret = rtnl_route_add(ic->nl, ic->ifindex, &r->prefix, r->table);

	if (ret == -EEXIST)
		return 0;
	if (ret == 0)
		ret = state_add_route(&ic->have, r);
	if (ret < 0) {
		describe(what, sizeof(what), "add route", &r->prefix, r->table);
		return fail(ic, ret, err, errlen, what);
	}
	return 0;
}

static void set_src_valid_mark(void)
{
	int fd = open(SRC_VALID_MARK, O_WRONLY | O_CLOEXEC);

	/* as wg-quick: marked packets must pass reverse-path filtering through main */
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		log_error("Cannot set %s: %s", SRC_VALID_MARK, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ip rule add not fwmark T table T; ip rule add table main suppress_prefixlength 0 */
static int rules_add(struct ifconfig *ic, int family, uint32_t table, char *err, size_t errlen)
{
	int ret = rtnl_rule_add(ic->nl, family, table, table, true, -1, 0);

	if (ret == 0 || ret == -EEXIST) {
		ic->have.rule_table = table;
		ic->have.has_rules[fam_index(family)] = true;
		ic->is_firewall_stale = true;
		ret = rtnl_rule_add(ic->nl, family, 0, 0, false, 0, 0);
	}
	if (ret < 0 && ret != -EEXIST)
		return fail(ic, ret, err, errlen, "cannot add the policy routing rules");
	if (family == AF_INET)
		set_src_valid_mark();
	return 0;
}

static void rules_del(struct ifconfig *ic, int family)
{
	uint32_t table = ic->have.rule_table;
	int ret;

	ret = rtnl_rule_del(ic->nl, family, table, table, true, -1, 0);
	if (ret < 0 && ret != -ENOENT)
		log_error("Cannot remove rule `not fwmark %u table %u': %s", table, table,
			  strerror(-ret));
	ret = rtnl_rule_del(ic->nl, family, 0, 0, false, 0, 0);
	if (ret < 0 && ret != -ENOENT)
		log_error("Cannot remove rule `table main suppress_prefixlength 0': %s",
			  strerror(-ret));
	ic->have.has_rules[fam_index(family)] = false;
	firewall_remove(ic->ifname, family);
}

/*
 * wg-quick's nftables rules go with the policy rules of a family (firewall.h); they name
 * the interface's addresses, so a sync that changed those or the rules (or a reload)
 * rewrites them, in one nft transaction each. A change of peers alone runs no nft.
 */
static int firewall_sync(struct ifconfig *ic, char *err, size_t errlen, bool keep_going)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int ret, first = 0;

	if (!ic->is_firewall_stale)
		return 0;
	for (size_t f = 0; f < 2; f++) {
		if (!ic->have.has_rules[f])
			continue;
		ret = firewall_apply(ic->ifname, families[f], ic->have.rule_table, ic->have.addrs,
				     ic->have.addrs_len, err, errlen);
		if (ret < 0 && !keep_going)
			return ret;
		if (ret < 0) {
			log_error("%s", err);
			first = first ? first : ret;
		}
	}
	ic->is_firewall_stale = first < 0;
	return first;
}

/* Removal is quiet about objects the kernel already took away with the link. */
static bool already_gone(int ret)
{
	return ret == -ENODEV || ret == -ESRCH || ret == -EADDRNOTAVAIL || ret == -ENOENT;
}

static void addr_del(struct ifconfig *ic, size_t i)
{
	char what[128];
	int ret = rtnl_addr_del(ic->nl, ic->ifindex, &ic->have.addrs[i]);

	if (ret < 0 && !already_gone(ret)) {
		describe(what, sizeof(what), "remove address", &ic->have.addrs[i], 0);
		log_error("%s: %s", what, strerror(-ret));
	}
	state_remove_addr(&ic->have, i);
	ic->is_firewall_stale = true;
}

static void route_del(struct ifconfig *ic, size_t i)
{
	const struct ifconfig_route *r = &ic->have.routes[i];
	char what[128];
	int ret = rtnl_route_del(ic->nl, ic->ifindex, &r->prefix, r->table);

	if (ret < 0 && !already_gone(ret)) {
		describe(what, sizeof(what), "remove route", &r->prefix, r->table);
		log_error("%s: %s", what, strerror(-ret));
	}
	state_remove_route(&ic->have, i);
}

/* A route of ours as the record writes it: RTNL_PROTOCOL, main as table 0. */
static int collect_route(void *ctx, const struct rtnl_route *kr)
{
	struct ifconfig_state *present = ctx;
	struct ifconfig_route r = { .prefix = kr->prefix, .table = kr->table };

	if (kr->protocol != RTNL_PROTOCOL)
		return 0; /* not added by us: our record cannot be about it */
	if (r.table == RT_TABLE_MAIN)
		r.table = 0;
	/* no duplicate check: the kernel reports each route once, and retain sorts anyway */
	if (grow((void **)&present->routes, &present->routes_cap, present->routes_len, sizeof(r)) <
	    0)
		return -ENOMEM;
	present->routes[present->routes_len++] = r;
	return 0;
}

static int collect_addr(void *ctx, const struct rtnl_prefix *p)
{
	return state_add_addr(ctx, p);
}

/*
 * Forgets the routes and addresses we installed that the kernel no longer holds: a link
 * that went down took its routes and IPv6 addresses with it, or an admin deleted one.
 * The sync that follows then installs them again. On a failed dump the record is kept.
 */
void ifconfig_refresh(struct ifconfig *ic)
{
	struct ifconfig_state present = { 0 };
	int ret = rtnl_route_list(ic->nl, ic->ifindex, collect_route, &present);

	if (ret == 0)
		ret = rtnl_addr_list(ic->nl, ic->ifindex, collect_addr, &present);
	if (ret == 0)
		ifconfig_state_retain(&ic->have, &present);
	else
		log_error("Cannot read the routes and addresses of %s: %s", ic->ifname,
			  strerror(-ret));
	ifconfig_state_clear(&present);
}

int ifconfig_init(struct ifconfig *ic, const char *ifname, char *err, size_t errlen)
{
	int ret;

	memset(ic, 0, sizeof(*ic));
	snprintf(ic->ifname, sizeof(ic->ifname), "%s", ifname);
	ret = rtnl_open(&ic->nl);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(-ret));
		return ret;
	}
	ret = rtnl_link_index(ic->nl, ifname);
	if (ret < 0)
		return fail(ic, ret, err, errlen, "cannot find the link");
	ic->ifindex = ret;
	return 0;
}

void ifconfig_clear(struct ifconfig *ic)
{
	if (ic->nl)
		rtnl_close(ic->nl);
	free(ic->reach.applied); /* forgotten, not removed: see ifconfig_down */
	ifconfig_state_clear(&ic->have);
	memset(ic, 0, sizeof(*ic));
}

static int set_mtu(struct ifconfig *ic, unsigned int mtu, char *err, size_t errlen)
{
	char what[64];
	int ret = rtnl_link_set_mtu(ic->nl, ic->ifindex, mtu);

	if (ret < 0) {
		snprintf(what, sizeof(what), "cannot set MTU %u", mtu);
		return fail(ic, ret, err, errlen, what);
	}
	ic->have.mtu = mtu;
	return 0;
}

/* Adds what want has and we have not installed, in wg-quick's order. */
static int add_missing(struct ifconfig *ic, const struct ifconfig_state *want, char *err,
		       size_t errlen, bool keep_going)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int ret, first = 0;

	for (size_t i = 0; i < want->routes_len; i++) {
		if (has_route(&ic->have, &want->routes[i]))
			continue;
		ret = route_add(ic, &want->routes[i], err, errlen);
		if (ret == -ENETDOWN && keep_going)
			continue; /* the link is down: the sync when it comes up adds the route */
		if (ret < 0 && !keep_going)
			return ret;
		if (ret < 0) {
			log_error("%s", err);
			first = first ? first : ret;
		}
	}
	for (size_t f = 0; f < 2; f++) {
		if (!want->has_rules[f] || ic->have.has_rules[f])
			continue;
		ret = rules_add(ic, families[f], want->rule_table, err, errlen);
		if (ret < 0 && !keep_going)
			return ret;
		if (ret < 0) {
			log_error("%s", err);
			first = first ? first : ret;
		}
	}
	ret = firewall_sync(ic, err, errlen, keep_going);
	return first ? first : ret;
}

int ifconfig_up(struct ifconfig *ic, const struct conf *c, char *err, size_t errlen)
{
	struct ifconfig_state want = { 0 };
	int ret;

	ret = ifconfig_plan(&want, c);
	if (ret < 0) {
		snprintf(err, errlen, "cannot plan the configuration of %s: %s", ic->ifname,
			 strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < want.addrs_len; i++) {
		ret = addr_add(ic, &want.addrs[i], err, errlen);
		if (ret < 0)
			goto out;
	}
	ret = set_mtu(ic, want.mtu ? want.mtu : ifconfig_auto_mtu(ic, c), err, errlen);
	if (ret < 0)
		goto out;
	ic->have.is_mtu_auto = !want.mtu;
	ret = rtnl_link_set_up(ic->nl, ic->ifindex, true);
	if (ret < 0) {
		fail(ic, ret, err, errlen, "cannot set the link up");
		goto out;
	}
	ret = add_missing(ic, &want, err, errlen, false);
	if (ret == 0 && reach_sync(&ic->reach, ic->ifname, c, &c->dev) < 0) {
		snprintf(err, errlen, "cannot install the Reach/Isolate table of %s (see above)",
			 ic->ifname);
		ret = -EIO;
	}
out:
	ifconfig_state_clear(&want);
	return ret;
}

/* Removes what we installed and want no longer has. */
static void remove_unwanted(struct ifconfig *ic, const struct ifconfig_state *want)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t f = 0; f < 2; f++)
		if (ic->have.has_rules[f] &&
		    (!want->has_rules[f] || want->rule_table != ic->have.rule_table))
			rules_del(ic, families[f]);
	for (size_t i = ic->have.routes_len; i-- > 0;)
		if (!has_route(want, &ic->have.routes[i]))
			route_del(ic, i);
	for (size_t i = ic->have.addrs_len; i-- > 0;)
		if (!has_addr(want, &ic->have.addrs[i]))
			addr_del(ic, i);
}

/*
 * Moves the system from ic->have, checked against the kernel, to want (see ifconfig.h);
 * is_full for a reload: the MTU too, and the nft rules rewritten whatever changed.
 */
static int sync_to(struct ifconfig *ic, const struct conf *c, const struct cfg_device *peers,
		   const struct ifconfig_state *want, bool is_full)
{
	char err[IFCONFIG_ERR_LEN];
	unsigned int mtu;
	int ret, first = 0;

	ic->is_firewall_stale |= is_full; /* a reload also repairs the nft rules */
	ifconfig_refresh(ic);
	remove_unwanted(ic, want);
	for (size_t i = 0; i < want->addrs_len; i++) {
		if (has_addr(&ic->have, &want->addrs[i]))
			continue;
		ret = addr_add(ic, &want->addrs[i], err, sizeof(err));
		if (ret < 0) {
			log_error("%s", err);
			first = first ? first : ret;
		}
	}
	if (is_full && (want->mtu || !ic->have.is_mtu_auto)) {
		mtu = want->mtu ? want->mtu : ifconfig_auto_mtu(ic, c);
		ret = mtu == ic->have.mtu ? 0 : set_mtu(ic, mtu, err, sizeof(err));
		ic->have.is_mtu_auto = !want->mtu;
		if (ret < 0) {
			log_error("%s", err);
			first = first ? first : ret;
		}
	}
	ret = add_missing(ic, want, err, sizeof(err), true);
	first = first ? first : ret;
	ret = reach_sync(&ic->reach, ic->ifname, c, peers);
	return first ? first : ret;
}

/* sync_to the plan for c with the routes of peers; is_full for a reload (see sync_to). */
static int sync_peers(struct ifconfig *ic, const struct conf *c, const struct cfg_device *peers,
		      bool is_full)
{
	struct ifconfig_state want = { 0 };
	int ret;

	if (ic->is_link_away)
		return 0;
	ret = ifconfig_plan_peers(&want, c, peers);
	if (ret < 0)
		log_error("Cannot plan the new configuration: %s", strerror(-ret));
	else
		ret = sync_to(ic, c, peers, &want, is_full);
	ifconfig_state_clear(&want);
	return ret;
}

int ifconfig_sync(struct ifconfig *ic, const struct conf *c)
{
	return sync_peers(ic, c, &c->dev, true);
}

int ifconfig_sync_peers(struct ifconfig *ic, const struct conf *c, const struct cfg_device *peers)
{
	return sync_peers(ic, c, peers, false);
}

void ifconfig_link_left(struct ifconfig *ic)
{
	ic->have.routes_len = 0;
	ic->have.addrs_len = 0;
	ic->ifindex = 0;
	ic->is_link_away = true;
}

void ifconfig_down(struct ifconfig *ic)
{
	struct ifconfig_state none = { 0 };

	if (ic->nl)
		remove_unwanted(ic, &none);
	reach_remove(&ic->reach, ic->ifname);
}
