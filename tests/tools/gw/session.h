/* SPDX-License-Identifier: MIT */
/*
 * gwload's side of one WireGuard session with the daemon under test: a real Noise_IKpsk2
 * handshake (crypto/noise.h, mac1 from crypto/cookie.h) in which gwload is the initiator,
 * then sealing and opening transport data with the keypair it yields (crypto/data.h).
 */
#ifndef GWLOAD_SESSION_H
#define GWLOAD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"

struct gw_session {
	struct noise_static_identity id;
	struct noise_keypairs kps; /* current = the session after the handshake */
	uint8_t daemon_public[NOISE_PUBLIC_KEY_LEN];
};

/*
 * Sends an initiation on the connected UDP socket fd and consumes the response (waits
 * up to timeout_ms per attempt, three attempts). False after printing why.
 */
bool gw_session_handshake(struct gw_session *s, int fd, int timeout_ms);

/* Bytes of one sealed datagram carrying plain_len bytes (padding as the daemon's MTU rule). */
size_t gw_sealed_len(size_t plain_len, size_t mtu);

/*
 * Seals the plaintext at msg + 16 in place with the next sending counter; returns the
 * datagram's length, or 0 when the keypair refuses (expired).
 */
size_t gw_seal(struct gw_session *s, uint8_t *msg, size_t plain_len, size_t mtu);

/* Opens one datagram the daemon sealed for us: true if its tag verifies. */
bool gw_open(struct gw_session *s, uint8_t *msg, size_t len);

void gw_session_clear(struct gw_session *s);

#endif
