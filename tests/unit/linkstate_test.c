/* SPDX-License-Identifier: MIT */
/*
 * The link's administrative state: device_set_up against the kernel module's wg_stop and
 * wg_open (drivers/net/wireguard/device.c: on down every peer's staged packets, timers,
 * handshake and keypairs go, last_sent_handshake is reset and the sockets close; on up
 * the sockets bind again, staged packets go and persistent-keepalive peers send a
 * keepalive), on the virtual-clock harness; and netlink/rtnl_watch, first on messages
 * built here by hand, then on a real TUN link in a private network namespace (root only).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "device_harness.h"
#include "netlink/rtnl.h"
#include "netlink/rtnl_watch.h"
#include "wgd/hsqueue.h"
#include "wgd/tun.h"
#include "wgd/uapi.h"

static struct harness a, b, c;

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	h_init(&c, 0x33, 10003); /* a peer of a that never answers */
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
	h_free(&c);
}

TestSuite(linkstate, .init = setup, .fini = teardown);

/* The port the kernel says fd is bound to (not what the device remembers). */
static unsigned int bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	cr_assert_geq(fd, 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* listen_port= in a get=1 answer, or 0 when absent. */
static unsigned int get_listen_port(struct device *dev)
{
	struct uapi_buf out = { 0 };
	unsigned int port = 0;
	const char *line;

	cr_assert_eq(uapi_get_format(&out, dev), 0);
	cr_assert_eq(uapi_buf_reserve(&out, 1), 0);
	out.data[out.len] = '\0';
	line = strstr(out.data, "listen_port=");
	if (line)
		cr_assert_eq(sscanf(line, "listen_port=%u", &port), 1);
	uapi_buf_free(&out);
	return port;
}

static void assert_timers_off(const struct peer *p)
{
	const struct peer_timers *t = &p->timers;

	cr_assert_eq(t->retransmit_handshake_ns, TIMER_OFF);
	cr_assert_eq(t->send_keepalive_ns, TIMER_OFF);
	cr_assert_eq(t->new_handshake_ns, TIMER_OFF);
	cr_assert_eq(t->zero_key_material_ns, TIMER_OFF);
	cr_assert_eq(t->persistent_keepalive_ns, TIMER_OFF);
}

/* a and b with a session (a keeps it alive every 25 s), c staged behind a handshake. */
static void sessions(struct peer **pb, struct peer **pc)
{
	*pb = h_add_peer(&a, &b, "10.0.0.2", 32, 25);
	h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_converse(&a, &b, H_T0);
	cr_assert((*pb)->keypairs.current.sending.is_valid);
	*pc = h_add_peer(&a, &c, "10.9.0.0", 16, 0);
	h_tun_packet(&a, "10.0.0.1", "10.9.0.1", 8, H_T0);
	cr_assert_eq((*pc)->staged.len, 1);
	a.nsent = 0;
}

Test(linkstate, down_wipes_sessions_and_silences_the_device)
{
	struct h_datagram data;
	struct peer *pb, *pc;
	uint64_t t = H_T0 + S(1), last_hs, sends, rx;

	sessions(&pb, &pc);
	/* b seals a data message for a while both are up; a gets it once down */
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 8, H_T0);
	cr_assert_eq(b.nsent, 1);
	data = b.sent[0];
	b.nsent = 0;
	last_hs = pb->last_handshake_unix_ns;
	cr_assert_neq(last_hs, 0);
	rx = pb->rx_bytes;

	device_set_up(a.dev, false, t);
	cr_assert_not(a.dev->is_up);
	cr_assert(sodium_is_zero((const unsigned char *)&pb->keypairs, sizeof(pb->keypairs)));
	cr_assert_eq(pb->handshake.state, HANDSHAKE_ZEROED);
	cr_assert(sodium_is_zero(pb->handshake.chaining_key, sizeof(pb->handshake.chaining_key)));
	cr_assert(sodium_is_zero(pb->handshake.ephemeral_private,
				 sizeof(pb->handshake.ephemeral_private)));
	cr_assert_eq(pb->indices_len, 0);
	cr_assert_eq(pc->staged.len, 0);
	cr_assert_eq(pb->last_sent_handshake_ns, TIMER_OFF);
	assert_timers_off(pb);
	assert_timers_off(pc);
	cr_assert_eq(timers_next_deadline(a.dev), TIMER_OFF);
	/* like the kernel, the last handshake time is the peer's and stays for wg show */
	cr_assert_eq(pb->last_handshake_unix_ns, last_hs);
	cr_assert_eq(a.dev->sock.fd4, -1);
	cr_assert_eq(a.dev->sock.fd6, -1);

	/* ten minutes of virtual time and a packet from the TUN: not one datagram */
	sends = a.sends;
	for (unsigned int s = 1; s <= 600; s++) {
		if (s == 5)
			h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, t + S(s));
		h_run(&a, t + S(s));
	}
	cr_assert_eq(a.sends, sends);

	/* b's data is not decrypted, its initiation not answered, nor even queued */
	h_receive(&a, &b, data.buf, data.len, t + S(601));
	cr_assert_eq(a.ntun, 0);
	send_handshake_initiation(device_lookup_peer(b.dev, a.public_key), false, t + S(601));
	cr_assert_eq(b.nsent, 1);
	cr_assert_eq(h_type(&b.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	{
		struct endpoint ep = { .addr = b.self };

		device_udp_receive(a.dev, b.sent[0].buf, b.sent[0].len, &ep, t + S(601));
		cr_assert_eq(hsqueue_len(&a.dev->hsq), 0);
	}
	h_deliver(&b, &a, t + S(601));
	cr_assert_eq(a.sends, sends);
	cr_assert_eq(pb->handshake.state, HANDSHAKE_ZEROED);
	cr_assert_eq(pb->rx_bytes, rx);
}

Test(linkstate, up_rebinds_the_same_port_and_keepalive_starts_a_handshake)
{
	unsigned int port = a.dev->sock.port;
	uint64_t t = H_T0 + S(10);
	struct peer *pb, *pc;
	size_t ntun;

	sessions(&pb, &pc);
	cr_assert_eq(get_listen_port(a.dev), port);
	cr_assert_eq(bound_port(a.dev->sock.fd4), port);
	device_set_up(a.dev, false, H_T0 + S(1));
	cr_assert_eq(get_listen_port(a.dev), port, "wg show keeps the port while down");
	/* staged while down (our TUN cannot, but the path must not lose it) */
	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 8, H_T0 + S(2));
	cr_assert_eq(a.nsent, 0);

	device_set_up(a.dev, true, t);
	cr_assert(a.dev->is_up);
	cr_assert_eq(a.dev->sock.port, port);
	cr_assert_eq(bound_port(a.dev->sock.fd4), port);
	cr_assert_eq(get_listen_port(a.dev), port);
	/* one initiation for b (keepalive and staged packet share it), none for c */
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	cr_assert_neq(pb->timers.retransmit_handshake_ns, TIMER_OFF);
	ntun = b.ntun;
	h_converse(&a, &b, t);
	cr_assert(pb->keypairs.current.sending.is_valid);
	cr_assert_eq(b.ntun, ntun + 1, "the packet staged while down arrives");
	cr_assert_gt(pb->last_handshake_unix_ns, H_REALTIME_BASE + H_T0);
}

