/* SPDX-License-Identifier: MIT */
/*
 * Two parties in one process, through the public API only: handshakes with mac1
 * (and mac2 under load), key confirmation, data both ways, the replay window,
 * forgeries, key expiry and the counter limit, and keypair slot rotation on rekey.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <endian.h>
#include <sodium.h>
#include <string.h>

#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/key.h"
#include "crypto/noise.h"
#include "crypto/replay.h"

#define MEM(p, n) ((struct cr_mem){ .data = (p), .size = (n) })
#define HDR	  sizeof(struct message_data)
#define MTU	  1420
#define BUF_LEN	  (HDR + 1504 + NOISE_AUTHTAG_LEN)

struct party {
	const char *name;
	struct noise_static_identity id;
	struct noise_handshake hs; /* towards the other party */
	struct noise_keypairs kps;
	struct cookie_checker checker;
	struct cookie_maker maker;
	uint8_t addr[6]; /* IPv4 then port, as the cookie wants it */
	struct party *other;
};

static struct party A = { .name = "A", .addr = { 192, 0, 2, 1, 0xca, 0x6c } };
static struct party B = { .name = "B", .addr = { 198, 51, 100, 7, 0x1f, 0x90 } };
static uint32_t next_index = 0x1000;

static const uint64_t unix_base = 1700000000ULL * NSEC_PER_SEC;
#define T0  (100 * NSEC_PER_SEC)
#define SEC NSEC_PER_SEC

static struct noise_handshake *lookup(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct party *self = ctx;

	return key_equal(remote_static, self->other->id.static_public) ? &self->hs : NULL;
}

static void party_init(struct party *p, struct party *other, uint8_t seed)
{
	uint8_t key[32];

	for (size_t k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)(seed * 31 + k * 3);
	p->other = other;
	noise_static_identity_set(&p->id, key);
	cr_assert(p->id.has_identity);
}

static void setup(void)
{
	uint8_t psk[32];

	cr_assert(sodium_init() >= 0);
	memset(psk, 0x77, sizeof(psk));
	party_init(&A, &B, 1);
	party_init(&B, &A, 2);
	noise_handshake_init(&A.hs, &A.id, B.id.static_public, psk);
	noise_handshake_init(&B.hs, &B.id, A.id.static_public, psk);
	cookie_checker_init(&A.checker, A.id.static_public);
	cookie_checker_init(&B.checker, B.id.static_public);
	cookie_maker_init(&A.maker, B.id.static_public);
	cookie_maker_init(&B.maker, A.id.static_public);
}

TestSuite(session, .init = setup);

/* A handshake from i to r at CLOCK_BOOTTIME now_ns, both sides ending in begin_session. */
static void handshake(struct party *i, struct party *r, uint64_t now_ns)
{
	struct message_handshake_initiation mi;
	struct message_handshake_response mr;
	uint32_t ii = next_index++, ri = next_index++;

	cr_assert(noise_handshake_create_initiation(&mi, &i->hs, &i->id, ii, unix_base + now_ns));
	cookie_add_mac_to_packet((uint8_t *)&mi, sizeof(mi), &i->maker, now_ns);
	cr_assert(eq(int,
		     cookie_validate_packet(&r->checker, (uint8_t *)&mi, sizeof(mi), i->addr,
					    sizeof(i->addr), false, now_ns),
		     VALID_MAC_BUT_NO_COOKIE));
	cr_assert(noise_handshake_consume_initiation(&mi, &r->id, lookup, r, now_ns) == &r->hs,
		  "%s consumes", r->name);
	cr_assert(noise_handshake_create_response(&mr, &r->hs, &r->id, ri));
	cookie_add_mac_to_packet((uint8_t *)&mr, sizeof(mr), &r->maker, now_ns);
	cr_assert(eq(int,
		     cookie_validate_packet(&i->checker, (uint8_t *)&mr, sizeof(mr), r->addr,
					    sizeof(r->addr), false, now_ns),
		     VALID_MAC_BUT_NO_COOKIE));
	cr_assert(noise_handshake_consume_response(&i->hs, &mr, &i->id), "%s consumes", i->name);
	cr_assert(noise_handshake_begin_session(&r->hs, &r->kps, now_ns));
	cr_assert(noise_handshake_begin_session(&i->hs, &i->kps, now_ns));
	cr_assert(eq(int, i->hs.state, HANDSHAKE_ZEROED));
	cr_assert(eq(int, r->hs.state, HANDSHAKE_ZEROED));
	cr_assert(eq(u32, i->kps.current.local_index, ii));
	cr_assert(eq(u32, i->kps.current.remote_index, ri));
	cr_assert(eq(u32, r->kps.next.local_index, ri));
	cr_assert(eq(u32, r->kps.next.remote_index, ii));
}

