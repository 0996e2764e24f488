/* SPDX-License-Identifier: MIT */
/*
 * Per-peer protocol timers (whitepaper §6.1-§6.5; the Linux driver's timers.c has the
 * same five). Deadlines are absolute CLOCK_BOOTTIME ns, TIMER_OFF when disarmed; "jitter"
 * is a fresh draw in [0, REKEY_TIMEOUT_JITTER_MAX_MS) ms.
 *
 *   timer                 armed by event (deadline)           disarmed by       on expiry
 *   --------------------  ----------------------------------  ----------------  ---------------
 *   retransmit_handshake  handshake_initiated (+5 s + jit.)   handshake_        resend the
 *                                                             complete          initiation; past
 *                                                                               MAX_TIMER_HAND-
 *                                                                               SHAKES: give up,
 *                                                                               drop staged, arm
 *                                                                               zero_key
 *   send_keepalive        data_received if unarmed, else      any authenti-     send a keepalive;
 *                         note "need another" (+10 s)         cated packet sent re-arm if noted
 *   new_handshake         data_sent if unarmed (+15 s + jit.) any authenti-     new handshake
 *                                                             cated packet rcvd
 *   zero_key_material     session_derived (+540 s)            -                 wipe handshake
 *                                                                               and keypairs
 *   persistent_keepalive  any authenticated packet sent or    -                 send a keepalive
 *                         received, if interval set (+intvl)
 *
 * Timers are armed only while the device is up. The heap orders peers by their earliest
 * deadline: a peer sits in it for its whole life, with key TIMER_OFF when idle.
 */
#include "wgd/timers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/messages.h"
#include "wgd/device.h"
#include "wgd/endpoints.h"
#include "wgd/packet.h"
#include "wgd/peer.h"

static uint64_t peer_key(const struct peer *p)
{
	const struct peer_timers *t = &p->timers;
	uint64_t m = t->retransmit_handshake_ns;

	if (t->send_keepalive_ns < m)
		m = t->send_keepalive_ns;
	if (t->new_handshake_ns < m)
		m = t->new_handshake_ns;
	if (t->zero_key_material_ns < m)
		m = t->zero_key_material_ns;
	if (t->persistent_keepalive_ns < m)
		m = t->persistent_keepalive_ns;
	return m;
}

void timers_heap_init(struct timers_heap *h)
{
	memset(h, 0, sizeof(*h));
}

void timers_heap_free(struct timers_heap *h)
{
	free(h->items);
	timers_heap_init(h);
}

int timers_heap_reserve(struct timers_heap *h, size_t peers)
{
	struct peer **items;

	if (peers <= h->cap)
		return 0;
	items = reallocarray(h->items, peers, sizeof(*items));
	if (!items)
		return -ENOMEM;
	h->items = items;
	h->cap = peers;
	return 0;
}

static void heap_set(struct timers_heap *h, size_t i, struct peer *p)
{
	h->items[i] = p;
	p->timers.heap_pos = i;
}