/* A keepalive configured before the first up must not start a handshake on a down link. */
Test(linkstate, keepalive_set_while_down_waits_for_up)
{
	struct peer *pb;

	device_set_up(a.dev, false, H_T0);
	pb = h_add_peer(&a, &b, "10.0.0.2", 32, 1);
	cr_assert_eq(a.sends, 0);
	for (unsigned int s = 1; s <= 30; s++)
		h_run(&a, H_T0 + S(s));
	cr_assert_eq(a.sends, 0);
	cr_assert_eq(timers_next_deadline(a.dev), TIMER_OFF);
	device_set_up(a.dev, true, H_T0 + S(31));
	cr_assert_eq(a.nsent, 1);
	cr_assert_eq(h_type(&a.sent[0]), MESSAGE_HANDSHAKE_INITIATION);
	cr_assert_eq(pb->last_sent_handshake_ns, H_T0 + S(31));
}

/* Repeating the current state changes nothing: no clearing, no log, no send. */
Test(linkstate, same_state_twice_is_a_no_op)
{
	struct peer *pb, *pc;

	sessions(&pb, &pc);
	device_set_up(a.dev, true, H_T0 + S(1));
	cr_assert(pb->keypairs.current.sending.is_valid);
	cr_assert_eq(pc->staged.len, 1);
	cr_assert_eq(a.nsent, 0);
	device_set_up(a.dev, false, H_T0 + S(2));
	device_set_up(a.dev, false, H_T0 + S(3));
	cr_assert_eq(a.dev->sock.fd4, -1);
	cr_assert_eq(a.nsent, 0);
}

