/* SPDX-License-Identifier: MIT */
/*
 * The `wg syncconf` computation (wireguard-tools setconf.c sync_conf): the one set
 * request that turns a running configuration into a wanted one while leaving the
 * sessions of peers that stay untouched. Pure data in, data out: no socket, no device.
 */
#ifndef WGD_CFG_SYNC_H
#define WGD_CFG_SYNC_H

#include "wgd/cfg.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Fills out (which must be zeroed) with a request that, applied to running (as a get
 * reports it), yields wanted (the peers a config file states, and the device keys it
 * names):
 *  - no CFG_DEV_REPLACE_PEERS, so peers that stay keep their keypairs and timers;
 *  - each device key only when wanted names it (its CFG_DEV_HAS_* flag) and it differs:
 *    private_key (constant-time compare; named as zeros removes it), fwmark (0 removes
 *    it), listen_port. A key wanted does not name is left as it runs, so a file of peers
 *    alone keeps the tunnel's identity; a caller whose file is the whole configuration
 *    (the supervisor's reload) sets the flags of the keys it means as "none";
 *  - first every running peer absent from wanted, with CFG_PEER_REMOVE_ME;
 *  - then every wanted peer, in wanted's order, with CFG_PEER_REPLACE_ALLOWEDIPS and its
 *    allowed IPs, its preshared key (zeros when it has none, which removes one), its
 *    endpoint when it names one, and its keepalive (0 when it has none).
 * Wanted peers marked CFG_PEER_REMOVE_ME count as absent; removal entries in a wanted
 * peer's allowed IPs are dropped. Returns 0, -EINVAL (wanted lists a public key twice) or
 * -ENOMEM; on failure out is cleared.
 */
int __must_check cfg_sync_diff(struct cfg_device *out, const struct cfg_device *running,
			       const struct cfg_device *wanted);

/* What a cfg_sync_diff between the same two configurations changes, for the admin. */
struct cfg_sync_counts {
	size_t peers_added, peers_removed, peers_changed, peers_unchanged;
	bool is_private_key_changed, is_fwmark_changed, is_listen_port_changed;
};

/*
 * Counts what moving from running to wanted changes (cfg_sync_diff's rules): peers only
 * in wanted, only in running, and in both with a different preshared key, keepalive,
 * allowed-IP set (compared masked, in any order) or endpoint (when wanted names one);
 * and the device keys the diff would send. Returns 0, -EINVAL (wanted lists a public key
 * twice) or -ENOMEM.
 */
int __must_check cfg_sync_count(struct cfg_sync_counts *out, const struct cfg_device *running,
				const struct cfg_device *wanted);

/* What differs in a peer in both configurations: cfg_sync_count's comparisons. */
enum cfg_sync_field {
	CFG_SYNC_FIELD_ALLOWEDIPS = 1 << 0,
	CFG_SYNC_FIELD_ENDPOINT = 1 << 1,
	CFG_SYNC_FIELD_PRESHARED_KEY = 1 << 2,
	CFG_SYNC_FIELD_KEEPALIVE = 1 << 3,
};

/*
 * One peer of the move from running to wanted: removed (want NULL), added (run NULL), or
 * in both with fields the CFG_SYNC_FIELD_* that change (0: unchanged). 0 or -errno, which
 * stops the walk.
 */
typedef int (*cfg_sync_peer_fn)(void *ctx, const struct cfg_peer *run, const struct cfg_peer *want,
				int fields);

/*
 * The same comparison peer by peer, for a plan (wgd/plan.h): *out gets the device keys
 * (peer counts left zero) before fn sees first each removed peer, in running's order,
 * then each wanted peer, in wanted's. cfg_sync_count is this walk counting. Returns 0,
 * -EINVAL (wanted lists a public key twice), -ENOMEM or fn's -errno.
 */
int __must_check cfg_sync_walk(struct cfg_sync_counts *out, const struct cfg_device *running,
			       const struct cfg_device *wanted, cfg_sync_peer_fn fn, void *ctx);

#endif
