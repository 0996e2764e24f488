/* SPDX-License-Identifier: MIT */
/*
 * TUN offload surgery: gso.c splits super-packets, gro.c merges segments back. Checked
 * against a naive byte-by-byte RFC 1071 checksum written here (independent of gso_csum's
 * word-at-a-time sums), against the header rules of RFC 791/793/768/8200, and by a round
 * trip: splitting a TCP super-packet and coalescing the segments gives back its payload.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/gro.h"
#include "wgd/gso.h"

/* RFC 1071 §4.1, literally: big-endian 16-bit words, end-around carry. */
static uint16_t naive_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* True when the L4 checksum of the IP packet verifies (sum over pseudo-header + L4 = ~0). */
static bool l4_csum_ok(const uint8_t *ip, size_t len, bool v6, int proto)
{
	size_t off = v6 ? 40 : (size_t)(ip[0] & 15) * 4, l4 = len - off;
	uint32_t sum = v6 ? naive_sum(ip + 8, 32, 0) : naive_sum(ip + 12, 8, 0);

	sum += (uint32_t)proto + (uint32_t)l4;
	return naive_sum(ip + off, l4, sum) == 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t super[70000], seg[2048];

/* An IPv4 or IPv6 TCP (or UDP) super-packet with a patterned payload, as TUN hands it. */
static size_t build(bool v6, bool tcp, size_t payload, uint8_t tcp_flags)
{
	size_t ip = v6 ? 40 : 20, l4 = tcp ? 32 : 8, len = ip + l4 + payload;

	memset(super, 0, ip + l4);
	if (v6) {
		super[0] = 0x60;
		super[4] = (uint8_t)((len - 40) >> 8);
		super[5] = (uint8_t)(len - 40);
		super[6] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		super[7] = 64;
		inet_pton(AF_INET6, "fd00::1", super + 8);
		inet_pton(AF_INET6, "fd00::2", super + 24);
	} else {
		super[0] = 0x45;
		super[6] = 0x40; /* DF */
		super[4] = 0x12;
		super[5] = 0x34;
		super[8] = 64;
		super[9] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		inet_pton(AF_INET, "10.0.0.1", super + 12);
		inet_pton(AF_INET, "10.0.0.2", super + 16);
	}
	super[ip + 0] = 0x30; /* ports 12345 -> 80 */
	super[ip + 1] = 0x39;
	super[ip + 3] = 80;
	if (tcp) {
		memcpy(super + ip + 4, "\xff\xff\xff\xf0", 4); /* seq wraps inside the packet */
		memcpy(super + ip + 8, "\x00\x00\x10\x00", 4);
		super[ip + 12] = 8 << 4; /* 32-byte header: 12 bytes of options */
		super[ip + 13] = tcp_flags;
		super[ip + 15] = 0xff;
		memcpy(super + ip + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
	}
	for (size_t i = 0; i < payload; i++)
		super[ip + l4 + i] = (uint8_t)(i * 7 + 3);
	return len;
}

static struct virtio_net_hdr vnet(bool v6, bool tcp, uint16_t mss)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_size = mss };

	h.gso_type = !tcp ? VIRTIO_NET_HDR_GSO_UDP_L4
		     : v6 ? VIRTIO_NET_HDR_GSO_TCPV6
			  : VIRTIO_NET_HDR_GSO_TCPV4;
	h.csum_start = v6 ? 40 : 20;
	h.csum_offset = tcp ? 16 : 6;
	return h;
}

Test(gso, csum_matches_naive_rfc1071)
{
	uint8_t buf[301];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 17);
	/* gso_csum sums native words: compare through the bytes it would store */
	for (size_t len = 0; len <= sizeof(buf); len += 23) {
		uint16_t c = gso_csum(buf, len, 0);
		uint8_t *b = (uint8_t *)&c;

		cr_assert(eq(u16, (uint16_t)(b[0] << 8 | b[1]), naive_sum(buf, len, 0)), "len %zu",
			  len);
	}
}

