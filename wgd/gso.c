/* SPDX-License-Identifier: MIT */
/*
 * Splitting TUN super-packets and finishing partial checksums (see gso.h). Checksums are
 * summed over native-order words and stored the same way, so no byte swapping is needed
 * (RFC 1071 §2(B)); numbers that are not in the packet (lengths, protocol) are added in
 * network order for the same reason.
 */
#include "wgd/gso.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

enum tcp_flag_bits {
	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_PSH = 0x08,
	TCP_FLAG_CWR = 0x80,
	TCP_FLAGS_OFF = 13,
	TCP_SEQ_OFF = 4,
	TCP_CSUM_OFF = 16,
	UDP_LEN_OFF = 4,
	UDP_CSUM_OFF = 6,
};

/* Sum of native 32-bit words; an odd tail counts as if followed by a zero byte. */
static uint64_t csum_acc(const uint8_t *p, size_t len, uint64_t sum)
{
	uint32_t w;
	uint8_t tail[4] = { 0 };

	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len) {
		memcpy(tail, p, len);
		memcpy(&w, tail, 4);
		sum += w;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t gso_csum(const void *buf, size_t len, uint32_t sum)
{
	return csum_fold(csum_acc(buf, len, sum));
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool gso_complete_csum(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, field = (size_t)h->csum_start + h->csum_offset;
	uint16_t c;

	if (start >= len || field + 2 > len)
		return false;
	c = (uint16_t)~gso_csum(pkt + start, len - start, 0);
	/* as the kernel's skb_checksum_help: a zero result is sent as 0xffff */
	put16(pkt + field, c ? c : 0xffff);
	return true;
}

/* The L4 protocol and header offset of an IPv4/IPv6 packet without extension headers. */
static bool parse_ip(const uint8_t *pkt, size_t len, struct gso_packet *gp, int *proto)
{
	if (len >= GSO_IPV4_HDR_MIN && pkt[0] >> 4 == 4) {
		gp->l4_off = (size_t)(pkt[0] & 0x0f) * 4;
		if (gp->l4_off < GSO_IPV4_HDR_MIN || gp->l4_off > len)
			return false;
		gp->is_ipv6 = false;
		*proto = pkt[9];
		return true;
	}
	if (len >= GSO_IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		gp->l4_off = GSO_IPV6_HDR_LEN;
		gp->is_ipv6 = true;
		*proto = pkt[6];
		return true;
	}
	return false;
}

bool gso_packet_parse(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		      struct gso_packet *gp)
{
	unsigned int type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	size_t payload;
	int proto;

	memset(gp, 0, sizeof(*gp));
	if (!parse_ip(pkt, len, gp, &proto))
		return false;
	if (type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6) {
		if (proto != IPPROTO_TCP || gp->is_ipv6 != (type == VIRTIO_NET_HDR_GSO_TCPV6) ||
		    gp->l4_off + GSO_TCP_HDR_MIN > len)
			return false;
		gp->is_tcp = true;
		gp->hdr_len = gp->l4_off + (size_t)(pkt[gp->l4_off + 12] >> 4) * 4;
		if (gp->hdr_len < gp->l4_off + GSO_TCP_HDR_MIN || gp->hdr_len > len)
			return false;
	} else if (type == VIRTIO_NET_HDR_GSO_UDP_L4) {
		if (proto != IPPROTO_UDP || gp->l4_off + GSO_UDP_HDR_LEN > len)
			return false;
		gp->hdr_len = gp->l4_off + GSO_UDP_HDR_LEN;
	} else {
		return false;
	}
	if (!h->gso_size)
		return false;
	gp->pkt = pkt;
	gp->len = len;
	gp->seg_size = h->gso_size;
	payload = len - gp->hdr_len;
	gp->segments = payload ? (unsigned int)((payload + gp->seg_size - 1) / gp->seg_size) : 1;
	return true;
}

static uint64_t pseudo_acc(const uint8_t *ip, bool is_ipv6, int proto, size_t l4_len)
{
	uint64_t sum;

	if (is_ipv6)
		sum = csum_acc(ip + 8, 32, 0);
	else
		sum = csum_acc(ip + 12, 8, 0);
	return sum + htons((uint16_t)proto) + htons((uint16_t)l4_len);
}

uint16_t gso_pseudo_csum(const uint8_t *ip, bool is_ipv6, int proto, size_t l4_len)
{
	return csum_fold(pseudo_acc(ip, is_ipv6, proto, l4_len));
}

/* The pseudo-header sum for an L4 segment of l4_len bytes. */
static uint64_t pseudo_sum(const struct gso_packet *gp, const uint8_t *ip, size_t l4_len)
{
	return pseudo_acc(ip, gp->is_ipv6, gp->is_tcp ? IPPROTO_TCP : IPPROTO_UDP, l4_len);
}

static void fix_ip(const struct gso_packet *gp, uint8_t *out, size_t total, unsigned int i)
{
	if (gp->is_ipv6) {
		put16(out + 4, htons((uint16_t)(total - GSO_IPV6_HDR_LEN)));
		return;
	}
	put16(out + 2, htons((uint16_t)total));
	put16(out + 4, htons((uint16_t)(get_be16(out + 4) + i)));
	put16(out + 10, 0);
	put16(out + 10, (uint16_t)~gso_csum(out, gp->l4_off, 0));
}

static void fix_tcp(const struct gso_packet *gp, uint8_t *l4, unsigned int i)
{
	uint32_t seq;

	memcpy(&seq, l4 + TCP_SEQ_OFF, sizeof(seq));
	seq = htonl(ntohl(seq) + (uint32_t)(i * gp->seg_size));
	memcpy(l4 + TCP_SEQ_OFF, &seq, sizeof(seq));
	/* FIN and PSH belong to the last segment only, CWR to the first (as tcp_gso_segment) */
	if (i + 1 < gp->segments)
		l4[TCP_FLAGS_OFF] &= (uint8_t) ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
	if (i > 0)
		l4[TCP_FLAGS_OFF] &= (uint8_t)~TCP_FLAG_CWR;
}

size_t gso_segment_len(const struct gso_packet *gp, unsigned int i)
{
	size_t off = gp->hdr_len + (size_t)i * gp->seg_size;

	return gp->hdr_len + (gp->len - off < gp->seg_size ? gp->len - off : gp->seg_size);
}

size_t gso_segment(const struct gso_packet *gp, unsigned int i, uint8_t *out)
{
	size_t off = gp->hdr_len + (size_t)i * gp->seg_size;
	size_t plen = gp->len - off < gp->seg_size ? gp->len - off : gp->seg_size;
	size_t total = gp->hdr_len + plen, l4_len = total - gp->l4_off;
	uint8_t *l4 = out + gp->l4_off;
	size_t csum_off = gp->is_tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	uint16_t c;

	memcpy(out, gp->pkt, gp->hdr_len);
	memcpy(out + gp->hdr_len, gp->pkt + off, plen);
	fix_ip(gp, out, total, i);
	if (gp->is_tcp)
		fix_tcp(gp, l4, i);
	else
		put16(l4 + UDP_LEN_OFF, htons((uint16_t)l4_len));
	put16(l4 + csum_off, 0);
	c = (uint16_t)~csum_fold(csum_acc(l4, l4_len, pseudo_sum(gp, out, l4_len)));
	if (!gp->is_tcp && !c)
		c = 0xffff; /* RFC 768: zero means "no checksum" */
	put16(l4 + csum_off, c);
	return total;
}
