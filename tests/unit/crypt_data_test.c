/* SPDX-License-Identifier: MIT */
/*
 * The threaded data and handshake paths (wgd/crypt_data.h, crypt_hs.c) against the
 * single-threaded ones, with the device harness: packets sealed by a device with crypt
 * threads leave in the order they were read and open on a single-threaded peer; a
 * responder with threads answers a batch of initiations from many peers, each becoming
 * a working session; an initiator with threads takes its response on the pool; a
 * replayed initiation in the same batch is refused as with one thread; `Threads = 1`
 * starts no pool.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "device_harness.h"
#include "wgd/crypt_data.h"

#define PEERS 8

static struct harness a, b, many[PEERS];

/* The datagrams h captured, handed to `to` through its queue and handshake runs. */
static void deliver_queued(struct harness *from, struct harness *to, uint64_t now)
{
	struct endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr = from->self;
	to->now_ns = now;
	for (size_t i = 0; i < from->nsent; i++) {
		memcpy(to->dev->rx_buf, from->sent[i].buf, from->sent[i].len);
		device_udp_receive(to->dev, to->dev->rx_buf, from->sent[i].len, &ep, now);
	}
	from->nsent = 0;
	while (hsqueue_len(&to->dev->hsq))
		device_handshakes_run(to->dev, now);
}

/* The payload's first two bytes after the IPv4 header: the packet's sequence number. */
static void tun_seq(struct harness *h, unsigned int seq, size_t payload, uint64_t now)
{
	uint8_t *pkt = h->dev->tx_buf + sizeof(struct message_data);
	size_t len = h_ipv4(pkt, "10.0.1.1", "10.0.0.2", payload);

	pkt[20] = (uint8_t)(seq >> 8);
	pkt[21] = (uint8_t)seq;
	h->now_ns = now;
	send_tun_packet(h->dev, len, now);
}

static void pair_init(unsigned int threads_a, unsigned int threads_b)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	cr_assert(eq(int, crypt_data_enable(a.dev, threads_a), 0));
	cr_assert(eq(int, crypt_data_enable(b.dev, threads_b), 0));
	h_add_peer(&a, &b, "10.0.0.0", 24, 0);
	h_add_peer(&b, &a, "10.0.1.1", 32, 0);
}

static void pair_free(void)
{
	h_free(&a);
	h_free(&b);
}

Test(crypt_data, one_thread_starts_no_pool)
{
	h_init(&a, 0x11, 10001);
	cr_assert(eq(int, crypt_data_enable(a.dev, 1), 0));
	cr_assert_null(a.dev->crypt);
	cr_assert(eq(u32, crypt_data_threads(a.dev), 1));
	cr_assert(eq(int, crypt_data_enable(a.dev, 0), -22));
	h_free(&a);
}

/* A sends 200 packets of varied sizes on 3 threads: B (one thread) gets them in order. */
Test(crypt_data, sealed_on_threads_in_order)
{
	uint8_t *p;

	pair_init(3, 1);
	cr_assert(eq(u32, crypt_data_threads(a.dev), 3));
	tun_seq(&a, 0, 8, H_T0);
	h_converse(&a, &b, H_T0);
	cr_assert(a.dev->peers_first->keypairs.current.sending.is_valid);
	b.ntun = 0;
	for (unsigned int i = 1; i <= 200; i++)
		tun_seq(&a, i, 2 + (i * 37) % 1300, H_T0 + MS(1));
	/* nothing leaves before the burst's commit: then everything, in order */
	cr_assert(eq(sz, a.nsent, 0));
	send_commit(a.dev);
	cr_assert(eq(sz, a.nsent, 200));
	h_deliver(&a, &b, H_T0 + MS(2));
	cr_assert(eq(sz, b.ntun, 200));
	for (unsigned int i = 0; i < 200; i++) {
		p = b.tun[i].buf;
		cr_assert(eq(u32, (unsigned int)(p[20] << 8 | p[21]), i + 1), "packet %u", i);
		cr_assert(eq(sz, b.tun[i].len, 20 + 2 + ((i + 1) * 37) % 1300));
	}
	pair_free();
}

/* B responds on 2 threads; then data both ways. */
Test(crypt_data, responder_on_threads)
{
	pair_init(1, 2);
	tun_seq(&a, 1, 100, H_T0);
	cr_assert(eq(sz, a.nsent, 1));
	deliver_queued(&a, &b, H_T0);
	cr_assert(eq(sz, b.nsent, 1), "B sent no response");
	cr_assert(eq(u32, h_type(&b.sent[0]), MESSAGE_HANDSHAKE_RESPONSE));
	h_converse(&b, &a, H_T0);
	cr_assert(eq(sz, b.ntun, 1), "the staged packet did not arrive");
	cr_assert(b.dev->peers_first->keypairs.current.receiving.is_valid);
	pair_free();
}

/* A initiates with 2 threads: the response is consumed on the pool. */
Test(crypt_data, initiator_on_threads)
{
	pair_init(2, 1);
	tun_seq(&a, 1, 100, H_T0);
	h_deliver(&a, &b, H_T0);
	cr_assert(eq(sz, b.nsent, 1));
	deliver_queued(&b, &a, H_T0);
	cr_assert(a.dev->peers_first->keypairs.current.sending.is_valid, "no session on A");
	send_commit(a.dev);
	h_deliver(&a, &b, H_T0);
	cr_assert(eq(sz, b.ntun, 1));
	pair_free();
}

