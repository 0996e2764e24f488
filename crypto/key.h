/* SPDX-License-Identifier: MIT */
/*
 * Key hygiene helpers: constant-time base64/hex codecs for 32-byte keys, constant-time
 * comparison and zero check, and wipe(). Decoders never branch on key bytes.
 */
#ifndef WGD_KEY_H
#define WGD_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/messages.h"

#define __must_check __attribute__((warn_unused_result))

enum key_text_lengths {
	KEY_LEN = NOISE_PUBLIC_KEY_LEN,
	KEY_B64_LEN = NOISE_PUBLIC_KEY_B64_LEN, /* 44, ends in '=' */
	KEY_HEX_LEN = NOISE_PUBLIC_KEY_HEX_LEN, /* 64, lowercase */
};

/* Encoders write a NUL-terminated string. */
void key_to_base64(char out[static KEY_B64_LEN + 1], const uint8_t key[static KEY_LEN]);
void key_to_hex(char out[static KEY_HEX_LEN + 1], const uint8_t key[static KEY_LEN]);

/*
 * Decoders accept exactly one canonical encoding (44 base64 chars with the last
 * before '=' in the canonical set; 64 hex digits, either case) and nothing more.
 * On failure the output is zeroed.
 */
bool __must_check key_from_base64(uint8_t key[static KEY_LEN], const char *b64);
bool __must_check key_from_hex(uint8_t key[static KEY_LEN], const char *hex);
/* The same with the text's length given: branch-free in the text's bytes. */
bool __must_check key_from_base64_len(uint8_t key[static KEY_LEN], const char *b64, size_t len);
bool __must_check key_from_hex_len(uint8_t key[static KEY_LEN], const char *hex, size_t len);

bool key_is_zero(const uint8_t key[static KEY_LEN]);
bool key_equal(const uint8_t a[static KEY_LEN], const uint8_t b[static KEY_LEN]);

/* X25519 clamping (RFC 7748 §5). */
void key_clamp(uint8_t key[static KEY_LEN]);

/* sodium_memzero: not optimised away. */
void wipe(void *p, size_t len);

#endif
