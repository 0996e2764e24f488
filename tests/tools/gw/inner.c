/* SPDX-License-Identifier: MIT */
/* Inner packets, the daemon's namespace and its TUN counters (see inner.h). */
#include "tests/tools/gw/inner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { GW_SPORT = 40000, GW_DPORT = 9, TCP_ACK = 0x10, TCP_PSH = 0x08 };

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void build_ip4(uint8_t *p, size_t total_len, uint8_t proto, struct in_addr src,
		      struct in_addr dst)
{
	memset(p, 0, GW_IP_HDR);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)total_len);
	put16(p + 6, 0x4000); /* DF, as a TCP stack sends */
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, (uint16_t)~fold(sum16(p, GW_IP_HDR, 0)));
}

/* The TCP/UDP pseudo-header sum (RFC 793 §3.1) for l4_len bytes. */
static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint32_t acc = sum16(ip + 12, 8, 0);

	return acc + proto + (uint32_t)l4_len;
}

void gw_build_udp4(uint8_t *p, size_t total_len, struct in_addr src, struct in_addr dst)
{
	uint8_t *u = p + GW_IP_HDR;

	build_ip4(p, total_len, IPPROTO_UDP, src, dst);
	put16(u, GW_SPORT);
	put16(u + 2, GW_DPORT);
	put16(u + 4, (uint16_t)(total_len - GW_IP_HDR));
	put16(u + 6, 0);
	for (size_t i = GW_IP_HDR + GW_UDP_HDR; i < total_len; i++)
		p[i] = (uint8_t)i;
}

static void build_tcp_hdr(uint8_t *t, uint32_t seq)
{
	memset(t, 0, GW_TCP_HDR);
	put16(t, GW_SPORT);
	put16(t + 2, GW_DPORT);
	put32(t + 4, seq);
	put32(t + 8, 1);
	t[12] = (GW_TCP_HDR / 4) << 4;
	t[13] = TCP_ACK | TCP_PSH;
	put16(t + 14, 65535);
}

void gw_build_tcp4(uint8_t *p, size_t total_len, struct in_addr src, struct in_addr dst,
		   uint32_t seq)
{
	uint8_t *t = p + GW_IP_HDR;
	size_t l4_len = total_len - GW_IP_HDR;

	build_ip4(p, total_len, IPPROTO_TCP, src, dst);
	build_tcp_hdr(t, seq);
	for (size_t i = GW_TCP_HDR; i < l4_len; i++)
		t[i] = (uint8_t)(seq + i);
	put16(t + 16, (uint16_t)~fold(sum16(t, l4_len, pseudo_sum(p, IPPROTO_TCP, l4_len))));
}

void gw_build_tso4(struct virtio_net_hdr *vh, uint8_t *p, size_t total_len, size_t mss,
		   struct in_addr src, struct in_addr dst, uint32_t seq)
{
	uint8_t *t = p + GW_IP_HDR;
	size_t l4_len = total_len - GW_IP_HDR;

	build_ip4(p, total_len, IPPROTO_TCP, src, dst);
	build_tcp_hdr(t, seq);
	memset(t + GW_TCP_HDR, 0x5a, l4_len - GW_TCP_HDR);
	/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not inverted. */
	put16(t + 16, fold(pseudo_sum(p, IPPROTO_TCP, l4_len)));
	*vh = (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = GW_IP_HDR + GW_TCP_HDR,
		.gso_size = (uint16_t)mss,
		.csum_start = GW_IP_HDR,
		.csum_offset = 16,
	};
}

bool gw_in_netns(const char *ns, bool (*fn)(void *arg), void *arg)
{
	char path[256];
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int there;
	bool ok = false;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	there = open(path, O_RDONLY | O_CLOEXEC);
	if (home < 0 || there < 0) {
		fprintf(stderr, "gwload: %s: %s\n", home < 0 ? "own namespace" : path,
			strerror(errno));
	} else if (setns(there, CLONE_NEWNET) < 0) {
		fprintf(stderr, "gwload: setns %s: %s\n", path, strerror(errno));
	} else {
		ok = fn(arg);
		if (setns(home, CLONE_NEWNET) < 0) {
			fprintf(stderr, "gwload: cannot return from %s: %s\n", ns, strerror(errno));
			ok = false;
		}
	}
	if (home >= 0)
		close(home);
	if (there >= 0)
		close(there);
	return ok;
}

int gw_devstats_open(void)
{
	/* /proc/thread-self/net is this thread's namespace, pinned at open. */
	return open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
}

bool gw_devstats_rx(int fd, const char *ifname, uint64_t *packets, uint64_t *bytes)
{
	char buf[16384];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t len = strlen(ifname);

	if (n <= 0)
		return false;
	buf[n] = 0;
	for (char *line = buf; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : 0) {
		while (*line == ' ')
			line++;
		if (!strncmp(line, ifname, len) && line[len] == ':')
			return sscanf(line + len + 1, "%" SCNu64 " %" SCNu64, bytes, packets) == 2;
	}
	return false;
}
