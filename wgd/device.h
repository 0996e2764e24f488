/* SPDX-License-Identifier: MIT */
/*
 * struct device: one WireGuard interface — identity, UDP socket, TUN fd, the peer list
 * and its lookup tables (allowed IPs, receiver indices, public keys, timer heap), and the
 * fixed packet buffers. Configuration enters only through device_apply_cfg, which commits
 * a whole request or nothing. Single-threaded: everything runs on the loop thread, and
 * every pointer handed out is borrowed until the loop returns.
 *
 * Read-only view for the UAPI get=1 formatter:
 *   private key   dev->identity.has_identity, dev->identity.static_private (never log it)
 *   listen port   dev->sock.port (the bound port; 0 only before the socket opens)
 *   fwmark        dev->fwmark (0 = none)
 *   peers         device_for_each_peer(dev, p), in creation order; see peer.h
 */
#ifndef WGD_DEVICE_H
#define WGD_DEVICE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "wgd/allowedips.h"
#include "wgd/cfg.h"
#include "wgd/gro.h"
#include "wgd/hsqueue.h"
#include "wgd/index.h"
#include "wgd/loop.h"
#include "wgd/packet.h"
#include "wgd/ratelimiter.h"
#include "wgd/secmem.h"
#include "wgd/socket.h"
#include "wgd/timers.h"

struct aead_lane;
struct peer;

/*
 * The device's only contact with the outside on the packet path. device_create installs
 * the real ones; tests replace them to capture datagrams and run on a virtual clock.
 */
struct device_io {
	/* Sends one datagram to ep; 0 or -errno. */
	int (*udp_send)(struct device *dev, struct endpoint *ep, const void *buf, size_t len);
	/* Writes one IP packet to the TUN; 0 or -errno. */
	int (*tun_write)(struct device *dev, const void *buf, size_t len);
	/* CLOCK_REALTIME ns, for TAI64N timestamps and the last-handshake time. */
	uint64_t (*realtime_ns)(struct device *dev);
	/* Handshake retransmit jitter in [0, max_ns), whitepaper §6.1. */
	uint64_t (*jitter_ns)(struct device *dev, uint64_t max_ns);
	void *ctx; /* for the test hooks */
};

/* A watched UDP fd and the device it feeds. */
struct device_udp_source {
	struct loop_source src;
	struct device *dev;
	bool is_watched;
};

struct device {
	char ifname[IFNAMSIZ];
	int tun_fd;	  /* -1 when detached (tests) */
	unsigned int mtu; /* TUN MTU, re-read each second by the loop; caps padding */
	bool is_up;	  /* the link is up (IFF_UP); false: no timers, no sends, no receives */

	struct udp_socket sock;
	uint32_t fwmark;
	/* the worker dropped CAP_NET_ADMIN (no fwmark at start): a new mark is refused */
	bool is_fwmark_refused;
	struct noise_static_identity identity;
	struct cookie_checker cookie_checker;
	struct ratelimiter ratelimiter;

	struct secmem_pool peer_pool; /* guarded, locked slots for struct peer */
	struct peer *peers_first, *peers_last;
	size_t peers_len;
	uint64_t next_peer_id;
	struct allowedips allowedips;
	struct index_table index;
	struct pubkey_table pubkeys;
	struct timers_heap timers;

	/* handshake messages waiting behind the data of their read batch: see device.c */
	struct hsqueue hsq;
	uint64_t hs_dropped; /* handshake messages dropped because hsq was full */
	uint64_t tun_loops;  /* our own datagrams read back from the TUN and dropped */
	/* "under load" (PROTOCOL §6): see receive.c */
	uint64_t load_window_start_ns;
	unsigned int load_window_handshakes;
	uint64_t last_under_load_ns; /* TIMER_OFF = not under load */

	/*
	 * The loop thread's transport AEAD (wgd/aead.h): keyed once per peer and burst,
	 * forgotten by device_rearm, which ends every loop entry point.
	 */
	struct aead_lane *aead;
	struct packet_pool pool;
	uint8_t *tx_buf;	   /* PACKET_TX_BUF_LEN; TUN reads land at tx_buf + 16 */
	uint8_t *rx_buf;	   /* PACKET_RX_BUF_LEN */
	uint8_t *gso_buf;	   /* PACKET_GSO_BUF_LEN: sealed segments of one TUN super-packet */
	unsigned int tun_vnet_len; /* virtio_net_hdr bytes before each TUN packet, or 0 */
	int tun_offload;	   /* TUN_F_* flags the kernel accepted */
	struct gro_batch gro;	   /* decrypted TCP segments waiting for one TUN write */
	/* sealed messages in gso_buf for tx_peer, sent in one call by send_flush */
	struct peer *tx_peer;
	size_t tx_off, tx_seg;
	unsigned int tx_count;

	struct device_io io;
	struct loop *loop; /* borrowed; NULL when nothing is watched (tests) */
	struct loop_source tun_src;
	/* two banks, so a new socket is watched before the old one is let go */
	struct device_udp_source udp_src[2][2]; /* [bank][0 = v4, 1 = v6] */
	unsigned int udp_bank;
	uint64_t housekeeping_ns; /* next MTU re-read and ratelimiter GC */
	bool is_link_gone;	  /* the TUN link was deleted: the daemon should exit */
	/*
	 * Bumped on every routing change the owner reports (device_routing_changed): a sticky
	 * IPv4 source checked at an older generation is checked again before its next use.
	 */
	uint32_t route_gen;
	struct rtnl *route_nl;	  /* for those checks; opened with the device */
	struct crypt_data *crypt; /* crypt threads (wgd/crypt_data.h); NULL: one thread */
};

