/* SPDX-License-Identifier: MIT */
/*
 * The reload sequence. Order matters for "a bad file changes nothing": parse, ask the
 * daemon for its state, compute the diff, and only then send the one set=1 the daemon
 * commits atomically (uapi.h); netlink changes follow once the device has accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgd/cfg_sync.h"
#include "wgd/conf.h"
#include "wgd/ifconfig.h"
#include "wgd/log.h"
#include "wgd/reload.h"
#include "wgd/uapi_client.h"

/* Each '\n'-terminated warning line of the parser as one log line. */
static void log_warnings(const char *warn)
{
	const char *line = warn, *end;

	for (; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (end > line)
			log_info("%.*s", (int)(end - line), line);
	}
}

static bool same_user(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Logs the failure and keeps it for the reply. */
static void fail(struct reload_result *res, const char *what, int err)
{
	snprintf(res->error, sizeof(res->error), "%s: %s", what, strerror(-err));
	log_error("%s", res->error);
}

/* The same for an exchange with the worker, whose timeout and cap are named. */
static void fail_worker(struct reload_result *res, const char *what, int err,
			const struct uapi_client_bounds *b)
{
	char why[128];

	snprintf(res->error, sizeof(res->error), "%s: %s", what,
		 uapi_client_worker_strerror(err, b, why, sizeof(why)));
	log_error("%s", res->error);
}

/*
 * The set=1 that takes the device from what it runs to next->dev; counts the change.
 * The worker runs what current configured (and what `wg set' added): the reply cap
 * follows the larger of the two files.
 */
static int sync_device(const char *ifname, const struct conf *current, const struct conf *next,
		       struct reload_result *res)
{
	struct uapi_client_bounds b = uapi_client_worker_bounds(&current->dev);
	const struct uapi_client_bounds b_next = uapi_client_worker_bounds(&next->dev);
	struct uapi_state running = { 0 };
	struct cfg_device diff = { 0 };
	int ret;

	if (b_next.max_reply > b.max_reply)
		b = b_next;
	ret = uapi_client_get_bounded(ifname, &running, &b);
	if (ret < 0) {
		fail_worker(res, "Reload: cannot read the running configuration", ret, &b);
		return ret;
	}
	ret = cfg_sync_count(&res->summary.peers, &running.cfg, &next->dev);
	ret = ret ?: cfg_sync_diff(&diff, &running.cfg, &next->dev);
	res->summary.listen_port_from = running.cfg.listen_port;
	res->summary.listen_port_to = next->dev.listen_port;
	uapi_state_clear(&running);
	if (ret < 0) {
		fail(res, "Reload: cannot compute the configuration change", ret);
		return ret;
	}
	ret = uapi_client_set_bounded(ifname, &diff, &b);
	cfg_device_clear(&diff);
	if (ret == -ETIMEDOUT)
		fail_worker(res, "Reload: the worker may yet apply the new peers", ret, &b);
	else if (ret < 0)
		fail(res, "Reload: the device refused the new configuration", ret);
	return ret;
}

/* --- what ifconfig_sync changed: its record before and after ------------------------ */

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

/* Sorts both sets (of n and m items) and counts the items only in one or the other. */
static void count_sets(void *before, size_t n, void *after, size_t m, size_t size,
		       int (*cmp)(const void *, const void *), size_t *added, size_t *removed)
{
	size_t i = 0, j = 0;

	qsort(before, n, size, cmp);
	qsort(after, m, size, cmp);
	while (i < n || j < m) {
		int c = i == n	 ? 1
			: j == m ? -1
				 : cmp((char *)before + i * size, (char *)after + j * size);

		*removed += c < 0;
		*added += c > 0;
		i += c <= 0;
		j += c >= 0;
	}
}

/* A copy of an array, or NULL (then nothing is counted: the summary is only a report). */
static void *copy_array(const void *a, size_t n, size_t size)
{
	void *c = malloc(n ? n * size : 1);

	if (c && n)
		memcpy(c, a, n * size);
	return c;
}

static int sync_interface(struct ifconfig *ic, const struct conf *next, struct reload_summary *s)
{
	const struct ifconfig_state *have = &ic->have;
	size_t addrs_len = have->addrs_len, routes_len = have->routes_len;
	void *addrs = copy_array(have->addrs, addrs_len, sizeof(*have->addrs));
	void *routes = copy_array(have->routes, routes_len, sizeof(*have->routes));
	void *now_addrs, *now_routes;
	int ret;

	s->mtu_from = have->mtu;
	ret = ifconfig_sync(ic, next);
	s->mtu_to = have->mtu;
	now_addrs = copy_array(have->addrs, have->addrs_len, sizeof(*have->addrs));
	now_routes = copy_array(have->routes, have->routes_len, sizeof(*have->routes));
	if (addrs && now_addrs)
		count_sets(addrs, addrs_len, now_addrs, have->addrs_len, sizeof(*have->addrs),
			   cmp_addr, &s->addrs_added, &s->addrs_removed);
	if (routes && now_routes)
		count_sets(routes, routes_len, now_routes, have->routes_len, sizeof(*have->routes),
			   cmp_route, &s->routes_added, &s->routes_removed);
	free(addrs);
	free(routes);
	free(now_addrs);
	free(now_routes);
	return ret;
}

/* --- the summary line ---------------------------------------------------------------- */

void reload_summary_format(char *buf, size_t len, const char *path, const struct reload_summary *s)
{
	const struct cfg_sync_counts *p = &s->peers;
	int n;

	n = snprintf(buf, len,
		     "Reloaded %s: peers %zu added, %zu removed, %zu changed, %zu unchanged; "
		     "addresses %zu added, %zu removed; routes %zu added, %zu removed",
		     path, p->peers_added, p->peers_removed, p->peers_changed, p->peers_unchanged,
		     s->addrs_added, s->addrs_removed, s->routes_added, s->routes_removed);
	if (n > 0 && (size_t)n < len && p->is_listen_port_changed)
		n += snprintf(buf + n, len - (size_t)n, "; listen port %u -> %u",
			      s->listen_port_from, s->listen_port_to);
	if (n > 0 && (size_t)n < len && s->mtu_from != s->mtu_to)
		n += snprintf(buf + n, len - (size_t)n, "; MTU %u -> %u", s->mtu_from, s->mtu_to);
	if (n > 0 && (size_t)n < len && p->is_private_key_changed)
		n += snprintf(buf + n, len - (size_t)n, "; private key changed");
	if (n > 0 && (size_t)n < len && p->is_fwmark_changed)
		snprintf(buf + n, len - (size_t)n, "; fwmark changed");
}

/* --- reload and check ---------------------------------------------------------------- */

/* Parses path into *c as a reload reads it. 0, or -errno with res->error set. */
static int parse(struct conf *c, const char *path, struct reload_result *res)
{
	int ret;

	memset(res, 0, sizeof(*res));
	ret = conf_parse_file(c, path, res->error, sizeof(res->error), res->warnings,
			      sizeof(res->warnings));
	if (ret < 0 && !res->error[0])
		snprintf(res->error, sizeof(res->error), "%s: %s", path, strerror(-ret));
	return ret;
}

int reload_check(const char *path, struct reload_result *res)
{
	struct conf c;
	int ret = parse(&c, path, res);

	if (ret == 0) {
		conf_clear(&c);
		snprintf(res->line, sizeof(res->line), "%s: OK", path);
	}
	return ret;
}

int reload_apply(const char *ifname, const char *path, struct conf *current, struct ifconfig *ic,
		 struct reload_result *res)
{
	struct conf next;
	int ret;

	log_info("Reloading %s", path);
	ret = parse(&next, path, res);
	if (ret < 0) {
		log_error("%s", res->error);
		log_error("Reload aborted: nothing changed");
		return ret;
	}
	log_warnings(res->warnings);
	/*
	 * A file without ListenPort has no flag for it, so the diff keeps the current port.
	 * "ListenPort = 0" asks for any port too, and the current one is one: rebinding on
	 * every reload (as `wg syncconf` would) only makes the peers lose us for a while.
	 */
	if (!next.dev.listen_port)
		next.dev.flags &= ~CFG_DEV_HAS_LISTEN_PORT;
	/* where the link lives is fixed at start: the move and the VRF are not redone */
	if (!same_user(current->netns, next.netns) || !same_user(current->vrf, next.vrf)) {
		snprintf(res->error, sizeof(res->error),
			 "%s: Namespace= and VRF= take effect only when wgd starts again", path);
		log_error("%s", res->error);
		log_error("Reload aborted: nothing changed");
		conf_clear(&next);
		return -EINVAL;
	}
	next.vrf_table = current->vrf_table;
	ifconfig_policy_prepare(&next);
	/* the file is the whole configuration: no FwMark means none (the key is required) */
	next.dev.flags |= CFG_DEV_HAS_FWMARK;
	ret = sync_device(ifname, current, &next, res);
	if (ret < 0) {
		/* a set=1 sent but not answered may still be committed, atomically, later */
		log_error(ret == -ETIMEDOUT ? "Reload aborted" : "Reload aborted: nothing changed");
		conf_clear(&next);
		return ret;
	}
	if (!same_user(current->user, next.user))
		log_info("Reload: User= takes effect only when wgd starts again");
	if (!same_user(current->admin_group, next.admin_group))
		log_info("Reload: AdminGroup= takes effect only when wgd starts again");
	ret = sync_interface(ic, &next, &res->summary);
	conf_clear(current);
	*current = next; /* moves ownership: wipe the stack copy of the private key */
	wipe(&next, sizeof(next));
	reload_summary_format(res->line, sizeof(res->line), path, &res->summary);
	log_info("%s", res->line);
	if (ret < 0)
		fail(res, "Reload: some address, route or MTU changes failed (see the log)", ret);
	return ret;
}
