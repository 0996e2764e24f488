/* SPDX-License-Identifier: MIT */
/*
 * The UDP transport: one IPv4 and one IPv6-only socket bound to the same port, as
 * wireguard-go and the kernel do, with "sticky" source addresses: every endpoint remembers
 * which of our addresses its last packet reached, and replies leave from that address
 * (IP_PKTINFO / IPV6_PKTINFO), so a multihomed host answers from the address the peer
 * talks to. Also the endpoint text codec used by the UAPI and the logs.
 *
 * IPv4-mapped IPv6 endpoints (::ffff:a.b.c.d) are carried by the IPv4 socket: they are the
 * same wire endpoint as a.b.c.d, so endpoint_addr_equal() and endpoint_cookie_bytes() treat
 * them as that IPv4 endpoint, while endpoint_to_string() keeps the form it was given.
 */
#ifndef WGD_SOCKET_H
#define WGD_SOCKET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

union endpoint_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/*
 * A peer's address plus our source address for it. The source union is read as src4 when
 * the packet goes out on the IPv4 socket (addr is AF_INET or IPv4-mapped AF_INET6) and as
 * src6 otherwise; all-zero means "let routing choose".
 */
struct endpoint {
	union endpoint_addr addr; /* the peer's address; sa_family 0 = none */
	union {
		struct in_addr src4;
		struct in6_addr src6;
	};
	int src_ifindex; /* interface the last packet came in on; 0 = unknown */
	/*
	 * The owner's routing generation at which the source was last checked against the
	 * routes (device.c); 0 = not since it was learnt. Not part of the endpoint's identity.
	 */
	uint32_t src_gen;
};

struct udp_socket {
	int fd4, fd6;  /* -1 when closed or when the family is unavailable */
	uint16_t port; /* host order */
	uint32_t fwmark;
	bool has_gso; /* the kernel takes UDP_SEGMENT; cleared when a GSO send fails with EIO */
};

enum endpoint_values {
	/* "[" v6 "%" zone "]:" port and a NUL: 45 + 1 + 15 + 2 + 5 + 1 + "[" */
	ENDPOINT_STRING_LEN = INET6_ADDRSTRLEN + IFNAMSIZ + 8,
	ENDPOINT_COOKIE_BYTES_MAX = sizeof(struct in6_addr) + sizeof(in_port_t),
	UDP_SOCKET_BUFFER_SIZE = 7 << 20, /* wireguard-go's socketBufferSize */
	UDP_SOCKET_PORT_RETRIES = 100,	  /* random port free on v4 but taken on v6 */
	UDP_SOCKET_GSO_MAX_SEGMENTS = 64, /* the kernel's UDP_MAX_SEGMENTS */
	UDP_SOCKET_GSO_MAX_BYTES = 65000, /* one IP packet's worth, with room for headers */
};

/* Marks both fds closed; call once before the first open. */
void udp_socket_init(struct udp_socket *s);

/*
 * Binds the wildcard address of both families on port (host order; 0 picks a random port
 * free for both, retrying up to UDP_SOCKET_PORT_RETRIES times), and records it in s->port.
 * A family the kernel lacks (EAFNOSUPPORT) is skipped; both missing is an error. The fds
 * are nonblocking, close-on-exec, report the local address of each packet, have large
 * buffers (SO_RCVBUFFORCE when privileged, SO_RCVBUF otherwise) and carry SO_MARK fwmark
 * when fwmark != 0 (which needs CAP_NET_ADMIN). s must be closed. Returns 0, or -errno
 * (-EADDRINUSE, -EPERM, ...) with s left closed.
 */
int __must_check udp_socket_open(struct udp_socket *s, uint16_t port, uint32_t fwmark);

/* Closes both fds (any may be -1) and marks them closed. Keeps port and fwmark. */
void udp_socket_close(struct udp_socket *s);

/*
 * Sets SO_MARK (0 clears it) on the open fds and remembers it for the next open. All or
 * nothing: returns 0, or -errno (-EPERM without CAP_NET_ADMIN) with the old mark kept.
 */
int __must_check udp_socket_set_fwmark(struct udp_socket *s, uint32_t fwmark);

