/* SPDX-License-Identifier: MIT */
/*
 * ctgrind: checks that no branch and no memory address in crypto/ depends on a secret,
 * with Adam Langley's technique ("Checking that functions are constant time with
 * Valgrind", 2010): secret bytes are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED,
 * so memcheck reports "Conditional jump or move depends on uninitialised value(s)" at a
 * secret-dependent branch and "Use of uninitialised value of size N" at a
 * secret-dependent address. Run it under valgrind with tests/ct/ctgrind.sh; outside
 * valgrind the client requests are no-ops and it only checks that everything works.
 *
 *   ctgrind                  runs every section below, exits 0 when they all work
 *   ctgrind --selftest-leak  branches on and indexes by a secret on purpose: valgrind
 *                            must flag it, or a clean run proves nothing
 *
 * Secret: static private keys, ephemeral private keys (from the crypto_random hook),
 * the PSK, every derived chaining key, hash and transport key, data plaintext before
 * sealing, the cookie secret, the cookie, and the private key in text form.
 *
 * Declassified (VALGRIND_MAKE_MEM_DEFINED), each because the protocol publishes it.
 * At the libsodium boundary, by valgrind function wrappers (they run only under
 * valgrind), because our code branches on these results by design:
 *   L1 the verdict of an AEAD open (crypto_aead_{,x}chacha20poly1305_ietf_decrypt): a
 *      peer sees whether its packet was accepted;
 *   L2 the plaintext of a ChaCha20-Poly1305 open that authenticated: in WireGuard it
 *      is the initiator's static public key, the TAI64N timestamp (compared with
 *      memcmp, as the kernel does), or a data packet the routing code reads (whose
 *      source address the kernel checks against allowed IPs). The XChaCha20 open of a
 *      cookie reply is not covered: the cookie stays secret;
 *   L3 the verdict of crypto_scalarmult: an all-zero (low-order) result aborts the
 *      handshake, visibly;
 *   L4 the verdicts of sodium_is_zero and sodium_memcmp: every caller in crypto/ and
 *      wgd/ branches on them as public state (mac1/mac2 valid, DH output zero, a key
 *      or PSK configured or not, same key or not). The comparison itself stays
 *      constant-time; only its one-bit answer is released.
 * At the OpenSSL boundary (wgd/aead.c's lane, pinned to OpenSSL for every size):
 *   L1 for EVP: the verdicts of CRYPTO_memcmp (OpenSSL's constant-time tag comparison)
 *      and EVP_DecryptFinal_ex, the same tag verdict as libsodium's; CRYPTO_memcmp is
 *      also the lane's same-key test (it re-keys only when the key changed, which the
 *      public receiver index already tells), as L4;
 *   L2 for EVP: the payload of an aead_open that authenticated, at the call site
 *      (EVP has no one call that returns it).
 * Here, at the call site:
 *   D1 a public key derived from a private one (noise_static_identity_set): it is sent;
 *   D2 every byte of a message once it is put on the wire: the attacker sees it;
 *   D3 whether a key text decodes (key_from_base64/hex): the config parser reports it;
 *   T  test verdicts only (did the handshake work, do two buffers match): one bit each,
 *      computed without branches (sodium_memcmp), then declassified to be checked.
 * Nothing else is declassified; tests/ct/README.md explains how to read a report. The
 * replay window needs nothing: the counter comes from the (public) header.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
/* Debian's valgrind package ships the headers; without them this builds and runs unchecked. */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#else
#define HAVE_VALGRIND			    0
#define RUNNING_ON_VALGRIND		    0
#define VALGRIND_MAKE_MEM_UNDEFINED(p, len) ((void)(p), (void)(len), 0)
#define VALGRIND_MAKE_MEM_DEFINED(p, len)   ((void)(p), (void)(len), 0)
#define VALGRIND_GET_VBITS(p, vbits, len)   ((void)(p), (void)(vbits), (void)(len), 0U)
#endif

#include "crypto/blake2s.h"
#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/kdf.h"
#include "crypto/key.h"
#include "crypto/messages.h"
#include "crypto/noise.h"
#include "crypto/random.h"
#include "crypto/replay.h"
#include "wgd/aead.h"

