/* SPDX-License-Identifier: MIT */
/*
 * wg-quick's nftables rules for a full tunnel (Table=auto with a /0), installed by the
 * supervisor next to the policy routing of ifconfig.c, one table per family:
 *
 *  - preraw (prerouting, priority raw): a packet for one of the interface's addresses
 *    that arrives on another interface from a source that is not local is dropped. With
 *    the policy routing, the tunnel's address is reachable through any interface, so
 *    without this rule a host on the local network could reach services bound to the
 *    tunnel address, or spoof replies into it (the "anti-spoofing" rule of wg-quick);
 *  - postmangle/premangle: the fwmark of our own UDP packets is saved to the conntrack
 *    entry and restored on the replies, so they too are routed by the main table and
 *    pass reverse-path filtering (with src_valid_mark).
 *
 * The table is named wgd-IFNAME (wg-quick uses wg-quick-IFNAME), so both can coexist.
 * Each apply replaces the family's whole table in one nft transaction.
 */
#ifndef WGD_FIREWALL_H
#define WGD_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * The nft script for ifname's family (AF_INET or AF_INET6) table: mark is the fwmark,
 * addrs the interface addresses (those of other families are skipped). Returns the
 * length written (< len), or -ENOSPC, or -EINVAL for a name nft could not quote.
 */
int firewall_script(char *buf, size_t len, const char *ifname, int family, uint32_t mark,
		    const struct rtnl_prefix *addrs, size_t n);

/*
 * Installs (or replaces) the family's table. 0, or -errno with err saying why in one
 * line (nft's first line of output, or that nft is missing).
 */
int __must_check firewall_apply(const char *ifname, int family, uint32_t mark,
				const struct rtnl_prefix *addrs, size_t n, char *err,
				size_t errlen);

/*
 * Runs `nft -f -` with script on stdin; its output, cut to outlen - 1 bytes, lands in
 * out. Returns nft's wait status (0: success) or -errno. Also used by reach.c.
 */
int firewall_nft(const char *script, char *out, size_t outlen);

/* `nft -j list table FAMILY TABLE` into out, as firewall_nft. */
int firewall_nft_list_json(const char *family, const char *table, char *out, size_t outlen);

/* Deletes the family's table if it exists; failures are logged. */
void firewall_remove(const char *ifname, int family);

#endif
