/* SPDX-License-Identifier: MIT */
/*
 * Key codecs and helpers against independent references: Python-encoded
 * vectors (tests/vectors/key_vectors.h), libsodium's own base64/hex codecs for
 * random keys and mutated strings, every class of malformed input, and the
 * RFC 7748 §5 clamping rule.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sodium.h>

#include "crypto/key.h"
#include "tests/vectors/key_vectors.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Test-local decoding of vector hex, so expected bytes never pass through key.c. */
static void unhex(uint8_t out[KEY_LEN], const char *hex)
{
	cr_assert(eq(sz, strlen(hex), (size_t)KEY_HEX_LEN));
	for (size_t i = 0; i < KEY_LEN; i++) {
		unsigned int b;

		cr_assert(eq(int, sscanf(hex + 2 * i, "%2x", &b), 1));
		out[i] = (uint8_t)b;
	}
}

/*
 * Reproducible "random" keys: libsodium's deterministic generator keyed by a
 * fixed seed and a call counter, so a failing iteration number replays exactly.
 */
static void test_random(void *buf, size_t len)
{
	static uint64_t calls;
	uint8_t seed[randombytes_SEEDBYTES] = "wgd key_test fixed seed";

	memcpy(seed + sizeof(seed) - sizeof(calls), &calls, sizeof(calls));
	calls++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(key, .init = setup);

Test(key, encode_known_vectors)
{
	uint8_t k[KEY_LEN];
	char b64[KEY_B64_LEN + 1], hex[KEY_HEX_LEN + 1];
	char want_b64[KEY_B64_LEN + 1], want_hex[KEY_HEX_LEN + 1];

	for (size_t i = 0; i < ARRAY_SIZE(key_text_vectors); i++) {
		unhex(k, key_text_vectors[i].hex);
		strcpy(want_b64, key_text_vectors[i].b64);
		strcpy(want_hex, key_text_vectors[i].hex);
		key_to_base64(b64, k);
		cr_assert(eq(str, b64, want_b64), "case %zu", i);
		key_to_hex(hex, k);
		cr_assert(eq(str, hex, want_hex), "case %zu", i);
	}
}

static void upcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
}

Test(key, decode_known_vectors)
{
	uint8_t want[KEY_LEN], got[KEY_LEN];
	char hex[KEY_HEX_LEN + 1];

	for (size_t i = 0; i < ARRAY_SIZE(key_text_vectors); i++) {
		unhex(want, key_text_vectors[i].hex);
		cr_assert(key_from_base64(got, key_text_vectors[i].b64), "case %zu", i);
		cr_assert(eq(u8[32], got, want), "base64 case %zu", i);
		cr_assert(key_from_hex(got, key_text_vectors[i].hex), "case %zu", i);
		cr_assert(eq(u8[32], got, want), "hex case %zu", i);

		/* Either case decodes; the encoder always writes lowercase. */
		strcpy(hex, key_text_vectors[i].hex);
		upcase(hex);
		cr_assert(key_from_hex(got, hex), "upper case %zu", i);
		cr_assert(eq(u8[32], got, want), "upper hex case %zu", i);
		for (size_t j = 0; j < KEY_HEX_LEN; j += 2)
			hex[j] = key_text_vectors[i].hex[j];
		cr_assert(key_from_hex(got, hex), "mixed case %zu", i);
		cr_assert(eq(u8[32], got, want), "mixed hex case %zu", i);
	}
}

/* netns.sh configures these low-order points as peers: they must parse. */
Test(key, low_order_points_decode)
{
	uint8_t want[KEY_LEN], got[KEY_LEN];
	char b64[KEY_B64_LEN + 1], want_b64[KEY_B64_LEN + 1];

	for (size_t i = 0; i < ARRAY_SIZE(key_low_order_points); i++) {
		unhex(want, key_low_order_points[i].hex);
		strcpy(want_b64, key_low_order_points[i].b64);
		cr_assert(key_from_base64(got, key_low_order_points[i].b64), "point %zu", i + 1);
		cr_assert(eq(u8[32], got, want), "point %zu", i + 1);
		key_to_base64(b64, got);
		cr_assert(eq(str, b64, want_b64), "point %zu", i + 1);
	}
}

