/* SPDX-License-Identifier: MIT */
/*
 * Our Noise, cookie and data code against an independent implementation: the packets in
 * oracle_vectors.h come from tests/oracle/wg_oracle.py (Python hashlib, cryptography and
 * nacl, written from the whitepaper). For every vector set we must produce the same bytes
 * from the same keys, ephemerals, indices, times, cookie secret and nonce, accept the
 * oracle's packets, and reject each of them with any one byte flipped.
 *
 * Randomness: a crypto_random hook hands out the set's ephemeral, cookie secret and
 * nonce, each to the one call of its exact length, in the order queued. The secret is
 * queued before the first cookie_validate_packet with check_cookie, which is where a
 * checker first needs it (whitepaper §5.4.7: the cookie is keyed by a random secret).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stddef.h>
#include <string.h>

#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/noise.h"
#include "crypto/random.h"
#include "wgd/aead.h"

#include "oracle_vectors.h"

/* CLOCK_BOOTTIME for every call: far from 0 so no "initiated within 20 ms" check fires. */
#define NOW_NS (1000 * NSEC_PER_SEC)

struct field {
	size_t offset;
	const char *name;
};

/* Wire layouts (whitepaper §5.4.2, §5.4.3, §5.4.7, §5.4.6), to name a mismatching byte. */
static const struct field initiation_fields[] = {
	{ 0, "type" },
	{ 4, "sender_index" },
	{ 8, "ephemeral" },
	{ 40, "encrypted_static" },
	{ 88, "encrypted_timestamp" },
	{ 116, "mac1" },
	{ 132, "mac2" },
	{ 148, NULL },
};
static const struct field response_fields[] = {
	{ 0, "type" },
	{ 4, "sender_index" },
	{ 8, "receiver_index" },
	{ 12, "ephemeral" },
	{ 44, "encrypted_nothing" },
	{ 60, "mac1" },
	{ 76, "mac2" },
	{ 92, NULL },
};
static const struct field cookie_fields[] = {
	{ 0, "type" }, { 4, "receiver_index" }, { 8, "nonce" }, { 32, "encrypted_cookie" },
	{ 64, NULL },
};
static const struct field data_fields[] = {
	{ 0, "type" },	    { 4, "receiver_index" }, { 8, "counter" }, { 16, "encrypted_data" },
	{ SIZE_MAX, NULL },
};
static const struct field key_fields[] = { { 0, "key" }, { 32, NULL } };

static size_t checks;

#define check(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		cr_assert(cond, __VA_ARGS__);                                                      \
	} while (0)

/* ---- the crypto_random hook ---------------------------------------------------------- */

static struct {
	const uint8_t *buf[2];
	size_t len[2];
	size_t count, next;
} rnd;

static void rnd_hook(void *out, size_t len)
{
	cr_assert(rnd.next < rnd.count, "unexpected crypto_random(%zu)", len);
	cr_assert(rnd.len[rnd.next] == len, "crypto_random(%zu) where %zu bytes were queued", len,
		  rnd.len[rnd.next]);
	memcpy(out, rnd.buf[rnd.next++], len);
}

static void rnd_queue(const uint8_t *buf, size_t len)
{
	cr_assert(rnd.count < 2);
	rnd.buf[rnd.count] = buf;
	rnd.len[rnd.count++] = len;
}

static void rnd_expect_drained(size_t n, const char *what)
{
	check(rnd.next == rnd.count, "set %zu: %s took %zu of %zu queued random buffers", n, what,
	      rnd.next, rnd.count);
	rnd.count = rnd.next = 0;
}

static void suite_init(void)
{
	memset(&rnd, 0, sizeof(rnd));
	checks = 0;
	crypto_random_set_hook(rnd_hook);
}

static void suite_fini(void)
{
	crypto_random_set_hook(NULL);
	cr_log_info("%zu checks over %d vector sets", checks, ORACLE_VECTOR_SETS);
}

TestSuite(oracle, .init = suite_init, .fini = suite_fini);

/* ---- helpers --------------------------------------------------------------------------- */

static const char *field_name(const struct field *f, size_t off)
{
	while (f[1].name && f[1].offset <= off)
		f++;
	return f->name;
}

