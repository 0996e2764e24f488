/* SPDX-License-Identifier: MIT */
/*
 * The keys of a multi-tenant hub (wgd.conf(5), "One hub, many customers" in README.md):
 * [Interface] Namespace (where the interface lives), VRF (the VRF device it is enslaved
 * to), Isolate (its peers reach only what their Reach lists); [Peer] Reach (the
 * destinations packets from that peer may be forwarded to; reach.h enforces it).
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wgd/conf_parse.h"

enum { CONF_MAX_NETNS = 64 }; /* ip-netns(8) allows more; a name in a file stays short */

/* Letters, digits, '_', '-', '.'; not "." or "..": a file name in /run/netns. */
static bool is_netns_name(const char *v, size_t max)
{
	size_t len = strlen(v);

	if (!len || len > max || !strcmp(v, ".") || !strcmp(v, ".."))
		return false;
	for (const char *c = v; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_-.", *c))
			return false;
	return true;
}

bool conf_parse_namespace(struct conf_parse *p, const char *v)
{
	if (!is_netns_name(v, CONF_MAX_NETNS))
		return conf_fail(p,
				 "invalid Namespace `%s' (expected a name in /run/netns: "
				 "letters, digits, `_', `-', `.')",
				 v);
	p->conf->netns = strdup(v);
	return p->conf->netns ? true : conf_oom(p);
}

bool conf_parse_vrf(struct conf_parse *p, const char *v)
{
	/* a link name: at most IFNAMSIZ - 1 bytes, no '/' (dev_valid_name) */
	if (!is_netns_name(v, IFNAMSIZ - 1))
		return conf_fail(p, "invalid VRF `%s' (expected an interface name)", v);
	p->conf->vrf = strdup(v);
	return p->conf->vrf ? true : conf_oom(p);
}

bool conf_parse_isolate(struct conf_parse *p, const char *v)
{
	if (strcasecmp(v, "true") && strcasecmp(v, "false"))
		return conf_fail(p, "invalid Isolate `%s' (expected true or false)", v);
	p->conf->isolate = !strcasecmp(v, "true");
	return true;
}

static bool prefix_is_masked(const struct conf_prefix *pfx)
{
	const uint8_t *a = (const uint8_t *)&pfx->ip6;
	unsigned int bytes = pfx->family == AF_INET ? 4 : 16;

	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int bit = i * 8;
		uint8_t host = bit + 8 <= pfx->cidr ? 0
			       : bit < pfx->cidr    ? 0xff >> (pfx->cidr - bit)
						    : 0xff;

		if (a[i] & host)
			return false;
	}
	return true;
}

static bool add_reach(struct conf_parse *p, const char *item, size_t len)
{
	struct conf_peer_extra *x = &p->conf->peer_extra[p->conf->dev.peers_len - 1];
	struct conf_prefix pfx = { 0 }, *arr;

	if (!len)
		return conf_fail(p, "empty entry in Reach");
	if (!conf_parse_prefix(item, len, &pfx))
		return conf_fail(p, "invalid Reach entry `%.*s' (expected a prefix)", (int)len,
				 item);
	/* nft would take it and silently widen it: say so instead */
	if (!prefix_is_masked(&pfx))
		return conf_fail(p, "Reach entry `%.*s' has a nonzero host part", (int)len, item);
	arr = realloc(x->reach, (x->reach_len + 1) * sizeof(*arr));
	if (!arr)
		return conf_oom(p);
	x->reach = arr;
	x->reach[x->reach_len++] = pfx;
	return true;
}

bool conf_parse_reach(struct conf_parse *p, const char *v)
{
	return conf_each_item(p, v, add_reach);
}