/* libsodium's codecs are an independent implementation of RFC 4648. */
Test(key, random_round_trip_vs_libsodium)
{
	uint8_t k[KEY_LEN], back[KEY_LEN];
	char b64[KEY_B64_LEN + 1], hex[KEY_HEX_LEN + 1];
	char ref_b64[KEY_B64_LEN + 1], ref_hex[KEY_HEX_LEN + 1];

	for (int i = 0; i < 4096; i++) {
		test_random(k, sizeof(k));
		key_to_base64(b64, k);
		sodium_bin2base64(ref_b64, sizeof(ref_b64), k, sizeof(k),
				  sodium_base64_VARIANT_ORIGINAL);
		cr_assert(eq(str, b64, ref_b64), "iteration %d", i);
		key_to_hex(hex, k);
		sodium_bin2hex(ref_hex, sizeof(ref_hex), k, sizeof(k));
		cr_assert(eq(str, hex, ref_hex), "iteration %d", i);

		cr_assert(key_from_base64(back, b64), "iteration %d", i);
		cr_assert(eq(u8[32], back, k), "iteration %d", i);
		cr_assert(key_from_hex(back, hex), "iteration %d", i);
		cr_assert(eq(u8[32], back, k), "iteration %d", i);
	}
}

/* libsodium accepts exactly the canonical, fully padded 44-character form. */
static bool sodium_accepts(const char *b64)
{
	uint8_t bin[KEY_LEN + 8];
	const char *end = NULL;
	size_t len = strlen(b64), binlen = 0;

	if (sodium_base642bin(bin, sizeof(bin), b64, len, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return binlen == KEY_LEN && end == b64 + len;
}

Test(key, mutated_base64_vs_libsodium)
{
	uint8_t k[KEY_LEN], got[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	unsigned char pick[2];

	for (int i = 0; i < 20000; i++) {
		test_random(k, sizeof(k));
		key_to_base64(b64, k);
		test_random(pick, sizeof(pick));
		/*
		 * Any non-NUL ASCII byte at any of the 44 positions. Bytes >= 0x80 are
		 * left out: Debian 12's libsodium 1.0.18 wrongly accepts them (its
		 * char arithmetic sees them as negative); base64_rejects_bad_chars
		 * checks that we reject them.
		 */
		pick[1] &= 0x7f;
		b64[pick[0] % KEY_B64_LEN] = (char)(pick[1] | (pick[1] == 0));
		cr_assert(eq(int, key_from_base64(got, b64), sodium_accepts(b64)),
			  "iteration %d: '%s'", i, b64);
	}
}

static void assert_b64_rejected(const char *b64, const char *what)
{
	uint8_t got[KEY_LEN], zero[KEY_LEN] = { 0 };

	memset(got, 0xaa, sizeof(got));
	cr_assert(not(key_from_base64(got, b64)), "%s: '%s' accepted", what, b64);
	cr_assert(eq(u8[32], got, zero), "%s: output not zeroed", what);
}

static void assert_hex_rejected(const char *hex, const char *what)
{
	uint8_t got[KEY_LEN], zero[KEY_LEN] = { 0 };

	memset(got, 0xaa, sizeof(got));
	cr_assert(not(key_from_hex(got, hex)), "%s: '%s' accepted", what, hex);
	cr_assert(eq(u8[32], got, zero), "%s: output not zeroed", what);
}

Test(key, base64_rejects_wrong_length)
{
	const char *good = key_text_vectors[4].b64;
	char buf[2 * KEY_B64_LEN + 1];

	assert_b64_rejected("", "empty");
	assert_b64_rejected("=", "padding only");
	snprintf(buf, sizeof(buf), "%.43s", good);
	assert_b64_rejected(buf, "43 chars, '=' missing");
	snprintf(buf, sizeof(buf), "%.42s=", good);
	assert_b64_rejected(buf, "43 chars with '='");
	snprintf(buf, sizeof(buf), "%sA", good);
	assert_b64_rejected(buf, "45 chars");
	snprintf(buf, sizeof(buf), "%s=", good);
	assert_b64_rejected(buf, "extra '='");
	snprintf(buf, sizeof(buf), "%s\n", good);
	assert_b64_rejected(buf, "trailing newline");
	snprintf(buf, sizeof(buf), " %s", good);
	assert_b64_rejected(buf, "leading space");
	snprintf(buf, sizeof(buf), "%s%s", good, good);
	assert_b64_rejected(buf, "two keys");
}

/* Characters just outside each alphabet range, URL-safe ones, whitespace, high bytes. */
static const char bad_b64_chars[] = "@[`{:.,-_=* \t\n\r\"\\~\x01\x7f\x80\xab\xc3\xff";

Test(key, base64_rejects_bad_chars_everywhere)
{
	char buf[KEY_B64_LEN + 1];

	for (size_t pos = 0; pos < KEY_B64_LEN - 1; pos++)
		for (size_t c = 0; c < sizeof(bad_b64_chars) - 1; c++) {
			strcpy(buf, key_text_vectors[5].b64);
			buf[pos] = bad_b64_chars[c];
			assert_b64_rejected(buf, "bad char");
		}
}

Test(key, base64_requires_padding_char)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char buf[KEY_B64_LEN + 1];

	/* 44 characters but the last is not '=': "missing '='". */
	for (size_t c = 0; c < sizeof(alphabet) - 1; c++) {
		strcpy(buf, key_text_vectors[6].b64);
		buf[KEY_B64_LEN - 1] = alphabet[c];
		assert_b64_rejected(buf, "no padding");
	}
	/* "xx==" is the padding of a 31-byte value. */
	strcpy(buf, key_text_vectors[6].b64);
	buf[KEY_B64_LEN - 2] = '=';
	assert_b64_rejected(buf, "double padding");
}

/*
 * The third character of the final group carries 4 data bits and 2 spare bits;
 * RFC 4648 §3.5 canonical encoding requires the spare bits to be zero, so only
 * every fourth alphabet character may appear there.
 */
Test(key, base64_rejects_non_canonical_final_char)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t got[KEY_LEN], want[KEY_LEN];
	char buf[KEY_B64_LEN + 1];
	size_t accepted = 0;

	for (size_t v = 0; v < 64; v++) {
		strcpy(buf, key_text_vectors[7].b64);
		buf[KEY_B64_LEN - 2] = alphabet[v];
		if (v % 4) {
			assert_b64_rejected(buf, "non-canonical");
			continue;
		}
		cr_assert(key_from_base64(got, buf), "canonical value %zu rejected", v);
		unhex(want, key_text_vectors[7].hex);
		want[KEY_LEN - 1] = (uint8_t)((want[KEY_LEN - 1] & 0xf0) | (v >> 2));
		cr_assert(eq(u8[32], got, want), "value %zu", v);
		accepted++;
	}
	cr_assert(eq(sz, accepted, 16));
}

Test(key, hex_rejects_malformed)
{
	static const char bad_hex_chars[] = "gGxX/:@`[{ -\n\x80\xff";
	const char *good = key_text_vectors[8].hex;
	char buf[2 * KEY_HEX_LEN + 1];

	assert_hex_rejected("", "empty");
	snprintf(buf, sizeof(buf), "%.63s", good);
	assert_hex_rejected(buf, "63 digits");
	snprintf(buf, sizeof(buf), "%s0", good);
	assert_hex_rejected(buf, "65 digits");
	snprintf(buf, sizeof(buf), "0x%.62s", good);
	assert_hex_rejected(buf, "0x prefix");
	snprintf(buf, sizeof(buf), "%s\n", good);
	assert_hex_rejected(buf, "trailing newline");
	snprintf(buf, sizeof(buf), "%s%s", good, good);
	assert_hex_rejected(buf, "two keys");
	for (size_t pos = 0; pos < KEY_HEX_LEN; pos++)
		for (size_t c = 0; c < sizeof(bad_hex_chars) - 1; c++) {
			strcpy(buf, good);
			buf[pos] = bad_hex_chars[c];
			assert_hex_rejected(buf, "bad digit");
		}
}

Test(key, base64_accepts_every_alphabet_char_in_every_position)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t got[KEY_LEN], ref[KEY_LEN + 8];
	char buf[KEY_B64_LEN + 1];
	size_t reflen;
	int rc;

	for (size_t pos = 0; pos < KEY_B64_LEN - 2; pos++)
		for (size_t c = 0; c < sizeof(alphabet) - 1; c++) {
			strcpy(buf, key_text_vectors[9].b64);
			buf[pos] = alphabet[c];
			cr_assert(key_from_base64(got, buf), "pos %zu char %c", pos, alphabet[c]);
			rc = sodium_base642bin(ref, sizeof(ref), buf, KEY_B64_LEN, NULL, &reflen,
					       NULL, sodium_base64_VARIANT_ORIGINAL);
			cr_assert(eq(int, rc, 0));
			cr_assert(eq(sz, reflen, (size_t)KEY_LEN));
			cr_assert(eq(int, memcmp(got, ref, KEY_LEN), 0), "pos %zu char %c", pos,
				  alphabet[c]);
		}
}

