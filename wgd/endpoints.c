/* SPDX-License-Identifier: MIT */
/*
 * The failover list of a peer (endpoints.h): its UAPI text and the worker's choice of
 * endpoint. The worker never resolves a name: the supervisor sends addresses, and the
 * names only so that `wgctl show` can print them beside the address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wgd/endpoints.h"
#include "wgd/log.h"
#include "wgd/peer.h"
#include "wgd/socket.h"
#include "wgd/uapi.h"

_Static_assert(sizeof(union cfg_sockaddr) == sizeof(union endpoint_addr), "endpoint layout");
_Static_assert(CFG_ENDPOINTS_MAX <= UINT8_MAX, "peer_endpoints counts in uint8_t");

/* --- text ---------------------------------------------------------------------------- */

bool endpoints_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= CFG_ENDPOINT_NAME_LEN)
		return false;
	for (const char *c = name; *c; c++)
		if (*c <= ' ' || *c == 0x7f || *c == ',' || *c == '@' || *c == '=')
			return false;
	return true;
}

/* One entry "[NAME@]ADDR:PORT" or "NAME@" (len bytes at s) into *e. 0 or -EINVAL. */
static int parse_entry(struct cfg_endpoint *e, const char *s, size_t len)
{
	char buf[CFG_ENDPOINT_NAME_LEN + ENDPOINT_STRING_LEN];
	const char *at;

	memset(e, 0, sizeof(*e));
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	at = strchr(buf, '@');
	if (at) {
		size_t nlen = (size_t)(at - buf);

		if (nlen >= sizeof(e->name))
			return -EINVAL;
		memcpy(e->name, buf, nlen);
		e->name[nlen] = '\0';
		if (!endpoints_name_ok(e->name))
			return -EINVAL;
		if (!at[1])
			return 0; /* not resolved yet */
	}
	return endpoint_from_string((union endpoint_addr *)&e->addr, at ? at + 1 : buf);
}

int endpoints_parse(struct cfg_peer *peer, const char *v, size_t len)
{
	struct cfg_endpoint list[CFG_ENDPOINTS_MAX];
	size_t n = 0;

	while (len) {
		const char *comma = memchr(v, ',', len);
		size_t elen = comma ? (size_t)(comma - v) : len;

		if (n == CFG_ENDPOINTS_MAX || parse_entry(&list[n], v, elen) < 0)
			return -EINVAL;
		n++;
		if (!comma)
			break;
		if (elen + 1 == len)
			return -EINVAL; /* a trailing comma */
		v += elen + 1;
		len -= elen + 1;
	}
	return cfg_peer_set_endpoints(peer, list, n);
}

int endpoints_put(struct uapi_buf *b, const struct cfg_endpoint *list, size_t n)
{
	char addr[ENDPOINT_STRING_LEN];
	size_t start = b->len;
	int ret = uapi_buf_printf(b, "%s=", ENDPOINTS_KEY);

	for (size_t i = 0; !ret && i < n; i++) {
		const struct cfg_endpoint *e = &list[i];
		int family = e->addr.sa.sa_family;

		if ((e->name[0] && !endpoints_name_ok(e->name)) ||
		    (family != AF_INET && family != AF_INET6 && (family || !e->name[0])))
			ret = -EINVAL;
		if (ret)
			break;
		addr[0] = '\0';
		if (family)
			endpoint_to_string((const union endpoint_addr *)&e->addr, addr,
					   sizeof(addr));
		ret = uapi_buf_printf(b, "%s%s%s%s", i ? "," : "", e->name, e->name[0] ? "@" : "",
				      addr);
	}
	if (!ret)
		ret = uapi_buf_printf(b, "\n");
	if (ret)
		uapi_buf_truncate(b, start);
	return ret;
}

/* --- the worker's choice ------------------------------------------------------------- */

static bool is_resolved(const struct cfg_endpoint *e)
{
	return e->addr.sa.sa_family == AF_INET || e->addr.sa.sa_family == AF_INET6;
}

static void move_to(struct peer *p, size_t i)
{
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint.addr, &p->eps.list[i].addr, sizeof(p->endpoint.addr));
	p->eps.cur = (uint8_t)i;
}

/* The entry holding p's endpoint address, or n. */
static size_t find_addr(const struct peer *p)
{
	for (size_t i = 0; i < p->eps.len; i++)
		if (is_resolved(&p->eps.list[i]) &&
		    endpoint_addr_equal((const union endpoint_addr *)&p->eps.list[i].addr,
					&p->endpoint.addr))
			return i;
	return p->eps.len;
}

static size_t find_name(const struct peer *p, const char *name)
{
	for (size_t i = 0; name[0] && i < p->eps.len; i++)
		if (!strcmp(p->eps.list[i].name, name))
			return i;
	return p->eps.len;
}

static size_t first_resolved(const struct peer *p)
{
	size_t i = 0;

	while (i < p->eps.len && !is_resolved(&p->eps.list[i]))
		i++;
	return i;
}

void endpoints_peer_install(struct peer *p, struct cfg_endpoint *list, size_t n)
{
	char was_name[CFG_ENDPOINT_NAME_LEN] = "";
	bool was_on_cur = false;
	size_t i;

	if (p->eps.len) {
		/* on the current entry: a new address for its name is followed */
		was_on_cur = find_addr(p) == p->eps.cur;
		memcpy(was_name, p->eps.list[p->eps.cur].name, sizeof(was_name));
	}
	free(p->eps.list);
	p->eps.list = list;
	p->eps.len = (uint8_t)n;
	p->eps.cur = 0;
	if (!n)
		return;
	i = find_addr(p);
	if (i < n) {
		p->eps.cur = (uint8_t)i;
		/* a later entry taken while an earlier name did not resolve, never answered */
		if (!p->last_handshake_unix_ns && first_resolved(p) < i)
			move_to(p, first_resolved(p));
		return;
	}
	i = find_name(p, was_name);
	if (was_on_cur && i < n && is_resolved(&list[i])) {
		move_to(p, i);
		return;
	}
	if (p->endpoint.addr.sa.sa_family)
		return; /* an address from roaming or endpoint=: kept until it goes silent */
	if (first_resolved(p) < n)
		move_to(p, first_resolved(p));
}

bool endpoints_peer_failover(struct peer *p)
{
	char from[ENDPOINT_STRING_LEN], to[ENDPOINT_STRING_LEN];
	size_t n = p->eps.len, i;

	if (n < 2)
		return false;
	/* off the list (roamed away): its current entry is the next one to try */
	i = find_addr(p) < n ? (p->eps.cur + 1U) % n : p->eps.cur;
	for (size_t tries = 0; tries < n && !is_resolved(&p->eps.list[i]); tries++)
		i = (i + 1) % n;
	if (!is_resolved(&p->eps.list[i]) || find_addr(p) == i)
		return false;
	endpoint_to_string(&p->endpoint.addr, from, sizeof(from));
	move_to(p, i);
	endpoint_to_string(&p->endpoint.addr, to, sizeof(to));
	p->eps.switches++;
	log_info("Peer %llu: no handshake answer from %s; endpoint now %s%s%s%s",
		 (unsigned long long)p->id, from, to, p->eps.list[i].name[0] ? " (" : "",
		 p->eps.list[i].name, p->eps.list[i].name[0] ? ")" : "");
	return true;
}

void endpoints_peer_free(struct peer *p)
{
	free(p->eps.list);
	memset(&p->eps, 0, sizeof(p->eps));
}
