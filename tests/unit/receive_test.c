/* SPDX-License-Identifier: MIT */
/*
 * Ingress: the framing rule swept over every type byte and length (PROTOCOL.md §1 message
 * layouts: 148, 92, 64 and >= 32 bytes, reserved bytes zero), random datagrams through the
 * whole dispatch, data messages sealed independently with libsodium through decryption,
 * the replay window, the inner-packet checks and crypto-key routing, and the cookie
 * exchange under load.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "crypto/random.h"
#include "device_harness.h"

static struct harness a, b;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(receive, .init = setup, .fini = teardown);

/* The spec's four shapes, written independently of receive_classify's switch. */
static enum message_type expected_shape(unsigned int type, size_t len)
{
	static const struct {
		unsigned int type;
		size_t len;
		bool at_least;
	} shapes[] = { { 1, 148, false }, { 2, 92, false }, { 3, 64, false }, { 4, 32, true } };

	for (size_t i = 0; i < 4; i++)
		if (type == shapes[i].type &&
		    (shapes[i].at_least ? len >= shapes[i].len : len == shapes[i].len))
			return (enum message_type)type;
	return MESSAGE_INVALID;
}

Test(receive, framing_sweep)
{
	static uint8_t buf[2049];
	size_t accepted = 0;

	for (unsigned int t = 0; t < 256; t++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t)t;
		for (size_t len = 0; len <= 2048; len++) {
			enum message_type got = receive_classify(buf, len);

			cr_assert_eq(got, expected_shape(t, len), "type %u len %zu", t, len);
			accepted += got != MESSAGE_INVALID;
		}
	}
	/* one length each for types 1..3, and 32..2048 for type 4 */
	cr_assert_eq(accepted, 3 + (2048 - 32 + 1));
}

Test(receive, reserved_bytes_must_be_zero)
{
	static const size_t lens[] = { 148, 92, 64, 32, 1500 };
	uint8_t buf[1500];

	for (size_t i = 0; i < 5; i++) {
		for (size_t pos = 1; pos < 4; pos++) {
			for (unsigned int v = 1; v < 256; v++) {
				memset(buf, 0, sizeof(buf));
				buf[0] = (uint8_t)(i < 3 ? i + 1 : 4);
				buf[pos] = (uint8_t)v;
				cr_assert_eq(receive_classify(buf, lens[i]), MESSAGE_INVALID,
					     "len %zu byte %zu = %u", lens[i], pos, v);
			}
		}
	}
}

/* Random bytes in every shape, and near it, through the whole dispatch: all dropped. */
Test(receive, random_datagrams_are_dropped)
{
	struct peer *p = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	static const size_t lens[] = { 0,  1,  3,  4,	31,  32,  33,  63,   64,   65,
				       91, 92, 93, 147, 148, 149, 200, 1500, 65535 };
	static uint8_t buf[65535];

	srand(4242);
	for (unsigned int t = 0; t < 6; t++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (int rep = 0; rep < 20; rep++) {
				for (size_t j = 0; j < lens[i]; j++)
					buf[j] = (uint8_t)rand();
				if (lens[i] >= 4)
					memcpy(buf, &(uint32_t){ htole32(t) }, 4);
				h_receive(&b, &a, buf, lens[i], H_T0 + (uint64_t)rep);
			}
		}
	}
	cr_assert_eq(b.sends, 0);
	cr_assert_eq(b.ntun, 0);
	cr_assert_eq(p->rx_bytes, 0);
	cr_assert_eq(p->endpoint.addr.in4.sin_port, a.self.in4.sin_port);
}

/* A data message sealed with libsodium, as RFC 8439 and whitepaper §5.4.6 define it. */
static size_t seal(uint8_t *out, const uint8_t key[32], uint32_t index, uint64_t counter,
		   const uint8_t *pt, size_t len)
{
	uint32_t type = htole32(4), idx = htole32(index);
	uint64_t ctr = htole64(counter);
	uint8_t nonce[12] = { 0 };
	unsigned long long clen;

	memcpy(out, &type, 4);
	memcpy(out + 4, &idx, 4);
	memcpy(out + 8, &ctr, 8);
	memcpy(nonce + 4, &ctr, 8);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 16, &clen, pt, len, NULL, 0, NULL, nonce,
						  key);
	return 16 + (size_t)clen;
}

static const uint8_t rx_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

/* Installs a current keypair in b's peer for a with a known receiving key. */
static uint32_t install_keypair(struct peer *p)
{
	struct noise_keypair *kp = &p->keypairs.current;
	uint32_t index = peer_new_index(p);

	memset(kp, 0, sizeof(*kp));
	memcpy(kp->receiving.key, rx_key, 32);
	memset(kp->sending.key, 0x77, 32);
	kp->receiving.birthdate_ns = kp->sending.birthdate_ns = H_T0;
	kp->receiving.is_valid = kp->sending.is_valid = true;
	replay_counter_init(&kp->receiving_counter);
	kp->local_index = index;
	kp->remote_index = 0x1234;
	return index;
}

