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
#include <unistd.h>

#include "crypto/key.h"
#include "crypto/random.h"
#include "wgd/clock.h"
#include "wgd/log.h"
#include "wgd/peer.h"
#include "wgd/tun.h"

enum device_values {
	DEVICE_DEFAULT_MTU = 1420, /* wireguard-go's DefaultMTU, until the TUN tells us */
	DEVICE_BATCH = 64,	   /* packets per fd per wakeup, so no fd starves the others */
	DEVICE_INITIAL_PEERS = 16, /* initial table room */
};

static int io_udp_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	return udp_socket_send(&dev->sock, ep, buf, len);
}

static int io_tun_write(struct device *dev, const void *buf, size_t len)
{
	ssize_t n;

	if (dev->tun_fd < 0)
		return -EBADF;
	n = tun_write(dev->tun_fd, buf, len);
	return n < 0 ? (int)n : 0;
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
}

static void device_read_mtu(struct device *dev)
{
	int mtu = dev->tun_fd >= 0 ? tun_get_mtu(dev->ifname) : -ENODEV;

	if (mtu > 0)
		dev->mtu = (unsigned int)mtu;
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
	struct device *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev) {
		if (tun_fd >= 0)
			close(tun_fd);
		return -ENOMEM;
	}
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname ? ifname : "");
	dev->tun_fd = tun_fd;
	dev->mtu = DEVICE_DEFAULT_MTU;
	dev->last_under_load_ns = TIMER_OFF;
	dev->io =
		(struct device_io){ io_udp_send, io_tun_write, io_realtime_ns, io_jitter_ns, NULL };
	udp_socket_init(&dev->sock);
	ret = device_tables_init(dev);
	if (ret < 0)
		goto err;
	dev->tx_buf = malloc(PACKET_TX_BUF_LEN);
	dev->rx_buf = malloc(PACKET_RX_BUF_LEN);
	if (!dev->tx_buf || !dev->rx_buf) {
		ret = -ENOMEM;
		goto err;
	}
	ret = udp_socket_open(&dev->sock, 0, 0);
	if (ret < 0)
		goto err;
	dev->loop = loop;
	ret = device_watch_socket(dev, 0, &dev->sock);
	if (ret == 0)
		ret = device_watch_tun(dev);
	if (ret < 0)
		goto err;
	device_read_mtu(dev);
	dev->is_up = true;
	*out = dev;
	return 0;
err:
	device_destroy(dev);
	return ret;
}

void device_destroy(struct device *dev)
{
	if (!dev)
		return;
	while (dev->peers_first)
		device_remove_peer(dev, dev->peers_first);
	if (dev->loop) {
		device_unwatch_socket(dev, dev->udp_bank);
		if (dev->tun_fd >= 0 && dev->tun_src.fn)
			loop_del(dev->loop, &dev->tun_src);
		loop_arm_timer(dev->loop, TIMER_OFF);
	}
	udp_socket_close(&dev->sock);
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
	free(dev->tx_buf);
	free(dev->rx_buf);
	wipe(dev, sizeof(*dev));
	free(dev);
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

void device_rearm(struct device *dev)
{
	uint64_t next = timers_next_deadline(dev);

	if (!dev->loop)
		return;
	if (dev->housekeeping_ns < next)
		next = dev->housekeeping_ns;
	loop_arm_timer(dev->loop, next);
}

void device_tun_readable(struct device *dev, uint64_t now_ns)
{
	uint8_t *pkt = dev->tx_buf + sizeof(struct message_data);
	ssize_t n;

	for (unsigned int i = 0; i < DEVICE_BATCH; i++) {
		n = tun_read(dev->tun_fd, pkt, PACKET_IP_MAX);
		if (n == -EBADFD) {
			link_gone(dev);
			return;
		}
		if (n < 0)
			break;
		send_tun_packet(dev, (size_t)n, now_ns);
	}
	device_rearm(dev);
}

void device_udp_readable(struct device *dev, int fd, uint64_t now_ns)
{
	struct endpoint from;
	ssize_t n;

	for (unsigned int i = 0; i < DEVICE_BATCH; i++) {
		n = udp_socket_recv(fd, dev->rx_buf, PACKET_RX_BUF_LEN, &from);
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			break;
		receive_datagram(dev, dev->rx_buf, (size_t)n, &from, now_ns);
	}
	device_rearm(dev);
}

void device_timers_run(struct device *dev, uint64_t now_ns)
{
	timers_run(dev, now_ns);
	if (dev->housekeeping_ns <= now_ns) {
		device_read_mtu(dev);
		ratelimiter_gc(&dev->ratelimiter, now_ns);
		dev->housekeeping_ns = now_ns + NSEC_PER_SEC;
	}
	device_rearm(dev);
}
