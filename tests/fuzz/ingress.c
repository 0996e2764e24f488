/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the UDP ingress dispatcher, receive_classify() and receive_datagram(), on
 * raw datagrams. Device B knows one peer A and has a handshake of its own in flight, so a
 * response, cookie reply or data message naming B's receiver index reaches the code behind
 * the index lookup. Each datagram may come from an IPv4 or IPv6 source, and the harness can
 * give an initiation- or response-sized datagram a valid mac1 (and patch in B's live
 * index) so that the fuzzer also gets past the first check into Noise and the load logic,
 * or put B under load directly.
 *
 * Input: repeated { u8 flags, u16 time step in ms, [source address], u16 length, bytes }.
 * Checks: the classifier against the four shapes of PROTOCOL.md §1 written out here, and,
 * since nothing the fuzzer writes can authenticate, that B never writes to its TUN, never
 * answers with a handshake response or data, never credits or moves its peer.
 */
#include "tests/fuzz/fuzz.h"

enum {
	ING_MAX_DATAGRAMS = 256,
	ING_FIX_MAC1 = 1 << 2,
	ING_PATCH_INDEX = 1 << 3,
	ING_LOAD = 1 << 4, /* as if 128 handshakes had come this second */
};

/* what the last input did, for the regression test */
static struct {
	size_t cookie_replies;
} ing_stats;

/* The framing rule, from the spec rather than from receive.c's switch. */
static enum message_type ing_expected_shape(const uint8_t *buf, size_t len)
{
	static const size_t exact[] = { 0, 148, 92, 64 };

	if (len < 4 || buf[1] || buf[2] || buf[3])
		return MESSAGE_INVALID;
	if (buf[0] >= 1 && buf[0] <= 3)
		return len == exact[buf[0]] ? (enum message_type)buf[0] : MESSAGE_INVALID;
	if (buf[0] == 4)
		return len >= 32 ? MESSAGE_DATA : MESSAGE_INVALID;
	return MESSAGE_INVALID;
}

static void ing_source(struct fz_in *in, uint8_t flags, const struct fz_dev *a,
		       union endpoint_addr *src)
{
	memset(src, 0, sizeof(*src));
	switch (flags & 3) {
	case 0: /* the peer's own address */
		*src = a->self;
		break;
	case 1:
		src->in4.sin_family = AF_INET;
		src->in4.sin_port = htons(fz_u16(in));
		src->in4.sin_addr.s_addr = htonl(fz_u32(in));
		break;
	case 2:
		src->in6.sin6_family = AF_INET6;
		src->in6.sin6_port = htons(fz_u16(in));
		fz_bytes(in, &src->in6.sin6_addr, sizeof(src->in6.sin6_addr));
		break;
	default: /* a family the socket layer never produces: must be dropped quietly */
		src->sa.sa_family = AF_UNIX;
		break;
	}
}

/* Makes the fuzzer's bytes look more like what B expects, when the flags ask for it. */
static void ing_massage(uint8_t *buf, size_t len, uint8_t flags, const struct fz_dev *b,
			uint32_t live_index, uint64_t now)
{
	uint32_t idx = htole32(live_index);

	if ((flags & ING_PATCH_INDEX) && len >= 12) {
		/* receiver index: at 8 in a response, at 4 in a cookie reply and data */
		size_t off = len == sizeof(struct message_handshake_response) ? 8 : 4;

		memcpy(buf + off, &idx, sizeof(idx));
	}
	if ((flags & ING_FIX_MAC1) && (len == sizeof(struct message_handshake_initiation) ||
				       len == sizeof(struct message_handshake_response)))
		fz_set_mac1(buf, len, b->public_key, now);
}

static void fz_ingress_one(const uint8_t *data, size_t size)
{
	static uint8_t buf[PACKET_RX_BUF_LEN];
	struct fz_in in = { data, size };
	struct fz_dev b;
	uint8_t a_priv[32], a_pub[32];
	struct fz_dev a = { 0 }; /* only its address is used */
	struct peer *p;
	uint64_t now = FZ_T0;

	fz_begin(1);
	memset(&ing_stats, 0, sizeof(ing_stats));
	fz_dev_init(&b, 0x22, FZ_PORT_B);
	fz_key_from_seed(a_priv, 0x11);
	if (crypto_scalarmult_base(a_pub, a_priv) < 0)
		abort();
	a.self.in4.sin_family = AF_INET;
	a.self.in4.sin_port = htons(FZ_PORT_A);
	a.self.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p = fz_add_peer(&b, a_pub, &a.self, "10.0.0.1", "fd00::1", NULL);
	send_handshake_initiation(p, false, now);
	FZ_CHECK(b.sent.len == 1, "B sent %zu datagrams to start a handshake", b.sent.len);
	fz_caps_clear(&b.sent);

	for (int i = 0; i < ING_MAX_DATAGRAMS && in.n; i++) {
		uint8_t flags = fz_u8(&in);
		union endpoint_addr src;
		const uint8_t *d;
		size_t len;

		now += (uint64_t)fz_u16(&in) * NSEC_PER_MSEC;
		ing_source(&in, flags, &a, &src);
		d = fz_slice(&in, sizeof(buf), &len);
		memcpy(buf, d, len);
		ing_massage(buf, len, flags, &b, p->handshake.local_index, now);
		if (flags & ING_LOAD)
			b.dev->last_under_load_ns = now;
		FZ_CHECK(receive_classify(buf, len) == ing_expected_shape(buf, len),
			 "classify len %zu type %u", len, len ? buf[0] : 0);
		fz_receive(&b, &src, buf, len, now);

		FZ_CHECK(b.tun.total == 0, "unauthenticated bytes reached the TUN");
		FZ_CHECK(p->rx_bytes == 0, "peer credited with %llu bytes",
			 (unsigned long long)p->rx_bytes);
		FZ_CHECK(!memcmp(&p->endpoint.addr, &a.self, sizeof(a.self)), "endpoint moved");
		FZ_CHECK(noise_keypair_is_empty(&p->keypairs.current) &&
				 noise_keypair_is_empty(&p->keypairs.next),
			 "a session appeared");
		for (size_t j = 0; j < b.sent.len; j++)
			FZ_CHECK(fz_type(&b.sent.pkt[j]) == MESSAGE_HANDSHAKE_COOKIE,
				 "B answered with type %u", fz_type(&b.sent.pkt[j]));
		ing_stats.cookie_replies += b.sent.len;
		fz_caps_clear(&b.sent);
	}
	fz_dev_free(&b);
}

FZ_ENTRY(fz_ingress_one)
