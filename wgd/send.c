/* SPDX-License-Identifier: MIT */
/*
 * Egress: TUN packet -> allowed-IPs lookup -> staged queue -> sealed on the current
 * keypair -> UDP; plus the handshake initiation and response, cookie replies and
 * keepalives (whitepaper §5.4, §6). Every packet is staged first, as in the kernel's
 * send.c, so ordering survives a pending handshake; the staged queue is flushed at once
 * when a keypair is ready. No allocation here beyond the staged-packet pool.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/cookie.h"
#include "crypto/data.h"
#include "crypto/key.h"
#include "crypto/noise.h"
#include "wgd/aead.h"
#include "wgd/crypt_data.h"
#include "wgd/device.h"
#include "wgd/gso.h"
#include "wgd/log.h"
#include "wgd/packet.h"
#include "wgd/peer.h"
#include "wgd/timers.h"

/* The kernel's wg_birthdate_has_expired: TIMER_OFF (never) has always expired. */
static bool has_expired(uint64_t birth_ns, uint64_t age_ns, uint64_t now_ns)
{
	return birth_ns == TIMER_OFF || birth_ns + age_ns <= now_ns;
}

/* Hands len bytes of sealed messages, each seg bytes but the last, to the socket. */
static bool send_batch(struct peer *peer, uint8_t *buf, size_t len, size_t seg)
{
	int ret;

	/* with crypt threads the batch is sent, sealed, at the next send_commit */
	if (peer->device->crypt) {
		crypt_data_add_send(peer->device, peer, buf, len, seg);
		return true;
	}
	ret = device_udp_send_segments(peer->device, &peer->endpoint, buf, len, seg);

	if (ret == 0)
		peer->tx_bytes += len;
	return ret == 0;
}

void send_flush(struct device *dev)
{
	if (dev->tx_count)
		(void)send_batch(dev->tx_peer, dev->gso_buf, dev->tx_off, dev->tx_seg);
	dev->tx_count = 0;
	dev->tx_off = 0;
	dev->tx_peer = NULL;
}

void send_commit(struct device *dev)
{
	send_flush(dev);
	if (dev->crypt)
		crypt_data_commit(dev);
}

/*
 * Seals a message of a GSO batch in place, or with crypt threads records it to be sealed
 * at the next send_commit. Returns the message length.
 */
static size_t seal_batched(struct device *dev, uint8_t *msg, size_t len, size_t padded,
			   const struct noise_keypair *kp, uint64_t nonce)
{
	if (!dev->crypt)
		return aead_seal(dev->aead, msg, len, padded, kp->sending.key, kp->remote_index,
				 nonce);
	crypt_data_add_seal(dev, msg, len, padded, kp->sending.key, kp->remote_index, nonce);
	return message_data_len(padded);
}

int send_to_peer(struct peer *peer, const void *buf, size_t len)
{
	struct device *dev = peer->device;
	int ret;

	send_commit(dev);
	ret = dev->io.udp_send(dev, &peer->endpoint, buf, len);

	if (ret == 0)
		peer->tx_bytes += len;
	return ret;
}

void send_handshake_initiation(struct peer *peer, bool is_retry, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	struct device *dev = peer->device;
	struct message_handshake_initiation msg;
	uint32_t index;

	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT (whitepaper §6.1). */
	if (!dev->is_up ||
	    !has_expired(peer->last_sent_handshake_ns, REKEY_TIMEOUT_S * NSEC_PER_SEC, now_ns))
		return;
	peer->last_sent_handshake_ns = now_ns;
	index = peer_new_index(peer);
	if (!noise_handshake_create_initiation(&msg, &peer->handshake, &dev->identity, index,
					       dev->io.realtime_ns(dev))) {
		peer_sync_indices(peer);
		return;
	}
	peer_sync_indices(peer);
	log_verbose_rl(&rl, "Sending handshake initiation to peer %llu",
		       (unsigned long long)peer->id);
	cookie_add_mac_to_packet((uint8_t *)&msg, sizeof(msg), &peer->cookie, now_ns);
	timers_event_any_authenticated_packet_traversal(peer, now_ns);
	timers_event_any_authenticated_packet_sent(peer, now_ns);
	(void)send_to_peer(peer, &msg, sizeof(msg));
	timers_event_handshake_initiated(peer, now_ns);
}

