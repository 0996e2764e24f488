/* SPDX-License-Identifier: MIT */
/* The one session gwload holds with the daemon under test (see session.h). */
#include "tests/tools/gw/session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/messages.h"
#include "wgd/clock.h"

enum { HANDSHAKE_ATTEMPTS = 3 };

/* Waits for the response to our initiation; a cookie reply is taken and reported. */
static int await_response(int fd, int timeout_ms, uint32_t local_index,
			  struct message_handshake_response *resp, struct cookie_maker *maker)
{
	uint8_t buf[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t deadline = clock_boottime_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

	for (;;) {
		uint64_t now = clock_boottime_ns();

		if (now >= deadline ||
		    poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) <= 0)
			return 0;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0)
			continue;
		if ((size_t)n == sizeof(*resp) && buf[0] == MESSAGE_HANDSHAKE_RESPONSE) {
			memcpy(resp, buf, sizeof(*resp));
			if (resp->receiver_index == local_index)
				return 1;
		}
		if ((size_t)n == sizeof(struct message_handshake_cookie) &&
		    buf[0] == MESSAGE_HANDSHAKE_COOKIE &&
		    cookie_message_consume(maker, (const void *)buf, clock_boottime_ns()))
			return -1; /* retry at once, now with mac2 */
	}
}

static bool finish_handshake(struct gw_session *s, struct noise_handshake *hs,
			     const struct message_handshake_response *resp)
{
	if (!noise_handshake_consume_response(hs, resp, &s->id)) {
		fprintf(stderr, "gwload: the daemon's handshake response does not verify\n");
		return false;
	}
	if (!noise_handshake_begin_session(hs, &s->kps, clock_boottime_ns())) {
		fprintf(stderr, "gwload: cannot derive the transport keys\n");
		return false;
	}
	return true;
}

bool gw_session_handshake(struct gw_session *s, int fd, int timeout_ms)
{
	struct noise_handshake hs;
	struct cookie_maker maker;
	struct message_handshake_response resp;
	uint32_t local_index = randombytes_random() | 1;
	bool ok = false;

	noise_handshake_init(&hs, &s->id, s->daemon_public, NULL);
	cookie_maker_init(&maker, s->daemon_public);
	for (int attempt = 0; attempt < HANDSHAKE_ATTEMPTS && !ok; attempt++) {
		struct message_handshake_initiation init;
		int got;

		if (!noise_handshake_create_initiation(&init, &hs, &s->id, local_index,
						       clock_realtime_ns())) {
			fprintf(stderr, "gwload: cannot build an initiation (bad keys?)\n");
			break;
		}
		cookie_add_mac_to_packet((uint8_t *)&init, sizeof(init), &maker,
					 clock_boottime_ns());
		if (send(fd, &init, sizeof(init), 0) < 0) {
			fprintf(stderr, "gwload: sending the initiation: %s\n", strerror(errno));
			break;
		}
		got = await_response(fd, timeout_ms, local_index, &resp, &maker);
		if (got > 0)
			ok = finish_handshake(s, &hs, &resp);
		if (got > 0 && !ok)
			break;
	}
	if (!ok)
		fprintf(stderr, "gwload: no handshake with the daemon after %d attempts\n",
			HANDSHAKE_ATTEMPTS);
	noise_handshake_clear(&hs);
	cookie_maker_clear(&maker);
	return ok;
}

size_t gw_sealed_len(size_t plain_len, size_t mtu)
{
	return message_data_len(data_padded_len(plain_len, mtu));
}

size_t gw_seal(struct gw_session *s, uint8_t *msg, size_t plain_len, size_t mtu)
{
	struct noise_keypair *kp = &s->kps.current;
	uint64_t nonce;

	if (!data_keypair_next_nonce(kp, clock_boottime_ns(), &nonce))
		return 0;
	return data_seal(msg, plain_len, data_padded_len(plain_len, mtu), kp->sending.key,
			 kp->remote_index, nonce);
}

bool gw_open(struct gw_session *s, uint8_t *msg, size_t len)
{
	struct noise_keypair *kp = &s->kps.current;
	const struct message_data *hdr = (const void *)msg;
	size_t plain_len;
	uint64_t nonce;

	if (len < sizeof(*hdr) || msg[0] != MESSAGE_DATA || hdr->key_idx != kp->local_index)
		return false;
	return data_open(msg, len, kp->receiving.key, &plain_len, &nonce);
}

void gw_session_clear(struct gw_session *s)
{
	noise_keypairs_clear(&s->kps);
	noise_static_identity_clear(&s->id);
}