enum ctgrind_values {
	MTU = 1420,
	HANDSHAKE_ROUNDS = 3,
	BUF_LEN = message_data_len(MTU + MESSAGE_PADDING_MULTIPLE),
	T0_NS = 1000 * NSEC_PER_SEC, /* CLOCK_BOOTTIME of the first handshake */
};

#define UNIX_T0_NS (1700000000ULL * NSEC_PER_SEC)

static unsigned int checks, failures;

/* Marks len bytes at p secret: memcheck now flags any branch or address computed from them. */
static void secret(const void *p, size_t len)
{
	(void)VALGRIND_MAKE_MEM_UNDEFINED(p, len);
}

/* The only way back: every caller names which of D1-D4 or T (top of file) applies. */
static void declassify(const void *p, size_t len)
{
	(void)VALGRIND_MAKE_MEM_DEFINED(p, len);
}

/*
 * How many of the len bytes at p carry an undefined (secret) bit, or -1 outside
 * valgrind. Checks that marks survive our code (a lost mark would make a clean run
 * vacuous) and that a release happened where it should.
 */
static long secret_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t vbits[64];
	long n = 0;
	size_t i, chunk;

	if (!RUNNING_ON_VALGRIND)
		return -1;
	for (; len; b += chunk, len -= chunk) {
		chunk = len < sizeof(vbits) ? len : sizeof(vbits);
		if (VALGRIND_GET_VBITS(b, vbits, chunk) != 1)
			return 0;
		for (i = 0; i < chunk; i++)
			n += vbits[i] != 0;
	}
	return n;
}

static bool still_secret(const void *p, size_t len)
{
	long n = secret_bytes(p, len);

	return n < 0 || (size_t)n == len;
}

static bool is_public(const void *p, size_t len)
{
	return secret_bytes(p, len) <= 0;
}

/* T: a verdict is one bit, computed branch-free from secrets, then made public. */
static void expect(bool ok, const char *what)
{
	declassify(&ok, sizeof(ok));
	checks++;
	if (!ok) {
		failures++;
		fprintf(stderr, "ctgrind: FAILED: %s\n", what);
	}
}

static bool same(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

/* The crypto_random hook: everything crypto/ draws (ephemerals, cookie secret) is secret. */
static void random_secret(void *buf, size_t len)
{
	randombytes_buf(buf, len);
	secret(buf, len);
}

/*
 * ---- the libsodium boundary: L1-L4 ----
 *
 * Valgrind function wrappers (valgrind.h, "Function Wrapping"): valgrind redirects
 * every call of the named libsodium.so export here, we call the original and
 * declassify only its public outcome. Outside valgrind these are dead code.
 */
#if HAVE_VALGRIND
#define SODIUM_WRAP(fn) I_WRAP_SONAME_FNNAME_ZU(libsodiumZdsoZa, fn)

int SODIUM_WRAP(crypto_aead_chacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec, const unsigned char *c,
	unsigned long long clen, const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k);
int SODIUM_WRAP(crypto_aead_xchacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec, const unsigned char *c,
	unsigned long long clen, const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k);
int SODIUM_WRAP(crypto_scalarmult)(unsigned char *q, const unsigned char *n,
				   const unsigned char *p);
int SODIUM_WRAP(sodium_is_zero)(const unsigned char *n, const size_t nlen);
int SODIUM_WRAP(sodium_memcmp)(const void *b1, const void *b2, size_t len);

int SODIUM_WRAP(crypto_aead_chacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec, const unsigned char *c,
	unsigned long long clen, const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_9W(ret, fn, m, mlen_p, nsec, c, clen, ad, adlen, npub, k);
	declassify(&ret, sizeof(ret)); /* L1 */
	if (ret == 0 && m && clen > crypto_aead_chacha20poly1305_IETF_ABYTES)
		declassify(m, clen - crypto_aead_chacha20poly1305_IETF_ABYTES); /* L2 */
	return ret;
}

int SODIUM_WRAP(crypto_aead_xchacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec, const unsigned char *c,
	unsigned long long clen, const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_9W(ret, fn, m, mlen_p, nsec, c, clen, ad, adlen, npub, k);
	declassify(&ret, sizeof(ret)); /* L1 only: the plaintext is a cookie, still secret */
	return ret;
}

int SODIUM_WRAP(crypto_scalarmult)(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, q, n, p);
	declassify(&ret, sizeof(ret)); /* L3 */
	return ret;
}

