/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: consuming handshake initiations (receive.c -> noise_handshake_consume_
 * initiation, the load logic and send_handshake_response). Device B has one peer, A.
 * The harness plays A with the Noise API and builds genuine initiations whose timestamp,
 * sender index, origin (A or a stranger) and one byte flip the fuzzer chooses; it always
 * computes mac1 (and mac2 once it holds a cookie), so every message reaches the DH. Raw
 * 148-byte initiations with a valid mac1, replays, time steps and "under load" are mixed in.
 *
 * Input: a config byte (preshared-key arrangement), then operations until the input ends.
 * Checks (whitepaper §5.1, §5.4.2, §5.4.7):
 *   - B responds only to an untampered initiation from A whose TAI64N timestamp is newer
 *     than every one it accepted, and not within 1/50 s of the last accepted one;
 *   - when B is not under load it does respond to such an initiation;
 *   - a response answers the (possibly rewritten) sender index and carries the mac1 A
 *     expects; A consumes it exactly when both sides hold the same preshared key, and then
 *     both derive the same transport keys and indices;
 *   - B sends nothing but responses and, under load, cookie replies.
 */
#include "crypto/noise.h"
#include "tests/fuzz/fuzz.h"

enum {
	INI_MAX_OPS = 32,
	INI_LEN = sizeof(struct message_handshake_initiation),
	INI_MAC1_END = offsetof(struct message_handshake_initiation, macs) + COOKIE_MAC_LEN,
	INI_SEALED_END = offsetof(struct message_handshake_initiation, macs),
	INI_INDEX = offsetof(struct message_handshake_initiation, sender_index),
};

/* what the last input did, for the regression test */
static struct {
	size_t responses, sessions, cookie_replies;
} ini_stats;

struct ini_state {
	struct fz_dev b;
	struct peer *p;			 /* A, as B knows it */
	struct noise_static_identity id; /* A */
	struct noise_handshake hs;	 /* A's side */
	struct cookie_maker mk;		 /* A's macs for B */
	union endpoint_addr a_addr;	 /* where A's datagrams come from */
	uint8_t psk_a[32], psk_b[32];
	bool has_psk_a, has_psk_b;
	uint64_t now, wall;
	uint8_t max_ts[NOISE_TIMESTAMP_LEN]; /* newest timestamp B accepted (model) */
	uint64_t last_accept_ns;	     /* 0 = never (model) */
	uint8_t accepted[INI_LEN];	     /* the last initiation B answered */
	bool has_accepted;
	/* B's last cookie reply, the mac1 it answers, the mac1 A sent last, and whether A
	 * consumed a cookie since: a reply opens only against A's last mac1, once */
	struct message_handshake_cookie reply;
	uint8_t reply_ad[COOKIE_MAC_LEN], last_mac1[COOKIE_MAC_LEN];
	bool has_reply, consumed;
};