static void check_bytes(const uint8_t *got, const uint8_t *want, size_t len, size_t n,
			const char *what, const struct field *fields)
{
	size_t i = 0;

	while (i < len && got[i] == want[i])
		i++;
	check(i == len,
	      "set %zu: %s differs from the oracle at byte %zu of %zu (%s): %02x, want %02x", n,
	      what, i, len, i < len ? field_name(fields, i) : "", i < len ? got[i] : 0,
	      i < len ? want[i] : 0);
}

static void flip(uint8_t *buf, size_t pos, size_t n)
{
	buf[pos] ^= (uint8_t)(1u << ((n + pos) % 8));
}

struct side {
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct noise_keypairs kps;
	struct cookie_maker maker;     /* keyed by the other side's public key */
	struct cookie_checker checker; /* keyed by our own public key */
};

struct pair {
	const struct oracle_vector *v;
	size_t n;
	struct side i, r;
};

/* Static: the keypair slots carry replay bitmaps, a few KiB. */
static struct pair pair;

static struct noise_handshake *lookup_initiator(void *ctx,
						const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct pair *p = ctx;

	if (memcmp(remote_static, p->v->initiator_public, NOISE_PUBLIC_KEY_LEN))
		return NULL;
	return &p->r.hs;
}

static struct pair *pair_init(size_t n)
{
	struct pair *p = &pair;
	const struct oracle_vector *v = &oracle_vectors[n];
	const uint8_t *psk = v->has_psk ? v->psk : NULL;

	memset(p, 0, sizeof(*p));
	p->v = v;
	p->n = n;
	noise_static_identity_set(&p->i.id, v->initiator_private);
	noise_static_identity_set(&p->r.id, v->responder_private);
	check_bytes(p->i.id.static_public, v->initiator_public, 32, n, "initiator public key",
		    key_fields);
	check_bytes(p->r.id.static_public, v->responder_public, 32, n, "responder public key",
		    key_fields);
	noise_handshake_init(&p->i.hs, &p->i.id, v->responder_public, psk);
	noise_handshake_init(&p->r.hs, &p->r.id, v->initiator_public, psk);
	cookie_maker_init(&p->i.maker, v->responder_public);
	cookie_checker_init(&p->i.checker, v->initiator_public);
	cookie_maker_init(&p->r.maker, v->initiator_public);
	cookie_checker_init(&p->r.checker, v->responder_public);
	return p;
}

static void side_clear(struct side *s)
{
	noise_keypairs_clear(&s->kps);
	noise_handshake_clear(&s->hs);
	cookie_maker_clear(&s->maker);
	cookie_checker_clear(&s->checker);
	noise_static_identity_clear(&s->id);
}

static void pair_clear(struct pair *p)
{
	side_clear(&p->i);
	side_clear(&p->r);
}

/* Our initiation for the set's ephemeral, index and time, with mac1 (and mac2 if held). */
static void initiator_create(struct pair *p, struct message_handshake_initiation *m)
{
	rnd_queue(p->v->initiator_ephemeral, NOISE_PRIVATE_KEY_LEN);
	check(noise_handshake_create_initiation(m, &p->i.hs, &p->i.id, p->v->initiator_index,
						p->v->unix_ns),
	      "set %zu: create_initiation failed", p->n);
	rnd_expect_drained(p->n, "create_initiation");
	check(p->i.hs.state == HANDSHAKE_CREATED_INITIATION, "set %zu: initiator state", p->n);
	cookie_add_mac_to_packet((uint8_t *)m, sizeof(*m), &p->i.maker, NOW_NS);
}

static struct noise_handshake *responder_consume(struct pair *p, const uint8_t *msg)
{
	struct message_handshake_initiation m;

	memcpy(&m, msg, sizeof(m));
	return noise_handshake_consume_initiation(&m, &p->r.id, lookup_initiator, p, NOW_NS);
}

static void responder_consume_oracle(struct pair *p)
{
	struct noise_handshake *hs = responder_consume(p, p->v->initiation);

	check(hs == &p->r.hs, "set %zu: the oracle's initiation was not accepted", p->n);
	check(hs->state == HANDSHAKE_CONSUMED_INITIATION, "set %zu: responder state", p->n);
	check(hs->remote_index == p->v->initiator_index, "set %zu: responder's remote_index", p->n);
}

