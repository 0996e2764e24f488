/* SPDX-License-Identifier: MIT */
/*
 * The TUN side: /dev/net/tun in layer-3 mode without packet information (IFF_TUN |
 * IFF_NO_PI), so every read is one bare IPv4 or IPv6 packet and every write takes one.
 * Link configuration (up/down, addresses, MTU changes) belongs to netlink/rtnl.c.
 *
 * Behaviour of the fd, measured on Linux 6.x (tests/unit/tun_test.c checks each point):
 * - While the link is down, reads give -EAGAIN and writes -EIO.
 * - The interface lives as long as the fd (no TUNSETPERSIST): closing it deletes the link.
 * - Opening a name that another fd already holds gives -EBUSY; a name that exists but is
 *   not a TUN device gives -EINVAL.
 * - After `ip link del IFNAME` the fd stays open but is detached: epoll reports EPOLLERR
 *   (not EPOLLHUP; EPOLLERR is reported whatever events were requested), and it stays
 *   level-triggered, so every later epoll_wait reports it again; read and write give
 *   -EBADFD. The daemon treats EPOLLERR or -EBADFD on the TUN fd as "link deleted"
 *   and shuts down, like wireguard-go does.
 */
#ifndef WGD_TUN_H
#define WGD_TUN_H

#include <net/if.h>
#include <sys/types.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Creates (or attaches to an unused persistent) TUN interface. ifname NULL or "" lets the
 * kernel choose ("tun%d"); a "%d" in ifname is expanded by the kernel. The actual name
 * goes to name_out. Returns the fd (O_NONBLOCK | O_CLOEXEC), owned by the caller,
 * or -errno: -EINVAL for a name too long, -EBUSY, -EPERM without CAP_NET_ADMIN.
 */
int __must_check tun_open(const char *ifname, char name_out[IFNAMSIZ]);

/* The link's MTU (ioctl SIOCGIFMTU), or -errno (-ENODEV when there is no such link). */
int __must_check tun_get_mtu(const char *ifname);

/* The link's ifindex (ioctl SIOCGIFINDEX), or -errno. */
int __must_check tun_get_ifindex(const char *ifname);

/*
 * One packet. Return the length or -errno; -EAGAIN when nothing is queued. The kernel
 * silently truncates a packet longer than len, so read into a buffer of at least the link
 * MTU (which an administrator may raise at any time; 65535 always suffices).
 */
ssize_t __must_check tun_read(int fd, void *buf, size_t len);
ssize_t __must_check tun_write(int fd, const void *buf, size_t len);

#endif
