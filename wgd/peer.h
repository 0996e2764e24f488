/* SPDX-License-Identifier: MIT */
/*
 * struct peer: one configured remote. It embeds everything it needs for its whole life
 * (handshake, the three keypair slots, cookie maker, timers, staged queue), so the packet
 * path never allocates per peer. The device owns its peers; every pointer handed out is
 * borrowed until the loop returns. A peer holds secrets: peer_destroy wipes it whole.
 *
 * Read-only view for the UAPI get=1 formatter (all fields below are stable while the
 * caller runs on the loop thread):
 *   public key            peer_public_key(p)
 *   preshared key         peer_preshared_key(p) (all zero = none; never log it)
 *   endpoint              p->endpoint.addr (sa_family 0 = none)
 *   persistent keepalive  p->persistent_keepalive_s (0 = off)
 *   last handshake        p->last_handshake_unix_ns (CLOCK_REALTIME ns; 0 = never)
 *   rx_bytes, tx_bytes    p->rx_bytes, p->tx_bytes
 *   allowed IPs           allowedips_walk_by_peer(&p->device->allowedips, p, fn, ctx)
 */
#ifndef WGD_PEER_H
#define WGD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "wgd/endpoints.h"
#include "wgd/packet.h"
#include "wgd/socket.h"
#include "wgd/timers.h"

struct device;

enum peer_values {
	/*
	 * Receiver indices a peer can hold at once: its handshake, its three keypair
	 * slots, and a fresh one drawn before the stale one is dropped.
	 */
	PEER_MAX_INDICES = 5,
};

struct peer {
	struct device *device;	  /* the owner; never NULL */
	uint64_t id;		  /* small number for the logs, never a key */
	struct peer *prev, *next; /* device list, creation order (get=1 order) */

	struct noise_handshake handshake; /* remote_static is the public key */
	struct noise_keypairs keypairs;
	struct cookie_maker cookie;
	struct endpoint endpoint;
	struct peer_endpoints eps; /* wgd.conf's failover list (endpoints.h) */

	uint16_t persistent_keepalive_s;
	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_unix_ns;
	uint64_t last_sent_handshake_ns; /* CLOCK_BOOTTIME; TIMER_OFF = never */
	struct peer_timers timers;
	struct packet_queue staged;

	/* receiver indices registered in the device's index table for this peer */
	uint32_t indices[PEER_MAX_INDICES];
	uint8_t indices_len;
};

/*
 * Allocates a peer for public_key with dev's identity (not yet visible to the device:
 * device.c links it). psk NULL = none. Returns 0 or -ENOMEM; *out owned by the caller
 * until linked.
 */
int __must_check peer_create(struct peer **out, struct device *dev,
			     const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN],
			     const uint8_t *psk);
/* Wipes and frees an unlinked peer (staged packets go back to dev's pool). NULL is a no-op. */
void peer_destroy(struct peer *peer);

const uint8_t *peer_public_key(const struct peer *peer);
const uint8_t *peer_preshared_key(const struct peer *peer);

/*
 * Draws a fresh receiver index for this peer (registered in the device's index table).
 * Call peer_sync_indices after the noise operation that uses it.
 */
uint32_t peer_new_index(struct peer *peer);
/*
 * Drops from the index table every index this peer registered that neither its
 * handshake nor any keypair slot uses any more. Call after every slot change.
 */
void peer_sync_indices(struct peer *peer);
/* Removes every registered index (before destroy). */
void peer_drop_indices(struct peer *peer);

/*
 * Kernel's wg_noise_expire_current_peer_keypairs: clears the handshake and stops sending
 * on current and next, so the next packet starts a handshake (used on a new identity).
 */
void peer_expire_current_keypairs(struct peer *peer);
/* Wipes the handshake and all keypairs and drops their indices (zero-key timer). */
void peer_clear_keys(struct peer *peer);

/* Sets the endpoint from an authenticated packet's source (roaming, whitepaper §2.1). */
void peer_set_endpoint(struct peer *peer, const struct endpoint *from);

#endif
