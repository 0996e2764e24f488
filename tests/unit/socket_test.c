/* SPDX-License-Identifier: MIT */
/*
 * The UDP transport on loopback: dual-stack open on one port, EADDRINUSE with nothing left
 * open, fwmark (and its refusal without CAP_NET_ADMIN), sticky source addresses in both
 * directions, the stale-source retry, IPv4-mapped destinations, and the endpoint text
 * codec against hand-written tables (formats from Go's net/netip and RFC 5952).
 * Peers are plain BSD sockets, so what the kernel reports is checked independently.
 */
#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/socket.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	cr_assert(eq(int, getsockopt(fd, level, name, &v, &len), 0), "getsockopt: %m");
	return v;
}

static uint16_t local_port(int fd)
{
	union endpoint_addr a;
	socklen_t len = sizeof(a);

	cr_assert(eq(int, getsockname(fd, &a.sa, &len), 0));
	return ntohs(a.sa.sa_family == AF_INET ? a.in4.sin_port : a.in6.sin6_port);
}

static void make_addr(union endpoint_addr *a, int family, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = (sa_family_t)family;
	if (family == AF_INET) {
		a->in4.sin_port = htons(port);
		cr_assert(eq(int, inet_pton(AF_INET, ip, &a->in4.sin_addr), 1));
	} else {
		a->in6.sin6_port = htons(port);
		cr_assert(eq(int, inet_pton(AF_INET6, ip, &a->in6.sin6_addr), 1));
	}
}

static socklen_t addr_len(const union endpoint_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in4) : sizeof(a->in6);
}

/* A plain UDP socket bound to ip:port, standing in for the remote peer. */
static int peer_socket(int family, const char *ip, uint16_t port)
{
	union endpoint_addr a;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	if (family == AF_INET6)
		cr_assert(eq(int, setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 },
					     sizeof(int)), 0));
	make_addr(&a, family, ip, port);
	cr_assert(eq(int, bind(fd, &a.sa, addr_len(&a)), 0), "bind %s:%u: %m", ip, port);
	return fd;
}

static bool is_loopback6(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a);
}

static bool is_unspecified6(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a);
}

static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	cr_assert(eq(int, poll(&p, 1, 2000), 1), "fd %d not readable", fd);
}

static void open_any(struct udp_socket *s)
{
	udp_socket_init(s);
	cr_assert(eq(int, udp_socket_open(s, 0, 0), 0));
}

/* A private network namespace with lo up: addresses we add vanish with the test process. */
static void enter_netns_or_skip(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip("unshare(CLONE_NEWNET): %m");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	cr_assert(eq(int, ioctl(fd, SIOCGIFFLAGS, &ifr), 0));
	ifr.ifr_flags |= IFF_UP;
	cr_assert(eq(int, ioctl(fd, SIOCSIFFLAGS, &ifr), 0));
	close(fd);
}

static bool has_net_admin(void)
{
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
}

