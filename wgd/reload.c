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
#include "wgd/plan.h"
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

static int parse(struct conf *c, const char *path, struct reload_result *res);

/* A reload's inputs, read and compared before anything changes. */
struct prepared {
	struct conf next;
	struct uapi_state running;
	struct uapi_client_bounds bounds;
	struct plan plan;
};

static void prepared_clear(struct prepared *r)
{
	conf_clear(&r->next);
	uapi_state_clear(&r->running);
	plan_clear(&r->plan);
}

/* A copy of have's addresses and routes, for plan_interface to sort. */
static int copy_have(struct ifconfig_state *out, const struct ifconfig_state *have)
{
	memset(out, 0, sizeof(*out));
	out->addrs = malloc((have->addrs_len ? have->addrs_len : 1) * sizeof(*out->addrs));
	out->routes = malloc((have->routes_len ? have->routes_len : 1) * sizeof(*out->routes));
	if (!out->addrs || !out->routes) {
		ifconfig_state_clear(out);
		return -ENOMEM;
	}
	if (have->addrs_len)
		memcpy(out->addrs, have->addrs, have->addrs_len * sizeof(*out->addrs));
	if (have->routes_len)
		memcpy(out->routes, have->routes, have->routes_len * sizeof(*out->routes));
	out->addrs_len = out->addrs_cap = have->addrs_len;
	out->routes_len = out->routes_cap = have->routes_len;
	out->mtu = have->mtu;
	return 0;
}

/* The MTU ifconfig_sync would set for next (see its rules in ifconfig.h). */
static unsigned int planned_mtu(struct ifconfig *ic, const struct conf *next)
{
	if (next->mtu)
		return next->mtu;
	if (ic->have.is_mtu_auto)
		return ic->have.mtu;
	return ifconfig_auto_mtu(ic, next);
}

/* What ifconfig_sync would change: the record of what we installed against next's plan. */
static int plan_ifconfig(struct plan *p, struct ifconfig *ic, const struct conf *next)
{
	struct ifconfig_state have, want = { 0 };
	int ret;

	if (ic->is_link_away) /* a sync changes nothing then */
		return 0;
	ifconfig_refresh(ic); /* what a hand took away, the reload adds back: in the plan too */
	ret = copy_have(&have, &ic->have);
	if (ret < 0)
		return ret;
	ret = ifconfig_plan(&want, next);
	if (!ret)
		ret = plan_interface(p, &have, &want, planned_mtu(ic, next));
	ifconfig_state_clear(&have);
	ifconfig_state_clear(&want);
	return ret;
}

/*
 * Parses path, reads the running state and plans the move; nothing changes. The worker
 * runs what current configured (and what `wg set' added): the reply cap follows the
 * larger of the two files. 0, or -errno with res->error set (and logged).
 */
static int prepare(const char *ifname, const char *path, const struct conf *current,
		   struct ifconfig *ic, struct prepared *r, struct reload_result *res)
{
	struct uapi_client_bounds b_next;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = parse(&r->next, path, res);
	if (ret < 0) {
		log_error("%s", res->error);
		return ret;
	}
	/*
	 * A file without ListenPort has no flag for it, so the diff keeps the current port.
	 * "ListenPort = 0" asks for any port too, and the current one is one: rebinding on
	 * every reload (as `wg syncconf` would) only makes the peers lose us for a while.
	 */
	if (!r->next.dev.listen_port)
		r->next.dev.flags &= ~CFG_DEV_HAS_LISTEN_PORT;
	/* where the link lives is fixed at start: the move and the VRF are not redone */
	if (!same_user(current->netns, r->next.netns) || !same_user(current->vrf, r->next.vrf)) {
		snprintf(res->error, sizeof(res->error),
			 "%s: Namespace= and VRF= take effect only when wgd starts again", path);
		log_error("%s", res->error);
		return -EINVAL;
	}
	r->next.vrf_table = current->vrf_table;
	ifconfig_policy_prepare(&r->next);
	/* the file is the whole configuration: no FwMark means none (the key is required) */
	r->next.dev.flags |= CFG_DEV_HAS_FWMARK;
	r->bounds = uapi_client_worker_bounds(&current->dev);
	b_next = uapi_client_worker_bounds(&r->next.dev);
	if (b_next.max_reply > r->bounds.max_reply)
		r->bounds = b_next;
	ret = uapi_client_get_bounded(ifname, &r->running, &r->bounds);
	if (ret < 0) {
		fail_worker(res, "Reload: cannot read the running configuration", ret, &r->bounds);
		return ret;
	}
	r->plan.ifname = ifname;
	r->plan.path = path;
	ret = plan_peers(&r->plan, &r->running.cfg, &r->next.dev, r->next.peer_extra);
	ret = ret ?: plan_ifconfig(&r->plan, ic, &r->next);
	if (ret < 0)
		fail(res, "Reload: cannot compute the configuration change", ret);
	return ret;
}

