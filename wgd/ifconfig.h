/* SPDX-License-Identifier: MIT */
/*
 * What wg-quick(8) does around `wg setconf`, done by the supervisor over rtnetlink:
 * addresses, MTU, link up, one route per AllowedIPs prefix and, for a /0 with Table=auto,
 * wg-quick's policy routing (fwmark T, "not fwmark T table T", "table main
 * suppress_prefixlength 0", the /0 in table T, src_valid_mark) with its nftables rules
 * (firewall.h). Unlike wg-quick it keeps a record of exactly what it installed, so a
 * reload changes only the difference and a shutdown removes only its own work; every sync
 * first checks that record against the kernel, so what a link bounce or an admin took away
 * is installed again. The routes follow the peers it is given: the config file's, or the
 * running device's (follow.c reads them over UAPI). It never runs hooks and never speaks
 * UAPI.
 */
#ifndef WGD_IFCONFIG_H
#define WGD_IFCONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"
#include "wgd/reach.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct cfg_device;
struct conf;

enum ifconfig_values {
	IFCONFIG_POLICY_TABLE = 51820, /* wg-quick's first choice of table and fwmark */
	IFCONFIG_ERR_LEN = 256,
};

struct ifconfig_route {
	struct rtnl_prefix prefix; /* host bits cleared */
	uint32_t table;		   /* 0 = main */
};

/* A set of interface settings: either wanted (from a config) or installed (by us). */
struct ifconfig_state {
	struct rtnl_prefix *addrs; /* owned */
	size_t addrs_len, addrs_cap;
	struct ifconfig_route *routes; /* owned */
	size_t routes_len, routes_cap;
	uint32_t rule_table; /* the policy rules' table and fwmark; 0 = no rules */
	bool has_rules[2];   /* [0] IPv4, [1] IPv6 */
	unsigned int mtu;    /* 0: not set by us */
	bool is_mtu_auto;    /* mtu was computed, not configured */
};

struct ifconfig {
	struct rtnl *nl;
	char ifname[IFNAMSIZ];
	int ifindex;
	struct ifconfig_state have; /* exactly what we installed, for sync and down */
	bool is_firewall_stale;	    /* addresses or rules changed since nft last ran */
	bool is_link_away; /* the link moved to another namespace: see ifconfig_link_left */
	/* Namespace=: rtnetlink where wgd started (borrowed), for the endpoints' route MTU */
	struct rtnl *endpoint_nl;
	struct reach reach; /* Isolate/Reach: our nft table, synced with the routes */
};

/*
 * The policy table a config needs: 0 unless Table=auto and some AllowedIPs is a /0;
 * then the config's FwMark if it has one, else IFCONFIG_POLICY_TABLE, which is also
 * written into c->dev as its fwmark (wg-quick's `wg set IF fwmark 51820`), so that the
 * UAPI set and every later reload diff carry it.
 */
uint32_t ifconfig_policy_prepare(struct conf *c);

/*
 * The state c asks for, MTU excepted (want->mtu is c->mtu, 0 when automatic): c's
 * addresses; routes per AllowedIPs prefix by its Table= (duplicates merged); the policy
 * rules. want must be zeroed. 0 or -ENOMEM.
 */
int __must_check ifconfig_plan(struct ifconfig_state *want, const struct conf *c);

/*
 * The same with the routes of peers' AllowedIPs instead of c's own peers' (the addresses,
 * Table=, MTU and policy table stay c's): what the running device asks for. Under
 * Table=auto a /0 gets a route only when c has the policy table for it.
 */
int __must_check ifconfig_plan_peers(struct ifconfig_state *want, const struct conf *c,
				     const struct cfg_device *peers);

/*
 * Drops from have every route and address that present lacks (present's routes are
 * sorted in place): the record then claims only what the system still holds.
 */
void ifconfig_state_retain(struct ifconfig_state *have, struct ifconfig_state *present);

/*
 * Forgets from the record what the kernel no longer holds (a link bounce, an `ip route
 * del'), as every sync does first; changes nothing on the system. For a plan (reload.c).
 */
void ifconfig_refresh(struct ifconfig *ic);

/* Frees the arrays; leaves s zeroed. */
void ifconfig_state_clear(struct ifconfig_state *s);

/* Opens rtnetlink and finds ifname's index. 0 or -errno (err says what failed). */
int __must_check ifconfig_init(struct ifconfig *ic, const char *ifname, char *err, size_t errlen);

/* Forgets the record and closes rtnetlink; changes nothing on the system. */
void ifconfig_clear(struct ifconfig *ic);

/*
 * Brings the interface up as c says: addresses, then the MTU (c's, else the smallest
 * route MTU towards the peers' endpoints, else the default route's, else 1500; minus
 * MESSAGE_OVERHEAD_UDP6: see rtnl_tunnel_mtu), link up, routes, rules. Returns 0, or -errno with
 * one line in err; what was installed until then is recorded, for ifconfig_down.
 */
int __must_check ifconfig_up(struct ifconfig *ic, const struct conf *c, char *err, size_t errlen);

/*
 * Moves the interface from what we installed to what c asks for: forgets what the kernel
 * no longer holds (our routes and addresses, dumped over rtnetlink: a link bounce, an
 * `ip route del'), removes our rules, routes and addresses c no longer wants, adds the
 * missing ones, sets a changed MTU. Another's route or address that c wants too is left
 * alone and never recorded. An automatic MTU stays as computed at startup (by now the
 * routes towards the endpoints may run through the tunnel itself). A route that cannot
 * be added because the link is down is skipped quietly (the link's coming up brings the
 * next sync). Each failure is logged and the rest still done; returns 0 or the first -errno.
 */
int __must_check ifconfig_sync(struct ifconfig *ic, const struct conf *c);

/* ifconfig_sync to ifconfig_plan_peers(c, peers), the MTU untouched. */
int __must_check ifconfig_sync_peers(struct ifconfig *ic, const struct conf *c,
				     const struct cfg_device *peers);

/*
 * Removes our rules, routes and addresses. The link may already be gone (its routes and
 * addresses went with it); the rules, which outlive it, are removed all the same.
 */
void ifconfig_down(struct ifconfig *ic);

/*
 * The link moved to another network namespace (`ip link set IF netns NS`): the kernel took
 * its addresses and routes here with it, and what it gets there is that namespace's
 * administrator's. Forgets them and the ifindex (which a new link here may reuse); later
 * syncs change nothing, and ifconfig_down removes only the policy rules, which stay here.
 */
void ifconfig_link_left(struct ifconfig *ic);
/* The automatic MTU for c (see ifconfig_up), from the routing tables. */
unsigned int ifconfig_auto_mtu(struct ifconfig *ic, const struct conf *c);

#endif
