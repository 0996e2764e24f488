/* SPDX-License-Identifier: MIT */
/*
 * The TUN device, each behaviour tun.h documents: names, flags and errors of tun_open,
 * MTU and ifindex as `ip` sets and sees them, down-link reads and writes, one packet each
 * way through a real link (checked with plain UDP sockets), and what the fd reports after
 * `ip link del`, which the daemon relies on to exit. Needs root and /dev/net/tun: skipped
 * otherwise. Each test runs in a private network namespace when it can.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/clock.h"
#include "wgd/loop.h"
#include "wgd/tun.h"

static char name[IFNAMSIZ];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* Skip without privileges; isolate in a fresh netns when possible; pick a unique name. */
static void setup(void)
{
	int fd;

	if (geteuid() != 0)
		cr_skip("needs root");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		cr_skip("/dev/net/tun: %m");
	close(fd);
	(void)unshare(CLONE_NEWNET);
	snprintf(name, sizeof(name), "wgdt%d", (int)getpid() % 100000);
}

TestSuite(tun, .init = setup);

static int open_test_tun(void)
{
	char got[IFNAMSIZ] = "";
	int fd = tun_open(name, got);

	cr_assert(ge(int, fd, 0), "tun_open: %s", strerror(-fd));
	cr_assert(eq(str, got, name));
	return fd;
}

Test(tun, open_gives_a_nonblocking_layer3_fd)
{
	struct ifreq ifr = { 0 };
	int fd = open_test_tun();

	cr_assert(ne(int, fcntl(fd, F_GETFL) & O_NONBLOCK, 0));
	cr_assert(ne(int, fcntl(fd, F_GETFD) & FD_CLOEXEC, 0));
	cr_assert(eq(int, ioctl(fd, TUNGETIFF, &ifr), 0));
	cr_assert(eq(int, ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI), IFF_TUN | IFF_NO_PI));
	cr_assert(eq(int, tun_get_ifindex(name), (int)if_nametoindex(name)));
	run("ip link set dev %s mtu 1420", name);
	cr_assert(eq(int, tun_get_mtu(name), 1420));
	close(fd);
}

Test(tun, kernel_chooses_the_name)
{
	char got[IFNAMSIZ] = "";
	int fd = tun_open(NULL, got), fd2;

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, strncmp(got, "tun", 3), 0), "got %s", got);
	cr_assert(gt(int, tun_get_ifindex(got), 0));
	fd2 = tun_open("", got);
	cr_assert(ge(int, fd2, 0));
	cr_assert(eq(int, strncmp(got, "tun", 3), 0), "got %s", got);
	close(fd2);
	close(fd);
}

Test(tun, open_errors)
{
	char got[IFNAMSIZ];
	int fd = open_test_tun();

	cr_assert(eq(int, tun_open(name, got), -EBUSY));
	cr_assert(eq(int, tun_open("lo", got), -EINVAL));
	cr_assert(eq(int, tun_open("0123456789abcdef", got), -EINVAL)); /* 16 > IFNAMSIZ - 1 */
	cr_assert(eq(int, tun_get_mtu("0123456789abcdef"), -EINVAL));
	close(fd);
}

/* tun_set_mtu as `ip` sees it, and the kernel's limits passed back as errors. */
Test(tun, set_mtu)
{
	int fd = open_test_tun();

	cr_assert(eq(int, tun_set_mtu(name, TUN_DEFAULT_MTU), 0));
	run("ip -o link show dev %s | grep -q ' mtu 1420 '", name);
	cr_assert(eq(int, tun_set_mtu(name, 1280), 0));
	run("ip -o link show dev %s | grep -q ' mtu 1280 '", name);
	cr_assert(eq(int, tun_set_mtu(name, 67), -EINVAL)); /* below IPv4's 68 */
	cr_assert(eq(int, tun_get_mtu(name), 1280));
	cr_assert(eq(int, tun_set_mtu("0123456789abcdef", 1420), -EINVAL));
	close(fd);
	cr_assert(eq(int, tun_set_mtu(name, 1420), -ENODEV));
}

Test(tun, closing_the_fd_deletes_the_link)
{
	int fd = open_test_tun();

	cr_assert(gt(int, tun_get_ifindex(name), 0));
	close(fd);
	cr_assert(eq(int, tun_get_ifindex(name), -ENODEV));
	cr_assert(eq(int, tun_get_mtu(name), -ENODEV));
}

Test(tun, link_down_read_eagain_write_eio)
{
	uint8_t pkt[40] = { 0x45 };
	int fd = open_test_tun();

	cr_assert(eq(int, (int)tun_read(fd, pkt, sizeof(pkt)), -EAGAIN));
	cr_assert(eq(int, (int)tun_write(fd, pkt, sizeof(pkt)), -EIO));
	close(fd);
}

/* RFC 1071 Internet checksum. */
static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int udp_bound(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&a, sizeof(a)), 0), "bind: %m");
	return fd;
}

static void link_up(void)
{
	run("ip addr add 10.99.0.1/24 dev %s && ip link set dev %s up", name, name);
}

