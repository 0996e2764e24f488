/* SPDX-License-Identifier: MIT */
/*
 * cfg.h's containers: two growable arrays (peers, and each peer's allowed IPs). Arrays
 * double so that a 130 000-line allowed_ip message costs O(n) copies; a peer array that
 * moves is wiped first, because every cfg_peer carries a preshared key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "wgd/cfg.h"

enum { CFG_INITIAL_CAP = 8 };

/*
 * Returns a copy of arr (len elements of size elem) in a block with room for at least one
 * more, wiping and freeing the old block, since realloc() would leave a key-bearing copy
 * behind. On failure returns NULL and leaves arr and *cap untouched.
 */
static void *grow(void *arr, size_t *cap, size_t len, size_t elem)
{
	size_t new_cap = *cap ? *cap * 2 : CFG_INITIAL_CAP;
	void *p;

	if (new_cap < *cap || new_cap > SIZE_MAX / elem)
		return NULL;
	p = calloc(new_cap, elem);
	if (!p)
		return NULL;
	if (arr) {
		memcpy(p, arr, len * elem);
		wipe(arr, *cap * elem);
		free(arr);
	}
	*cap = new_cap;
	return p;
}

struct cfg_peer *cfg_device_add_peer(struct cfg_device *cfg)
{
	struct cfg_peer *peer, *p;

	if (cfg->peers_len == cfg->peers_cap) {
		p = grow(cfg->peers, &cfg->peers_cap, cfg->peers_len, sizeof(*p));
		if (!p)
			return NULL;
		cfg->peers = p;
	}
	peer = &cfg->peers[cfg->peers_len++];
	memset(peer, 0, sizeof(*peer));
	return peer;
}

int cfg_peer_add_allowedip(struct cfg_peer *peer, const struct cfg_allowedip *aip)
{
	struct cfg_allowedip *p;

	if (peer->allowedips_len == peer->allowedips_cap) {
		p = grow(peer->allowedips, &peer->allowedips_cap, peer->allowedips_len, sizeof(*p));
		if (!p)
			return -ENOMEM;
		peer->allowedips = p;
	}
	peer->allowedips[peer->allowedips_len++] = *aip;
	return 0;
}

int cfg_peer_set_endpoints(struct cfg_peer *peer, const struct cfg_endpoint *list, size_t n)
{
	struct cfg_endpoint *copy = NULL;

	if (n > CFG_ENDPOINTS_MAX)
		return -EINVAL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, list, n * sizeof(*copy));
	}
	free(peer->endpoints);
	peer->endpoints = copy;
	peer->endpoints_len = n;
	peer->flags |= CFG_PEER_HAS_ENDPOINTS;
	return 0;
}

/* Public keys are not secret, so a plain memcmp is fine here. */
struct cfg_peer *cfg_device_find_peer(struct cfg_device *cfg, const uint8_t *public_key)
{
	for (size_t i = 0; i < cfg->peers_len; i++) {
		if (!memcmp(cfg->peers[i].public_key, public_key, NOISE_PUBLIC_KEY_LEN))
			return &cfg->peers[i];
	}
	return NULL;
}

void cfg_device_clear(struct cfg_device *cfg)
{
	for (size_t i = 0; i < cfg->peers_len; i++) {
		free(cfg->peers[i].allowedips);
		free(cfg->peers[i].endpoints);
	}
	if (cfg->peers) {
		wipe(cfg->peers, cfg->peers_cap * sizeof(*cfg->peers));
		free(cfg->peers);
	}
	wipe(cfg, sizeof(*cfg));
}

static int compare_key_ptrs(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, NOISE_PUBLIC_KEY_LEN);
}

int cfg_device_has_duplicate_peers(const struct cfg_device *cfg)
{
	const uint8_t **keys;
	int ret = 0;

	if (cfg->peers_len < 2)
		return 0;
	keys = calloc(cfg->peers_len, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->peers_len; i++)
		keys[i] = cfg->peers[i].public_key;
	/* sorted, any duplicates are neighbours */
	qsort(keys, cfg->peers_len, sizeof(*keys), compare_key_ptrs);
	for (size_t i = 1; i < cfg->peers_len && !ret; i++)
		ret = !memcmp(keys[i - 1], keys[i], NOISE_PUBLIC_KEY_LEN);
	free(keys);
	return ret;
}
