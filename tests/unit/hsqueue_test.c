/* SPDX-License-Identifier: MIT */
/*
 * The incoming handshake queue (wgd/hsqueue.h): the ring alone (FIFO, full, wrap-around,
 * against two sequence counters), then a device fed through its UDP read path: data read
 * with handshake messages is delivered before any handshake is answered, a burst beyond
 * HSQUEUE_LEN is dropped and counted, the backlog drains HSQUEUE_BUDGET per round, the
 * loop's timer brings it back to the backlog (and sleeps once it is empty), and a backlog
 * of HSQUEUE_LEN / 8 = 128 puts the device under load (wireguard-go's IsUnderLoad, the
 * kernel's wg_packet_handshake_receive_worker). Expected values come from those rules.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device_harness.h"
#include "wgd/clock.h"
#include "wgd/hsqueue.h"
#include "wgd/loop.h"

/* ---- the ring alone ---- */

static struct hsqueue q;

static void ring_setup(void)
{
	cr_assert_eq(hsqueue_init(&q), 0);
}

static void ring_teardown(void)
{
	hsqueue_free(&q);
}

TestSuite(hsqueue, .init = ring_setup, .fini = ring_teardown);

/* An entry whose bytes, length, type and source port all encode seq. */
static void push_seq(uint32_t seq, bool expect_ok)
{
	uint8_t buf[148];
	struct endpoint from = { 0 };
	size_t len = seq % 2 ? 92 : 148;
	enum message_type type =
		seq % 2 ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_HANDSHAKE_INITIATION;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	memcpy(buf + 4, &seq, sizeof(seq));
	from.addr.in4.sin_family = AF_INET;
	from.addr.in4.sin_port = htons((uint16_t)seq);
	cr_assert_eq(hsqueue_push(&q, type, buf, len, &from), expect_ok, "push %u", seq);
}

static void pop_seq(uint32_t seq)
{
	struct hsqueue_entry *e = hsqueue_peek(&q);
	size_t len = seq % 2 ? 92 : 148;
	uint32_t got;

	cr_assert_not_null(e, "pop %u", seq);
	cr_assert_eq(e->len, len);
	cr_assert_eq(e->type, seq % 2 ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_HANDSHAKE_INITIATION);
	memcpy(&got, e->buf + 4, sizeof(got));
	cr_assert_eq(got, seq);
	cr_assert_eq(e->buf[0], (uint8_t)seq);
	cr_assert_eq(e->buf[len - 1], (uint8_t)(seq + len - 1));
	cr_assert_eq(e->from.addr.in4.sin_family, AF_INET);
	cr_assert_eq(ntohs(e->from.addr.in4.sin_port), (uint16_t)seq);
	hsqueue_pop(&q);
}

Test(hsqueue, empty)
{
	cr_assert_eq(hsqueue_len(&q), 0);
	cr_assert_null(hsqueue_peek(&q));
	hsqueue_pop(&q); /* no-op */
	cr_assert_eq(hsqueue_len(&q), 0);
	push_seq(7, true);
	pop_seq(7);
	cr_assert_null(hsqueue_peek(&q));
}

Test(hsqueue, fifo_and_len)
{
	for (uint32_t i = 0; i < 10; i++) {
		push_seq(100 + i, true);
		cr_assert_eq(hsqueue_len(&q), i + 1);
	}
	for (uint32_t i = 0; i < 10; i++) {
		pop_seq(100 + i);
		cr_assert_eq(hsqueue_len(&q), 9 - i);
	}
}

Test(hsqueue, full_push_fails)
{
	for (uint32_t i = 0; i < 1024; i++)
		push_seq(i, true);
	cr_assert_eq(hsqueue_len(&q), 1024);
	push_seq(5000, false);
	push_seq(5001, false);
	cr_assert_eq(hsqueue_len(&q), 1024);
	/* one slot freed, one push taken, and the refused ones never appear */
	pop_seq(0);
	push_seq(1024, true);
	push_seq(1025, false);
	for (uint32_t i = 1; i <= 1024; i++)
		pop_seq(i);
	cr_assert_eq(hsqueue_len(&q), 0);
}