int SODIUM_WRAP(sodium_is_zero)(const unsigned char *n, const size_t nlen)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WW(ret, fn, n, nlen);
	declassify(&ret, sizeof(ret)); /* L4 */
	return ret;
}

int SODIUM_WRAP(sodium_memcmp)(const void *b1, const void *b2, size_t len)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, b1, b2, len);
	declassify(&ret, sizeof(ret)); /* L4 */
	return ret;
}

#define CRYPTO_WRAP(fn) I_WRAP_SONAME_FNNAME_ZU(libcryptoZdsoZa, fn)

int CRYPTO_WRAP(CRYPTO_memcmp)(const void *a, const void *b, size_t len);
int CRYPTO_WRAP(EVP_DecryptFinal_ex)(void *ctx, unsigned char *out, int *outl);

int CRYPTO_WRAP(CRYPTO_memcmp)(const void *a, const void *b, size_t len)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, a, b, len);
	declassify(&ret, sizeof(ret)); /* L1 for EVP (tag), L4 (the lane's same key) */
	return ret;
}

int CRYPTO_WRAP(EVP_DecryptFinal_ex)(void *ctx, unsigned char *out, int *outl)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, ctx, out, outl);
	declassify(&ret, sizeof(ret)); /* L1 for EVP */
	return ret;
}
#endif

/* ---- (1) the handshake ---- */

struct party {
	struct noise_static_identity id;
	struct noise_handshake hs; /* with the other party */
	struct noise_keypairs kps;
	struct cookie_checker checker;
	struct cookie_maker maker;
};

static struct noise_handshake *lookup(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct party *p = ctx;

	/* Public (L2): decrypt_and_hash authenticated it before calling us. */
	return key_equal(remote_static, p->hs.remote_static) ? &p->hs : NULL;
}

static void party_init(struct party *p)
{
	uint8_t private_key[NOISE_PRIVATE_KEY_LEN];

	memset(p, 0, sizeof(*p));
	randombytes_buf(private_key, sizeof(private_key));
	secret(private_key, sizeof(private_key));
	noise_static_identity_set(&p->id, private_key);
	wipe(private_key, sizeof(private_key));
	/* D1: the public key is the one half meant to be published. */
	declassify(p->id.static_public, sizeof(p->id.static_public));
	expect(p->id.has_identity, "identity from a secret private key");
	expect(still_secret(p->id.static_private, NOISE_PRIVATE_KEY_LEN),
	       "private key stays secret");
	cookie_checker_init(&p->checker, p->id.static_public);
}

/* Both sides configure each other, with one shared secret PSK. */
static void parties_pair(struct party *a, struct party *b)
{
	uint8_t psk[NOISE_SYMMETRIC_KEY_LEN];

	randombytes_buf(psk, sizeof(psk));
	secret(psk, sizeof(psk));
	noise_handshake_init(&a->hs, &a->id, b->id.static_public, psk);
	noise_handshake_init(&b->hs, &b->id, a->id.static_public, psk);
	cookie_maker_init(&a->maker, b->id.static_public);
	cookie_maker_init(&b->maker, a->id.static_public);
	wipe(psk, sizeof(psk));
}

/* mac1 as the daemon adds and checks it, then D2 as the message leaves. */
static bool send_handshake(uint8_t *msg, size_t len, struct party *from, struct party *to,
			   uint64_t now)
{
	cookie_add_mac_to_packet(msg, len, &from->maker, now);
	declassify(msg, len); /* D2 */
	return cookie_validate_packet(&to->checker, msg, len, NULL, 0, false, now) ==
	       VALID_MAC_BUT_NO_COOKIE;
}

