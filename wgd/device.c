/* SPDX-License-Identifier: MIT */
/*
 * Device lifecycle and its loop glue: create/destroy, peer unlinking, draining the TUN
 * and UDP fds, and the one timer. Configuration changes live in device_cfg.c; the
 * protocol in send.c, receive.c and timers.c.
 */
#include "wgd/device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <unistd.h>

#include "crypto/key.h"
#include "crypto/random.h"
#include "netlink/rtnl.h"
#include "wgd/aead.h"
#include "wgd/clock.h"
#include "wgd/crypt_data.h"
#include "wgd/gso.h"
#include "wgd/log.h"
#include "wgd/peer.h"
#include "wgd/tun.h"

enum device_values {
	DEVICE_DEFAULT_MTU = 1420, /* wireguard-go's DefaultMTU, until the TUN tells us */
	DEVICE_BATCH = 64,	   /* packets per fd per wakeup, so no fd starves the others */
	DEVICE_INITIAL_PEERS = 16, /* initial table room */
};

void device_routing_changed(struct device *dev)
{
	/* 0 means "never checked", so the generation skips it when it wraps */
	if (++dev->route_gen == 0)
		dev->route_gen = 1;
}

/*
 * The kernel keeps an IPv4 source only while the route towards the peer leaves through the
 * interface the source was learnt on: a better route through another link (say, with its
 * own preferred source) makes it send from that link's address instead, and the peer sees
 * the new address. Asked once per learnt source and routing change, not per packet.
 */
static void check_source(struct device *dev, struct endpoint *ep)
{
	static struct log_ratelimit rl;
	struct in_addr dst, src;
	int oif;

	if (ep->src_gen == dev->route_gen)
		return;
	ep->src_gen = dev->route_gen;
	if (!endpoint_ipv4_source(ep, &dst, &src))
		return;
	if (!dev->route_nl) {
		log_verbose_rl(&rl, "Cannot check source addresses against the routes");
		return;
	}
	oif = rtnl_route_oif(dev->route_nl, AF_INET, &dst, &src, dev->sock.fwmark);
	if (oif == -EINVAL || (oif > 0 && oif != ep->src_ifindex))
		endpoint_clear_source(ep);
}

static int io_udp_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	check_source(dev, ep);
	return udp_socket_send(&dev->sock, ep, buf, len);
}

bool device_udp_is_batched(const struct device *dev)
{
	return dev->io.udp_send == io_udp_send;
}

int device_udp_send_segments(struct device *dev, struct endpoint *ep, const uint8_t *buf,
			     size_t len, size_t seg)
{
	int ret = 0;

	if (dev->io.udp_send == io_udp_send) {
		check_source(dev, ep);
		return udp_socket_send_segments(&dev->sock, ep, buf, len, seg);
	}
	for (size_t off = 0; off < len && ret == 0; off += seg)
		ret = dev->io.udp_send(dev, ep, buf + off, len - off < seg ? len - off : seg);
	return ret;
}

static int io_tun_write(struct device *dev, const void *buf, size_t len)
{
	/*
	 * The packet was authenticated by Poly1305, which is stronger than the TCP/UDP
	 * checksum: tell the kernel not to verify it, as the kernel's WireGuard does.
	 */
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)buf, len } };
	ssize_t n;

	if (dev->tun_fd < 0)
		return -EBADF;
	if (dev->tun_vnet_len)
		n = tun_write_frame(dev->tun_fd, iov, 2);
	else
		n = tun_write_frame(dev->tun_fd, iov + 1, 1);
	return n < 0 ? (int)n : 0;
}

void device_tun_flush(struct device *dev)
{
	int iovcnt = gro_batch_finish(&dev->gro);
	ssize_t n = 0;

	/* a failed write drops the packets, as io_tun_write does */
	if (iovcnt > 0 && dev->tun_fd >= 0)
		n = tun_write_frame(dev->tun_fd, dev->gro.iov, iovcnt);
	(void)n;
	gro_batch_init(&dev->gro);
}

