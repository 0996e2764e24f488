/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: consuming handshake responses (receive.c -> index lookup ->
 * noise_handshake_consume_response -> begin_session -> keepalive). Device B is the
 * initiator; the harness plays its peer R with the Noise API: it consumes B's initiations
 * and answers them with genuine responses in which the fuzzer may flip one byte, always
 * with a valid mac1 (and mac2 once R holds one of B's cookies). Raw 92-byte responses
 * aimed at B's live index, replays, time steps and "under load" are mixed in.
 *
 * Input: a config byte (preshared-key arrangement), then operations until the input ends.
 * Checks (whitepaper §5.4.3, §5.4.6):
 *   - every initiation B sends has R's mac1 and is consumed by R;
 *   - B derives a session only from an untampered response to its latest initiation, when
 *     both hold the same preshared key, and only once; when not under load it does;
 *   - the session's keys and indices mirror R's, and the keepalive B sends to confirm it
 *     opens under R's receiving key with counter 0;
 *   - B sends nothing but initiations, that keepalive and, under load, cookie replies.
 */
#include "crypto/data.h"
#include "crypto/noise.h"
#include "tests/fuzz/fuzz.h"

enum {
	RSP_MAX_OPS = 32,
	RSP_LEN = sizeof(struct message_handshake_response),
	RSP_SENDER = offsetof(struct message_handshake_response, sender_index),
	RSP_RECEIVER = offsetof(struct message_handshake_response, receiver_index),
	RSP_SEALED_END = offsetof(struct message_handshake_response, macs),
	RSP_MAC1_END = offsetof(struct message_handshake_response, macs.mac2),
	RSP_PORT_R = 10003,
};

/* what the last input did, for the regression test */
static struct {
	size_t sessions, cookie_replies;
	uint32_t last_keepalive_index;
} rsp_stats;

struct rsp_state {
	struct fz_dev b;
	struct peer *p;			 /* R, as B knows it */
	struct noise_static_identity id; /* R */
	struct noise_handshake hs;	 /* R's side */
	struct cookie_maker mk;		 /* R's macs for B */
	struct cookie_checker chk;	 /* checks B's mac1 for R */
	union endpoint_addr r_addr;
	uint8_t psk_r[32], psk_b[32];
	bool has_psk_r, has_psk_b;
	uint64_t now;
	uint32_t b_inits;      /* initiations B sent so far */
	uint32_t r_answers;    /* which of them R's handshake holds (0 = none) */
	bool r_drops;	       /* R ignores B's next initiation, so its answer goes stale */
	uint8_t last[RSP_LEN]; /* the last response B began a session from */
	bool has_last;
	/* B's last cookie reply, the mac1 it answers, the mac1 R sent last, and whether R
	 * consumed a cookie since: a reply opens only against R's last mac1, once */
	struct message_handshake_cookie reply;
	uint8_t reply_ad[COOKIE_MAC_LEN], last_mac1[COOKIE_MAC_LEN];
	bool has_reply, consumed;
};

static struct noise_handshake *rsp_lookup(void *ctx, const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct rsp_state *s = ctx;

	return memcmp(pub, s->b.public_key, 32) ? NULL : &s->hs;
}

static void rsp_setup(struct rsp_state *s, struct fz_in *in)
{
	uint8_t cfg = fz_u8(in), r_priv[32];

	memset(s, 0, sizeof(*s));
	s->now = FZ_T0;
	memset(s->psk_r, 0xa5, 32);
	memcpy(s->psk_b, s->psk_r, 32);
	s->has_psk_r = cfg & 1;
	s->has_psk_b = cfg & 2;
	if (cfg & 4)
		s->psk_b[31] ^= 0x80;
	fz_dev_init(&s->b, 0x22, FZ_PORT_B);
	fz_key_from_seed(r_priv, 0x33);
	noise_static_identity_set(&s->id, r_priv);
	wipe(r_priv, sizeof(r_priv));
	s->r_addr.in4.sin_family = AF_INET;
	s->r_addr.in4.sin_port = htons(RSP_PORT_R);
	s->r_addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->p = fz_add_peer(&s->b, s->id.static_public, &s->r_addr, "10.0.0.3", NULL,
			   s->has_psk_b ? s->psk_b : NULL);
	noise_handshake_init(&s->hs, &s->id, s->b.public_key, s->has_psk_r ? s->psk_r : NULL);
	cookie_maker_init(&s->mk, s->b.public_key);
	cookie_checker_init(&s->chk, s->id.static_public);
}

static bool rsp_same_psk(const struct rsp_state *s)
{
	if (s->has_psk_r != s->has_psk_b)
		return false;
	return !s->has_psk_r || !memcmp(s->psk_r, s->psk_b, 32);
}

/* R checks B's initiation (always good) and consumes it unless told to drop it. */
static void rsp_take_initiation(struct rsp_state *s, const struct fz_pkt *pk)
{
	uint8_t src[ENDPOINT_COOKIE_BYTES_MAX];
	size_t src_len = endpoint_cookie_bytes(&s->b.self, src);

	FZ_CHECK(pk->len == sizeof(struct message_handshake_initiation), "initiation length");
	FZ_CHECK(cookie_validate_packet(&s->chk, pk->buf, pk->len, src, src_len, false, s->now) ==
			 VALID_MAC_BUT_NO_COOKIE,
		 "B's initiation has a bad mac1");
	s->b_inits++;
	if (s->r_drops)
		return;
	FZ_CHECK(noise_handshake_consume_initiation((const void *)pk->buf, &s->id, rsp_lookup, s,
						    s->now) == &s->hs,
		 "R could not consume B's initiation %u", s->b_inits);
	s->r_answers = s->b_inits;
}

/* The keepalive that confirms B's new session must open under R's receiving key. */
static void rsp_take_keepalive(struct rsp_state *s, const struct fz_pkt *pk,
			       const struct noise_keypairs *kps)
{
	uint8_t buf[64];
	size_t plain_len;
	uint64_t nonce;

	FZ_CHECK(kps && pk->len == MESSAGE_MINIMUM_LENGTH, "unexpected data, %zu bytes", pk->len);
	memcpy(buf, pk->buf, pk->len);
	FZ_CHECK(le32toh(((const struct message_data *)buf)->key_idx) ==
			 s->p->keypairs.current.remote_index,
		 "keepalive to the wrong index");
	FZ_CHECK(data_open(buf, pk->len, kps->next.receiving.key, &plain_len, &nonce) &&
			 plain_len == 0 && nonce == 0,
		 "keepalive does not open");
	rsp_stats.last_keepalive_index = le32toh(((const struct message_data *)buf)->key_idx);
}

/* Sorts out what B sent after a step; kps: R's keys when B just derived a session. */
static void rsp_collect(struct rsp_state *s, const struct noise_keypairs *kps)
{
	bool keepalive = false;

	for (size_t i = 0; i < s->b.sent.len; i++) {
		const struct fz_pkt *pk = &s->b.sent.pkt[i];

		switch (fz_type(pk)) {
		case MESSAGE_HANDSHAKE_INITIATION:
			rsp_take_initiation(s, pk);
			break;
		case MESSAGE_HANDSHAKE_COOKIE:
			FZ_CHECK(pk->len == sizeof(s->reply), "cookie reply length");
			memcpy(&s->reply, pk->buf, sizeof(s->reply));
			memcpy(s->reply_ad, s->last_mac1, COOKIE_MAC_LEN);
			s->has_reply = true;
			rsp_stats.cookie_replies++;
			break;
		case MESSAGE_DATA:
			FZ_CHECK(!keepalive, "two keepalives");
			rsp_take_keepalive(s, pk, kps);
			keepalive = true;
			break;
		default:
			FZ_CHECK(false, "B sent type %u", fz_type(pk));
		}
	}
	FZ_CHECK(!kps || keepalive, "no keepalive confirmed the session");
	fz_caps_clear(&s->b.sent);
}

/* Delivers a response; returns whether B derived a new session from it. */
static bool rsp_deliver(struct rsp_state *s, const uint8_t *msg)
{
	struct noise_keypair before = s->p->keypairs.current;
	const struct noise_keypair *now_kp = &s->p->keypairs.current;

	memcpy(s->last_mac1, msg + RSP_SEALED_END, COOKIE_MAC_LEN);
	s->consumed = false;
	fz_receive(&s->b, &s->r_addr, msg, RSP_LEN, s->now);
	return now_kp->sending.is_valid && memcmp(&before, now_kp, sizeof(before));
}

static void rsp_check_session(struct rsp_state *s, const uint8_t *msg)
{
	const struct noise_keypair *bk = &s->p->keypairs.current;
	struct noise_keypairs kps;

	memset(&kps, 0, sizeof(kps));
	FZ_CHECK(noise_handshake_begin_session(&s->hs, &kps, s->now), "R could not begin");
	FZ_CHECK(!memcmp(kps.next.sending.key, bk->receiving.key, 32) &&
			 !memcmp(kps.next.receiving.key, bk->sending.key, 32),
		 "transport keys differ");
	/* the sender index is B's to trust: a rewritten one is where its data then goes */
	FZ_CHECK(bk->remote_index ==
			 le32toh(((const struct message_handshake_response *)msg)->sender_index),
		 "B keeps another index than the response's");
	rsp_collect(s, &kps);
	noise_keypairs_clear(&kps);
}

/* R answers B's latest initiation, maybe with one byte flipped. */
static void rsp_op_respond(struct rsp_state *s, struct fz_in *in)
{
	uint8_t flags = fz_u8(in), pos = fz_u8(in), flip = fz_u8(in), msg[RSP_LEN];
	uint32_t index = fz_u32(in);
	bool keep_mac = flags & 1, latest = s->r_answers == s->b_inits, tampered, under;

	if (!s->r_answers)
		return;
	FZ_CHECK(noise_handshake_create_response((void *)msg, &s->hs, &s->id, index),
		 "R could not respond");
	s->r_answers = 0;
	if (keep_mac)
		cookie_add_mac_to_packet(msg, RSP_LEN, &s->mk, s->now);
	if (pos < RSP_LEN && flip)
		msg[pos] ^= flip;
	if (!keep_mac)
		cookie_add_mac_to_packet(msg, RSP_LEN, &s->mk, s->now);
	/* only the sender index is not authenticated (B just remembers it) */
	tampered = pos < RSP_LEN && flip &&
		   (pos < RSP_SENDER || (pos >= RSP_RECEIVER && pos < RSP_SEALED_END) ||
		    (keep_mac && pos < RSP_MAC1_END));
	under = s->b.dev->last_under_load_ns != TIMER_OFF &&
		s->now >= s->b.dev->last_under_load_ns &&
		s->now - s->b.dev->last_under_load_ns < NSEC_PER_SEC;
	if (rsp_deliver(s, msg)) {
		FZ_CHECK(!tampered && latest && rsp_same_psk(s),
			 "B began a session: tampered %d latest %d same psk %d", tampered, latest,
			 rsp_same_psk(s));
		rsp_check_session(s, msg);
		rsp_stats.sessions++;
		memcpy(s->last, msg, sizeof(msg));
		s->has_last = true;
		return;
	}
	FZ_CHECK(tampered || !latest || !rsp_same_psk(s) || under, "B ignored a good response");
	noise_handshake_clear(&s->hs);
	rsp_collect(s, NULL);
}

/* Bytes in a response's shape aimed at B's live handshake index: never a session. */
static void rsp_op_raw(struct rsp_state *s, struct fz_in *in, bool replay)
{
	uint8_t msg[RSP_LEN];
	uint32_t index = htole32(s->p->handshake.local_index);

	if (replay && !s->has_last)
		return;
	if (replay) {
		memcpy(msg, s->last, sizeof(msg));
	} else {
		fz_bytes(in, msg, sizeof(msg));
		memcpy(msg, &(uint32_t){ htole32(MESSAGE_HANDSHAKE_RESPONSE) }, 4);
		memcpy(msg + RSP_RECEIVER, &index, sizeof(index));
	}
	cookie_add_mac_to_packet(msg, RSP_LEN, &s->mk, s->now);
	FZ_CHECK(!rsp_deliver(s, msg), "B began a session from a %s",
		 replay ? "replayed response" : "forged response");
	rsp_collect(s, NULL);
}

/* R takes B's cookie: exactly when it answers the last mac1 R sent, once (§5.4.7). */
static void rsp_op_cookie(struct rsp_state *s)
{
	bool expect =
		s->has_reply && !s->consumed && !memcmp(s->reply_ad, s->last_mac1, COOKIE_MAC_LEN);
	bool ok = cookie_message_consume(&s->mk, &s->reply, s->now);

	FZ_CHECK(ok == expect, "R took the cookie: %d, expected %d", ok, expect);
	s->consumed |= ok;
}

static void rsp_op_initiate(struct rsp_state *s, bool r_drops)
{
	s->r_drops = r_drops;
	s->b.now_ns = s->now; /* B's wall clock (TAI64N) follows */
	send_handshake_initiation(s->p, false, s->now);
	rsp_collect(s, NULL);
	s->r_drops = false;
}

static void fz_response_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct rsp_state s;

	fz_begin(3);
	memset(&rsp_stats, 0, sizeof(rsp_stats));
	rsp_setup(&s, &in);
	rsp_op_initiate(&s, false);
	for (int i = 0; i < RSP_MAX_OPS && in.n; i++) {
		switch (fz_u8(&in) % 7) {
		case 0:
			rsp_op_respond(&s, &in);
			break;
		case 1:
			rsp_op_initiate(&s, fz_u8(&in) & 1);
			break;
		case 2:
			rsp_op_raw(&s, &in, false);
			break;
		case 3:
			rsp_op_raw(&s, &in, true);
			break;
		case 4:
			s.now += (uint64_t)fz_u16(&in) * NSEC_PER_MSEC;
			break;
		case 5:
			s.b.dev->last_under_load_ns = s.now;
			break;
		default:
			rsp_op_cookie(&s);
			break;
		}
	}
	noise_handshake_clear(&s.hs);
	noise_static_identity_clear(&s.id);
	cookie_maker_clear(&s.mk);
	cookie_checker_clear(&s.chk);
	fz_dev_free(&s.b);
}

FZ_ENTRY(fz_response_one)