static void heap_sift_up(struct timers_heap *h, size_t i)
{
	struct peer *p = h->items[i];
	uint64_t key = peer_key(p);

	while (i > 0 && peer_key(h->items[(i - 1) / 2]) > key) {
		heap_set(h, i, h->items[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, p);
}

static void heap_sift_down(struct timers_heap *h, size_t i)
{
	struct peer *p = h->items[i];
	uint64_t key = peer_key(p);
	size_t c;

	while ((c = 2 * i + 1) < h->len) {
		if (c + 1 < h->len && peer_key(h->items[c + 1]) < peer_key(h->items[c]))
			c++;
		if (peer_key(h->items[c]) >= key)
			break;
		heap_set(h, i, h->items[c]);
		i = c;
	}
	heap_set(h, i, p);
}

static void heap_update(struct peer *p)
{
	struct timers_heap *h = &p->device->timers;

	if (p->timers.heap_pos == SIZE_MAX)
		return;
	heap_sift_up(h, p->timers.heap_pos);
	heap_sift_down(h, p->timers.heap_pos);
}

static void timers_all_off(struct peer_timers *t)
{
	t->retransmit_handshake_ns = TIMER_OFF;
	t->send_keepalive_ns = TIMER_OFF;
	t->new_handshake_ns = TIMER_OFF;
	t->zero_key_material_ns = TIMER_OFF;
	t->persistent_keepalive_ns = TIMER_OFF;
	t->need_another_keepalive = false;
}

void timers_peer_start(struct peer *p)
{
	struct timers_heap *h = &p->device->timers;

	timers_all_off(&p->timers);
	p->timers.handshake_attempts = 0;
	p->timers.sent_lastminute_handshake = false;
	heap_set(h, h->len++, p); /* key TIMER_OFF: already in place at the bottom */
}

void timers_peer_stop(struct peer *p)
{
	struct timers_heap *h = &p->device->timers;
	size_t i = p->timers.heap_pos;
	struct peer *last;

	timers_all_off(&p->timers);
	if (i == SIZE_MAX)
		return;
	p->timers.heap_pos = SIZE_MAX;
	last = h->items[--h->len];
	if (last == p)
		return;
	heap_set(h, i, last);
	heap_update(last);
}

void timers_peer_disarm(struct peer *p)
{
	timers_all_off(&p->timers);
	heap_update(p);
}

uint64_t timers_next_deadline(const struct device *dev)
{
	return dev->timers.len ? peer_key(dev->timers.items[0]) : TIMER_OFF;
}

/* Kernel's mod_peer_timer: a stopped device arms nothing. */
static void timer_arm(struct peer *p, uint64_t *deadline, uint64_t when_ns)
{
	if (!p->device->is_up)
		return;
	*deadline = when_ns;
	heap_update(p);
}

static void timer_disarm(struct peer *p, uint64_t *deadline)
{
	*deadline = TIMER_OFF;
	heap_update(p);
}

static uint64_t jitter(struct peer *p)
{
	struct device *dev = p->device;

	return dev->io.jitter_ns(dev, REKEY_TIMEOUT_JITTER_MAX_MS * NSEC_PER_MSEC);
}

void timers_expired_retransmit_handshake(struct peer *p, uint64_t now_ns)
{
	struct peer_timers *t = &p->timers;

	if (t->handshake_attempts > MAX_TIMER_HANDSHAKES) {
		/* §6.4: give up after REKEY_ATTEMPT_TIME; queued packets go with it. */
		timer_disarm(p, &t->send_keepalive_ns);
		packet_queue_purge(&p->staged, &p->device->pool);
		/* Destroy whatever residue the partial exchanges left. */
		if (t->zero_key_material_ns == TIMER_OFF)
			timer_arm(p, &t->zero_key_material_ns,
				  now_ns + 3ULL * REJECT_AFTER_TIME_S * NSEC_PER_SEC);
		return;
	}
	t->handshake_attempts++;
	/* wgd.conf's `Endpoint = A, B`: the silent endpoint gives way to the next one */
	(void)endpoints_peer_failover(p);
	/* forget the cached source: a vanished local address may be why we hear nothing */
	endpoint_clear_source(&p->endpoint);
	send_handshake_initiation(p, true, now_ns);
}

void timers_expired_send_keepalive(struct peer *p, uint64_t now_ns)
{
	send_keepalive(p, now_ns);
	if (p->timers.need_another_keepalive) {
		p->timers.need_another_keepalive = false;
		timer_arm(p, &p->timers.send_keepalive_ns,
			  now_ns + KEEPALIVE_TIMEOUT_S * NSEC_PER_SEC);
	}
}

void timers_expired_new_handshake(struct peer *p, uint64_t now_ns)
{
	/* forget the cached source: a vanished local address may be why we hear nothing */
	endpoint_clear_source(&p->endpoint);
	send_handshake_initiation(p, false, now_ns);
}

void timers_expired_zero_key_material(struct peer *p, uint64_t now_ns)
{
	(void)now_ns;
	peer_clear_keys(p);
}

void timers_expired_persistent_keepalive(struct peer *p, uint64_t now_ns)
{
	if (p->persistent_keepalive_s)
		send_keepalive(p, now_ns);
}

void timers_event_data_sent(struct peer *p, uint64_t now_ns)
{
	const uint64_t after = (uint64_t)(KEEPALIVE_TIMEOUT_S + REKEY_TIMEOUT_S) * NSEC_PER_SEC;

	if (p->timers.new_handshake_ns == TIMER_OFF)
		timer_arm(p, &p->timers.new_handshake_ns, now_ns + after + jitter(p));
}

void timers_event_data_received(struct peer *p, uint64_t now_ns)
{
	if (!p->device->is_up)
		return;
	if (p->timers.send_keepalive_ns == TIMER_OFF)
		timer_arm(p, &p->timers.send_keepalive_ns,
			  now_ns + KEEPALIVE_TIMEOUT_S * NSEC_PER_SEC);
	else
		p->timers.need_another_keepalive = true;
}

void timers_event_any_authenticated_packet_sent(struct peer *p, uint64_t now_ns)
{
	(void)now_ns;
	timer_disarm(p, &p->timers.send_keepalive_ns);
}

void timers_event_any_authenticated_packet_received(struct peer *p, uint64_t now_ns)
{
	(void)now_ns;
	timer_disarm(p, &p->timers.new_handshake_ns);
}

void timers_event_any_authenticated_packet_traversal(struct peer *p, uint64_t now_ns)
{
	if (p->persistent_keepalive_s)
		timer_arm(p, &p->timers.persistent_keepalive_ns,
			  now_ns + (uint64_t)p->persistent_keepalive_s * NSEC_PER_SEC);
}

void timers_event_handshake_initiated(struct peer *p, uint64_t now_ns)
{
	timer_arm(p, &p->timers.retransmit_handshake_ns,
		  now_ns + REKEY_TIMEOUT_S * NSEC_PER_SEC + jitter(p));
}

void timers_event_handshake_complete(struct peer *p, uint64_t now_ns)
{
	struct device *dev = p->device;

	(void)now_ns;
	timer_disarm(p, &p->timers.retransmit_handshake_ns);
	p->timers.handshake_attempts = 0;
	p->timers.sent_lastminute_handshake = false;
	p->last_handshake_unix_ns = dev->io.realtime_ns(dev);
}

void timers_event_session_derived(struct peer *p, uint64_t now_ns)
{
	timer_arm(p, &p->timers.zero_key_material_ns,
		  now_ns + 3ULL * REJECT_AFTER_TIME_S * NSEC_PER_SEC);
}

typedef void (*expired_fn)(struct peer *p, uint64_t now_ns);

/* Runs p's due handlers in a fixed order; each deadline is disarmed before its handler. */
static void run_peer(struct peer *p, uint64_t now_ns)
{
	static const struct {
		size_t offset;
		expired_fn fn;
	} table[] = {
		{ offsetof(struct peer_timers, retransmit_handshake_ns),
		  timers_expired_retransmit_handshake },
		{ offsetof(struct peer_timers, send_keepalive_ns), timers_expired_send_keepalive },
		{ offsetof(struct peer_timers, new_handshake_ns), timers_expired_new_handshake },
		{ offsetof(struct peer_timers, zero_key_material_ns),
		  timers_expired_zero_key_material },
		{ offsetof(struct peer_timers, persistent_keepalive_ns),
		  timers_expired_persistent_keepalive },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t *deadline = (uint64_t *)((char *)&p->timers + table[i].offset);

		if (*deadline > now_ns)
			continue;
		timer_disarm(p, deadline);
		table[i].fn(p, now_ns);
	}
}

void timers_run(struct device *dev, uint64_t now_ns)
{
	/* Every handler re-arms strictly after now_ns, so this terminates. */
	while (dev->timers.len && peer_key(dev->timers.items[0]) <= now_ns)
		run_peer(dev->timers.items[0], now_ns);
}