void device_tun_write(struct device *dev, uint8_t *pkt, size_t len)
{
	/* coalesce only towards our own TUN, and only if it takes TCP super-packets */
	if (dev->io.tun_write != io_tun_write || !(dev->tun_offload & TUN_F_TSO4) ||
	    !(dev->tun_offload & TUN_F_TSO6)) {
		(void)dev->io.tun_write(dev, pkt, len);
		return;
	}
	if (gro_batch_add(&dev->gro, pkt, len))
		return;
	device_tun_flush(dev);
	if (!gro_batch_add(&dev->gro, pkt, len))
		(void)io_tun_write(dev, pkt, len);
}

static uint64_t io_realtime_ns(struct device *dev)
{
	(void)dev;
	return clock_realtime_ns();
}

static uint64_t io_jitter_ns(struct device *dev, uint64_t max_ns)
{
	uint32_t r;

	(void)dev;
	crypto_random(&r, sizeof(r));
	return max_ns ? r % max_ns : 0;
}

static void link_gone(struct device *dev)
{
	if (!dev->is_link_gone)
		log_info("Interface %s was deleted, shutting down", dev->ifname);
	dev->is_link_gone = true;
	if (dev->loop)
		loop_stop(dev->loop);
}

static void on_tun(struct loop_source *src, uint32_t events)
{
	struct device *dev = container_of(src, struct device, tun_src);

	if (events & EPOLLERR) {
		link_gone(dev);
		return;
	}
	device_tun_readable(dev, clock_boottime_ns());
}

static void on_udp(struct loop_source *src, uint32_t events)
{
	struct device_udp_source *u = container_of(src, struct device_udp_source, src);

	(void)events;
	device_udp_readable(u->dev, src->fd, clock_boottime_ns());
}

void device_unwatch_socket(struct device *dev, unsigned int bank)
{
	for (unsigned int f = 0; f < 2; f++) {
		struct device_udp_source *u = &dev->udp_src[bank][f];

		if (u->is_watched)
			loop_del(dev->loop, &u->src);
		u->is_watched = false;
	}
}

int device_watch_socket(struct device *dev, unsigned int bank, const struct udp_socket *s)
{
	const int fds[2] = { s->fd4, s->fd6 };
	int ret;

	if (!dev->loop)
		return 0;
	for (unsigned int f = 0; f < 2; f++) {
		struct device_udp_source *u = &dev->udp_src[bank][f];

		if (fds[f] < 0)
			continue;
		u->src.fd = fds[f];
		u->src.fn = on_udp;
		u->dev = dev;
		ret = loop_add(dev->loop, &u->src, EPOLLIN);
		if (ret < 0) {
			device_unwatch_socket(dev, bank);
			return ret;
		}
		u->is_watched = true;
	}
	return 0;
}

static int device_tables_init(struct device *dev)
{
	int ret;

	allowedips_init(&dev->allowedips);
	index_table_init(&dev->index);
	pubkey_table_init(&dev->pubkeys);
	timers_heap_init(&dev->timers);
	packet_pool_init(&dev->pool);
	ret = index_table_reserve(&dev->index, DEVICE_INITIAL_PEERS * PEER_MAX_INDICES);
	if (ret == 0)
		ret = pubkey_table_reserve(&dev->pubkeys, DEVICE_INITIAL_PEERS);
	if (ret == 0)
		ret = timers_heap_reserve(&dev->timers, DEVICE_INITIAL_PEERS);
	if (ret == 0)
		ret = ratelimiter_init(&dev->ratelimiter);
	if (ret == 0)
		ret = hsqueue_init(&dev->hsq);
	return ret;
}

static void device_tables_free(struct device *dev)
{
	allowedips_free(&dev->allowedips);
	index_table_free(&dev->index);
	pubkey_table_free(&dev->pubkeys);
	timers_heap_free(&dev->timers);
	ratelimiter_uninit(&dev->ratelimiter);
	packet_pool_free(&dev->pool);
	hsqueue_free(&dev->hsq);
}

