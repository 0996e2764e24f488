/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of crypto/noise.c: the generic IKpsk2 core against the Cacophony
 * vector, the WireGuard constants, and the public handshake's refusals (low-order
 * keys, replayed and flooding initiations, wrong keys, bad state).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sodium.h>

#include "crypto/noise.c"

#include "crypto/data.h"
#include "tests/vectors/cacophony_ikpsk2.h"

#define MEM(p, n) ((struct cr_mem){ .data = (p), .size = (n) })

/* Deterministic randomness: the test queues the bytes crypto_random() hands out. */
static uint8_t rng_stream[256];
static size_t rng_pos, rng_len;

static void rng_hook(void *buf, size_t len)
{
	cr_assert(rng_pos + len <= rng_len, "random stream exhausted");
	memcpy(buf, rng_stream + rng_pos, len);
	rng_pos += len;
}

static void rng_push(const uint8_t *bytes, size_t len)
{
	cr_assert(rng_len + len <= sizeof(rng_stream));
	memcpy(rng_stream + rng_len, bytes, len);
	rng_len += len;
}

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

static void teardown(void)
{
	crypto_random_set_hook(NULL);
}

TestSuite(noise, .init = setup, .fini = teardown);

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len = 0;

	cr_assert(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) == 0, "hex %s", hex);
	return len;
}

static void unhex32(uint8_t out[32], const char *hex)
{
	cr_assert(eq(sz, unhex(out, 32, hex), 32));
}

/* Maps one static key to one handshake, as wgd's public-key table would. */
struct lookup_ctx {
	const uint8_t *remote_static;
	struct noise_handshake *hs;
};

static struct noise_handshake *lookup(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct lookup_ctx *l = ctx;

	return key_equal(remote_static, l->remote_static) ? l->hs : NULL;
}

/* Hands back hs whatever the key: to feed a handshake in a chosen state. */
static struct noise_handshake *lookup_any(void *ctx,
					  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	(void)remote_static;
	return ctx;
}

