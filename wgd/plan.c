/* SPDX-License-Identifier: MIT */
/*
 * plan.h: the lists a plan holds, filled from cfg_sync_walk and from two ifconfig states,
 * and its two renderings. The text is for an admin ("+", "-", "~" as in a diff); the JSON
 * has a fixed key order, for Ansible's check_mode and CI jobs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "wgd/conf.h"
#include "wgd/plan.h"

static int peers_add(struct plan_peers *l, const uint8_t *key, int fields, const char *file)
{
	struct plan_peer *v;

	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	v = &l->v[l->len];
	memcpy(v->public_key, key, sizeof(v->public_key));
	v->fields = fields;
	v->file = NULL;
	if (file) {
		const char *slash = strrchr(file, '/');

		v->file = strdup(slash ? slash + 1 : file);
		if (!v->file)
			return -ENOMEM;
	}
	l->len++;
	return 0;
}

struct walk {
	struct plan *p;
	const struct cfg_device *wanted;
	const struct conf_peer_extra *extra;
};

static int on_peer(void *ctx, const struct cfg_peer *run, const struct cfg_peer *want, int fields)
{
	struct walk *w = ctx;
	const char *file = want && w->extra ? w->extra[want - w->wanted->peers].file : NULL;

	if (!want)
		return peers_add(&w->p->removed, run->public_key, 0, NULL);
	if (!run)
		return peers_add(&w->p->added, want->public_key, 0, file);
	if (fields)
		return peers_add(&w->p->changed, want->public_key, fields, file);
	w->p->unchanged++;
	return 0;
}

int plan_peers(struct plan *p, const struct cfg_device *running, const struct cfg_device *wanted,
	       const struct conf_peer_extra *extra)
{
	struct walk w = { p, wanted, extra };

	p->listen_port_from = running->listen_port;
	p->listen_port_to = wanted->listen_port;
	p->fwmark_from = running->flags & CFG_DEV_HAS_FWMARK ? running->fwmark : 0;
	p->fwmark_to = wanted->fwmark;
	return cfg_sync_walk(&p->device, running, wanted, on_peer, &w);
}

/* --- addresses and routes -------------------------------------------------------------- */

static int cmp_prefix(const struct rtnl_prefix *a, const struct rtnl_prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return memcmp(&a->ip6, &b->ip6, a->family == AF_INET6 ? sizeof(a->ip6) : sizeof(a->ip4));
}

static int cmp_addr(const void *a, const void *b)
{
	return cmp_prefix(a, b);
}

static int cmp_route(const void *a, const void *b)
{
	const struct ifconfig_route *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return cmp_prefix(&x->prefix, &y->prefix);
}

static int push(void **arr, size_t *len, size_t *cap, const void *item, size_t size)
{
	if (*len == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		void *a = realloc(*arr, n * size);

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = n;
	}
	memcpy((char *)*arr + *len * size, item, size);
	(*len)++;
	return 0;
}

struct set_out {
	void **arr;
	size_t *len, *cap;
};

/* Sorts both sets and appends the items only in before to removed, only in after to added. */
static int diff_sets(void *before, size_t n, void *after, size_t m, size_t size,
		     int (*cmp)(const void *, const void *), struct set_out added,
		     struct set_out removed)
{
	size_t i = 0, j = 0;
	int ret = 0;

	qsort(before, n, size, cmp);
	qsort(after, m, size, cmp);
	while (!ret && (i < n || j < m)) {
		const char *x = (char *)before + i * size, *y = (char *)after + j * size;
		int c = i == n ? 1 : j == m ? -1 : cmp(x, y);

		if (c < 0)
			ret = push(removed.arr, removed.len, removed.cap, x, size);
		else if (c > 0)
			ret = push(added.arr, added.len, added.cap, y, size);
		i += c <= 0;
		j += c >= 0;
	}
	return ret;
}

