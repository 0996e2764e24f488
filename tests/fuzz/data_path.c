/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the transport data path (receive.c -> index -> data_open -> replay window
 * -> inner IP checks -> crypto-key routing -> TUN, with or without TCP coalescing). The
 * harness completes a handshake as peer A of device B, then seals the fuzzer's packets
 * itself with libsodium's ChaCha20-Poly1305 under A's sending key at counters the fuzzer
 * picks (in order, replayed, far ahead, near the limit), optionally flipping one byte of
 * the sealed message, so that everything after authentication is reached. Packets are the
 * fuzzer's raw bytes, IPv4/IPv6 headers built from its choices (header length, total
 * length, padding, a source inside A's, another peer's or nobody's allowed IPs), or
 * segments of two TCP flows. Several messages can arrive as one UDP GRO read (back to
 * back in rx_buf, then device_tun_flush, as device_udp_readable does). With config bit 0,
 * B's TUN is an offloading one (a SOCK_SEQPACKET socketpair with vnet headers), so
 * consecutive TCP segments are coalesced (wgd/gro.c) into super-packets. Config bits 1-2
 * pin B's AEAD lane (wgd/aead.c) to OpenSSL (1) or libsodium (2) for every size, else it
 * chooses by size as the daemon does; bit 6 of a data step's control byte makes the lane
 * forget its keys after the step, as the loop does after each read burst.
 *
 * Input: a config byte, then operations until the input ends.
 * Checks, against a model written here (whitepaper §5.4.6, RFC 6479 as the kernel's
 * counter.c applies it, RFC 791 / RFC 8200 lengths, ip_model.h's segmentation):
 *   - a tampered message changes nothing; an authentic one is accepted exactly when the
 *     key is younger than REJECT_AFTER_TIME and its counter is new and inside the window;
 *   - an accepted, non-empty plaintext reaches the TUN exactly when it is a well-formed IP
 *     packet whose source A owns, and then as its first total-length bytes, in order; a
 *     coalesced super-packet, cut again as the kernel would, gives back each segment
 *     (every header field but lengths, IPv4 ID and checksums, and the payload);
 *   - an accepted message moves A's endpoint to its source; B sends nothing.
 */
#include <linux/if_tun.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/noise.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/ip_model.h"
#include "wgd/aead.h"
#include "wgd/gso.h"

enum {
	DP_MAX_OPS = 48,
	DP_MAX_PACKET = 2048,
	DP_MAX_SEEN = 512,
	DP_MAX_BATCH = 8,
};

/* what the last input did, for the regression test */
static struct {
	size_t delivered, accepted, coalesced; /* coalesced: segments that came merged */
} dp_stats;

struct dp_state {
	struct fz_dev b;
	struct peer *pa;
	struct noise_keypairs kps; /* A's side */
	union endpoint_addr a_addr;
	uint64_t now, birth_ns;
	uint64_t next_counter;
	/* the receive window, naively: every accepted counter, and one past the highest */
	uint64_t seen[DP_MAX_SEEN];
	size_t nseen;
	uint64_t top;
	int tun;	       /* our end of an offloading TUN, or -1 */
	uint32_t seq[2][2];    /* next sequence number of each TCP flow, [v6][flow] */
	uint16_t ip_id;	       /* of the IPv4 TCP flows */
	struct fz_caps expect; /* the packets the current step must put on the TUN */
	struct fz_caps frames; /* what an offloading TUN got, expanded to packets */
};

static void dp_handshake(struct dp_state *s)
{
	struct noise_static_identity id;
	struct noise_handshake hs;
	uint8_t priv[32], msg[sizeof(struct message_handshake_initiation)];

	fz_key_from_seed(priv, 0x11);
	noise_static_identity_set(&id, priv);
	s->pa = fz_add_peer(&s->b, id.static_public, &s->a_addr, NULL, NULL, NULL);
	noise_handshake_init(&hs, &id, s->b.public_key, NULL);
	FZ_CHECK(noise_handshake_create_initiation((void *)msg, &hs, &id, 0x1234,
						   FZ_REALTIME_BASE + s->now),
		 "initiation");
	fz_set_mac1(msg, sizeof(msg), s->b.public_key, s->now);
	fz_receive(&s->b, &s->a_addr, msg, sizeof(msg), s->now);
	FZ_CHECK(s->b.sent.len == 1 && s->b.sent.pkt[0].len == 92, "no response");
	FZ_CHECK(noise_handshake_consume_response(&hs, (const void *)s->b.sent.pkt[0].buf, &id) &&
			 noise_handshake_begin_session(&hs, &s->kps, s->now),
		 "A could not finish the handshake");
	fz_caps_clear(&s->b.sent);
	s->birth_ns = s->now;
	noise_static_identity_clear(&id);
	wipe(priv, sizeof(priv));
}

/* B with an offloading TUN: the real TUN write, vnet headers, TSO both ways. */
static void dp_offload(struct dp_state *s)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	s->b.dev->tun_fd = sv[0]; /* the device closes it */
	s->b.dev->tun_vnet_len = GSO_VNET_HDR_LEN;
	s->b.dev->tun_offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	s->b.dev->io.tun_write = s->b.real_io.tun_write;
	s->tun = sv[1];
}