#define device_for_each_peer(dev, p) for ((p) = (dev)->peers_first; (p); (p) = (p)->next)

/*
 * Sets up a device for the TUN interface ifname with tun_fd (owned by the device from
 * now on, closed by device_destroy; -1 for none) and draws a random UDP port. With a TUN
 * the device starts down, its port unbound, as a new link is: the owner reports the
 * link's real state with device_set_up. Without one (tests) it starts up and bound.
 * loop may be NULL (no socket watching). Returns 0 or -errno.
 */
int __must_check device_create(struct device **out, const char *ifname, int tun_fd,
			       struct loop *loop);
/*
 * Routes or policy rules changed: every peer's cached IPv4 source is checked again before
 * its next send, and forgotten if the route towards the peer no longer leaves through the
 * interface the source was learnt on (the kernel's rule: send4 in its socket.c).
 */
void device_routing_changed(struct device *dev);

/*
 * Sends len bytes to ep as datagrams of seg bytes each (the last may be shorter): one
 * UDP GSO system call with the real socket, io.udp_send once per datagram when a test
 * has replaced it. 0 or -errno.
 */
int device_udp_send_segments(struct device *dev, struct endpoint *ep, const uint8_t *buf,
			     size_t len, size_t seg);

/*
 * True when datagrams go to the real socket, so send.c may hold sealed messages back
 * until the end of a TUN read burst; false when a test captures every send at once.
 */
bool device_udp_is_batched(const struct device *dev);

/*
 * Delivers one decrypted IP packet (len bytes, pkt in dev->rx_buf) to the TUN: with
 * offloads, TCP segments are held and coalesced until device_tun_flush, which the UDP
 * read loop calls before it reuses rx_buf; otherwise io.tun_write at once.
 */
void device_tun_write(struct device *dev, uint8_t *pkt, size_t len);
void device_tun_flush(struct device *dev);

/*
 * Follows the link's administrative state (IFF_UP), as the kernel module's wg_stop and
 * wg_open do. Down: every peer's staged packets, timers, handshake and keypairs (wiped)
 * are dropped, the queued handshake messages too, and the UDP sockets closed; nothing is
 * sent or received until up. Up: the sockets are bound again on the same port (on
 * failure: an error is logged and the bind retried every second), then every peer's
 * staged packets go and a peer with a persistent keepalive sends one (which starts a
 * handshake). A call that changes nothing only makes sure the sockets match the state:
 * closed while down (a listen port set while down binds one), bound while up (retrying
 * a failed bind).
 */
void device_set_up(struct device *dev, bool up, uint64_t now_ns);

/* Removes every peer, wipes the identity, closes the socket and TUN fd, frees. */
void device_destroy(struct device *dev);

/*
 * Validates cfg against the running device and commits it atomically (see device.c for
 * the exact semantics, which follow wireguard-go's uapi.go). Returns 0, or on failure
 * -EINVAL, -ENOMEM, -ENOSPC (too many peers), -EADDRINUSE or another -errno from binding
 * the new port or setting the fwmark, with the device exactly as before. cfg is only
 * read; the caller still owns and clears it.
 */
int __must_check device_apply_cfg(struct device *dev, const struct cfg_device *cfg,
				  uint64_t now_ns);

/* The peer with this public key, or NULL; borrowed until the loop returns. */
struct peer *device_lookup_peer(struct device *dev,
				const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN]);

/* Unlinks the peer from every table, stops its timers, wipes and frees it. */
void device_remove_peer(struct device *dev, struct peer *peer);

/* For device_cfg.c: appends a peer from peer_create (room reserved in every table). */
void device_link_peer(struct device *dev, struct peer *peer);
/* For device_cfg.c: watch s's fds in udp_src[bank] (0 or -errno, nothing watched), or stop. */
int __must_check device_watch_socket(struct device *dev, unsigned int bank,
				     const struct udp_socket *s);
void device_unwatch_socket(struct device *dev, unsigned int bank);

/*
 * Loop entry points (device_create registers the fd callbacks itself). The UDP callback
 * handles data at once and queues handshake messages, then processes a budget of them;
 * the timer callback processes the next budget, runs expired peer timers and the
 * once-a-second housekeeping (MTU re-read, ratelimiter GC). Each re-arms the loop's
 * timer; so does device_apply_cfg; device_rearm also wipes the keys the device's AEAD
 * lane kept for the burst (aead_lane_forget). When the TUN link disappears they set
 * dev->is_link_gone and stop the loop.
 */
void device_tun_readable(struct device *dev, uint64_t now_ns);
void device_udp_readable(struct device *dev, int fd, uint64_t now_ns);
void device_timers_run(struct device *dev, uint64_t now_ns);
/*
 * Re-arms the loop's timer at the earliest pending deadline, or for "now" while handshake
 * messages are queued (no-op without a loop).
 */
void device_rearm(struct device *dev);

/*
 * The UDP read path per datagram, for device_udp_readable and tests: an initiation or a
 * response with a valid mac1 is copied to dev->hsq (dropped and counted in
 * dev->hs_dropped when it is full; without mac1 dropped before it takes a slot); anything
 * else goes through receive_message at once, classified only once.
 */
void device_udp_receive(struct device *dev, uint8_t *buf, size_t len, struct endpoint *from,
			uint64_t now_ns);
/* Processes at most HSQUEUE_BUDGET queued handshake messages, oldest first; how many. */
unsigned int device_handshakes_run(struct device *dev, uint64_t now_ns);

#endif
