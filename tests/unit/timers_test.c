/* SPDX-License-Identifier: MIT */
/*
 * The five per-peer timers on a virtual clock, each transition checked at its exact tick
 * and one nanosecond before it. Expected instants come from the protocol constants
 * (whitepaper §6.1, PROTOCOL.md "Timers and limits"): REKEY_TIMEOUT 5 s + jitter,
 * KEEPALIVE 10 s, new handshake 10 + 5 s + jitter, zero keys 3 x 180 s, rekey on send
 * 120 s, rekey on receive 180 - 10 - 5 s, reject 180 s; and from the kernel's give-up
 * message "did not complete after MAX_TIMER_HANDSHAKES + 2 attempts", i.e. 20 initiations.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "device_harness.h"

static struct harness a, b;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	a.jitter_ns = MS(7);
	b.jitter_ns = MS(11);
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(timers, .init = setup, .fini = teardown);

static void expect_sent(struct harness *h, size_t n, uint32_t type, size_t len, int step)
{
	cr_assert_eq(h->nsent, n, "step %d: %zu datagrams sent, expected %zu", step, h->nsent, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(h_type(&h->sent[i]), type, "step %d: datagram %zu type", step, i);
		if (len)
			cr_assert_eq(h->sent[i].len, len, "step %d: datagram %zu length", step, i);
	}
}

/* a initiates, b answers, a's staged packet confirms: a session begun at H_T0. */
static void establish(struct peer **pa, struct peer **pb)
{
	*pa = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	*pb = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 64, H_T0);
	expect_sent(&a, 1, MESSAGE_HANDSHAKE_INITIATION, 148, 0);
	h_deliver(&a, &b, H_T0);
	expect_sent(&b, 1, MESSAGE_HANDSHAKE_RESPONSE, 92, 0);
	h_deliver(&b, &a, H_T0);
	expect_sent(&a, 1, MESSAGE_DATA, 0, 0);
	h_deliver(&a, &b, H_T0);
	cr_assert_eq(b.ntun, 1);
	cr_assert_eq(b.nsent, 0, "b has nothing to say yet");
}

Test(timers, retransmit_until_give_up)
{
	struct peer *p = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	const uint64_t period = S(5) + MS(7);
	uint64_t t = H_T0;

	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 64, t);
	expect_sent(&a, 1, MESSAGE_HANDSHAKE_INITIATION, 148, 0);
	cr_assert_eq(p->staged.len, 1);
	/* Expiry k = 1..19 resends (20 initiations in all); expiry 20 gives up. */
	for (int k = 1; k <= 20; k++) {
		t += period;
		a.nsent = 0;
		cr_assert_eq(timers_next_deadline(a.dev), t, "expiry %d deadline", k);
		h_run(&a, t - 1);
		expect_sent(&a, 0, 0, 0, k);
		h_run(&a, t);
		expect_sent(&a, k < 20 ? 1 : 0, MESSAGE_HANDSHAKE_INITIATION, 148, k);
	}
	cr_assert_eq(a.sends, 20);
	cr_assert_eq(p->staged.len, 0, "staged packets dropped on giving up");
	/* The residue of the partial exchanges is wiped 3 x REJECT_AFTER_TIME later. */
	cr_assert_eq(timers_next_deadline(a.dev), t + S(540));
	h_run(&a, t + S(540) - 1);
	cr_assert_eq(timers_next_deadline(a.dev), t + S(540));
	h_run(&a, t + S(540));
	cr_assert_eq(timers_next_deadline(a.dev), TIMER_OFF);
	cr_assert_eq(p->handshake.state, HANDSHAKE_ZEROED);
	cr_assert_eq(a.dev->index.len, 0, "no receiver index left behind");
}

Test(timers, new_data_resets_the_attempt_count)
{
	struct peer *p = h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	uint64_t t = H_T0 + 10 * (S(5) + MS(7));

	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 64, H_T0);
	for (uint64_t u = H_T0 + S(5) + MS(7); u <= t; u += S(5) + MS(7))
		h_run(&a, u);
	cr_assert_eq(p->timers.handshake_attempts, 10);
	/* "this counter is reset when a peer explicitly attempts to send" (§6.4) */
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 64, t + 1);
	cr_assert_eq(p->timers.handshake_attempts, 0);
	cr_assert_eq(p->staged.len, 2);
}