/* The end of a response made here or on a crypt thread: macs, session ("next"), send. */
static void send_response_made(struct peer *peer, struct message_handshake_response *msg,
			       uint64_t now_ns)
{
	static struct log_ratelimit rl;

	cookie_add_mac_to_packet((uint8_t *)msg, sizeof(*msg), &peer->cookie, now_ns);
	/* The responder's keypair waits in "next" until the initiator's data confirms it. */
	if (!noise_handshake_begin_session(&peer->handshake, &peer->keypairs, now_ns)) {
		peer_sync_indices(peer);
		return;
	}
	peer_sync_indices(peer);
	log_verbose_rl(&rl, "Sending handshake response to peer %llu",
		       (unsigned long long)peer->id);
	timers_event_session_derived(peer, now_ns);
	timers_event_any_authenticated_packet_traversal(peer, now_ns);
	timers_event_any_authenticated_packet_sent(peer, now_ns);
	(void)send_to_peer(peer, msg, sizeof(*msg));
}

void send_handshake_response(struct peer *peer, uint64_t now_ns)
{
	struct device *dev = peer->device;
	struct message_handshake_response msg;
	uint32_t index;

	peer->last_sent_handshake_ns = now_ns;
	index = peer_new_index(peer);
	if (!noise_handshake_create_response(&msg, &peer->handshake, &dev->identity, index)) {
		peer_sync_indices(peer);
		return;
	}
	send_response_made(peer, &msg, now_ns);
}

void send_handshake_response_prepared(struct peer *peer, struct message_handshake_response *msg,
				      const struct noise_handshake *prepared, uint64_t now_ns)
{
	uint32_t index;

	peer->last_sent_handshake_ns = now_ns;
	index = peer_new_index(peer);
	noise_handshake_adopt(&peer->handshake, prepared);
	peer->handshake.local_index = index;
	msg->sender_index = htole32(index);
	send_response_made(peer, msg, now_ns);
}

void send_cookie_reply(struct device *dev, const uint8_t *msg, size_t len, uint32_t sender_index,
		       struct endpoint *to, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	struct message_handshake_cookie reply;
	uint8_t src[ENDPOINT_COOKIE_BYTES_MAX];
	size_t src_len = endpoint_cookie_bytes(&to->addr, src);

	if (!src_len)
		return;
	log_verbose_rl(&rl, "Sending cookie reply under load");
	cookie_message_create(&reply, msg, len, sender_index, &dev->cookie_checker, src, src_len,
			      now_ns);
	(void)dev->io.udp_send(dev, to, &reply, sizeof(reply));
}

/* Initiator rekey on send: old keypair by time, or any keypair by count (§6.2). */
static void keep_key_fresh(struct peer *peer, uint64_t now_ns)
{
	const struct noise_keypair *kp = &peer->keypairs.current;

	if (!kp->sending.is_valid)
		return;
	if (kp->sending_counter > REKEY_AFTER_MESSAGES ||
	    (kp->i_am_the_initiator &&
	     has_expired(kp->sending.birthdate_ns, REKEY_AFTER_TIME_S * NSEC_PER_SEC, now_ns)))
		send_handshake_initiation(peer, false, now_ns);
}

/*
 * Seals the plaintext at dev->tx_buf + sizeof(struct message_data) with nonce and sends
 * it. True when a data packet (not a keepalive) left.
 */
static bool seal_and_send(struct peer *peer, const struct noise_keypair *kp, size_t len,
			  uint64_t nonce)
{
	struct device *dev = peer->device;
	size_t padded = data_padded_len(len, dev->mtu);
	size_t msg_len;

	msg_len = aead_seal(dev->aead, dev->tx_buf, len, padded, kp->sending.key, kp->remote_index,
			    nonce);
	return send_to_peer(peer, dev->tx_buf, msg_len) == 0 && len > 0;
}

/* Timer bookkeeping after a batch of data messages, as the kernel's create_data_done. */
static void data_batch_done(struct peer *peer, bool data_sent, uint64_t now_ns)
{
	if (data_sent)
		timers_event_data_sent(peer, now_ns);
	keep_key_fresh(peer, now_ns);
}

