/* SPDX-License-Identifier: MIT */
/* /dev/net/tun open, read and write, and two link queries; see tun.h for fd semantics. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wgd/tun.h"

static const char tun_clone_path[] = "/dev/net/tun";

int tun_open(const char *ifname, char name_out[IFNAMSIZ])
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd, ret;

	if (ifname && strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	if (ifname)
		memcpy(ifr.ifr_name, ifname, strlen(ifname));
	fd = open(tun_clone_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	return fd;
}

/*
 * Interface ioctls work on a socket of any family; try the common ones so that a kernel
 * built without IPv4 (or IPv6) still answers.
 */
static int link_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	int fd = -1, ret;

	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && fd < 0; i++)
		fd = socket(families[i], SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, req, ifr) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

int tun_get_mtu(const char *ifname)
{
	struct ifreq ifr;
	int ret = link_ioctl(ifname, SIOCGIFMTU, &ifr);

	return ret < 0 ? ret : ifr.ifr_mtu;
}

int tun_get_ifindex(const char *ifname)
{
	struct ifreq ifr;
	int ret = link_ioctl(ifname, SIOCGIFINDEX, &ifr);

	return ret < 0 ? ret : ifr.ifr_ifindex;
}

ssize_t tun_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t tun_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}
