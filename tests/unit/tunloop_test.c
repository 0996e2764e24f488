/* SPDX-License-Identifier: MIT */
/*
 * Routing loops (send.c): with a peer's endpoint routed through the tunnel, our own sealed
 * datagrams come back from the TUN as UDP from our listen port. They are dropped and
 * counted, not sealed again; the same UDP from another port, or a non-WireGuard payload
 * from our port, still goes to the peer.
 */
#include <criterion/criterion.h>

#include "device_harness.h"

static struct harness a, b;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	h_add_peer(&a, &b, "10.0.0.0", 24, 0);
	h_add_peer(&b, &a, "10.0.1.1", 32, 0);
	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", 8, H_T0);
	h_converse(&a, &b, H_T0);
	cr_assert(a.dev->peers_first->keypairs.current.sending.is_valid);
	cr_assert_neq(a.dev->sock.port, 0);
	a.nsent = 0;
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(tunloop, .init = setup, .fini = teardown);

/* As if a's TUN produced UDP 10.0.1.1:sport -> 10.0.0.2:51820 carrying payload. */
static void tun_udp(uint16_t sport, const uint8_t *payload, size_t plen, uint64_t now)
{
	uint8_t *pkt = a.dev->tx_buf + sizeof(struct message_data);
	size_t len = h_ipv4(pkt, "10.0.1.1", "10.0.0.2", 8 + plen);

	pkt[20] = (uint8_t)(sport >> 8);
	pkt[21] = (uint8_t)sport;
	pkt[22] = 51820 >> 8;
	pkt[23] = 51820 & 0xff;
	pkt[24] = (uint8_t)((8 + plen) >> 8);
	pkt[25] = (uint8_t)(8 + plen);
	memcpy(pkt + 28, payload, plen);
	a.now_ns = now;
	send_tun_packet(a.dev, len, now);
}

/* a's own data message, sent to b's endpoint (routed through a's tunnel): dropped, 100 times */
Test(tunloop, own_datagram_is_not_sealed_again)
{
	struct h_datagram own;
	size_t sends;

	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", 100, H_T0 + MS(1));
	cr_assert_eq(a.nsent, 1);
	own = a.sent[0];
	a.nsent = 0;
	sends = a.sends;
	for (int i = 0; i < 100; i++)
		tun_udp(a.dev->sock.port, own.buf, own.len, H_T0 + MS(2));
	cr_assert_eq(a.sends, sends, "a sealed its own datagram again");
	cr_assert_eq(a.dev->tun_loops, 100);
}

Test(tunloop, other_ports_and_payloads_pass)
{
	uint8_t junk[64] = { 9 };
	struct h_datagram own;

	h_tun_packet(&a, "10.0.1.1", "10.0.0.2", 100, H_T0 + MS(1));
	own = a.sent[0];
	a.nsent = 0;
	tun_udp((uint16_t)(a.dev->sock.port + 1), own.buf, own.len, H_T0 + MS(2));
	tun_udp(a.dev->sock.port, junk, sizeof(junk), H_T0 + MS(2));
	cr_assert_eq(a.nsent, 2);
	cr_assert_eq(a.dev->tun_loops, 0);
}