static void device_read_mtu(struct device *dev)
{
	int mtu = dev->tun_fd >= 0 ? tun_get_mtu(dev->ifname) : -ENODEV;

	if (mtu > 0)
		dev->mtu = (unsigned int)mtu;
}

/*
 * With a vnet header, let the kernel hand us unchecksummed TCP/UDP super-packets (one
 * read per 64 KiB instead of one per MTU). Without it, or if TUNSETOFFLOAD is refused,
 * packets simply arrive one by one, complete.
 */
static void device_tun_offload(struct device *dev)
{
	int hlen = dev->tun_fd >= 0 ? tun_vnet_hdr_len(dev->tun_fd) : 0;

	dev->tun_vnet_len = hlen == GSO_VNET_HDR_LEN ? (unsigned int)hlen : 0;
	dev->tun_offload = dev->tun_vnet_len ? tun_set_offload(dev->tun_fd) : 0;
	if (dev->tun_offload < 0)
		dev->tun_offload = 0;
	log_verbose("TUN offloads 0x%x, vnet header %u bytes", (unsigned int)dev->tun_offload,
		    dev->tun_vnet_len);
}

static int device_watch_tun(struct device *dev)
{
	if (!dev->loop || dev->tun_fd < 0)
		return 0;
	dev->tun_src.fd = dev->tun_fd;
	dev->tun_src.fn = on_tun;
	return loop_add(dev->loop, &dev->tun_src, EPOLLIN);
}

int device_create(struct device **out, const char *ifname, int tun_fd, struct loop *loop)
{
	/* the static private key and the cookie secret live in the device */
	struct device *dev = secmem_alloc(sizeof(*dev));
	int ret;

	if (!dev) {
		if (tun_fd >= 0)
			close(tun_fd);
		return -ENOMEM;
	}
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname ? ifname : "");
	secmem_pool_init(&dev->peer_pool, sizeof(struct peer));
	dev->tun_fd = tun_fd;
	dev->mtu = DEVICE_DEFAULT_MTU;
	dev->route_gen = 1;
	gro_batch_init(&dev->gro);
	dev->last_under_load_ns = TIMER_OFF;
	dev->io =
		(struct device_io){ io_udp_send, io_tun_write, io_realtime_ns, io_jitter_ns, NULL };
	udp_socket_init(&dev->sock);
	ret = device_tables_init(dev);
	if (ret < 0)
		goto err;
	dev->aead = aead_lane_new();
	dev->tx_buf = malloc(PACKET_TX_BUF_LEN);
	dev->rx_buf = malloc(PACKET_RX_BUF_LEN);
	dev->gso_buf = malloc(PACKET_GSO_BUF_LEN);
	if (!dev->aead || !dev->tx_buf || !dev->rx_buf || !dev->gso_buf) {
		ret = -ENOMEM;
		goto err;
	}
	ret = udp_socket_open(&dev->sock, 0, 0);
	if (ret < 0)
		goto err;
	dev->loop = loop;
	/*
	 * The kernel creates a TUN link down. The port is drawn now, so get=1 shows the
	 * port the link will listen on, but bound only when the link comes up.
	 */
	dev->is_up = tun_fd < 0;
	if (!dev->is_up)
		udp_socket_close(&dev->sock);
	ret = device_watch_socket(dev, 0, &dev->sock);
	if (ret == 0)
		ret = device_watch_tun(dev);
	if (ret < 0)
		goto err;
	/*
	 * The socket for check_source, opened now: the worker's seccomp filter (sandbox.c)
	 * allows no netlink socket in the steady state. Without it sources are not re-checked.
	 */
	if (tun_fd >= 0 && rtnl_open(&dev->route_nl) < 0)
		dev->route_nl = NULL;
	device_read_mtu(dev);
	device_tun_offload(dev);
	*out = dev;
	return 0;
err:
	device_destroy(dev);
	return ret;
}

static bool device_socket_is_open(const struct device *dev)
{
	return dev->sock.fd4 >= 0 || dev->sock.fd6 >= 0;
}

