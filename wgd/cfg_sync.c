/* SPDX-License-Identifier: MIT */
/*
 * cfg_sync_diff: running + wanted -> one set request. Peers are matched by public key
 * through sorted index arrays, so a reload of thousands of peers stays O(n log n).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "wgd/cfg_sync.h"

static bool is_wanted(const struct cfg_peer *p)
{
	return !(p->flags & CFG_PEER_REMOVE_ME);
}

/* Public keys are not secret: plain memcmp is fine for ordering them. */
static int cmp_peer_idx(const void *a, const void *b, void *base)
{
	const struct cfg_peer *peers = base;

	return memcmp(peers[*(const size_t *)a].public_key, peers[*(const size_t *)b].public_key,
		      NOISE_PUBLIC_KEY_LEN);
}

/* The wanted peers of cfg, as indices sorted by public key. */
struct key_index {
	const struct cfg_peer *peers;
	size_t *idx;
	size_t len;
};

/* Builds the index; -EINVAL when two wanted peers share a key, or -ENOMEM. */
static int key_index_init(struct key_index *ki, const struct cfg_device *cfg)
{
	ki->peers = cfg->peers;
	ki->len = 0;
	ki->idx = calloc(cfg->peers_len ? cfg->peers_len : 1, sizeof(*ki->idx));
	if (!ki->idx)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->peers_len; i++) {
		if (is_wanted(&cfg->peers[i]))
			ki->idx[ki->len++] = i;
	}
	qsort_r(ki->idx, ki->len, sizeof(*ki->idx), cmp_peer_idx, (void *)cfg->peers);
	for (size_t i = 1; i < ki->len; i++) {
		if (!cmp_peer_idx(&ki->idx[i - 1], &ki->idx[i], (void *)cfg->peers))
			return -EINVAL;
	}
	return 0;
}

static bool key_index_has(const struct key_index *ki, const uint8_t *key)
{
	size_t lo = 0, hi = ki->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ki->peers[ki->idx[mid]].public_key, key, NOISE_PUBLIC_KEY_LEN);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The device keys wanted names and running does not have (see cfg_sync.h). */
static void sync_device(struct cfg_device *out, const struct cfg_device *running,
			const struct cfg_device *wanted)
{
	uint8_t have_key[NOISE_PRIVATE_KEY_LEN] = { 0 };
	uint32_t have_mark = running->flags & CFG_DEV_HAS_FWMARK ? running->fwmark : 0;
	uint16_t have_port = running->flags & CFG_DEV_HAS_LISTEN_PORT ? running->listen_port : 0;

	if (running->flags & CFG_DEV_HAS_PRIVATE_KEY)
		memcpy(have_key, running->private_key, sizeof(have_key));
	if ((wanted->flags & CFG_DEV_HAS_PRIVATE_KEY) &&
	    !key_equal(wanted->private_key, have_key)) {
		memcpy(out->private_key, wanted->private_key, sizeof(out->private_key));
		out->flags |= CFG_DEV_HAS_PRIVATE_KEY;
	}
	if ((wanted->flags & CFG_DEV_HAS_FWMARK) && wanted->fwmark != have_mark) {
		out->fwmark = wanted->fwmark;
		out->flags |= CFG_DEV_HAS_FWMARK;
	}
	if ((wanted->flags & CFG_DEV_HAS_LISTEN_PORT) && wanted->listen_port != have_port) {
		out->listen_port = wanted->listen_port;
		out->flags |= CFG_DEV_HAS_LISTEN_PORT;
	}
	wipe(have_key, sizeof(have_key));
}

static int add_removal(struct cfg_device *out, const uint8_t *key)
{
	struct cfg_peer *p = cfg_device_add_peer(out);

	if (!p)
		return -ENOMEM;
	memcpy(p->public_key, key, NOISE_PUBLIC_KEY_LEN);
	p->flags = CFG_PEER_REMOVE_ME;
	return 0;
}

static int add_wanted(struct cfg_device *out, const struct cfg_peer *w)
{
	struct cfg_peer *p = cfg_device_add_peer(out);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	memcpy(p->public_key, w->public_key, NOISE_PUBLIC_KEY_LEN);
	p->flags = CFG_PEER_REPLACE_ALLOWEDIPS | CFG_PEER_HAS_PRESHARED_KEY |
		   CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	if (w->flags & CFG_PEER_HAS_PRESHARED_KEY)
		memcpy(p->preshared_key, w->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	if (w->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE)
		p->persistent_keepalive_s = w->persistent_keepalive_s;
	if (w->flags & CFG_PEER_HAS_ENDPOINT) {
		p->endpoint = w->endpoint;
		p->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	for (size_t i = 0; !ret && i < w->allowedips_len; i++) {
		if (!w->allowedips[i].is_removal)
			ret = cfg_peer_add_allowedip(p, &w->allowedips[i]);
	}
	return ret;
}

static int sync_peers(struct cfg_device *out, const struct cfg_device *running,
		      const struct cfg_device *wanted, const struct key_index *ki)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < running->peers_len; i++) {
		const uint8_t *key = running->peers[i].public_key;

		if (!key_index_has(ki, key))
			ret = add_removal(out, key);
	}
	for (size_t i = 0; !ret && i < wanted->peers_len; i++) {
		if (is_wanted(&wanted->peers[i]))
			ret = add_wanted(out, &wanted->peers[i]);
	}
	return ret;
}

int cfg_sync_diff(struct cfg_device *out, const struct cfg_device *running,
		  const struct cfg_device *wanted)
{
	struct key_index ki;
	int ret;

	ret = key_index_init(&ki, wanted);
	if (!ret) {
		sync_device(out, running, wanted);
		ret = sync_peers(out, running, wanted, &ki);
	}
	free(ki.idx);
	if (ret < 0)
		cfg_device_clear(out);
	return ret;
}