static void run(const char *cmd)
{
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/*
 * IPv6 installs an added address's routes from a workqueue, even with nodad: until then
 * packets to it are dropped (Ip6OutNoRoutes). A UDP connect() does the route lookup.
 */
static void wait_route6(const char *ip)
{
	union endpoint_addr a;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	make_addr(&a, AF_INET6, ip, 9);
	for (int i = 0; connect(fd, &a.sa, sizeof(a.in6)) < 0; i++) {
		cr_assert(lt(int, i, 2000), "no route to %s: %m", ip);
		usleep(1000);
	}
	close(fd);
}

Test(socket, open_port0_binds_both_families_on_one_port)
{
	struct udp_socket s;

	open_any(&s);
	cr_assert(ne(int, s.port, 0));
	cr_assert(s.fd4 >= 0 && s.fd6 >= 0);
	cr_assert(eq(int, local_port(s.fd4), s.port));
	cr_assert(eq(int, local_port(s.fd6), s.port));
	cr_assert(eq(int, sockopt_int(s.fd6, IPPROTO_IPV6, IPV6_V6ONLY), 1));
	cr_assert(eq(int, sockopt_int(s.fd4, IPPROTO_IP, IP_PKTINFO), 1));
	cr_assert(eq(int, sockopt_int(s.fd6, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1));
	for (int i = 0; i < 2; i++) {
		int fd = i ? s.fd6 : s.fd4;

		cr_assert(ne(int, fcntl(fd, F_GETFL) & O_NONBLOCK, 0));
		cr_assert(ne(int, fcntl(fd, F_GETFD) & FD_CLOEXEC, 0));
		/* SO_RCVBUFFORCE (CAP_NET_ADMIN) beats net.core.rmem_max; the kernel reports double */
		if (has_net_admin()) {
			cr_assert(ge(int, sockopt_int(fd, SOL_SOCKET, SO_RCVBUF),
				     UDP_SOCKET_BUFFER_SIZE));
			cr_assert(ge(int, sockopt_int(fd, SOL_SOCKET, SO_SNDBUF),
				     UDP_SOCKET_BUFFER_SIZE));
		}
		cr_assert(eq(int, sockopt_int(fd, SOL_SOCKET, SO_MARK), 0));
	}
	udp_socket_close(&s);
	cr_assert(eq(int, s.fd4, -1));
	cr_assert(eq(int, s.fd6, -1));
}

Test(socket, open_fixed_port)
{
	struct udp_socket s;
	uint16_t port;

	open_any(&s);
	port = s.port;
	udp_socket_close(&s);
	cr_assert(eq(int, udp_socket_open(&s, port, 0), 0));
	cr_assert(eq(int, s.port, port));
	cr_assert(eq(int, local_port(s.fd4), port));
	cr_assert(eq(int, local_port(s.fd6), port));
	udp_socket_close(&s);
}

Test(socket, open_refuses_an_open_socket)
{
	struct udp_socket s;

	open_any(&s);
	cr_assert(eq(int, udp_socket_open(&s, 0, 0), -EBUSY));
	udp_socket_close(&s);
}

Test(socket, eaddrinuse_on_both_families)
{
	struct udp_socket a, b;

	open_any(&a);
	udp_socket_init(&b);
	cr_assert(eq(int, udp_socket_open(&b, a.port, 0), -EADDRINUSE));
	cr_assert(eq(int, b.fd4, -1));
	cr_assert(eq(int, b.fd6, -1));
	udp_socket_close(&a);
}

/* v4 binds, v6 does not: the v4 socket must be closed again, leaving the port free. */
Test(socket, eaddrinuse_on_v6_only_leaves_nothing_open)
{
	struct udp_socket s;
	int v6 = peer_socket(AF_INET6, "::", 0), v4;
	uint16_t port = local_port(v6);

	udp_socket_init(&s);
	cr_assert(eq(int, udp_socket_open(&s, port, 0), -EADDRINUSE));
	cr_assert(eq(int, s.fd4, -1));
	cr_assert(eq(int, s.fd6, -1));
	v4 = peer_socket(AF_INET, "0.0.0.0", port);
	close(v4);
	close(v6);
}

Test(socket, fwmark_on_open_and_set)
{
	static const uint32_t marks[] = { 0, 0xffffffff, 42 };
	struct udp_socket s;

	if (!has_net_admin())
		cr_skip("SO_MARK needs CAP_NET_ADMIN");
	udp_socket_init(&s);
	cr_assert(eq(int, udp_socket_open(&s, 0, 0x1234), 0));
	cr_assert(eq(u32, s.fwmark, 0x1234));
	cr_assert(eq(u32, (uint32_t)sockopt_int(s.fd4, SOL_SOCKET, SO_MARK), 0x1234));
	cr_assert(eq(u32, (uint32_t)sockopt_int(s.fd6, SOL_SOCKET, SO_MARK), 0x1234));
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		cr_assert(eq(int, udp_socket_set_fwmark(&s, marks[i]), 0), "case %zu", i + 1);
		cr_assert(eq(u32, s.fwmark, marks[i]));
		cr_assert(eq(u32, (uint32_t)sockopt_int(s.fd4, SOL_SOCKET, SO_MARK), marks[i]));
		cr_assert(eq(u32, (uint32_t)sockopt_int(s.fd6, SOL_SOCKET, SO_MARK), marks[i]));
	}
	/* closed: remembered for the next open */
	udp_socket_close(&s);
	cr_assert(eq(int, udp_socket_set_fwmark(&s, 7), 0));
	cr_assert(eq(int, udp_socket_open(&s, 0, s.fwmark), 0));
	cr_assert(eq(u32, (uint32_t)sockopt_int(s.fd6, SOL_SOCKET, SO_MARK), 7));
	udp_socket_close(&s);
}

Test(socket, fwmark_needs_privilege)
{
	struct udp_socket s;

	open_any(&s);
	capng_get_caps_process();
	/* Linux >= 5.17 also lets CAP_NET_RAW set marks */
	if (capng_updatev(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN,
			  CAP_NET_RAW, -1) < 0 ||
	    capng_apply(CAPNG_SELECT_CAPS) < 0)
		cr_skip("cannot drop CAP_NET_ADMIN and CAP_NET_RAW");
	cr_assert(eq(int, udp_socket_set_fwmark(&s, 9), -EPERM));
	cr_assert(eq(u32, s.fwmark, 0));
	cr_assert(eq(int, sockopt_int(s.fd4, SOL_SOCKET, SO_MARK), 0));
	udp_socket_close(&s);
	cr_assert(eq(int, udp_socket_open(&s, 0, 9), -EPERM));
	cr_assert(eq(int, s.fd4, -1));
	cr_assert(eq(int, s.fd6, -1));
}

/*
 * The peer writes to 127.0.0.2 while we listen on the wildcard: recv must report that
 * local address, and our reply must come from it although routing would pick 127.0.0.1.
 */
Test(socket, sticky_source_v4)
{
	struct udp_socket s;
	struct endpoint from;
	union endpoint_addr to, got;
	socklen_t glen = sizeof(got);
	char buf[16];
	int peer;

	open_any(&s);
	peer = peer_socket(AF_INET, "127.0.0.1", 0);
	make_addr(&to, AF_INET, "127.0.0.2", s.port);
	cr_assert(eq(int, (int)sendto(peer, "ping", 4, 0, &to.sa, addr_len(&to)), 4));
	wait_readable(s.fd4);
	cr_assert(eq(int, (int)udp_socket_recv(s.fd4, buf, sizeof(buf), &from), 4));
	cr_assert(eq(int, from.addr.sa.sa_family, AF_INET));
	cr_assert(eq(u32, ntohl(from.addr.in4.sin_addr.s_addr), 0x7f000001));
	cr_assert(eq(int, ntohs(from.addr.in4.sin_port), local_port(peer)));
	cr_assert(eq(u32, ntohl(from.src4.s_addr), 0x7f000002));
	cr_assert(eq(int, from.src_ifindex, (int)if_nametoindex("lo")));

	cr_assert(eq(int, udp_socket_send(&s, &from, "pong", 4), 0));
	wait_readable(peer);
	cr_assert(eq(int, (int)recvfrom(peer, buf, sizeof(buf), 0, &got.sa, &glen), 4));
	cr_assert(eq(int, memcmp(buf, "pong", 4), 0));
	cr_assert(eq(u32, ntohl(got.in4.sin_addr.s_addr), 0x7f000002));
	cr_assert(eq(int, ntohs(got.in4.sin_port), s.port));
	close(peer);
	udp_socket_close(&s);
}

Test(socket, send_recv_v6_loopback)
{
	struct udp_socket s;
	struct endpoint from;
	union endpoint_addr to, got;
	socklen_t glen = sizeof(got);
	char buf[16];
	int peer;

	open_any(&s);
	peer = peer_socket(AF_INET6, "::1", 0);
	make_addr(&to, AF_INET6, "::1", s.port);
	cr_assert(eq(int, (int)sendto(peer, "ping6", 5, 0, &to.sa, addr_len(&to)), 5));
	wait_readable(s.fd6);
	cr_assert(eq(int, (int)udp_socket_recv(s.fd6, buf, sizeof(buf), &from), 5));
	cr_assert(eq(int, from.addr.sa.sa_family, AF_INET6));
	cr_assert(is_loopback6(&from.addr.in6.sin6_addr));
	cr_assert(eq(int, ntohs(from.addr.in6.sin6_port), local_port(peer)));
	cr_assert(is_loopback6(&from.src6));
	cr_assert(eq(int, from.src_ifindex, (int)if_nametoindex("lo")));

	cr_assert(eq(int, udp_socket_send(&s, &from, "pong6", 5), 0));
	wait_readable(peer);
	cr_assert(eq(int, (int)recvfrom(peer, buf, sizeof(buf), 0, &got.sa, &glen), 5));
	cr_assert(eq(int, memcmp(buf, "pong6", 5), 0));
	cr_assert(is_loopback6(&got.in6.sin6_addr));
	cr_assert(eq(int, ntohs(got.in6.sin6_port), s.port));
	close(peer);
	udp_socket_close(&s);
}

/* IPv6 has one loopback address, so give lo two more in a private namespace. */
Test(socket, sticky_source_v6)
{
	struct udp_socket s;
	struct endpoint from;
	union endpoint_addr to, got, want;
	socklen_t glen = sizeof(got);
	char buf[16];
	int peer;

	enter_netns_or_skip();
	run("ip -6 addr add fd00:5::1/128 dev lo nodad && ip -6 addr add fd00:5::2/128 dev lo nodad");
	wait_route6("fd00:5::1");
	wait_route6("fd00:5::2");
	open_any(&s);
	peer = peer_socket(AF_INET6, "fd00:5::1", 0);
	make_addr(&to, AF_INET6, "fd00:5::2", s.port);
	cr_assert(eq(int, (int)sendto(peer, "x", 1, 0, &to.sa, addr_len(&to)), 1));
	wait_readable(s.fd6);
	cr_assert(eq(int, (int)udp_socket_recv(s.fd6, buf, sizeof(buf), &from), 1));
	make_addr(&want, AF_INET6, "fd00:5::1", local_port(peer));
	cr_assert(eq(int, memcmp(&from.addr.in6.sin6_addr, &want.in6.sin6_addr, 16), 0));
	cr_assert(eq(int, memcmp(&from.src6, &to.in6.sin6_addr, 16), 0));
	cr_assert(eq(int, from.src_ifindex, (int)if_nametoindex("lo")));

	cr_assert(eq(int, udp_socket_send(&s, &from, "y", 1), 0));
	wait_readable(peer);
	cr_assert(eq(int, (int)recvfrom(peer, buf, sizeof(buf), 0, &got.sa, &glen), 1));
	cr_assert(eq(int, memcmp(&got.in6.sin6_addr, &to.in6.sin6_addr, 16), 0));
	close(peer);
	udp_socket_close(&s);
}

/* A cached source that is not ours (TEST-NET addresses): cleared, and the send succeeds. */
Test(socket, stale_source_is_dropped_and_retried)
{
	static const struct {
		int family;
		const char *peer_ip, *stale_src;
	} cases[] = {
		{ AF_INET, "127.0.0.1", "198.51.100.99" },
		{ AF_INET6, "::1", "2001:db8::99" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct udp_socket s;
		struct endpoint ep = { 0 };
		union endpoint_addr src;
		char buf[4];
		int peer;

		open_any(&s);
		peer = peer_socket(cases[i].family, cases[i].peer_ip, 0);
		make_addr(&ep.addr, cases[i].family, cases[i].peer_ip, local_port(peer));
		make_addr(&src, cases[i].family, cases[i].stale_src, 0);
		if (cases[i].family == AF_INET)
			ep.src4 = src.in4.sin_addr;
		else
			ep.src6 = src.in6.sin6_addr;
		ep.src_ifindex = 77;
		cr_assert(eq(int, udp_socket_send(&s, &ep, "abc", 3), 0), "case %zu", i + 1);
		cr_assert(is_unspecified6(&ep.src6), "case %zu: source kept", i + 1);
		cr_assert(eq(int, ep.src_ifindex, 0));
		wait_readable(peer);
		cr_assert(eq(int, (int)recv(peer, buf, sizeof(buf), 0), 3), "case %zu", i + 1);
		close(peer);
		udp_socket_close(&s);
	}
}

Test(socket, v4mapped_destination_uses_the_v4_socket)
{
	struct udp_socket s;
	struct endpoint ep = { 0 };
	union endpoint_addr got;
	socklen_t glen = sizeof(got);
	char text[ENDPOINT_STRING_LEN], buf[4];
	int peer;

	open_any(&s);
	peer = peer_socket(AF_INET, "127.0.0.1", 0);
	snprintf(text, sizeof(text), "[::ffff:127.0.0.1]:%u", local_port(peer));
	cr_assert(eq(int, endpoint_from_string(&ep.addr, text), 0));
	cr_assert(eq(int, ep.addr.sa.sa_family, AF_INET6));
	cr_assert(eq(int, udp_socket_send(&s, &ep, "m", 1), 0));
	wait_readable(peer);
	cr_assert(eq(int, (int)recvfrom(peer, buf, sizeof(buf), 0, &got.sa, &glen), 1));
	cr_assert(eq(int, got.sa.sa_family, AF_INET));
	cr_assert(eq(int, ntohs(got.in4.sin_port), s.port));
	close(peer);
	udp_socket_close(&s);
}

Test(socket, send_errors)
{
	struct udp_socket s;
	struct endpoint ep = { 0 };

	open_any(&s);
	cr_assert(eq(int, udp_socket_send(&s, &ep, "x", 1), -EDESTADDRREQ));
	make_addr(&ep.addr, AF_INET6, "::1", 9);
	close(s.fd6);
	s.fd6 = -1;
	cr_assert(eq(int, udp_socket_send(&s, &ep, "x", 1), -EAFNOSUPPORT));
	udp_socket_close(&s);
}

Test(socket, recv_empty_and_truncated)
{
	struct udp_socket s;
	struct endpoint from;
	union endpoint_addr to;
	char big[100] = { 0 }, buf[10];
	int peer;

	open_any(&s);
	cr_assert(eq(int, (int)udp_socket_recv(s.fd4, buf, sizeof(buf), &from), -EAGAIN));
	peer = peer_socket(AF_INET, "127.0.0.1", 0);
	make_addr(&to, AF_INET, "127.0.0.1", s.port);
	cr_assert(eq(int, (int)sendto(peer, big, sizeof(big), 0, &to.sa, addr_len(&to)), 100));
	wait_readable(s.fd4);
	cr_assert(eq(int, (int)udp_socket_recv(s.fd4, buf, sizeof(buf), &from), -EMSGSIZE));
	cr_assert(eq(int, from.addr.sa.sa_family, 0));
	cr_assert(eq(int, (int)udp_socket_recv(s.fd4, buf, sizeof(buf), &from), -EAGAIN));
	close(peer);
	udp_socket_close(&s);
}

/* NULL canonical = rejected; otherwise what endpoint_to_string must print back. */
static const struct {
	const char *in, *canonical;
} parse_cases[] = {
	{ "1.2.3.4:51820", "1.2.3.4:51820" },
	{ "[::1]:1", "[::1]:1" },
	{ "1.2.3.4", NULL },
	{ "1.2.3.4:0", NULL },
	{ "1.2.3.4:65536", NULL },
	{ "[::1:1", NULL },
	{ "host:1", NULL },
	{ "255.255.255.255:65535", "255.255.255.255:65535" },
	{ "0.0.0.0:1", "0.0.0.0:1" },
	{ "1.2.3.4:080", "1.2.3.4:80" },
	{ "1.2.3.4:", NULL },
	{ ":51820", NULL },
	{ "", NULL },
	{ "1.2.3.4:+1", NULL },
	{ "1.2.3.4:-1", NULL },
	{ "1.2.3.4: 1", NULL },
	{ " 1.2.3.4:1", NULL },
	{ "1.2.3.4:1 ", NULL },
	{ "1.2.3.4:1x", NULL },
	{ "1.2.3.4:99999999999999999999", NULL },
	{ "1.2.3:4", NULL },
	{ "256.1.1.1:1", NULL },
	{ "01.2.3.4:1", NULL },
	{ "1.2.3.4.5:1", NULL },
	{ "[1.2.3.4]:1", NULL },
	{ "::1:51820", NULL },
	{ "[::1]", NULL },
	{ "[::1]:", NULL },
	{ "[::1]51820", NULL },
	{ "[::1]:0", NULL },
	{ "[]:1", NULL },
	{ "[::1]]:1", NULL },
	{ "[[::1]:1", NULL },
	{ "[::g]:1", NULL },
	{ "[fe80::1%]:1", NULL },
	{ "[fe80::1%no-such-if9]:1", NULL },
	{ "[fe80::1%0]:1", NULL },
	{ "[0:0:0:0:0:0:0:1]:5", "[::1]:5" },
	{ "[::]:5", "[::]:5" },
	{ "[2001:DB8::A]:443", "[2001:db8::a]:443" },
	{ "[2001:db8:0:0:1:0:0:1]:1", "[2001:db8::1:0:0:1]:1" },
	{ "[2001:0:0:1:0:0:0:1]:1", "[2001:0:0:1::1]:1" },
	{ "[2001:db8:0:1:1:1:1:1]:1", "[2001:db8:0:1:1:1:1:1]:1" },
	{ "[1:2:3:4:5:6::]:1", "[1:2:3:4:5:6::]:1" },
	{ "[::1:2]:3", "[::1:2]:3" },
	{ "[::102:304]:3", "[::102:304]:3" },
	{ "[::FFFF:1.2.3.4]:80", "[::ffff:1.2.3.4]:80" },
	{ "[::ffff:0102:0304]:80", "[::ffff:1.2.3.4]:80" },
	{ "[fe80::1%lo]:51820", "[fe80::1%lo]:51820" },
	{ "[1::1:0:0:0:1]:9", "[1:0:0:1::1]:9" },
};

Test(endpoint, from_string_table_and_round_trip)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		union endpoint_addr a;
		char out[ENDPOINT_STRING_LEN];
		int ret = endpoint_from_string(&a, parse_cases[i].in);

		if (!parse_cases[i].canonical) {
			cr_assert(eq(int, ret, -EINVAL), "case %zu: \"%s\" accepted", i + 1,
				  parse_cases[i].in);
			cr_assert(eq(int, a.sa.sa_family, 0), "case %zu", i + 1);
			continue;
		}
		cr_assert(eq(int, ret, 0), "case %zu: \"%s\" rejected", i + 1, parse_cases[i].in);
		endpoint_to_string(&a, out, sizeof(out));
		cr_assert_str_eq(out, parse_cases[i].canonical, "case %zu", i + 1);
	}
}