/* The port was taken while down: up anyway, without sockets, and bind again later. */
Test(linkstate, failed_rebind_is_retried_by_housekeeping)
{
	unsigned int port = a.dev->sock.port;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int blocker;

	device_set_up(a.dev, false, H_T0);
	blocker = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(blocker, 0);
	cr_assert_eq(bind(blocker, (struct sockaddr *)&sin, sizeof(sin)), 0);
	device_set_up(a.dev, true, H_T0 + S(1));
	cr_assert(a.dev->is_up);
	cr_assert_eq(a.dev->sock.fd4, -1);
	device_timers_run(a.dev, H_T0 + S(2));
	cr_assert_eq(a.dev->sock.fd4, -1);
	close(blocker);
	device_timers_run(a.dev, H_T0 + S(4));
	cr_assert_eq(bound_port(a.dev->sock.fd4), port);
	cr_assert_eq(get_listen_port(a.dev), port);
}

/*
 * wg set listen-port while down binds at once (device_cfg.c); the next report that the
 * link is down closes it again, and up binds the new port.
 */
Test(linkstate, port_set_while_down_is_bound_on_up)
{
	struct cfg_device cfg = { .flags = CFG_DEV_HAS_LISTEN_PORT };
	int probe = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned int port;

	/* a port the kernel says is free right now */
	cr_assert_geq(probe, 0);
	cr_assert_eq(bind(probe, (struct sockaddr *)&sin, sizeof(sin)), 0);
	port = bound_port(probe);
	close(probe);
	device_set_up(a.dev, false, H_T0);
	cfg.listen_port = (uint16_t)port;
	cr_assert_eq(device_apply_cfg(a.dev, &cfg, H_T0 + S(1)), 0);
	cr_assert_eq(get_listen_port(a.dev), port);
	device_set_up(a.dev, false, H_T0 + S(2));
	cr_assert_eq(a.dev->sock.fd4, -1);
	cr_assert_eq(get_listen_port(a.dev), port);
	device_set_up(a.dev, true, H_T0 + S(3));
	cr_assert_eq(bound_port(a.dev->sock.fd4), port);
}

/* ---- netlink/rtnl_watch ---- */

struct seen {
	int ifindex[16];
	unsigned int flags[16];
	struct rtnl_watch_event e[16];
	size_t n;
};

static void record(void *ctx, const struct rtnl_watch_event *e)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 16);
	s->e[s->n] = *e;
	s->ifindex[s->n] = e->ifindex;
	s->flags[s->n++] = e->flags;
}

static void put_link(uint8_t **pos, uint16_t type, int ifindex, unsigned int flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(*pos);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = type;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wgx");
	*pos += nlh->nlmsg_len;
}

TestSuite(linkwatch);

