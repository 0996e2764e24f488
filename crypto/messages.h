/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard v1 wire format and every protocol constant, in one place.
 * Lengths are derived from their parts; sizes the whitepaper fixes are pinned
 * by static assertions. Sources: whitepaper §5.4, §6; wireguard.com/protocol.
 */
#ifndef WGD_MESSAGES_H
#define WGD_MESSAGES_H

#include <stdint.h>

enum noise_lengths {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_PRIVATE_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_HASH_LEN = 32,
	NOISE_AUTHTAG_LEN = 16,
	NOISE_TIMESTAMP_LEN = 12, /* TAI64N: 8 bytes seconds + 4 bytes nanoseconds */
	NOISE_PUBLIC_KEY_B64_LEN = (NOISE_PUBLIC_KEY_LEN + 2) / 3 * 4,
	NOISE_PUBLIC_KEY_HEX_LEN = NOISE_PUBLIC_KEY_LEN * 2,
};

#define noise_encrypted_len(plain_len) ((plain_len) + NOISE_AUTHTAG_LEN)

enum cookie_values {
	COOKIE_SECRET_MAX_AGE_S = 2 * 60,
	COOKIE_SECRET_LATENCY_S = 5,
	COOKIE_NONCE_LEN = 24, /* XChaCha20-Poly1305 */
	COOKIE_LEN = 16,
	COOKIE_MAC_LEN = 16, /* keyed BLAKE2s-128 */
};

enum counter_values {
	COUNTER_BITS_TOTAL = 8192,
	COUNTER_REDUNDANT_BITS = 64,					   /* one machine word */
	COUNTER_WINDOW_SIZE = COUNTER_BITS_TOTAL - COUNTER_REDUNDANT_BITS, /* 8128 */
};

/* Whitepaper §6.1 timing constants; the limits are ints, so the big counts are macros. */
enum limits {
	REKEY_TIMEOUT_S = 5,
	REKEY_TIMEOUT_JITTER_MAX_MS = 334,
	REKEY_AFTER_TIME_S = 120,
	REKEY_ATTEMPT_TIME_S = 90,
	REJECT_AFTER_TIME_S = 180,
	INITIATIONS_PER_SECOND = 50,
	MAX_PEERS_PER_DEVICE = 1U << 20,
	KEEPALIVE_TIMEOUT_S = 10,
	MAX_TIMER_HANDSHAKES = REKEY_ATTEMPT_TIME_S / REKEY_TIMEOUT_S,
	MAX_QUEUED_INCOMING_HANDSHAKES = 4096,
	MAX_STAGED_PACKETS = 128,
	MAX_QUEUED_PACKETS = 1024,
};
#define REKEY_AFTER_MESSAGES  (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - COUNTER_WINDOW_SIZE - 1)

#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/*
 * Byte 0 is the type and bytes 1..3 are zero, so the first four bytes read as
 * one little-endian u32 equal to the type (as the kernel and wireguard-go do).
 */
struct message_header {
	uint32_t type; /* little-endian */
} __attribute__((packed));

struct message_macs {
	uint8_t mac1[COOKIE_MAC_LEN];
	uint8_t mac2[COOKIE_MAC_LEN];
} __attribute__((packed));

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[noise_encrypted_len(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[noise_encrypted_len(NOISE_TIMESTAMP_LEN)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[noise_encrypted_len(0)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[noise_encrypted_len(COOKIE_LEN)];
} __attribute__((packed));

struct message_data {
	struct message_header header;
	uint32_t key_idx;
	uint64_t counter; /* little-endian */
	uint8_t encrypted_data[];
} __attribute__((packed));

#define message_data_len(plain_len) (noise_encrypted_len(plain_len) + sizeof(struct message_data))

enum message_alignments {
	MESSAGE_PADDING_MULTIPLE = 16,
	MESSAGE_MINIMUM_LENGTH = message_data_len(0),
};

/* Outer overhead of one data packet: WireGuard header and tag, UDP, IPv4 or IPv6. */
enum message_overhead {
	MESSAGE_OVERHEAD_UDP4 = message_data_len(0) + 8 + 20,
	MESSAGE_OVERHEAD_UDP6 = message_data_len(0) + 8 + 40,
	MESSAGE_MAX_INNER_MTU = 65535 - MESSAGE_OVERHEAD_UDP4,
};

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response size");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie reply size");
_Static_assert(sizeof(struct message_data) == 16, "data header size");
_Static_assert(MESSAGE_MINIMUM_LENGTH == 32, "keepalive size");
_Static_assert(MESSAGE_OVERHEAD_UDP6 == 80, "default MTU is path MTU minus 80");

#endif