/* The one set=1 that takes the device from what it runs to the new file's peers. */
static int sync_device(const char *ifname, struct prepared *r, struct reload_result *res)
{
	struct cfg_device diff = { 0 };
	int ret = cfg_sync_diff(&diff, &r->running.cfg, &r->next.dev);

	if (ret < 0) {
		fail(res, "Reload: cannot compute the configuration change", ret);
		return ret;
	}
	ret = uapi_client_set_bounded(ifname, &diff, &r->bounds);
	cfg_device_clear(&diff);
	if (ret == -ETIMEDOUT)
		fail_worker(res, "Reload: the worker may yet apply the new peers", ret, &r->bounds);
	else if (ret < 0)
		fail(res, "Reload: the device refused the new configuration", ret);
	return ret;
}

/* The summary line's counts, from the plan the reload carried out. */
static void summarize(struct reload_summary *s, const struct plan *p)
{
	s->peers = p->device;
	s->peers.peers_added = p->added.len;
	s->peers.peers_removed = p->removed.len;
	s->peers.peers_changed = p->changed.len;
	s->peers.peers_unchanged = p->unchanged;
	s->addrs_added = p->addrs_added.addrs_len;
	s->addrs_removed = p->addrs_removed.addrs_len;
	s->routes_added = p->routes_added.routes_len;
	s->routes_removed = p->routes_removed.routes_len;
	s->listen_port_from = p->listen_port_from;
	s->listen_port_to = p->listen_port_to;
	s->mtu_from = p->mtu_from;
	s->mtu_to = p->mtu_to;
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
	ret = conf_load(c, path, CONF_FULL, res->error, sizeof(res->error), res->warnings,
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
	struct prepared r;
	int ret;

	log_info("Reloading %s", path);
	ret = prepare(ifname, path, current, ic, &r, res);
	if (ret == 0) {
		log_warnings(res->warnings);
		ret = sync_device(ifname, &r, res);
	}
	if (ret < 0) {
		/* a set=1 sent but not answered may still be committed, atomically, later */
		log_error(ret == -ETIMEDOUT ? "Reload aborted" : "Reload aborted: nothing changed");
		prepared_clear(&r);
		return ret;
	}
	if (!same_user(current->user, r.next.user))
		log_info("Reload: User= takes effect only when wgd starts again");
	if (!same_user(current->admin_group, r.next.admin_group))
		log_info("Reload: AdminGroup= takes effect only when wgd starts again");
	if (current->threads != r.next.threads)
		log_info("Reload: Threads= takes effect only when wgd starts again");
	ret = ifconfig_sync(ic, &r.next);
	summarize(&res->summary, &r.plan);
	conf_clear(current);
	*current = r.next; /* moves ownership: wipe the stack copy of the private key */
	wipe(&r.next, sizeof(r.next));
	prepared_clear(&r);
	reload_summary_format(res->line, sizeof(res->line), path, &res->summary);
	log_info("%s", res->line);
	if (ret < 0)
		fail(res, "Reload: some address, route or MTU changes failed (see the log)", ret);
	return ret;
}

int reload_plan(const char *ifname, const char *path, const struct conf *current,
		struct ifconfig *ic, bool json, char **text, struct reload_result *res)
{
	struct prepared r;
	int ret = prepare(ifname, path, current, ic, &r, res);

	*text = NULL;
	if (ret == 0) {
		*text = plan_format(&r.plan, json);
		ret = !*text ? -ENOMEM : plan_has_changes(&r.plan) ? 1 : 0;
		if (ret < 0)
			fail(res, "Plan: cannot format it", ret);
	}
	prepared_clear(&r);
	return ret;
}
