/* SPDX-License-Identifier: MIT */
/* Routes and addresses that follow the running peers and the link (see follow.h). */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink/rtnl_watch.h"
#include "wgd/conf.h"
#include "wgd/follow.h"
#include "wgd/ifconfig.h"
#include "wgd/log.h"
#include "wgd/uapi_client.h"

enum {
	FOLLOW_READ_LEN = 64, /* bytes per read: any count of them means "changed" */
	FOLLOW_READS = 4,     /* reads per wakeup; the rest wakes the loop again */
};

/* The running peers' routes, the config's addresses and Table=; errors are logged. */
static void sync_running(struct follow *f)
{
	const struct uapi_client_bounds b = uapi_client_worker_bounds(&f->conf->dev);
	struct uapi_state running = { 0 };
	char why[128];
	int ret;

	if (f->link_up == 0)
		return; /* no routes on a down link: its coming up brings a sync */
	ret = uapi_client_get_bounded(f->ic->ifname, &running, &b);
	if (ret < 0) {
		log_error("Cannot read the peers of %s to follow them: %s", f->ic->ifname,
			  uapi_client_worker_strerror(ret, &b, why, sizeof(why)));
		return;
	}
	if (ifconfig_sync_peers(f->ic, f->conf, &running.cfg) < 0)
		log_error("The routes of %s do not all follow its peers (see above)",
			  f->ic->ifname);
	uapi_state_clear(&running);
}

/* Drains what the worker sent; true if it sent anything. EOF: it is gone (SIGCHLD follows). */
static bool drain(struct follow *f)
{
	char buf[FOLLOW_READ_LEN];
	bool is_changed = false;
	ssize_t n;

	for (int i = 0; i < FOLLOW_READS; i++) {
		n = recv(f->events.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			is_changed = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			loop_del(f->loop, &f->events);
			f->events.fn = NULL;
		}
		break;
	}
	return is_changed;
}

static void on_events(struct loop_source *src, uint32_t events)
{
	struct follow *f = container_of(src, struct follow, events);

	(void)events;
	/* Table=off: no route depends on the peers */
	if (drain(f) && f->conf && f->conf->table_mode != CONF_TABLE_OFF)
		sync_running(f);
}

/* Its addresses and routes went with it; the new namespace's are not ours to manage. */
static void on_link_left(struct follow *f)
{
	log_info("%s moved to another network namespace: its addresses and routes there "
		 "are not managed",
		 f->ic->ifname);
	ifconfig_link_left(f->ic);
	f->link_up = 0;
}

static void on_link(void *ctx, const struct rtnl_watch_event *e)
{
	struct follow *f = ctx;
	int is_up = (e->flags & IFF_UP) != 0;

	if (e->ifindex != f->ic->ifindex || f->ic->ifindex <= 0)
		return;
	if (e->kind == RTNL_WATCH_LINK_GONE && e->new_nsid >= 0)
		on_link_left(f);
	if (e->kind != RTNL_WATCH_LINK || is_up == f->link_up)
		return;
	if (is_up && f->link_up == 0)
		log_info("%s is up again: restoring its addresses and routes", f->ic->ifname);
	f->link_up = is_up;
	if (is_up)
		sync_running(f);
}

static void on_link_watch(struct loop_source *src, uint32_t events)
{
	struct follow *f = container_of(src, struct follow, link_src);
	int ret = rtnl_watch_read(f->watch, on_link, f);

	(void)events;
	/* Lost notifications may have hidden a down and up: the answer then syncs anyway. */
	if (ret == -ENOBUFS && f->ic->is_link_away)
		ret = 0; /* nothing left here to follow */
	if (ret == -ENOBUFS) {
		f->link_up = -1;
		ret = rtnl_watch_query(f->watch, f->ic->ifindex);
	}
	if (ret < 0 && ret != f->last_err)
		log_error("Cannot follow the state of %s: %s", f->ic->ifname, strerror(-ret));
	f->last_err = ret;
}

/* Joins the notifications before asking, so that no change falls between the two. */
static int watch_link(struct follow *f)
{
	int ret = rtnl_watch_open(&f->watch, RTNL_WATCH_LINKS);

	if (ret < 0)
		return ret;
	f->link_src = (struct loop_source){ .fd = rtnl_watch_fd(f->watch), .fn = on_link_watch };
	ret = loop_add(f->loop, &f->link_src, EPOLLIN);
	if (ret < 0) {
		f->link_src.fn = NULL;
		return ret;
	}
	return rtnl_watch_query(f->watch, f->ic->ifindex);
}

int follow_start(struct follow *f, struct loop *loop, int lifeline_fd, struct ifconfig *ic,
		 const struct conf *conf)
{
	int ret;

	*f = (struct follow){ .loop = loop, .ic = ic, .conf = conf, .link_up = -1 };
	f->events = (struct loop_source){ .fd = lifeline_fd, .fn = on_events };
	ret = loop_add(loop, &f->events, EPOLLIN);
	if (ret < 0)
		f->events.fn = NULL;
	else if (conf && ic)
		ret = watch_link(f);
	if (ret < 0)
		follow_stop(f);
	return ret;
}

void follow_stop(struct follow *f)
{
	if (f->events.fn)
		loop_del(f->loop, &f->events);
	f->events.fn = NULL;
	if (f->link_src.fn)
		loop_del(f->loop, &f->link_src);
	f->link_src.fn = NULL;
	rtnl_watch_close(f->watch);
	f->watch = NULL;
}