/* a initiates, b responds; both begin the session. */
static bool handshake(struct party *a, struct party *b, uint32_t round, uint64_t now)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	uint64_t unix_ns = UNIX_T0_NS + now;

	if (!noise_handshake_create_initiation(&init, &a->hs, &a->id, 2 * round + 1, unix_ns))
		return false;
	/* The ephemeral came through the hook, and the state derived from it stays marked. */
	expect(still_secret(a->hs.ephemeral_private, NOISE_PRIVATE_KEY_LEN) &&
		       still_secret(a->hs.chaining_key, NOISE_HASH_LEN) &&
		       still_secret(a->hs.preshared_key, NOISE_SYMMETRIC_KEY_LEN),
	       "handshake state stays secret");
	if (!send_handshake((uint8_t *)&init, sizeof(init), a, b, now) ||
	    noise_handshake_consume_initiation(&init, &b->id, lookup, b, now) != &b->hs)
		return false;
	if (!noise_handshake_create_response(&resp, &b->hs, &b->id, 2 * round + 2) ||
	    !send_handshake((uint8_t *)&resp, sizeof(resp), b, a, now) ||
	    !noise_handshake_consume_response(&a->hs, &resp, &a->id))
		return false;
	return noise_handshake_begin_session(&a->hs, &a->kps, now) &&
	       noise_handshake_begin_session(&b->hs, &b->kps, now);
}

/* ---- (2) data packets ---- */

/* NULL: crypto/data.c (libsodium); else wgd/aead.c's lane, pinned to OpenSSL. */
static struct aead_lane *lane;

static size_t seal(uint8_t *msg, size_t len, size_t padded, const struct noise_keypair *kp,
		   uint64_t nonce)
{
	if (!lane)
		return data_seal(msg, len, padded, kp->sending.key, kp->remote_index, nonce);
	return aead_seal(lane, msg, len, padded, kp->sending.key, kp->remote_index, nonce);
}

static bool open_msg(uint8_t *msg, size_t n, const struct noise_keypair *kp, size_t *plain_len,
		     uint64_t *counter)
{
	if (!lane)
		return data_open(msg, n, kp->receiving.key, plain_len, counter);
	if (!aead_open(lane, msg, n, kp->receiving.key, plain_len, counter))
		return false;
	declassify(msg + sizeof(struct message_data), *plain_len); /* L2 for EVP */
	return true;
}

/*
 * from seals len bytes of secret plaintext under its current keypair; to finds its
 * keypair by the receiver index, opens, applies the replay window (twice: the copy is
 * refused) and confirms the keypair as the daemon does.
 */
static void data_roundtrip(struct party *from, struct party *to, size_t len, uint64_t now)
{
	uint8_t buf[BUF_LEN], plain[MTU];
	uint8_t *payload = buf + sizeof(struct message_data);
	struct noise_keypair *tx = &from->kps.current, *rx;
	size_t padded = data_padded_len(len, MTU), n, plain_len = 0;
	uint64_t nonce, counter = 0;
	bool ok;

	randombytes_buf(plain, len);
	secret(plain, len);
	memcpy(payload, plain, len);
	ok = data_keypair_next_nonce(tx, now, &nonce);
	expect(ok, "send counter");
	if (!ok)
		return;
	n = seal(buf, len, padded, tx, nonce);
	declassify(buf, n); /* D2 */

	rx = noise_keypairs_lookup(&to->kps, le32toh(((struct message_data *)buf)->key_idx));
	ok = rx && data_keypair_can_receive(rx, now) && open_msg(buf, n, rx, &plain_len, &counter);
	expect(ok, "data opens");
	if (!ok)
		return;
	/* The replay window works on the header's counter: public (D2), nothing to declassify. */
	expect(replay_counter_validate(&rx->receiving_counter, counter), "fresh counter accepted");
	expect(!replay_counter_validate(&rx->receiving_counter, counter), "replay refused");
	expect(plain_len == padded && same(payload, plain, len), "plaintext round trip");
	/* The payload is public now (L2), as the routing code is about to read its header. */
	expect(is_public(payload, plain_len), "authenticated payload released");
	noise_keypairs_received_with(&to->kps, rx);
	wipe(plain, sizeof(plain));
}

