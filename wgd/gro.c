/* SPDX-License-Identifier: MIT */
/* TCP segment coalescing for TUN writes (see gro.h). */
#include "wgd/gro.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "wgd/gso.h"

enum gro_tcp {
	TCP_FLAGS_OFF = 13,
	TCP_SEQ_OFF = 4,
	TCP_CSUM_OFF = 16,
	TCP_ACK = 0x10,
	TCP_PSH = 0x08,
	IPV4_DF_MASK = 0x4000, /* in the flags/fragment-offset word */
	IPV4_FRAG_MASK = 0x3fff,
};

/* What must be equal for two packets to be one flow, and where the TCP header starts. */
struct tcp_view {
	size_t l4_off, hdr_len;
	uint32_t seq;
	uint8_t flags;
	bool is_ipv6;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A plain TCP segment with payload: no IP options or fragments, only ACK (and PSH). */
static bool parse_tcp(const uint8_t *pkt, size_t len, struct tcp_view *v)
{
	if (len >= GSO_IPV4_HDR_MIN && pkt[0] == 0x45) {
		if (pkt[9] != IPPROTO_TCP || get16(pkt + 2) != len ||
		    (get16(pkt + 6) & IPV4_FRAG_MASK))
			return false;
		v->l4_off = GSO_IPV4_HDR_MIN;
		v->is_ipv6 = false;
	} else if (len >= GSO_IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		if (pkt[6] != IPPROTO_TCP || get16(pkt + 4) + (size_t)GSO_IPV6_HDR_LEN != len)
			return false;
		v->l4_off = GSO_IPV6_HDR_LEN;
		v->is_ipv6 = true;
	} else {
		return false;
	}
	if (v->l4_off + GSO_TCP_HDR_MIN > len)
		return false;
	v->hdr_len = v->l4_off + (size_t)(pkt[v->l4_off + 12] >> 4) * 4;
	v->flags = pkt[v->l4_off + TCP_FLAGS_OFF];
	v->seq = get32(pkt + v->l4_off + TCP_SEQ_OFF);
	return v->hdr_len >= v->l4_off + GSO_TCP_HDR_MIN && v->hdr_len < len &&
	       (v->flags & ~TCP_PSH) == TCP_ACK;
}

/* Same flow and same everything the kernel's GRO requires to be the same. */
static bool same_flow(const uint8_t *a, const uint8_t *b, const struct tcp_view *v)
{
	const uint8_t *ta = a + v->l4_off, *tb = b + v->l4_off;

	if (v->is_ipv6) {
		/* version, traffic class, flow label; hop limit; addresses */
		if (memcmp(a, b, 4) || a[7] != b[7] || memcmp(a + 8, b + 8, 32))
			return false;
	} else if (a[1] != b[1] || a[8] != b[8] || memcmp(a + 12, b + 12, 8) ||
		   ((get16(a + 6) ^ get16(b + 6)) & IPV4_DF_MASK)) {
		return false;
	}
	/* ports, ACK number, data offset, window; then the options */
	return !memcmp(ta, tb, 4) && !memcmp(ta + 8, tb + 8, 5) && !memcmp(ta + 14, tb + 14, 2) &&
	       !memcmp(ta + GSO_TCP_HDR_MIN, tb + GSO_TCP_HDR_MIN,
		       v->hdr_len - v->l4_off - GSO_TCP_HDR_MIN);
}

void gro_batch_init(struct gro_batch *b)
{
	b->count = 0;
	b->first = NULL;
}

static void batch_start(struct gro_batch *b, uint8_t *pkt, size_t len, const struct tcp_view *v)
{
	b->first = pkt;
	b->l4_off = v->l4_off;
	b->hdr_len = v->hdr_len;
	b->seg_size = len - v->hdr_len;
	b->total = len;
	b->next_seq = v->seq + (uint32_t)b->seg_size;
	b->is_ipv6 = v->is_ipv6;
	b->has_psh = v->flags & TCP_PSH;
	b->is_closed = b->has_psh;
	b->iov[1] = (struct iovec){ pkt, len };
	b->count = 1;
}

bool gro_batch_add(struct gro_batch *b, uint8_t *pkt, size_t len)
{
	struct tcp_view v;
	size_t payload;

	if (!parse_tcp(pkt, len, &v))
		return false;
	if (!b->count) {
		batch_start(b, pkt, len, &v);
		return true;
	}
	payload = len - v.hdr_len;
	if (b->is_closed || b->count >= GRO_MAX_SEGMENTS || v.is_ipv6 != b->is_ipv6 ||
	    v.hdr_len != b->hdr_len || payload > b->seg_size || v.seq != b->next_seq ||
	    b->total + payload > GRO_MAX_LEN || !same_flow(b->first, pkt, &v))
		return false;
	b->iov[++b->count] = (struct iovec){ pkt + v.hdr_len, payload };
	b->total += payload;
	b->next_seq += (uint32_t)payload;
	b->has_psh = v.flags & TCP_PSH;
	/* a short segment or PSH ends a burst */
	b->is_closed = payload < b->seg_size || b->has_psh;
	return true;
}

int gro_batch_finish(struct gro_batch *b)
{
	uint8_t *ip = b->first, *tcp;
	uint16_t c;

	if (!b->count)
		return 0;
	b->iov[0] = (struct iovec){ &b->vnet, sizeof(b->vnet) };
	memset(&b->vnet, 0, sizeof(b->vnet));
	if (b->count == 1) {
		/* authenticated by Poly1305: the kernel need not verify the checksum */
		b->vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 2;
	}
	tcp = ip + b->l4_off;
	if (b->is_ipv6) {
		put16(ip + 4, (uint16_t)(b->total - GSO_IPV6_HDR_LEN));
	} else {
		put16(ip + 2, (uint16_t)b->total);
		put16(ip + 10, 0);
		c = (uint16_t)~gso_csum(ip, b->l4_off, 0);
		memcpy(ip + 10, &c, sizeof(c));
	}
	if (b->has_psh)
		tcp[TCP_FLAGS_OFF] |= TCP_PSH;
	/* the kernel completes it when it segments or delivers (CHECKSUM_PARTIAL) */
	c = gso_pseudo_csum(ip, b->is_ipv6, IPPROTO_TCP, b->total - b->l4_off);
	memcpy(tcp + TCP_CSUM_OFF, &c, sizeof(c));
	b->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	b->vnet.gso_type = b->is_ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	b->vnet.hdr_len = (uint16_t)b->hdr_len;
	b->vnet.gso_size = (uint16_t)b->seg_size;
	b->vnet.csum_start = (uint16_t)b->l4_off;
	b->vnet.csum_offset = TCP_CSUM_OFF;
	return (int)b->count + 1;
}