/* The same initiation twice in one batch: one response, as with one thread. */
Test(crypt_data, replay_in_one_batch_refused)
{
	pair_init(1, 2);
	tun_seq(&a, 1, 100, H_T0);
	a.sent[1] = a.sent[0];
	a.nsent = 2;
	deliver_queued(&a, &b, H_T0);
	cr_assert(eq(sz, b.nsent, 1));
	pair_free();
}

/* Eight initiators at once to B on 4 threads: eight sessions that carry data. */
Test(crypt_data, batch_of_initiations)
{
	char net[32];
	struct endpoint ep;

	h_init(&b, 0x22, 10002);
	cr_assert(eq(int, crypt_data_enable(b.dev, 4), 0));
	for (int i = 0; i < PEERS; i++) {
		h_init(&many[i], (uint8_t)(0x40 + i), (uint16_t)(20000 + i));
		h_add_peer(&many[i], &b, "10.0.0.0", 24, 0);
		snprintf(net, sizeof(net), "10.0.%d.1", 10 + i);
		h_add_peer(&b, &many[i], net, 32, 0);
		h_tun_packet(&many[i], net, "10.0.0.2", 50, H_T0);
		cr_assert(eq(sz, many[i].nsent, 1));
	}
	memset(&ep, 0, sizeof(ep));
	for (int i = 0; i < PEERS; i++) {
		ep.addr = many[i].self;
		memcpy(b.dev->rx_buf, many[i].sent[0].buf, many[i].sent[0].len);
		device_udp_receive(b.dev, b.dev->rx_buf, many[i].sent[0].len, &ep, H_T0);
		many[i].nsent = 0;
	}
	cr_assert(eq(u32, hsqueue_len(&b.dev->hsq), PEERS));
	cr_assert(eq(u32, device_handshakes_run(b.dev, H_T0), PEERS));
	cr_assert(eq(sz, b.nsent, PEERS));
	/* the harness captures every response; hand each to the peer it is for */
	for (size_t k = 0; k < b.nsent; k++) {
		const struct message_handshake_response *r = (const void *)b.sent[k].buf;
		int hit = 0;

		for (int i = 0; i < PEERS && !hit; i++) {
			struct peer *p = many[i].dev->peers_first;

			if (p->handshake.local_index != le32toh(r->receiver_index))
				continue;
			h_receive(&many[i], &b, b.sent[k].buf, b.sent[k].len, H_T0);
			hit = 1;
		}
		cr_assert(hit, "response %zu is for no initiator", k);
	}
	b.nsent = 0;
	for (int i = 0; i < PEERS; i++) {
		cr_assert(many[i].dev->peers_first->keypairs.current.sending.is_valid, "peer %d",
			  i);
		h_deliver(&many[i], &b, H_T0); /* the staged packet */
	}
	cr_assert(eq(sz, b.ntun, PEERS));
	for (int i = 0; i < PEERS; i++)
		h_free(&many[i]);
	h_free(&b);
}

/*
 * The UDP side on threads, through B's real socket: 240 data messages from A (one
 * thread) sent to B's port on loopback, read by device_udp_readable in bursts, opened on
 * 3 threads, delivered in order; a tampered one is dropped, a replayed one too.
 */
Test(crypt_data, opened_on_threads_in_order)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct h_datagram *msgs = calloc(240, sizeof(*msgs));
	unsigned int got = 0, expect = 1;
	int fd;

	pair_init(1, 3);
	tun_seq(&a, 0, 8, H_T0);
	h_converse(&a, &b, H_T0);
	b.ntun = 0;
	for (unsigned int i = 1; i <= 240; i++) {
		tun_seq(&a, i, 2 + (i * 53) % 1200, H_T0 + MS(1));
		msgs[i - 1] = a.sent[0];
		a.nsent = 0;
	}
	msgs[99].buf[msgs[99].len - 1] ^= 1; /* seq 100: tag broken */
	msgs[200] = msgs[150];		     /* seq 201 replaced by a replay of 151 */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(ge(int, fd, 0));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(b.dev->sock.port);
	for (unsigned int i = 0; i < 240; i += 48) {
		/* 48 at a time: well inside the socket's buffer */
		for (unsigned int k = i; k < i + 48; k++)
			cr_assert(eq(sz,
				     (size_t)sendto(fd, msgs[k].buf, msgs[k].len, 0,
						    (struct sockaddr *)&to, sizeof(to)),
				     msgs[k].len));
		device_udp_readable(b.dev, b.dev->sock.fd4, H_T0 + MS(2));
	}
	close(fd);
	for (size_t k = 0; k < b.ntun; k++, expect++) {
		const uint8_t *p = b.tun[k].buf;
		unsigned int seq = (unsigned int)(p[20] << 8 | p[21]);

		if (expect == 100 || expect == 201)
			expect++;
		cr_assert(eq(u32, seq, expect), "delivery %zu", k);
		got++;
	}
	cr_assert(eq(u32, got, 238));
	free(msgs);
	pair_free();
}
