/* SPDX-License-Identifier: MIT */
/*
 * A plan: what moving a running interface to a configuration would change, item by item,
 * before anything changes. `wgctl reload --dry-run' and `wgctl check IF' print it (the
 * daemon computes it: control.h's plan=1), and a reload's summary line is counted from
 * the very plan it then applies (reload.c), so the two never disagree. Peers come from
 * cfg_sync_walk (the `wg syncconf' comparison); addresses, routes and the MTU from the
 * record of what wgd installed (ifconfig.h) against ifconfig_plan() of the new file.
 * Pure data: nothing here reads a socket or the system.
 */
#ifndef WGD_PLAN_H
#define WGD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "wgd/cfg_sync.h"
#include "wgd/ifconfig.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct conf;
struct conf_peer_extra;

struct plan_peer {
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	int fields; /* changed: CFG_SYNC_FIELD_* */
	char *file; /* owned: added or changed, the drop-in that defines it; NULL: the main file */
};

struct plan_peers {
	struct plan_peer *v; /* owned */
	size_t len, cap;
};

struct plan {
	const char *ifname, *path; /* borrowed, for the header */
	bool is_peers_only;	   /* not wgd: addresses, routes and MTU not compared */
	struct plan_peers added, removed, changed;
	size_t unchanged;
	struct cfg_sync_counts device; /* the device keys (its peer counts stay zero) */
	unsigned int listen_port_from, listen_port_to;
	uint32_t fwmark_from, fwmark_to;
	struct ifconfig_state addrs_added, addrs_removed;   /* only their addrs are used */
	struct ifconfig_state routes_added, routes_removed; /* only their routes are used */
	unsigned int mtu_from, mtu_to;			    /* equal: the MTU stays */
};

/*
 * The peers and device keys of moving running to wanted (cfg_sync_diff's request);
 * extra (NULL, or wanted's conf_peer_extra at the same indices) names drop-ins. p must be
 * zeroed. 0, -EINVAL (wanted lists a key twice) or -ENOMEM.
 */
int __must_check plan_peers(struct plan *p, const struct cfg_device *running,
			    const struct cfg_device *wanted, const struct conf_peer_extra *extra);

/*
 * Addresses and routes in want and not in have (added) and the reverse (removed); the
 * MTU from have->mtu to mtu_to. Sorts both sets in place. 0 or -ENOMEM.
 */
int __must_check plan_interface(struct plan *p, struct ifconfig_state *have,
				struct ifconfig_state *want, unsigned int mtu_to);

/* Whether applying the plan would change anything. */
bool plan_has_changes(const struct plan *p);

/* Human-readable: a header line, then one line per item ("+ peer KEY"), then counts. */
void plan_write_text(FILE *f, const struct plan *p);

/* The same as one JSON object (schema in wgctl(8)). */
void plan_write_json(FILE *f, const struct plan *p);
/* A JSON string literal of s, escaped (wgctl's --json output uses it too). */
void json_write_str(FILE *f, const char *s);

/* The text (json or not) in a malloc'd string, or NULL. */
char *plan_format(const struct plan *p, bool json);

void plan_clear(struct plan *p);

#endif