static void fill(uint8_t *p, size_t len, size_t seed)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(seed + 11 * k);
}

/* Seals a len-byte payload (pattern from seed) under kp; returns the message length. */
static size_t seal(struct noise_keypair *kp, uint8_t *buf, size_t len, size_t seed, uint64_t now_ns)
{
	uint64_t nonce;

	cr_assert(data_keypair_next_nonce(kp, now_ns, &nonce));
	fill(buf + HDR, len, seed);
	return data_seal(buf, len, data_padded_len(len, MTU), kp->sending.key, kp->remote_index,
			 nonce);
}

/* The receive path as wgd runs it: index, age, AEAD, then window, then confirmation. */
static bool receive(struct party *p, const uint8_t *msg, size_t len, uint64_t now_ns,
		    uint8_t *plain, size_t *plain_len)
{
	uint8_t buf[BUF_LEN];
	struct noise_keypair *kp;
	uint64_t nonce;

	cr_assert(len <= sizeof(buf));
	memcpy(buf, msg, len);
	if (len < HDR)
		return false;
	kp = noise_keypairs_lookup(&p->kps, le32toh(((const struct message_data *)buf)->key_idx));
	if (!kp || !data_keypair_can_receive(kp, now_ns))
		return false;
	if (!data_open(buf, len, kp->receiving.key, plain_len, &nonce))
		return false;
	if (!replay_counter_validate(&kp->receiving_counter, nonce))
		return false;
	noise_keypairs_received_with(&p->kps, kp);
	if (plain)
		memcpy(plain, buf + HDR, *plain_len);
	return true;
}

static void send_ok(struct party *from, struct party *to, size_t len, uint64_t now_ns)
{
	uint8_t msg[BUF_LEN], plain[BUF_LEN], want[BUF_LEN];
	size_t msg_len, plain_len;

	msg_len = seal(&from->kps.current, msg, len, len, now_ns);
	cr_assert(eq(sz, msg_len, message_data_len(data_padded_len(len, MTU))), "len %zu", len);
	cr_assert(receive(to, msg, msg_len, now_ns, plain, &plain_len), "%s->%s len %zu",
		  from->name, to->name, len);
	cr_assert(eq(sz, plain_len, data_padded_len(len, MTU)));
	fill(want, len, len);
	cr_assert(eq(mem, MEM(plain, len), MEM(want, len)), "len %zu", len);
}

Test(session, handshake_confirmation_and_data_both_ways)
{
	uint64_t nonce;

	handshake(&A, &B, T0);
	/* The responder holds its keypair in next and may not send on it yet. */
	cr_assert(noise_keypair_is_empty(&B.kps.current));
	cr_assert(not(noise_keypair_is_empty(&B.kps.next)));
	cr_assert(not(data_keypair_next_nonce(&B.kps.current, T0, &nonce)));
	cr_assert(eq(u8[32], A.kps.current.sending.key, B.kps.next.receiving.key));
	cr_assert(eq(u8[32], A.kps.current.receiving.key, B.kps.next.sending.key));
	cr_assert(A.kps.current.i_am_the_initiator && !B.kps.next.i_am_the_initiator);

	/* The initiator's first message (a keepalive) confirms the key. */
	send_ok(&A, &B, 0, T0);
	cr_assert(noise_keypair_is_empty(&B.kps.next));
	cr_assert(eq(u8[32], B.kps.current.receiving.key, A.kps.current.sending.key));

	for (size_t len = 0; len <= 1500; len++) {
		send_ok(&A, &B, len, T0 + SEC);
		send_ok(&B, &A, len, T0 + SEC);
	}
	cr_assert(eq(u64, A.kps.current.sending_counter, 1502));
	cr_assert(eq(u64, B.kps.current.sending_counter, 1501));
}