Test(linkwatch, parse_takes_link_and_routing_messages)
{
	_Alignas(struct nlmsghdr) uint8_t buf[2048] = { 0 };
	uint8_t *pos = buf;
	struct nlmsghdr *nlh;
	struct seen s = { 0 };

	put_link(&pos, RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING);
	put_link(&pos, RTM_DELLINK, 8, 0);
	nlh = mnl_nlmsg_put_header(pos); /* an error answer: link gone */
	nlh->nlmsg_type = NLMSG_ERROR;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nlmsgerr));
	pos += nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(pos); /* RTM_NEWLINK too short for its ifinfomsg */
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, 4);
	pos += nlh->nlmsg_len;
	put_link(&pos, RTM_NEWLINK, 9, IFF_BROADCAST);
	nlh = mnl_nlmsg_put_header(pos); /* a route went: routing changed */
	nlh->nlmsg_type = RTM_DELROUTE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
	pos += nlh->nlmsg_len;
	rtnl_watch_parse(buf, (size_t)(pos - buf), 5, record, &s);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.e[0].kind, RTNL_WATCH_LINK);
	cr_assert_eq(s.ifindex[0], 7);
	cr_assert_eq(s.flags[0], IFF_UP | IFF_RUNNING);
	cr_assert_eq(s.e[0].nsid, 5, "the datagram's namespace id");
	cr_assert_eq(s.e[1].kind, RTNL_WATCH_LINK_GONE);
	cr_assert_eq(s.ifindex[1], 8);
	cr_assert_eq(s.e[1].new_nsid, -1, "deleted, not moved");
	cr_assert_eq(s.ifindex[2], 9);
	cr_assert_eq(s.flags[2], IFF_BROADCAST);
	cr_assert_eq(s.e[3].kind, RTNL_WATCH_ROUTING);

	/* a length field running past the buffer ends the walk */
	s.n = 0;
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = sizeof(buf) + 16;
	rtnl_watch_parse(buf, (size_t)(pos - buf), RTNL_NSID_SELF, record, &s);
	cr_assert_eq(s.n, 0);
}

/* `ip link set IF netns NS`: the old namespace's RTM_DELLINK says where the link went. */
Test(linkwatch, parse_names_where_a_link_moved)
{
	_Alignas(struct nlmsghdr) uint8_t buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct seen s = { 0 };

	nlh->nlmsg_type = RTM_DELLINK;
	ifi->ifi_index = 12;
	mnl_attr_put_u32(nlh, IFLA_NEW_NETNSID, 3);
	mnl_attr_put_u32(nlh, IFLA_NEW_IFINDEX, 42);
	rtnl_watch_parse(buf, nlh->nlmsg_len, RTNL_NSID_SELF, record, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.e[0].kind, RTNL_WATCH_LINK_GONE);
	cr_assert_eq(s.e[0].nsid, RTNL_NSID_SELF);
	cr_assert_eq(s.e[0].ifindex, 12);
	cr_assert_eq(s.e[0].new_nsid, 3);
	cr_assert_eq(s.e[0].new_ifindex, 42);
}

static struct rtnl_watch *watch;
static int tun_fd = -1;
static int ifindex;

static void link_setup(void)
{
	char got[IFNAMSIZ];
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		cr_skip_test("/dev/net/tun: %m");
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %m");
	tun_fd = tun_open("wgdlw0", got);
	cr_assert_geq(tun_fd, 0, "tun_open: %s", strerror(-tun_fd));
	ifindex = tun_get_ifindex("wgdlw0");
	cr_assert_gt(ifindex, 0);
	cr_assert_eq(rtnl_watch_open(&watch, RTNL_WATCH_LINKS), 0);
}

static void link_teardown(void)
{
	rtnl_watch_close(watch);
	watch = NULL;
	if (tun_fd >= 0)
		close(tun_fd);
	tun_fd = -1;
}

/* Waits up to 2 s for input, then reads; the flags of the last message about our link. */
static int read_state(unsigned int *flags)
{
	struct pollfd pfd = { .fd = rtnl_watch_fd(watch), .events = POLLIN };
	struct seen s = { 0 };
	int ret;

	cr_assert_eq(poll(&pfd, 1, 2000), 1, "no netlink message within 2 s");
	ret = rtnl_watch_read(watch, record, &s);
	for (size_t i = 0; i < s.n; i++)
		if (s.e[i].kind == RTNL_WATCH_LINK && s.ifindex[i] == ifindex)
			*flags = s.flags[i];
	return ret;
}