/* Binds the remembered port and fwmark again, in the current bank. 0 or -errno. */
static int device_socket_reopen(struct device *dev)
{
	int ret;

	if (device_socket_is_open(dev))
		return 0;
	ret = udp_socket_open(&dev->sock, dev->sock.port, dev->fwmark);
	if (ret < 0)
		return ret;
	ret = device_watch_socket(dev, dev->udp_bank, &dev->sock);
	if (ret < 0)
		udp_socket_close(&dev->sock);
	return ret;
}

static void device_socket_close(struct device *dev)
{
	device_unwatch_socket(dev, dev->udp_bank);
	udp_socket_close(&dev->sock);
}

/* The housekeeping retry of a bind that failed when the link came up. */
static void device_socket_retry(struct device *dev)
{
	if (!dev->is_up || device_socket_is_open(dev) || device_socket_reopen(dev) < 0)
		return;
	log_info("Listening on UDP port %u", dev->sock.port);
}

/*
 * Link down, as the kernel's wg_stop. The sockets are closed like the kernel's, rather
 * than kept open with the receive path dropping everything: a peer then gets ICMP port
 * unreachable instead of silence, the port is free, and the socket code already reopens
 * a port in place (udp_socket_close keeps port and fwmark). is_up goes false first, so
 * nothing below can arm a timer or send.
 */
static void device_stop(struct device *dev)
{
	struct peer *p;

	dev->is_up = false;
	for (p = dev->peers_first; p; p = p->next) {
		packet_queue_purge(&p->staged, &dev->pool);
		timers_peer_disarm(p);
		peer_clear_keys(p); /* handshake and keypairs, wiped; their indices dropped */
		p->last_sent_handshake_ns = TIMER_OFF;
	}
	while (hsqueue_len(&dev->hsq))
		hsqueue_pop(&dev->hsq);
	device_socket_close(dev);
	log_info("Interface %s down: sessions cleared", dev->ifname);
}

/*
 * Link up, as the kernel's wg_open. Unlike the kernel we cannot refuse the up when the
 * port was taken meanwhile: the link is up anyway, so we log, come up without sockets
 * (sends fail, handshakes retry on their timers) and retry the bind every second.
 */
static void device_open(struct device *dev, uint64_t now_ns)
{
	int ret = device_socket_reopen(dev);
	struct peer *p;

	dev->is_up = true;
	if (ret < 0)
		log_error("Interface %s up, but cannot bind UDP port %u: %s (retrying)",
			  dev->ifname, dev->sock.port, strerror(-ret));
	else
		log_info("Interface %s up, listening on UDP port %u", dev->ifname, dev->sock.port);
	for (p = dev->peers_first; p; p = p->next) {
		send_staged_packets(p, now_ns);
		if (p->persistent_keepalive_s)
			send_keepalive(p, now_ns);
	}
	send_commit(dev);
}

void device_set_up(struct device *dev, bool up, uint64_t now_ns)
{
	if (up && !dev->is_up)
		device_open(dev, now_ns);
	else if (!up && dev->is_up)
		device_stop(dev);
	else if (up)
		device_socket_retry(dev);
	else
		device_socket_close(dev); /* a listen port set while down bound one */
	device_rearm(dev);
}

void device_destroy(struct device *dev)
{
	if (!dev)
		return;
	crypt_data_disable(dev); /* gives gso_buf back */
	while (dev->peers_first)
		device_remove_peer(dev, dev->peers_first);
	if (dev->loop) {
		device_unwatch_socket(dev, dev->udp_bank);
		if (dev->tun_fd >= 0 && dev->tun_src.fn)
			loop_del(dev->loop, &dev->tun_src);
		loop_arm_timer(dev->loop, TIMER_OFF);
	}
	udp_socket_close(&dev->sock);
	rtnl_close(dev->route_nl);
	if (dev->tun_fd >= 0)
		close(dev->tun_fd);
	device_tables_free(dev);
	cookie_checker_clear(&dev->cookie_checker);
	noise_static_identity_clear(&dev->identity);
	/* The buffers held plaintext packets. */
	if (dev->tx_buf)
		wipe(dev->tx_buf, PACKET_TX_BUF_LEN);
	if (dev->rx_buf)
		wipe(dev->rx_buf, PACKET_RX_BUF_LEN);
	if (dev->gso_buf)
		wipe(dev->gso_buf, PACKET_GSO_BUF_LEN);
	free(dev->tx_buf);
	free(dev->rx_buf);
	free(dev->gso_buf);
	aead_lane_free(dev->aead);
	secmem_pool_destroy(&dev->peer_pool);
	secmem_free(dev); /* wipes */
}