Test(hsqueue, oversized_message_refused)
{
	uint8_t buf[149] = { 0 };
	struct endpoint from = { 0 };

	cr_assert_not(hsqueue_push(&q, MESSAGE_HANDSHAKE_INITIATION, buf, sizeof(buf), &from));
	cr_assert_eq(hsqueue_len(&q), 0);
}

/* Random pushes and pops over many turns of the ring, checked against two counters. */
Test(hsqueue, wrap_around)
{
	uint32_t next_in = 0, next_out = 0;

	srand(1234);
	for (int i = 0; i < 200000; i++) {
		/* bursts of up to 40 pushes or pops, so the ring is sometimes full and empty */
		int burst = rand() % 40, is_push = rand() % 2;

		for (int k = 0; k < burst; k++) {
			if (is_push) {
				bool room = next_in - next_out < 1024;

				push_seq(next_in, room);
				next_in += room;
			} else if (next_out != next_in) {
				pop_seq(next_out++);
			} else {
				cr_assert_null(hsqueue_peek(&q));
			}
			cr_assert_eq(hsqueue_len(&q), next_in - next_out);
		}
	}
	/* many times round the ring */
	cr_assert_gt(next_out, 100 * 1024, "only %u popped", next_out);
}

Test(hsqueue, uninitialised_queue_refuses)
{
	struct hsqueue z = { 0 };
	uint8_t buf[148] = { 0 };
	struct endpoint from = { 0 };

	cr_assert_not(hsqueue_push(&z, MESSAGE_HANDSHAKE_INITIATION, buf, sizeof(buf), &from));
	cr_assert_null(hsqueue_peek(&z));
	hsqueue_free(&z);
}

/* ---- a device's read path ---- */

static struct harness a, b, c;
static char order[32]; /* 'T' a TUN write, 'U' a UDP send, in the order they happened */
static size_t norder;

static int rec_udp_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	if (norder < sizeof(order) - 1)
		order[norder++] = 'U';
	return h_udp_send(dev, ep, buf, len);
}

static int rec_tun_write(struct device *dev, const void *buf, size_t len)
{
	if (norder < sizeof(order) - 1)
		order[norder++] = 'T';
	return h_tun_write(dev, buf, len);
}

/* a, and c a peer of a whose first initiation to a is in c.sent[0] */
static void dev_setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&c, 0x33, 10003);
	h_add_peer(&a, &c, "10.0.0.3", 32, 0);
	h_add_peer(&c, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&c, "10.0.0.3", "10.0.0.1", 8, H_T0);
	cr_assert_eq(c.nsent, 1);
	cr_assert_eq(h_type(&c.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	memset(order, 0, sizeof(order));
	norder = 0;
}

static void dev_teardown(void)
{
	h_free(&a);
	h_free(&c);
	if (b.dev)
		h_free(&b);
}

TestSuite(hsqueue_device, .init = dev_setup, .fini = dev_teardown);

static struct endpoint endpoint_of(const struct harness *h)
{
	struct endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr = h->self;
	return ep;
}

/* n copies of c's initiation through a's read path, as one read batch would hand them */
static void queue_initiations(unsigned int n, uint64_t now)
{
	struct endpoint ep = endpoint_of(&c);

	for (unsigned int i = 0; i < n; i++) {
		memcpy(a.dev->rx_buf, c.sent[0].buf, c.sent[0].len);
		device_udp_receive(a.dev, a.dev->rx_buf, c.sent[0].len, &ep, now);
	}
}

/*
 * Over a real socket: one read batch holding c's initiation and then three data messages
 * from b. a writes the three packets to its TUN before it answers c.
 */
Test(hsqueue_device, data_before_handshakes)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(a.dev->sock.port) };
	uint64_t now = H_T0 + MS(10);
	int fd;

	h_init(&b, 0x22, 10002);
	h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, H_T0);
	h_converse(&b, &a, H_T0); /* b -> a: a session, b's staged packet delivered */
	cr_assert_eq(a.ntun, 1);
	a.ntun = 0;
	a.nsent = 0;
	for (int i = 0; i < 3; i++)
		h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 100, H_T0 + MS(1));
	cr_assert_eq(b.nsent, 3);
	a.dev->io.udp_send = rec_udp_send;
	a.dev->io.tun_write = rec_tun_write;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	/* loopback delivers within sendto, so all four are queued before the read */
	cr_assert_eq(
		sendto(fd, c.sent[0].buf, c.sent[0].len, 0, (struct sockaddr *)&to, sizeof(to)),
		(ssize_t)c.sent[0].len);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(sendto(fd, b.sent[i].buf, b.sent[i].len, 0, (struct sockaddr *)&to,
				    sizeof(to)),
			     (ssize_t)b.sent[i].len);
	a.now_ns = now;
	device_udp_readable(a.dev, a.dev->sock.fd4, now);
	close(fd);
	cr_assert_str_eq(order, "TTTU");
	cr_assert_eq(a.ntun, 3);
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_RESPONSE);
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 0);
}

