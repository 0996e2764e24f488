/* SPDX-License-Identifier: MIT */
/*
 * UDP sockets with sticky source addresses, and the endpoint text codec. Sockets and
 * endpoints only: which peer an endpoint belongs to is peer.c's business.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wgd/socket.h"

/* Room for either pktinfo cmsg and a GSO/GRO segment size, aligned for struct cmsghdr. */
union pktinfo_cmsg {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

void udp_socket_init(struct udp_socket *s)
{
	s->fd4 = -1;
	s->fd6 = -1;
	s->port = 0;
	s->fwmark = 0;
	s->has_gso = false;
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* Big buffers absorb bursts while the loop is busy; best effort when unprivileged. */
static void set_buffers(int fd)
{
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, UDP_SOCKET_BUFFER_SIZE) < 0)
		(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, UDP_SOCKET_BUFFER_SIZE);
	if (set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, UDP_SOCKET_BUFFER_SIZE) < 0)
		(void)set_int(fd, SOL_SOCKET, SO_SNDBUF, UDP_SOCKET_BUFFER_SIZE);
}

static int set_options(int fd, int family, uint32_t fwmark)
{
	int ret;

	if (family == AF_INET) {
		ret = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	} else {
		/* v4 traffic belongs to the v4 socket, never as mapped addresses here */
		ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		if (!ret)
			ret = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	}
	if (!ret && fwmark)
		ret = set_int(fd, SOL_SOCKET, SO_MARK, (int)fwmark);
	if (!ret) {
		set_buffers(fd);
		/* best effort: without it every datagram is simply read on its own */
		(void)set_int(fd, SOL_UDP, UDP_GRO, 1);
	}
	return ret;
}

