/* SPDX-License-Identifier: MIT */
/*
 * Peer lifecycle and the peer's share of the receiver-index table. Linking a peer into
 * the device's tables is device.c's job; this file only builds, tends and wipes one.
 */
#include "wgd/peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "wgd/device.h"
#include "wgd/index.h"
#include "wgd/secmem.h"

int peer_create(struct peer **out, struct device *dev,
		const uint8_t public_key[static NOISE_PUBLIC_KEY_LEN], const uint8_t *psk)
{
	struct peer *p = secmem_pool_alloc(&dev->peer_pool);

	if (!p)
		return -ENOMEM;
	p->device = dev;
	p->id = ++dev->next_peer_id;
	noise_handshake_init(&p->handshake, &dev->identity, public_key,
			     psk && !key_is_zero(psk) ? psk : NULL);
	cookie_maker_init(&p->cookie, public_key);
	p->last_sent_handshake_ns = TIMER_OFF;
	p->timers.retransmit_handshake_ns = TIMER_OFF;
	p->timers.send_keepalive_ns = TIMER_OFF;
	p->timers.new_handshake_ns = TIMER_OFF;
	p->timers.zero_key_material_ns = TIMER_OFF;
	p->timers.persistent_keepalive_ns = TIMER_OFF;
	p->timers.heap_pos = SIZE_MAX;
	packet_queue_init(&p->staged);
	*out = p;
	return 0;
}

void peer_destroy(struct peer *p)
{
	if (!p)
		return;
	packet_queue_purge(&p->staged, &p->device->pool);
	endpoints_peer_free(p);
	/* Handshake, keypairs, PSK and cookie are all embedded: the pool wipes the slot. */
	secmem_pool_free(&p->device->peer_pool, p);
}

const uint8_t *peer_public_key(const struct peer *p)
{
	return p->handshake.remote_static;
}

const uint8_t *peer_preshared_key(const struct peer *p)
{
	return p->handshake.preshared_key;
}

uint32_t peer_new_index(struct peer *p)
{
	uint32_t index;

	peer_sync_indices(p);
	index = index_table_add_random(&p->device->index, p);
	p->indices[p->indices_len++] = index;
	return index;
}

static bool index_is_live(const struct peer *p, uint32_t index)
{
	const struct noise_keypair *slots[] = { &p->keypairs.previous, &p->keypairs.current,
						&p->keypairs.next };

	if (p->handshake.state != HANDSHAKE_ZEROED && p->handshake.local_index == index)
		return true;
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (!noise_keypair_is_empty(slots[i]) && slots[i]->local_index == index)
			return true;
	return false;
}

void peer_sync_indices(struct peer *p)
{
	uint8_t kept = 0;

	for (uint8_t i = 0; i < p->indices_len; i++) {
		if (index_is_live(p, p->indices[i]))
			p->indices[kept++] = p->indices[i];
		else
			index_table_remove(&p->device->index, p->indices[i]);
	}
	p->indices_len = kept;
}

void peer_drop_indices(struct peer *p)
{
	for (uint8_t i = 0; i < p->indices_len; i++)
		index_table_remove(&p->device->index, p->indices[i]);
	p->indices_len = 0;
}

void peer_expire_current_keypairs(struct peer *p)
{
	noise_handshake_clear(&p->handshake);
	/* Allow an immediate initiation under the new identity. */
	p->last_sent_handshake_ns = TIMER_OFF;
	/* Receiving stays possible until the slots rotate; only sending stops. */
	p->keypairs.next.sending.is_valid = false;
	p->keypairs.current.sending.is_valid = false;
	peer_sync_indices(p);
}

void peer_clear_keys(struct peer *p)
{
	noise_handshake_clear(&p->handshake);
	noise_keypairs_clear(&p->keypairs);
	peer_sync_indices(p);
}

void peer_set_endpoint(struct peer *p, const struct endpoint *from)
{
	/* a new source (or peer address) is checked against the routes before its first use */
	uint32_t gen = endpoint_same_source(&p->endpoint, from) ? p->endpoint.src_gen : 0;

	p->endpoint = *from;
	p->endpoint.src_gen = gen;
}