/* Every segment: right length fields, IPv4 ID and header checksum, TCP seq/flags/checksum. */
static void check_split(bool v6, bool tcp, size_t payload, uint16_t mss)
{
	struct virtio_net_hdr h = vnet(v6, tcp, mss);
	size_t len = build(v6, tcp, payload, 0x18 /* ACK|PSH */), ip = v6 ? 40 : 20;
	size_t hdr = ip + (tcp ? 32 : 8), got_payload = 0;
	struct gso_packet gp;

	cr_assert(gso_packet_parse(&h, super, len, &gp));
	cr_assert(eq(u32, gp.segments, (unsigned int)((payload + mss - 1) / mss)));
	for (unsigned int i = 0; i < gp.segments; i++) {
		size_t n = gso_segment(&gp, i, seg), plen = n - hdr;
		bool last = i + 1 == gp.segments;

		cr_assert(eq(sz, n, gso_segment_len(&gp, i)));
		cr_assert(eq(sz, plen, last ? payload - (size_t)i * mss : mss), "segment %u", i);
		cr_assert(eq(int, memcmp(seg + hdr, super + hdr + (size_t)i * mss, plen), 0));
		if (v6) {
			cr_assert(eq(u16, be16(seg + 4), (uint16_t)(n - 40)));
		} else {
			cr_assert(eq(u16, be16(seg + 2), (uint16_t)n));
			cr_assert(eq(u16, be16(seg + 4), (uint16_t)(0x1234 + i)));
			cr_assert(eq(u16, naive_sum(seg, 20, 0), 0xffff), "IPv4 header checksum");
		}
		if (tcp) {
			cr_assert(eq(u32, be32(seg + ip + 4), 0xfffffff0u + (uint32_t)(i * mss)));
			cr_assert(eq(u8, seg[ip + 13], last ? 0x18 : 0x10), "PSH only on the last");
		} else {
			cr_assert(eq(u16, be16(seg + ip + 4), (uint16_t)(8 + plen)));
		}
		cr_assert(l4_csum_ok(seg, n, v6, tcp ? IPPROTO_TCP : IPPROTO_UDP), "segment %u",
			  i);
		got_payload += plen;
	}
	cr_assert(eq(sz, got_payload, payload));
}

Test(gso, split_tcp4_tcp6_udp4_udp6)
{
	check_split(false, true, 5000, 1360);
	check_split(true, true, 4096, 1024);
	check_split(false, false, 3001, 1400);
	check_split(true, false, 65000, 1300);
	check_split(false, true, 61, 1360); /* one short segment */
}

/*
 * More segments than the 128 gso.c once refused, which the TUN's default segment limit
 * (65535) lets the kernel send: a 64 KiB TCP burst at MSS 460 (tunnel MTU 500) is 143
 * segments, at the kernel's smallest MSS (48) 1 366; a UDP GSO burst of 300-byte segments.
 */
Test(gso, split_beyond_128_segments)
{
	check_split(false, true, 65535 - 52, 460);
	check_split(true, true, 65535 - 72, 460);
	check_split(false, true, 65535 - 52, 48);
	check_split(true, false, 65535 - 48, 300);
}

Test(gso, parse_rejects_mismatches)
{
	struct virtio_net_hdr h = vnet(false, true, 1000);
	size_t len = build(false, true, 3000, 0x10);
	struct gso_packet gp;

	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* an IPv4 packet */
	cr_assert(not(gso_packet_parse(&h, super, len, &gp)));
	h = vnet(false, false, 1000); /* UDP type, TCP packet */
	cr_assert(not(gso_packet_parse(&h, super, len, &gp)));
	h = vnet(false, true, 0);
	cr_assert(not(gso_packet_parse(&h, super, len, &gp)));
	h = vnet(false, true, 1000);
	cr_assert(not(gso_packet_parse(&h, super, 30, &gp)), "truncated TCP header");
	h.gso_type = 2; /* UFO: never offered */
	cr_assert(not(gso_packet_parse(&h, super, len, &gp)));
}

Test(gso, complete_partial_checksum)
{
	size_t len = build(false, false, 777, 0);
	struct virtio_net_hdr h = vnet(false, false, 0);
	uint16_t pseudo = gso_pseudo_csum(super, false, IPPROTO_UDP, len - 20);

	super[24] = (uint8_t)((len - 20) >> 8);
	super[25] = (uint8_t)(len - 20);
	memcpy(super + 26, &pseudo, 2); /* what the kernel leaves with NEEDS_CSUM */
	cr_assert(gso_complete_csum(&h, super, len));
	cr_assert(l4_csum_ok(super, len, false, IPPROTO_UDP));
	h.csum_start = (uint16_t)len;
	cr_assert(not(gso_complete_csum(&h, super, len)));
}

