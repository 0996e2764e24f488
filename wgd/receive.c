/* SPDX-License-Identifier: MIT */
/*
 * Ingress: UDP datagram -> framing check -> handshake (mac1, cookie under load, Noise) or
 * data (index -> keypair -> AEAD -> replay window -> inner-packet checks -> crypto-key
 * routing source check -> TUN). Anything unexpected is dropped, never asserted on
 * (STYLE B5.6). The endpoint is updated only from authenticated packets (whitepaper §2.1
 * roaming), and rx_bytes counts whole authenticated messages, as the kernel does.
 *
 * Handshake messages read from the socket reach receive_datagram later than the data
 * read with them: device.c queues them (wgd/hsqueue.h) and processes them a budget at a
 * time, at the time they are taken from the queue.
 *
 * "Under load" (PROTOCOL §6) has two triggers, both evaluated when a handshake message is
 * processed, and either one makes the device under load until one second after the last
 * time it fired:
 *  - the backlog, as in the kernel and wireguard-go: HSQUEUE_LOAD (128, 1/8 of the queue)
 *    or more messages queued, counting the one being processed, as the kernel does;
 *  - the rate, as in boringtun: handshake messages with a valid mac1 are counted in fixed
 *    one-second windows, and a window reaching RECEIVE_LOAD_THRESHOLD fires. It catches a
 *    flood that this loop keeps up with, so that the queue never fills, before it costs a
 *    DH per message.
 * Under load a handshake without a valid mac2 gets a cookie reply instead of a DH, and one
 * with a valid mac2 must pass the per-source ratelimiter (20/s, burst 5).
 */
#include <endian.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/noise.h"
#include "crypto/replay.h"
#include "wgd/aead.h"
#include "wgd/device.h"
#include "wgd/hsqueue.h"
#include "wgd/log.h"
#include "wgd/packet.h"
#include "wgd/peer.h"
#include "wgd/timers.h"

enum receive_values {
	/* wireguard-go's queue threshold (1024 / 8), read as handshakes per second */
	RECEIVE_LOAD_THRESHOLD = 128,
	IPV4_HEADER_LEN = 20,
	IPV6_HEADER_LEN = 40,
};

enum message_type receive_classify(const uint8_t *buf, size_t len)
{
	uint32_t type;

	if (len < sizeof(type))
		return MESSAGE_INVALID;
	/* One LE u32: reserved bytes 1..3 must be zero for a type to match. */
	memcpy(&type, buf, sizeof(type));
	switch (le32toh(type)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == sizeof(struct message_handshake_initiation)
			       ? MESSAGE_HANDSHAKE_INITIATION
			       : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == sizeof(struct message_handshake_response) ? MESSAGE_HANDSHAKE_RESPONSE
									: MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == sizeof(struct message_handshake_cookie) ? MESSAGE_HANDSHAKE_COOKIE
								      : MESSAGE_INVALID;
	case MESSAGE_DATA:
		/* Padding is capped by the MTU, so no multiple-of-16 rule on the length. */
		return len >= MESSAGE_MINIMUM_LENGTH ? MESSAGE_DATA : MESSAGE_INVALID;
	default:
		return MESSAGE_INVALID;
	}
}

static bool is_under_load(struct device *dev, uint64_t now_ns)
{
	if (hsqueue_len(&dev->hsq) >= HSQUEUE_LOAD)
		dev->last_under_load_ns = now_ns;
	return dev->last_under_load_ns != TIMER_OFF && now_ns >= dev->last_under_load_ns &&
	       now_ns - dev->last_under_load_ns < NSEC_PER_SEC;
}

/* Counts one mac1-valid handshake message in the current one-second window. */
static void count_handshake(struct device *dev, uint64_t now_ns)
{
	if (now_ns < dev->load_window_start_ns ||
	    now_ns - dev->load_window_start_ns >= NSEC_PER_SEC) {
		dev->load_window_start_ns = now_ns;
		dev->load_window_handshakes = 0;
	}
	if (++dev->load_window_handshakes >= RECEIVE_LOAD_THRESHOLD)
		dev->last_under_load_ns = now_ns;
}

static const void *endpoint_ip(const struct endpoint *ep)
{
	if (ep->addr.sa.sa_family == AF_INET)
		return &ep->addr.in4.sin_addr;
	return &ep->addr.in6.sin6_addr;
}

struct noise_handshake *receive_lookup_handshake(void *ctx, const uint8_t *remote_static)
{
	struct peer *p = device_lookup_peer(ctx, remote_static);

	return p ? &p->handshake : NULL;
}