static void responder_create(struct pair *p, struct message_handshake_response *m)
{
	rnd_queue(p->v->responder_ephemeral, NOISE_PRIVATE_KEY_LEN);
	check(noise_handshake_create_response(m, &p->r.hs, &p->r.id, p->v->responder_index),
	      "set %zu: create_response failed", p->n);
	rnd_expect_drained(p->n, "create_response");
	check(p->r.hs.state == HANDSHAKE_CREATED_RESPONSE, "set %zu: responder state", p->n);
	cookie_add_mac_to_packet((uint8_t *)m, sizeof(*m), &p->r.maker, NOW_NS);
}

static bool initiator_consume(struct pair *p, const uint8_t *msg)
{
	struct message_handshake_response m;

	memcpy(&m, msg, sizeof(m));
	return noise_handshake_consume_response(&p->i.hs, &m, &p->i.id);
}

/*
 * The whole handshake, each side fed the oracle's message rather than ours, then both
 * sessions begun.
 */
static void run_handshake(struct pair *p)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;

	initiator_create(p, &init);
	check_bytes((uint8_t *)&init, p->v->initiation, sizeof(init), p->n, "initiation",
		    initiation_fields);
	responder_consume_oracle(p);
	responder_create(p, &resp);
	check_bytes((uint8_t *)&resp, p->v->response, sizeof(resp), p->n, "response",
		    response_fields);
	check(initiator_consume(p, p->v->response), "set %zu: the oracle's response was refused",
	      p->n);
	check(noise_handshake_begin_session(&p->i.hs, &p->i.kps, NOW_NS),
	      "set %zu: initiator begin_session", p->n);
	check(noise_handshake_begin_session(&p->r.hs, &p->r.kps, NOW_NS),
	      "set %zu: responder begin_session", p->n);
}

static struct noise_keypair *keypair_of(struct side *s, uint32_t local_index, size_t n)
{
	struct noise_keypair *kp = noise_keypairs_lookup(&s->kps, local_index);

	check(kp != NULL, "set %zu: no keypair for local index %08x", n, local_index);
	check(kp->local_index == local_index, "set %zu: keypair local_index", n);
	return kp;
}

/* The cookie checker's secret comes from crypto_random when it is first needed. */
static void responder_demands_cookie(struct pair *p)
{
	const struct oracle_vector *v = p->v;
	enum cookie_mac_state st;

	rnd_queue(v->cookie_secret, sizeof(v->cookie_secret));
	st = cookie_validate_packet(&p->r.checker, v->initiation, sizeof(v->initiation), v->source,
				    v->source_len, true, NOW_NS);
	check(st == VALID_MAC_BUT_NO_COOKIE, "set %zu: initiation without mac2 gave %d", p->n, st);
}

/* ---- handshake messages ------------------------------------------------------------------ */

Test(oracle, initiation_bytes)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_initiation m;

		initiator_create(p, &m);
		check_bytes((uint8_t *)&m, p->v->initiation, sizeof(m), n, "initiation",
			    initiation_fields);
		check(p->i.hs.local_index == p->v->initiator_index, "set %zu: local_index", n);
		pair_clear(p);
	}
}

Test(oracle, initiation_accepted)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		enum cookie_mac_state st;

		st = cookie_validate_packet(&p->r.checker, p->v->initiation,
					    sizeof(p->v->initiation), p->v->source,
					    p->v->source_len, false, NOW_NS);
		check(st == VALID_MAC_BUT_NO_COOKIE, "set %zu: mac1 of the initiation: %d", n, st);
		responder_consume_oracle(p);
		check_bytes(p->r.hs.remote_ephemeral, p->v->initiation + 8, 32, n,
			    "remote ephemeral", key_fields);
		pair_clear(p);
	}
}

Test(oracle, response_bytes)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_response m;

		responder_consume_oracle(p);
		responder_create(p, &m);
		check_bytes((uint8_t *)&m, p->v->response, sizeof(m), n, "response",
			    response_fields);
		pair_clear(p);
	}
}

Test(oracle, response_accepted)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_initiation m;
		enum cookie_mac_state st;

		initiator_create(p, &m);
		st = cookie_validate_packet(&p->i.checker, p->v->response, sizeof(p->v->response),
					    p->v->source, p->v->source_len, false, NOW_NS);
		check(st == VALID_MAC_BUT_NO_COOKIE, "set %zu: mac1 of the response: %d", n, st);
		check(initiator_consume(p, p->v->response),
		      "set %zu: the oracle's response was refused", n);
		check(p->i.hs.state == HANDSHAKE_CONSUMED_RESPONSE, "set %zu: initiator state", n);
		check(p->i.hs.remote_index == p->v->responder_index,
		      "set %zu: initiator's remote_index", n);
		pair_clear(p);
	}
}

