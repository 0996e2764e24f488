/* SPDX-License-Identifier: MIT */
/*
 * Receive-side coalescing for the TUN, pure packet logic: consecutive decrypted TCP
 * segments of one flow are merged into one super-packet, written to a TUN with
 * IFF_VNET_HDR in a single writev (the first packet's headers, then every payload, with
 * a virtio_net_hdr asking for TCP GSO), as the kernel's tcp_gro_receive and
 * wireguard-go's tun/offload_linux.go do. The rules are the kernel's: same addresses,
 * ports, ACK, window, TTL/TOS, options; next sequence number; no flags but ACK (PSH closes
 * the batch); every segment as long as the first but the last. Nothing is copied: the
 * batch points into the caller's buffers, which must stay put until the batch is written.
 */
#ifndef WGD_GRO_H
#define WGD_GRO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum gro_values {
	GRO_MAX_SEGMENTS = 64,
	GRO_MAX_LEN = 65535, /* IPv4 total length, IPv6 payload length */
};

struct gro_batch {
	uint8_t *first; /* the first packet; its headers are rewritten by gro_batch_finish */
	size_t l4_off, hdr_len, seg_size, total;
	uint32_t next_seq;
	unsigned int count;
	bool is_ipv6, is_closed, has_psh;
	struct virtio_net_hdr vnet;
	/* [0] vnet, [1] the first packet whole, then each later segment's payload */
	struct iovec iov[GRO_MAX_SEGMENTS + 1];
};

/* Empties b (after a write, or to start). */
void gro_batch_init(struct gro_batch *b);

/*
 * Appends the IP packet pkt (len bytes, exactly its IP length) to b: starts b when it is
 * empty and pkt is a plain TCP segment with payload, or extends it when pkt continues
 * b's flow. False, with b unchanged, when pkt cannot join: the caller writes b, then
 * retries or writes pkt alone. b keeps pointers into pkt.
 */
bool gro_batch_add(struct gro_batch *b, uint8_t *pkt, size_t len);

/*
 * Finalises b for writing: rewrites the first packet's IP length and checksum and sets
 * up the TCP partial checksum and GSO header when b holds several segments (a lone one
 * is sent as is, marked checksum-valid). Returns the iovec count (0 for an empty b);
 * write b->iov.
 */
int gro_batch_finish(struct gro_batch *b);

#endif
