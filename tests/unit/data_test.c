/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of crypto/data.c: the padding rule, the wire header, the nonce
 * layout (pinned by RFC 8439 §2.8.2 and a Python-computed seal), open's length
 * checks, and the keypair age and counter limits.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sodium.h>

#include "crypto/data.c"

#define MEM(p, n) ((struct cr_mem){ .data = (p), .size = (n) })
#define HDR	  sizeof(struct message_data)

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(data, .init = setup);

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len = 0;

	cr_assert(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) == 0);
	return len;
}

/*
 * Expected values worked by hand from the kernel's calculate_skb_padding
 * (drivers/net/wireguard/send.c): pad to 16, never past the MTU; a packet longer
 * than the MTU pads only its last MTU-sized unit; MTU 0 pads without a cap.
 */
static const struct {
	size_t plain, mtu, padded;
} padding_cases[] = {
	{ 0, 1420, 0 }, /* keepalive: no padding */
	{ 1, 1420, 16 },      { 15, 1420, 16 },	    { 16, 1420, 16 },	  { 17, 1420, 32 },
	{ 84, 1420, 96 }, /* 84-byte ping: 128-byte data message (PROTOCOL.md c.7) */
	{ 1404, 1420, 1408 }, { 1408, 1420, 1408 }, { 1409, 1420, 1420 }, /* 1424 would pass the MTU
									   */
	{ 1419, 1420, 1420 }, { 1420, 1420, 1420 }, { 1421, 1420, 1436 }, /* last unit 1 byte,
									     padded to 16 */
	{ 1500, 1420, 1500 }, /* last unit 80 bytes, already aligned */
	{ 2840, 1420, 2840 }, /* exactly two units */
	{ 1297, 1300, 1300 }, /* netns.sh route-MTU case: ping -s 1269 */
	{ 5, 10, 10 },	      { 10, 10, 10 },	    { 11, 10, 20 },	  { 0, 0, 0 },
	{ 1, 0, 16 },	      { 1500, 0, 1504 },    { 65535, 0, 65536 },
};

Test(data, padding_table)
{
	for (size_t i = 0; i < sizeof(padding_cases) / sizeof(padding_cases[0]); i++)
		cr_assert(eq(sz, data_padded_len(padding_cases[i].plain, padding_cases[i].mtu),
			     padding_cases[i].padded),
			  "case %zu (len %zu, mtu %zu)", i + 1, padding_cases[i].plain,
			  padding_cases[i].mtu);
}

