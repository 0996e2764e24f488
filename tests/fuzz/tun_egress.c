/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: TUN egress, through device_tun_readable() itself. The TUN is one end of a
 * SOCK_SEQPACKET socketpair (one write = one frame), with or without the virtio_net_hdr
 * that offloading TUNs put in front of each frame; so the frame parse, the checksum a
 * kernel leaves to us (NEEDS_CSUM), the super-packet parse and segmentation (wgd/gso.c),
 * the allowed-IPs lookup on the destination, staging, padding, sealing and the batched
 * sends are all reached. Device B has three peers: R, with whom it completes a handshake
 * (the harness plays R with the Noise API), C without an endpoint, and D, which never
 * answers and owns a /25 inside R's /24. The fuzzer sends raw or built IPv4/IPv6 packets
 * and TCP/UDP super-packets, moves time (keys age, rekey, expire), changes the MTU, and
 * lets R answer B's pending initiation.
 *
 * Input: a config byte (bit 0: vnet headers), then operations until the input ends.
 * Checks, against a model written here: longest-prefix match over the table below; the
 * kernel's calculate_skb_padding; RFC 1071 checksums; segmentation as the kernel's
 * tcp_gso_segment / UDP GSO do it (seq + i * gso_size, FIN and PSH on the last segment
 * only, CWR on the first only, IPv4 ID + i, lengths and checksums per segment);
 * whitepaper §6.2 staging, at most 128 per peer, oldest dropped:
 *   - a well-formed super-packet is accepted; every segment or packet whose destination R
 *     owns leaves at once as one data message with the next counter while B's key is
 *     younger than REJECT_AFTER_TIME, else it is staged and leaves, in order, when a
 *     session begins;
 *   - every data message opens under R's key to exactly the model's bytes plus zero
 *     padding to the model's length;
 *   - nothing goes to C, only initiations go to D, nothing leaves for other packets.
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crypto/noise.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/ip_model.h"
#include "wgd/gso.h"

enum {
	TE_MAX_OPS = 48,
	TE_MAX_PACKET = 9000,
	TE_MAX_SEGMENTS = 128,
	TE_PORT_R = 10003,
	TE_PORT_D = 10005,
};

enum te_peer { TE_NONE, TE_R, TE_C, TE_D };

/* what the last input did, for the regression test */
static struct {
	size_t opened, flushed, super_packets;
} te_stats;

struct te_state {
	struct fz_dev b;
	struct peer *pr;
	struct noise_static_identity id; /* R */
	struct noise_handshake hs;
	struct noise_keypairs kps;
	int tun;	/* our end of B's TUN */
	bool r_pending; /* R holds B's latest initiation */
	uint64_t now, session_ns;
	bool has_session;
	uint64_t r_counter;			  /* the next counter B must use towards R */
	struct fz_pkt staged[MAX_STAGED_PACKETS]; /* for R, oldest first */
	size_t nstaged;
	/* what the current frame must turn into (NULL bytes: anything that opens) */
	struct fz_pkt expect[TE_MAX_SEGMENTS];
	size_t nexpect;
};

/* The allowed IPs, as (family, prefix bytes, cidr, owner). */
static const struct {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	enum te_peer owner;
} te_routes[] = {
	{ AF_INET, { 10, 0, 0, 0 }, 24, TE_R },
	{ AF_INET, { 10, 0, 0, 128 }, 25, TE_D },
	{ AF_INET, { 10, 0, 1, 0 }, 24, TE_C },
	{ AF_INET6, { 0xfd }, 64, TE_R },
	{ AF_INET6, { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0x80 }, 65, TE_D },
	{ AF_INET6, { 0xfd, 0, 0, 1 }, 64, TE_C },
};

/* IPv4 destinations for the four picks: R's, D's (inside R's), C's, nobody's */
static const uint8_t te_dst4[4][4] = {
	{ 10, 0, 0, 5 }, { 10, 0, 0, 200 }, { 10, 0, 1, 0 }, { 192, 0, 9, 0 }
};

