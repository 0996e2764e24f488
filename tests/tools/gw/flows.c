/* SPDX-License-Identifier: MIT */
/*
 * gwload's two measurements (see tests/tools/gwload.c): decrypt (pre-sealed datagrams in,
 * TUN writes counted) and encrypt (plain packets into the TUN, sealed datagrams counted).
 */
#include "tests/tools/gw/gwload.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/messages.h"
#include "tests/tools/gw/inner.h"
#include "wgd/clock.h"

enum flow_values {
	BATCH = 64,
	TSO_BATCH = 8,
	SLOT_ALIGN = 16,
	DATA_OVERHEAD = message_data_len(0), /* header + tag */
	TSO_MSS = 1420 - GW_IP_HDR - GW_TCP_HDR,
	TSO_SEGMENTS = (GW_TSO_MAX - GW_IP_HDR - GW_TCP_HDR) / TSO_MSS,
	RX_BUF = 65536,
	GSO_MSGS = 8,
	GSO_SEGMENTS = 64, /* UDP_MAX_SEGMENTS of older kernels */
	GSO_BYTES = 65000, /* one UDP datagram's payload at most */
	VERIFY_FIRST = 8,
};
#define QUIET_NS     (20 * NSEC_PER_MSEC)  /* no new delivery for this long: drained */
#define DRAIN_MAX_NS (500 * NSEC_PER_MSEC) /* stop waiting for a backlog after this */
#define MAX_SEND_PPS 4e6		   /* no more is sealed per round than this could send */

static const size_t inner_lens[GW_SIZES] = { 64, 512, 1420, 1420 };

static double seconds_between(uint64_t a_ns, uint64_t b_ns)
{
	return b_ns > a_ns ? (double)(b_ns - a_ns) / 1e9 : 0;
}

int gw_packet_socket(int ifindex, bool vnet)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = ifindex };
	int on = 1, buf = 16 << 20;
	/* SOCK_RAW: PACKET_VNET_HDR needs it; a TUN has no link header, so it is the IP packet. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));

	if (fd < 0 || (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(on)) < 0) ||
	    bind(fd, (const struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "gwload: AF_PACKET socket on the TUN: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	/* We only send: a bound packet socket would otherwise queue every TUN packet. */
	(void)shutdown(fd, SHUT_RD);
	return fd;
}

bool gw_send_keepalive(struct gw_run *r)
{
	uint8_t msg[DATA_OVERHEAD];
	size_t len = gw_seal(&r->s, msg, 0, r->mtu);

	if (!len || send(r->fd, msg, len, 0) < 0) {
		fprintf(stderr, "gwload: keepalive: %s\n",
			len ? strerror(errno) : "keypair refused");
		return false;
	}
	usleep(20000); /* let the daemon confirm the session before data races it */
	return true;
}

/* ---- decrypt ---- */

struct tun_count {
	uint64_t packets, bytes;
};

static bool tun_rx(const struct gw_run *r, struct tun_count *c)
{
	if (gw_devstats_rx(r->devstats, r->tun, &c->packets, &c->bytes))
		return true;
	fprintf(stderr, "gwload: no counters for %s in /proc/net/dev\n", r->tun);
	return false;
}

/* Seals up to n packets into the pool; returns how many, with their lengths. */
static size_t seal_pool(struct gw_run *r, enum gw_size z, uint8_t *pool, size_t slot, size_t n,
			uint16_t *lens)
{
	size_t plain = inner_lens[z];
	uint8_t tmpl[1500];

	gw_build_udp4(tmpl, plain, r->inner_gen, r->sink);
	for (size_t i = 0; i < n; i++) {
		uint8_t *m = pool + i * slot;

		if (z == GW_TSO) {
			gw_build_tcp4(m + sizeof(struct message_data), plain, r->inner_gen, r->sink,
				      r->tcp_seq);
			r->tcp_seq += TSO_MSS;
		} else {
			memcpy(m + sizeof(struct message_data), tmpl, plain);
		}
		lens[i] = (uint16_t)gw_seal(&r->s, m, plain, r->mtu);
		if (!lens[i])
			return i;
	}
	return n;
}

/* sendmmsg the pool until it is spent or the deadline; returns the datagrams sent. */
static size_t send_pool(struct gw_run *r, uint8_t *pool, size_t slot, const uint16_t *lens,
			size_t n, uint64_t deadline)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t i = 0;

	while (i < n && clock_boottime_ns() < deadline) {
		unsigned k = n - i < BATCH ? (unsigned)(n - i) : BATCH;

		for (unsigned j = 0; j < k; j++) {
			iov[j] = (struct iovec){ pool + (i + j) * slot, lens[i + j] };
			msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
								 .msg_iovlen = 1 } };
		}
		int sent = sendmmsg(r->fd, msgs, k, 0);

		if (sent > 0)
			i += (size_t)sent;
		else if (sent < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
			break; /* ECONNREFUSED: the daemon is gone */
	}
	return i;
}

