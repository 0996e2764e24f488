/* SPDX-License-Identifier: MIT */
/*
 * gwload's plumbing on the daemon's side: the inner IPv4 packets it offers (UDP datagrams,
 * TCP segments of one flow, TSO super-packets with a virtio_net_hdr), sockets opened inside
 * the daemon's network namespace, and the TUN device's kernel counters.
 */
#ifndef GWLOAD_INNER_H
#define GWLOAD_INNER_H

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_inner {
	GW_IP_HDR = 20,
	GW_UDP_HDR = 8,
	GW_TCP_HDR = 20,
	GW_TSO_MAX = 65535 - 512, /* a super-packet's IP length, below the 64 KiB limit */
};

/* An IPv4/UDP packet of total_len bytes (UDP checksum 0: none, RFC 768). */
void gw_build_udp4(uint8_t *p, size_t total_len, struct in_addr src, struct in_addr dst);

/* One ACK segment of a TCP flow, seq as given, full checksums: what a TSO split yields. */
void gw_build_tcp4(uint8_t *p, size_t total_len, struct in_addr src, struct in_addr dst,
		   uint32_t seq);

/*
 * A TCP super-packet of total_len bytes after a virtio_net_hdr (vh) asking for segments
 * of mss bytes, checksum left partial (the pseudo-header sum), as the kernel hands
 * a GSO skb to a TUN that offers TSO.
 */
void gw_build_tso4(struct virtio_net_hdr *vh, uint8_t *p, size_t total_len, size_t mss,
		   struct in_addr src, struct in_addr dst, uint32_t seq);

/* Runs fn(arg) with this thread inside network namespace ns (/var/run/netns/NS). */
bool gw_in_netns(const char *ns, bool (*fn)(void *arg), void *arg);

/* Opens this namespace's /proc/net/dev, to read later from anywhere; -1 on failure. */
int gw_devstats_open(void);

/* rx packets and bytes of ifname from an fd of gw_devstats_open. */
bool gw_devstats_rx(int fd, const char *ifname, uint64_t *packets, uint64_t *bytes);

#endif
