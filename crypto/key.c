/* SPDX-License-Identifier: MIT */
/*
 * Key text codecs and key hygiene. The base64 and hex codecs never branch on or
 * index by key bytes: every character class is selected with arithmetic masks
 * (the technique of wireguard-tools' encoding.c), so the time taken depends only
 * on the (public) length. Only the final accept/reject decision branches.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/key.h"

/*
 * Constant-time masks over small non-negative values (below 2^31): all ones
 * when the relation holds, zero otherwise. Unsigned arithmetic keeps them
 * free of implementation-defined shifts.
 */
static inline uint32_t mask_lt(uint32_t a, uint32_t b)
{
	return 0U - ((a - b) >> 31);
}

static inline uint32_t mask_eq(uint32_t a, uint32_t b)
{
	return 0U - (((a ^ b) - 1U) >> 31);
}

/* lo <= x <= hi */
static inline uint32_t mask_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return ~mask_lt(x, lo) & ~mask_lt(hi, x);
}

/* RFC 4648 §4 alphabet: A-Z a-z 0-9 + / for the values 0..63. */
static char b64_char(uint32_t x)
{
	uint32_t c = (mask_in(x, 0, 25) & (x + 'A')) | (mask_in(x, 26, 51) & (x - 26 + 'a')) |
		     (mask_in(x, 52, 61) & (x - 52 + '0')) | (mask_eq(x, 62) & '+') |
		     (mask_eq(x, 63) & '/');

	return (char)c;
}

/* Returns the 6-bit value of c plus one, or 0 when c is not in the alphabet. */
static uint32_t b64_value(unsigned char ch)
{
	uint32_t c = ch;

	return (mask_in(c, 'A', 'Z') & (c - 'A' + 1)) | (mask_in(c, 'a', 'z') & (c - 'a' + 27)) |
	       (mask_in(c, '0', '9') & (c - '0' + 53)) | (mask_eq(c, '+') & 63) |
	       (mask_eq(c, '/') & 64);
}

static char hex_char(uint32_t n)
{
	return (char)(n + '0' + (mask_lt(9, n) & ('a' - '0' - 10)));
}

/* Returns the nibble of c plus one (either case), or 0 when c is not a hex digit. */
static uint32_t hex_value(unsigned char ch)
{
	uint32_t c = ch;

	return (mask_in(c, '0', '9') & (c - '0' + 1)) | (mask_in(c, 'a', 'f') & (c - 'a' + 11)) |
	       (mask_in(c, 'A', 'F') & (c - 'A' + 11));
}

void key_to_base64(char out[static KEY_B64_LEN + 1], const uint8_t key[static KEY_LEN])
{
	unsigned int i;
	uint32_t w;

	for (i = 0; i < KEY_LEN / 3; i++) {
		w = (uint32_t)key[3 * i] << 16 | (uint32_t)key[3 * i + 1] << 8 | key[3 * i + 2];
		out[4 * i] = b64_char(w >> 18);
		out[4 * i + 1] = b64_char((w >> 12) & 63);
		out[4 * i + 2] = b64_char((w >> 6) & 63);
		out[4 * i + 3] = b64_char(w & 63);
	}
	/* 32 = 3 * 10 + 2: the last two bytes make three characters and one '='. */
	w = (uint32_t)key[3 * i] << 16 | (uint32_t)key[3 * i + 1] << 8;
	out[4 * i] = b64_char(w >> 18);
	out[4 * i + 1] = b64_char((w >> 12) & 63);
	out[4 * i + 2] = b64_char((w >> 6) & 63);
	out[4 * i + 3] = '=';
	out[KEY_B64_LEN] = '\0';
}

/* Packs n characters into 6n bits; any character outside the alphabet sets *bad. */
static uint32_t b64_group(const unsigned char *s, unsigned int n, uint32_t *bad)
{
	uint32_t w = 0, v;

	for (unsigned int j = 0; j < n; j++) {
		v = b64_value(s[j]);
		*bad |= mask_eq(v, 0);
		w = w << 6 | ((v - 1) & 63);
	}
	return w;
}