Test(timers, passive_keepalive_and_counters)
{
	struct peer *pa, *pb;

	establish(&pa, &pb);
	/* b received data and sent nothing: a keepalive after exactly KEEPALIVE_TIMEOUT. */
	h_run(&b, H_T0 + S(10) - 1);
	expect_sent(&b, 0, 0, 0, 1);
	h_run(&b, H_T0 + S(10));
	expect_sent(&b, 1, MESSAGE_DATA, 32, 2);
	h_deliver(&b, &a, H_T0 + S(10));
	/* The keepalive disarmed a's new-handshake timer: only zero-key is left. */
	cr_assert_eq(pa->timers.new_handshake_ns, TIMER_OFF);
	cr_assert_eq(timers_next_deadline(a.dev), H_T0 + S(540));
	/* kernel byte counts: 148 initiation, 92 response, 84-byte packet -> 96 + 32 = 128 */
	cr_assert_eq(pa->tx_bytes, 148 + 128);
	cr_assert_eq(pa->rx_bytes, 92 + 32);
	cr_assert_eq(pb->rx_bytes, 148 + 128);
	cr_assert_eq(pb->tx_bytes, 92 + 32);
	cr_assert_neq(pa->last_handshake_unix_ns, 0);
	cr_assert_eq(pb->last_handshake_unix_ns, H_REALTIME_BASE + H_T0, "set on confirmation");
}

Test(timers, need_another_keepalive)
{
	struct peer *pa, *pb;

	establish(&pa, &pb);
	/* More data while the keepalive timer runs: one more keepalive period after it. */
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 10, H_T0 + S(3));
	h_deliver(&a, &b, H_T0 + S(3));
	cr_assert(pb->timers.need_another_keepalive);
	h_run(&b, H_T0 + S(10));
	expect_sent(&b, 1, MESSAGE_DATA, 32, 1);
	b.nsent = 0;
	cr_assert_eq(pb->timers.send_keepalive_ns, H_T0 + S(20));
	h_run(&b, H_T0 + S(20));
	expect_sent(&b, 1, MESSAGE_DATA, 32, 2);
	cr_assert_eq(pb->timers.send_keepalive_ns, TIMER_OFF);
}

Test(timers, new_handshake_when_nothing_comes_back)
{
	struct peer *pa, *pb;
	uint64_t t = H_T0 + S(15) + MS(7);

	establish(&pa, &pb);
	(void)pb;
	cr_assert_eq(pa->timers.new_handshake_ns, t);
	h_run(&a, t - 1);
	expect_sent(&a, 0, 0, 0, 1);
	h_run(&a, t);
	expect_sent(&a, 1, MESSAGE_HANDSHAKE_INITIATION, 148, 2);
	cr_assert_eq(pa->timers.retransmit_handshake_ns, t + S(5) + MS(7));
}

Test(timers, zero_key_material)
{
	struct peer *pa, *pb;

	establish(&pa, &pb);
	h_run(&b, H_T0 + S(10));
	h_deliver(&b, &a, H_T0 + S(10));
	h_run(&a, H_T0 + S(540) - 1);
	h_run(&b, H_T0 + S(540) - 1);
	cr_assert_not(noise_keypair_is_empty(&pa->keypairs.current));
	cr_assert_not(noise_keypair_is_empty(&pb->keypairs.current));
	h_run(&a, H_T0 + S(540));
	h_run(&b, H_T0 + S(540));
	cr_assert(noise_keypair_is_empty(&pa->keypairs.current));
	cr_assert(noise_keypair_is_empty(&pb->keypairs.current));
	cr_assert(noise_keypair_is_empty(&pb->keypairs.previous));
	cr_assert_eq(a.dev->index.len, 0);
	cr_assert_eq(b.dev->index.len, 0);
	cr_assert_eq(timers_next_deadline(a.dev), TIMER_OFF);
	cr_assert_eq(timers_next_deadline(b.dev), TIMER_OFF);
}

Test(timers, persistent_keepalive)
{
	struct peer *pa;
	uint64_t t;

	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	a.now_ns = H_T0;
	/* Turning keepalive on for an up device sends one at once: a handshake first. */
	pa = h_add_peer(&a, &b, "10.0.0.2", 32, 25);
	expect_sent(&a, 1, MESSAGE_HANDSHAKE_INITIATION, 148, 0);
	h_converse(&a, &b, H_T0);
	cr_assert_eq(a.sends, 2, "initiation and the confirming keepalive");
	for (int k = 1; k <= 4; k++) {
		t = H_T0 + S(25) * (uint64_t)k;
		cr_assert_eq(pa->timers.persistent_keepalive_ns, t, "interval %d", k);
		a.nsent = 0;
		h_run(&a, t - 1);
		expect_sent(&a, 0, 0, 0, k);
		h_run(&a, t);
		expect_sent(&a, 1, MESSAGE_DATA, 32, k);
		h_deliver(&a, &b, t);
	}
	/* Any authenticated packet restarts the interval. */
	t = H_T0 + S(100) + S(3);
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 0, t);
	h_deliver(&b, &a, t);
	cr_assert_eq(pa->timers.persistent_keepalive_ns, t + S(25));
}

