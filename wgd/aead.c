/* SPDX-License-Identifier: MIT */
/*
 * Transport data seal/open per size class: OpenSSL's EVP ChaCha20-Poly1305 (AVX-512
 * code on machines that have it) from AEAD_OPENSSL_MIN_LEN padded bytes, libsodium's
 * below, where OpenSSL's per-call overhead costs more than its faster core gains. Both
 * produce the same bytes (RFC 8439 §2.8 with WireGuard's nonce: 32 zero bits, then the
 * 64-bit counter little-endian); tests/unit/aead_test.c checks that differentially.
 */
#include <endian.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "crypto/data.h"
#include "wgd/aead.h"

enum { AEAD_NONCE_LEN = 12 };

/* One direction: its context and the key it was last keyed with (valid while keyed). */
struct aead_dir {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	bool is_keyed;
	bool is_sealing;
};

struct aead_lane {
	EVP_CIPHER *cipher; /* fetched once, so no per-burst provider lookup */
	struct aead_dir seal, open;
	enum aead_impl impl;
};

static void nonce_from_counter(uint8_t n[static AEAD_NONCE_LEN], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(n, 0, 4);
	memcpy(n + 4, &le, sizeof(le));
}

static void dir_forget(struct aead_dir *d)
{
	/*
	 * reset frees the provider context with OPENSSL_clear_free: key, keystream, Poly1305.
	 * Also when not keyed: a failed EVP_CipherInit_ex2 may have left the key behind.
	 */
	if (d->ctx)
		EVP_CIPHER_CTX_reset(d->ctx);
	sodium_memzero(d->key, sizeof(d->key));
	d->is_keyed = false;
}

void aead_lane_forget(struct aead_lane *lane)
{
	if (!lane)
		return;
	dir_forget(&lane->seal);
	dir_forget(&lane->open);
}

void aead_lane_free(struct aead_lane *lane)
{
	if (!lane)
		return;
	aead_lane_forget(lane);
	EVP_CIPHER_CTX_free(lane->seal.ctx);
	EVP_CIPHER_CTX_free(lane->open.ctx);
	EVP_CIPHER_free(lane->cipher);
	sodium_free(lane); /* wipes */
}

/*
 * Keys d with key unless it already holds it. Compared by value, in constant time
 * (OpenSSL's assembly CRYPTO_memcmp, several times faster than sodium_memcmp's byte
 * loop), not by address: a keypair slot is rewritten in place when keys rotate.
 */
static bool dir_key(struct aead_lane *lane, struct aead_dir *d, const uint8_t *key)
{
	const EVP_CIPHER *cipher = lane->cipher;

	if (d->is_keyed) {
		if (CRYPTO_memcmp(d->key, key, sizeof(d->key)) == 0)
			return true;
		/* another peer in the same burst: re-key the live context, no new allocation */
		cipher = NULL;
	}
	d->is_keyed = false;
	if (EVP_CipherInit_ex2(d->ctx, cipher, key, NULL, d->is_sealing, NULL) != 1)
		return false;
	memcpy(d->key, key, sizeof(d->key));
	d->is_keyed = true;
	return true;
}

/* Gets or sets the tag through the provider's parameters: EVP_CIPHER_CTX_ctrl builds them */
static bool tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, bool get)
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, NOISE_AUTHTAG_LEN),
		OSSL_PARAM_END,
	};

	if (get)
		return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
	return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

/*
 * OpenSSL never fails these calls for valid lengths; should it, the lane is dropped
 * back to unkeyed and the caller uses libsodium instead, which gives the same bytes.
 */
static bool evp_seal(struct aead_lane *lane, uint8_t *p, size_t len, const uint8_t *key,
		     uint64_t counter)
{
	struct aead_dir *d = &lane->seal;
	uint8_t n[AEAD_NONCE_LEN];
	int out = 0;

	nonce_from_counter(n, counter);
	if (!dir_key(lane, d, key) || EVP_CipherInit_ex2(d->ctx, NULL, NULL, n, 1, NULL) != 1 ||
	    (len && (EVP_EncryptUpdate(d->ctx, p, &out, p, (int)len) != 1 || (size_t)out != len)) ||
	    EVP_EncryptFinal_ex(d->ctx, p + len, &out) != 1 || !tag_param(d->ctx, p + len, true)) {
		dir_forget(d);
		return false;
	}
	return true;
}