/* A socket of family bound to the wildcard address and port; fd or -errno. */
static int open_bound(int family, uint16_t port, uint32_t fwmark)
{
	union endpoint_addr a = { 0 };
	socklen_t alen;
	int fd, ret;

	if (family == AF_INET) {
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = htons(port);
		alen = sizeof(a.in4);
	} else {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
		alen = sizeof(a.in6);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	ret = set_options(fd, family, fwmark);
	if (!ret && bind(fd, &a.sa, alen) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int bound_port(int fd)
{
	union endpoint_addr a;
	socklen_t alen = sizeof(a);

	if (getsockname(fd, &a.sa, &alen) < 0)
		return -errno;
	return ntohs(a.sa.sa_family == AF_INET ? a.in4.sin_port : a.in6.sin6_port);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* UDP_SEGMENT (Linux 4.18) is known to this kernel. */
static bool has_gso(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

/* One attempt: v4 first, then v6 on the port v4 got. */
static int open_pair(struct udp_socket *s, uint16_t port, uint32_t fwmark)
{
	int fd4, fd6 = -1, got;

	fd4 = open_bound(AF_INET, port, fwmark);
	if (fd4 < 0 && fd4 != -EAFNOSUPPORT)
		return fd4;
	if (fd4 < 0)
		fd4 = -1;
	got = fd4 >= 0 ? bound_port(fd4) : port;
	if (got < 0)
		goto err;
	fd6 = open_bound(AF_INET6, (uint16_t)got, fwmark);
	if (fd6 < 0 && (fd6 != -EAFNOSUPPORT || fd4 < 0)) {
		got = fd6;
		goto err;
	}
	if (fd4 < 0)
		got = bound_port(fd6);
	if (got < 0)
		goto err;
	s->fd4 = fd4;
	s->fd6 = fd6 >= 0 ? fd6 : -1;
	s->port = (uint16_t)got;
	s->fwmark = fwmark;
	s->has_gso = has_gso(fd4 >= 0 ? fd4 : fd6);
	return 0;

err:
	close_fd(&fd6);
	close_fd(&fd4);
	return got;
}

int udp_socket_open(struct udp_socket *s, uint16_t port, uint32_t fwmark)
{
	int ret;

	if (s->fd4 >= 0 || s->fd6 >= 0)
		return -EBUSY;
	for (int i = 0; i < UDP_SOCKET_PORT_RETRIES; i++) {
		ret = open_pair(s, port, fwmark);
		/* with port 0 the v4 port was random: another draw may be free on v6 too */
		if (ret != -EADDRINUSE || port)
			break;
	}
	return ret;
}

void udp_socket_close(struct udp_socket *s)
{
	close_fd(&s->fd4);
	close_fd(&s->fd6);
}

int udp_socket_set_fwmark(struct udp_socket *s, uint32_t fwmark)
{
	int ret = 0;

	if (s->fd4 >= 0)
		ret = set_int(s->fd4, SOL_SOCKET, SO_MARK, (int)fwmark);
	if (!ret && s->fd6 >= 0) {
		ret = set_int(s->fd6, SOL_SOCKET, SO_MARK, (int)fwmark);
		if (ret && s->fd4 >= 0)
			(void)set_int(s->fd4, SOL_SOCKET, SO_MARK, (int)s->fwmark);
	}
	if (!ret)
		s->fwmark = fwmark;
	return ret;
}

static bool is_v4mapped(const union endpoint_addr *a)
{
	return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr);
}

/* The address as it appears on the wire: IPv4-mapped IPv6 becomes plain IPv4. */
static void wire_addr(union endpoint_addr *out, const union endpoint_addr *a)
{
	if (!is_v4mapped(a)) {
		*out = *a;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = a->in6.sin6_port;
	memcpy(&out->in4.sin_addr, &a->in6.sin6_addr.s6_addr[12], sizeof(out->in4.sin_addr));
}

static bool has_source(const struct endpoint *ep, int family)
{
	if (family == AF_INET)
		return ep->src4.s_addr != 0;
	return !IN6_IS_ADDR_UNSPECIFIED(&ep->src6);
}

void endpoint_clear_source(struct endpoint *ep)
{
	memset(&ep->src6, 0, sizeof(ep->src6));
	ep->src_ifindex = 0;
}

bool endpoint_ipv4_source(const struct endpoint *ep, struct in_addr *dst, struct in_addr *src)
{
	union endpoint_addr wire;

	wire_addr(&wire, &ep->addr);
	if (wire.sa.sa_family != AF_INET || !has_source(ep, AF_INET) || ep->src_ifindex <= 0)
		return false;
	*dst = wire.in4.sin_addr;
	*src = ep->src4;
	return true;
}

bool endpoint_same_source(const struct endpoint *a, const struct endpoint *b)
{
	return endpoint_addr_equal(&a->addr, &b->addr) &&
	       !memcmp(&a->src6, &b->src6, sizeof(a->src6)) && a->src_ifindex == b->src_ifindex;
}

static void fill_pktinfo(struct msghdr *msg, const struct endpoint *ep, int family)
{
	struct cmsghdr *cm = (struct cmsghdr *)((char *)msg->msg_control + msg->msg_controllen);

	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = ep->src4 };

		/* no ipi_ifindex: routing may move the packet to another link, the source stays */
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		msg->msg_controllen += CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = ep->src6 };

		/* a link-local source is only meaningful together with its link */
		if (IN6_IS_ADDR_LINKLOCAL(&ep->src6))
			pi.ipi6_ifindex = (unsigned int)ep->src_ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		msg->msg_controllen += CMSG_SPACE(sizeof(pi));
	}
}

/* The kernel cuts the payload into seg-byte datagrams (UDP GSO, Linux 4.18). */
static void fill_segment(struct msghdr *msg, uint16_t seg)
{
	struct cmsghdr *cm = (struct cmsghdr *)((char *)msg->msg_control + msg->msg_controllen);

	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	msg->msg_controllen += CMSG_SPACE(sizeof(seg));
}

static int send_once(int fd, const union endpoint_addr *dst, const struct endpoint *ep,
		     bool with_source, const void *buf, size_t len, size_t seg)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = (void *)(uintptr_t)&dst->sa,
		.msg_namelen = dst->sa.sa_family == AF_INET ? sizeof(dst->in4) : sizeof(dst->in6),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	union pktinfo_cmsg c;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	msg.msg_control = c.buf;
	if (with_source)
		fill_pktinfo(&msg, ep, dst->sa.sa_family);
	if (seg && seg < len)
		fill_segment(&msg, (uint16_t)seg);
	if (!msg.msg_controllen)
		msg.msg_control = NULL;
	do
		n = sendmsg(fd, &msg, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int send_segments(struct udp_socket *s, struct endpoint *ep, const void *buf, size_t len,
			 size_t seg)
{
	union endpoint_addr dst;
	bool with_source;
	int fd, ret;

	wire_addr(&dst, &ep->addr);
	if (dst.sa.sa_family == AF_INET)
		fd = s->fd4;
	else if (dst.sa.sa_family == AF_INET6)
		fd = s->fd6;
	else
		return -EDESTADDRREQ;
	if (fd < 0)
		return -EAFNOSUPPORT;
	with_source = has_source(ep, dst.sa.sa_family);
	ret = send_once(fd, &dst, ep, with_source, buf, len, seg);
	if (with_source && (ret == -EINVAL || ret == -ENETUNREACH || ret == -EADDRNOTAVAIL)) {
		/* our address went away or no longer routes: forget it, as the kernel does */
		endpoint_clear_source(ep);
		ret = send_once(fd, &dst, ep, false, buf, len, seg);
	}
	return ret;
}

int udp_socket_send(struct udp_socket *s, struct endpoint *ep, const void *buf, size_t len)
{
	return send_segments(s, ep, buf, len, 0);
}

int udp_socket_send_segments(struct udp_socket *s, struct endpoint *ep, const void *buf, size_t len,
			     size_t seg)
{
	const uint8_t *p = buf;
	int ret = -EINVAL;

	if (!seg)
		return -EINVAL;
	if (s->has_gso && seg < len && len <= UDP_SOCKET_GSO_MAX_BYTES &&
	    (len + seg - 1) / seg <= UDP_SOCKET_GSO_MAX_SEGMENTS) {
		ret = send_segments(s, ep, buf, len, seg);
		/* EIO: the route's device cannot checksum for GSO; never try it again */
		if (ret == -EIO)
			s->has_gso = false;
		if (ret == 0 || ret == -EAGAIN || ret == -ENOBUFS || ret == -EDESTADDRREQ ||
		    ret == -EAFNOSUPPORT)
			return ret;
	}
	for (size_t off = 0; off < len; off += seg) {
		ret = send_segments(s, ep, p + off, len - off < seg ? len - off : seg, 0);
		if (ret < 0)
			break;
	}
	return ret;
}

static void read_pktinfo(struct msghdr *msg, struct endpoint *from, size_t *seg)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int gso;

			memcpy(&gso, CMSG_DATA(cm), sizeof(gso));
			if (gso > 0 && (size_t)gso < *seg)
				*seg = (size_t)gso;
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			/* spec_dst is the local address routing chose; ipi_addr may be broadcast */
			from->src4 = pi.ipi_spec_dst;
			from->src_ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			from->src6 = pi.ipi6_addr;
			from->src_ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

ssize_t udp_socket_recv(int fd, void *buf, size_t len, struct endpoint *from)
{
	size_t seg;
	ssize_t n = udp_socket_recv_segments(fd, buf, len, from, &seg);

	/* several coalesced datagrams are more than this caller can take */
	if (n > 0 && seg < (size_t)n) {
		memset(from, 0, sizeof(*from));
		return -EMSGSIZE;
	}
	return n;
}

ssize_t udp_socket_recv_segments(int fd, void *buf, size_t len, struct endpoint *from, size_t *seg)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union pktinfo_cmsg c;
	struct msghdr msg = {
		.msg_name = &from->addr,
		.msg_namelen = sizeof(from->addr),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = c.buf,
		.msg_controllen = sizeof(c.buf),
	};
	ssize_t n;

	memset(from, 0, sizeof(*from));
	do
		n = recvmsg(fd, &msg, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC) {
		memset(from, 0, sizeof(*from));
		return -EMSGSIZE;
	}
	*seg = (size_t)n;
	read_pktinfo(&msg, from, seg);
	return n;
}

/* Decimal 1..65535, digits only (no sign, no space), leading zeros allowed as in Go. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* An interface name or a decimal index; 0 and unknown names are refused. */
static int parse_zone(const char *zone, uint32_t *scope_id)
{
	unsigned long v = 0;
	const char *p;

	if (!*zone)
		return -EINVAL;
	for (p = zone; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	if (*p)
		v = if_nametoindex(zone);
	if (!v)
		return -EINVAL;
	*scope_id = (uint32_t)v;
	return 0;
}

static int parse_v6(union endpoint_addr *out, const char *s)
{
	char host[INET6_ADDRSTRLEN + IFNAMSIZ + 1];
	const char *end = strchr(s, ']');
	size_t hlen;
	char *zone;

	if (!end || end[1] != ':')
		return -EINVAL;
	hlen = (size_t)(end - s - 1);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s + 1, hlen);
	host[hlen] = '\0';
	zone = strchr(host, '%');
	if (zone) {
		*zone++ = '\0';
		if (parse_zone(zone, &out->in6.sin6_scope_id) < 0)
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) != 1)
		return -EINVAL;
	if (parse_port(end + 2, &out->in6.sin6_port) < 0)
		return -EINVAL;
	out->in6.sin6_port = htons(out->in6.sin6_port);
	out->in6.sin6_family = AF_INET6;
	return 0;
}

static int parse_v4(union endpoint_addr *out, const char *s)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(s, ':');
	size_t hlen;

	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &out->in4.sin_addr) != 1)
		return -EINVAL;
	if (parse_port(colon + 1, &out->in4.sin_port) < 0)
		return -EINVAL;
	out->in4.sin_port = htons(out->in4.sin_port);
	out->in4.sin_family = AF_INET;
	return 0;
}

