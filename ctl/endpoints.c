/* SPDX-License-Identifier: MIT */
/*
 * wgd's endpoint lists (wgd/endpoints.h) in wgctl's show, --json and metrics: the name of
 * the entry the peer's endpoint came from, beside the address, and the whole list with
 * its failover count. Peers without a list print exactly as wg(8) prints them.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/term.h"

const char *ctl_endpoint_name(const struct cfg_peer *p)
{
	const union cfg_sockaddr *ep = &p->endpoint;

	if (!(p->flags & CFG_PEER_HAS_ENDPOINT))
		return NULL;
	for (size_t i = 0; i < p->endpoints_len; i++) {
		const union cfg_sockaddr *a = &p->endpoints[i].addr;

		if (!p->endpoints[i].name[0] || a->sa.sa_family != ep->sa.sa_family)
			continue;
		if (a->sa.sa_family == AF_INET && a->in4.sin_port == ep->in4.sin_port &&
		    a->in4.sin_addr.s_addr == ep->in4.sin_addr.s_addr)
			return p->endpoints[i].name;
		if (a->sa.sa_family == AF_INET6 && a->in6.sin6_port == ep->in6.sin6_port &&
		    !memcmp(&a->in6.sin6_addr, &ep->in6.sin6_addr, sizeof(a->in6.sin6_addr)))
			return p->endpoints[i].name;
	}
	return NULL;
}

/* "NAME (ADDR)", "ADDR" or "NAME (unresolved)" for entry i. */
static void entry_text(char *buf, size_t len, const struct cfg_endpoint *e)
{
	char addr[INET6_ADDRSTRLEN + 16] = "unresolved";

	if (e->addr.sa.sa_family)
		ctl_endpoint_text(addr, sizeof(addr), &e->addr);
	if (e->name[0])
		snprintf(buf, len, "%s (%s)", e->name, addr);
	else
		snprintf(buf, len, "%s", addr);
}

void ctl_show_endpoints(const struct show_ctx *c, const struct cfg_peer *p,
			const struct uapi_peer_state *ps)
{
	char text[CFG_ENDPOINT_NAME_LEN + INET6_ADDRSTRLEN + 32];

	if (!p->endpoints_len)
		return;
	ctl_tprintf(c->out, c->color, "  " TERM_BOLD "endpoints" TERM_RESET ": ");
	for (size_t i = 0; i < p->endpoints_len; i++) {
		entry_text(text, sizeof(text), &p->endpoints[i]);
		ctl_tprintf(c->out, c->color, "%s%s", i ? ", " : "", text);
	}
	ctl_tprintf(c->out, c->color, "; %" PRIu64 " switch%s\n", ps->endpoint_switches,
		    ps->endpoint_switches == 1 ? "" : "es");
}

void ctl_json_endpoints(FILE *f, const struct cfg_peer *p, const struct uapi_peer_state *ps,
			void (*str)(FILE *f, const char *s))
{
	char addr[INET6_ADDRSTRLEN + 16];
	const char *name = ctl_endpoint_name(p);

	if (!p->endpoints_len)
		return;
	fputs(",\n      \"endpoint_name\": ", f);
	if (name)
		str(f, name);
	else
		fputs("null", f);
	fputs(",\n      \"endpoints\": [", f);
	for (size_t i = 0; i < p->endpoints_len; i++) {
		const struct cfg_endpoint *e = &p->endpoints[i];

		fputs(i ? ", {\"name\": " : "{\"name\": ", f);
		if (e->name[0])
			str(f, e->name);
		else
			fputs("null", f);
		fputs(", \"address\": ", f);
		if (e->addr.sa.sa_family) {
			ctl_endpoint_text(addr, sizeof(addr), &e->addr);
			str(f, addr);
		} else {
			fputs("null", f);
		}
		fputs("}", f);
	}
	fprintf(f, "],\n      \"endpoint_switches\": %" PRIu64, ps->endpoint_switches);
}