/* config bits 1-2: which AEAD B's lane uses */
static const enum aead_impl dp_impls[4] = { AEAD_AUTO, AEAD_OPENSSL, AEAD_SODIUM, AEAD_AUTO };

static void dp_setup(struct dp_state *s, uint8_t config)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp;
	uint8_t c_pub[32];

	memset(s, 0, sizeof(*s));
	s->tun = -1;
	s->now = FZ_T0;
	fz_dev_init(&s->b, 0x22, FZ_PORT_B);
	s->a_addr.in4.sin_family = AF_INET;
	s->a_addr.in4.sin_port = htons(FZ_PORT_A);
	s->a_addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dp_handshake(s);
	/* A owns 10.0.0.0/24 and fd00::/64; a second peer C owns 10.0.1.0/24, fd00:1::/64 */
	memset(c_pub, 0x44, sizeof(c_pub));
	cp = cfg_device_add_peer(&cfg);
	if (!cp)
		abort();
	memcpy(cp->public_key, s->pa->handshake.remote_static, 32);
	fz_add_aip(cp, AF_INET, "10.0.0.0", 24);
	fz_add_aip(cp, AF_INET6, "fd00::", 64);
	cp = cfg_device_add_peer(&cfg);
	if (!cp)
		abort();
	memcpy(cp->public_key, c_pub, 32);
	fz_add_aip(cp, AF_INET, "10.0.1.0", 24);
	fz_add_aip(cp, AF_INET6, "fd00:1::", 64);
	if (device_apply_cfg(s->b.dev, &cfg, s->now) < 0)
		abort();
	cfg_device_clear(&cfg);
	if (config & 1)
		dp_offload(s);
	aead_lane_force(s->b.dev->aead, dp_impls[(config >> 1) & 3]);
}

/* RFC 6479 as the kernel applies it: new, below the limit, within 8128 of the highest. */
static bool dp_window_accepts(struct dp_state *s, uint64_t c)
{
	if (s->top >= REJECT_AFTER_MESSAGES || c >= REJECT_AFTER_MESSAGES)
		return false;
	if (c + 1 + COUNTER_WINDOW_SIZE < s->top)
		return false;
	for (size_t i = 0; i < s->nseen; i++)
		if (s->seen[i] == c)
			return false;
	if (s->nseen < DP_MAX_SEEN)
		s->seen[s->nseen++] = c;
	if (c + 1 > s->top)
		s->top = c + 1;
	return true;
}

/* The IP length the packet declares, or 0 if it is not one that fits (RFC 791, 8200). */
static size_t dp_ip_len(const uint8_t *p, size_t len, bool *from_a)
{
	static const uint8_t a4[3] = { 10, 0, 0 }, a6[8] = { 0xfd, 0 };
	size_t ip_len;

	if (len >= 20 && p[0] >> 4 == 4) {
		ip_len = (size_t)p[2] << 8 | p[3];
		if ((p[0] & 15) < 5 || ip_len < (size_t)(p[0] & 15) * 4 || ip_len > len)
			return 0;
		*from_a = !memcmp(p + 12, a4, sizeof(a4));
		return ip_len;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		ip_len = ((size_t)p[4] << 8 | p[5]) + 40;
		if (ip_len > len)
			return 0;
		*from_a = !memcmp(p + 8, a6, sizeof(a6));
		return ip_len;
	}
	return 0;
}

