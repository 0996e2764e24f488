/* SPDX-License-Identifier: MIT */
/*
 * Regression cases for the libFuzzer targets (tests/fuzz/, docs/FUZZING.md): each input
 * goes through the same entry point the fuzzer calls (fz_NAME_one), whose checks become
 * Criterion assertions here (FZ_CRITERION), and each case then asserts what the input
 * must have done, so it fails if the path it pins is no longer reached. The longer fuzz
 * run found no crash in the product; these are the edge inputs met on the way: the
 * boundaries and protocol corners each target's model had to get right. Expected counts
 * come from the whitepaper, the kernel's counter.c and PROTOCOL.md, worked by hand.
 */
#include <criterion/criterion.h>

#define FZ_NO_MAIN
#define FZ_CRITERION

/* wgctl must never reach a running daemon: its UAPI client looks where none can be */
#undef RUNSTATEDIR
#define RUNSTATEDIR  "/nonexistent/wgd-fuzz"
#define put_endpoint uapi_client_put_endpoint /* a static name ctl/show.c uses too */
#include "wgd/uapi_client.c"
#undef put_endpoint

#include "tests/fuzz/allowedips.c"
#include "tests/fuzz/conf.c"
#include "tests/fuzz/cookie.c"
#include "tests/fuzz/ctl_argv.c"
#include "tests/fuzz/data_path.c"
#include "tests/fuzz/ingress.c"
#include "tests/fuzz/initiation.c"
#include "tests/fuzz/replay.c"
#include "tests/fuzz/response.c"
#include "tests/fuzz/tun_egress.c"
#include "tests/fuzz/uapi.c"

#define IN(s) (const uint8_t *)(s), sizeof(s) - 1

/* A growable input, for the cases too long to write out. */
struct rg_buf {
	uint8_t data[32768];
	size_t len;
};