struct data_case {
	const char *what;
	uint64_t counter;
	size_t ip_len, padded; /* inner packet length, plaintext length after padding */
	const char *src;
	int corrupt; /* 0 none, 1 flip a ciphertext bit, 2 version 5, 3 total length > data,
			4 total length < header, 5 IHL 4 */
	bool delivered;
};

Test(receive, data_decrypt_and_source_check)
{
	static const struct data_case cases[] = {
		{ "allowed source", 0, 84, 96, "10.0.0.1", 0, true },
		{ "replay of counter 0", 0, 84, 96, "10.0.0.1", 0, false },
		{ "unallowed source", 1, 84, 96, "10.0.0.99", 0, false },
		{ "bit flip", 2, 84, 96, "10.0.0.1", 1, false },
		{ "version 5", 3, 84, 96, "10.0.0.1", 2, false },
		{ "total length beyond data", 4, 84, 96, "10.0.0.1", 3, false },
		{ "total length under header", 5, 84, 96, "10.0.0.1", 4, false },
		{ "header length 16", 6, 84, 96, "10.0.0.1", 5, false },
		{ "padding trimmed", 7, 21, 32, "10.0.0.1", 0, true },
		{ "unpadded at the MTU cap", 8, 1419, 1419, "10.0.0.1", 0, true },
		{ "far ahead", 100000, 40, 48, "10.0.0.1", 0, true },
		{ "too old for the window", 100000 - 8129, 40, 48, "10.0.0.1", 0, false },
		{ "inside the window", 100000 - 8000, 40, 48, "10.0.0.1", 0, true },
	};
	struct peer *p = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	uint32_t index = install_keypair(p);
	static uint8_t pt[2048], msg[2048 + 32];
	uint64_t rx = 0;
	size_t ntun = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct data_case *c = &cases[i];
		size_t len;

		memset(pt, 0, sizeof(pt));
		h_ipv4(pt, c->src, "10.0.0.2", c->ip_len - 20);
		if (c->corrupt == 2)
			pt[0] = 0x55;
		if (c->corrupt == 3)
			pt[3] = (uint8_t)(c->padded + 1);
		if (c->corrupt == 4)
			pt[3] = 19;
		if (c->corrupt == 5)
			pt[0] = 0x44;
		len = seal(msg, rx_key, index, c->counter, pt, c->padded);
		if (c->corrupt == 1)
			msg[20] ^= 1;
		h_receive(&b, &a, msg, len, H_T0 + S(1));
		if (c->delivered) {
			ntun++;
			rx += len;
		}
		cr_assert_eq(b.ntun, ntun, "case %zu (%s)", i + 1, c->what);
		cr_assert_eq(p->rx_bytes, rx, "case %zu (%s) rx_bytes", i + 1, c->what);
		if (c->delivered) {
			cr_assert_eq(b.tun[ntun - 1].len, c->ip_len, "case %zu trimmed", i + 1);
			cr_assert_arr_eq(b.tun[ntun - 1].buf, pt, c->ip_len, "case %zu", i + 1);
		}
	}
}

Test(receive, keepalive_and_ipv6)
{
	struct peer *p = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	uint32_t index = install_keypair(p);
	uint8_t pt[64] = { 0 }, msg[128];
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp = cfg_device_add_peer(&cfg);
	size_t len;

	len = seal(msg, rx_key, index, 0, pt, 0);
	cr_assert_eq(len, 32);
	h_receive(&b, &a, msg, len, H_T0);
	cr_assert_eq(p->rx_bytes, 32);
	cr_assert_eq(b.ntun, 0);
	/* An IPv6 packet from fd00::1, allowed once the peer owns it. */
	pt[0] = 0x60;
	pt[5] = 8; /* payload length */
	cr_assert_eq(inet_pton(AF_INET6, "fd00::1", pt + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, "fd00::2", pt + 24), 1);
	len = seal(msg, rx_key, index, 1, pt, 48);
	h_receive(&b, &a, msg, len, H_T0);
	cr_assert_eq(b.ntun, 0, "fd00::1 not allowed yet");
	memcpy(cp->public_key, a.public_key, 32);
	h_add_aip(cp, AF_INET6, "fd00::1", 128);
	cr_assert_eq(device_apply_cfg(b.dev, &cfg, H_T0), 0);
	cfg_device_clear(&cfg);
	len = seal(msg, rx_key, index, 2, pt, 48);
	h_receive(&b, &a, msg, len, H_T0);
	cr_assert_eq(b.ntun, 1);
	cr_assert_eq(b.tun[0].len, 48);
}

Test(receive, roaming_only_when_authenticated)
{
	struct peer *p = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	uint32_t index = install_keypair(p);
	struct harness roamed = a;
	uint8_t pt[64], msg[128];
	size_t len;

	roamed.self.in4.sin_port = htons(40000);
	h_ipv4(pt, "10.0.0.1", "10.0.0.2", 12);
	len = seal(msg, rx_key, index, 0, pt, 32);
	msg[len - 1] ^= 1;
	h_receive(&b, &roamed, msg, len, H_T0);
	cr_assert_eq(ntohs(p->endpoint.addr.in4.sin_port), 10001, "forged packet moves nothing");
	msg[len - 1] ^= 1;
	h_receive(&b, &roamed, msg, len, H_T0);
	cr_assert_eq(ntohs(p->endpoint.addr.in4.sin_port), 40000);
	cr_assert_eq(b.ntun, 1);
}

