/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: consuming cookie replies (receive.c -> index lookup ->
 * cookie_message_consume) and the mac2 that follows. Device B initiates to its peer R; the
 * harness plays R under load with a cookie_checker: it answers B's initiations with genuine
 * cookie replies in which the fuzzer may flip one byte, and sends raw 64-byte replies at
 * B's live index. After a time step B initiates again and R checks that initiation's mac2.
 *
 * Input: operations until the input ends.
 * Checks (whitepaper §5.4.7):
 *   - B takes a cookie only from an untampered reply to the last mac1 it sent, and only
 *     once per mac1; when such a reply arrives it does take it;
 *   - B's next initiation carries a valid mac2 exactly when B holds a cookie younger than
 *     120 - 5 s that R's current secret (rotated every 120 s) still produces;
 *   - B sends nothing but initiations.
 */
#include "tests/fuzz/fuzz.h"

enum {
	CK_MAX_OPS = 32,
	CK_LEN = sizeof(struct message_handshake_cookie),
	CK_PORT_R = 10003,
};

/* what the last input did, for the regression test */
static struct {
	size_t taken, mac2_valid;
} ck_stats;

struct ck_state {
	struct fz_dev b;
	struct peer *p;		   /* R, as B knows it */
	struct cookie_checker chk; /* R's */
	union endpoint_addr r_addr;
	uint8_t src[ENDPOINT_COOKIE_BYTES_MAX]; /* B's address, as R sees it */
	size_t src_len;
	uint64_t now;
	uint8_t init[sizeof(struct message_handshake_initiation)]; /* B's latest */
	bool has_init, replied;		      /* a genuine reply to `init' was already taken */
	uint64_t cookie_ns, cookie_secret_ns; /* when B took one, and R's secret's birth */
	bool has_cookie;
};

static void ck_setup(struct ck_state *s)
{
	uint8_t r_priv[32], r_pub[32];

	memset(s, 0, sizeof(*s));
	s->now = FZ_T0;
	fz_dev_init(&s->b, 0x22, FZ_PORT_B);
	fz_key_from_seed(r_priv, 0x33);
	if (crypto_scalarmult_base(r_pub, r_priv) < 0)
		abort();
	s->r_addr.in4.sin_family = AF_INET;
	s->r_addr.in4.sin_port = htons(CK_PORT_R);
	s->r_addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->p = fz_add_peer(&s->b, r_pub, &s->r_addr, "10.0.0.3", NULL, NULL);
	cookie_checker_init(&s->chk, r_pub);
	s->src_len = endpoint_cookie_bytes(&s->b.self, s->src);
}

/* B initiates (once per REKEY_TIMEOUT); R checks mac1 and, under load, mac2. */
static void ck_op_initiate(struct ck_state *s)
{
	enum cookie_mac_state st;
	bool expect_mac2;

	s->b.now_ns = s->now;
	send_handshake_initiation(s->p, false, s->now);
	for (size_t i = 0; i < s->b.sent.len; i++) {
		const struct fz_pkt *pk = &s->b.sent.pkt[i];

		FZ_CHECK(fz_type(pk) == MESSAGE_HANDSHAKE_INITIATION && pk->len == sizeof(s->init),
			 "B sent type %u", fz_type(pk));
		/* the maker drops a cookie at 120 - 5 s; the checker's secret lives 120 s */
		expect_mac2 = s->has_cookie &&
			      s->now < s->cookie_ns +
					       (COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S) *
						       NSEC_PER_SEC &&
			      s->now < s->cookie_secret_ns + COOKIE_SECRET_MAX_AGE_S * NSEC_PER_SEC;
		st = cookie_validate_packet(&s->chk, pk->buf, pk->len, s->src, s->src_len, true,
					    s->now);
		FZ_CHECK(st == (expect_mac2 ? VALID_MAC_WITH_COOKIE : VALID_MAC_BUT_NO_COOKIE),
			 "mac state %d, expected mac2 %d", st, expect_mac2);
		ck_stats.mac2_valid += st == VALID_MAC_WITH_COOKIE;
		memcpy(s->init, pk->buf, sizeof(s->init));
		s->has_init = true;
		s->replied = false;
	}
	fz_caps_clear(&s->b.sent);
}

/* Delivers a reply; returns whether B took a new cookie from it. */
static bool ck_deliver(struct ck_state *s, const uint8_t *msg)
{
	struct cookie_maker before = s->p->cookie;

	fz_receive(&s->b, &s->r_addr, msg, CK_LEN, s->now);
	FZ_CHECK(s->b.sent.len == 0, "B answered a cookie reply");
	return memcmp(&before, &s->p->cookie, sizeof(before)) != 0;
}

/* R's genuine reply to B's latest initiation, maybe with a byte flipped. */
static void ck_op_reply(struct ck_state *s, struct fz_in *in)
{
	struct message_handshake_cookie reply;
	uint8_t pos = fz_u8(in), flip = fz_u8(in);
	uint32_t sender;
	bool tampered = pos < CK_LEN && flip, took;

	if (!s->has_init)
		return;
	memcpy(&sender, s->init + offsetof(struct message_handshake_initiation, sender_index), 4);
	cookie_message_create(&reply, s->init, sizeof(s->init), le32toh(sender), &s->chk, s->src,
			      s->src_len, s->now);
	if (tampered)
		((uint8_t *)&reply)[pos] ^= flip;
	took = ck_deliver(s, (const uint8_t *)&reply);
	if (took) {
		FZ_CHECK(!tampered && !s->replied, "B took a cookie: tampered %d, again %d",
			 tampered, s->replied);
		FZ_CHECK(s->p->cookie.is_valid && s->p->cookie.birthdate_ns == s->now,
			 "cookie not stored as valid, now");
		s->replied = true;
		s->has_cookie = true;
		ck_stats.taken++;
		s->cookie_ns = s->now;
		s->cookie_secret_ns = s->chk.secret_birthdate_ns;
	} else {
		FZ_CHECK(tampered || s->replied, "B refused a genuine cookie reply");
	}
}

/* Fuzzer bytes as a reply to B's live index: B must not take a cookie from them. */
static void ck_op_raw(struct ck_state *s, struct fz_in *in)
{
	uint8_t msg[CK_LEN];
	uint32_t index = htole32(s->p->handshake.local_index);

	fz_bytes(in, msg, sizeof(msg));
	memcpy(msg, &(uint32_t){ htole32(MESSAGE_HANDSHAKE_COOKIE) }, 4);
	if (!(msg[4] & 0x80)) /* mostly B's index; sometimes the fuzzer's */
		memcpy(msg + 4, &index, sizeof(index));
	FZ_CHECK(!ck_deliver(s, msg), "B took a cookie from fuzzer bytes");
}

static void fz_cookie_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ck_state s;

	fz_begin(4);
	memset(&ck_stats, 0, sizeof(ck_stats));
	ck_setup(&s);
	ck_op_initiate(&s);
	for (int i = 0; i < CK_MAX_OPS && in.n; i++) {
		switch (fz_u8(&in) % 4) {
		case 0:
			ck_op_reply(&s, &in);
			break;
		case 1:
			ck_op_raw(&s, &in);
			break;
		case 2:
			s.now += (uint64_t)fz_u16(&in) * 4 * NSEC_PER_MSEC; /* up to 262 s */
			break;
		default:
			ck_op_initiate(&s);
			break;
		}
	}
	cookie_checker_clear(&s.chk);
	fz_dev_free(&s.b);
}

FZ_ENTRY(fz_cookie_one)