void send_staged_packets(struct peer *peer, uint64_t now_ns)
{
	struct device *dev = peer->device;
	struct noise_keypair *kp = &peer->keypairs.current;
	struct packet_queue batch = peer->staged;
	struct packet_buf *b;
	bool data_sent = false, sent_any = false;
	uint64_t nonce;

	packet_queue_init(&peer->staged);
	while ((b = packet_queue_pop(&batch))) {
		if (!data_keypair_next_nonce(kp, now_ns, &nonce)) {
			/* No usable key: keep the rest in order and start a handshake. */
			packet_queue_push(&peer->staged, b);
			while ((b = packet_queue_pop(&batch)))
				packet_queue_push(&peer->staged, b);
			send_handshake_initiation(peer, false, now_ns);
			break;
		}
		if (!sent_any) {
			timers_event_any_authenticated_packet_traversal(peer, now_ns);
			timers_event_any_authenticated_packet_sent(peer, now_ns);
			sent_any = true;
		}
		memcpy(dev->tx_buf + sizeof(struct message_data), b->data, b->len);
		data_sent |= seal_and_send(peer, kp, b->len, nonce);
		packet_pool_put(&dev->pool, b);
	}
	if (sent_any)
		data_batch_done(peer, data_sent, now_ns);
}

/*
 * A keepalive is an empty data message: it is sealed on the stack, never staged, so it
 * goes out even while other peers' staged packets hold the whole pool. With packets
 * staged those go instead, as in the kernel; without a usable key, a handshake starts.
 */
void send_keepalive(struct peer *peer, uint64_t now_ns)
{
	static struct log_ratelimit rl;
	struct noise_keypair *kp = &peer->keypairs.current;
	uint8_t msg[message_data_len(0)];
	uint64_t nonce;

	if (peer->staged.len) {
		send_staged_packets(peer, now_ns);
		return;
	}
	if (!data_keypair_next_nonce(kp, now_ns, &nonce)) {
		send_handshake_initiation(peer, false, now_ns);
		return;
	}
	log_verbose_rl(&rl, "Sending keepalive packet to peer %llu", (unsigned long long)peer->id);
	timers_event_any_authenticated_packet_traversal(peer, now_ns);
	timers_event_any_authenticated_packet_sent(peer, now_ns);
	(void)send_to_peer(
		peer, msg,
		aead_seal(peer->device->aead, msg, 0, 0, kp->sending.key, kp->remote_index, nonce));
	data_batch_done(peer, false, now_ns);
}

/* The inner destination (network order) of an IP packet, or 0 if it is not one. */
static int packet_dst(const uint8_t *pkt, size_t len, const uint8_t **dst)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		*dst = pkt + 16;
		return AF_INET;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		*dst = pkt + 24;
		return AF_INET6;
	}
	return 0;
}

/*
 * The peer holding the most staged packets. Called only when the pool is exhausted
 * and the stager is below its guaranteed share, so not per packet in a steady state.
 */
static struct peer *longest_staged(struct device *dev)
{
	struct peer *p, *longest = dev->peers_first;

	for (p = dev->peers_first; p; p = p->next)
		if (p->staged.len > longest->staged.len)
			longest = p;
	return longest;
}

/*
 * Frees one buffer of the exhausted pool for peer, or returns false. Each peer is
 * guaranteed a share of PACKET_POOL_MAX / peers (at least one buffer): at or above it,
 * the peer recycles its own oldest packet; below it, the peer with the longest queue
 * (above the share, by pigeonhole, unless there are more peers than buffers) gives up
 * its oldest. So offline peers with full queues cannot keep any other peer from staging.
 */
static bool reclaim_buffer(struct peer *peer)
{
	struct device *dev = peer->device;
	size_t share = PACKET_POOL_MAX / (dev->peers_len ? dev->peers_len : 1);
	struct peer *victim = peer;

	if (peer->staged.len < (share ? share : 1)) {
		victim = longest_staged(dev);
		if (victim->staged.len <= peer->staged.len + 1)
			return false;
	}
	if (!victim->staged.len)
		return false;
	packet_pool_put(&dev->pool, packet_queue_pop(&victim->staged));
	return true;
}

/*
 * Stages a copy, dropping the oldest staged packet when the queue is full (§6.2) or
 * reclaiming a buffer when the pool is. False when the packet could not be staged.
 */