Test(oracle, transport_keys)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct noise_keypair *ki, *kr;

		run_handshake(p);
		ki = keypair_of(&p->i, p->v->initiator_index, n);
		kr = keypair_of(&p->r, p->v->responder_index, n);
		check_bytes(ki->sending.key, p->v->key_i_to_r, 32, n, "initiator sending key",
			    key_fields);
		check_bytes(ki->receiving.key, p->v->key_r_to_i, 32, n, "initiator receiving key",
			    key_fields);
		check_bytes(kr->sending.key, p->v->key_r_to_i, 32, n, "responder sending key",
			    key_fields);
		check_bytes(kr->receiving.key, p->v->key_i_to_r, 32, n, "responder receiving key",
			    key_fields);
		check(ki->remote_index == p->v->responder_index, "set %zu: initiator remote", n);
		check(kr->remote_index == p->v->initiator_index, "set %zu: responder remote", n);
		check(ki->i_am_the_initiator && !kr->i_am_the_initiator, "set %zu: roles", n);
		check(ki->sending_counter == 0 && kr->sending_counter == 0, "set %zu: counters", n);
		pair_clear(p);
	}
}

/* ---- transport data ------------------------------------------------------------------------ */

static uint8_t data_buf[2048];

/*
 * The data tests run on every path that seals and opens transport data: crypto/data.c
 * (libsodium), and wgd/aead.c's lane pinned to OpenSSL and choosing by size.
 */
enum data_path { PATH_DATA_C, PATH_LANE_OPENSSL, PATH_LANE_AUTO, DATA_PATHS };
static const char *const path_names[DATA_PATHS] = { "data.c", "lane/openssl", "lane/auto" };
static enum data_path path;
static struct aead_lane *lane;

static void lane_setup(enum data_path p)
{
	path = p;
	if (!lane)
		lane = aead_lane_new();
	cr_assert(lane, "aead_lane_new failed");
	aead_lane_force(lane, p == PATH_LANE_OPENSSL ? AEAD_OPENSSL : AEAD_AUTO);
}

static size_t path_seal(uint8_t *msg, size_t plain_len, size_t padded_len, const uint8_t *key,
			uint32_t receiver_index, uint64_t nonce)
{
	if (path == PATH_DATA_C)
		return data_seal(msg, plain_len, padded_len, key, receiver_index, nonce);
	return aead_seal(lane, msg, plain_len, padded_len, key, receiver_index, nonce);
}

static bool path_open(uint8_t *msg, size_t msg_len, const uint8_t *key, size_t *plain_len,
		      uint64_t *nonce)
{
	if (path == PATH_DATA_C)
		return data_open(msg, msg_len, key, plain_len, nonce);
	return aead_open(lane, msg, msg_len, key, plain_len, nonce);
}

static void seal_one(struct pair *p, const struct oracle_data *d, struct noise_keypair *kp)
{
	size_t padded = data_padded_len(d->payload_len, p->v->mtu);
	size_t len;

	check(message_data_len(padded) == d->packet_len,
	      "set %zu: %zu bytes pad to %zu with MTU %zu, the oracle's packet is %zu", p->n,
	      d->payload_len, padded, p->v->mtu, d->packet_len);
	cr_assert(d->packet_len <= sizeof(data_buf));
	/* Garbage after the payload: data_seal must write the zero padding itself. */
	memset(data_buf, 0xa5, sizeof(data_buf));
	memcpy(data_buf + sizeof(struct message_data), d->payload, d->payload_len);
	len = path_seal(data_buf, d->payload_len, padded, kp->sending.key, kp->remote_index,
			d->counter);
	check(len == d->packet_len, "set %zu (%s): seal returned %zu, want %zu", p->n,
	      path_names[path], len, d->packet_len);
	check_bytes(data_buf, d->packet, d->packet_len, p->n, "data packet", data_fields);
}

static bool open_one(const struct oracle_data *d, const struct noise_keypair *kp, size_t *plain_len,
		     uint64_t *nonce)
{
	memcpy(data_buf, d->packet, d->packet_len);
	return path_open(data_buf, d->packet_len, kp->receiving.key, plain_len, nonce);
}