/*
 * HSQUEUE_LEN + 100 handshake messages in one batch: the 100 beyond the queue are dropped
 * and counted, nothing is answered while reading, and the backlog drains 32 per round.
 * A backlog of 1024 >= 128 is under load, so every one is answered with a cookie reply.
 */
Test(hsqueue_device, overflow_dropped_and_drained_by_budget)
{
	uint64_t now = H_T0 + MS(10);
	unsigned int rounds = 0;

	queue_initiations(1024 + 100, now);
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 1024);
	cr_assert_eq(a.dev->hs_dropped, 100);
	cr_assert_eq(a.sends, 0, "nothing answered while reading");
	while (hsqueue_len(&a.dev->hsq)) {
		unsigned int before = hsqueue_len(&a.dev->hsq);
		size_t sends = a.sends;

		cr_assert_eq(device_handshakes_run(a.dev, now + rounds), 32);
		cr_assert_eq(hsqueue_len(&a.dev->hsq), before - 32);
		cr_assert_eq(a.sends - sends, 32);
		rounds++;
	}
	cr_assert_eq(rounds, 1024 / 32);
	cr_assert_eq(device_handshakes_run(a.dev, now + rounds), 0);
	cr_assert_eq(a.sends, 1024);
	for (size_t i = 0; i < a.nsent; i++) {
		cr_assert_eq(h_type(&a.sent[i]), MESSAGE_HANDSHAKE_COOKIE);
		cr_assert_eq(a.sent[i].len, 64);
	}
	/* room again: the next burst is queued, not dropped */
	queue_initiations(5, now + S(1));
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 5);
	cr_assert_eq(a.dev->hs_dropped, 100);
}

/* 127 queued: the first taken (c's fresh initiation) is not under load and gets a DH. */
Test(hsqueue_device, backlog_127_not_under_load)
{
	queue_initiations(127, H_T0 + MS(10));
	cr_assert_eq(device_handshakes_run(a.dev, H_T0 + MS(10)), 32);
	/* the 31 copies after it are replays: no answer when not under load */
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_RESPONSE);
	cr_assert_eq(a.dev->last_under_load_ns, TIMER_OFF);
}

/* 128 queued: the same initiation, taken first, meets a device under load: cookie reply. */
Test(hsqueue_device, backlog_128_under_load)
{
	queue_initiations(128, H_T0 + MS(10));
	cr_assert_eq(device_handshakes_run(a.dev, H_T0 + MS(20)), 32);
	cr_assert_eq(a.nsent, 32);
	for (size_t i = 0; i < a.nsent; i++)
		cr_assert_eq(h_type(&a.sent[i]), MESSAGE_HANDSHAKE_COOKIE);
	cr_assert_eq(a.dev->last_under_load_ns, H_T0 + MS(20), "set when taken, not when read");
}

