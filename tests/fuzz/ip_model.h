/* SPDX-License-Identifier: MIT */
/*
 * Packet models shared by the TUN targets (tun_egress, data_path), written from the RFCs
 * and the kernel rather than from wgd/gso.c and wgd/gro.c: the Internet checksum (RFC
 * 1071) over big-endian words, and a super-packet cut into segments as the kernel's
 * tcp_gso_segment and UDP GSO do it (TCP seq + i * gso_size, FIN and PSH on the last
 * segment only, CWR on the first only; IPv4 ID + i; every length and checksum final).
 */
#ifndef WGD_TESTS_FUZZ_IP_MODEL_H
#define WGD_TESTS_FUZZ_IP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
	IPM_MAX_PACKET = 65536,
};

static inline uint16_t ipm_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071: the one's complement sum of big-endian 16-bit words, odd byte padded. */
static inline uint32_t ipm_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	return sum;
}

static inline uint16_t ipm_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline void ipm_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A super-packet: IP and L4 headers (hdr_len bytes), then payload cut every gso bytes. */
struct ipm_super {
	uint8_t pkt[IPM_MAX_PACKET];
	size_t len, l4_off, hdr_len, gso;
	bool is_ipv6, is_tcp;
};

/* Segment i as the kernel's GSO would cut it, every length and checksum made final. */
static inline size_t ipm_segment(const struct ipm_super *sp, unsigned int i, unsigned int n,
				 uint8_t *out)
{
	size_t off = sp->hdr_len + i * sp->gso,
	       plen = sp->len - off < sp->gso ? sp->len - off : sp->gso;
	size_t total = sp->hdr_len + plen, l4_len = total - sp->l4_off;
	uint8_t *l4 = out + sp->l4_off;
	uint32_t sum, seq;

	memcpy(out, sp->pkt, sp->hdr_len);
	memcpy(out + sp->hdr_len, sp->pkt + off, plen);
	if (sp->is_ipv6) {
		ipm_put16(out + 4, (uint32_t)(total - 40));
		sum = ipm_sum(out + 8, 32, 0) + (uint32_t)(l4_len >> 16) + (l4_len & 0xffff);
	} else {
		ipm_put16(out + 2, (uint32_t)total);
		ipm_put16(out + 4, ((uint32_t)out[4] << 8 | out[5]) + i);
		ipm_put16(out + 10, 0);
		ipm_put16(out + 10, (uint16_t)~ipm_fold(ipm_sum(out, sp->l4_off, 0)));
		sum = ipm_sum(out + 12, 8, 0) + (uint32_t)l4_len;
	}
	sum += sp->is_tcp ? 6 : 17;
	if (sp->is_tcp) {
		seq = ((uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 |
		       l4[7]) +
		      (uint32_t)(i * sp->gso);
		ipm_put16(l4 + 4, seq >> 16);
		ipm_put16(l4 + 6, seq & 0xffff);
		if (i + 1 < n)
			l4[13] &= (uint8_t)~0x09; /* FIN, PSH: the last segment's */
		if (i)
			l4[13] &= (uint8_t)~0x80; /* CWR: the first segment's */
		ipm_put16(l4 + 16, 0);
		ipm_put16(l4 + 16, (uint16_t)~ipm_fold(ipm_sum(l4, l4_len, sum)));
	} else {
		uint16_t c;

		ipm_put16(l4 + 4, (uint32_t)l4_len);
		ipm_put16(l4 + 6, 0);
		c = (uint16_t)~ipm_fold(ipm_sum(l4, l4_len, sum));
		ipm_put16(l4 + 6, c ? c : 0xffff); /* RFC 768: zero means none */
	}
	return total;
}

#endif