/* A flipped ciphertext bit must fail the tag check (the public outcome of Poly1305). */
static void data_forgery(struct party *from, struct party *to, uint64_t now)
{
	uint8_t buf[BUF_LEN];
	struct noise_keypair *tx = &from->kps.current, *rx;
	size_t n, plain_len;
	uint64_t nonce, counter;

	memset(buf, 0, sizeof(buf));
	secret(buf + sizeof(struct message_data), 16);
	if (!data_keypair_next_nonce(tx, now, &nonce))
		return;
	n = seal(buf, 16, 16, tx, nonce);
	declassify(buf, n); /* D2 */
	buf[sizeof(struct message_data)] ^= 1;
	rx = noise_keypairs_lookup(&to->kps, tx->remote_index);
	expect(rx && !open_msg(buf, n, rx, &plain_len, &counter), "forgery refused");
}

static void section_handshake(struct party *a, struct party *b)
{
	static const size_t sizes[] = { 0, 1, 16, MTU };
	static const uint8_t zero_key[NOISE_SYMMETRIC_KEY_LEN];
	struct aead_lane *ossl_lane = aead_lane_new();
	uint32_t round;
	size_t i;

	expect(ossl_lane != NULL, "an AEAD lane");
	if (!ossl_lane)
		return;
	aead_lane_force(ossl_lane, AEAD_OPENSSL);

	for (round = 0; round < HANDSHAKE_ROUNDS; round++) {
		uint64_t now = T0_NS + round * 10 * NSEC_PER_SEC;
		/* The initiator alternates, so both sides run both halves. */
		struct party *ini = round % 2 ? b : a, *resp = round % 2 ? a : b;
		bool ok = handshake(ini, resp, round, now);

		expect(ok, "handshake completes");
		if (!ok)
			return;
		expect(still_secret(ini->kps.current.sending.key, NOISE_SYMMETRIC_KEY_LEN),
		       "transport key stays secret");
		expect(same(ini->kps.current.sending.key, resp->kps.next.receiving.key,
			    NOISE_SYMMETRIC_KEY_LEN),
		       "transport keys agree");
		/*
		 * The first packet also confirms the responder's keypair (next -> current).
		 * Odd rounds go through the OpenSSL lane, which is forgotten at the end, as the
		 * loop forgets it after each burst.
		 */
		lane = round % 2 ? ossl_lane : NULL;
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			data_roundtrip(ini, resp, sizes[i], now);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			data_roundtrip(resp, ini, sizes[i], now);
		data_forgery(ini, resp, now);
		if (lane) {
			aead_lane_forget(lane);
			expect(same(aead_lane_key_for_test(lane, true), zero_key, sizeof(zero_key)),
			       "the lane forgot its key");
		}
	}
	lane = NULL;
	aead_lane_free(ossl_lane);
	printf("handshake: %d rounds of Noise_IKpsk2 with mac1 (initiator alternating), "
	       "secret static, ephemeral and preshared keys\n",
	       HANDSHAKE_ROUNDS);
	printf("data: 0, 1, 16 and %d bytes both ways per round, replay window, forgery refused;"
	       " odd rounds through wgd/aead.c's OpenSSL lane\n",
	       MTU);
}

/* ---- (3) cookies: mac2 under load, the cookie reply ---- */

/* A fresh initiation from a to b with mac1 (and mac2 once a holds a cookie), on the wire. */
static void initiation_with_macs(struct message_handshake_initiation *init, struct party *a,
				 uint64_t now)
{
	expect(noise_handshake_create_initiation(init, &a->hs, &a->id, 0x1000, UNIX_T0_NS + now),
	       "initiation for the cookie round");
	cookie_add_mac_to_packet((uint8_t *)init, sizeof(*init), &a->maker, now);
	declassify(init, sizeof(*init)); /* D2 */
}