#define SET_OUT(s, field)                                                                          \
	((struct set_out){ (void **)&(s).field, &(s).field##_len, &(s).field##_cap })

int plan_interface(struct plan *p, struct ifconfig_state *have, struct ifconfig_state *want,
		   unsigned int mtu_to)
{
	int ret;

	p->mtu_from = have->mtu;
	p->mtu_to = mtu_to;
	ret = diff_sets(have->addrs, have->addrs_len, want->addrs, want->addrs_len,
			sizeof(*have->addrs), cmp_addr, SET_OUT(p->addrs_added, addrs),
			SET_OUT(p->addrs_removed, addrs));
	return ret
		       ?: diff_sets(have->routes, have->routes_len, want->routes, want->routes_len,
				    sizeof(*have->routes), cmp_route,
				    SET_OUT(p->routes_added, routes),
				    SET_OUT(p->routes_removed, routes));
}

bool plan_has_changes(const struct plan *p)
{
	const struct cfg_sync_counts *d = &p->device;

	return p->added.len || p->removed.len || p->changed.len || d->is_private_key_changed ||
	       d->is_fwmark_changed || d->is_listen_port_changed || p->addrs_added.addrs_len ||
	       p->addrs_removed.addrs_len || p->routes_added.routes_len ||
	       p->routes_removed.routes_len || p->mtu_from != p->mtu_to;
}

void plan_clear(struct plan *p)
{
	struct plan_peers *lists[] = { &p->added, &p->removed, &p->changed };

	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < lists[l]->len; i++)
			free(lists[l]->v[i].file);
		free(lists[l]->v);
	}
	ifconfig_state_clear(&p->addrs_added);
	ifconfig_state_clear(&p->addrs_removed);
	ifconfig_state_clear(&p->routes_added);
	ifconfig_state_clear(&p->routes_removed);
	memset(p, 0, sizeof(*p));
}

/* --- rendering ------------------------------------------------------------------------- */

static const char *const field_names[] = { "allowed-ips", "endpoint", "preshared-key",
					   "keepalive" };

static void prefix_text(char *buf, size_t len, const struct rtnl_prefix *pfx)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(pfx->family, &pfx->ip6, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, pfx->cidr);
}

static void route_text(char *buf, size_t len, const struct ifconfig_route *r)
{
	char pfx[INET6_ADDRSTRLEN + 8];

	prefix_text(pfx, sizeof(pfx), &r->prefix);
	if (r->table && r->table != 254)
		snprintf(buf, len, "%s table %u", pfx, r->table);
	else
		snprintf(buf, len, "%s", pfx);
}

static void text_peers(FILE *f, const char *sign, const struct plan_peers *l)
{
	char b64[KEY_B64_LEN + 1];

	for (size_t i = 0; i < l->len; i++) {
		const struct plan_peer *v = &l->v[i];
		const char *sep = ": ";

		key_to_base64(b64, v->public_key);
		fprintf(f, "%s peer %s", sign, b64);
		for (size_t k = 0; k < 4; k++) {
			if (v->fields & (1 << k)) {
				fprintf(f, "%s%s", sep, field_names[k]);
				sep = ", ";
			}
		}
		if (v->file)
			fprintf(f, " (%s)", v->file);
		fputc('\n', f);
	}
}

static void text_interface(FILE *f, const struct plan *p)
{
	char t[INET6_ADDRSTRLEN + 32];

	for (size_t i = 0; i < p->addrs_added.addrs_len; i++) {
		prefix_text(t, sizeof(t), &p->addrs_added.addrs[i]);
		fprintf(f, "+ address %s\n", t);
	}
	for (size_t i = 0; i < p->addrs_removed.addrs_len; i++) {
		prefix_text(t, sizeof(t), &p->addrs_removed.addrs[i]);
		fprintf(f, "- address %s\n", t);
	}
	for (size_t i = 0; i < p->routes_added.routes_len; i++) {
		route_text(t, sizeof(t), &p->routes_added.routes[i]);
		fprintf(f, "+ route %s\n", t);
	}
	for (size_t i = 0; i < p->routes_removed.routes_len; i++) {
		route_text(t, sizeof(t), &p->routes_removed.routes[i]);
		fprintf(f, "- route %s\n", t);
	}
	if (p->mtu_from != p->mtu_to)
		fprintf(f, "~ MTU %u -> %u\n", p->mtu_from, p->mtu_to);
}

void plan_write_text(FILE *f, const struct plan *p)
{
	const struct cfg_sync_counts *d = &p->device;

	fprintf(f, "Plan for %s from %s: %s\n", p->ifname ? p->ifname : "?",
		p->path ? p->path : "?", plan_has_changes(p) ? "would change" : "no change");
	text_peers(f, "+", &p->added);
	text_peers(f, "-", &p->removed);
	text_peers(f, "~", &p->changed);
	if (d->is_listen_port_changed)
		fprintf(f, "~ listen port %u -> %u\n", p->listen_port_from, p->listen_port_to);
	if (d->is_fwmark_changed)
		fprintf(f, "~ fwmark 0x%x -> 0x%x\n", p->fwmark_from, p->fwmark_to);
	if (d->is_private_key_changed)
		fprintf(f, "~ private key\n");
	if (!p->is_peers_only)
		text_interface(f, p);
	fprintf(f, "peers %zu added, %zu removed, %zu changed, %zu unchanged", p->added.len,
		p->removed.len, p->changed.len, p->unchanged);
	if (p->is_peers_only)
		fprintf(f,
			"\nnote: %s is not served by wgd: only peers and device keys are "
			"compared, not addresses, routes or MTU\n",
			p->ifname ? p->ifname : "the interface");
	else
		fprintf(f, "; addresses %zu added, %zu removed; routes %zu added, %zu removed\n",
			p->addrs_added.addrs_len, p->addrs_removed.addrs_len,
			p->routes_added.routes_len, p->routes_removed.routes_len);
}