Test(noise, wireguard_constants)
{
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN], want_ck[32], want_h[32];

	/* PROTOCOL.md c.3, computed with Python hashlib and matching boringtun/wireguard-rs. */
	unhex32(want_ck, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	unhex32(want_h, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
	symmetric_init(ck, h, handshake_name, sizeof(handshake_name) - 1,
		       (const uint8_t *)identifier_name, sizeof(identifier_name) - 1);
	cr_assert(eq(u8[32], ck, want_ck));
	cr_assert(eq(u8[32], h, want_h));
	cr_assert(eq(sz, sizeof(handshake_name) - 1, 37));
	cr_assert(eq(sz, sizeof(identifier_name) - 1, 34));
}

struct cacophony_party {
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct noise_keypairs kps;
	uint8_t ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
};

static void cacophony_setup(struct cacophony_party *i, struct cacophony_party *r)
{
	uint8_t key[32], psk[32], remote[32];

	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	unhex32(key, cacophony_init_static_hex);
	noise_static_identity_set(&i->id, key);
	unhex32(key, cacophony_resp_static_hex);
	noise_static_identity_set(&r->id, key);
	/* Our public-key derivation agrees with the vector's init_remote_static. */
	unhex32(remote, cacophony_init_remote_static_hex);
	cr_assert(eq(u8[32], r->id.static_public, remote));

	unhex32(psk, cacophony_psk_hex);
	noise_handshake_init(&i->hs, &i->id, r->id.static_public, psk);
	noise_handshake_init(&r->hs, &r->id, i->id.static_public, psk);

	unhex32(key, cacophony_init_ephemeral_hex);
	rng_push(key, sizeof(key));
	unhex32(key, cacophony_resp_ephemeral_hex);
	rng_push(key, sizeof(key));
	crypto_random_set_hook(rng_hook);
}

static void cacophony_init_both(struct cacophony_party *i, struct cacophony_party *r)
{
	uint8_t prologue[16];
	size_t prologue_len = unhex(prologue, sizeof(prologue), cacophony_prologue_hex);
	const char *name = cacophony_protocol_name;

	handshake_init(i->ck, i->h, name, strlen(name), prologue, prologue_len,
		       r->id.static_public);
	handshake_init(r->ck, r->h, name, strlen(name), prologue, prologue_len,
		       r->id.static_public);
}

/* -> e, es, s, ss, {payload}, then the responder reads it back. */
static void cacophony_message1(struct cacophony_party *i, struct cacophony_party *r)
{
	uint8_t payload[64], got[64], want[256], msg[256], e[32];
	size_t plen = unhex(payload, sizeof(payload), cacophony_messages[0].payload_hex);
	size_t wlen = unhex(want, sizeof(want), cacophony_messages[0].ciphertext_hex);
	struct lookup_ctx l = { i->id.static_public, &r->hs };
	struct noise_initiation opened = { 0 };

	cr_assert(eq(sz, wlen, BODY_INITIATION_PAYLOAD + noise_encrypted_len(plen)));
	ephemeral_generate(i->hs.ephemeral_private);
	cr_assert(initiation_write(msg, i->ck, i->h, i->hs.ephemeral_private, &i->hs, &i->id,
				   payload, plen));
	cr_assert(eq(mem, MEM(msg, wlen), MEM(want, wlen)), "message 1");

	cr_assert(initiation_read(msg, r->ck, r->h, e, &r->id, lookup, &l, got, plen, &opened) ==
		  &r->hs);
	cr_assert(eq(mem, MEM(got, plen), MEM(payload, plen)));
	cr_assert(eq(u8[32], r->h, i->h));
	memcpy(r->hs.remote_ephemeral, e, sizeof(e));
}

/* <- e, ee, se, psk, {payload}, then the initiator reads it back. */
static void cacophony_message2(struct cacophony_party *i, struct cacophony_party *r)
{
	uint8_t payload[64], got[64], want[256], msg[256], e[32], hash[32];
	size_t plen = unhex(payload, sizeof(payload), cacophony_messages[1].payload_hex);
	size_t wlen = unhex(want, sizeof(want), cacophony_messages[1].ciphertext_hex);

	cr_assert(eq(sz, wlen, BODY_RESPONSE_PAYLOAD + noise_encrypted_len(plen)));
	ephemeral_generate(r->hs.ephemeral_private);
	cr_assert(response_write(msg, r->ck, r->h, r->hs.ephemeral_private, &r->hs, payload, plen));
	cr_assert(eq(mem, MEM(msg, wlen), MEM(want, wlen)), "message 2");

	cr_assert(response_read(msg, i->ck, i->h, e, &i->hs, &i->id, got, plen));
	cr_assert(eq(mem, MEM(got, plen), MEM(payload, plen)));
	unhex32(hash, cacophony_handshake_hash_hex);
	cr_assert(eq(u8[32], i->h, hash), "handshake hash");
	cr_assert(eq(u8[32], r->h, hash), "handshake hash");
}

/* Transport messages 3..6 alternate initiator, responder; nonces 0, 0, 1, 1. */
static void cacophony_transport(struct cacophony_party *i, struct cacophony_party *r)
{
	for (size_t n = 2; n < sizeof(cacophony_messages) / sizeof(cacophony_messages[0]); n++) {
		uint8_t payload[64], want[128], buf[sizeof(struct message_data) + 128];
		size_t plen = unhex(payload, sizeof(payload), cacophony_messages[n].payload_hex);
		size_t wlen = unhex(want, sizeof(want), cacophony_messages[n].ciphertext_hex);
		struct noise_keypair *tx = n % 2 == 0 ? &i->kps.current : &r->kps.next;
		struct noise_keypair *rx = n % 2 == 0 ? &r->kps.next : &i->kps.current;
		uint64_t nonce = (n - 2) / 2, got_nonce;
		size_t got_len, len;

		memcpy(buf + sizeof(struct message_data), payload, plen);
		len = data_seal(buf, plen, plen, tx->sending.key, tx->remote_index, nonce);
		cr_assert(eq(sz, len, sizeof(struct message_data) + wlen));
		cr_assert(eq(mem, MEM(buf + sizeof(struct message_data), wlen), MEM(want, wlen)),
			  "message %zu", n + 1);
		cr_assert(data_open(buf, len, rx->receiving.key, &got_len, &got_nonce));
		cr_assert(eq(sz, got_len, plen));
		cr_assert(eq(u64, got_nonce, nonce));
		cr_assert(
			eq(mem, MEM(buf + sizeof(struct message_data), plen), MEM(payload, plen)));
	}
}

Test(noise, cacophony_ikpsk2)
{
	struct cacophony_party i, r;

	cacophony_setup(&i, &r);
	cacophony_init_both(&i, &r);
	cacophony_message1(&i, &r);
	cacophony_message2(&i, &r);

	/* Split through the public begin_session: T_i = first KDF2 output. */
	memcpy(i.hs.chaining_key, i.ck, sizeof(i.ck));
	i.hs.state = HANDSHAKE_CONSUMED_RESPONSE;
	memcpy(r.hs.chaining_key, r.ck, sizeof(r.ck));
	r.hs.state = HANDSHAKE_CREATED_RESPONSE;
	cr_assert(noise_handshake_begin_session(&i.hs, &i.kps, 1));
	cr_assert(noise_handshake_begin_session(&r.hs, &r.kps, 1));
	cr_assert(eq(u8[32], i.kps.current.sending.key, r.kps.next.receiving.key));
	cr_assert(eq(u8[32], i.kps.current.receiving.key, r.kps.next.sending.key));
	cacophony_transport(&i, &r);
}

/* Two WireGuard parties through the public API. */
struct party {
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct lookup_ctx l;
};

static const uint64_t unix_base = 1700000000ULL * NSEC_PER_SEC;
static const uint64_t boot_base = 1000 * NSEC_PER_SEC;

static void party_key(uint8_t key[32], uint8_t seed)
{
	for (size_t k = 0; k < 32; k++)
		key[k] = (uint8_t)(seed + 13 * k);
}

static void parties_init(struct party *a, struct party *b)
{
	uint8_t key[32];

	party_key(key, 1);
	noise_static_identity_set(&a->id, key);
	party_key(key, 2);
	noise_static_identity_set(&b->id, key);
	cr_assert(a->id.has_identity && b->id.has_identity);
	noise_handshake_init(&a->hs, &a->id, b->id.static_public, NULL);
	noise_handshake_init(&b->hs, &b->id, a->id.static_public, NULL);
	a->l = (struct lookup_ctx){ b->id.static_public, &a->hs };
	b->l = (struct lookup_ctx){ a->id.static_public, &b->hs };
}

static struct noise_handshake *
consume(struct party *r, const struct message_handshake_initiation *m, uint64_t now_ns)
{
	return noise_handshake_consume_initiation(m, &r->id, lookup, &r->l, now_ns);
}

Test(noise, public_round_trip)
{
	struct party a, b;
	struct message_handshake_initiation mi;
	struct message_handshake_response mr;

	parties_init(&a, &b);
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 0x1234, unix_base));
	cr_assert(eq(u32, le32toh(mi.header.type), MESSAGE_HANDSHAKE_INITIATION));
	cr_assert(eq(u32, le32toh(mi.sender_index), 0x1234));
	cr_assert(eq(int, a.hs.state, HANDSHAKE_CREATED_INITIATION));
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(eq(int, b.hs.state, HANDSHAKE_CONSUMED_INITIATION));
	cr_assert(eq(u32, b.hs.remote_index, 0x1234));
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 0x5678));
	cr_assert(eq(u32, le32toh(mr.header.type), MESSAGE_HANDSHAKE_RESPONSE));
	cr_assert(eq(u32, le32toh(mr.receiver_index), 0x1234));
	cr_assert(noise_handshake_consume_response(&a.hs, &mr, &a.id));
	cr_assert(eq(int, a.hs.state, HANDSHAKE_CONSUMED_RESPONSE));
	cr_assert(eq(u32, a.hs.remote_index, 0x5678));
	cr_assert(eq(u8[32], a.hs.hash, b.hs.hash));
	cr_assert(eq(u8[32], a.hs.chaining_key, b.hs.chaining_key));
	/* A second response cannot be consumed: the state moved on. */
	cr_assert(not(noise_handshake_consume_response(&a.hs, &mr, &a.id)));
}