static void section_cookie(struct party *a, struct party *b, uint64_t now)
{
	static const uint8_t src[18] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1, 0xca, 0x6c };
	struct message_handshake_initiation init;
	struct message_handshake_cookie reply;
	uint8_t *msg = (uint8_t *)&init;

	initiation_with_macs(&init, a, now);
	/* b is under load: it checks mac2 and draws a (secret) cookie secret. */
	expect(cookie_validate_packet(&b->checker, msg, sizeof(init), src, sizeof(src), true,
				      now) == VALID_MAC_BUT_NO_COOKIE,
	       "no cookie yet");
	expect(still_secret(b->checker.secret, sizeof(b->checker.secret)),
	       "cookie secret stays secret");
	cookie_message_create(&reply, msg, sizeof(init), 0x1000, &b->checker, src, sizeof(src),
			      now);
	declassify(&reply, sizeof(reply)); /* D2 */
	/*
	 * The reply key is HASH("cookie--" || b's public key), so it is not secret; it is
	 * marked anyway to check the XChaCha20-Poly1305 open with a secret key.
	 */
	secret(a->maker.cookie_decryption_key, sizeof(a->maker.cookie_decryption_key));
	expect(cookie_message_consume(&a->maker, &reply, now), "cookie reply opens");
	expect(still_secret(a->maker.cookie, COOKIE_LEN), "cookie stays secret");

	initiation_with_macs(&init, a, now + NSEC_PER_SEC);
	expect(cookie_validate_packet(&b->checker, msg, sizeof(init), src, sizeof(src), true,
				      now + NSEC_PER_SEC) == VALID_MAC_WITH_COOKIE,
	       "mac2 with the cookie");
	cookie_message_create(&reply, msg, sizeof(init), 0x1000, &b->checker, src, sizeof(src),
			      now + NSEC_PER_SEC);
	declassify(&reply, sizeof(reply)); /* D2 */
	reply.encrypted_cookie[0] ^= 1;
	expect(!cookie_message_consume(&a->maker, &reply, now), "forged cookie reply refused");
	noise_handshake_clear(&a->hs);
	printf("cookie: mac1/mac2 made and checked with a secret cookie secret, "
	       "reply sealed and opened, forgery refused\n");
}

/* ---- (4) key text codecs and comparisons ---- */

static void section_keys(void)
{
	uint8_t key[KEY_LEN], back[KEY_LEN], zero[KEY_LEN] = { 0 };
	char b64[KEY_B64_LEN + 1], hex[KEY_HEX_LEN + 1];
	bool ok;

	randombytes_buf(key, sizeof(key));
	secret(key, sizeof(key));
	key_clamp(key);
	key_to_base64(b64, key);
	expect(still_secret(b64, KEY_B64_LEN - 1), "base64 text stays secret");
	ok = key_from_base64_len(back, b64, KEY_B64_LEN);
	declassify(&ok, sizeof(ok)); /* D3: whether a key text parses is public */
	expect(ok && same(back, key, KEY_LEN), "base64 round trip");
	key_to_hex(hex, key);
	expect(still_secret(hex, KEY_HEX_LEN / 2), "hex text stays secret");
	ok = key_from_hex_len(back, hex, KEY_HEX_LEN);
	declassify(&ok, sizeof(ok)); /* D3 */
	expect(ok && same(back, key, KEY_LEN), "hex round trip");
	expect(key_equal(key, back), "key_equal on equal keys");
	back[KEY_LEN - 1] ^= 0x80;
	expect(!key_equal(key, back), "key_equal on different keys");
	expect(!key_is_zero(key), "key_is_zero on a key");

	/* A bad character at a secret position is refused without a secret branch. */
	b64[7] = '*';
	secret(b64 + 7, 1);
	ok = key_from_base64_len(back, b64, KEY_B64_LEN);
	declassify(&ok, sizeof(ok)); /* D3 */
	expect(!ok && same(back, zero, KEY_LEN), "bad base64 refused and zeroed");
	hex[9] = 'g';
	secret(hex + 9, 1);
	ok = key_from_hex_len(back, hex, KEY_HEX_LEN);
	declassify(&ok, sizeof(ok)); /* D3 */
	expect(!ok && same(back, zero, KEY_LEN), "bad hex refused and zeroed");
	wipe(key, sizeof(key));
	wipe(b64, sizeof(b64));
	wipe(hex, sizeof(hex));
	printf("keys: base64 and hex encode/decode of a secret key (valid and invalid), "
	       "key_equal, key_is_zero, key_clamp\n");
}

/* ---- (5) BLAKE2s, HMAC, KDF ---- */