static struct peer *receive_initiation(struct device *dev, const uint8_t *buf,
				       struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	const struct message_handshake_initiation *m = (const void *)buf;
	struct noise_handshake *hs;
	struct peer *p;

	hs = noise_handshake_consume_initiation(m, &dev->identity, receive_lookup_handshake, dev,
						now_ns);
	if (!hs) {
		log_verbose_rl(&rl, "Invalid handshake initiation");
		return NULL;
	}
	p = container_of(hs, struct peer, handshake);
	peer_set_endpoint(p, from);
	log_verbose_rl(&rl, "Receiving handshake initiation from peer %llu",
		       (unsigned long long)p->id);
	send_handshake_response(p, now_ns);
	return p;
}

/* A response consumed: roaming, the session (current at once), the timers. */
static bool response_consumed(struct peer *p, struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	bool confirm;

	peer_set_endpoint(p, from);
	log_verbose_rl(&rl, "Receiving handshake response from peer %llu",
		       (unsigned long long)p->id);
	confirm = noise_handshake_begin_session(&p->handshake, &p->keypairs, now_ns);
	peer_sync_indices(p);
	if (confirm) {
		timers_event_session_derived(p, now_ns);
		timers_event_handshake_complete(p, now_ns);
	}
	return confirm;
}

/* *confirm: a session began and the caller must confirm it once the timers are updated. */
static struct peer *receive_response(struct device *dev, const uint8_t *buf, struct endpoint *from,
				     uint64_t now_ns, bool *confirm)
{
	static struct log_ratelimit rl;
	const struct message_handshake_response *m = (const void *)buf;
	struct peer *p = index_table_lookup(&dev->index, le32toh(m->receiver_index));

	if (!p || !noise_handshake_consume_response(&p->handshake, m, &dev->identity)) {
		log_verbose_rl(&rl, "Invalid handshake response");
		return NULL;
	}
	*confirm = response_consumed(p, from, now_ns);
	return p;
}

bool receive_mac1_valid(struct device *dev, const uint8_t *buf, size_t len)
{
	return dev->identity.has_identity &&
	       cookie_validate_packet(&dev->cookie_checker, buf, len, NULL, 0, false, 0) !=
		       INVALID_MAC;
}

/*
 * mac1 always (checked again: the key may have changed while the message was queued);
 * under load mac2 or a cookie reply, then the per-source limit. */
bool receive_handshake_admitted(struct device *dev, const uint8_t *buf, size_t len,
				struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	bool under_load = is_under_load(dev, now_ns);
	uint8_t src[ENDPOINT_COOKIE_BYTES_MAX];
	size_t src_len = endpoint_cookie_bytes(&from->addr, src);
	enum cookie_mac_state state;
	uint32_t sender_index;

	if (!dev->identity.has_identity || !src_len)
		return false;
	state = cookie_validate_packet(&dev->cookie_checker, buf, len, src, src_len, under_load,
				       now_ns);
	if (state == INVALID_MAC) {
		log_verbose_rl(&rl, "Invalid MAC of handshake, dropping packet");
		return false;
	}
	count_handshake(dev, now_ns);
	if (!under_load)
		return true;
	if (state != VALID_MAC_WITH_COOKIE) {
		/* Initiation and response both carry sender_index at offset 4. */
		memcpy(&sender_index, buf + sizeof(struct message_header), sizeof(sender_index));
		send_cookie_reply(dev, buf, len, le32toh(sender_index), from, now_ns);
		return false;
	}
	return ratelimiter_allow(&dev->ratelimiter, from->addr.sa.sa_family, endpoint_ip(from),
				 now_ns);
}

/*
 * The kernel sends data asynchronously, so the receive-side timer events of a packet
 * always precede the send-side events it provokes; this single thread keeps that order
 * by updating the receive timers before sending anything in reply.
 */
static void received_authenticated(struct peer *p, size_t len, uint64_t now_ns)
{
	p->rx_bytes += len;
	timers_event_any_authenticated_packet_received(p, now_ns);
	timers_event_any_authenticated_packet_traversal(p, now_ns);
}

/* After a handshake message from p: the receive timers, then a new session's confirmation. */
static void received_authenticated_after(struct peer *p, bool confirm, size_t len, uint64_t now_ns)
{
	received_authenticated(p, len, now_ns);
	/* Staged packets confirm the new session; with none queued, a keepalive does. */
	if (confirm)
		send_keepalive(p, now_ns);
}