/* PROTOCOL.md c.5: the seven low-order Curve25519 points netns.sh configures as peers. */
static const char *const low_order_b64[] = {
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	"4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=",
	"X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=",
	"7P///////////////////////////////////////38=",
	"7f///////////////////////////////////////38=",
	"7v///////////////////////////////////////38=",
};

/*
 * What a peer claiming the low-order static key `point` would send: ss = DH(s_b, point)
 * is all zero, so it mixes zeros. Only the zero check on ss stops it.
 */
static void craft_zero_ss_initiation(struct message_handshake_initiation *m,
				     const uint8_t point[32], const uint8_t responder_public[32])
{
	uint8_t ck[32], h[32], key[32], e[32], zero[32] = { 0 }, t[NOISE_TIMESTAMP_LEN];

	memset(m, 0, sizeof(*m));
	party_key(e, 9);
	key_clamp(e);
	wireguard_init(ck, h, responder_public);
	cr_assert(eq(int, crypto_scalarmult_base(m->unencrypted_ephemeral, e), 0));
	mix_ephemeral(ck, h, m->unencrypted_ephemeral);
	cr_assert(mix_dh(ck, key, e, responder_public));
	encrypt_and_hash(m->encrypted_static, point, 32, key, h);
	mix_key(ck, key, zero, sizeof(zero));
	tai64n_from_unix_ns(t, unix_base);
	encrypt_and_hash(m->encrypted_timestamp, t, sizeof(t), key, h);
}