static bool stage_packet(struct peer *peer, const uint8_t *pkt, size_t len)
{
	struct device *dev = peer->device;
	struct packet_buf *b;

	if (peer->staged.len >= MAX_STAGED_PACKETS)
		packet_pool_put(&dev->pool, packet_queue_pop(&peer->staged));
	else if (packet_pool_exhausted(&dev->pool) && !reclaim_buffer(peer))
		return false;
	b = packet_pool_get(&dev->pool, pkt, len);
	if (b)
		packet_queue_push(&peer->staged, b);
	return b != NULL;
}

/*
 * A packet that could not be staged (no buffer) still needs the session it was waiting
 * for: without one, the handshake starts here, since send_staged_packets sees nothing.
 */
static void stage_or_handshake(struct peer *peer, const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	static struct log_ratelimit rl;

	if (stage_packet(peer, pkt, len))
		return;
	log_verbose_rl(&rl, "No buffer to stage a packet for peer %llu, dropping it",
		       (unsigned long long)peer->id);
	/* staged is empty only when the key could not send: see the callers' fast paths */
	if (!peer->staged.len)
		send_handshake_initiation(peer, false, now_ns);
}

/*
 * Whether pkt is one of our own datagrams come back through the TUN: UDP from our listen
 * port carrying a WireGuard message. That happens when a peer's endpoint is routed
 * through the tunnel itself; sealing it again would send it round for ever, each turn
 * larger and, once fragmented, in more pieces. The kernel stops the same loop with a
 * recursion counter on its own device. Only an unfragmented datagram or a first
 * fragment has the UDP header; a later fragment goes round once and is caught as a
 * whole datagram on its next turn, so the loop is bounded either way.
 */
static bool is_own_datagram(const struct device *dev, const uint8_t *pkt, size_t len)
{
	size_t l4;

	if (!dev->sock.port)
		return false;
	if (len >= 20 && pkt[0] >> 4 == 4) {
		l4 = (size_t)(pkt[0] & 0x0f) * 4;
		/* UDP, and fragment offset 0 (flags and offset share bytes 6-7) */
		if (pkt[9] != IPPROTO_UDP || ((pkt[6] & 0x1f) | pkt[7]))
			return false;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		l4 = 40;
		if (pkt[6] != IPPROTO_UDP)
			return false;
	} else {
		return false;
	}
	if (len < l4 + 8 || (size_t)(pkt[l4] << 8 | pkt[l4 + 1]) != dev->sock.port)
		return false;
	return receive_classify(pkt + l4 + 8, len - l4 - 8) != MESSAGE_INVALID;
}

/* The peer that routes pkt's destination and has an endpoint, or NULL (logged). */
static struct peer *route(struct device *dev, const uint8_t *pkt, size_t len)
{
	static struct log_ratelimit rl_route, rl_endpoint, rl_loop;
	const uint8_t *dst;
	struct peer *peer;
	int family = packet_dst(pkt, len, &dst);

	if (!family)
		return NULL;
	if (is_own_datagram(dev, pkt, len)) {
		dev->tun_loops++;
		log_verbose_rl(&rl_loop,
			       "Routing loop: our own datagram came back through the tunnel (is a"
			       " peer's endpoint routed through it?), dropping it (%llu so far)",
			       (unsigned long long)dev->tun_loops);
		return NULL;
	}
	peer = allowedips_lookup(&dev->allowedips, family, dst);
	if (!peer) {
		log_verbose_rl(&rl_route, "No peer has allowed IPs for a packet's destination");
		return NULL;
	}
	if (!peer->endpoint.addr.sa.sa_family) {
		log_verbose_rl(&rl_endpoint, "No endpoint configured or discovered for peer %llu",
			       (unsigned long long)peer->id);
		return NULL;
	}
	return peer;
}

/*
 * Seals pkt onto the device's pending batch, flushing first when the batch belongs to
 * another peer or cannot take a message of this length (GSO cuts every message of a
 * batch to the first one's length; only the last may be shorter).
 */
