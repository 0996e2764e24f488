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
 * reports it), yields wanted (a full configuration, as a config file states it):
 *  - no CFG_DEV_REPLACE_PEERS, so peers that stay keep their keypairs and timers;
 *  - private_key only when it differs (constant-time compare; wanted without one means
 *    none, sent as zeros), fwmark only when it differs (absent means 0), listen_port only
 *    when wanted names one and it differs (absent means "any port": the current one is
 *    kept rather than rebinding);
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

#endif