Test(session, replay_and_reordering)
{
	enum { N = 64 };
	static uint8_t msgs[N][HDR + 32 + NOISE_AUTHTAG_LEN];
	size_t lens[N], plain_len;
	uint8_t far[HDR + 32 + NOISE_AUTHTAG_LEN], old[sizeof(far)];
	size_t far_len, old_len;

	handshake(&A, &B, T0);
	for (size_t n = 0; n < N; n++)
		lens[n] = seal(&A.kps.current, msgs[n], 20, n, T0);
	/* Reordered inside the window: all accepted once, in any order. */
	for (size_t n = N; n-- > N / 2;)
		cr_assert(receive(&B, msgs[n], lens[n], T0, NULL, &plain_len), "msg %zu", n);
	for (size_t n = 0; n < N / 2; n += 2)
		cr_assert(receive(&B, msgs[n], lens[n], T0, NULL, &plain_len), "msg %zu", n);
	/* Replays are refused. */
	for (size_t n = 0; n < N; n += 2)
		cr_assert(not(receive(&B, msgs[n], lens[n], T0, NULL, &plain_len)), "replay %zu",
			  n);
	cr_assert(not(receive(&B, msgs[N - 1], lens[N - 1], T0, NULL, &plain_len)));

	/* Jump far ahead: counter N + window + 10 leaves the odd early ones behind. */
	A.kps.current.sending_counter = N + COUNTER_WINDOW_SIZE + 10;
	far_len = seal(&A.kps.current, far, 20, 1, T0);
	cr_assert(receive(&B, far, far_len, T0, NULL, &plain_len));
	cr_assert(not(receive(&B, msgs[1], lens[1], T0, NULL, &plain_len)), "beyond the window");
	cr_assert(not(receive(&B, far, far_len, T0, NULL, &plain_len)), "replay of the newest");
	/* Unseen but older than the newest, still inside the window: accepted. */
	A.kps.current.sending_counter = N + 20;
	old_len = seal(&A.kps.current, old, 20, 2, T0);
	cr_assert(receive(&B, old, old_len, T0, NULL, &plain_len));
	cr_assert(not(receive(&B, old, old_len, T0, NULL, &plain_len)));
}

Test(session, forgeries_refused)
{
	uint8_t msg[BUF_LEN], bad[BUF_LEN];
	size_t len, plain_len;

	handshake(&A, &B, T0);
	len = seal(&A.kps.current, msg, 100, 5, T0);
	for (size_t off = 4; off < len; off += 9) {
		memcpy(bad, msg, len);
		bad[off] ^= 0x40;
		cr_assert(not(receive(&B, bad, len, T0, NULL, &plain_len)), "offset %zu", off);
	}
	cr_assert(not(receive(&B, msg, len - 1, T0, NULL, &plain_len)), "truncated");
	cr_assert(not(receive(&B, msg, HDR, T0, NULL, &plain_len)), "header only");
	cr_assert(not(noise_keypair_is_empty(&B.kps.next)), "forgeries do not confirm the key");
	/* The genuine message still goes through after all of that. */
	cr_assert(receive(&B, msg, len, T0, NULL, &plain_len));
	cr_assert(noise_keypair_is_empty(&B.kps.next));
}

Test(session, wrong_direction_key_refused)
{
	uint8_t msg[BUF_LEN];
	size_t len, plain_len;
	uint64_t nonce;
	struct noise_keypair *kp;

	handshake(&A, &B, T0);
	send_ok(&A, &B, 1, T0);
	/* B seals with its receiving key, as a reflecting attacker would hope. */
	kp = &B.kps.current;
	cr_assert(data_keypair_next_nonce(kp, T0, &nonce));
	fill(msg + HDR, 10, 0);
	len = data_seal(msg, 10, 16, kp->receiving.key, kp->remote_index, nonce);
	cr_assert(not(receive(&A, msg, len, T0, NULL, &plain_len)));
}