/*
 * Keeps the decoded key when bad is 0 and zeroes it otherwise, without a branch: the
 * verdict leaves as the return value, so only the caller branches on it (public).
 */
static bool keep_if_good(uint8_t key[static KEY_LEN], uint32_t bad)
{
	uint32_t good = ((bad | (0U - bad)) >> 31) - 1U; /* all ones iff bad == 0 */

	for (unsigned int i = 0; i < KEY_LEN; i++)
		key[i] &= (uint8_t)good;
	return good & 1;
}

bool key_from_base64_len(uint8_t key[static KEY_LEN], const char *b64, size_t len)
{
	const unsigned char *s = (const unsigned char *)b64;
	uint32_t bad = 0, w;
	unsigned int i;

	if (len != KEY_B64_LEN)
		goto fail;
	bad |= ~mask_eq(s[KEY_B64_LEN - 1], '=');
	for (i = 0; i < KEY_LEN / 3; i++) {
		w = b64_group(s + 4 * i, 4, &bad);
		key[3 * i] = (uint8_t)(w >> 16);
		key[3 * i + 1] = (uint8_t)(w >> 8);
		key[3 * i + 2] = (uint8_t)w;
	}
	/* 18 bits carry 16: the two spare bits must be zero (RFC 4648 §3.5). */
	w = b64_group(s + 4 * i, 3, &bad);
	bad |= ~mask_eq(w & 3, 0);
	key[3 * i] = (uint8_t)(w >> 10);
	key[3 * i + 1] = (uint8_t)(w >> 2);
	return keep_if_good(key, bad);
fail:
	sodium_memzero(key, KEY_LEN);
	return false;
}

void key_to_hex(char out[static KEY_HEX_LEN + 1], const uint8_t key[static KEY_LEN])
{
	unsigned int i;

	for (i = 0; i < KEY_LEN; i++) {
		out[2 * i] = hex_char(key[i] >> 4);
		out[2 * i + 1] = hex_char(key[i] & 15);
	}
	out[KEY_HEX_LEN] = '\0';
}

bool key_from_hex_len(uint8_t key[static KEY_LEN], const char *hex, size_t len)
{
	const unsigned char *s = (const unsigned char *)hex;
	uint32_t bad = 0, hi, lo;
	unsigned int i;

	if (len != KEY_HEX_LEN)
		goto fail;
	for (i = 0; i < KEY_LEN; i++) {
		hi = hex_value(s[2 * i]);
		lo = hex_value(s[2 * i + 1]);
		bad |= mask_eq(hi, 0) | mask_eq(lo, 0);
		key[i] = (uint8_t)(((hi - 1) & 15) << 4 | ((lo - 1) & 15));
	}
	return keep_if_good(key, bad);
fail:
	sodium_memzero(key, KEY_LEN);
	return false;
}

/* Finding the NUL branches on each character: the length of a key text is public. */
bool key_from_base64(uint8_t key[static KEY_LEN], const char *b64)
{
	return key_from_base64_len(key, b64, strnlen(b64, KEY_B64_LEN + 1));
}

bool key_from_hex(uint8_t key[static KEY_LEN], const char *hex)
{
	return key_from_hex_len(key, hex, strnlen(hex, KEY_HEX_LEN + 1));
}

bool key_is_zero(const uint8_t key[static KEY_LEN])
{
	return sodium_is_zero(key, KEY_LEN) == 1;
}

bool key_equal(const uint8_t a[static KEY_LEN], const uint8_t b[static KEY_LEN])
{
	return sodium_memcmp(a, b, KEY_LEN) == 0;
}

void key_clamp(uint8_t key[static KEY_LEN])
{
	/* RFC 7748 §5: clear the cofactor bits, clear bit 255, set bit 254. */
	key[0] &= 248;
	key[KEY_LEN - 1] &= 127;
	key[KEY_LEN - 1] |= 64;
}

void wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
