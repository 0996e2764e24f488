/* SPDX-License-Identifier: MIT */
/*
 * Who may reach what (wgd.conf(5) Reach and Isolate): one nftables table of wgd's own,
 * `table inet wgd-reach-IFNAME`, with a forward hook in the namespace where the interface
 * lives. wgd delivers a decrypted packet only if its source lies in its peer's AllowedIPs
 * (whitepaper §2, the receive side of cryptokey routing), so a source prefix identifies
 * the peer: each AllowedIPs prefix jumps to its peer's chain (longest prefix first, as the
 * trie decides), which accepts the destinations of the peer's Reach (a set per family)
 * and counts and drops the rest. A peer without Reach is unrestricted unless Isolate is
 * set; with Isolate it reaches nothing, and a packet from no peer's prefix is dropped.
 * Replies of allowed connections pass (ct state established,related).
 *
 * The whole table is written in one `nft -f` transaction whenever the wanted text changes
 * (start, reload, peers added or removed), so the kernel never holds half a policy; no
 * other table is touched, and reach_remove deletes ours. No table at all while nothing
 * restricts (no Isolate, no Reach).
 */
#ifndef WGD_REACH_H
#define WGD_REACH_H

#include <stddef.h>
#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct cfg_device;
struct conf;

struct reach {
	char *applied; /* owned: the script last applied; NULL while we have no table */
};

/*
 * The nft script for ifname under c's Isolate and Reach with the running peers (their
 * AllowedIPs; a peer's Reach is found in c by its public key). *out is malloc'd (the
 * caller frees it), or NULL when no table is wanted. 0, -EINVAL (a name nft cannot
 * quote) or -ENOMEM.
 */
int __must_check reach_script(char **out, const char *ifname, const struct conf *c,
			      const struct cfg_device *peers);

/*
 * Makes the kernel's table what reach_script says (nothing when the text is unchanged).
 * 0, or -errno (logged).
 */
int reach_sync(struct reach *r, const char *ifname, const struct conf *c,
	       const struct cfg_device *peers);

/* Deletes the table if we made one; forgets it. */
void reach_remove(struct reach *r, const char *ifname);

/*
 * The refused-packet counters of nft's JSON listing of the table (`nft -j list table`):
 * calls fn with each counter's comment (the peer's public key, base64) and packets.
 * Returns how many it found.
 */
size_t reach_parse_counters(const char *json,
			    void (*fn)(void *ctx, const char *key, uint64_t packets), void *ctx);

/*
 * While r has a table: '\n'-terminated lines "KEY REFUSED REACH" for each of c's peers
 * into buf (none without a table; REACH: the
 * comma-separated prefixes, or "any" without Reach, "none" when Isolate blocks it all;
 * REFUSED: the table's counter, 0 without one). For `wgctl show` and `wgctl metrics`.
 * 0, or -errno (buf holds what fit).
 */
int reach_report(const struct reach *r, const char *ifname, const struct conf *c, char *buf,
		 size_t len);

#endif
