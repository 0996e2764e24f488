/* SPDX-License-Identifier: MIT */
/*
 * WireGuard KDF vectors, copied from WireGuard/wireguard-go device/kdf_test.go
 * (TestKDF, commit 3bf41b06). wireguard-go names the three outputs t0, t1, t2;
 * kdf.h calls them t1, t2, t3 (its t0 is the HMAC extract). wireguard-go keys
 * HMAC with the raw key bytes; kdf() takes a 32-byte key, so the keys here are
 * zero-padded to 32 bytes, which HMAC (RFC 2104 §2: pad the key with zeros to
 * the block size) treats identically. All outputs were recomputed with
 * /usr/bin/python3 hmac + hashlib.blake2s on the padded keys and agree.
 *
 * kdf_full_key: key 80 81 .. 9f, input 00 01 .. 1f (a full 32-byte key and a
 * DH-sized input), computed with /usr/bin/python3 hmac + hashlib.blake2s.
 *
 * Handshake constants (PROTOCOL.md c.3; Python hashlib; equal to boringtun's
 * INITIAL_CHAIN_KEY / INITIAL_CHAIN_HASH): CK0 = HASH(construction),
 * H0 = HASH(CK0 || identifier).
 */
#ifndef WGD_KDF_VECTORS_H
#define WGD_KDF_VECTORS_H

static const struct kdf_vector {
	const char *key; /* raw bytes, zero-padded to 32 */
	const char *input;
	const char *t1, *t2, *t3; /* hex */
} kdf_vectors[] = {
	{ "test-key", "test-input",
	  "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
	  "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
	  "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24" },
	{ "wireguard", "wireguard",
	  "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
	  "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
	  "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160" },
	{ "", "",
	  "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
	  "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
	  "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" },
};

static const struct kdf_full_key_vector {
	const char *t1, *t2, *t3;
} kdf_full_key = {
	"b0f31d533a05972702a39ae7709bb59e8548806e3fb0f6961d0ef2e332576427",
	"d16a5b8b02b57f5e8f166fef835922c807fb3b3905f9ed18f5e99a30cfefba0a",
	"54b09aa4680d7aed3e1950b09b69522afc9cf3ba35debfaa7f10e3e8090c03bb",
};

#define VEC_NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define VEC_NOISE_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define VEC_NOISE_CK0_HEX "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"
#define VEC_NOISE_H0_HEX "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3"

#endif