Test(noise, low_order_peer_key_refused)
{
	struct party a, b;
	struct message_handshake_initiation mi;
	struct noise_handshake low;
	struct lookup_ctx l;
	uint8_t point[32];

	parties_init(&a, &b);
	for (size_t n = 0; n < sizeof(low_order_b64) / sizeof(low_order_b64[0]); n++) {
		cr_assert(key_from_base64(point, low_order_b64[n]), "case %zu", n + 1);
		noise_handshake_init(&low, &b.id, point, NULL);
		cr_assert(key_is_zero(low.precomputed_static_static), "case %zu", n + 1);
		cr_assert(not(noise_handshake_create_initiation(&mi, &low, &b.id, 2, unix_base)),
			  "case %zu", n + 1);
		cr_assert(eq(int, low.state, HANDSHAKE_ZEROED), "case %zu", n + 1);
		craft_zero_ss_initiation(&mi, point, b.id.static_public);
		l = (struct lookup_ctx){ point, &low };
		cr_assert(noise_handshake_consume_initiation(&mi, &b.id, lookup, &l, boot_base) ==
				  NULL,
			  "case %zu", n + 1);
		cr_assert(eq(int, low.state, HANDSHAKE_ZEROED), "case %zu", n + 1);
		/* An honest initiation landing on the low-order handshake is refused too. */
		cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
		cr_assert(noise_handshake_consume_initiation(&mi, &b.id, lookup_any, &low,
							     boot_base) == NULL,
			  "case %zu", n + 1);
	}
	/* Control: the same honest initiation lands on the real handshake. */
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
}

Test(noise, low_order_ephemeral_refused)
{
	struct party a, b;
	struct message_handshake_initiation mi, bad_i;
	struct message_handshake_response mr, bad_r;
	struct noise_handshake saved;

	parties_init(&a, &b);
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 7, unix_base));
	for (size_t n = 0; n < sizeof(low_order_b64) / sizeof(low_order_b64[0]); n++) {
		bad_i = mi;
		cr_assert(key_from_base64(bad_i.unencrypted_ephemeral, low_order_b64[n]));
		cr_assert(consume(&b, &bad_i, boot_base) == NULL, "initiation case %zu", n + 1);
	}
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 8));
	saved = a.hs;
	for (size_t n = 0; n < sizeof(low_order_b64) / sizeof(low_order_b64[0]); n++) {
		bad_r = mr;
		cr_assert(key_from_base64(bad_r.unencrypted_ephemeral, low_order_b64[n]));
		cr_assert(not(noise_handshake_consume_response(&a.hs, &bad_r, &a.id)),
			  "response case %zu", n + 1);
		cr_assert(eq(mem, MEM(&a.hs, sizeof(saved)), MEM(&saved, sizeof(saved))),
			  "unchanged, case %zu", n + 1);
	}
	cr_assert(noise_handshake_consume_response(&a.hs, &mr, &a.id));
}

Test(noise, replayed_initiation_refused)
{
	struct party a, b;
	struct message_handshake_initiation first, second, older;

	parties_init(&a, &b);
	cr_assert(noise_handshake_create_initiation(&older, &a.hs, &a.id, 1, unix_base));
	cr_assert(noise_handshake_create_initiation(&first, &a.hs, &a.id, 2,
						    unix_base + NSEC_PER_SEC));
	cr_assert(consume(&b, &first, boot_base) == &b.hs);
	/* Same timestamp, long after the flood window: still a replay. */
	cr_assert(consume(&b, &first, boot_base + 10 * NSEC_PER_SEC) == NULL);
	cr_assert(consume(&b, &older, boot_base + 20 * NSEC_PER_SEC) == NULL);
	/* The refusals did not move the state: a fresh initiation still works. */
	cr_assert(noise_handshake_create_initiation(&second, &a.hs, &a.id, 3,
						    unix_base + 2 * NSEC_PER_SEC));
	cr_assert(consume(&b, &second, boot_base + 30 * NSEC_PER_SEC) == &b.hs);
	cr_assert(eq(u32, b.hs.remote_index, 3));
}