static void receive_handshake(struct device *dev, enum message_type type, const uint8_t *buf,
			      size_t len, struct endpoint *from, uint64_t now_ns)
{
	bool confirm = false;
	struct peer *p;

	if (!receive_handshake_admitted(dev, buf, len, from, now_ns))
		return;
	if (type == MESSAGE_HANDSHAKE_INITIATION)
		p = receive_initiation(dev, buf, from, now_ns);
	else
		p = receive_response(dev, buf, from, now_ns, &confirm);
	if (p)
		received_authenticated_after(p, confirm, len, now_ns);
}

void receive_initiation_prepared(struct peer *p, const struct noise_initiation *in,
				 struct message_handshake_response *msg,
				 const struct noise_handshake *prepared, size_t len,
				 struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;

	/* checked again: an initiation of the same batch may have been taken meanwhile */
	if (!noise_handshake_accept_initiation(&p->handshake, in, now_ns)) {
		log_verbose_rl(&rl, "Invalid handshake initiation");
		return;
	}
	peer_set_endpoint(p, from);
	log_verbose_rl(&rl, "Receiving handshake initiation from peer %llu",
		       (unsigned long long)p->id);
	send_handshake_response_prepared(p, msg, prepared, now_ns);
	received_authenticated(p, len, now_ns);
}

void receive_response_prepared(struct peer *p, const struct noise_handshake *consumed, size_t len,
			       struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;

	/* the copy is stale if a new initiation (a new local index) or a session came since */
	if (p->handshake.state != HANDSHAKE_CREATED_INITIATION ||
	    p->handshake.local_index != consumed->local_index) {
		log_verbose_rl(&rl, "Invalid handshake response");
		return;
	}
	noise_handshake_adopt(&p->handshake, consumed);
	received_authenticated_after(p, response_consumed(p, from, now_ns), len, now_ns);
}

static void receive_cookie(struct device *dev, const uint8_t *buf, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	const struct message_handshake_cookie *m = (const void *)buf;
	struct peer *p = index_table_lookup(&dev->index, le32toh(m->receiver_index));

	if (!p || !cookie_message_consume(&p->cookie, m, now_ns))
		log_verbose_rl(&rl, "Could not decrypt invalid cookie response");
}

/* Initiator rekey on receive, once, before the keypair dies (whitepaper §6.2). */
static void keep_key_fresh(struct peer *p, uint64_t now_ns)
{
	const struct noise_keypair *kp = &p->keypairs.current;
	uint64_t age = (uint64_t)(REJECT_AFTER_TIME_S - KEEPALIVE_TIMEOUT_S - REKEY_TIMEOUT_S) *
		       NSEC_PER_SEC;

	if (p->timers.sent_lastminute_handshake || !kp->sending.is_valid ||
	    !kp->i_am_the_initiator || kp->sending.birthdate_ns + age > now_ns)
		return;
	p->timers.sent_lastminute_handshake = true;
	send_handshake_initiation(p, false, now_ns);
}

/*
 * The inner packet's length from its IP header, or 0 when it is not a well-formed IPv4
 * or IPv6 packet that fits in the len decrypted bytes. *family and *src are set.
 */
static size_t inner_packet_len(const uint8_t *pkt, size_t len, int *family, const void **src)
{
	size_t ip_len, hdr_len;

	if (len >= IPV4_HEADER_LEN && pkt[0] >> 4 == 4) {
		hdr_len = (size_t)(pkt[0] & 0x0f) * 4;
		ip_len = (size_t)pkt[2] << 8 | pkt[3];
		if (hdr_len < IPV4_HEADER_LEN || ip_len < hdr_len || ip_len > len)
			return 0;
		*family = AF_INET;
		*src = pkt + 12;
		return ip_len;
	}
	if (len >= IPV6_HEADER_LEN && pkt[0] >> 4 == 6) {
		ip_len = ((size_t)pkt[4] << 8 | pkt[5]) + IPV6_HEADER_LEN;
		if (ip_len > len)
			return 0;
		*family = AF_INET6;
		*src = pkt + 8;
		return ip_len;
	}
	return 0;
}

