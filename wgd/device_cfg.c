/* SPDX-License-Identifier: MIT */
/*
 * device_apply_cfg: one configuration request (a UAPI set=1 message) committed whole or
 * not at all. Semantics follow wireguard-go's device/uapi.go and the kernel's netlink.c,
 * applied in message order:
 *   - replace_peers removes every existing peer first (sessions included);
 *   - private_key: equal to the current key changes nothing (sessions survive `wg
 *     syncconf`); all zero removes the identity; a new key removes the peer whose public
 *     key equals the new public key, recomputes every peer's static-static DH and
 *     expires current sessions (the next packet handshakes);
 *   - a peer whose public key is our own is silently ignored;
 *   - remove deletes the peer; update_only skips a peer that does not exist;
 *   - replace_allowed_ips drops the peer's routes before its allowed_ip lines;
 *     "-a.b.c.d/n" (is_removal) removes one route if this peer owns it;
 *   - preshared_key all zero = none; persistent_keepalive going from off to on sends a
 *     keepalive at once (which starts a handshake), as both references do;
 *   - listen_port: a port different from the bound one (0 = a new random port) binds new
 *     sockets; fwmark 0 clears the mark.
 *
 * Atomicity: every step that can fail runs first, against copies — new peers are built
 * but not linked, table room is reserved, a request that adds routes gets a rebuilt copy
 * of the allowed-IPs table, and the new socket is bound and watched beside the old one.
 * Only then does the commit run, and nothing in it can fail. An abort frees the copies,
 * so the device is exactly as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "wgd/device.h"
#include "wgd/endpoints.h"
#include "wgd/log.h"
#include "wgd/peer.h"

_Static_assert(sizeof(union cfg_sockaddr) == sizeof(union endpoint_addr), "endpoint layout");

enum plan_flags {
	PLAN_CREATED = 1U << 0,	     /* the target was built for this request */
	PLAN_KEEPALIVE_ON = 1U << 1, /* persistent keepalive goes from off to on */
};

struct cfg_plan {
	struct noise_static_identity identity; /* the identity after the request */
	bool is_new_identity;
	struct peer *own_key_peer;	 /* existing peer holding the new public key */
	struct peer **targets;		 /* per cfg peer: the peer it applies to, or NULL */
	struct cfg_endpoint **endpoints; /* per cfg peer: its list's copy, given at commit */
	uint8_t *flags;			 /* per cfg peer: enum plan_flags */
	struct allowedips table;	 /* the rebuilt table, when has_table */
	bool has_table;
	struct udp_socket sock; /* the new socket, when is_rebind */
	bool is_rebind;
	uint32_t fwmark;
	uint64_t next_peer_id; /* restored on abort */
};

static int check_peer(const struct cfg_peer *cp)
{
	int family = cp->endpoint.sa.sa_family;

	if ((cp->flags & CFG_PEER_HAS_ENDPOINT) && family != AF_INET && family != AF_INET6)
		return -EINVAL;
	for (size_t i = 0; i < cp->allowedips_len; i++) {
		const struct cfg_allowedip *a = &cp->allowedips[i];

		if (a->family == AF_INET ? a->cidr > 32 : a->family != AF_INET6 || a->cidr > 128)
			return -EINVAL;
	}
	return 0;
}

static void plan_identity(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	plan->identity = dev->identity;
	if (!(cfg->flags & CFG_DEV_HAS_PRIVATE_KEY))
		return;
	noise_static_identity_set(&plan->identity, cfg->private_key);
	if (plan->identity.has_identity == dev->identity.has_identity &&
	    (!plan->identity.has_identity ||
	     key_equal(plan->identity.static_private, dev->identity.static_private)))
		return;
	plan->is_new_identity = true;
	if (plan->identity.has_identity && !(cfg->flags & CFG_DEV_REPLACE_PEERS))
		plan->own_key_peer = device_lookup_peer(dev, plan->identity.static_public);
}