/* Every byte value at sample positions: accepted exactly when in the alphabet. */
Test(key, every_byte_value_classified)
{
	static const char b64_alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char hex_digits[] = "0123456789abcdefABCDEF";
	static const size_t b64_pos[] = { 0, 1, 2, 3, 21, 40, 41 };
	static const size_t hex_pos[] = { 0, 1, 33, 63 };
	char b64[KEY_B64_LEN + 1], hex[KEY_HEX_LEN + 1];
	uint8_t got[KEY_LEN];

	for (int c = 1; c < 256; c++) {
		for (size_t p = 0; p < ARRAY_SIZE(b64_pos); p++) {
			strcpy(b64, key_text_vectors[11].b64);
			b64[b64_pos[p]] = (char)c;
			cr_assert(
				eq(int, key_from_base64(got, b64), strchr(b64_alphabet, c) != NULL),
				"byte 0x%02x at %zu", c, b64_pos[p]);
		}
		for (size_t p = 0; p < ARRAY_SIZE(hex_pos); p++) {
			strcpy(hex, key_text_vectors[11].hex);
			hex[hex_pos[p]] = (char)c;
			cr_assert(eq(int, key_from_hex(got, hex), strchr(hex_digits, c) != NULL),
				  "byte 0x%02x at %zu", c, hex_pos[p]);
		}
	}
}