/* Keys die at REJECT_AFTER_TIME for both sending and receiving (whitepaper §6.2). */
Test(session, expired_keys_table)
{
	static const struct {
		uint64_t after_ns;
		bool ok;
	} cases[] = {
		{ 0, true },
		{ (uint64_t)REKEY_AFTER_TIME_S * SEC, true },
		{ (uint64_t)REJECT_AFTER_TIME_S * SEC - 1, true },
		{ (uint64_t)REJECT_AFTER_TIME_S * SEC, false },
		{ 3ULL * REJECT_AFTER_TIME_S * SEC, false },
	};
	uint8_t msg[BUF_LEN];
	size_t len, plain_len;
	uint64_t nonce;

	handshake(&A, &B, T0);
	len = seal(&A.kps.current, msg, 10, 0, T0);
	cr_assert(receive(&B, msg, len, T0, NULL, &plain_len));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t now = T0 + cases[i].after_ns;

		cr_assert(
			eq(int, data_keypair_next_nonce(&A.kps.current, now, &nonce), cases[i].ok),
			"case %zu", i + 1);
		cr_assert(eq(int, data_keypair_can_receive(&B.kps.current, now), cases[i].ok),
			  "case %zu", i + 1);
		if (cases[i].ok) {
			len = data_seal(msg, 0, 0, A.kps.current.sending.key,
					A.kps.current.remote_index, nonce);
			cr_assert(receive(&B, msg, len, now, NULL, &plain_len), "case %zu", i + 1);
		} else {
			cr_assert(not(receive(&B, msg, len, now, NULL, &plain_len)), "case %zu",
				  i + 1);
		}
	}
}

Test(session, counter_limit)
{
	uint8_t msg[BUF_LEN];
	size_t len, plain_len;
	uint64_t nonce;

	handshake(&A, &B, T0);
	send_ok(&A, &B, 0, T0);
	A.kps.current.sending_counter = REJECT_AFTER_MESSAGES - 1;
	len = seal(&A.kps.current, msg, 10, 0, T0);
	cr_assert(
		eq(u64, le64toh(((struct message_data *)msg)->counter), REJECT_AFTER_MESSAGES - 1));
	cr_assert(receive(&B, msg, len, T0, NULL, &plain_len));
	/* The sender is out of nonces; the receiver's window has reached the limit too. */
	cr_assert(not(data_keypair_next_nonce(&A.kps.current, T0, &nonce)));
	cr_assert(not(data_keypair_can_receive(&B.kps.current, T0)));
	/* The other direction is independent. */
	send_ok(&B, &A, 10, T0);
}

static uint32_t idx(const struct noise_keypair *kp)
{
	return kp->local_index;
}

