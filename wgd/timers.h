/* SPDX-License-Identifier: MIT */
/*
 * The five per-peer protocol timers of whitepaper §6 (state table at the top of timers.c).
 * Each is an absolute CLOCK_BOOTTIME deadline in ns, UINT64_MAX when off. Everything takes
 * now_ns as a parameter, so tests drive the timers on a virtual clock. The device keeps a
 * binary min-heap of peers keyed by each peer's earliest deadline, so the loop arms one
 * timerfd at timers_next_deadline() in O(1) and a deadline change costs O(log peers).
 */
#ifndef WGD_TIMERS_H
#define WGD_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

#define TIMER_OFF UINT64_MAX

struct device;
struct peer;

/* Embedded in struct peer. */
struct peer_timers {
	uint64_t retransmit_handshake_ns;
	uint64_t send_keepalive_ns;
	uint64_t new_handshake_ns;
	uint64_t zero_key_material_ns;
	uint64_t persistent_keepalive_ns;
	unsigned int handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	size_t heap_pos; /* position in the device heap; SIZE_MAX when not in it */
};

/* Embedded in struct device. Holds borrowed peer pointers. */
struct timers_heap {
	struct peer **items;
	size_t len, cap;
};

void timers_heap_init(struct timers_heap *h);
void timers_heap_free(struct timers_heap *h);
/* Room for `peers` peers, so timers_peer_start never allocates. 0 or -ENOMEM (unchanged). */
int __must_check timers_heap_reserve(struct timers_heap *h, size_t peers);

/* All timers off; enters the device heap (room must be reserved). */
void timers_peer_start(struct peer *peer);
/* All timers off; leaves the heap. Call before the peer is freed. */
void timers_peer_stop(struct peer *peer);
/* All timers off; stays in the heap (the kernel's wg_timers_stop, on link down). */
void timers_peer_disarm(struct peer *peer);

/* The earliest deadline of any peer, or TIMER_OFF. */
uint64_t timers_next_deadline(const struct device *dev);
/* Runs every handler whose deadline is <= now_ns. */
void timers_run(struct device *dev, uint64_t now_ns);

/* Hooks, named after the kernel's timers.c; call them where the event happens. */
void timers_event_data_sent(struct peer *peer, uint64_t now_ns);
void timers_event_data_received(struct peer *peer, uint64_t now_ns);
void timers_event_any_authenticated_packet_sent(struct peer *peer, uint64_t now_ns);
void timers_event_any_authenticated_packet_received(struct peer *peer, uint64_t now_ns);
void timers_event_any_authenticated_packet_traversal(struct peer *peer, uint64_t now_ns);
void timers_event_handshake_initiated(struct peer *peer, uint64_t now_ns);
void timers_event_handshake_complete(struct peer *peer, uint64_t now_ns);
void timers_event_session_derived(struct peer *peer, uint64_t now_ns);

/* Handlers: run by timers_run when a deadline passes; exported for the table test. */
void timers_expired_retransmit_handshake(struct peer *peer, uint64_t now_ns);
void timers_expired_send_keepalive(struct peer *peer, uint64_t now_ns);
void timers_expired_new_handshake(struct peer *peer, uint64_t now_ns);
void timers_expired_zero_key_material(struct peer *peer, uint64_t now_ns);
void timers_expired_persistent_keepalive(struct peer *peer, uint64_t now_ns);

#endif