static bool all_zero(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void check_opened(struct pair *p, size_t j, const struct noise_keypair *kp)
{
	const struct oracle_data *d = &p->v->data[j];
	const uint8_t *plain = data_buf + sizeof(struct message_data);
	size_t plain_len = SIZE_MAX;
	uint64_t nonce = 0;

	check(open_one(d, kp, &plain_len, &nonce), "set %zu (%s): data packet %zu was refused",
	      p->n, path_names[path], j);
	check(plain_len == d->packet_len - message_data_len(0), "set %zu/%zu: plain_len %zu", p->n,
	      j, plain_len);
	check(nonce == d->counter, "set %zu/%zu: counter %llu, want %llu", p->n, j,
	      (unsigned long long)nonce, (unsigned long long)d->counter);
	check(!memcmp(plain, d->payload, d->payload_len), "set %zu/%zu: payload", p->n, j);
	check(all_zero(plain + d->payload_len, plain_len - d->payload_len),
	      "set %zu/%zu: padding is not zero", p->n, j);
}

static void data_seal_bytes_on_path(void)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct noise_keypair *ki, *kr;

		run_handshake(p);
		ki = keypair_of(&p->i, p->v->initiator_index, n);
		kr = keypair_of(&p->r, p->v->responder_index, n);
		for (size_t j = 0; j < ORACLE_DATA_PER_SET; j++) {
			const struct oracle_data *d = &p->v->data[j];

			seal_one(p, d, d->from_initiator ? ki : kr);
		}
		pair_clear(p);
	}
}

Test(oracle, data_seal_bytes)
{
	for (enum data_path p = 0; p < DATA_PATHS; p++) {
		lane_setup(p);
		data_seal_bytes_on_path();
	}
}

/*
 * Receiving the initiator's first data message is the responder's key confirmation
 * (whitepaper §5.4.6): its keypair moves from "next" to "current", so look it up again.
 */
static void data_open_accepts_on_path(void)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct noise_keypair *ki, *kr;
		bool confirmed = false;

		run_handshake(p);
		ki = keypair_of(&p->i, p->v->initiator_index, n);
		for (size_t j = 0; j < ORACLE_DATA_PER_SET; j++) {
			const struct oracle_data *d = &p->v->data[j];

			kr = keypair_of(&p->r, p->v->responder_index, n);
			check_opened(p, j, d->from_initiator ? kr : ki);
			if (d->from_initiator && !confirmed) {
				check(noise_keypairs_received_with(&p->r.kps, kr),
				      "set %zu: first data did not confirm the responder's keypair",
				      n);
				confirmed = true;
			}
		}
		check(confirmed, "set %zu: no initiator data", n);
		kr = keypair_of(&p->r, p->v->responder_index, n);
		check(kr == &p->r.kps.current, "set %zu: responder keypair not current", n);
		pair_clear(p);
	}
}

Test(oracle, data_open_accepts)
{
	for (enum data_path p = 0; p < DATA_PATHS; p++) {
		lane_setup(p);
		data_open_accepts_on_path();
	}
}

/* ---- cookies (whitepaper §5.4.7) ---------------------------------------------------------- */

Test(oracle, cookie_reply_bytes)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		const struct oracle_vector *v = p->v;
		struct message_handshake_cookie m;

		responder_demands_cookie(p);
		rnd_queue(v->cookie_nonce, sizeof(v->cookie_nonce));
		cookie_message_create(&m, v->initiation, sizeof(v->initiation), v->initiator_index,
				      &p->r.checker, v->source, v->source_len, NOW_NS);
		rnd_expect_drained(n, "cookie validate + create");
		check_bytes((uint8_t *)&m, v->cookie_reply, sizeof(m), n, "cookie reply",
			    cookie_fields);
		pair_clear(p);
	}
}

/* The initiator takes the oracle's cookie and re-sends its initiation with mac2. */
Test(oracle, cookie_reply_accepted)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_initiation m;
		struct message_handshake_cookie c;

		initiator_create(p, &m);
		memcpy(&c, p->v->cookie_reply, sizeof(c));
		check(cookie_message_consume(&p->i.maker, &c, NOW_NS),
		      "set %zu: the oracle's cookie reply was refused", n);
		check(p->i.maker.is_valid, "set %zu: maker holds no cookie", n);
		cookie_add_mac_to_packet((uint8_t *)&m, sizeof(m), &p->i.maker, NOW_NS);
		check_bytes((uint8_t *)&m, p->v->initiation_mac2, sizeof(m), n,
			    "initiation with mac2", initiation_fields);
		pair_clear(p);
	}
}