/* Authenticated data: validate, apply crypto-key routing on the source, deliver. */
static void deliver_data(struct peer *p, uint8_t *pkt, size_t plain_len, size_t msg_len,
			 uint64_t now_ns)
{
	static struct log_ratelimit rl_size, rl_src;
	struct device *dev = p->device;
	const void *src;
	int family;
	size_t ip_len;

	received_authenticated(p, 0, now_ns);
	if (!plain_len) {
		p->rx_bytes += msg_len; /* a keepalive */
		return;
	}
	timers_event_data_received(p, now_ns);
	ip_len = inner_packet_len(pkt, plain_len, &family, &src);
	if (!ip_len) {
		log_verbose_rl(&rl_size, "Packet from peer %llu is not a valid IP packet",
			       (unsigned long long)p->id);
		return;
	}
	if (allowedips_lookup(&dev->allowedips, family, src) != p) {
		log_verbose_rl(&rl_src, "Packet has unallowed src IP from peer %llu",
			       (unsigned long long)p->id);
		return;
	}
	/* Padding is trimmed to the IP total length. */
	device_tun_write(dev, pkt, ip_len);
	p->rx_bytes += msg_len;
}

/*
 * What follows a successful data_open: the replay window (after authentication), roaming,
 * key confirmation, delivery. On the loop thread, whichever thread opened the message.
 */
static void receive_data_accept(struct peer *p, struct noise_keypair *kp, uint8_t *buf, size_t len,
				size_t plain_len, uint64_t nonce, struct endpoint *from,
				uint64_t now_ns)
{
	static struct log_ratelimit rl;
	bool confirmed;

	if (!replay_counter_validate(&kp->receiving_counter, nonce)) {
		log_verbose_rl(&rl, "Packet from peer %llu has invalid nonce %llu",
			       (unsigned long long)p->id, (unsigned long long)nonce);
		return;
	}
	peer_set_endpoint(p, from);
	/* The first data under "next" confirms the responder's keypair (§5.4.6). */
	confirmed = noise_keypairs_received_with(&p->keypairs, kp);
	if (confirmed) {
		peer_sync_indices(p);
		timers_event_handshake_complete(p, now_ns);
	}
	deliver_data(p, buf + sizeof(struct message_data), plain_len, len, now_ns);
	/* Replies last, as the kernel's asynchronous sends land after the receive events. */
	if (confirmed)
		send_staged_packets(p, now_ns);
	keep_key_fresh(p, now_ns);
}

struct noise_keypair *receive_data_keypair(struct device *dev, const uint8_t *buf, uint64_t now_ns,
					   struct peer **peer)
{
	const struct message_data *m = (const void *)buf;
	uint32_t index = le32toh(m->key_idx);
	struct peer *p = index_table_lookup(&dev->index, index);
	struct noise_keypair *kp = p ? noise_keypairs_lookup(&p->keypairs, index) : NULL;

	*peer = p;
	return kp && data_keypair_can_receive(kp, now_ns) ? kp : NULL;
}

static void receive_data(struct device *dev, uint8_t *buf, size_t len, struct endpoint *from,
			 uint64_t now_ns)
{
	struct peer *p;
	struct noise_keypair *kp = receive_data_keypair(dev, buf, now_ns, &p);
	size_t plain_len;
	uint64_t nonce;

	if (!kp)
		return;
	if (!aead_open(dev->aead, buf, len, kp->receiving.key, &plain_len, &nonce))
		return;
	receive_data_accept(p, kp, buf, len, plain_len, nonce, from, now_ns);
}

void receive_data_opened(struct device *dev, uint8_t *buf, size_t len, size_t plain_len,
			 uint64_t nonce, struct endpoint *from, uint64_t now_ns)
{
	struct peer *p;
	/*
	 * Found again by index: a packet processed since the open may have moved the keypair
	 * to another slot (confirmation) or dropped it; a local index names one keypair only.
	 */
	struct noise_keypair *kp = receive_data_keypair(dev, buf, now_ns, &p);

	if (dev->is_up && kp)
		receive_data_accept(p, kp, buf, len, plain_len, nonce, from, now_ns);
}

void receive_datagram(struct device *dev, uint8_t *buf, size_t len, struct endpoint *from,
		      uint64_t now_ns)
{
	receive_message(dev, receive_classify(buf, len), buf, len, from, now_ns);
}

void receive_message(struct device *dev, enum message_type type, uint8_t *buf, size_t len,
		     struct endpoint *from, uint64_t now_ns)
{
	static struct log_ratelimit rl;

	/* A down link receives nothing (its sockets are closed: see device_set_up). */
	if (!dev->is_up)
		return;
	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
		receive_handshake(dev, type, buf, len, from, now_ns);
		break;
	case MESSAGE_HANDSHAKE_COOKIE:
		receive_cookie(dev, buf, now_ns);
		break;
	case MESSAGE_DATA:
		receive_data(dev, buf, len, from, now_ns);
		break;
	default:
		log_verbose_rl(&rl, "Invalid packet dropped");
		break;
	}
}