/*
 * The same as UDP GSO batches: each message's iovecs are equal-sized datagrams, which the
 * kernel cuts at UDP_SEGMENT bytes (Linux 4.18); one skb crosses the veth per message.
 */
static size_t send_pool_gso(struct gw_run *r, uint8_t *pool, size_t slot, const uint16_t *lens,
			    size_t n, uint64_t deadline)
{
	static struct iovec iov[GSO_MSGS][GSO_SEGMENTS];
	static char ctl[GSO_MSGS][CMSG_SPACE(sizeof(uint16_t))];
	struct mmsghdr msgs[GSO_MSGS];
	size_t per = GSO_BYTES / lens[0] < GSO_SEGMENTS ? GSO_BYTES / lens[0] : GSO_SEGMENTS;
	uint16_t seg = lens[0];
	size_t i = 0;

	while (i < n && clock_boottime_ns() < deadline) {
		unsigned m = 0;

		for (size_t j = i; m < GSO_MSGS && j < n; m++) {
			size_t k = n - j < per ? n - j : per;

			for (size_t q = 0; q < k; q++)
				iov[m][q] = (struct iovec){ pool + (j + q) * slot, lens[j + q] };
			msgs[m] =
				(struct mmsghdr){ .msg_hdr = { .msg_iov = iov[m],
							       .msg_iovlen = k,
							       .msg_control = ctl[m],
							       .msg_controllen = sizeof(ctl[m]) } };
			struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[m].msg_hdr);

			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			j += k;
		}
		int sent = sendmmsg(r->fd, msgs, m, 0);

		for (int x = 0; x < sent; x++)
			i += msgs[x].msg_hdr.msg_iovlen;
		if (sent < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	return i;
}

/* Polls the TUN counters until they hold still; returns when they last moved. */
static uint64_t drain_tun(const struct gw_run *r, uint64_t sent_ns, struct tun_count *c)
{
	uint64_t moved = sent_ns;

	for (;;) {
		struct tun_count now_c;
		uint64_t now;

		usleep(1000);
		now = clock_boottime_ns();
		if (!tun_rx(r, &now_c))
			return moved;
		if (now_c.packets != c->packets) {
			*c = now_c;
			moved = now;
		} else if (now - moved > QUIET_NS || now - sent_ns > DRAIN_MAX_NS) {
			return moved;
		}
	}
}

bool gw_decrypt(struct gw_run *r, struct gw_result *res)
{
	size_t slot = (gw_sealed_len(inner_lens[res->size], r->mtu) + SLOT_ALIGN - 1) &
		      ~(size_t)(SLOT_ALIGN - 1);
	size_t cap = r->pool_bytes / slot;
	uint8_t *pool = malloc(cap * slot);
	uint16_t *lens = calloc(cap, sizeof(*lens));
	bool ok = pool && lens;

	while (ok && res->seconds < r->duration) {
		double left = r->duration - res->seconds;
		size_t want = (size_t)(left * MAX_SEND_PPS) + BATCH;
		size_t n = seal_pool(r, res->size, pool, slot, want < cap ? want : cap, lens);
		struct tun_count c0, c1;
		uint64_t t0, last;

		if (!n || !tun_rx(r, &c0)) {
			ok = false;
			break;
		}
		c1 = c0;
		t0 = clock_boottime_ns();
		res->offered += (res->dir == GW_DECRYPT_GSO ? send_pool_gso : send_pool)(
			r, pool, slot, lens, n, t0 + (uint64_t)(left * 1e9));
		last = drain_tun(r, clock_boottime_ns(), &c1);
		res->packets += c1.packets - c0.packets;
		res->bytes += c1.bytes - c0.bytes;
		res->seconds += seconds_between(t0, last > t0 ? last : clock_boottime_ns());
		if (c1.packets == c0.packets)
			break; /* nothing got through: no point in another round */
	}
	free(pool);
	free(lens);
	return ok;
}

/* ---- encrypt ---- */

struct receiver {
	struct gw_run *r;
	atomic_bool stop;
	uint64_t segments, bytes, last_ns;
	unsigned verified, failed;
};

static size_t gro_size(struct msghdr *h, size_t len)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (size_t)v : len;
		}
	}
	return len;
}