int endpoint_from_string(union endpoint_addr *out, const char *s)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = s[0] == '[' ? parse_v6(out, s) : parse_v4(out, s);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/*
 * RFC 5952 §4 text, as Go's netip prints it: lowercase hex without leading zeros, the
 * longest run of two or more zero groups (the first one on a tie) as "::", and only
 * IPv4-mapped addresses in dotted form. glibc's inet_ntop differs: it also writes
 * ::a.b.c.d for the deprecated IPv4-compatible range (e.g. ::1:2 as ::0.1.0.2).
 */
static void format_v6(char out[static INET6_ADDRSTRLEN], const struct in6_addr *a)
{
	const uint8_t *b = a->s6_addr;
	int zs = -1, zl = 0;
	char *p = out;

	if (IN6_IS_ADDR_V4MAPPED(a)) {
		snprintf(out, INET6_ADDRSTRLEN, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
		return;
	}
	for (int i = 0, run = 0; i < 8; i++) {
		run = b[2 * i] || b[2 * i + 1] ? 0 : run + 1;
		if (run > zl && run >= 2) {
			zl = run;
			zs = i - run + 1;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == zs) {
			*p++ = ':';
			*p++ = ':';
			i += zl - 1;
			continue;
		}
		if (i > 0 && i != zs + zl)
			*p++ = ':';
		p += sprintf(p, "%x", (unsigned int)(b[2 * i] << 8 | b[2 * i + 1]));
	}
	*p = '\0';
}

void endpoint_to_string(const union endpoint_addr *a, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN], zone[IFNAMSIZ + 1] = "";
	char name[IFNAMSIZ];

	if (!len)
		return;
	if (a->sa.sa_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)&a->in4.sin_addr;

		snprintf(out, len, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3],
			 ntohs(a->in4.sin_port));
	} else if (a->sa.sa_family == AF_INET6) {
		format_v6(host, &a->in6.sin6_addr);
		if (a->in6.sin6_scope_id && if_indextoname(a->in6.sin6_scope_id, name))
			snprintf(zone, sizeof(zone), "%%%s", name);
		else if (a->in6.sin6_scope_id)
			snprintf(zone, sizeof(zone), "%%%u", a->in6.sin6_scope_id);
		snprintf(out, len, "[%s%s]:%u", host, zone, ntohs(a->in6.sin6_port));
	} else {
		snprintf(out, len, "(none)");
	}
}