Test(oracle, mac2_resend_valid)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		const struct oracle_vector *v = p->v;
		uint8_t other[sizeof(v->source)];
		enum cookie_mac_state st;

		responder_demands_cookie(p);
		rnd_expect_drained(n, "cookie validate");
		st = cookie_validate_packet(&p->r.checker, v->initiation_mac2,
					    sizeof(v->initiation_mac2), v->source, v->source_len,
					    true, NOW_NS);
		check(st == VALID_MAC_WITH_COOKIE, "set %zu: mac2 resend gave %d", n, st);
		/* The cookie is bound to the source address and port. */
		memcpy(other, v->source, sizeof(other));
		flip(other, n % v->source_len, n);
		st = cookie_validate_packet(&p->r.checker, v->initiation_mac2,
					    sizeof(v->initiation_mac2), other, v->source_len, true,
					    NOW_NS);
		check(st == VALID_MAC_BUT_NO_COOKIE, "set %zu: mac2 from another source gave %d", n,
		      st);
		pair_clear(p);
	}
}

/* ---- one flipped byte: every oracle packet must then be refused ----------------------------- */

/*
 * mac1 covers everything before it, so any flip there fails mac1. Noise itself
 * authenticates the ephemeral, static and timestamp (bytes 8..115): checked without the
 * mac layer, a third of those positions per set, rotating so all are covered. The
 * untouched packet is accepted afterwards, so the failures changed no state.
 */
Test(oracle, tampered_initiation_rejected)
{
	uint8_t buf[sizeof(oracle_vectors[0].initiation)];

	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		enum cookie_mac_state st;

		for (size_t pos = 0; pos < offsetof(struct message_handshake_initiation, macs.mac2);
		     pos++) {
			memcpy(buf, p->v->initiation, sizeof(buf));
			flip(buf, pos, n);
			st = cookie_validate_packet(&p->r.checker, buf, sizeof(buf), p->v->source,
						    p->v->source_len, false, NOW_NS);
			check(st == INVALID_MAC, "set %zu: initiation byte %zu (%s) flipped: %d", n,
			      pos, field_name(initiation_fields, pos), st);
		}
		for (size_t pos = 8 + n % 3; pos < 116; pos += 3) {
			memcpy(buf, p->v->initiation, sizeof(buf));
			flip(buf, pos, n);
			check(responder_consume(p, buf) == NULL,
			      "set %zu: initiation byte %zu (%s) flipped was accepted", n, pos,
			      field_name(initiation_fields, pos));
		}
		responder_consume_oracle(p);
		pair_clear(p);
	}
}

Test(oracle, tampered_response_rejected)
{
	uint8_t buf[sizeof(oracle_vectors[0].response)];

	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_initiation m;
		enum cookie_mac_state st;

		initiator_create(p, &m);
		for (size_t pos = 0; pos < offsetof(struct message_handshake_response, macs.mac2);
		     pos++) {
			memcpy(buf, p->v->response, sizeof(buf));
			flip(buf, pos, n);
			st = cookie_validate_packet(&p->i.checker, buf, sizeof(buf), p->v->source,
						    p->v->source_len, false, NOW_NS);
			check(st == INVALID_MAC, "set %zu: response byte %zu (%s) flipped: %d", n,
			      pos, field_name(response_fields, pos), st);
		}
		/* Noise authenticates the ephemeral and the empty payload's tag. */
		for (size_t pos = 12; pos < 60; pos++) {
			memcpy(buf, p->v->response, sizeof(buf));
			flip(buf, pos, n);
			check(!initiator_consume(p, buf),
			      "set %zu: response byte %zu (%s) flipped was accepted", n, pos,
			      field_name(response_fields, pos));
			check(p->i.hs.state == HANDSHAKE_CREATED_INITIATION,
			      "set %zu: a refused response changed the handshake", n);
		}
		check(initiator_consume(p, p->v->response), "set %zu: response refused after", n);
		pair_clear(p);
	}
}