/* 1: authentic; 0: forged; -1: OpenSSL failed (the caller retries with libsodium). */
static int evp_open(struct aead_lane *lane, uint8_t *p, size_t len, const uint8_t *key,
		    uint64_t counter)
{
	struct aead_dir *d = &lane->open;
	uint8_t n[AEAD_NONCE_LEN];
	int out = 0;

	nonce_from_counter(n, counter);
	if (!dir_key(lane, d, key) || EVP_CipherInit_ex2(d->ctx, NULL, NULL, n, 0, NULL) != 1 ||
	    !tag_param(d->ctx, p + len, false) ||
	    (len && (EVP_DecryptUpdate(d->ctx, p, &out, p, (int)len) != 1 || (size_t)out != len))) {
		dir_forget(d);
		return -1;
	}
	if (EVP_DecryptFinal_ex(d->ctx, p + len, &out) == 1)
		return 1;
	/* unauthenticated plaintext is the keystream of a counter a real packet may use */
	sodium_memzero(p, len);
	return 0;
}

static bool use_openssl(const struct aead_lane *lane, size_t padded_len)
{
	if (lane->impl != AEAD_AUTO)
		return lane->impl == AEAD_OPENSSL;
	return padded_len >= AEAD_OPENSSL_MIN_LEN;
}

size_t aead_seal(struct aead_lane *lane, uint8_t *msg, size_t plain_len, size_t padded_len,
		 const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint32_t receiver_index,
		 uint64_t nonce)
{
	struct message_data *hdr = (struct message_data *)msg;
	uint8_t *payload = msg + sizeof(struct message_data);

	if (!use_openssl(lane, padded_len) || padded_len > INT_MAX)
		return data_seal(msg, plain_len, padded_len, key, receiver_index, nonce);
	if (padded_len > plain_len)
		memset(payload + plain_len, 0, padded_len - plain_len);
	if (!evp_seal(lane, payload, padded_len, key, nonce))
		return data_seal(msg, plain_len, padded_len, key, receiver_index, nonce);
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->key_idx = htole32(receiver_index);
	hdr->counter = htole64(nonce);
	return message_data_len(padded_len);
}

bool aead_open(struct aead_lane *lane, uint8_t *msg, size_t msg_len,
	       const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], size_t *plain_len,
	       uint64_t *nonce)
{
	const struct message_data *hdr = (const struct message_data *)msg;
	size_t len;
	uint64_t counter;
	int ret;

	if (msg_len < MESSAGE_MINIMUM_LENGTH || le32toh(hdr->header.type) != MESSAGE_DATA)
		return false;
	len = msg_len - MESSAGE_MINIMUM_LENGTH;
	if (!use_openssl(lane, len) || len > INT_MAX)
		return data_open(msg, msg_len, key, plain_len, nonce);
	counter = le64toh(hdr->counter);
	ret = evp_open(lane, msg + sizeof(struct message_data), len, key, counter);
	if (ret < 0)
		return data_open(msg, msg_len, key, plain_len, nonce);
	if (!ret)
		return false;
	*plain_len = len;
	*nonce = counter;
	return true;
}

void aead_lane_force(struct aead_lane *lane, enum aead_impl impl)
{
	lane->impl = impl;
}

const uint8_t *aead_lane_key_for_test(const struct aead_lane *lane, bool sealing)
{
	return sealing ? lane->seal.key : lane->open.key;
}

/*
 * Everything that may touch the file system or allocate for the first time happens
 * here, before the worker's sandbox (sandbox.c) closes: OpenSSL reads no configuration
 * file (the provider is the built-in default), and the cipher is fetched and run once.
 */
struct aead_lane *aead_lane_new(void)
{
	static const uint8_t zero_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t probe[message_data_len(AEAD_OPENSSL_MIN_LEN)] = { 0 };
	struct aead_lane *lane;

	if (sodium_init() < 0 || OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return NULL;
	lane = sodium_malloc(sizeof(*lane));
	if (!lane)
		return NULL;
	memset(lane, 0, sizeof(*lane));
	lane->seal.is_sealing = true;
	lane->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	lane->seal.ctx = EVP_CIPHER_CTX_new();
	lane->open.ctx = EVP_CIPHER_CTX_new();
	if (!lane->cipher || !lane->seal.ctx || !lane->open.ctx ||
	    !evp_seal(lane, probe + sizeof(struct message_data), AEAD_OPENSSL_MIN_LEN, zero_key,
		      0) ||
	    evp_open(lane, probe + sizeof(struct message_data), AEAD_OPENSSL_MIN_LEN, zero_key,
		     0) != 1) {
		aead_lane_free(lane);
		return NULL;
	}
	aead_lane_forget(lane);
	return lane;
}
