/* SPDX-License-Identifier: MIT */
/*
 * cfg_sync_diff: running + wanted -> one set request. Peers are matched by public key
 * through sorted index arrays, so a reload of thousands of peers stays O(n log n).
 */
#include <errno.h>
#include <netinet/in.h>
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

/* The indexed peer with this key (borrowed), or NULL. */
static const struct cfg_peer *key_index_lookup(const struct key_index *ki, const uint8_t *key)
{
	size_t lo = 0, hi = ki->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ki->peers[ki->idx[mid]].public_key, key, NOISE_PUBLIC_KEY_LEN);

		if (!c)
			return &ki->peers[ki->idx[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool key_index_has(const struct key_index *ki, const uint8_t *key)
{
	return key_index_lookup(ki, key) != NULL;
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

static bool has_list(const struct cfg_peer *p)
{
	return (p->flags & CFG_PEER_HAS_ENDPOINTS) && p->endpoints_len;
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
	/* with a failover list the worker keeps the entry it is on (endpoints.h) */
	if ((w->flags & CFG_PEER_HAS_ENDPOINT) && !has_list(w)) {
		p->endpoint = w->endpoint;
		p->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	if (w->flags & CFG_PEER_HAS_ENDPOINTS) /* wgd's failover list (endpoints.h) */
		ret = cfg_peer_set_endpoints(p, w->endpoints, w->endpoints_len);
	for (size_t i = 0; !ret && i < w->allowedips_len; i++) {
		if (!w->allowedips[i].is_removal)
			ret = cfg_peer_add_allowedip(p, &w->allowedips[i]);
	}
	return ret;
}

/* Whether the running peer with key has a failover list (wgd/endpoints.h). */
static bool runs_with_list(const struct cfg_device *running, const uint8_t *key)
{
	for (size_t i = 0; i < running->peers_len; i++)
		if (!memcmp(running->peers[i].public_key, key, NOISE_PUBLIC_KEY_LEN))
			return running->peers[i].endpoints_len > 0;
	return false;
}

/*
 * A wanted peer that names no list loses the one it runs with (an `Endpoint = A, B'
 * reloaded as `Endpoint = A'). Searched only when some running peer has a list.
 */
static int drop_stale_lists(struct cfg_device *out, const struct cfg_device *running)
{
	bool any = false;
	int ret = 0;

	for (size_t i = 0; i < running->peers_len && !any; i++)
		any = running->peers[i].endpoints_len > 0;
	for (size_t i = 0; any && !ret && i < out->peers_len; i++) {
		struct cfg_peer *p = &out->peers[i];

		if (!(p->flags & (CFG_PEER_REMOVE_ME | CFG_PEER_HAS_ENDPOINTS)) &&
		    runs_with_list(running, p->public_key))
			ret = cfg_peer_set_endpoints(p, NULL, 0);
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
	return ret ? ret : drop_stale_lists(out, running);
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

/* --- counting what a diff changes ---------------------------------------------------- */

static int cmp_allowedip(const void *a, const void *b)
{
	const struct cfg_allowedip *x = a, *y = b;
	size_t len = x->family == AF_INET6 ? sizeof(x->ip6) : sizeof(x->ip4);
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->cidr != y->cidr)
		return x->cidr < y->cidr ? -1 : 1;
	c = memcmp(&x->ip6, &y->ip6, len);
	return c;
}

/* Clears the host bits, as the allowed-IPs trie stores a prefix. */
static void mask_allowedip(struct cfg_allowedip *a)
{
	size_t bytes = a->family == AF_INET6 ? 16 : 4;
	uint8_t *b = a->family == AF_INET6 ? a->ip6.s6_addr : (uint8_t *)&a->ip4;

	for (size_t i = 0; i < bytes; i++) {
		int keep = (int)a->cidr - (int)(i * 8);

		b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

/* The peer's allowed IPs (removal entries dropped), masked, sorted and without repeats. */
static int sorted_allowedips(struct cfg_allowedip **out, size_t *len, const struct cfg_peer *p)
{
	struct cfg_allowedip *a = calloc(p->allowedips_len ? p->allowedips_len : 1, sizeof(*a));
	size_t n = 0, k = 0;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < p->allowedips_len; i++) {
		if (p->allowedips[i].is_removal)
			continue;
		a[n] = p->allowedips[i];
		mask_allowedip(&a[n++]);
	}
	qsort(a, n, sizeof(*a), cmp_allowedip);
	for (size_t i = 0; i < n; i++) {
		if (!k || cmp_allowedip(&a[k - 1], &a[i]))
			a[k++] = a[i];
	}
	*out = a;
	*len = k;
	return 0;
}

/* 1 when the two peers hold the same allowed-IP set, 0 when not, -ENOMEM. */
static int same_allowedips(const struct cfg_peer *x, const struct cfg_peer *y)
{
	struct cfg_allowedip *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int ret;

	ret = sorted_allowedips(&a, &alen, x);
	ret = ret ?: sorted_allowedips(&b, &blen, y);
	if (!ret) {
		ret = alen == blen;
		for (size_t i = 0; ret && i < alen; i++)
			ret = !cmp_allowedip(&a[i], &b[i]);
	}
	free(a);
	free(b);
	return ret;
}

static bool same_endpoint(const union cfg_sockaddr *a, const union cfg_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port &&
	       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) &&
	       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
}

static bool same_endpoint_list(const struct cfg_peer *run, const struct cfg_peer *want)
{
	if (run->endpoints_len != want->endpoints_len)
		return false;
	for (size_t i = 0; i < want->endpoints_len; i++) {
		const struct cfg_endpoint *a = &run->endpoints[i], *b = &want->endpoints[i];

		if (strcmp(a->name, b->name) || a->addr.sa.sa_family != b->addr.sa.sa_family ||
		    (a->addr.sa.sa_family && !same_endpoint(&a->addr, &b->addr)))
			return false;
	}
	return true;
}

/*
 * What applying wanted's entry (add_wanted) to the running peer changes: CFG_SYNC_FIELD_*
 * bits, 0 for nothing, or -ENOMEM.
 */
static int peer_changes(const struct cfg_peer *run, const struct cfg_peer *want)
{
	uint8_t want_psk[NOISE_SYMMETRIC_KEY_LEN] = { 0 },
		have_psk[NOISE_SYMMETRIC_KEY_LEN] = { 0 };
	uint16_t want_ka =
		want->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE ? want->persistent_keepalive_s : 0;
	uint16_t have_ka =
		run->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE ? run->persistent_keepalive_s : 0;
	int fields = 0, same;

	if (want->flags & CFG_PEER_HAS_PRESHARED_KEY)
		memcpy(want_psk, want->preshared_key, sizeof(want_psk));
	if (run->flags & CFG_PEER_HAS_PRESHARED_KEY)
		memcpy(have_psk, run->preshared_key, sizeof(have_psk));
	if (!key_equal(want_psk, have_psk))
		fields |= CFG_SYNC_FIELD_PRESHARED_KEY;
	if (want_ka != have_ka)
		fields |= CFG_SYNC_FIELD_KEEPALIVE;
	wipe(want_psk, sizeof(want_psk));
	wipe(have_psk, sizeof(have_psk));
	if ((want->flags & CFG_PEER_HAS_ENDPOINT) && !has_list(want) &&
	    (!(run->flags & CFG_PEER_HAS_ENDPOINT) ||
	     !same_endpoint(&run->endpoint, &want->endpoint)))
		fields |= CFG_SYNC_FIELD_ENDPOINT;
	/* a list that differs, or one dropped from the file (drop_stale_lists clears it) */
	if ((want->flags & CFG_PEER_HAS_ENDPOINTS) ? !same_endpoint_list(run, want)
						   : run->endpoints_len > 0)
		fields |= CFG_SYNC_FIELD_ENDPOINT;
	same = same_allowedips(run, want);
	if (same < 0)
		return same;
	return fields | (same ? 0 : CFG_SYNC_FIELD_ALLOWEDIPS);
}

static void count_device(struct cfg_sync_counts *out, const struct cfg_device *running,
			 const struct cfg_device *wanted)
{
	struct cfg_device diff = { 0 };

	sync_device(&diff, running, wanted);
	out->is_private_key_changed = diff.flags & CFG_DEV_HAS_PRIVATE_KEY;
	out->is_fwmark_changed = diff.flags & CFG_DEV_HAS_FWMARK;
	out->is_listen_port_changed = diff.flags & CFG_DEV_HAS_LISTEN_PORT;
	wipe(diff.private_key, sizeof(diff.private_key));
}

/* Each wanted peer, in wanted's order, against the running index. */
static int walk_wanted(const struct cfg_device *wanted, const struct key_index *run,
		       cfg_sync_peer_fn fn, void *ctx)
{
	for (size_t i = 0; i < wanted->peers_len; i++) {
		const struct cfg_peer *w = &wanted->peers[i];
		const struct cfg_peer *r;
		int ret;

		if (!is_wanted(w))
			continue;
		r = key_index_lookup(run, w->public_key);
		ret = r ? peer_changes(r, w) : 0;
		ret = ret < 0 ? ret : fn(ctx, r, w, ret);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int cfg_sync_walk(struct cfg_sync_counts *out, const struct cfg_device *running,
		  const struct cfg_device *wanted, cfg_sync_peer_fn fn, void *ctx)
{
	struct key_index want = { 0 }, run = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = key_index_init(&want, wanted);
	if (!ret && key_index_init(&run, running) == -ENOMEM)
		ret = -ENOMEM; /* a daemon never reports a key twice; if one did, any match does */
	if (!ret) {
		count_device(out, running, wanted);
		for (size_t i = 0; !ret && i < running->peers_len; i++) {
			if (!key_index_has(&want, running->peers[i].public_key))
				ret = fn(ctx, &running->peers[i], NULL, 0);
		}
		ret = ret ?: walk_wanted(wanted, &run, fn, ctx);
	}
	free(want.idx);
	free(run.idx);
	return ret;
}

static int count_peer(void *ctx, const struct cfg_peer *run, const struct cfg_peer *want,
		      int fields)
{
	struct cfg_sync_counts *c = ctx;

	if (!want)
		c->peers_removed++;
	else if (!run)
		c->peers_added++;
	else if (fields)
		c->peers_changed++;
	else
		c->peers_unchanged++;
	return 0;
}

int cfg_sync_count(struct cfg_sync_counts *out, const struct cfg_device *running,
		   const struct cfg_device *wanted)
{
	/* cfg_sync_walk clears *out before the first count_peer adds to it */
	return cfg_sync_walk(out, running, wanted, count_peer, out);
}