/* An IPv4 or IPv6 header from the fuzzer's choices, then payload; returns the length. */
static size_t dp_build(struct fz_in *in, uint8_t *pkt)
{
	static const uint8_t src4[3][4] = { { 10, 0, 0, 7 }, { 10, 0, 1, 7 }, { 192, 0, 2, 7 } };
	static const uint8_t src6[3][2] = { { 0xfd, 0x00 }, { 0xfd, 0x00 }, { 0x20, 0x01 } };
	uint8_t how = fz_u8(in), who = (how >> 1) & 3, hdr = how & 1 ? 40 : 20;
	size_t payload = fz_u8(in), pad = fz_u8(in) & 31;
	int16_t skew = (int8_t)fz_u8(in); /* a lying length field */
	size_t decl = hdr + payload + (size_t)(int)skew;

	if (who == 3)
		who = 2;
	memset(pkt, 0, hdr + payload + pad);
	fz_bytes(in, pkt + hdr, payload);
	if (hdr == 20) {
		pkt[0] = 0x40 | (how & 0x80 ? (how >> 3) & 15 : 5);
		pkt[2] = (uint8_t)(decl >> 8);
		pkt[3] = (uint8_t)decl;
		memcpy(pkt + 12, src4[who], 4);
	} else {
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)((decl - 40) >> 8);
		pkt[5] = (uint8_t)(decl - 40);
		memcpy(pkt + 8, src6[who], 2);
		pkt[11] = who == 1; /* fd00:1:: is C's */
		pkt[23] = 7;
	}
	return hdr + payload + pad;
}