/* Counts the sealed segments of one received (possibly GRO-coalesced) datagram. */
static void count_datagram(struct receiver *rx, uint8_t *buf, size_t len, size_t seg)
{
	if (len <= DATA_OVERHEAD || buf[0] != MESSAGE_DATA)
		return; /* keepalives and handshakes are not the load */
	size_t n = (len + seg - 1) / seg;

	rx->segments += n;
	rx->bytes += len - n * DATA_OVERHEAD;
	if (rx->verified + rx->failed < VERIFY_FIRST) {
		if (gw_open(&rx->r->s, buf, seg < len ? seg : len))
			rx->verified++;
		else
			rx->failed++;
	}
}

static void *receive_loop(void *arg)
{
	struct receiver *rx = arg;
	static uint8_t bufs[BATCH][RX_BUF];
	static char ctl[BATCH][CMSG_SPACE(sizeof(int))];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct pollfd p = { .fd = rx->r->fd, .events = POLLIN };
	uint64_t stop_seen = 0;

	for (;;) {
		uint64_t now = clock_boottime_ns();

		if (atomic_load(&rx->stop) && !stop_seen)
			stop_seen = now;
		if (stop_seen &&
		    (now - (rx->last_ns > stop_seen ? rx->last_ns : stop_seen) > QUIET_NS ||
		     now - stop_seen > DRAIN_MAX_NS))
			return NULL;
		if (poll(&p, 1, 5) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], RX_BUF };
			msgs[i] =
				(struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
							       .msg_iovlen = 1,
							       .msg_control = ctl[i],
							       .msg_controllen = sizeof(ctl[i]) } };
		}
		int got = recvmmsg(rx->r->fd, msgs, BATCH, MSG_DONTWAIT, NULL);

		if (got <= 0)
			continue;
		for (int i = 0; i < got; i++)
			count_datagram(rx, bufs[i], msgs[i].msg_len,
				       gro_size(&msgs[i].msg_hdr, msgs[i].msg_len));
		rx->last_ns = clock_boottime_ns();
	}
}

/* Hands packets to the TUN's transmit side until the deadline; returns inner packets. */
static uint64_t offer_to_tun(struct gw_run *r, enum gw_size z, uint64_t deadline)
{
	static uint8_t pkt[GW_TSO_MAX];
	struct virtio_net_hdr vh;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH][2];
	bool tso = z == GW_TSO;
	size_t len = tso ? GW_IP_HDR + GW_TCP_HDR + (size_t)TSO_SEGMENTS * TSO_MSS : inner_lens[z];
	unsigned k = tso ? TSO_BATCH : BATCH;
	uint64_t offered = 0;

	if (tso)
		gw_build_tso4(&vh, pkt, len, TSO_MSS, r->inner_daemon, r->inner_gen, 1);
	else
		gw_build_udp4(pkt, len, r->inner_daemon, r->inner_gen);
	for (unsigned j = 0; j < k; j++) {
		iov[j][0] = (struct iovec){ &vh, sizeof(vh) };
		iov[j][1] = (struct iovec){ pkt, len };
		msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = tso ? iov[j] : &iov[j][1],
							 .msg_iovlen = tso ? 2 : 1 } };
	}
	while (clock_boottime_ns() < deadline) {
		int sent = sendmmsg(tso ? r->packet_vnet_fd : r->packet_fd, msgs, k, 0);

		if (sent > 0)
			offered += (uint64_t)sent * (tso ? TSO_SEGMENTS : 1);
		else if (sent < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	return offered;
}

bool gw_encrypt(struct gw_run *r, struct gw_result *res)
{
	struct receiver rx = { .r = r };
	pthread_t th;
	uint64_t t0;

	if (pthread_create(&th, NULL, receive_loop, &rx)) {
		fprintf(stderr, "gwload: cannot start the receiver thread\n");
		return false;
	}
	t0 = clock_boottime_ns();
	res->offered = offer_to_tun(r, res->size, t0 + (uint64_t)(r->duration * 1e9));
	atomic_store(&rx.stop, true);
	pthread_join(th, NULL);
	res->packets = rx.segments;
	res->bytes = rx.bytes;
	res->seconds = seconds_between(t0, rx.last_ns ? rx.last_ns : clock_boottime_ns());
	res->verified = rx.verified;
	res->failed = rx.failed;
	if (rx.failed)
		fprintf(stderr, "gwload: %u of the first received datagrams do not open\n",
			rx.failed);
	return !rx.failed;
}