void json_write_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_peers(FILE *f, const char *name, const struct plan_peers *l, bool last)
{
	char b64[KEY_B64_LEN + 1];

	fprintf(f, "    \"%s\": [", name);
	for (size_t i = 0; i < l->len; i++) {
		const struct plan_peer *v = &l->v[i];
		const char *sep = "";

		key_to_base64(b64, v->public_key);
		fprintf(f, "%s\n      { \"public_key\": \"%s\", \"file\": ", i ? "," : "", b64);
		if (v->file)
			json_write_str(f, v->file);
		else
			fputs("null", f);
		fputs(", \"fields\": [", f);
		for (size_t k = 0; k < 4; k++) {
			if (v->fields & (1 << k)) {
				fprintf(f, "%s\"%s\"", sep, field_names[k]);
				sep = ", ";
			}
		}
		fputs("] }", f);
	}
	fprintf(f, "%s]%s\n", l->len ? "\n    " : "", last ? "" : ",");
}

static void json_addrs(FILE *f, const char *name, const struct ifconfig_state *s)
{
	char t[INET6_ADDRSTRLEN + 8];

	fprintf(f, "    \"%s\": [", name);
	for (size_t i = 0; i < s->addrs_len; i++) {
		prefix_text(t, sizeof(t), &s->addrs[i]);
		fprintf(f, "%s\"%s\"", i ? ", " : "", t);
	}
	fputs("]", f);
}

static void json_routes(FILE *f, const char *name, const struct ifconfig_state *s)
{
	char t[INET6_ADDRSTRLEN + 8];

	fprintf(f, "    \"%s\": [", name);
	for (size_t i = 0; i < s->routes_len; i++) {
		prefix_text(t, sizeof(t), &s->routes[i].prefix);
		fprintf(f, "%s{ \"prefix\": \"%s\", \"table\": %u }", i ? ", " : "", t,
			s->routes[i].table ? s->routes[i].table : 254);
	}
	fputs("]", f);
}

static void json_change(FILE *f, const char *name, bool changed, unsigned long from,
			unsigned long to)
{
	fprintf(f, "  \"%s\": ", name);
	if (changed)
		fprintf(f, "{ \"from\": %lu, \"to\": %lu },\n", from, to);
	else
		fputs("null,\n", f);
}

void plan_write_json(FILE *f, const struct plan *p)
{
	const struct cfg_sync_counts *d = &p->device;

	fputs("{\n  \"interface\": ", f);
	json_write_str(f, p->ifname ? p->ifname : "");
	fputs(",\n  \"file\": ", f);
	json_write_str(f, p->path ? p->path : "");
	fprintf(f, ",\n  \"changes\": %s,\n  \"peers_only\": %s,\n  \"peers\": {\n",
		plan_has_changes(p) ? "true" : "false", p->is_peers_only ? "true" : "false");
	json_peers(f, "added", &p->added, false);
	json_peers(f, "removed", &p->removed, false);
	json_peers(f, "changed", &p->changed, false);
	fprintf(f, "    \"unchanged\": %zu\n  },\n", p->unchanged);
	json_change(f, "listen_port", d->is_listen_port_changed, p->listen_port_from,
		    p->listen_port_to);
	json_change(f, "fwmark", d->is_fwmark_changed, p->fwmark_from, p->fwmark_to);
	fprintf(f, "  \"private_key_changed\": %s,\n",
		d->is_private_key_changed ? "true" : "false");
	if (p->is_peers_only) {
		fputs("  \"addresses\": null,\n  \"routes\": null,\n  \"mtu\": null\n}\n", f);
		return;
	}
	fputs("  \"addresses\": {\n", f);
	json_addrs(f, "added", &p->addrs_added);
	fputs(",\n", f);
	json_addrs(f, "removed", &p->addrs_removed);
	fputs("\n  },\n  \"routes\": {\n", f);
	json_routes(f, "added", &p->routes_added);
	fputs(",\n", f);
	json_routes(f, "removed", &p->routes_removed);
	fputs("\n  },\n", f);
	if (p->mtu_from != p->mtu_to)
		fprintf(f, "  \"mtu\": { \"from\": %u, \"to\": %u }\n}\n", p->mtu_from, p->mtu_to);
	else
		fputs("  \"mtu\": null\n}\n", f);
}

char *plan_format(const struct plan *p, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (json)
		plan_write_json(f, p);
	else
		plan_write_text(f, p);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