Test(endpoint, from_string_fields)
{
	union endpoint_addr a;
	uint8_t v6[16] = { 0xfe, 0x80, [15] = 1 };

	cr_assert(eq(int, endpoint_from_string(&a, "10.0.0.1:51820"), 0));
	cr_assert(eq(int, a.in4.sin_family, AF_INET));
	cr_assert(eq(u32, ntohl(a.in4.sin_addr.s_addr), 0x0a000001));
	cr_assert(eq(int, ntohs(a.in4.sin_port), 51820));

	cr_assert(eq(int, endpoint_from_string(&a, "[fe80::1%lo]:7"), 0));
	cr_assert(eq(int, a.in6.sin6_family, AF_INET6));
	cr_assert_arr_eq(a.in6.sin6_addr.s6_addr, v6, sizeof(v6));
	cr_assert(eq(u32, a.in6.sin6_scope_id, if_nametoindex("lo")));
	cr_assert(eq(int, ntohs(a.in6.sin6_port), 7));

	/* a numeric zone names the interface on output */
	cr_assert(eq(int, endpoint_from_string(&a, "[fe80::1%1]:7"), 0));
	cr_assert(eq(u32, a.in6.sin6_scope_id, 1));
}

Test(endpoint, to_string_none_unknown_zone_and_truncation)
{
	union endpoint_addr a = { 0 };
	char out[ENDPOINT_STRING_LEN], small[6];

	endpoint_to_string(&a, out, sizeof(out));
	cr_assert_str_eq(out, "(none)");
	cr_assert(eq(int, endpoint_from_string(&a, "[fe80::2%lo]:1"), 0));
	a.in6.sin6_scope_id = 4000000000U; /* no such interface */
	endpoint_to_string(&a, out, sizeof(out));
	cr_assert_str_eq(out, "[fe80::2%4000000000]:1");
	cr_assert(eq(int, endpoint_from_string(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"), 0));
	endpoint_to_string(&a, out, sizeof(out));
	cr_assert_str_eq(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
	cr_assert(eq(int, endpoint_from_string(&a, "1.2.3.4:5"), 0));
	endpoint_to_string(&a, small, sizeof(small));
	cr_assert_str_eq(small, "1.2.3");
}

Test(endpoint, addr_equal_table)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} cases[] = {
		{ "1.2.3.4:1", "1.2.3.4:1", true },
		{ "1.2.3.4:1", "1.2.3.4:2", false },
		{ "1.2.3.4:1", "1.2.3.5:1", false },
		{ "[::1]:1", "[::1]:1", true },
		{ "[::1]:1", "[::1]:2", false },
		{ "[::1]:1", "[::2]:1", false },
		{ "[::ffff:1.2.3.4]:1", "1.2.3.4:1", true },
		{ "[::ffff:1.2.3.4]:1", "1.2.3.4:2", false },
		{ "[::1.2.3.4]:1", "1.2.3.4:1", false },
		{ "[fe80::1%lo]:1", "[fe80::1]:1", false },
		{ "[fe80::1%lo]:1", "[fe80::1%1]:1", true },
		{ "1.2.3.4:1", "[::1]:1", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		union endpoint_addr a, b;

		cr_assert(eq(int, endpoint_from_string(&a, cases[i].a), 0), "case %zu", i + 1);
		cr_assert(eq(int, endpoint_from_string(&b, cases[i].b), 0), "case %zu", i + 1);
		cr_assert(eq(int, endpoint_addr_equal(&a, &b), cases[i].equal), "case %zu", i + 1);
		cr_assert(eq(int, endpoint_addr_equal(&b, &a), cases[i].equal), "case %zu", i + 1);
	}
}

Test(endpoint, addr_equal_none)
{
	union endpoint_addr none = { 0 }, none2 = { 0 }, v4;

	cr_assert(eq(int, endpoint_from_string(&v4, "1.2.3.4:1"), 0));
	cr_assert(endpoint_addr_equal(&none, &none2));
	cr_assert(not(endpoint_addr_equal(&none, &v4)));
	cr_assert(not(endpoint_addr_equal(&v4, &none)));
}

/* Whitepaper §5.4.7 / kernel cookie.c: source IP bytes, then the port in network order. */
Test(endpoint, cookie_bytes)
{
	static const uint8_t want4[] = { 1, 2, 3, 4, 0xca, 0x6c }; /* 51820 = 0xca6c */
	static const uint8_t want6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					 0,    0,    0,    0,    0, 0, 0, 1, 0x01, 0x02 };
	uint8_t out[ENDPOINT_COOKIE_BYTES_MAX];
	union endpoint_addr a = { 0 };

	cr_assert(eq(sz, endpoint_cookie_bytes(&a, out), 0));
	cr_assert(eq(int, endpoint_from_string(&a, "1.2.3.4:51820"), 0));
	cr_assert(eq(sz, endpoint_cookie_bytes(&a, out), sizeof(want4)));
	cr_assert_arr_eq(out, want4, sizeof(want4));
	cr_assert(eq(int, endpoint_from_string(&a, "[::ffff:1.2.3.4]:51820"), 0));
	cr_assert(eq(sz, endpoint_cookie_bytes(&a, out), sizeof(want4)));
	cr_assert_arr_eq(out, want4, sizeof(want4));
	cr_assert(eq(int, endpoint_from_string(&a, "[2001:db8::1]:258"), 0));
	cr_assert(eq(sz, endpoint_cookie_bytes(&a, out), sizeof(want6)));
	cr_assert_arr_eq(out, want6, sizeof(want6));
}