/* Packets the stack routes into the link come out of tun_read as bare IPv4. */
Test(tun, read_one_packet)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint8_t pkt[2048];
	int fd = open_test_tun(), s;
	bool found = false;

	link_up();
	s = udp_bound("10.99.0.1");
	inet_pton(AF_INET, "10.99.0.2", &to.sin_addr);
	cr_assert(eq(int, (int)sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5));
	/* the link may also emit IPv6 router solicitations or MLD: skip those */
	for (int tries = 0; tries < 200 && !found; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cr_assert(eq(int, poll(&p, 1, 2000), 1), "nothing to read");
		n = tun_read(fd, pkt, sizeof(pkt));
		cr_assert(gt(int, (int)n, 0));
		found = pkt[0] >> 4 == 4 && pkt[9] == IPPROTO_UDP;
		if (found) {
			cr_assert(eq(int, (int)n, 20 + 8 + 5));
			cr_assert(eq(int, memcmp(pkt + 16, &to.sin_addr, 4), 0));
			cr_assert(eq(int, memcmp(pkt + 28, "hello", 5), 0));
		}
	}
	cr_assert(found);
	close(s);
	close(fd);
}

/* A hand-built IPv4/UDP packet written to the fd is delivered to a local socket. */
Test(tun, write_one_packet)
{
	struct sockaddr_in from, me;
	socklen_t flen = sizeof(from), mlen = sizeof(me);
	uint8_t pkt[20 + 8 + 4] = { 0 };
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + 20);
	char buf[16];
	int fd = open_test_tun(), s;

	link_up();
	s = udp_bound("10.99.0.1");
	cr_assert(eq(int, getsockname(s, (struct sockaddr *)&me, &mlen), 0));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(sizeof(pkt));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	inet_pton(AF_INET, "10.99.0.2", &ip->saddr);
	inet_pton(AF_INET, "10.99.0.1", &ip->daddr);
	ip->check = inet_csum(ip, 20);
	udp->source = htons(1234);
	udp->dest = me.sin_port;
	udp->len = htons(8 + 4);
	udp->check = 0; /* optional over IPv4 (RFC 768) */
	memcpy(pkt + 28, "data", 4);
	cr_assert(eq(int, (int)tun_write(fd, pkt, sizeof(pkt)), (int)sizeof(pkt)));
	{
		struct pollfd p = { .fd = s, .events = POLLIN };

		cr_assert(eq(int, poll(&p, 1, 2000), 1), "not delivered");
	}
	cr_assert(eq(int, (int)recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 4));
	cr_assert(eq(int, memcmp(buf, "data", 4), 0));
	cr_assert(eq(int, ntohs(from.sin_port), 1234));
	close(s);
	close(fd);
}

struct tun_watch {
	struct loop_source src;
	struct loop *l;
	uint32_t events;
};

/* An up link may carry the kernel's own IPv6 chatter first: drain it, wait for the error. */
static void tun_watch_fn(struct loop_source *src, uint32_t events)
{
	struct tun_watch *w = container_of(src, struct tun_watch, src);
	uint8_t buf[2048];

	if (events == EPOLLIN) {
		while (tun_read(src->fd, buf, sizeof(buf)) > 0)
			;
		return;
	}
	w->events = events;
	loop_stop(w->l);
}

static void link_del_on_timer(void *ctx, uint64_t now_ns)
{
	(void)ctx;
	(void)now_ns;
	run("ip link del %s", name);
}

/*
 * The daemon's way to notice its link is gone: in the loop, the fd reports EPOLLERR
 * (not EPOLLHUP) although only EPOLLIN was asked for, and keeps reporting it;
 * reads and writes fail with -EBADFD.
 */
Test(tun, link_deletion_is_reported_on_the_fd)
{
	struct loop l;
	struct tun_watch w = { .l = &l };
	uint8_t pkt[40] = { 0x45 };
	struct pollfd p;
	int fd = open_test_tun();

	run("ip link set dev %s up", name);
	cr_assert(eq(int, loop_init(&l), 0));
	w.src.fd = fd;
	w.src.fn = tun_watch_fn;
	cr_assert(eq(int, loop_add(&l, &w.src, EPOLLIN), 0));
	loop_arm_timer(&l, clock_boottime_ns() + 10000000ULL);
	cr_assert(eq(int, loop_run(&l, link_del_on_timer, NULL), 0));
	cr_assert(eq(u32, w.events, EPOLLERR));
	cr_assert(eq(int, (int)tun_read(fd, pkt, sizeof(pkt)), -EBADFD));
	cr_assert(eq(int, (int)tun_write(fd, pkt, sizeof(pkt)), -EBADFD));
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	cr_assert(eq(int, poll(&p, 1, 0), 1), "level-triggered: still reported");
	cr_assert(eq(int, p.revents, POLLERR));
	cr_assert(eq(int, tun_get_ifindex(name), -ENODEV));
	loop_clear(&l);
	close(fd);
}