/* The list's copy, made now so that the commit cannot fail (endpoints.h). */
static int plan_endpoints(const struct cfg_peer *cp, struct cfg_plan *plan, size_t i)
{
	if (!(cp->flags & CFG_PEER_HAS_ENDPOINTS) || !cp->endpoints_len)
		return 0;
	if (cp->endpoints_len > CFG_ENDPOINTS_MAX)
		return -EINVAL;
	plan->endpoints[i] = malloc(cp->endpoints_len * sizeof(*cp->endpoints));
	if (!plan->endpoints[i])
		return -ENOMEM;
	memcpy(plan->endpoints[i], cp->endpoints, cp->endpoints_len * sizeof(*cp->endpoints));
	return 0;
}

/* Resolves each cfg peer to an existing or a new (unlinked) peer, and counts. */
static int plan_peers(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	bool replace_all = cfg->flags & CFG_DEV_REPLACE_PEERS;
	size_t removed = replace_all ? dev->peers_len : !!plan->own_key_peer, created = 0;
	const struct noise_static_identity *id = &plan->identity;
	int ret;

	for (size_t i = 0; i < cfg->peers_len; i++) {
		const struct cfg_peer *cp = &cfg->peers[i];
		struct peer *p;

		ret = check_peer(cp);
		if (ret < 0)
			return ret;
		if (id->has_identity && key_equal(cp->public_key, id->static_public))
			continue;
		p = replace_all ? NULL : device_lookup_peer(dev, cp->public_key);
		if (cp->flags & CFG_PEER_REMOVE_ME) {
			plan->targets[i] = p;
			removed += !!p;
			continue;
		}
		if (!p && (cp->flags & CFG_PEER_UPDATE_ONLY))
			continue;
		if (!p) {
			ret = peer_create(&p, dev, cp->public_key, NULL);
			if (ret < 0)
				return ret;
			plan->flags[i] |= PLAN_CREATED;
			created++;
		}
		plan->targets[i] = p;
		ret = plan_endpoints(cp, plan, i);
		if (ret < 0)
			return ret;
	}
	if (dev->peers_len - removed + created > MAX_PEERS_PER_DEVICE)
		return -ENOSPC;
	return 0;
}

static int reserve_tables(struct device *dev, size_t created)
{
	size_t peers = dev->peers_len + created;
	int ret = index_table_reserve(&dev->index, peers * PEER_MAX_INDICES);

	if (ret == 0)
		ret = pubkey_table_reserve(&dev->pubkeys, peers);
	if (ret == 0)
		ret = timers_heap_reserve(&dev->timers, peers);
	return ret;
}