Test(timers, rekey_after_time_on_send)
{
	struct peer *pa, *pb;

	establish(&pa, &pb);
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(120) - 1);
	expect_sent(&a, 1, MESSAGE_DATA, 0, 1);
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(120));
	cr_assert_eq(a.nsent, 2);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_DATA);
	cr_assert_eq(h_type(&a.sent[1]), MESSAGE_HANDSHAKE_INITIATION);
	/* The responder never rekeys on age when sending. */
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, H_T0 + S(121));
	expect_sent(&b, 1, MESSAGE_DATA, 0, 2);
}

Test(timers, rekey_on_receive_before_reject)
{
	struct peer *pa, *pb;
	const uint64_t t = H_T0 + S(180 - 10 - 5);

	establish(&pa, &pb);
	a.nsent = 0;
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, t - 1);
	h_deliver(&b, &a, t - 1);
	expect_sent(&a, 0, 0, 0, 1);
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, t);
	h_deliver(&b, &a, t);
	expect_sent(&a, 1, MESSAGE_HANDSHAKE_INITIATION, 148, 2);
	cr_assert(pa->timers.sent_lastminute_handshake);
	/* Only once, even after the rate limit has passed. */
	a.nsent = 0;
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, t + S(6));
	h_deliver(&b, &a, t + S(6));
	expect_sent(&a, 0, 0, 0, 3);
}

Test(timers, reject_after_time)
{
	struct peer *pa, *pb;

	establish(&pa, &pb);
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(180) - 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_DATA, "still usable 1 ns before");
	a.nsent = 0;
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(180));
	expect_sent(&a, 0, 0, 0, 1);
	cr_assert_eq(pa->staged.len, 1, "held for the next session");
	/* b no longer accepts a's old keypair either. */
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, H_T0 + S(180));
	cr_assert_eq(b.nsent, 1);
	cr_assert_eq(h_type(&b.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
}

/* The heap's answer against a naive scan of every peer's five deadlines. */
static uint64_t naive_next(struct device *dev)
{
	uint64_t m = TIMER_OFF;
	struct peer *p;

	for (p = dev->peers_first; p; p = p->next) {
		const uint64_t d[] = { p->timers.retransmit_handshake_ns,
				       p->timers.send_keepalive_ns, p->timers.new_handshake_ns,
				       p->timers.zero_key_material_ns,
				       p->timers.persistent_keepalive_ns };

		for (size_t i = 0; i < 5; i++)
			if (d[i] < m)
				m = d[i];
	}
	return m;
}

Test(timers, heap_matches_naive_scan)
{
	unsigned int seed =
		getenv("WGD_TEST_SEED") ? (unsigned int)atoi(getenv("WGD_TEST_SEED")) : 12345;
	struct cfg_device cfg = { 0 };
	struct peer *peers[200], *p;
	size_t n = 0;

	srand(seed);
	for (int i = 0; i < 200; i++) {
		struct cfg_peer *cp = cfg_device_add_peer(&cfg);

		cp->public_key[0] = (uint8_t)i;
		cp->public_key[1] = 9; /* distinct, never our own */
	}
	cr_assert_eq(device_apply_cfg(a.dev, &cfg, H_T0), 0);
	cfg_device_clear(&cfg);
	for (p = a.dev->peers_first; p; p = p->next)
		peers[n++] = p;
	cr_assert_eq(n, 200);
	for (int op = 0; op < 20000; op++) {
		struct peer *q = peers[(size_t)rand() % n];
		uint64_t now = H_T0 + (uint64_t)(rand() % 1000000) * NSEC_PER_MSEC;

		switch (rand() % 5) {
		case 0:
			timers_event_handshake_initiated(q, now);
			break;
		case 1:
			timers_event_session_derived(q, now);
			break;
		case 2:
			timers_event_data_sent(q, now);
			break;
		case 3:
			timers_event_any_authenticated_packet_sent(q, now);
			timers_event_any_authenticated_packet_received(q, now);
			break;
		default:
			timers_event_handshake_complete(q, now);
			break;
		}
		if (op % 1000 == 999 && n > 20) {
			size_t k = (size_t)rand() % n;

			device_remove_peer(a.dev, peers[k]);
			peers[k] = peers[--n];
		}
		cr_assert_eq(timers_next_deadline(a.dev), naive_next(a.dev), "seed %u op %d", seed,
			     op);
	}
}
