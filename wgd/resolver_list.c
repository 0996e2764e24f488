/* SPDX-License-Identifier: MIT */
/*
 * The resolver's failover lists (resolver.h, endpoints.h): the jobs a config's names make,
 * a listed name's address applied as the whole list, and looking a resolved name up
 * again when its peer's handshake is stale: what wireguard-tools'
 * contrib/reresolve-dns/reresolve-dns.sh does from cron, here every
 * RESOLVER_STALE_CHECK_S in the supervisor, with the lookup in the resolver's
 * unprivileged child as any other. The worker is only asked for its counters (a UAPI
 * get); nothing here waits on DNS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wgd/clock.h"
#include "wgd/conf.h"
#include "wgd/log.h"
#include "wgd/resolver.h"
#include "wgd/socket.h"
#include "wgd/uapi_client.h"

enum { NS_PER_S = 1000000000 };

/* A job for host (its port): in the peer's failover list at entry, or alone. */
static int job_add(struct resolver *r, const uint8_t *key, const char *host, size_t host_len,
		   uint16_t port, int entry, uint64_t now_ns)
{
	struct resolver_job *j = &r->jobs[r->jobs_len];

	j->host = strndup(host, host_len);
	if (!j->host)
		return -ENOMEM;
	memcpy(j->public_key, key, sizeof(j->public_key));
	j->port = port;
	j->retry_ns = now_ns;
	j->is_listed = entry >= 0;
	j->entry = (uint8_t)(entry >= 0 ? entry : 0);
	r->jobs_len++;
	return 0;
}

static size_t names_of(const struct conf *c, size_t i)
{
	const struct cfg_peer *peer = &c->dev.peers[i];
	size_t n = 0;

	if (!(peer->flags & CFG_PEER_HAS_ENDPOINTS))
		return c->peer_extra[i].is_endpoint_name;
	for (size_t k = 0; k < peer->endpoints_len; k++)
		n += !!peer->endpoints[k].name[0];
	return n;
}

int resolver_jobs_from_conf(struct resolver *r, const struct conf *c, uint64_t now_ns)
{
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < c->dev.peers_len; i++)
		n += names_of(c, i);
	if (!n)
		return 0;
	r->jobs = calloc(n, sizeof(*r->jobs));
	if (!r->jobs)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < c->dev.peers_len; i++) {
		const struct conf_peer_extra *x = &c->peer_extra[i];
		const struct cfg_peer *peer = &c->dev.peers[i];

		if (!(peer->flags & CFG_PEER_HAS_ENDPOINTS)) {
			if (x->is_endpoint_name)
				ret = job_add(r, peer->public_key, x->endpoint_host,
					      strlen(x->endpoint_host), x->endpoint_port, -1,
					      now_ns);
			continue;
		}
		for (size_t k = 0; !ret && k < peer->endpoints_len; k++) {
			const char *name = peer->endpoints[k].name, *colon = strrchr(name, ':');

			if (name[0] && colon) /* "host:port", as conf_keys.c wrote it */
				ret = job_add(r, peer->public_key, name, (size_t)(colon - name),
					      (uint16_t)strtoul(colon + 1, NULL, 10), (int)k,
					      now_ns);
		}
	}
	r->stale_check_ns = now_ns + (uint64_t)RESOLVER_STALE_CHECK_S * NS_PER_S;
	return ret;
}

static void addr_text(char *out, size_t len, const union cfg_sockaddr *a)
{
	endpoint_to_string((const union endpoint_addr *)a, out, len);
}

/*
 * A listed name's address into the config's list, and the list into the worker (which
 * decides where the endpoint goes: endpoints.h). A lookup that found the address the
 * entry has changes nothing.
 */
void resolver_apply_listed(struct resolver *r, struct resolver_job *j,
			   const struct resolver_record *rec)
{
	const struct uapi_client_bounds b = uapi_client_worker_bounds(NULL);
	struct cfg_peer *want = r->conf ? cfg_device_find_peer(&r->conf->dev, j->public_key) : NULL;
	char tag[RESOLVER_PEER_TAG_LEN + 1], now[ENDPOINT_STRING_LEN], was[ENDPOINT_STRING_LEN];
	struct cfg_device dev = { 0 };
	struct cfg_peer *peer;
	struct cfg_endpoint *e;
	union cfg_sockaddr sa;
	char why[128];
	int ret = -ENOMEM;

	j->is_done = true;
	j->failures = 0;
	if (!want || j->entry >= want->endpoints_len)
		return; /* the config changed under us: its own jobs follow */
	e = &want->endpoints[j->entry];
	resolver_record_sockaddr(rec, &sa);
	resolver_peer_tag(tag, j->public_key);
	addr_text(now, sizeof(now), &sa);
	if (e->addr.sa.sa_family && !memcmp(&e->addr, &sa, sizeof(sa))) {
		log_verbose("peer %s...: endpoint %s still %s", tag, e->name, now);
		return;
	}
	addr_text(was, sizeof(was), &e->addr);
	peer = cfg_device_add_peer(&dev);
	if (peer) {
		memcpy(peer->public_key, j->public_key, sizeof(peer->public_key));
		peer->flags = CFG_PEER_UPDATE_ONLY;
		ret = cfg_peer_set_endpoints(peer, want->endpoints, want->endpoints_len);
	}
	if (!ret) {
		peer->endpoints[j->entry].addr = sa;
		ret = uapi_client_set_bounded(r->ifname, &dev, &b);
	}
	cfg_device_clear(&dev);
	if (ret < 0) {
		log_error("peer %s...: cannot set the endpoint %s: %s", tag, now,
			  uapi_client_worker_strerror(ret, &b, why, sizeof(why)));
		j->is_done = false; /* asked again after the backoff */
		(void)resolver_job_failed(j, RESOLVER_ERR_CHILD, 0, clock_boottime_ns());
		return;
	}
	if (e->addr.sa.sa_family)
		log_info("peer %s...: endpoint %s now %s (was %s)", tag, e->name, now, was);
	else
		log_info("peer %s...: endpoint host `%s' resolved to %s", tag, j->host, now);
	e->addr = sa;
}

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