/* The next segment of one of four TCP flows from A, checksums right (RFC 793, 1071). */
static size_t dp_build_tcp(struct dp_state *s, struct fz_in *in, uint8_t *pkt)
{
	uint8_t how = fz_u8(in), flow = how & 1, v6 = (how >> 1) & 1;
	size_t l4 = v6 ? 40 : 20, payload = fz_u16(in) % (DP_MAX_PACKET - 60),
	       len = l4 + 20 + payload;
	uint32_t seq = how & 4 ? fz_u32(in) : s->seq[v6][flow];
	uint8_t *t = pkt + l4;
	uint32_t sum;

	memset(pkt, 0, len);
	fz_bytes(in, t + 20, payload < 32 ? payload : 32);
	for (size_t i = 32; i < payload; i++)
		t[20 + i] = (uint8_t)(i + seq);
	if (v6) {
		memcpy(pkt, "\x60\0\0\0\0\0\x06\x40\xfd", 9);
		ipm_put16(pkt + 4, (uint32_t)(len - 40));
		pkt[23] = 7;
		memcpy(pkt + 24, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
		sum = ipm_sum(pkt + 8, 32, 0) + (uint32_t)(len - 40) + 6;
	} else {
		memcpy(pkt, "\x45\0\0\0\0\0\x40\0\x40\x06\0\0\x0a\0\0\x07\x0a\0\0\x02", 20);
		ipm_put16(pkt + 2, (uint32_t)len);
		ipm_put16(pkt + 4, s->ip_id++);
		ipm_put16(pkt + 10, (uint16_t)~ipm_fold(ipm_sum(pkt, 20, 0)));
		sum = ipm_sum(pkt + 12, 8, 0) + (uint32_t)(len - 20) + 6;
	}
	ipm_put16(t, 40000 + flow);
	ipm_put16(t + 2, 443);
	ipm_put16(t + 4, seq >> 16);
	ipm_put16(t + 6, seq & 0xffff);
	ipm_put16(t + 8, 0x1234); /* ack */
	t[12] = 5 << 4;
	t[13] = how & 8 ? fz_u8(in) : 0x10; /* ACK, or any flags */
	ipm_put16(t + 14, 512);
	ipm_put16(t + 16, (uint16_t)~ipm_fold(ipm_sum(t, len - l4, sum)));
	s->seq[v6][flow] = seq + (uint32_t)payload;
	return len;
}

static uint64_t dp_counter(struct dp_state *s, struct fz_in *in)
{
	switch (fz_u8(in) & 3) {
	case 0:
		return s->next_counter++;
	case 1:
		return fz_u64(in);
	case 2:
		return s->next_counter - fz_u16(in);
	default:
		return REJECT_AFTER_MESSAGES - fz_u16(in);
	}
}

/* Seals with libsodium (RFC 8439, WireGuard's nonce: 4 zero bytes, counter LE). */
static size_t dp_seal(const struct dp_state *s, uint8_t *out, const uint8_t *pt, size_t len,
		      uint64_t counter)
{
	struct message_data hdr = { .header.type = htole32(MESSAGE_DATA),
				    .key_idx = htole32(s->kps.current.remote_index),
				    .counter = htole64(counter) };
	uint8_t nonce[12] = { 0 };
	unsigned long long clen;

	memcpy(nonce + 4, &hdr.counter, 8);
	memcpy(out, &hdr, sizeof(hdr));
	crypto_aead_chacha20poly1305_ietf_encrypt(out + sizeof(hdr), &clen, pt, len, NULL, 0, NULL,
						  nonce, s->kps.current.sending.key);
	return sizeof(hdr) + (size_t)clen;
}

/*
 * One data message from the fuzzer's choices, sealed at rx_buf + off and handed to B from
 * `from' (as one datagram of a UDP GRO read). Returns its length. What it must put on the
 * TUN joins s->expect.
 */
static size_t dp_message(struct dp_state *s, struct fz_in *in, size_t off,
			 const union endpoint_addr *from)
{
	static uint8_t pt[DP_MAX_PACKET];
	uint8_t how = fz_u8(in), *msg = s->b.dev->rx_buf + off;
	uint64_t counter = dp_counter(s, in);
	uint16_t pos = fz_u16(in);
	uint8_t flip = how & 2 ? fz_u8(in) : 0;
	union endpoint_addr before = s->pa->endpoint.addr;
	struct endpoint ep = { .addr = *from };
	size_t len, msg_len, ip_len;
	bool accepted, from_a = false;
	const uint8_t *raw;

	if (how & 1) {
		len = how & 8 ? dp_build_tcp(s, in, pt) : dp_build(in, pt);
	} else {
		raw = fz_slice(in, sizeof(pt), &len);
		memcpy(pt, raw, len);
	}
	msg_len = dp_seal(s, msg, pt, len, counter);
	if (flip)
		msg[pos % msg_len] ^= flip;
	receive_datagram(s->b.dev, msg, msg_len, &ep, s->now);

	accepted = !flip && s->now < s->birth_ns + REJECT_AFTER_TIME_S * NSEC_PER_SEC &&
		   dp_window_accepts(s, counter);
	ip_len = accepted && len ? dp_ip_len(pt, len, &from_a) : 0;
	if (ip_len && from_a) {
		fz_caps_add(&s->expect, pt, ip_len, 0);
		dp_stats.delivered++;
	}
	dp_stats.accepted += accepted;
	/* roaming follows authenticated, fresh messages only (whitepaper §2.1) */
	FZ_CHECK(!memcmp(&s->pa->endpoint.addr, accepted ? from : &before, sizeof(*from)),
		 "endpoint %s", accepted ? "not moved" : "moved");
	FZ_CHECK(s->b.sent.len == 0, "B sent something");
	return msg_len;
}

/* The header fields a coalesced segment keeps from its original (not lengths, ID, sums). */
static bool dp_same_segment(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t l4 = a[0] >> 4 == 6 ? 40 : (size_t)(a[0] & 15) * 4;

	if (alen != blen || alen < l4 + 20 || (a[0] ^ b[0]) >> 4)
		return false;
	if (l4 == 40
		    ? memcmp(a, b, 4) || memcmp(a + 6, b + 6, 34)
		    : memcmp(a, b, 2) || memcmp(a + 6, b + 6, 4) || memcmp(a + 12, b + 12, l4 - 12))
		return false;
	return !memcmp(a + l4, b + l4, 16) && !memcmp(a + l4 + 18, b + l4 + 18, alen - l4 - 18);
}

/* Reads what B wrote to its offloading TUN; super-packets cut back into segments. */
static void dp_read_frames(struct dp_state *s)
{
	static struct ipm_super sp;
	static uint8_t frame[IPM_MAX_PACKET + GSO_VNET_HDR_LEN], seg[IPM_MAX_PACKET];
	struct virtio_net_hdr h;
	ssize_t n;

	while ((n = read(s->tun, frame, sizeof(frame))) > 0) {
		FZ_CHECK(n >= GSO_VNET_HDR_LEN, "a frame without its vnet header");
		memcpy(&h, frame, sizeof(h));
		sp.len = (size_t)n - GSO_VNET_HDR_LEN;
		memcpy(sp.pkt, frame + GSO_VNET_HDR_LEN, sp.len);
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			fz_caps_add(&s->frames, sp.pkt, sp.len, 0);
			continue;
		}
		FZ_CHECK((h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
			  h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6) &&
				 (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h.gso_size &&
				 sp.len >= 40,
			 "a super-packet of type %u, flags %u", h.gso_type, h.flags);
		sp.is_ipv6 = h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6;
		sp.is_tcp = true;
		sp.l4_off = sp.is_ipv6 ? 40 : (size_t)(sp.pkt[0] & 15) * 4;
		sp.hdr_len = sp.l4_off + (size_t)(sp.pkt[sp.l4_off + 12] >> 4) * 4;
		sp.gso = h.gso_size;
		FZ_CHECK(h.csum_start == sp.l4_off && h.csum_offset == 16 &&
				 h.hdr_len == sp.hdr_len && sp.len > sp.hdr_len &&
				 (sp.is_ipv6 ? ipm_get16(sp.pkt + 4) + 40U
					     : ipm_get16(sp.pkt + 2)) == sp.len,
			 "super-packet header fields");
		for (unsigned int i = 0,
				  k = (unsigned int)((sp.len - sp.hdr_len + sp.gso - 1) / sp.gso);
		     i < k; i++)
			fz_caps_add(&s->frames, seg, ipm_segment(&sp, i, k, seg), 1);
	}
}

/* Compares what reached the TUN in this step with what had to. */
static void dp_check_tun(struct dp_state *s)
{
	const struct fz_caps *got = &s->b.tun;

	if (s->tun >= 0) {
		device_tun_flush(s->b.dev);
		dp_read_frames(s);
		got = &s->frames;
	}
	FZ_CHECK(got->total == s->expect.total, "%zu packets on the TUN, expected %zu", got->total,
		 s->expect.total);
	for (size_t i = 0; i < got->len; i++) {
		const struct fz_pkt *g = &got->pkt[i], *e = &s->expect.pkt[i];

		if (g->port) /* cut from a super-packet */
			FZ_CHECK(dp_same_segment(g->buf, g->len, e->buf, e->len),
				 "coalesced segment %zu differs", i);
		else
			FZ_CHECK(g->len == e->len && !memcmp(g->buf, e->buf, e->len),
				 "packet %zu differs", i);
		dp_stats.coalesced += g->port;
	}
	fz_caps_clear(&s->b.tun);
	fz_caps_clear(&s->frames);
	fz_caps_clear(&s->expect);
}

/* One message, or a UDP GRO read of several from one source. */
static void dp_op_data(struct dp_state *s, struct fz_in *in, bool batch)
{
	uint8_t ctl = fz_u8(in), count = batch ? 2 + ctl % (DP_MAX_BATCH - 1) : 1;
	union endpoint_addr from = s->a_addr;
	size_t off = 0;

	if (ctl & 0x80)
		from.in4.sin_port = htons(20000 + (ctl & 0x7f)); /* A roams */
	for (uint8_t i = 0; i < count && off + DP_MAX_PACKET + 32 <= PACKET_RX_BUF_LEN; i++)
		off += dp_message(s, in, off, &from);
	dp_check_tun(s);
	if (ctl & 0x40)
		aead_lane_forget(s->b.dev->aead);
}

static void fz_data_path_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct dp_state s;

	fz_begin(5);
	memset(&dp_stats, 0, sizeof(dp_stats));
	dp_setup(&s, fz_u8(&in));
	for (int i = 0; i < DP_MAX_OPS && in.n; i++) {
		uint8_t op = fz_u8(&in) % 8;

		if (op == 0)
			s.now += (uint64_t)fz_u16(&in) * 10 * NSEC_PER_MSEC; /* up to 655 s */
		else
			dp_op_data(&s, &in, op == 1);
	}
	if (s.tun >= 0)
		close(s.tun);
	noise_keypairs_clear(&s.kps);
	fz_caps_clear(&s.expect);
	fz_dev_free(&s.b);
}

FZ_ENTRY(fz_data_path_one)