bool endpoint_addr_equal(const union endpoint_addr *a, const union endpoint_addr *b)
{
	union endpoint_addr x, y;

	wire_addr(&x, a);
	wire_addr(&y, b);
	if (x.sa.sa_family != y.sa.sa_family)
		return false;
	if (x.sa.sa_family == AF_INET)
		return x.in4.sin_port == y.in4.sin_port &&
		       x.in4.sin_addr.s_addr == y.in4.sin_addr.s_addr;
	if (x.sa.sa_family == AF_INET6)
		return x.in6.sin6_port == y.in6.sin6_port &&
		       x.in6.sin6_scope_id == y.in6.sin6_scope_id &&
		       IN6_ARE_ADDR_EQUAL(&x.in6.sin6_addr, &y.in6.sin6_addr);
	return true; /* both "none" (or both of a family we never fill) */
}

size_t endpoint_cookie_bytes(const union endpoint_addr *a, uint8_t out[ENDPOINT_COOKIE_BYTES_MAX])
{
	union endpoint_addr w;

	wire_addr(&w, a);
	if (w.sa.sa_family == AF_INET) {
		memcpy(out, &w.in4.sin_addr, sizeof(w.in4.sin_addr));
		memcpy(out + sizeof(w.in4.sin_addr), &w.in4.sin_port, sizeof(w.in4.sin_port));
		return sizeof(w.in4.sin_addr) + sizeof(w.in4.sin_port);
	}
	if (w.sa.sa_family == AF_INET6) {
		memcpy(out, &w.in6.sin6_addr, sizeof(w.in6.sin6_addr));
		memcpy(out + sizeof(w.in6.sin6_addr), &w.in6.sin6_port, sizeof(w.in6.sin6_port));
		return sizeof(w.in6.sin6_addr) + sizeof(w.in6.sin6_port);
	}
	return 0;
}