struct peer *device_lookup_peer(struct device *dev,
				const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN])
{
	return pubkey_table_lookup(&dev->pubkeys, public_key);
}

void device_link_peer(struct device *dev, struct peer *p)
{
	p->prev = dev->peers_last;
	p->next = NULL;
	if (dev->peers_last)
		dev->peers_last->next = p;
	else
		dev->peers_first = p;
	dev->peers_last = p;
	dev->peers_len++;
	pubkey_table_add(&dev->pubkeys, p);
	timers_peer_start(p);
}

void device_remove_peer(struct device *dev, struct peer *p)
{
	/* Staged removal (STYLE B6): unreachable from every table, timers off, then wiped. */
	if (p->prev)
		p->prev->next = p->next;
	else
		dev->peers_first = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		dev->peers_last = p->prev;
	dev->peers_len--;
	pubkey_table_remove(&dev->pubkeys, p);
	allowedips_remove_by_peer(&dev->allowedips, p);
	peer_drop_indices(p);
	timers_peer_stop(p);
	log_verbose("Peer %llu removed", (unsigned long long)p->id);
	peer_destroy(p);
}

/*
 * A backlog of handshake messages arms the one timerfd for "now" (deadline 0, already
 * past): the next epoll_wait returns at once with the timer ready next to whatever fds
 * are ready, so the loop comes back to the queue without waiting for new input, and data
 * read in the meantime still goes first, a budget at a time. An empty queue arms the
 * real deadline, so an idle loop sleeps. The alternative, a zero epoll timeout, would
 * need the loop to know about the queue; this keeps the queue the device's business.
 */
void device_rearm(struct device *dev)
{
	uint64_t next = timers_next_deadline(dev);

	/* Every entry point ends here: no transport key stays in the lane between them. */
	aead_lane_forget(dev->aead);
	if (!dev->loop)
		return;
	if (dev->housekeeping_ns < next)
		next = dev->housekeeping_ns;
	if (hsqueue_len(&dev->hsq))
		next = 0;
	loop_arm_timer(dev->loop, next);
}

/* One frame read from the TUN: a plain packet, one to checksum, or a super-packet. */
static void tun_frame(struct device *dev, const struct virtio_net_hdr *h, size_t len,
		      uint64_t now_ns)
{
	static struct log_ratelimit rl;
	uint8_t *pkt = dev->tx_buf + sizeof(struct message_data);
	struct gso_packet gp;

	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (gso_packet_parse(h, pkt, len, &gp))
			send_tun_gso(dev, &gp, now_ns);
		else
			log_verbose_rl(&rl, "Dropping a TUN super-packet of unknown shape");
		return;
	}
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !gso_complete_csum(h, pkt, len))
		return;
	send_tun_packet(dev, len, now_ns);
}

void device_tun_readable(struct device *dev, uint64_t now_ns)
{
	/* the vnet header lands just before the packet, in the room of the data header */
	unsigned int hlen = dev->tun_vnet_len;
	uint8_t *frame = dev->tx_buf + sizeof(struct message_data) - hlen;
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	ssize_t n;

	for (unsigned int i = 0; i < DEVICE_BATCH; i++) {
		n = tun_read_frame(dev->tun_fd, frame, PACKET_IP_MAX + hlen);
		if (n == -EBADFD) {
			send_commit(dev);
			link_gone(dev);
			return;
		}
		if (n < 0)
			break;
		if ((size_t)n < hlen)
			continue;
		if (hlen)
			memcpy(&h, frame, sizeof(h));
		tun_frame(dev, &h, (size_t)n - hlen, now_ns);
	}
	send_commit(dev);
	device_rearm(dev);
}