static void section_primitives(void)
{
	/* Lengths are public; these cross every block boundary case. */
	static const size_t lens[] = { 0, 1, 31, 32, 63, 64, 65, 128, 200 };
	uint8_t in[200], key[100], out[BLAKE2S_HASH_LEN], out2[BLAKE2S_HASH_LEN];
	uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];
	struct blake2s_state state;
	size_t i, len;

	randombytes_buf(in, sizeof(in));
	randombytes_buf(key, sizeof(key));
	secret(in, sizeof(in));
	secret(key, sizeof(key));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		len = lens[i];
		blake2s(out, BLAKE2S_HASH_LEN, in, len, NULL, 0);
		blake2s(out, COOKIE_MAC_LEN, in, len, key, BLAKE2S_KEY_LEN);
		blake2s(out, BLAKE2S_HASH_LEN, in, len, key, BLAKE2S_KEY_LEN);
		blake2s_init_key(&state, BLAKE2S_HASH_LEN, key, BLAKE2S_KEY_LEN);
		blake2s_update(&state, in, len / 2);
		blake2s_update(&state, in + len / 2, len - len / 2);
		blake2s_final(&state, out2);
		expect(same(out, out2, BLAKE2S_HASH_LEN), "streaming BLAKE2s matches one-shot");
		expect(still_secret(out, BLAKE2S_HASH_LEN), "hash of a secret stays secret");
		blake2s_hmac(out, in, len, key, BLAKE2S_KEY_LEN);
		blake2s_hmac(out2, in, len, key, sizeof(key)); /* longer than a block: hashed */
		expect(still_secret(out2, BLAKE2S_HASH_LEN), "HMAC of a secret stays secret");
		kdf(t1, NULL, NULL, key, in, len);
		kdf(t1, t2, NULL, key, in, len);
		kdf(t1, t2, t3, key, in, len);
		expect(still_secret(t3, NOISE_HASH_LEN), "KDF output stays secret");
	}
	wipe(in, sizeof(in));
	wipe(key, sizeof(key));
	printf("primitives: BLAKE2s (plain, keyed, streaming), HMAC-BLAKE2s, KDF1/2/3 "
	       "on secret input and key, %zu lengths 0..200\n",
	       sizeof(lens) / sizeof(lens[0]));
}

/* ---- the self-check ---- */

static volatile uint8_t leak_table[256];
static volatile unsigned int leak_sink;

/*
 * A deliberate leak through our own code: a branch on and an address from bytes that
 * kdf() derived from a secret. tests/ct/ctgrind.sh requires valgrind to flag both.
 */
static int selftest_leak(void)
{
	uint8_t s[NOISE_HASH_LEN], t[NOISE_HASH_LEN];

	randombytes_buf(s, sizeof(s));
	secret(s, sizeof(s));
	kdf(t, NULL, NULL, s, NULL, 0);
	if (t[0] & 1) /* selftest-leak: secret-dependent branch */
		leak_sink++;
	leak_sink += leak_table[t[1]]; /* selftest-leak: secret-dependent address */
	wipe(s, sizeof(s));
	wipe(t, sizeof(t));
	printf("selftest-leak: branched on and indexed by a secret (valgrind must flag both)\n");
	return 0;
}

int main(int argc, char *argv[])
{
	struct party a, b;

	if (sodium_init() < 0) {
		fprintf(stderr, "ctgrind: cannot initialise libsodium\n");
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "--selftest-leak"))
		return selftest_leak();
	if (argc != 1) {
		fprintf(stderr, "usage: ctgrind [--selftest-leak]\n");
		return 2;
	}
	if (!RUNNING_ON_VALGRIND)
		printf("ctgrind: not under valgrind, secrets are not tracked "
		       "(run tests/ct/ctgrind.sh)\n");
	crypto_random_set_hook(random_secret);

	section_primitives();
	section_keys();
	party_init(&a);
	party_init(&b);
	parties_pair(&a, &b);
	section_handshake(&a, &b);
	section_cookie(&a, &b, T0_NS + HANDSHAKE_ROUNDS * 10 * NSEC_PER_SEC);

	noise_static_identity_clear(&a.id);
	noise_static_identity_clear(&b.id);
	wipe(&a, sizeof(a));
	wipe(&b, sizeof(b));
	printf("ctgrind: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