Test(noise, flood_refused)
{
	/* Each row: the second initiation's CLOCK_BOOTTIME offset after the first is accepted. */
	static const struct {
		uint64_t after_ns;
		bool accepted;
	} cases[] = {
		{ 0, false },
		{ 1, false },
		{ NSEC_PER_SEC / INITIATIONS_PER_SECOND - 1, false }, /* 19.999999 ms */
		{ NSEC_PER_SEC / INITIATIONS_PER_SECOND, true },      /* 20 ms */
		{ NSEC_PER_SEC, true },
	};

	for (size_t n = 0; n < sizeof(cases) / sizeof(cases[0]); n++) {
		struct party a, b;
		struct message_handshake_initiation m1, m2;

		parties_init(&a, &b);
		cr_assert(noise_handshake_create_initiation(&m1, &a.hs, &a.id, 1, unix_base));
		cr_assert(noise_handshake_create_initiation(&m2, &a.hs, &a.id, 2,
							    unix_base + NSEC_PER_SEC));
		cr_assert(consume(&b, &m1, boot_base) == &b.hs);
		cr_assert(eq(int, consume(&b, &m2, boot_base + cases[n].after_ns) == &b.hs,
			     cases[n].accepted),
			  "case %zu", n + 1);
		cr_assert(eq(u32, b.hs.remote_index, cases[n].accepted ? 2 : 1), "case %zu", n + 1);
	}
}

Test(noise, wrong_static_refused)
{
	struct party a, b, c;
	struct message_handshake_initiation mi;
	uint8_t key[32];

	parties_init(&a, &b);
	/* c has its own identity but knows a: a's initiation to b is not for c. */
	party_key(key, 3);
	noise_static_identity_set(&c.id, key);
	noise_handshake_init(&c.hs, &c.id, a.id.static_public, NULL);
	c.l = (struct lookup_ctx){ a.id.static_public, &c.hs };
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
	cr_assert(consume(&c, &mi, boot_base) == NULL);
	cr_assert(eq(int, c.hs.state, HANDSHAKE_ZEROED));
	/* b does not know c: the lookup fails. */
	noise_handshake_init(&c.hs, &c.id, b.id.static_public, NULL);
	cr_assert(noise_handshake_create_initiation(&mi, &c.hs, &c.id, 1, unix_base));
	cr_assert(consume(&b, &mi, boot_base) == NULL);
}

Test(noise, tampered_messages_refused)
{
	struct party a, b;
	struct message_handshake_initiation mi, bad_i;
	struct message_handshake_response mr, bad_r;

	parties_init(&a, &b);
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
	/* Any flipped bit in ephemeral, static or timestamp breaks an AEAD. */
	for (size_t off = offsetof(struct message_handshake_initiation, unencrypted_ephemeral);
	     off < offsetof(struct message_handshake_initiation, macs); off += 7) {
		bad_i = mi;
		((uint8_t *)&bad_i)[off] ^= 0x01;
		cr_assert(consume(&b, &bad_i, boot_base) == NULL, "offset %zu", off);
	}
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 2));
	for (size_t off = offsetof(struct message_handshake_response, unencrypted_ephemeral);
	     off < offsetof(struct message_handshake_response, macs); off += 5) {
		bad_r = mr;
		((uint8_t *)&bad_r)[off] ^= 0x80;
		cr_assert(not(noise_handshake_consume_response(&a.hs, &bad_r, &a.id)), "offset %zu",
			  off);
	}
	/* The response is addressed to our sender index, nothing else. */
	bad_r = mr;
	bad_r.receiver_index = htole32(99);
	cr_assert(not(noise_handshake_consume_response(&a.hs, &bad_r, &a.id)));
	cr_assert(noise_handshake_consume_response(&a.hs, &mr, &a.id));
}