void device_udp_receive(struct device *dev, uint8_t *buf, size_t len, struct endpoint *from,
			uint64_t now_ns)
{
	static struct log_ratelimit rl, rl_junk;
	enum message_type type = receive_classify(buf, len);

	if (type != MESSAGE_HANDSHAKE_INITIATION && type != MESSAGE_HANDSHAKE_RESPONSE) {
		receive_message(dev, type, buf, len, from, now_ns);
		return;
	}
	/* a down link's sockets are closed; this only guards the handshake queue */
	if (!dev->is_up)
		return;
	/*
	 * A slot, and the backlog that means "under load", is only for messages meant for
	 * us: without our public key nobody can make mac1, so a flood of junk costs one
	 * keyed BLAKE2s each and leaves the queue to real peers.
	 */
	if (!receive_mac1_valid(dev, buf, len)) {
		log_verbose_rl(&rl_junk, "Invalid MAC of handshake, dropping packet");
		return;
	}
	/* Full: drop, as the kernel (4096) and wireguard-go (1024) drop past their queue. */
	if (!hsqueue_push(&dev->hsq, type, buf, len, from)) {
		dev->hs_dropped++;
		log_verbose_rl(&rl,
			       "Handshake queue full, dropping a handshake message (%llu so far)",
			       (unsigned long long)dev->hs_dropped);
	}
}

/*
 * Handshakes are processed at now_ns, the time they are taken from the queue, not the
 * time they were read: the kernel's workers also process them later than they arrived,
 * and every decision made here (under load, the ratelimiter, the cookie secret's age,
 * the 20 ms initiation limit, the new session's birthdate) concerns the moment we act.
 * The entry stays queued while it is processed, so receive.c sees the backlog including
 * it (as the kernel's handshake_queue_len does).
 */
unsigned int device_handshakes_run(struct device *dev, uint64_t now_ns)
{
	struct hsqueue_entry *e;
	unsigned int n;

	if (dev->crypt)
		return crypt_handshakes_run(dev, now_ns);
	for (n = 0; n < HSQUEUE_BUDGET && (e = hsqueue_peek(&dev->hsq)); n++) {
		receive_message(dev, e->type, e->buf, e->len, &e->from, now_ns);
		hsqueue_pop(&dev->hsq);
	}
	return n;
}

/*
 * Data first: data (and cookie replies) are handled as they are read, handshake messages
 * wait in dev->hsq until the whole batch is read and its packets written to the TUN; then
 * one budget of them. What remains is left to the timer (device_rearm).
 */
void device_udp_readable(struct device *dev, int fd, uint64_t now_ns)
{
	struct endpoint from;
	size_t seg, len;
	ssize_t n;

	if (dev->crypt) {
		crypt_data_udp_readable(dev, fd, now_ns);
		return;
	}
	for (unsigned int i = 0; i < DEVICE_BATCH; i++) {
		n = udp_socket_recv_segments(fd, dev->rx_buf, PACKET_RX_BUF_LEN, &from, &seg);
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			break;
		/* UDP GRO: several datagrams of seg bytes back to back, the last maybe shorter */
		for (size_t off = 0; off < (size_t)n; off += seg) {
			len = (size_t)n - off < seg ? (size_t)n - off : seg;
			device_udp_receive(dev, dev->rx_buf + off, len, &from, now_ns);
		}
		device_tun_flush(dev);
	}
	device_handshakes_run(dev, now_ns);
	device_rearm(dev);
}

void device_timers_run(struct device *dev, uint64_t now_ns)
{
	/* Queued responses first: one may complete a handshake whose retransmit is due. */
	device_handshakes_run(dev, now_ns);
	timers_run(dev, now_ns);
	if (dev->housekeeping_ns <= now_ns) {
		device_socket_retry(dev);
		device_read_mtu(dev);
		ratelimiter_gc(&dev->ratelimiter, now_ns);
		dev->housekeeping_ns = now_ns + NSEC_PER_SEC;
	}
	device_rearm(dev);
}
