/* SPDX-License-Identifier: MIT */
/*
 * Tests of crypto/cookie.c: mac1/mac2 and the cookie reply against bytes computed
 * independently in Python (tests/vectors/cookie_vectors.h), then the state machine:
 * mac states, secret rotation, stale cookies, and replies bound to the last mac1.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sodium.h>
#include <string.h>

#include "crypto/cookie.h"
#include "crypto/random.h"
#include "tests/vectors/cookie_vectors.h"

#define MEM(p, n) ((struct cr_mem){ .data = (p), .size = (n) })
#define MAC1_OFF  offsetof(struct message_handshake_initiation, macs.mac1)
#define MAC2_OFF  offsetof(struct message_handshake_initiation, macs.mac2)

/*
 * The vectors' secret and nonce come out of crypto_random() first; later draws
 * differ in their first byte, so a rotated secret really is new.
 */
static unsigned int secret_draws, nonce_draws;

static void rng_hook(void *buf, size_t len)
{
	uint8_t *p = buf;

	cr_assert(len == sizeof(cv_secret) || len == sizeof(cv_nonce), "unexpected draw %zu", len);
	if (len == sizeof(cv_secret)) {
		memcpy(p, cv_secret, len);
		p[0] ^= (uint8_t)secret_draws++;
	} else {
		memcpy(p, cv_nonce, len);
		p[0] ^= (uint8_t)nonce_draws++;
	}
}

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	crypto_random_set_hook(rng_hook);
}

static void teardown(void)
{
	crypto_random_set_hook(NULL);
}

TestSuite(cookie, .init = setup, .fini = teardown);

#define T0 (5000 * NSEC_PER_SEC)

struct pair {
	struct cookie_checker checker; /* the responder, public key cv_responder_public */
	struct cookie_maker maker;     /* the initiator's view of that responder */
	uint8_t msg[sizeof(cv_initiation)];
};

static void pair_init(struct pair *p)
{
	cookie_checker_init(&p->checker, cv_responder_public);
	cookie_maker_init(&p->maker, cv_responder_public);
	memcpy(p->msg, cv_initiation, sizeof(p->msg));
}

static enum cookie_mac_state validate(struct pair *p, bool check_cookie, uint64_t now_ns)
{
	return cookie_validate_packet(&p->checker, p->msg, sizeof(p->msg), cv_source,
				      sizeof(cv_source), check_cookie, now_ns);
}

/* The responder answers the maker's last message; the maker stores the cookie. */
static void obtain_cookie(struct pair *p, uint64_t now_ns)
{
	struct message_handshake_cookie reply;

	cookie_message_create(&reply, p->msg, sizeof(p->msg), 1, &p->checker, cv_source,
			      sizeof(cv_source), now_ns);
	cr_assert(cookie_message_consume(&p->maker, &reply, now_ns));
}

Test(cookie, keys_match_python)
{
	struct pair p;

	pair_init(&p);
	cr_assert(eq(mem, MEM(p.checker.message_mac1_key, 32), MEM(cv_mac1_key, 32)));
	cr_assert(eq(mem, MEM(p.checker.cookie_encryption_key, 32), MEM(cv_cookie_key, 32)));
	cr_assert(eq(mem, MEM(p.maker.message_mac1_key, 32), MEM(cv_mac1_key, 32)));
	cr_assert(eq(mem, MEM(p.maker.cookie_decryption_key, 32), MEM(cv_cookie_key, 32)));
}

Test(cookie, mac1_matches_python)
{
	struct pair p;
	uint8_t resp[sizeof(cv_response)];
	static const uint8_t zero[COOKIE_MAC_LEN];

	pair_init(&p);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cr_assert(eq(mem, MEM(p.msg + MAC1_OFF, 16), MEM(cv_initiation_mac1, 16)));
	cr_assert(eq(mem, MEM(p.msg + MAC2_OFF, 16), MEM(zero, 16)), "no cookie: mac2 zero");
	cr_assert(eq(mem, MEM(p.msg, MAC1_OFF), MEM(cv_initiation, MAC1_OFF)), "body untouched");
	cr_assert(p.maker.have_sent_mac1);
	cr_assert(eq(mem, MEM(p.maker.last_mac1_sent, 16), MEM(cv_initiation_mac1, 16)));

	memcpy(resp, cv_response, sizeof(resp));
	cookie_add_mac_to_packet(resp, sizeof(resp), &p.maker, T0);
	cr_assert(eq(mem, MEM(resp + sizeof(resp) - 32, 16), MEM(cv_response_mac1, 16)));
	cr_assert(eq(int,
		     cookie_validate_packet(&p.checker, resp, sizeof(resp), NULL, 0, false, T0),
		     VALID_MAC_BUT_NO_COOKIE));
}