Test(receive, second_peer_owning_the_source)
{
	struct harness c;
	struct peer *p = h_add_peer(&b, &a, "10.0.0.0", 24, 0);
	uint32_t index = install_keypair(p);
	uint8_t pt[64], msg[128];
	size_t len;

	h_init(&c, 0x33, 10003);
	h_ipv4(pt, "10.0.0.5", "10.0.0.2", 12);
	len = seal(msg, rx_key, index, 0, pt, 32);
	h_receive(&b, &a, msg, len, H_T0);
	cr_assert_eq(b.ntun, 1);
	/* netns.sh's crypto-RP filter: once another peer owns the /32, a's copy is dropped. */
	h_add_peer(&b, &c, "10.0.0.5", 32, 0);
	len = seal(msg, rx_key, index, 1, pt, 32);
	h_receive(&b, &a, msg, len, H_T0);
	cr_assert_eq(b.ntun, 1);
	cr_assert_eq(p->rx_bytes, 64, "the dropped packet is not counted");
	h_free(&c);
}

Test(receive, unknown_indices)
{
	struct peer *pa = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	struct peer *pb = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	struct message_handshake_response *resp;
	struct message_handshake_cookie cookie = { 0 };
	struct cookie_maker to_a;

	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0);
	h_deliver(&a, &b, H_T0);
	cr_assert_eq(b.nsent, 1);
	/* A response to an index a never issued, with a valid mac1 for a. */
	resp = (void *)b.sent[0].buf;
	resp->receiver_index ^= htole32(1);
	cookie_maker_init(&to_a, a.public_key);
	cookie_add_mac_to_packet(b.sent[0].buf, b.sent[0].len, &to_a, H_T0);
	h_deliver(&b, &a, H_T0);
	cr_assert_eq(pa->keypairs.current.sending.is_valid, false);
	cr_assert_eq(pa->rx_bytes, 0);
	cr_assert_eq(pb->rx_bytes, 148);
	/* A cookie reply to an unknown index is dropped before any decryption. */
	cookie.header.type = htole32(MESSAGE_HANDSHAKE_COOKIE);
	cookie.receiver_index = htole32(0xdeadbeef);
	h_receive(&a, &b, (const uint8_t *)&cookie, sizeof(cookie), H_T0);
	cr_assert_not(pa->cookie.is_valid);
	cr_assert_eq(a.sends, 1);
}

Test(receive, cookie_reply_under_load)
{
	struct peer *pa = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	struct h_datagram init;
	size_t cookies = 0, responses = 0;

	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0);
	cr_assert_eq(a.nsent, 1);
	init = a.sent[0];
	a.nsent = 0;
	/* 200 copies within one second: from the 129th on, b is under load. */
	for (int i = 0; i < 200; i++)
		h_receive(&b, &a, init.buf, init.len, H_T0 + (uint64_t)i);
	for (size_t i = 0; i < b.nsent; i++) {
		cookies += h_type(&b.sent[i]) == MESSAGE_HANDSHAKE_COOKIE;
		responses += h_type(&b.sent[i]) == MESSAGE_HANDSHAKE_RESPONSE;
		if (h_type(&b.sent[i]) == MESSAGE_HANDSHAKE_COOKIE)
			cr_assert_eq(b.sent[i].len, 64);
	}
	cr_assert_eq(responses, 1, "only the first copy is fresh");
	cr_assert_eq(cookies, 200 - 128, "cookies %zu responses %zu nsent %zu", cookies, responses,
		     b.nsent);
	/* The cookie reply opens only for a, bound to its initiation's mac1. */
	h_receive(&a, &b, b.sent[b.nsent - 1].buf, 64, H_T0 + 200);
	cr_assert(pa->cookie.is_valid);
	b.nsent = 0;
	/* Still under load 5 s later (keep the flood going), a's next initiation has mac2. */
	for (int i = 0; i < 130; i++)
		h_receive(&b, &a, init.buf, init.len, H_T0 + S(5) + MS(500) + (uint64_t)i);
	b.nsent = 0;
	a.now_ns = H_T0 + S(6);
	send_handshake_initiation(pa, false, H_T0 + S(6));
	cr_assert_eq(a.nsent, 1);
	h_deliver(&a, &b, H_T0 + S(6));
	cr_assert_eq(b.nsent, 1);
	cr_assert_eq(h_type(&b.sent[0]), MESSAGE_HANDSHAKE_RESPONSE, "mac2 let it through");
}

Test(receive, no_identity_drops_handshakes)
{
	struct cfg_device cfg = { .flags = CFG_DEV_HAS_PRIVATE_KEY };

	h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0);
	cr_assert_eq(device_apply_cfg(b.dev, &cfg, H_T0), 0); /* all-zero key: no identity */
	cr_assert_not(b.dev->identity.has_identity);
	h_deliver(&a, &b, H_T0);
	cr_assert_eq(b.sends, 0);
}
