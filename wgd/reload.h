/* SPDX-License-Identifier: MIT */
/*
 * Reloading a config file into a running interface (SIGHUP, `wgctl reload`): the whole
 * file is read again and checked before anything changes; then the device moves to it
 * with one `wg syncconf`-style UAPI set (cfg_sync_diff), so peers that stay keep their
 * sessions, and the addresses, routes and MTU with ifconfig_sync. Hooks are not run
 * again; the new file's PreDown/PostDown are the ones used at shutdown.
 */
#ifndef WGD_RELOAD_H
#define WGD_RELOAD_H

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct conf;
struct ifconfig;

/*
 * Re-reads path and applies it to ifname (whose UAPI socket must answer) and ic. On
 * success *current is replaced by the new config. Returns 0; -EINVAL for a file that does
 * not parse (its "FILE:LINE: message" is logged) and -errno when the daemon refuses the
 * change, both with nothing changed; or the first -errno of an address, route or MTU
 * change, with the device and *current already updated (each failure is logged).
 */
int __must_check reload_apply(const char *ifname, const char *path, struct conf *current,
			      struct ifconfig *ic);

#endif