Test(noise, identity_and_state_required)
{
	struct party a, b;
	struct noise_static_identity none = { 0 };
	struct message_handshake_initiation mi;
	struct message_handshake_response mr;
	struct noise_keypairs kps = { 0 };
	uint8_t zero[32] = { 0 };

	parties_init(&a, &b);
	noise_static_identity_set(&none, zero);
	cr_assert(not(none.has_identity));
	cr_assert(not(noise_handshake_create_initiation(&mi, &a.hs, &none, 1, unix_base)));
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
	cr_assert(noise_handshake_consume_initiation(&mi, &none, lookup, &b.l, boot_base) == NULL);
	/* No response before an initiation was consumed; no session before a response. */
	cr_assert(not(noise_handshake_create_response(&mr, &b.hs, &b.id, 2)));
	cr_assert(not(noise_handshake_begin_session(&a.hs, &kps, boot_base)));
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(not(noise_handshake_begin_session(&b.hs, &kps, boot_base)));
	cr_assert(not(noise_handshake_create_response(&mr, &b.hs, &none, 2)));
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 2));
	cr_assert(not(noise_handshake_consume_response(&a.hs, &mr, &none)));
	/* A cleared handshake forgets the in-flight state but not the replay state. */
	noise_handshake_clear(&b.hs);
	cr_assert(eq(int, b.hs.state, HANDSHAKE_ZEROED));
	cr_assert(key_is_zero(b.hs.chaining_key) && key_is_zero(b.hs.ephemeral_private));
	cr_assert(not(key_is_zero(b.hs.precomputed_static_static)));
	cr_assert(consume(&b, &mi, boot_base + NSEC_PER_SEC) == NULL);
}

Test(noise, identity_clamps_and_derives)
{
	struct noise_static_identity id;
	uint8_t priv[32], pub[32];

	/* RFC 7748 §6.1: Alice's private and public keys. */
	unhex32(priv, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex32(pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	noise_static_identity_set(&id, priv);
	cr_assert(id.has_identity);
	cr_assert(eq(u8[32], id.static_public, pub));
	cr_assert(eq(u8, id.static_private[0] & 7, 0));
	cr_assert(eq(u8, id.static_private[31] & 0xc0, 0x40));
	noise_static_identity_clear(&id);
	cr_assert(not(id.has_identity));
	cr_assert(key_is_zero(id.static_private));
}

Test(noise, psk_must_match)
{
	struct party a, b;
	struct message_handshake_initiation mi;
	struct message_handshake_response mr;
	uint8_t psk[32];

	parties_init(&a, &b);
	memset(psk, 0x42, sizeof(psk));
	noise_handshake_set_preshared_key(&a.hs, psk);
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 2));
	cr_assert(not(noise_handshake_consume_response(&a.hs, &mr, &a.id)));
	noise_handshake_set_preshared_key(&b.hs, psk);
	cr_assert(
		noise_handshake_create_initiation(&mi, &a.hs, &a.id, 3, unix_base + NSEC_PER_SEC));
	cr_assert(consume(&b, &mi, boot_base + NSEC_PER_SEC) == &b.hs);
	cr_assert(noise_handshake_create_response(&mr, &b.hs, &b.id, 4));
	cr_assert(noise_handshake_consume_response(&a.hs, &mr, &a.id));
}

/*
 * The static-static DH waits for the first handshake that needs it (adding a peer costs
 * no X25519), equals crypto_scalarmult(s_a, S_b) computed here independently, and is
 * forgotten by noise_handshake_precompute after an identity change.
 */
Test(noise, static_static_computed_at_first_use)
{
	struct party a, b;
	struct message_handshake_initiation mi;
	uint8_t want[32], key[32];

	parties_init(&a, &b);
	cr_assert(not(a.hs.has_static_static));
	cr_assert(key_is_zero(a.hs.precomputed_static_static));
	party_key(key, 1);
	cr_assert(eq(int, crypto_scalarmult(want, key, b.id.static_public), 0));
	cr_assert(noise_handshake_create_initiation(&mi, &a.hs, &a.id, 1, unix_base));
	cr_assert(a.hs.has_static_static);
	cr_assert(eq(u8[32], a.hs.precomputed_static_static, want));
	cr_assert(not(b.hs.has_static_static));
	cr_assert(consume(&b, &mi, boot_base) == &b.hs);
	cr_assert(eq(u8[32], b.hs.precomputed_static_static, want)); /* DH is symmetric */
	noise_handshake_precompute(&a.hs, &a.id);
	cr_assert(not(a.hs.has_static_static));
	cr_assert(key_is_zero(a.hs.precomputed_static_static));
}