Test(data, header_bytes)
{
	static const uint8_t want[HDR] = { 0x04, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
					   0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
	uint8_t buf[HDR + 16] = { 0 }, key[32] = { 1 };

	cr_assert(eq(sz, data_seal(buf, 0, 0, key, 0x04030201, 0x1817161514131211ULL), 32));
	cr_assert(eq(mem, MEM(buf, HDR), MEM(want, HDR)));
}

/* RFC 8439 §2.8.2 "Ladies and Gentlemen..." with its 7-byte-constant nonce. */
static const char rfc_key[] = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char rfc_plain[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				"only one tip for the future, sunscreen would be it.";

Test(data, rfc8439_aead_vector)
{
	static const char want_hex[] =
		"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		"3ff4def08e4b7a9de576d26586cec64b6116"
		"1ae10b594f09e26a7e902ecbd0600691";
	uint8_t key[32], nonce[12], aad[12], want[256], got[256];
	unsigned long long got_len;
	size_t plen = strlen(rfc_plain), wlen;

	unhex(key, sizeof(key), rfc_key);
	unhex(nonce, sizeof(nonce), "070000004041424344454647");
	unhex(aad, sizeof(aad), "50515253c0c1c2c3c4c5c6c7");
	wlen = unhex(want, sizeof(want), want_hex);
	cr_assert(eq(sz, wlen, plen + 16));
	crypto_aead_chacha20poly1305_ietf_encrypt(got, &got_len, (const uint8_t *)rfc_plain, plen,
						  aad, sizeof(aad), NULL, nonce, key);
	cr_assert(eq(u64, got_len, wlen));
	cr_assert(eq(mem, MEM(got, wlen), MEM(want, wlen)));
}

/*
 * The same key and plaintext sealed by data_seal with counter 0x4746454443424140,
 * whose little-endian bytes are the RFC's IV. Expected bytes from
 *   ChaCha20Poly1305(key).encrypt(bytes(4) + bytes.fromhex("4041424344454647"), pt, None)
 * (/usr/bin/python3, python3-cryptography): 32 zero bits then LE64(counter), no AD.
 */
Test(data, nonce_layout)
{
	static const char want_hex[] =
		"a479cb54628946d6f4042a8e384ef4bd2fbc7330b8be55eb2d8dc18aaa51d66a"
		"8ec1f8d3619a258db0ac56956015b7b4937e9b8e6aa957b3dc0214d803d77660"
		"aabc913092971da8f207171ce7843608162e2e759d8efc25d8d0936990af63c8"
		"20ba87e8a955b5c8274ef7d10f6fafd04647fa6775577a1a250dcc2df37e95e4"
		"6c4a";
	uint8_t key[32], want[256], buf[HDR + 256], n[12], want_nonce[12];
	size_t plen = strlen(rfc_plain), wlen, got_len;
	uint64_t got_nonce;

	unhex(key, sizeof(key), rfc_key);
	wlen = unhex(want, sizeof(want), want_hex);
	nonce_from_counter(n, 0x4746454443424140ULL);
	unhex(want_nonce, sizeof(want_nonce), "000000004041424344454647");
	cr_assert(eq(u8[12], n, want_nonce));

	memcpy(buf + HDR, rfc_plain, plen);
	cr_assert(eq(sz, data_seal(buf, plen, plen, key, 7, 0x4746454443424140ULL), HDR + wlen));
	cr_assert(eq(mem, MEM(buf + HDR, wlen), MEM(want, wlen)));
	cr_assert(data_open(buf, HDR + wlen, key, &got_len, &got_nonce));
	cr_assert(eq(sz, got_len, plen));
	cr_assert(eq(u64, got_nonce, 0x4746454443424140ULL));
	cr_assert(eq(mem, MEM(buf + HDR, plen), MEM(rfc_plain, plen)));
}

Test(data, seal_open_round_trip_with_padding)
{
	uint8_t key[32], buf[HDR + 1500 + 16];

	for (size_t k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)(0x30 + k);
	for (size_t len = 0; len <= 1500; len += 37) {
		size_t padded = data_padded_len(len, 1420), got_len, msg_len;
		uint64_t got_nonce;

		for (size_t k = 0; k < len; k++)
			buf[HDR + k] = (uint8_t)(k * 7 + len);
		/* Garbage where the padding goes: seal must zero it. */
		memset(buf + HDR + len, 0xee, sizeof(buf) - HDR - len);
		msg_len = data_seal(buf, len, padded, key, 1, len);
		cr_assert(eq(sz, msg_len, message_data_len(padded)), "len %zu", len);
		cr_assert(data_open(buf, msg_len, key, &got_len, &got_nonce), "len %zu", len);
		cr_assert(eq(sz, got_len, padded), "len %zu", len);
		cr_assert(eq(u64, got_nonce, len));
		for (size_t k = 0; k < len; k++)
			cr_assert(eq(u8, buf[HDR + k], (uint8_t)(k * 7 + len)), "len %zu at %zu",
				  len, k);
		for (size_t k = len; k < padded; k++)
			cr_assert(eq(u8, buf[HDR + k], 0), "len %zu pad at %zu", len, k);
	}
}

Test(data, open_rejects_short_forged_and_wrong_type)
{
	uint8_t key[32] = { 9 }, other[32] = { 8 }, buf[HDR + 64], copy[HDR + 64];
	size_t len, got_len = 1234;
	uint64_t got_nonce = 5678;

	memset(buf + HDR, 0x61, 32);
	len = data_seal(buf, 32, 32, key, 1, 3);
	memcpy(copy, buf, len);
	/* Every truncation fails: below 32 bytes on length, above on the tag. */
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(buf, copy, len);
		cr_assert(not(data_open(buf, cut, key, &got_len, &got_nonce)), "length %zu", cut);
	}
	cr_assert(eq(sz, got_len, 1234));
	cr_assert(eq(u64, got_nonce, 5678));
	memcpy(buf, copy, len);
	cr_assert(not(data_open(buf, len, other, &got_len, &got_nonce)));
	memcpy(buf, copy, len);
	buf[0] = MESSAGE_HANDSHAKE_INITIATION;
	cr_assert(not(data_open(buf, len, key, &got_len, &got_nonce)));
	memcpy(buf, copy, len);
	buf[8] ^= 1; /* the counter is the nonce: changing it breaks the tag */
	cr_assert(not(data_open(buf, len, key, &got_len, &got_nonce)));
	memcpy(buf, copy, len);
	buf[len - 1] ^= 0x80;
	cr_assert(not(data_open(buf, len, key, &got_len, &got_nonce)));
	memcpy(buf, copy, len);
	cr_assert(data_open(buf, len, key, &got_len, &got_nonce));

	/* A keepalive is exactly the minimum length. */
	len = data_seal(buf, 0, 0, key, 1, 4);
	cr_assert(eq(sz, len, MESSAGE_MINIMUM_LENGTH));
	cr_assert(data_open(buf, len, key, &got_len, &got_nonce));
	cr_assert(eq(sz, got_len, 0));
}

#define T0	  (1000 * NSEC_PER_SEC)
#define REJECT_NS ((uint64_t)REJECT_AFTER_TIME_S * NSEC_PER_SEC)

Test(data, keypair_limits_table)
{
	static const struct {
		bool valid;
		uint64_t counter, now_ns;
		bool ok;
	} cases[] = {
		{ true, 0, T0, true },
		{ true, 0, T0 + REJECT_NS - 1, true },
		{ true, 0, T0 + REJECT_NS, false }, /* REJECT_AFTER_TIME reached */
		{ true, 0, T0 + 10 * REJECT_NS, false },
		{ false, 0, T0, false },
		{ true, REJECT_AFTER_MESSAGES - 1, T0, true },
		{ true, REJECT_AFTER_MESSAGES, T0, false },
		{ true, UINT64_MAX, T0, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct noise_keypair kp;
		uint64_t nonce = 42;

		memset(&kp, 0, sizeof(kp));
		kp.sending.is_valid = kp.receiving.is_valid = cases[i].valid;
		kp.sending.birthdate_ns = kp.receiving.birthdate_ns = T0;
		kp.sending_counter = cases[i].counter;
		kp.receiving_counter.counter = cases[i].counter;
		cr_assert(
			eq(int, data_keypair_next_nonce(&kp, cases[i].now_ns, &nonce), cases[i].ok),
			"case %zu", i + 1);
		cr_assert(eq(int, data_keypair_can_receive(&kp, cases[i].now_ns), cases[i].ok),
			  "case %zu", i + 1);
		if (cases[i].ok) {
			cr_assert(eq(u64, nonce, cases[i].counter), "case %zu", i + 1);
			cr_assert(eq(u64, kp.sending_counter, cases[i].counter + 1), "case %zu",
				  i + 1);
		} else {
			cr_assert(eq(u64, nonce, 42), "case %zu", i + 1);
			cr_assert(eq(u64, kp.sending_counter, cases[i].counter), "case %zu", i + 1);
		}
	}
}

Test(data, nonces_increment)
{
	struct noise_keypair kp;
	uint64_t nonce;

	memset(&kp, 0, sizeof(kp));
	kp.sending.is_valid = true;
	kp.sending.birthdate_ns = T0;
	for (uint64_t i = 0; i < 100; i++) {
		cr_assert(data_keypair_next_nonce(&kp, T0, &nonce));
		cr_assert(eq(u64, nonce, i));
	}
}