/* TAI64N as whitepaper §5.4.2 and the kernel write it: ns rounded down to 2^24. */
static void ini_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t unix_ns)
{
	uint64_t sec = 0x400000000000000aULL + unix_ns / NSEC_PER_SEC;
	uint32_t nsec = (uint32_t)(unix_ns % NSEC_PER_SEC) & ~((1U << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

static bool ini_under_load(const struct device *dev, uint64_t now)
{
	uint64_t t = dev->last_under_load_ns;

	return t != TIMER_OFF && now >= t && now - t < NSEC_PER_SEC;
}

static void ini_setup(struct ini_state *s, struct fz_in *in)
{
	uint8_t cfg = fz_u8(in), a_priv[32];

	memset(s, 0, sizeof(*s));
	s->now = FZ_T0;
	s->wall = FZ_REALTIME_BASE + FZ_T0;
	memset(s->psk_a, 0x5a, 32);
	memcpy(s->psk_b, s->psk_a, 32);
	s->has_psk_a = cfg & 1;
	s->has_psk_b = cfg & 2;
	if (cfg & 4)
		s->psk_b[0] ^= 1; /* both have one, and they differ */
	fz_dev_init(&s->b, 0x22, FZ_PORT_B);
	s->a_addr.in4.sin_family = AF_INET;
	s->a_addr.in4.sin_port = htons(FZ_PORT_A);
	s->a_addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fz_key_from_seed(a_priv, 0x11);
	noise_static_identity_set(&s->id, a_priv);
	s->p = fz_add_peer(&s->b, s->id.static_public, NULL, "10.0.0.1", NULL,
			   s->has_psk_b ? s->psk_b : NULL);
	noise_handshake_init(&s->hs, &s->id, s->b.public_key, s->has_psk_a ? s->psk_a : NULL);
	cookie_maker_init(&s->mk, s->b.public_key);
	wipe(a_priv, sizeof(a_priv));
}

static bool ini_same_psk(const struct ini_state *s)
{
	if (s->has_psk_a != s->has_psk_b)
		return false;
	return !s->has_psk_a || !memcmp(s->psk_a, s->psk_b, 32);
}

/* A consumes B's response and both sides must hold mirrored transport keys. */
static void ini_check_session(struct ini_state *s, const uint8_t *resp, uint32_t sender_index)
{
	const struct message_handshake_response *r = (const void *)resp;
	const struct noise_keypair *bk = &s->p->keypairs.next;
	struct noise_keypairs kps;
	uint8_t mac_copy[sizeof(*r)];
	bool ok, expect;

	memcpy(mac_copy, resp, sizeof(mac_copy));
	fz_set_mac1(mac_copy, sizeof(mac_copy), s->id.static_public, s->now);
	FZ_CHECK(!memcmp(mac_copy, resp, offsetof(struct message_handshake_response, macs.mac2)),
		 "response mac1 is not the one A expects");
	FZ_CHECK(le32toh(r->receiver_index) == sender_index, "response to the wrong index");
	/* A finds its handshake by the index it sent: a rewritten one reaches nobody */
	expect = ini_same_psk(s) && sender_index == s->hs.local_index;
	ok = noise_handshake_consume_response(&s->hs, r, &s->id);
	FZ_CHECK(ok == expect, "A consumed the response: %d, expected %d", ok, expect);
	if (!ok)
		return;
	memset(&kps, 0, sizeof(kps));
	FZ_CHECK(noise_handshake_begin_session(&s->hs, &kps, s->now), "A could not begin");
	ini_stats.sessions++;
	FZ_CHECK(!memcmp(kps.current.sending.key, bk->receiving.key, 32) &&
			 !memcmp(kps.current.receiving.key, bk->sending.key, 32),
		 "transport keys differ");
	FZ_CHECK(kps.current.remote_index == bk->local_index &&
			 bk->remote_index == le32toh(r->receiver_index),
		 "indices differ");
	noise_keypairs_clear(&kps);
}

/*
 * Delivers msg and sorts out what B sent; returns whether B responded. is_ours: msg is
 * the initiation A's handshake state is waiting to see answered.
 */
static bool ini_deliver(struct ini_state *s, const uint8_t *msg, bool is_ours)
{
	bool responded = false;
	uint32_t sender_index;

	memcpy(&sender_index, msg + INI_INDEX, sizeof(sender_index));
	memcpy(s->last_mac1, msg + INI_SEALED_END, COOKIE_MAC_LEN);
	s->consumed = false;
	fz_receive(&s->b, &s->a_addr, msg, INI_LEN, s->now);
	for (size_t i = 0; i < s->b.sent.len; i++) {
		const struct fz_pkt *pk = &s->b.sent.pkt[i];

		if (fz_type(pk) == MESSAGE_HANDSHAKE_COOKIE && pk->len == sizeof(s->reply)) {
			memcpy(&s->reply, pk->buf, sizeof(s->reply));
			memcpy(s->reply_ad, s->last_mac1, COOKIE_MAC_LEN);
			s->has_reply = true;
			ini_stats.cookie_replies++;
			continue;
		}
		FZ_CHECK(fz_type(pk) == MESSAGE_HANDSHAKE_RESPONSE && pk->len == 92 && !responded,
			 "B sent type %u, %zu bytes", fz_type(pk), pk->len);
		responded = true;
		ini_stats.responses++;
		if (is_ours)
			ini_check_session(s, pk->buf, le32toh(sender_index));
	}
	fz_caps_clear(&s->b.sent);
	return responded;
}

/*
 * An initiation from a key the fuzzer picks; false if that key cannot make one. *is_a:
 * the fuzzer picked A's own key (0x11 bytes), so B is right to answer.
 */
static bool ini_stranger(struct ini_state *s, struct fz_in *in, uint8_t *msg, uint32_t index,
			 bool *is_a)
{
	struct noise_static_identity id;
	struct noise_handshake hs;
	uint8_t priv[32];
	bool ok;

	fz_bytes(in, priv, sizeof(priv));
	noise_static_identity_set(&id, priv);
	*is_a = !memcmp(id.static_public, s->id.static_public, sizeof(id.static_public));
	noise_handshake_init(&hs, &id, s->b.public_key, NULL);
	ok = noise_handshake_create_initiation((void *)msg, &hs, &id, index, s->wall);
	noise_handshake_clear(&hs);
	noise_static_identity_clear(&id);
	wipe(priv, sizeof(priv));
	return ok;
}

/* One initiation from A (or a stranger), maybe with a byte flipped, through B. */
static void ini_op_genuine(struct ini_state *s, struct fz_in *in)
{
	uint8_t flags = fz_u8(in), pos = fz_u8(in), flip = fz_u8(in), ts[NOISE_TIMESTAMP_LEN];
	int16_t wall_step_ms = (int16_t)fz_u16(in);
	uint32_t index = fz_u32(in);
	bool from_a = !(flags & 1), keep_mac = flags & 2, is_a = from_a;
	bool tampered, fresh, flood, under;
	uint8_t msg[INI_LEN];

	s->wall += (uint64_t)((int64_t)wall_step_ms * (int64_t)NSEC_PER_MSEC);
	if (from_a)
		FZ_CHECK(noise_handshake_create_initiation((void *)msg, &s->hs, &s->id, index,
							   s->wall),
			 "A could not create an initiation");
	else if (!ini_stranger(s, in, msg, index, &is_a))
		return;
	if (keep_mac)
		cookie_add_mac_to_packet(msg, INI_LEN, &s->mk, s->now);
	if (pos < INI_LEN && flip)
		msg[pos] ^= flip;
	if (!keep_mac)
		cookie_add_mac_to_packet(msg, INI_LEN, &s->mk, s->now);

	/* the sender index is not authenticated; a recomputed mac1 hides a flip in the macs */
	tampered = pos < INI_LEN && flip &&
		   (pos < INI_INDEX || (pos >= INI_INDEX + 4 && pos < INI_SEALED_END) ||
		    (keep_mac && pos < INI_MAC1_END));
	ini_tai64n(ts, s->wall);
	fresh = memcmp(ts, s->max_ts, sizeof(ts)) > 0;
	flood = s->last_accept_ns &&
		(s->now < s->last_accept_ns ||
		 s->now - s->last_accept_ns < NSEC_PER_SEC / INITIATIONS_PER_SECOND);
	under = ini_under_load(s->b.dev, s->now);
	if (ini_deliver(s, msg, from_a)) {
		FZ_CHECK(is_a && !tampered && fresh && !flood,
			 "B answered: from A %d tampered %d fresh %d flood %d", is_a, tampered,
			 fresh, flood);
		memcpy(s->max_ts, ts, sizeof(ts));
		s->last_accept_ns = s->now;
		memcpy(s->accepted, msg, INI_LEN);
		s->has_accepted = true;
	} else {
		FZ_CHECK(!(is_a && !tampered && fresh && !flood && !under),
			 "B ignored a good initiation");
	}
}

/* Bytes from the fuzzer in an initiation's shape: B cannot have anything to answer. */
static void ini_op_raw(struct ini_state *s, struct fz_in *in)
{
	uint8_t msg[INI_LEN];

	fz_bytes(in, msg, sizeof(msg));
	memcpy(msg, &(uint32_t){ htole32(MESSAGE_HANDSHAKE_INITIATION) }, 4);
	cookie_add_mac_to_packet(msg, INI_LEN, &s->mk, s->now);
	FZ_CHECK(!ini_deliver(s, msg, false), "B answered fuzzer bytes");
}

static void ini_op_replay(struct ini_state *s)
{
	uint8_t msg[INI_LEN];

	if (!s->has_accepted)
		return;
	memcpy(msg, s->accepted, sizeof(msg));
	cookie_add_mac_to_packet(msg, INI_LEN, &s->mk, s->now);
	FZ_CHECK(!ini_deliver(s, msg, false), "B answered a replayed initiation");
}

/* A takes B's cookie: exactly when it answers the last mac1 A sent, once (§5.4.7). */
static void ini_op_cookie(struct ini_state *s)
{
	bool expect =
		s->has_reply && !s->consumed && !memcmp(s->reply_ad, s->last_mac1, COOKIE_MAC_LEN);
	bool ok = cookie_message_consume(&s->mk, &s->reply, s->now);

	FZ_CHECK(ok == expect, "A took the cookie: %d, expected %d", ok, expect);
	s->consumed |= ok;
}

static void fz_initiation_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ini_state s;

	fz_begin(2);
	memset(&ini_stats, 0, sizeof(ini_stats));
	ini_setup(&s, &in);
	for (int i = 0; i < INI_MAX_OPS && in.n; i++) {
		switch (fz_u8(&in) % 6) {
		case 0:
			ini_op_genuine(&s, &in);
			break;
		case 1:
			ini_op_raw(&s, &in);
			break;
		case 2:
			ini_op_replay(&s);
			break;
		case 3: {
			uint64_t step = (uint64_t)fz_u16(&in) * NSEC_PER_MSEC;

			s.now += step;
			s.wall += step;
			break;
		}
		case 4:
			s.b.dev->last_under_load_ns =
				s.now; /* as if 128 handshakes came this second */
			break;
		default:
			ini_op_cookie(&s);
			break;
		}
	}
	noise_handshake_clear(&s.hs);
	noise_static_identity_clear(&s.id);
	cookie_maker_clear(&s.mk);
	fz_dev_free(&s.b);
}

FZ_ENTRY(fz_initiation_one)