/*
 * Sends one datagram to ep->addr from ep's cached source address. If the kernel refuses
 * that source (EINVAL, ENETUNREACH, EADDRNOTAVAIL: the address went away or routing
 * changed), clears it in ep and retries once letting routing choose, as the kernel's
 * send4/send6 do. Returns 0, or -errno: -EDESTADDRREQ when ep has no address,
 * -EAFNOSUPPORT when the needed family's socket is not open, -EAGAIN when the send
 * buffer is full (drop the packet).
 */
int __must_check udp_socket_send(struct udp_socket *s, struct endpoint *ep, const void *buf,
				 size_t len);

/*
 * Sends len bytes as datagrams of seg bytes each (the last may be shorter) in one system
 * call with UDP GSO when the socket has it and the batch is within the kernel's limits
 * (UDP_SOCKET_GSO_MAX_SEGMENTS, UDP_SOCKET_GSO_MAX_BYTES), else one datagram at a time.
 * Same errors as udp_socket_send; -EINVAL when seg is 0.
 */
int __must_check udp_socket_send_segments(struct udp_socket *s, struct endpoint *ep,
					  const void *buf, size_t len, size_t seg);

/*
 * As udp_socket_recv, but the sockets have UDP_GRO on, so one read may return several
 * datagrams from one sender back to back: *seg is the length of each (the last may be
 * shorter), *seg == the length when there is one.
 */
ssize_t __must_check udp_socket_recv_segments(int fd, void *buf, size_t len, struct endpoint *from,
					      size_t *seg);

/*
 * Receives one datagram from fd (s->fd4 or s->fd6). Fills from->addr with the sender and
 * from->src4/src6 and from->src_ifindex with the local address and interface it reached,
 * so replies can leave from there. Returns the length, or -errno: -EAGAIN when empty,
 * -EMSGSIZE when the datagram was longer than len or the kernel coalesced several (they
 * are discarded; the data path reads with udp_socket_recv_segments).
 */
ssize_t __must_check udp_socket_recv(int fd, void *buf, size_t len, struct endpoint *from);

/*
 * Parses "a.b.c.d:port" or "[v6]:port" ("[v6%zone]:port", zone an interface name or
 * number). IP literals only, as wireguard-go's UAPI; the IPv4 part is strict dotted-quad
 * (inet_pton); port is decimal 1..65535. Returns 0 or -EINVAL, *out zeroed on failure.
 */
int __must_check endpoint_from_string(union endpoint_addr *out, const char *s);

/*
 * Formats as wireguard-go's get=1 does (Go's netip.AddrPort.String): "1.2.3.4:51820",
 * "[2001:db8::1]:51820" (RFC 5952), "[::ffff:1.2.3.4]:1", "[fe80::1%eth0]:1" (the zone is
 * the interface name, or its number when there is no such interface). An address of any
 * other family gives "(none)". Truncates to len; ENDPOINT_STRING_LEN always suffices.
 */
void endpoint_to_string(const union endpoint_addr *a, char *out, size_t len);

/*
 * True if ep goes out on the IPv4 socket from a cached source learnt on a known interface:
 * then *dst and *src are the peer's and our addresses on the wire.
 */
bool endpoint_ipv4_source(const struct endpoint *ep, struct in_addr *dst, struct in_addr *src);

/* Forgets the cached source: routing chooses again on the next send. */
void endpoint_clear_source(struct endpoint *ep);

/* a and b name the same peer address, source address and source interface. */
bool endpoint_same_source(const struct endpoint *a, const struct endpoint *b);

/* Same family, address, port (and IPv6 scope id), with IPv4-mapped taken as IPv4. */
bool endpoint_addr_equal(const union endpoint_addr *a, const union endpoint_addr *b);

/*
 * The bytes mac2's cookie covers (whitepaper §5.4.7, as the kernel's cookie.c): the IP
 * address, then the port in network order. Returns 6, 18, or 0 for an unknown family.
 */
size_t endpoint_cookie_bytes(const union endpoint_addr *a, uint8_t out[ENDPOINT_COOKIE_BYTES_MAX]);

#endif