Test(cookie, reply_and_mac2_match_python)
{
	struct pair p;
	struct message_handshake_cookie reply;

	pair_init(&p);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cookie_message_create(&reply, p.msg, sizeof(p.msg), 0xaabbccdd, &p.checker, cv_source,
			      sizeof(cv_source), T0);
	cr_assert(eq(u32, le32toh(reply.header.type), MESSAGE_HANDSHAKE_COOKIE));
	cr_assert(eq(u32, le32toh(reply.receiver_index), 0xaabbccdd));
	cr_assert(eq(mem, MEM(reply.nonce, 24), MEM(cv_nonce, 24)));
	cr_assert(eq(mem, MEM(reply.encrypted_cookie, 32), MEM(cv_encrypted_cookie, 32)));

	cr_assert(cookie_message_consume(&p.maker, &reply, T0));
	cr_assert(p.maker.is_valid);
	cr_assert(not(p.maker.have_sent_mac1));
	cr_assert(eq(mem, MEM(p.maker.cookie, 16), MEM(cv_cookie, 16)));

	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cr_assert(eq(mem, MEM(p.msg + MAC2_OFF, 16), MEM(cv_initiation_mac2, 16)));
	cr_assert(eq(int, validate(&p, true, T0), VALID_MAC_WITH_COOKIE));
}

Test(cookie, mac_states)
{
	struct pair p;
	struct cookie_checker other;
	uint8_t other_public[32];

	pair_init(&p);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cr_assert(eq(int, validate(&p, false, T0), VALID_MAC_BUT_NO_COOKIE));
	/* mac2 absent (zero) while under load. */
	cr_assert(eq(int, validate(&p, true, T0), VALID_MAC_BUT_NO_COOKIE));

	/* A different responder key: mac1 does not verify. */
	memcpy(other_public, cv_responder_public, 32);
	other_public[31] ^= 1;
	cookie_checker_init(&other, other_public);
	cr_assert(eq(int,
		     cookie_validate_packet(&other, p.msg, sizeof(p.msg), cv_source,
					    sizeof(cv_source), false, T0),
		     INVALID_MAC));

	/* Any change before mac2 breaks mac1; mac2 itself is not covered by it. */
	for (size_t off = 0; off < MAC2_OFF; off += 3) {
		p.msg[off] ^= 0x10;
		cr_assert(eq(int, validate(&p, false, T0), INVALID_MAC), "offset %zu", off);
		p.msg[off] ^= 0x10;
	}
	p.msg[MAC2_OFF] ^= 1;
	cr_assert(eq(int, validate(&p, false, T0), VALID_MAC_BUT_NO_COOKIE));
	cr_assert(eq(int, cookie_validate_packet(&p.checker, p.msg, 31, NULL, 0, false, T0),
		     INVALID_MAC));
}

Test(cookie, mac2_bound_to_source)
{
	struct pair p;
	uint8_t elsewhere[sizeof(cv_source)];

	pair_init(&p);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	obtain_cookie(&p, T0);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cr_assert(eq(int, validate(&p, true, T0), VALID_MAC_WITH_COOKIE));
	memcpy(elsewhere, cv_source, sizeof(elsewhere));
	elsewhere[5] ^= 1; /* another source port */
	cr_assert(eq(int,
		     cookie_validate_packet(&p.checker, p.msg, sizeof(p.msg), elsewhere,
					    sizeof(elsewhere), true, T0),
		     VALID_MAC_BUT_NO_COOKIE));
	/* A flipped mac2 bit. */
	p.msg[MAC2_OFF + 3] ^= 4;
	cr_assert(eq(int, validate(&p, true, T0), VALID_MAC_BUT_NO_COOKIE));
}

/*
 * The checker's secret is born at T0 (the first cookie it makes). A cookie issued
 * then stays valid until the secret reaches COOKIE_SECRET_MAX_AGE_S.
 */