static bool te_prefix_match(const uint8_t *a, const uint8_t *p, uint8_t cidr)
{
	for (unsigned int bit = 0; bit < cidr; bit++)
		if ((a[bit / 8] ^ p[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* The peer a packet goes to: destination at 16 (IPv4) or 24 (IPv6), longest prefix. */
static enum te_peer te_route(const uint8_t *pkt, size_t len)
{
	int family = len >= 20 && pkt[0] >> 4 == 4   ? AF_INET
		     : len >= 40 && pkt[0] >> 4 == 6 ? AF_INET6
						     : 0;
	const uint8_t *dst = pkt + (family == AF_INET ? 16 : 24);
	enum te_peer best = TE_NONE;
	int best_cidr = -1;

	for (size_t i = 0; family && i < FZ_ARRAY_SIZE(te_routes); i++)
		if (te_routes[i].family == family && te_routes[i].cidr > best_cidr &&
		    te_prefix_match(dst, te_routes[i].addr, te_routes[i].cidr)) {
			best = te_routes[i].owner;
			best_cidr = te_routes[i].cidr;
		}
	return best;
}

/* The kernel's calculate_skb_padding (drivers/net/wireguard/send.c), as a total length. */
static size_t te_padded(size_t len, size_t mtu)
{
	size_t last = len, padded;

	if (!mtu)
		return (len + 15) & ~(size_t)15;
	if (last > mtu)
		last %= mtu;
	padded = (last + 15) & ~(size_t)15;
	if (padded > mtu)
		padded = mtu;
	return len + padded - last;
}

/* --- setup ------------------------------------------------------------------------------ */

static void te_add_peer(struct cfg_device *cfg, uint8_t seed, const uint8_t *pub, uint16_t port,
			enum te_peer who)
{
	struct cfg_peer *cp = cfg_device_add_peer(cfg);
	char text[INET6_ADDRSTRLEN];

	if (!cp)
		abort();
	if (pub)
		memcpy(cp->public_key, pub, 32);
	else
		memset(cp->public_key, seed, 32);
	if (port) {
		cp->endpoint.in4.sin_family = AF_INET;
		cp->endpoint.in4.sin_port = htons(port);
		cp->endpoint.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cp->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	for (size_t i = 0; i < FZ_ARRAY_SIZE(te_routes); i++) {
		if (te_routes[i].owner != who)
			continue;
		inet_ntop(te_routes[i].family, te_routes[i].addr, text, sizeof(text));
		fz_add_aip(cp, te_routes[i].family, text, te_routes[i].cidr);
	}
}

static struct noise_handshake *te_lookup(void *ctx, const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct te_state *s = ctx;

	return memcmp(pub, s->b.public_key, 32) ? NULL : &s->hs;
}

static void te_setup(struct te_state *s, bool vnet)
{
	struct cfg_device cfg = { 0 };
	uint8_t priv[32];
	int sv[2];

	memset(s, 0, sizeof(*s));
	s->now = FZ_T0;
	fz_dev_init(&s->b, 0x22, FZ_PORT_B);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	s->b.dev->tun_fd = sv[0]; /* the device closes it */
	s->b.dev->tun_vnet_len = vnet ? GSO_VNET_HDR_LEN : 0;
	s->tun = sv[1];
	fz_key_from_seed(priv, 0x33);
	noise_static_identity_set(&s->id, priv);
	wipe(priv, sizeof(priv));
	noise_handshake_init(&s->hs, &s->id, s->b.public_key, NULL);
	te_add_peer(&cfg, 0, s->id.static_public, TE_PORT_R, TE_R);
	te_add_peer(&cfg, 0x44, NULL, 0, TE_C);
	te_add_peer(&cfg, 0x55, NULL, TE_PORT_D, TE_D);
	if (device_apply_cfg(s->b.dev, &cfg, s->now) < 0)
		abort();
	cfg_device_clear(&cfg);
	s->pr = device_lookup_peer(s->b.dev, s->id.static_public);
}

/* --- what B sends ------------------------------------------------------------------------ */

/* Opens one data message for R; compares it with the packet it must carry, if known. */
static void te_open(struct te_state *s, const struct fz_pkt *pk, const struct fz_pkt *want)
{
	static uint8_t pt[PACKET_RX_BUF_LEN];
	const struct message_data *m = (const void *)pk->buf;
	uint8_t nonce[12] = { 0 };
	unsigned long long len;

	FZ_CHECK(s->has_session && pk->port == TE_PORT_R, "data without a session, or not to R");
	FZ_CHECK(pk->len >= MESSAGE_MINIMUM_LENGTH && pk->len <= sizeof(pt), "data length");
	FZ_CHECK(le32toh(m->key_idx) == s->kps.next.local_index, "data to index %u",
		 le32toh(m->key_idx));
	FZ_CHECK(le64toh(m->counter) == s->r_counter, "counter %llu, expected %llu",
		 (unsigned long long)le64toh(m->counter), (unsigned long long)s->r_counter);
	s->r_counter++;
	memcpy(nonce + 4, &m->counter, 8);
	FZ_CHECK(!crypto_aead_chacha20poly1305_ietf_decrypt(pt, &len, NULL, m->encrypted_data,
							    pk->len - sizeof(*m), NULL, 0, nonce,
							    s->kps.next.receiving.key),
		 "data does not open");
	te_stats.opened++;
	if (!want->buf)
		return;
	FZ_CHECK(len == te_padded(want->len, s->b.dev->mtu),
		 "padded to %llu, expected %zu (packet %zu, mtu %u)", len,
		 te_padded(want->len, s->b.dev->mtu), want->len, s->b.dev->mtu);
	FZ_CHECK(!memcmp(pt, want->buf, want->len), "plaintext differs (%zu bytes)", want->len);
	for (size_t i = want->len; i < len; i++)
		FZ_CHECK(!pt[i], "padding byte %zu is not zero", i);
}

/* R consumes B's initiation, which must always be good. */
static void te_take_initiation(struct te_state *s, const struct fz_pkt *pk)
{
	FZ_CHECK(pk->len == sizeof(struct message_handshake_initiation), "initiation length");
	if (pk->port == TE_PORT_D)
		return;
	FZ_CHECK(pk->port == TE_PORT_R, "initiation to port %u", pk->port);
	FZ_CHECK(noise_handshake_consume_initiation((const void *)pk->buf, &s->id, te_lookup, s,
						    s->now) == &s->hs,
		 "R could not consume B's initiation");
	s->r_pending = true;
}

/* Takes over an expected packet (its bytes, or NULL = unknown) as staged for R. */
static void te_stage(struct te_state *s, struct fz_pkt *p)
{
	if (s->nstaged == MAX_STAGED_PACKETS) {
		free(s->staged[0].buf);
		memmove(s->staged, s->staged + 1, sizeof(s->staged[0]) * (s->nstaged - 1));
		s->nstaged--;
	}
	s->staged[s->nstaged++] = *p;
	p->buf = NULL;
}

static void te_unstage(struct te_state *s)
{
	for (size_t i = 0; i < s->nstaged; i++)
		free(s->staged[i].buf);
	s->nstaged = 0;
}

static void te_expect_clear(struct te_state *s)
{
	for (size_t i = 0; i < s->nexpect; i++)
		free(s->expect[i].buf);
	s->nexpect = 0;
}

/* Sorts what B sent for a frame routed to `to' against s->expect. */
static void te_collect(struct te_state *s, enum te_peer to, bool usable)
{
	size_t ndata = 0;

	for (size_t i = 0; i < s->b.sent.len; i++) {
		const struct fz_pkt *pk = &s->b.sent.pkt[i];

		if (fz_type(pk) == MESSAGE_HANDSHAKE_INITIATION) {
			FZ_CHECK((to == TE_D && pk->port == TE_PORT_D) ||
					 (to == TE_R && pk->port == TE_PORT_R),
				 "initiation to %u for a packet to peer %d", pk->port, to);
			te_take_initiation(s, pk);
			continue;
		}
		FZ_CHECK(fz_type(pk) == MESSAGE_DATA && to == TE_R && usable && ndata < s->nexpect,
			 "type %u to port %u for a frame to peer %d (usable %d, %zu of %zu)",
			 fz_type(pk), pk->port, to, usable, ndata, s->nexpect);
		te_open(s, pk, &s->expect[ndata++]);
	}
	FZ_CHECK(s->b.sent.total == s->b.sent.len, "more sends than captured");
	if (to == TE_R && usable)
		FZ_CHECK(ndata == s->nexpect, "%zu data messages for %zu packets", ndata,
			 s->nexpect);
	else if (to == TE_R)
		for (size_t i = 0; i < s->nexpect; i++)
			te_stage(s, &s->expect[i]);
	te_expect_clear(s);
	fz_caps_clear(&s->b.sent);
}

/* --- the frames --------------------------------------------------------------------------- */

static void te_expect_add(struct te_state *s, const uint8_t *pkt, size_t len)
{
	uint8_t *copy = NULL;

	if (pkt) {
		copy = malloc(len ? len : 1);
		if (!copy)
			abort();
		memcpy(copy, pkt, len);
	}
	s->expect[s->nexpect++] = (struct fz_pkt){ copy, len, 0 };
}

/* Writes one frame to B's TUN and lets B read it, as the loop would. */
static void te_frame(struct te_state *s, const struct virtio_net_hdr *h, const uint8_t *pkt,
		     size_t len, enum te_peer to)
{
	struct iovec iov[2] = { { (void *)(uintptr_t)h, sizeof(*h) },
				{ (void *)(uintptr_t)pkt, len } };
	bool vnet = s->b.dev->tun_vnet_len;
	bool usable = s->has_session && !s->nstaged &&
		      s->now < s->session_ns + REJECT_AFTER_TIME_S * NSEC_PER_SEC;

	if (writev(s->tun, iov + !vnet, 1 + vnet) < 0)
		abort();
	s->b.now_ns = s->now;
	device_tun_readable(s->b.dev, s->now);
	te_collect(s, to, usable);
}

/* The checksum a kernel leaves to us (NEEDS_CSUM), completed as skb_checksum_help does. */
static bool te_csum_help(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, field = start + h->csum_offset;
	uint16_t c;

	if (start >= len || field + 2 > len)
		return false;
	c = (uint16_t)~ipm_fold(ipm_sum(pkt + start, len - start, 0));
	ipm_put16(pkt + field, c ? c : 0xffff);
	return true;
}

/* A plain packet: raw, or a header to one of the table's prefixes; maybe NEEDS_CSUM. */
static void te_op_packet(struct te_state *s, struct fz_in *in)
{
	static uint8_t pkt[TE_MAX_PACKET];
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	uint8_t how = fz_u8(in), pick = fz_u8(in) % 4;
	size_t len = fz_u16(in) % TE_MAX_PACKET;
	const uint8_t *p;

	if (!(how & 1)) {
		p = fz_slice(in, TE_MAX_PACKET, &len);
		memcpy(pkt, p, len);
	} else {
		memset(pkt, 0, len);
		fz_bytes(in, pkt, len < 64 ? len : 64);
		if (how & 2 && len >= 40) {
			pkt[0] = 0x60;
			memset(pkt + 24, 0, 16);
			pkt[24] = pick == 3 ? 0x20 : 0xfd;
			pkt[27] = pick == 2;
			pkt[32] = pick == 1 ? 0x80 : 0;
		} else if (len >= 20) {
			pkt[0] = 0x45;
			memcpy(pkt + 16, te_dst4[pick], 4);
		}
	}
	if (how & 4 && s->b.dev->tun_vnet_len) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = fz_u16(in);
		h.csum_offset = fz_u16(in);
	}
	te_expect_add(s, pkt, len);
	if (h.flags && !te_csum_help(&h, s->expect[0].buf, len)) {
		te_expect_clear(s); /* offsets beyond the packet: dropped */
		te_frame(s, &h, pkt, len, TE_NONE);
		return;
	}
	/* the completed checksum may land anywhere, even on the header B routes by */
	te_frame(s, &h, pkt, len, te_route(s->expect[0].buf, len));
}

/* --- super-packets ------------------------------------------------------------------------- */

/* A TCP or UDP super-packet over IPv4 or IPv6 from the fuzzer's choices. */
static void te_build_super(struct ipm_super *sp, struct virtio_net_hdr *h, struct fz_in *in,
			   uint8_t how, uint8_t pick)
{
	size_t doff = 5 + fz_u8(in) % 11, payload;
	uint8_t *l4;

	sp->is_ipv6 = how & 1;
	sp->is_tcp = !(how & 2);
	sp->l4_off = sp->is_ipv6 ? 40 : 20;
	sp->hdr_len = sp->l4_off + (sp->is_tcp ? doff * 4 : 8);
	payload = fz_u16(in) % (TE_MAX_PACKET - sp->hdr_len);
	sp->gso = fz_u16(in) | 1;
	if (sp->gso < (payload + TE_MAX_SEGMENTS - 1) / TE_MAX_SEGMENTS)
		sp->gso = (payload + TE_MAX_SEGMENTS - 1) / TE_MAX_SEGMENTS;
	sp->len = sp->hdr_len + payload;
	memset(sp->pkt, 0, sp->len);
	fz_bytes(in, sp->pkt, sp->len < 64 ? sp->len : 64);
	for (size_t i = 64; i < sp->len; i++)
		sp->pkt[i] = (uint8_t)(i * 7);
	if (sp->is_ipv6) {
		memcpy(sp->pkt, "\x60\0\0\0\0\0\0\x40", 8);
		sp->pkt[6] = sp->is_tcp ? 6 : 17;
		memset(sp->pkt + 24, 0, 16);
		sp->pkt[24] = pick == 3 ? 0x20 : 0xfd;
		sp->pkt[27] = pick == 2;
		sp->pkt[32] = pick == 1 ? 0x80 : 0;
	} else {
		sp->pkt[0] = 0x45;
		sp->pkt[9] = sp->is_tcp ? 6 : 17;
		memcpy(sp->pkt + 16, te_dst4[pick], 4);
	}
	l4 = sp->pkt + sp->l4_off;
	if (sp->is_tcp) {
		l4[12] = (uint8_t)(doff << 4);
		l4[13] = fz_u8(in); /* any flags: CWR, FIN and PSH must end up where they belong */
	}
	*h = (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = (uint8_t)(sp->is_tcp ? sp->is_ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
							       : VIRTIO_NET_HDR_GSO_TCPV4
						 : VIRTIO_NET_HDR_GSO_UDP_L4),
		.hdr_len = (uint16_t)sp->hdr_len,
		.gso_size = (uint16_t)sp->gso,
		.csum_start = (uint16_t)sp->l4_off,
		.csum_offset = sp->is_tcp ? 16 : 6,
	};
	if (how & 8)
		h->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
}

/* A super-packet, built (every segment predicted) or raw (only counted). */
static void te_op_gso(struct te_state *s, struct fz_in *in)
{
	static struct ipm_super sp;
	static uint8_t seg[TE_MAX_PACKET];
	uint8_t how = fz_u8(in), pick = fz_u8(in) % 4;
	struct virtio_net_hdr h;
	struct gso_packet gp;
	const uint8_t *raw;
	unsigned int n;

	if (!s->b.dev->tun_vnet_len)
		return; /* only an offloading TUN makes them */
	if (how & 0x80) {
		fz_bytes(in, &h, sizeof(h));
		h.gso_type |= h.gso_type ? 0 : VIRTIO_NET_HDR_GSO_TCPV4;
		raw = fz_slice(in, TE_MAX_PACKET, &sp.len);
		memcpy(sp.pkt, raw, sp.len);
		/* shapes are the parser's to judge here; the bytes of what leaves are not */
		n = gso_packet_parse(&h, sp.pkt, sp.len, &gp) ? gp.segments : 0;
		if (n > TE_MAX_SEGMENTS)
			return; /* more than the captures hold: gso_test covers those */
		for (unsigned int i = 0; i < n; i++)
			te_expect_add(s, NULL, 0);
		te_frame(s, &h, sp.pkt, sp.len, n ? te_route(sp.pkt, sp.len) : TE_NONE);
		return;
	}
	te_build_super(&sp, &h, in, how, pick);
	FZ_CHECK(gso_packet_parse(&h, sp.pkt, sp.len, &gp), "a well-formed super-packet refused");
	n = sp.len > sp.hdr_len ? (unsigned int)((sp.len - sp.hdr_len + sp.gso - 1) / sp.gso) : 1;
	for (unsigned int i = 0; i < n; i++)
		te_expect_add(s, seg, ipm_segment(&sp, i, n, seg));
	te_stats.super_packets++;
	te_frame(s, &h, sp.pkt, sp.len, te_route(sp.pkt, sp.len));
}

/* R answers B's pending initiation; B must flush what it staged, in order. */
static void te_op_handshake(struct te_state *s, struct fz_in *in)
{
	struct message_handshake_response msg;
	size_t n;

	if (!s->r_pending)
		return;
	s->r_pending = false;
	FZ_CHECK(noise_handshake_create_response(&msg, &s->hs, &s->id, fz_u32(in)), "response");
	fz_set_mac1((uint8_t *)&msg, sizeof(msg), s->b.public_key, s->now);
	noise_keypairs_clear(&s->kps);
	FZ_CHECK(noise_handshake_begin_session(&s->hs, &s->kps, s->now), "R could not begin");
	s->has_session = true;
	s->session_ns = s->now;
	s->r_counter = 0;
	fz_receive(&s->b,
		   &(union endpoint_addr){
			   .in4 = { .sin_family = AF_INET, .sin_port = htons(TE_PORT_R) } },
		   &msg, sizeof(msg), s->now);
	n = s->nstaged ? s->nstaged : 1;
	FZ_CHECK(s->b.sent.len == n, "sent %zu after the handshake, staged %zu", s->b.sent.len,
		 s->nstaged);
	for (size_t i = 0; i < n; i++) {
		static uint8_t nothing[1];
		struct fz_pkt keepalive = { nothing, 0, 0 };

		te_open(s, &s->b.sent.pkt[i], s->nstaged ? &s->staged[i] : &keepalive);
	}
	te_stats.flushed += s->nstaged;
	te_unstage(s);
	fz_caps_clear(&s->b.sent);
}

static void fz_tun_egress_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct te_state s;

	fz_begin(6);
	memset(&te_stats, 0, sizeof(te_stats));
	te_setup(&s, fz_u8(&in) & 1);
	s.b.now_ns = s.now;
	send_handshake_initiation(s.pr, false, s.now);
	FZ_CHECK(s.b.sent.len == 1, "no first initiation");
	te_take_initiation(&s, &s.b.sent.pkt[0]);
	fz_caps_clear(&s.b.sent);
	for (int i = 0; i < TE_MAX_OPS && in.n; i++) {
		switch (fz_u8(&in) % 7) {
		case 0:
			s.now += (uint64_t)fz_u16(&in) * 10 * NSEC_PER_MSEC; /* up to 655 s */
			break;
		case 1:
			te_op_handshake(&s, &in);
			break;
		case 2:
			s.b.dev->mtu = fz_u16(&in) | 64;
			break;
		case 3:
			te_op_gso(&s, &in);
			break;
		default:
			te_op_packet(&s, &in);
			break;
		}
	}
	te_unstage(&s);
	close(s.tun);
	noise_keypairs_clear(&s.kps);
	noise_handshake_clear(&s.hs);
	noise_static_identity_clear(&s.id);
	fz_dev_free(&s.b);
}

FZ_ENTRY(fz_tun_egress_one)