static void seal_pending(struct peer *peer, const uint8_t *pkt, size_t len, uint64_t nonce)
{
	struct device *dev = peer->device;
	const struct noise_keypair *kp = &peer->keypairs.current;
	size_t padded = data_padded_len(len, dev->mtu), msg_len = message_data_len(padded);

	if (dev->tx_count &&
	    (dev->tx_peer != peer || msg_len > dev->tx_seg || dev->tx_off % dev->tx_seg ||
	     dev->tx_count == UDP_SOCKET_GSO_MAX_SEGMENTS ||
	     dev->tx_off + msg_len > UDP_SOCKET_GSO_MAX_BYTES))
		send_flush(dev);
	memcpy(dev->gso_buf + dev->tx_off + sizeof(struct message_data), pkt, len);
	(void)seal_batched(dev, dev->gso_buf + dev->tx_off, len, padded, kp, nonce);
	if (!dev->tx_count) {
		dev->tx_peer = peer;
		dev->tx_seg = msg_len;
	}
	dev->tx_off += msg_len;
	dev->tx_count++;
}

void send_tun_packet(struct device *dev, size_t len, uint64_t now_ns)
{
	uint8_t *pkt = dev->tx_buf + sizeof(struct message_data);
	struct peer *peer = route(dev, pkt, len);
	uint64_t nonce;

	if (!peer)
		return;
	/* Fast path: nothing queued ahead and a usable key, so seal into the batch. */
	if (!peer->staged.len && data_keypair_next_nonce(&peer->keypairs.current, now_ns, &nonce)) {
		timers_event_any_authenticated_packet_traversal(peer, now_ns);
		timers_event_any_authenticated_packet_sent(peer, now_ns);
		seal_pending(peer, pkt, len, nonce);
		if (!device_udp_is_batched(dev))
			send_flush(dev);
		data_batch_done(peer, len > 0, now_ns);
		return;
	}
	send_flush(dev);
	stage_or_handshake(peer, pkt, len, now_ns);
	send_staged_packets(peer, now_ns);
}

/*
 * Seals segments of gp straight into dev->gso_buf, on consecutive counters, and sends
 * them in batches the kernel cuts up again (UDP GSO): every message of a batch but the
 * last has the same length. Returns how many segments left; stops early when the
 * keypair cannot send.
 */
static unsigned int seal_segments(struct peer *peer, const struct gso_packet *gp, uint64_t now_ns)
{
	struct device *dev = peer->device;
	struct noise_keypair *kp = &peer->keypairs.current;
	size_t off = 0, seg = 0, plain, padded, msg_len;
	unsigned int i, n = 0;
	uint64_t nonce;

	for (i = 0; i < gp->segments; i++) {
		plain = gso_segment_len(gp, i);
		padded = data_padded_len(plain, dev->mtu);
		msg_len = message_data_len(padded);
		if (n && (msg_len > seg || off % seg || n == UDP_SOCKET_GSO_MAX_SEGMENTS ||
			  off + msg_len > UDP_SOCKET_GSO_MAX_BYTES)) {
			(void)send_batch(peer, dev->gso_buf, off, seg);
			off = 0;
			n = 0;
		}
		if (!data_keypair_next_nonce(kp, now_ns, &nonce))
			break;
		if (!i) {
			timers_event_any_authenticated_packet_traversal(peer, now_ns);
			timers_event_any_authenticated_packet_sent(peer, now_ns);
		}
		(void)gso_segment(gp, i, dev->gso_buf + off + sizeof(struct message_data));
		(void)seal_batched(dev, dev->gso_buf + off, plain, padded, kp, nonce);
		if (!n)
			seg = msg_len;
		off += msg_len;
		n++;
	}
	if (n)
		(void)send_batch(peer, dev->gso_buf, off, seg);
	return i;
}

void send_tun_gso(struct device *dev, const struct gso_packet *gp, uint64_t now_ns)
{
	struct peer *peer = route(dev, gp->pkt, gp->len);
	unsigned int i = 0;
	uint8_t *scratch;

	send_flush(dev); /* gso_buf is needed here */
	if (!peer)
		return;
	if (!peer->staged.len) {
		i = seal_segments(peer, gp, now_ns);
		if (i)
			data_batch_done(peer, true, now_ns);
		if (i == gp->segments)
			return;
	}
	/*
	 * No session (or a queue ahead): stage the rest in order, then flush as usual. With
	 * crypt threads gso_buf has moved past the batches recorded above.
	 */
	scratch = dev->gso_buf + sizeof(struct message_data);
	for (; i < gp->segments; i++)
		stage_or_handshake(peer, scratch, gso_segment(gp, i, scratch), now_ns);
	send_staged_packets(peer, now_ns);
}
