/* SPDX-License-Identifier: MIT */
/*
 * The TUN side: /dev/net/tun in layer-3 mode without packet information (IFF_TUN |
 * IFF_NO_PI), with a struct virtio_net_hdr before every packet (IFF_VNET_HDR) where the
 * kernel has it. tun_read and tun_write hide that header: each moves one bare IPv4 or IPv6
 * packet. The data path uses the frame functions instead, which pass the header through:
 * after tun_set_offload the kernel hands over TCP/UDP super-packets of up to 64 KiB with
 * partial checksums (see wgd/gso.h), and accepts them back the same way.
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
#include <sys/uio.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* Linux 6.2; missing from older uapi headers */
#define TUN_F_USO6 0x40
#endif

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Creates (or attaches to an unused persistent) TUN interface. ifname NULL or "" lets the
 * kernel choose ("tun%d"); a "%d" in ifname is expanded by the kernel. The actual name
 * goes to name_out. Asks for IFF_VNET_HDR, and opens without it if the kernel refuses.
 * Returns the fd (O_NONBLOCK | O_CLOEXEC), owned by the caller,
 * or -errno: -EINVAL for a name too long, -EBUSY, -EPERM without CAP_NET_ADMIN.
 */
int __must_check tun_open(const char *ifname, char name_out[IFNAMSIZ]);

/* The link's MTU (ioctl SIOCGIFMTU), or -errno (-ENODEV when there is no such link). */
int __must_check tun_get_mtu(const char *ifname);

/*
 * A new TUN link gets the kernel's 1500, but an outer IPv6 + UDP + WireGuard header adds
 * 80 bytes (messages.h MESSAGE_OVERHEAD_UDP6): the daemon sets this default at creation,
 * as wireguard-go (DefaultMTU) and the kernel module do, so a bare `wgd IFNAME` configured
 * with wg(8) never sends fragmented outer packets on a 1500-byte path.
 */
enum { TUN_DEFAULT_MTU = 1420 };

/* Sets the link's MTU (ioctl SIOCSIFMTU). 0 or -errno. */
int __must_check tun_set_mtu(const char *ifname, int mtu);

/* The link's ifindex (ioctl SIOCGIFINDEX), or -errno. */
int __must_check tun_get_ifindex(const char *ifname);

/*
 * One packet. Return the length or -errno; -EAGAIN when nothing is queued. The kernel
 * silently truncates a packet longer than len, so read into a buffer of at least the link
 * MTU (which an administrator may raise at any time; 65535 always suffices).
 */
ssize_t __must_check tun_read(int fd, void *buf, size_t len);
ssize_t __must_check tun_write(int fd, const void *buf, size_t len);

/*
 * Bytes of virtio_net_hdr before each packet on fd (0 without IFF_VNET_HDR), or -errno
 * (-EBADFD once the link is deleted).
 */
int __must_check tun_vnet_hdr_len(int fd);

/*
 * Offers the kernel checksum and segmentation offloads (TUN_F_CSUM, TSO4/6 and USO4|USO6),
 * dropping what it refuses: first all, then without USO, then checksums alone. Returns the
 * TUN_F_* flags now set (the kernel may then send partial checksums and super-packets), or
 * -errno with no offload set. Only for fds with a vnet header.
 */
int __must_check tun_set_offload(int fd);

/* Raw I/O: one frame including the vnet header, if the fd has one. Length or -errno. */
ssize_t __must_check tun_read_frame(int fd, void *buf, size_t len);
ssize_t __must_check tun_write_frame(int fd, const struct iovec *iov, int iovcnt);

#endif