/* Route operations of the request, in message order, on t (live table or copy). */
static int apply_peer_routes(struct allowedips *t, const struct cfg_peer *cp, struct peer *p)
{
	int ret;

	if (cp->flags & (CFG_PEER_REMOVE_ME | CFG_PEER_REPLACE_ALLOWEDIPS))
		allowedips_remove_by_peer(t, p);
	if (cp->flags & CFG_PEER_REMOVE_ME)
		return 0;
	for (size_t i = 0; i < cp->allowedips_len; i++) {
		const struct cfg_allowedip *a = &cp->allowedips[i];

		if (a->is_removal) {
			(void)allowedips_remove(t, a->family, &a->ip6, a->cidr, p);
			continue;
		}
		ret = allowedips_insert(t, a->family, &a->ip6, a->cidr, p);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct copy_ctx {
	struct allowedips *dst;
	struct peer *peer;
};

static int copy_route(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct copy_ctx *c = ctx;

	return allowedips_insert(c->dst, family, addr, cidr, c->peer);
}

/*
 * A request that inserts routes works on a copy: an insert may fail half way, and an
 * insert that re-assigns a prefix from another peer cannot be undone in place.
 */
static int plan_routes(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	bool inserts = false;
	struct peer *p;
	int ret = 0;

	for (size_t i = 0; i < cfg->peers_len && !inserts; i++)
		for (size_t j = 0; plan->targets[i] && j < cfg->peers[i].allowedips_len; j++)
			inserts |= !cfg->peers[i].allowedips[j].is_removal;
	if (!inserts)
		return 0;
	allowedips_init(&plan->table);
	plan->has_table = true;
	if (!(cfg->flags & CFG_DEV_REPLACE_PEERS)) {
		for (p = dev->peers_first; p; p = p->next) {
			struct copy_ctx c = { &plan->table, p };

			if (p == plan->own_key_peer)
				continue;
			ret = allowedips_walk_by_peer(&dev->allowedips, p, copy_route, &c);
			if (ret < 0)
				return ret;
		}
	}
	for (size_t i = 0; i < cfg->peers_len && ret == 0; i++)
		if (plan->targets[i])
			ret = apply_peer_routes(&plan->table, &cfg->peers[i], plan->targets[i]);
	return ret;
}

/* The last fallible step: a new socket beside the old one, or the mark on the old one. */
static int plan_socket(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	unsigned int bank = dev->udp_bank ^ 1;
	int ret;

	plan->fwmark = (cfg->flags & CFG_DEV_HAS_FWMARK) ? cfg->fwmark : dev->fwmark;
	if (plan->fwmark && plan->fwmark != dev->fwmark && dev->is_fwmark_refused) {
		log_error("Cannot set fwmark: the worker dropped CAP_NET_ADMIN, since the "
			  "configuration had no FwMark at start; add FwMark and restart wgd");
		return -EPERM;
	}
	udp_socket_init(&plan->sock);
	if ((cfg->flags & CFG_DEV_HAS_LISTEN_PORT) && cfg->listen_port != dev->sock.port) {
		ret = udp_socket_open(&plan->sock, cfg->listen_port, plan->fwmark);
		if (ret < 0)
			return ret;
		ret = device_watch_socket(dev, bank, &plan->sock);
		if (ret < 0) {
			udp_socket_close(&plan->sock);
			return ret;
		}
		plan->is_rebind = true;
		return 0;
	}
	if (plan->fwmark != dev->fwmark)
		return udp_socket_set_fwmark(&dev->sock, plan->fwmark);
	return 0;
}

static void plan_abort(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	for (size_t i = 0; plan->flags && i < cfg->peers_len; i++)
		if (plan->flags[i] & PLAN_CREATED)
			peer_destroy(plan->targets[i]);
	if (plan->has_table)
		allowedips_free(&plan->table);
	dev->next_peer_id = plan->next_peer_id;
}

static void plan_free(struct cfg_plan *plan, size_t peers)
{
	for (size_t i = 0; plan->endpoints && i < peers; i++)
		free(plan->endpoints[i]);
	free(plan->endpoints);
	free(plan->targets);
	free(plan->flags);
	noise_static_identity_clear(&plan->identity);
}

static void commit_socket(struct device *dev, struct cfg_plan *plan)
{
	if (plan->is_rebind) {
		device_unwatch_socket(dev, dev->udp_bank);
		udp_socket_close(&dev->sock);
		dev->sock = plan->sock;
		dev->udp_bank ^= 1;
		log_info("Listening on UDP port %u", dev->sock.port);
	}
	dev->fwmark = plan->fwmark;
}

static void commit_identity(struct device *dev, struct cfg_plan *plan)
{
	struct peer *p;

	if (!plan->is_new_identity)
		return;
	dev->identity = plan->identity;
	if (dev->identity.has_identity)
		cookie_checker_init(&dev->cookie_checker, dev->identity.static_public);
	else
		cookie_checker_clear(&dev->cookie_checker);
	for (p = dev->peers_first; p; p = p->next) {
		noise_handshake_precompute(&p->handshake, &dev->identity);
		peer_expire_current_keypairs(p);
	}
}

/* Settings of one surviving or new peer; routes are handled by the caller. */
static void commit_peer_settings(struct device *dev, const struct cfg_peer *cp, struct peer *p,
				 uint8_t *flags, struct cfg_endpoint **endpoints)
{
	if (cp->flags & CFG_PEER_HAS_PRESHARED_KEY)
		noise_handshake_set_preshared_key(
			&p->handshake, key_is_zero(cp->preshared_key) ? NULL : cp->preshared_key);
	if (cp->flags & CFG_PEER_HAS_ENDPOINT) {
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		memcpy(&p->endpoint.addr, &cp->endpoint, sizeof(p->endpoint.addr));
	}
	if (cp->flags & CFG_PEER_HAS_ENDPOINTS) {
		endpoints_peer_install(p, *endpoints, *endpoints ? cp->endpoints_len : 0);
		*endpoints = NULL;
	}
	if (cp->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE) {
		if (!p->persistent_keepalive_s && cp->persistent_keepalive_s && dev->is_up)
			*flags |= PLAN_KEEPALIVE_ON;
		p->persistent_keepalive_s = cp->persistent_keepalive_s;
	}
}

static void commit_peers(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan)
{
	for (size_t i = 0; i < cfg->peers_len; i++) {
		const struct cfg_peer *cp = &cfg->peers[i];
		struct peer *p = plan->targets[i];

		if (!p)
			continue;
		/* Without a rebuilt table the request only removes routes: cannot fail. */
		if (!plan->has_table)
			(void)apply_peer_routes(&dev->allowedips, cp, p);
		if (cp->flags & CFG_PEER_REMOVE_ME) {
			device_remove_peer(dev, p);
			plan->targets[i] = NULL;
			continue;
		}
		if (plan->flags[i] & PLAN_CREATED) {
			device_link_peer(dev, p);
			log_verbose("Peer %llu created", (unsigned long long)p->id);
		}
		commit_peer_settings(dev, cp, p, &plan->flags[i], &plan->endpoints[i]);
	}
	if (plan->has_table) {
		allowedips_free(&dev->allowedips);
		dev->allowedips = plan->table;
		plan->has_table = false;
	}
}

static void commit(struct device *dev, const struct cfg_device *cfg, struct cfg_plan *plan,
		   uint64_t now_ns)
{
	bool gained_identity = plan->is_new_identity && !dev->identity.has_identity;
	struct peer *p;

	commit_socket(dev, plan);
	if (cfg->flags & CFG_DEV_REPLACE_PEERS) {
		while (dev->peers_first)
			device_remove_peer(dev, dev->peers_first);
	} else if (plan->own_key_peer) {
		device_remove_peer(dev, plan->own_key_peer);
	}
	commit_peers(dev, cfg, plan);
	commit_identity(dev, plan);
	for (size_t i = 0; i < cfg->peers_len; i++)
		if (plan->targets[i] && (plan->flags[i] & PLAN_KEEPALIVE_ON))
			send_keepalive(plan->targets[i], now_ns);
	/* Packets staged while we had no identity can go now (kernel's set_device). */
	if (gained_identity && dev->identity.has_identity)
		for (p = dev->peers_first; p; p = p->next)
			send_staged_packets(p, now_ns);
}

int device_apply_cfg(struct device *dev, const struct cfg_device *cfg, uint64_t now_ns)
{
	struct cfg_plan plan = { .next_peer_id = dev->next_peer_id };
	size_t created = 0;
	int ret;

	/* a public key twice in one request is ambiguous; the UAPI parser refuses it too */
	ret = cfg_device_has_duplicate_peers(cfg);
	if (ret)
		return ret < 0 ? ret : -EINVAL;
	plan.targets = calloc(cfg->peers_len ? cfg->peers_len : 1, sizeof(*plan.targets));
	plan.flags = calloc(cfg->peers_len ? cfg->peers_len : 1, sizeof(*plan.flags));
	plan.endpoints = calloc(cfg->peers_len ? cfg->peers_len : 1, sizeof(*plan.endpoints));
	if (!plan.targets || !plan.flags || !plan.endpoints) {
		ret = -ENOMEM;
		goto out;
	}
	plan_identity(dev, cfg, &plan);
	ret = plan_peers(dev, cfg, &plan);
	for (size_t i = 0; i < cfg->peers_len; i++)
		created += !!(plan.flags[i] & PLAN_CREATED);
	if (ret == 0)
		ret = reserve_tables(dev, created);
	if (ret == 0)
		ret = plan_routes(dev, cfg, &plan);
	if (ret == 0)
		ret = plan_socket(dev, cfg, &plan);
	if (ret < 0) {
		plan_abort(dev, cfg, &plan);
		goto out;
	}
	commit(dev, cfg, &plan, now_ns);
	device_rearm(dev);
out:
	plan_free(&plan, cfg->peers_len);
	return ret;
}