Test(session, rekey_rotates_slots)
{
	uint32_t a1, a2, a3, b1, b2, b3;

	/* 1. A initiates: A current = K1; B next = K1 until A's first data. */
	handshake(&A, &B, T0);
	a1 = idx(&A.kps.current);
	b1 = idx(&B.kps.next);
	send_ok(&A, &B, 1, T0);
	cr_assert(eq(u32, idx(&B.kps.current), b1));
	cr_assert(noise_keypair_is_empty(&B.kps.previous) && noise_keypair_is_empty(&B.kps.next));

	/* 2. A initiates again: A previous = K1, current = K2; B next = K2. */
	handshake(&A, &B, T0 + 2 * SEC);
	a2 = idx(&A.kps.current);
	b2 = idx(&B.kps.next);
	cr_assert(eq(u32, idx(&A.kps.previous), a1));
	cr_assert(eq(u32, idx(&B.kps.current), b1));
	/* Data still in flight on K1 is received by both. */
	cr_assert(noise_keypairs_lookup(&A.kps, a1) == &A.kps.previous);
	cr_assert(noise_keypairs_lookup(&B.kps, b1) == &B.kps.current);
	send_ok(&B, &A, 3, T0 + 2 * SEC); /* B->A still on K1 */
	send_ok(&A, &B, 2, T0 + 2 * SEC); /* A->B on K2 confirms it */
	cr_assert(eq(u32, idx(&B.kps.current), b2));
	cr_assert(eq(u32, idx(&B.kps.previous), b1));
	cr_assert(noise_keypair_is_empty(&B.kps.next));

	/* 3. B initiates: B previous = K2, current = K3, K1 wiped; A next = K3, A's previous wiped.
	 */
	handshake(&B, &A, T0 + 4 * SEC);
	b3 = idx(&B.kps.current);
	a3 = idx(&A.kps.next);
	cr_assert(eq(u32, idx(&B.kps.previous), b2));
	cr_assert(noise_keypairs_lookup(&B.kps, b3) == &B.kps.current);
	cr_assert(noise_keypairs_lookup(&B.kps, b1) == NULL, "K1 left every slot");
	cr_assert(eq(u32, idx(&A.kps.current), a2));
	cr_assert(noise_keypair_is_empty(&A.kps.previous));
	cr_assert(noise_keypairs_lookup(&A.kps, a1) == NULL);
	send_ok(&B, &A, 4, T0 + 4 * SEC);
	cr_assert(eq(u32, idx(&A.kps.current), a3));
	cr_assert(eq(u32, idx(&A.kps.previous), a2));

	/* 4. B initiates (A: next = K4), then A initiates before confirming K4. */
	handshake(&B, &A, T0 + 6 * SEC);
	cr_assert(not(noise_keypair_is_empty(&A.kps.next)));
	{
		uint32_t a4 = idx(&A.kps.next), a5;

		handshake(&A, &B, T0 + 8 * SEC);
		a5 = idx(&A.kps.current);
		/* Kernel rule: the pending next becomes previous and the old current goes. */
		cr_assert(eq(u32, idx(&A.kps.previous), a4));
		cr_assert(noise_keypair_is_empty(&A.kps.next));
		cr_assert(noise_keypairs_lookup(&A.kps, a3) == NULL);
		cr_assert(noise_keypairs_lookup(&A.kps, a5) == &A.kps.current);
		cr_assert(noise_keypairs_lookup(&A.kps, a4) == &A.kps.previous);
	}
	cr_assert(noise_keypairs_lookup(&A.kps, 0xdeadbeef) == NULL);

	noise_keypairs_clear(&A.kps);
	cr_assert(noise_keypair_is_empty(&A.kps.current) &&
		  noise_keypair_is_empty(&A.kps.previous) && noise_keypair_is_empty(&A.kps.next));
	cr_assert(key_is_zero(A.kps.current.sending.key));
}

Test(session, handshake_under_load_with_cookie)
{
	struct message_handshake_initiation mi;
	struct message_handshake_cookie reply;

	cr_assert(noise_handshake_create_initiation(&mi, &A.hs, &A.id, 1, unix_base + T0));
	cookie_add_mac_to_packet((uint8_t *)&mi, sizeof(mi), &A.maker, T0);
	/* B is under load: mac1 is good but there is no cookie, so B replies with one. */
	cr_assert(eq(int,
		     cookie_validate_packet(&B.checker, (uint8_t *)&mi, sizeof(mi), A.addr,
					    sizeof(A.addr), true, T0),
		     VALID_MAC_BUT_NO_COOKIE));
	cookie_message_create(&reply, (uint8_t *)&mi, sizeof(mi), le32toh(mi.sender_index),
			      &B.checker, A.addr, sizeof(A.addr), T0);
	cr_assert(eq(u32, le32toh(reply.receiver_index), 1));
	cr_assert(cookie_message_consume(&A.maker, &reply, T0 + SEC));

	/* A retries with mac2; B accepts it under load and completes the handshake. */
	cr_assert(
		noise_handshake_create_initiation(&mi, &A.hs, &A.id, 2, unix_base + T0 + 5 * SEC));
	cookie_add_mac_to_packet((uint8_t *)&mi, sizeof(mi), &A.maker, T0 + 5 * SEC);
	cr_assert(eq(int,
		     cookie_validate_packet(&B.checker, (uint8_t *)&mi, sizeof(mi), A.addr,
					    sizeof(A.addr), true, T0 + 5 * SEC),
		     VALID_MAC_WITH_COOKIE));
	/* From another address the same message has no valid cookie. */
	cr_assert(eq(int,
		     cookie_validate_packet(&B.checker, (uint8_t *)&mi, sizeof(mi), B.addr,
					    sizeof(B.addr), true, T0 + 5 * SEC),
		     VALID_MAC_BUT_NO_COOKIE));
	cr_assert(noise_handshake_consume_initiation(&mi, &B.id, lookup, &B, T0 + 5 * SEC) ==
		  &B.hs);
}
