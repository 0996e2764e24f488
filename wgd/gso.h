/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads, pure packet surgery: a TCP or UDP "super-packet" read from a TUN with
 * IFF_VNET_HDR and TUNSETOFFLOAD (up to 64 KiB, one header, a virtio_net_hdr saying how to
 * cut it) is split here into the MTU-sized packets the stack would have sent, with the IP
 * total length, IPv4 ID and header checksum, TCP sequence number, flags and checksum, or
 * UDP length and checksum fixed per segment, as the kernel's GSO and wireguard-go's
 * tun/offload_linux.go do. Also the Internet checksum (RFC 1071) and completing a
 * checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). No I/O, no allocation.
 */
#ifndef WGD_GSO_H
#define WGD_GSO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* Linux 4.18; missing from older uapi headers */
#endif

enum gso_values {
	GSO_VNET_HDR_LEN = sizeof(struct virtio_net_hdr),
	GSO_IPV4_HDR_MIN = 20,
	GSO_IPV6_HDR_LEN = 40,
	GSO_TCP_HDR_MIN = 20,
	GSO_UDP_HDR_LEN = 8,
};

/* A validated super-packet: borrowed pointers into the TUN read buffer. */
struct gso_packet {
	const uint8_t *pkt;
	size_t len;
	size_t l4_off;	 /* start of the TCP/UDP header */
	size_t hdr_len;	 /* IP + TCP/UDP header bytes, copied into every segment */
	size_t seg_size; /* payload bytes per segment (gso_size); the last may be shorter */
	unsigned int segments;
	bool is_ipv6, is_tcp;
};

/* The Internet checksum of len bytes folded onto sum (RFC 1071); complement to store. */
uint16_t gso_csum(const void *buf, size_t len, uint32_t sum);

/*
 * The folded pseudo-header sum (RFC 793 §3.1, RFC 8200 §8.1) of the IP packet at ip for
 * an L4 segment of l4_len bytes of protocol proto: what a partial checksum field holds.
 */
uint16_t gso_pseudo_csum(const uint8_t *ip, bool is_ipv6, int proto, size_t l4_len);

/*
 * A packet whose checksum the kernel left to us (NEEDS_CSUM): sums from csum_start to the
 * end (the field already holds the pseudo-header sum) and stores it. False if the offsets
 * do not fit in len.
 */
bool __attribute__((warn_unused_result))
gso_complete_csum(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);

/*
 * Checks that pkt (len bytes, after the virtio_net_hdr h) is a TCPv4/TCPv6/UDP-L4 GSO
 * packet whose headers and gso_size make sense, and describes it in *gp. False for
 * anything else (the caller drops it): unknown gso_type, IPv6 extension headers, a
 * protocol that does not match the type, gso_size 0. Any number of segments is fine
 * (at most len, since gso_size >= 1): the TUN advertises the kernel's default segment
 * limit (65535), so a 64 KiB TCP burst at a small MSS has hundreds, and segments are cut
 * one at a time (send.c seals them in socket batches of UDP_SOCKET_GSO_MAX_SEGMENTS).
 */
bool __attribute__((warn_unused_result))
gso_packet_parse(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		 struct gso_packet *gp);

/* The length of segment i of gp, as gso_segment will write it. */
size_t gso_segment_len(const struct gso_packet *gp, unsigned int i);

/*
 * Writes segment i (0 <= i < gp->segments) of gp to out, which must have room for
 * gp->hdr_len + gp->seg_size bytes, with every header field and checksum made final.
 * Returns its length.
 */
size_t gso_segment(const struct gso_packet *gp, unsigned int i, uint8_t *out);

#endif