/*
 * A flood of well-framed initiations and responses from someone without a's public key
 * (random bytes, so no valid mac1) takes no slot and is not "under load": c's genuine
 * initiation read after 2000 of them is the only one queued, and gets a DH response.
 */
Test(hsqueue_device, junk_without_mac1_takes_no_slot)
{
	struct endpoint ep = endpoint_of(&c);
	uint64_t now = H_T0 + MS(10);
	size_t len;

	for (unsigned int i = 0; i < 2000; i++) {
		len = i % 2 ? sizeof(struct message_handshake_response)
			    : sizeof(struct message_handshake_initiation);
		randombytes_buf(a.dev->rx_buf, len);
		a.dev->rx_buf[0] =
			i % 2 ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_HANDSHAKE_INITIATION;
		memset(a.dev->rx_buf + 1, 0, 3);
		cr_assert_eq(receive_classify(a.dev->rx_buf, len), a.dev->rx_buf[0]);
		device_udp_receive(a.dev, a.dev->rx_buf, len, &ep, now);
	}
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 0);
	cr_assert_eq(a.dev->hs_dropped, 0);
	queue_initiations(1, now);
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 1);
	cr_assert_eq(device_handshakes_run(a.dev, now), 1);
	cr_assert_eq(a.dev->last_under_load_ns, TIMER_OFF);
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_RESPONSE);
}

/* Cookie replies and data are not queued. */
Test(hsqueue_device, cookie_replies_and_data_inline)
{
	struct endpoint ep = endpoint_of(&c);
	uint8_t buf[64] = { MESSAGE_HANDSHAKE_COOKIE };
	uint8_t data[48] = { MESSAGE_DATA };

	device_udp_receive(a.dev, buf, sizeof(buf), &ep, H_T0);
	device_udp_receive(a.dev, data, sizeof(data), &ep, H_T0);
	buf[0] = MESSAGE_HANDSHAKE_INITIATION; /* 64 bytes: malformed, dropped */
	device_udp_receive(a.dev, buf, sizeof(buf), &ep, H_T0);
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 0);
	cr_assert_eq(a.dev->hs_dropped, 0);
}

struct loop_run_ctx {
	struct device *dev;
	unsigned int calls;
};

static void on_timer(void *ctx, uint64_t now_ns)
{
	struct loop_run_ctx *r = ctx;

	r->calls++;
	device_timers_run(r->dev, now_ns);
	if (!hsqueue_len(&r->dev->hsq) || r->calls > 100)
		loop_stop(r->dev->loop);
}

/*
 * With no new input, the loop's timer brings it back to a backlog of 300 until it is
 * gone: ceil(300 / 32) = 10 timer rounds. Then the timer is armed in the future, not
 * "now", so an idle loop sleeps. a has no peer timers to fire here (c's peer is removed).
 */
Test(hsqueue_device, timer_drains_backlog_then_sleeps, .timeout = 20)
{
	struct loop l;
	struct loop_run_ctx r = { .dev = a.dev };
	struct pollfd pfd;

	device_remove_peer(a.dev, a.dev->peers_first);
	cr_assert_eq(loop_init(&l), 0);
	a.dev->loop = &l;
	a.dev->housekeeping_ns = clock_boottime_ns() + S(10);
	device_rearm(a.dev);
	cr_assert_eq(l.timer_deadline_ns, a.dev->housekeeping_ns, "empty: the real deadline");
	queue_initiations(300, clock_boottime_ns());
	device_rearm(a.dev);
	cr_assert_eq(l.timer_deadline_ns, 0, "armed for now");
	cr_assert_eq(loop_run(&l, on_timer, &r), 0);
	cr_assert_eq(r.calls, 10);
	cr_assert_eq(hsqueue_len(&a.dev->hsq), 0);
	cr_assert_eq(a.sends, 300);
	cr_assert_gt(l.timer_deadline_ns, clock_boottime_ns(), "armed in the future");
	pfd = (struct pollfd){ .fd = l.timerfd, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 50), 0, "the timer does not fire again at once");
	a.dev->loop = NULL;
	loop_clear(&l);
}
