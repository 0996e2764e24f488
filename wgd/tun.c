/* SPDX-License-Identifier: MIT */
/* /dev/net/tun open, read and write, and two link queries; see tun.h for fd semantics. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wgd/tun.h"

static const char tun_clone_path[] = "/dev/net/tun";

int tun_open(const char *ifname, char name_out[IFNAMSIZ])
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR };
	int fd, ret;

	if (ifname && strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	if (ifname)
		memcpy(ifr.ifr_name, ifname, strlen(ifname));
	fd = open(tun_clone_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	if (ret == -EINVAL) {
		/* a kernel without virtio headers on TUN: plain packets, no offloads */
		ifr.ifr_flags &= (short)~IFF_VNET_HDR;
		ret = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	}
	if (ret < 0) {
		close(fd);
		return ret;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	return fd;
}

/*
 * Interface ioctls work on a socket of any family; try the common ones so that a kernel
 * built without IPv4 (or IPv6) still answers. ifr carries the name and any argument.
 */
static int link_ioctl_req(unsigned long req, struct ifreq *ifr)
{
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	int fd = -1, ret;

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && fd < 0; i++)
		fd = socket(families[i], SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, req, ifr) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* ifr zeroed and named after ifname; -EINVAL for a name that does not fit. */
static int link_ifreq_init(const char *ifname, struct ifreq *ifr)
{
	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	return 0;
}

static int link_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int ret = link_ifreq_init(ifname, ifr);

	return ret < 0 ? ret : link_ioctl_req(req, ifr);
}

int tun_get_mtu(const char *ifname)
{
	struct ifreq ifr;
	int ret = link_ioctl(ifname, SIOCGIFMTU, &ifr);

	return ret < 0 ? ret : ifr.ifr_mtu;
}

int tun_set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr;
	int ret = link_ifreq_init(ifname, &ifr);

	if (ret < 0)
		return ret;
	ifr.ifr_mtu = mtu;
	return link_ioctl_req(SIOCSIFMTU, &ifr);
}

int tun_get_ifindex(const char *ifname)
{
	struct ifreq ifr;
	int ret = link_ioctl(ifname, SIOCGIFINDEX, &ifr);

	return ret < 0 ? ret : ifr.ifr_ifindex;
}

int tun_vnet_hdr_len(int fd)
{
	struct ifreq ifr = { 0 };

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	return ifr.ifr_flags & IFF_VNET_HDR ? (int)sizeof(struct virtio_net_hdr) : 0;
}

int tun_set_offload(int fd)
{
	/* USO needs both families at once: this kernel refuses TUN_F_USO4 alone */
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0)
			return (int)tries[i];
		ret = -errno;
	}
	(void)ioctl(fd, TUNSETOFFLOAD, 0);
	return ret;
}

ssize_t tun_read_frame(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t tun_write_frame(int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	do
		n = writev(fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t tun_read(int fd, void *buf, size_t len)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { buf, len } };
	int hlen = tun_vnet_hdr_len(fd);
	ssize_t n;

	if (hlen <= 0)
		return hlen < 0 ? hlen : tun_read_frame(fd, buf, len);
	do
		n = readv(fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n < hlen ? -EIO : n - hlen;
}

ssize_t tun_write(int fd, const void *buf, size_t len)
{
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)buf, len } };
	int hlen = tun_vnet_hdr_len(fd);
	ssize_t n;

	if (hlen < 0)
		return hlen;
	n = hlen ? tun_write_frame(fd, iov, 2) : tun_write_frame(fd, iov + 1, 1);
	return n < 0 ? n : n - hlen;
}