/* The nonce and the sealed cookie are authenticated; the index only routes the reply. */
Test(oracle, tampered_cookie_rejected)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct message_handshake_initiation m;
		struct message_handshake_cookie c;

		initiator_create(p, &m);
		for (size_t pos = offsetof(struct message_handshake_cookie, nonce); pos < sizeof(c);
		     pos++) {
			memcpy(&c, p->v->cookie_reply, sizeof(c));
			flip((uint8_t *)&c, pos, n);
			check(!cookie_message_consume(&p->i.maker, &c, NOW_NS),
			      "set %zu: cookie byte %zu (%s) flipped was accepted", n, pos,
			      field_name(cookie_fields, pos));
			check(!p->i.maker.is_valid, "set %zu: a refused cookie was stored", n);
		}
		memcpy(&c, p->v->cookie_reply, sizeof(c));
		check(cookie_message_consume(&p->i.maker, &c, NOW_NS),
		      "set %zu: cookie refused after", n);
		pair_clear(p);
	}
}

/* A flip in mac1 or before it fails mac1; a flip in mac2 leaves only a bad cookie. */
Test(oracle, tampered_mac2_rejected)
{
	uint8_t buf[sizeof(oracle_vectors[0].initiation_mac2)];

	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		enum cookie_mac_state st, want;

		responder_demands_cookie(p);
		rnd_expect_drained(n, "cookie validate");
		for (size_t pos = 0; pos < sizeof(buf); pos++) {
			memcpy(buf, p->v->initiation_mac2, sizeof(buf));
			flip(buf, pos, n);
			st = cookie_validate_packet(&p->r.checker, buf, sizeof(buf), p->v->source,
						    p->v->source_len, true, NOW_NS);
			want = pos < offsetof(struct message_handshake_initiation, macs.mac2)
				       ? INVALID_MAC
				       : VALID_MAC_BUT_NO_COOKIE;
			check(st == want, "set %zu: mac2 initiation byte %zu (%s) flipped: %d", n,
			      pos, field_name(initiation_fields, pos), st);
		}
		pair_clear(p);
	}
}

/*
 * The counter is the AEAD nonce and the rest is ciphertext and tag, so bytes 8.. are all
 * authenticated. Every header byte and the whole tag, plus a stride through the body.
 */
static void tampered_data_rejected_on_path(void)
{
	for (size_t n = 0; n < ORACLE_VECTOR_SETS; n++) {
		struct pair *p = pair_init(n);
		struct noise_keypair *ki, *kr;

		run_handshake(p);
		ki = keypair_of(&p->i, p->v->initiator_index, n);
		kr = keypair_of(&p->r, p->v->responder_index, n);
		for (size_t j = 0; j < ORACLE_DATA_PER_SET; j++) {
			const struct oracle_data *d = &p->v->data[j];
			const struct noise_keypair *kp = d->from_initiator ? kr : ki;
			size_t len = d->packet_len, plain_len;
			uint64_t nonce;

			for (size_t pos = 8; pos < len;
			     pos += (pos < 32 || pos >= len - 16) ? 1 : 37) {
				memcpy(data_buf, d->packet, len);
				flip(data_buf, pos, n);
				check(!path_open(data_buf, len, kp->receiving.key, &plain_len,
						 &nonce),
				      "set %zu/%zu (%s): data byte %zu of %zu flipped was accepted",
				      n, j, path_names[path], pos, len);
			}
			memcpy(data_buf, d->packet, len);
			check(!path_open(data_buf, len - 1, kp->receiving.key, &plain_len, &nonce),
			      "set %zu/%zu: truncated data accepted", n, j);
			check_opened(p, j, kp);
		}
		pair_clear(p);
	}
}

Test(oracle, tampered_data_rejected)
{
	for (enum data_path p = 0; p < DATA_PATHS; p++) {
		lane_setup(p);
		tampered_data_rejected_on_path();
	}
}

_Static_assert(sizeof(oracle_vectors[0].initiation) == sizeof(struct message_handshake_initiation),
	       "oracle initiation size");
_Static_assert(sizeof(oracle_vectors[0].response) == sizeof(struct message_handshake_response),
	       "oracle response size");
_Static_assert(sizeof(oracle_vectors[0].cookie_reply) == sizeof(struct message_handshake_cookie),
	       "oracle cookie reply size");
_Static_assert(sizeof(oracle_vectors[0].cookie_nonce) == COOKIE_NONCE_LEN, "oracle nonce size");
_Static_assert(sizeof(oracle_vectors[0].cookie_secret) == NOISE_HASH_LEN, "oracle secret size");
