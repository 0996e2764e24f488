/* SPDX-License-Identifier: MIT */
/*
 * Looking a resolved endpoint name up again when its peer's handshake is stale
 * (resolver.h): what wireguard-tools' contrib/reresolve-dns/reresolve-dns.sh does from
 * cron, here every RESOLVER_STALE_CHECK_S in the supervisor, with the lookup in the
 * resolver's unprivileged child as any other. The worker is only asked for its counters
 * (a UAPI get); nothing here waits on DNS.
 */
#include <string.h>

#include "wgd/clock.h"
#include "wgd/conf.h"
#include "wgd/log.h"
#include "wgd/resolver.h"
#include "wgd/uapi_client.h"

enum { NS_PER_S = 1000000000 };

bool resolver_is_stale(uint64_t now_unix_ns, uint64_t last_handshake_unix_ns, bool has_traffic,
		       bool has_keepalive)
{
	if (!has_traffic && !has_keepalive)
		return false; /* an idle peer starts no handshake: nothing to fix */
	if (!last_handshake_unix_ns)
		return true;
	return now_unix_ns > last_handshake_unix_ns &&
	       now_unix_ns - last_handshake_unix_ns > (uint64_t)RESOLVER_STALE_S * NS_PER_S;
}

static const struct cfg_peer *find_peer(const struct cfg_device *cfg, const uint8_t *key)
{
	for (size_t i = 0; i < cfg->peers_len; i++)
		if (!memcmp(cfg->peers[i].public_key, key, NOISE_PUBLIC_KEY_LEN))
			return &cfg->peers[i]; /* public keys are not secret */
	return NULL;
}

size_t resolver_mark_stale(struct resolver_job *jobs, size_t n, const struct uapi_state *st,
			   uint64_t now_unix_ns, uint64_t now_ns)
{
	size_t marked = 0;

	for (size_t i = 0; i < n; i++) {
		struct resolver_job *j = &jobs[i];
		const struct cfg_peer *peer = find_peer(&st->cfg, j->public_key);
		const struct uapi_peer_state *ps;
		uint64_t last;
		bool sent;

		if (!peer)
			continue;
		ps = &st->peer_state[peer - st->cfg.peers];
		sent = ps->tx_bytes != j->prev_tx_bytes;
		j->prev_tx_bytes = ps->tx_bytes;
		if (!j->is_done || j->is_asked)
			continue; /* still being resolved anyway */
		last = ps->last_handshake_sec * NS_PER_S + ps->last_handshake_nsec;
		if (!resolver_is_stale(now_unix_ns, last, sent, peer->persistent_keepalive_s))
			continue;
		j->is_done = false;
		j->retry_ns = now_ns;
		marked++;
	}
	return marked;
}

void resolver_stale_check(struct resolver *r, uint64_t now_ns)
{
	const struct uapi_client_bounds b =
		uapi_client_worker_bounds(r->conf ? &r->conf->dev : NULL);
	struct uapi_state st = { 0 };
	char why[128];
	size_t marked;
	int ret;

	r->stale_check_ns = now_ns + (uint64_t)RESOLVER_STALE_CHECK_S * NS_PER_S;
	ret = uapi_client_get_bounded(r->ifname, &st, &b);
	if (ret < 0) {
		log_verbose("Endpoint resolver: cannot read the peers: %s",
			    uapi_client_worker_strerror(ret, &b, why, sizeof(why)));
		return;
	}
	marked = resolver_mark_stale(r->jobs, r->jobs_len, &st, clock_realtime_ns(), now_ns);
	uapi_state_clear(&st);
	if (marked)
		log_verbose("Endpoint resolver: %zu name(s) of peers with a stale handshake to "
			    "look up again",
			    marked);
}