static void ip_link(const char *state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip link set wgdlw0 %s", state);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(linkwatch, follows_ip_link_set_up_and_down, .init = link_setup, .fini = link_teardown)
{
	unsigned int flags = ~0U;

	cr_assert_neq(fcntl(rtnl_watch_fd(watch), F_GETFL) & O_NONBLOCK, 0);
	cr_assert_neq(fcntl(rtnl_watch_fd(watch), F_GETFD) & FD_CLOEXEC, 0);
	cr_assert_eq(rtnl_watch_query(watch, ifindex), 0);
	cr_assert_eq(read_state(&flags), 0);
	cr_assert_eq(flags & IFF_UP, 0, "a new TUN link is down");
	ip_link("up");
	cr_assert_eq(read_state(&flags), 0);
	cr_assert_neq(flags & IFF_UP, 0);
	ip_link("down");
	cr_assert_eq(read_state(&flags), 0);
	cr_assert_eq(flags & IFF_UP, 0);
	/* the socket is empty again: a read returns at once */
	cr_assert_eq(rtnl_watch_read(watch, record, &(struct seen){ 0 }), 0);
	/* a gone link's error answer is ignored */
	cr_assert_eq(rtnl_watch_query(watch, 999999), 0);
	cr_assert_eq(rtnl_watch_query(watch, 0), -ENODEV);
}

/*
 * An overrun: a tiny receive buffer and a hundred changes lose notifications, the read
 * says so, and a query brings the real state back.
 */
Test(linkwatch, overrun_reports_enobufs_and_query_recovers, .init = link_setup,
     .fini = link_teardown)
{
	unsigned int flags = ~0U;
	struct rtnl *nl;
	int one = 1, ret;

	cr_assert_eq(
		setsockopt(rtnl_watch_fd(watch), SOL_SOCKET, SO_RCVBUFFORCE, &one, sizeof(one)), 0);
	cr_assert_eq(rtnl_open(&nl), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(rtnl_link_set_up(nl, ifindex, i % 2 == 0), 0);
	rtnl_close(nl);
	/* the last change left it down (i = 99 is odd) */
	ret = read_state(&flags);
	cr_assert_eq(ret, -ENOBUFS);
	cr_assert_eq(rtnl_watch_query(watch, ifindex), 0);
	flags = ~0U;
	cr_assert_eq(read_state(&flags), 0);
	cr_assert_eq(flags & IFF_UP, 0);
}

/*
 * A link notification sent by a process (root here; the worker could, with CAP_NET_ADMIN)
 * straight to the watch's port id: only the kernel speaks for links, so it is dropped.
 */
Test(linkwatch, notification_from_a_process_is_dropped, .init = link_setup, .fini = link_teardown)
{
	_Alignas(struct nlmsghdr) uint8_t buf[512] = { 0 };
	struct sockaddr_nl to = { .nl_family = AF_NETLINK }, me = { .nl_family = AF_NETLINK };
	struct pollfd pfd = { .fd = rtnl_watch_fd(watch), .events = POLLIN };
	socklen_t alen = sizeof(to);
	struct seen s = { 0 };
	uint8_t *pos = buf;
	int fd;

	cr_assert_eq(getsockname(rtnl_watch_fd(watch), (struct sockaddr *)&to, &alen), 0);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	put_link(&pos, RTM_NEWLINK, ifindex, IFF_UP | IFF_RUNNING);
	cr_assert_eq(sendto(fd, buf, (size_t)(pos - buf), 0, (struct sockaddr *)&to, sizeof(to)),
		     pos - buf, "sendto: %m");
	cr_assert_eq(poll(&pfd, 1, 2000), 1, "the forged message did not arrive");
	cr_assert_eq(rtnl_watch_read(watch, record, &s), 0);
	cr_assert_eq(s.n, 0, "a forged notification was taken");
	close(fd);
}