Test(cookie, secret_rotation_table)
{
	static const struct {
		uint64_t after_ns;
		enum cookie_mac_state want;
	} cases[] = {
		{ 0, VALID_MAC_WITH_COOKIE },
		{ 60 * NSEC_PER_SEC, VALID_MAC_WITH_COOKIE },
		{ COOKIE_SECRET_MAX_AGE_S * NSEC_PER_SEC - 1, VALID_MAC_WITH_COOKIE },
		{ COOKIE_SECRET_MAX_AGE_S * NSEC_PER_SEC, VALID_MAC_BUT_NO_COOKIE }, /* rotated */
		{ 1000 * NSEC_PER_SEC, VALID_MAC_BUT_NO_COOKIE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;

		secret_draws = nonce_draws = 0;
		pair_init(&p);
		cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
		obtain_cookie(&p, T0);
		cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
		cr_assert(eq(int, validate(&p, true, T0 + cases[i].after_ns), cases[i].want),
			  "case %zu", i + 1);
		cr_assert(eq(u32, secret_draws, cases[i].want == VALID_MAC_WITH_COOKIE ? 1 : 2),
			  "case %zu", i + 1);
	}
}

/* The maker's cookie, received at T0, is used until 120 - 5 s later. */
Test(cookie, stale_maker_cookie_table)
{
	static const struct {
		uint64_t after_ns;
		bool has_mac2;
	} cases[] = {
		{ 0, true },
		{ 100 * NSEC_PER_SEC, true },
		{ (COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S) * NSEC_PER_SEC - 1, true },
		{ (COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S) * NSEC_PER_SEC, false },
		{ COOKIE_SECRET_MAX_AGE_S * NSEC_PER_SEC, false },
	};
	static const uint8_t zero[COOKIE_MAC_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;

		secret_draws = nonce_draws = 0;
		pair_init(&p);
		cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
		obtain_cookie(&p, T0);
		cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0 + cases[i].after_ns);
		cr_assert(eq(int, memcmp(p.msg + MAC2_OFF, zero, 16) != 0, cases[i].has_mac2),
			  "case %zu", i + 1);
		if (cases[i].has_mac2)
			cr_assert(eq(mem, MEM(p.msg + MAC2_OFF, 16), MEM(cv_initiation_mac2, 16)),
				  "case %zu", i + 1);
	}
}

Test(cookie, reply_bound_to_last_mac1)
{
	struct pair p;
	struct message_handshake_cookie reply, bad;
	uint8_t later[sizeof(cv_initiation)];

	pair_init(&p);
	/* Nothing sent yet: no reply can be accepted. */
	cookie_message_create(&reply, cv_initiation, sizeof(cv_initiation), 1, &p.checker,
			      cv_source, sizeof(cv_source), T0);
	cr_assert(not(cookie_message_consume(&p.maker, &reply, T0)));

	/* The reply answers msg, but the maker has since sent another message. */
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	cookie_message_create(&reply, p.msg, sizeof(p.msg), 1, &p.checker, cv_source,
			      sizeof(cv_source), T0);
	memcpy(later, p.msg, sizeof(later));
	later[10] ^= 1;
	cookie_add_mac_to_packet(later, sizeof(later), &p.maker, T0);
	cr_assert(not(cookie_message_consume(&p.maker, &reply, T0)), "wrong AD");
	cr_assert(not(p.maker.is_valid));

	/* Resend the original: now the reply's AD matches, except when tampered. */
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	for (size_t off = 0; off < sizeof(reply.nonce) + sizeof(reply.encrypted_cookie); off += 5) {
		bad = reply;
		((uint8_t *)&bad)[offsetof(struct message_handshake_cookie, nonce) + off] ^= 2;
		cr_assert(not(cookie_message_consume(&p.maker, &bad, T0)), "offset %zu", off);
	}
	cr_assert(cookie_message_consume(&p.maker, &reply, T0));
	/* Consumed once: the same reply is not accepted twice. */
	cr_assert(not(cookie_message_consume(&p.maker, &reply, T0)));
}

Test(cookie, clear_wipes)
{
	struct pair p;
	static const uint8_t zero[sizeof(struct cookie_maker)];

	pair_init(&p);
	cookie_add_mac_to_packet(p.msg, sizeof(p.msg), &p.maker, T0);
	obtain_cookie(&p, T0);
	cookie_maker_clear(&p.maker);
	cookie_checker_clear(&p.checker);
	cr_assert(eq(mem, MEM(&p.maker, sizeof(p.maker)), MEM(zero, sizeof(p.maker))));
	cr_assert(not(p.checker.has_secret));
	cr_assert(eq(mem, MEM(p.checker.secret, 32), MEM(zero, 32)));
}