static void rg_put(struct rg_buf *b, const void *p, size_t len)
{
	cr_assert_leq(b->len + len, sizeof(b->data));
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

static void rg_u8(struct rg_buf *b, uint8_t v)
{
	rg_put(b, &v, 1);
}

static void rg_u16(struct rg_buf *b, uint16_t v)
{
	uint16_t le = htole16(v);

	rg_put(b, &le, 2);
}

/* Past RECEIVE_LOAD_THRESHOLD (128) mac1-valid handshakes in one second, B is under load
 * and answers the 129th and 130th with cookie replies (PROTOCOL.md §6), still nothing else. */
Test(fuzz_regress, ingress_mac1_flood_gets_cookie_replies)
{
	static struct rg_buf b;
	uint8_t msg[148] = { 1 };

	b.len = 0;
	for (int i = 0; i < 130; i++) {
		rg_u8(&b, ING_FIX_MAC1); /* from A's address, mac1 computed */
		rg_u16(&b, 0);		 /* no time passes */
		rg_u16(&b, sizeof(msg));
		rg_put(&b, msg, sizeof(msg));
	}
	fz_ingress_one(b.data, b.len);
	cr_assert_eq(ing_stats.cookie_replies, 2);
}

/* Under load, a response with a valid mac1 from an IPv6 source gets a cookie reply. */
Test(fuzz_regress, ingress_cookie_reply_to_ipv6)
{
	static const uint8_t fd00_1[16] = { 0xfd, [15] = 1 };
	static struct rg_buf b;
	uint8_t msg[92] = { 2 };

	b.len = 0;
	rg_u8(&b, 2 | ING_FIX_MAC1 | ING_LOAD); /* an IPv6 source */
	rg_u16(&b, 0);
	rg_u16(&b, 51820);
	rg_put(&b, fd00_1, sizeof(fd00_1));
	rg_u16(&b, sizeof(msg));
	rg_put(&b, msg, sizeof(msg));
	fz_ingress_one(b.data, b.len);
	cr_assert_eq(ing_stats.cookie_replies, 1);
}

/* The same initiation again: its timestamp is not newer, so no second response (§5.1). */
Test(fuzz_regress, initiation_replay_is_refused)
{
	fz_initiation_one(IN("\x03\x00\x00\xff\x00\x14\x00\x01\x00\x00\x00\x02"));
	cr_assert_eq(ini_stats.responses, 1);
	cr_assert_eq(ini_stats.sessions, 1);
}

/* B cannot see a wrong preshared key in an initiation; the initiator refuses the answer. */
Test(fuzz_regress, initiation_psk_mismatch_fails_at_the_initiator)
{
	fz_initiation_one(IN("\x07\x00\x00\xff\x00\x14\x00\x01\x00\x00\x00"));
	cr_assert_eq(ini_stats.responses, 1);
	cr_assert_eq(ini_stats.sessions, 0);
}

/* The sender index is not authenticated: B answers the rewritten one, which A never sent. */
Test(fuzz_regress, initiation_rewritten_sender_index)
{
	fz_initiation_one(IN("\x00\x00\x00\x05\x40\x14\x00\x01\x00\x00\x00"));
	cr_assert_eq(ini_stats.responses, 1);
	cr_assert_eq(ini_stats.sessions, 0);
}

/* Under load: a cookie reply first, then the same peer with mac2 gets its response. */
Test(fuzz_regress, initiation_under_load_cookie_then_mac2)
{
	fz_initiation_one(IN("\x00\x04\x00\x00\xff\x00\x14\x00\x01\x00\x00\x00\x05\x03\x1e\x00"
			     "\x00\x00\xff\x00\x14\x00\x01\x00\x00\x00"));
	cr_assert_eq(ini_stats.cookie_replies, 1);
	cr_assert_eq(ini_stats.responses, 1);
	cr_assert_eq(ini_stats.sessions, 1);
}

/* A response's sender index (9, byte 6 flipped by 0x11) becomes where B's data goes. */
Test(fuzz_regress, response_rewritten_sender_index)
{
	fz_response_one(IN("\x00\x00\x00\x06\x11\x09\x00\x00\x00"));
	cr_assert_eq(rsp_stats.sessions, 1);
	cr_assert_eq(rsp_stats.last_keepalive_index, 0x00110009);
}

/* R answers an initiation B has since replaced: B's new index does not match. */
Test(fuzz_regress, response_to_a_stale_initiation)
{
	fz_response_one(IN("\x00\x04\x70\x17\x01\x01\x00\x00\xff\x00\x09\x00\x00\x00"));
	cr_assert_eq(rsp_stats.sessions, 0);
}

/* A cookie taken 6 s ago gives B's next initiation a valid mac2 (§5.4.7). */
Test(fuzz_regress, cookie_then_mac2)
{
	fz_cookie_one(IN("\x00\xff\x00\x02\xdc\x05\x03"));
	cr_assert_eq(ck_stats.taken, 1);
	cr_assert_eq(ck_stats.mac2_valid, 1);
}

/* 116 s later the maker has dropped it (120 - 5 s): no mac2. */
Test(fuzz_regress, cookie_expires_before_the_secret)
{
	fz_cookie_one(IN("\x00\xff\x00\x02\x48\x71\x03"));
	cr_assert_eq(ck_stats.taken, 1);
	cr_assert_eq(ck_stats.mac2_valid, 0);
}

/* Highest 8138: counter 9 is 8129 behind (refused), 10 is 8128 behind (accepted). */
Test(fuzz_regress, data_window_edge)
{
	fz_data_path_one(
		IN("\x00" /* a plain TUN; each line: one message, a bare IPv4 header */
		   "\x02\x00\x01\x01\xca\x1f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		   "\x02\x00\x01\x01\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		   "\x02\x00\x01\x01\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		   "\x02\x00\x01\x01\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
	cr_assert_eq(dp_stats.accepted, 3);
	cr_assert_eq(dp_stats.delivered, 3);
}

/* Counter REJECT_AFTER_MESSAGES - 1 is the last: after it the keypair receives nothing. */
Test(fuzz_regress, data_counter_limit_ends_the_keypair)
{
	fz_data_path_one(IN("\x00\x02\x00\x01\x03\x01\x00\x00\x00\x00\x00\x00\x00"
			    "\x02\x00\x01\x03\x02\x00\x00\x00\x00\x00\x00\x00"));
	cr_assert_eq(dp_stats.accepted, 1);
}

/* A moves to port 20005 with an authentic message; a tampered one from 20006 moves nothing. */
Test(fuzz_regress, data_roaming_only_when_authentic)
{
	fz_data_path_one(IN("\x00\x02\x85\x01\x00\x00\x00\x00\x00\x00\x00"
			    "\x02\x86\x03\x00\x03\x00\x01\x00\x00\x00\x00"));
	cr_assert_eq(dp_stats.accepted, 1);
}

/* Three TCP segments of one flow in one UDP GRO read reach an offloading TUN as one
 * super-packet, which cut again gives back the three. */
Test(fuzz_regress, data_gro_coalesces_a_flow)
{
	fz_data_path_one(IN(
		"\x01\x01\x01\x09\x00\x00\x00\x00\x64\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
		"\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
		"\x1e\x1f\x09\x00\x00\x00\x00\x64\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
		"\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e"
		"\x1f\x09\x00\x00\x00\x00\x64\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
		"\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e"
		"\x1f"));
	cr_assert_eq(dp_stats.delivered, 3);
	cr_assert_eq(dp_stats.coalesced, 3);
}

/* counter.c alone keeps its window at the limit: REJECT - 42 is still new there. */
Test(fuzz_regress, replay_window_at_the_limit)
{
	fz_replay_one(IN("\x00\x3d\xe0\xff\xff\xff\xff\xff\xff\x00\x14\xe0\xff\xff\xff\xff\xff"
			 "\xff"));
	cr_assert_eq(rp_stats.accepted, 2);
}

static void rg_te_packet(struct rg_buf *b, uint8_t pick, uint16_t len)
{
	rg_u8(b, 4); /* a packet */
	rg_u8(b, 1); /* built, IPv4 */
	rg_u8(b, pick);
	rg_u16(b, len);
	for (uint16_t i = 0; i < len && i < 64; i++)
		rg_u8(b, (uint8_t)i);
}

/*
 * Two packets for R wait for the handshake (one for D is staged apart), leave in order
 * when it completes, then 1500 bytes at MTU 1420 and 3000 at MTU 1280 go at once, and
 * after 181 s (REJECT_AFTER_TIME) a packet is staged again.
 */
Test(fuzz_regress, tun_staging_padding_and_expiry)
{
	static struct rg_buf b;

	b.len = 0;
	rg_u8(&b, 0); /* no vnet headers */
	rg_te_packet(&b, 0, 100);
	rg_te_packet(&b, 1, 60);
	rg_te_packet(&b, 0, 40);
	rg_put(&b, "\x01\x07\x00\x00\x00", 5); /* R answers */
	rg_te_packet(&b, 0, 1500);
	rg_u8(&b, 2);
	rg_u16(&b, 1280);
	rg_te_packet(&b, 0, 3000);
	rg_u8(&b, 0);
	rg_u16(&b, 18100);
	rg_te_packet(&b, 0, 50);
	fz_tun_egress_one(b.data, b.len);
	cr_assert_eq(te_stats.flushed, 2);
	cr_assert_eq(te_stats.opened, 4);
}

static void rg_te_super(struct rg_buf *b, uint8_t how, uint16_t payload, uint16_t gso)
{
	size_t hdr = (how & 1 ? 40 : 20) + (how & 2 ? 8 : 20);

	rg_u8(b, 3);   /* a super-packet */
	rg_u8(b, how); /* bit 0: IPv6, bit 1: UDP */
	rg_u8(b, 0);   /* to R */
	rg_u8(b, 0);   /* TCP data offset 5 */
	rg_u16(b, payload);
	rg_u16(b, gso);
	for (size_t i = 0; i < hdr + payload && i < 64; i++)
		rg_u8(b, (uint8_t)i);
	if (!(how & 2))
		rg_u8(b, 0x19); /* ACK, PSH, FIN: the last two only on the last segment */
}

/* A TCPv4 super-packet of 3000 bytes cut at 1000 and a UDPv6 one of 100 cut at 30 leave
 * as 3 and 4 segments, each checked byte for byte against the kernel's rules. */
Test(fuzz_regress, tun_super_packets_segmented)
{
	static struct rg_buf b;

	b.len = 0;
	rg_u8(&b, 1); /* vnet headers */
	rg_put(&b, "\x01\x07\x00\x00\x00", 5);
	rg_te_super(&b, 0, 3000, 1000);
	rg_te_super(&b, 3, 100, 30);
	fz_tun_egress_one(b.data, b.len);
	cr_assert_eq(te_stats.super_packets, 2);
	cr_assert_eq(te_stats.opened, 1 + 3 + 4);
}

/* 0.0.0.0/0 for peer 5 re-inserted for peer 6 moves to peer 6 (as in Linux). */
Test(fuzz_regress, allowedips_reassign_default_route)
{
	fz_allowedips_one(IN("\x00\x05\x00\x00\x00\x00\x00\x00"
			     "\x00\x06\x00\x00\x00\x00\x00\x00"
			     "\x04\x00\x01\x02\x03\x04\x20"));
	cr_assert_eq(ai_stats.inserted, 2);
	cr_assert_eq(ai_stats.found, 1);
}

/* A set line without '=' is -EPROTO (wireguard-go), the get after it still works. */
Test(fuzz_regress, uapi_line_without_equals)
{
	fz_uapi_one(IN("set=1\nprivate_key-00\n\nget=1\n\n"));
	cr_assert_eq(ua_stats.replies, 2);
	cr_assert_eq(ua_stats.failed, 1);
	cr_assert(ua_stats.round_trip);
}

/* The golden file with every key parses, and its wg part survives a write and re-read. */
Test(fuzz_regress, conf_every_key_round_trip)
{
	static char text[4096];
	FILE *f = fopen("tests/golden/conf/ok_every_key.conf", "re");
	size_t n;

	cr_assert_not_null(f, "run from the repository root");
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	fz_conf_one((const uint8_t *)text, n);
	cr_assert_eq(cf_stats.ret, 0, "%s", cf_stats.err);
	cr_assert_eq(cf_stats.peers, 2);
}

/*
 * A host that is neither an address nor a DNS name (`[2001:db8::3] with a stray
 * backtick) was kept as a name to resolve later and written back as "[`[...]]:port",
 * which did not parse again: it is refused at its line now.
 */
Test(fuzz_regress, conf_endpoint_neither_address_nor_name)
{
	static const char text[] = "[Interface]\nPrivateKey = "
				   "4EvhDeJbWuZwN2a3pMzj+0vrixgSdjucfVj2P4lBWko=\n[Peer]\n"
				   "PublicKey = yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\n"
				   "Endpoint =`[2001:db8::3]:51821\n";

	fz_conf_one((const uint8_t *)text, sizeof(text) - 1);
	cr_assert_lt(cf_stats.ret, 0);
	cr_assert(strstr(cf_stats.err, ":5: invalid Endpoint") != NULL, "%s", cf_stats.err);
	cr_assert(strstr(cf_stats.err, "neither an IP address nor a host name") != NULL, "%s",
		  cf_stats.err);
}

/* wgctl parses the whole request, then finds no daemon: exit status 1. */
Test(fuzz_regress, ctl_peer_add_without_daemon)
{
	fz_ctl_argv_one(IN("peer\0add\0wg0\0yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\0"
			   "allowed-ips\0+10.0.0.0/8,-fd00::/64\0endpoint\0[::1]:51820"));
	cr_assert_eq(ca_status, 1);
}

/* `up' starts daemons: the target never runs it. */
Test(fuzz_regress, ctl_up_is_skipped)
{
	fz_ctl_argv_one(IN("up\0wg0"));
	cr_assert_eq(ca_status, -1);
}