/* Split then coalesce: one GSO write carrying the original payload and headers. */
static void check_round_trip(bool v6)
{
	static uint8_t segs[64][2048];
	struct virtio_net_hdr h = vnet(v6, true, 1000);
	size_t len = build(v6, true, 10500, 0x18), ip = v6 ? 40 : 20, hdr = ip + 32;
	struct gro_batch b;
	struct gso_packet gp;
	uint8_t out[70000];
	size_t n = 0;
	int iovcnt;

	cr_assert(gso_packet_parse(&h, super, len, &gp));
	gro_batch_init(&b);
	for (unsigned int i = 0; i < gp.segments; i++)
		cr_assert(gro_batch_add(&b, segs[i], gso_segment(&gp, i, segs[i])), "seg %u", i);
	/* PSH on the last closed the batch */
	cr_assert(not(gro_batch_add(&b, segs[0], gso_segment(&gp, 0, segs[0]))));
	iovcnt = gro_batch_finish(&b);
	cr_assert(eq(int, iovcnt, (int)gp.segments + 1));
	cr_assert(eq(u8, b.vnet.gso_type,
		     v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4));
	cr_assert(eq(u16, b.vnet.gso_size, 1000));
	cr_assert(eq(u16, b.vnet.csum_start, (uint16_t)ip));
	for (int i = 1; i < iovcnt; i++) {
		memcpy(out + n, b.iov[i].iov_base, b.iov[i].iov_len);
		n += b.iov[i].iov_len;
	}
	cr_assert(eq(sz, n, len));
	cr_assert(eq(int, memcmp(out + hdr, super + hdr, len - hdr), 0), "payload");
	cr_assert(eq(u32, be32(out + ip + 4), be32(super + ip + 4)), "first seq");
	cr_assert(eq(u8, out[ip + 13], 0x18));
	if (!v6)
		cr_assert(eq(u16, naive_sum(out, 20, 0), 0xffff));
	/* finish the partial checksum as the kernel will: then the segment verifies */
	{
		uint16_t c = (uint16_t)~naive_sum(out + ip, len - ip, 0);

		out[ip + 16] = (uint8_t)(c >> 8);
		out[ip + 17] = (uint8_t)c;
		cr_assert(l4_csum_ok(out, len, v6, IPPROTO_TCP));
	}
}

Test(gro, split_then_coalesce_v4) { check_round_trip(false); }
Test(gro, split_then_coalesce_v6) { check_round_trip(true); }

Test(gro, refuses_other_flows_and_gaps)
{
	static uint8_t a[2048], c[2048];
	struct virtio_net_hdr h = vnet(false, true, 1000);
	size_t len = build(false, true, 3000, 0x10);
	struct gro_batch b;
	struct gso_packet gp;
	size_t na, nc;

	cr_assert(gso_packet_parse(&h, super, len, &gp));
	na = gso_segment(&gp, 0, a);
	nc = gso_segment(&gp, 2, c); /* skips segment 1 */
	gro_batch_init(&b);
	cr_assert(gro_batch_add(&b, a, na));
	cr_assert(not(gro_batch_add(&b, c, nc)), "sequence gap");
	nc = gso_segment(&gp, 1, c);
	c[19] ^= 1; /* another destination */
	cr_assert(not(gro_batch_add(&b, c, nc)));
	c[19] ^= 1;
	c[20 + 13] |= 0x01; /* FIN */
	cr_assert(not(gro_batch_add(&b, c, nc)));
	c[20 + 13] &= (uint8_t)~0x01;
	cr_assert(gro_batch_add(&b, c, nc));
	cr_assert(eq(int, gro_batch_finish(&b), 3));
	gro_batch_init(&b);
	a[9] = IPPROTO_UDP;
	cr_assert(not(gro_batch_add(&b, a, na)), "not TCP");
	cr_assert(eq(int, gro_batch_finish(&b), 0));
}