Test(key, equal_and_is_zero)
{
	uint8_t a[KEY_LEN], b[KEY_LEN];

	memset(a, 0, sizeof(a));
	cr_assert(key_is_zero(a));
	unhex(a, key_text_vectors[10].hex);
	memcpy(b, a, sizeof(b));
	cr_assert(key_equal(a, b));
	cr_assert(not(key_is_zero(a)));
	for (size_t bit = 0; bit < 8 * KEY_LEN; bit++) {
		b[bit / 8] ^= (uint8_t)(1U << (bit % 8));
		cr_assert(not(key_equal(a, b)), "bit %zu", bit);
		b[bit / 8] ^= (uint8_t)(1U << (bit % 8));

		memset(a, 0, sizeof(a));
		a[bit / 8] = (uint8_t)(1U << (bit % 8));
		cr_assert(not(key_is_zero(a)), "bit %zu", bit);
		unhex(a, key_text_vectors[10].hex);
	}
	cr_assert(key_equal(a, b));
}

/* RFC 7748 §5 decodeScalar25519: k[0] &= 248; k[31] &= 127; k[31] |= 64. */
Test(key, clamp)
{
	uint8_t k[KEY_LEN], orig[KEY_LEN];

	memset(k, 0xff, sizeof(k));
	key_clamp(k);
	cr_assert(eq(u8, k[0], 0xf8));
	cr_assert(eq(u8, k[31], 0x7f));
	for (size_t i = 1; i < KEY_LEN - 1; i++)
		cr_assert(eq(u8, k[i], 0xff), "byte %zu", i);

	memset(k, 0, sizeof(k));
	key_clamp(k);
	cr_assert(eq(u8, k[0], 0x00));
	cr_assert(eq(u8, k[31], 0x40));
	for (size_t i = 1; i < KEY_LEN - 1; i++)
		cr_assert(eq(u8, k[i], 0x00), "byte %zu", i);

	for (int n = 0; n < 1000; n++) {
		test_random(orig, sizeof(orig));
		memcpy(k, orig, sizeof(k));
		key_clamp(k);
		cr_assert(eq(u8, k[0], orig[0] & 0xf8));
		cr_assert(eq(u8, k[31], (orig[31] & 0x7f) | 0x40));
		cr_assert(eq(int, memcmp(k + 1, orig + 1, KEY_LEN - 2), 0));
		key_clamp(orig);
		cr_assert(eq(u8[32], k, orig), "clamping is idempotent");
	}
}

/* Clamped keys agree with libsodium's scalar multiplication, which clamps internally. */
Test(key, clamp_matches_libsodium)
{
	uint8_t k[KEY_LEN], pub_raw[KEY_LEN], pub_clamped[KEY_LEN];

	for (int n = 0; n < 64; n++) {
		test_random(k, sizeof(k));
		cr_assert(eq(int, crypto_scalarmult_base(pub_raw, k), 0));
		key_clamp(k);
		cr_assert(eq(int, crypto_scalarmult_base(pub_clamped, k), 0));
		cr_assert(eq(u8[32], pub_raw, pub_clamped), "iteration %d", n);
	}
}

Test(key, wipe_zeroes)
{
	uint8_t k[KEY_LEN + 3];

	memset(k, 0x5a, sizeof(k));
	wipe(k, sizeof(k));
	for (size_t i = 0; i < sizeof(k); i++)
		cr_assert(eq(u8, k[i], 0), "byte %zu", i);
}
