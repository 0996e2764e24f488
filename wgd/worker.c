/* SPDX-License-Identifier: MIT */
/*
 * The worker: privilege drop, then the device, the loop and the UAPI server until told
 * to stop. It stops on SIGTERM/SIGINT (also the PR_SET_PDEATHSIG one), on EOF from the
 * supervisor's lifeline socket (which needs no permission to deliver, unlike a signal from
 * a root that lacks CAP_KILL to a process of another uid), or when its link is deleted.
 * The lifeline also carries one byte the other way after each committed UAPI set=1, so
 * that the supervisor makes the routes follow the peers, whoever changed them.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink/rtnl_watch.h"
#include "wgd/clock.h"
#include "wgd/crypt_data.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/privs.h"
#include "wgd/sandbox.h"
#include "wgd/tun.h"
#include "wgd/uapi.h"
#include "wgd/worker.h"

struct worker {
	struct loop loop;
	struct loop_source lifeline;
	struct device *dev;
	struct uapi_server srv;
	int ready_fd;
	/*
	 * The link's administrative state (ip link set up/down), for device_set_up, and this
	 * namespace's routing changes, for device_routing_changed.
	 */
	struct rtnl_watch *link_watch;
	struct loop_source link_src;
	/*
	 * The link once moved to another namespace (`ip link set IF netns NS`): a watch of
	 * all namespaces, opened as root before the privilege drop (worker_run), NULL if
	 * that failed. Our UDP sockets stay here, where the link was created, as the
	 * kernel's do; only the link's state is followed there.
	 */
	struct rtnl_watch *away_watch;
	struct loop_source away_src;
	int link_nsid; /* where the link is now, by our namespace's ids; RTNL_NSID_SELF = here */
	int ifindex;   /* its ifindex there */
};

static void on_signal(void *ctx, int signo)
{
	struct worker *w = ctx;

	if (signo == SIGHUP) {
		log_info("Ignoring SIGHUP: reloading is the supervisor's job (pid %ld)",
			 (long)getppid());
		return;
	}
	log_info("Received signal %d, shutting down", signo);
	loop_stop(&w->loop);
}

static void on_lifeline(struct loop_source *src, uint32_t events)
{
	struct worker *w = container_of(src, struct worker, lifeline);

	(void)events; /* the supervisor never writes: any event is EOF or hangup */
	log_info("The supervisor is gone, shutting down");
	loop_stop(&w->loop);
}

/*
 * Never blocks: if the supervisor has not read the previous bytes yet, this change is
 * covered by the sync those bring (it reads the whole state); if it is gone, the EOF on
 * the same socket stops us.
 */
static void on_set(void *ctx)
{
	struct worker *w = ctx;
	char byte = WGD_CHANGED_BYTE;

	if (send(w->lifeline.fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
	    errno != EPIPE)
		log_error("Cannot tell the supervisor of a configuration change: %s",
			  strerror(errno));
}

/* A link event about our link, wherever it is now. */
static void on_our_link(struct worker *w, const struct rtnl_watch_event *e)
{
	if (e->kind == RTNL_WATCH_LINK) {
		device_set_up(w->dev, e->flags & IFF_UP, clock_boottime_ns());
		return;
	}
	/* gone: deleted (the TUN read reports it and we exit), or moved on */
	if (e->new_nsid < 0)
		return;
	device_set_up(w->dev, false, clock_boottime_ns()); /* a moving link is closed first */
	/* only a move from here names the new namespace by an id of ours */
	if (w->link_nsid != RTNL_NSID_SELF) {
		log_error("Interface %s moved on to a third network namespace: "
			  "its state is no longer followed",
			  w->dev->ifname);
		w->ifindex = 0;
		return;
	}
	w->link_nsid = e->new_nsid;
	w->ifindex = e->new_ifindex;
	if (!w->away_watch) {
		log_error("Interface %s moved to another network namespace and cannot be "
			  "followed there (no CAP_NET_BROADCAST at start)",
			  w->dev->ifname);
		return;
	}
	log_info("Interface %s moved to another network namespace (id %d, ifindex %d); its "
		 "UDP sockets stay in this one",
		 w->dev->ifname, w->link_nsid, w->ifindex);
	/*
	 * It arrives down and its notifications follow; the answer covers any read before
	 * this move (the kernel answers only while we have CAP_NET_ADMIN there).
	 */
	if (rtnl_watch_query_in(w->away_watch, w->link_nsid, w->ifindex) < 0)
		log_verbose("Cannot ask for the state of %s there", w->dev->ifname);
}

static void on_link(void *ctx, const struct rtnl_watch_event *e)
{
	struct worker *w = ctx;

	if (e->kind == RTNL_WATCH_ROUTING && e->nsid == RTNL_NSID_SELF) {
		device_routing_changed(w->dev);
		return;
	}
	if (e->kind == RTNL_WATCH_ROUTING || e->nsid != w->link_nsid || e->ifindex != w->ifindex)
		return;
	on_our_link(w, e);
}

/*
 * The away watch sees the other namespaces, and this one too: from here it takes only a
 * move away, so that the move and the first events in the new namespace are read in the
 * kernel's order, whichever socket the loop reads first (the local watch's copy of the
 * move then no longer matches).
 */
static void on_away_link(void *ctx, const struct rtnl_watch_event *e)
{
	if (e->nsid != RTNL_NSID_SELF || (e->kind == RTNL_WATCH_LINK_GONE && e->new_nsid >= 0))
		on_link(ctx, e);
}

/* Reads one watch; lost notifications: ask again, the answer queues behind the rest. */
static void read_watch(struct worker *w, struct rtnl_watch *watch, rtnl_watch_fn fn, int *last_err)
{
	int ret = rtnl_watch_read(watch, fn, w);

	if (ret == -ENOBUFS) {
		/* routing changes may be among the lost ones */
		device_routing_changed(w->dev);
		ret = w->ifindex ? rtnl_watch_query_in(watch, w->link_nsid, w->ifindex) : 0;
	}
	/* once per kind of failure: a level-triggered fd may report it again and again */
	if (ret < 0 && ret != *last_err)
		log_error("Cannot follow the state of %s: %s", w->dev->ifname, strerror(-ret));
	*last_err = ret;
}

static void on_link_watch(struct loop_source *src, uint32_t events)
{
	static int last_err;
	struct worker *w = container_of(src, struct worker, link_src);

	(void)events;
	read_watch(w, w->link_watch, on_link, &last_err);
}

static void on_away_watch(struct loop_source *src, uint32_t events)
{
	static int last_err;
	struct worker *w = container_of(src, struct worker, away_src);

	(void)events;
	read_watch(w, w->away_watch, on_away_link, &last_err);
}

/*
 * Joins the link notifications before asking for the link's state, so no change can fall
 * between the two: the answer, and every later change, arrive through on_link_watch.
 */
static int watch_link(struct worker *w)
{
	int ret;

	if (w->dev->tun_fd < 0)
		return 0;
	ret = tun_get_ifindex(w->dev->ifname);
	if (ret < 0)
		return ret;
	w->ifindex = ret;
	w->link_nsid = RTNL_NSID_SELF;
	ret = rtnl_watch_open(&w->link_watch, RTNL_WATCH_LINKS | RTNL_WATCH_ROUTES);
	if (ret < 0)
		return ret;
	w->link_src =
		(struct loop_source){ .fd = rtnl_watch_fd(w->link_watch), .fn = on_link_watch };
	ret = loop_add(&w->loop, &w->link_src, EPOLLIN);
	if (ret < 0) {
		w->link_src.fn = NULL;
		return ret;
	}
	if (w->away_watch) {
		w->away_src = (struct loop_source){ .fd = rtnl_watch_fd(w->away_watch),
						    .fn = on_away_watch };
		ret = loop_add(&w->loop, &w->away_src, EPOLLIN);
		if (ret < 0) {
			w->away_src.fn = NULL;
			return ret;
		}
	}
	return rtnl_watch_query(w->link_watch, w->ifindex);
}

static void unwatch_link(struct worker *w)
{
	if (w->link_src.fn)
		loop_del(&w->loop, &w->link_src);
	if (w->away_src.fn)
		loop_del(&w->loop, &w->away_src);
	rtnl_watch_close(w->link_watch);
	rtnl_watch_close(w->away_watch);
	w->link_watch = NULL;
	w->away_watch = NULL;
}

static void on_timer(void *ctx, uint64_t now_ns)
{
	device_timers_run(ctx, now_ns);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Tells the supervisor we serve; it then configures us or reports us ready. */
static void report_ready(struct worker *w)
{
	char byte = WGD_READY_BYTE;

	if (write(w->ready_fd, &byte, 1) != 1)
		log_error("Could not notify the supervisor: %s", strerror(errno));
	close_fd(&w->ready_fd);
}

/*
 * The crypt threads, before the sandbox (which allows no clone) and before any packet;
 * one thread is the single-threaded path and starts none.
 */
static int start_threads(struct device *dev, unsigned int threads)
{
	unsigned int n = threads ? threads : crypt_data_default_threads();
	int ret = crypt_data_enable(dev, n);

	if (ret < 0)
		fprintf(stderr, "wgd: cannot start %u crypt threads for `%s': %s\n", n, dev->ifname,
			strerror(-ret));
	return ret;
}

static int setup(struct worker *w, const struct worker_args *a, int *uapi_fd)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	int ret;

	ret = device_create(&w->dev, a->ifname, a->tun_fd, &w->loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot set up interface `%s': %s\n", a->ifname,
			strerror(-ret));
		return ret;
	}
	w->dev->is_fwmark_refused = !a->has_net_admin;
	ret = start_threads(w->dev, a->threads);
	if (ret < 0)
		return ret;
	ret = watch_link(w);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot follow the link state of `%s': %s\n", a->ifname,
			strerror(-ret));
		return ret;
	}
	ret = uapi_server_init(&w->srv, w->dev, &w->loop, *uapi_fd);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot serve the UAPI socket of `%s': %s\n", a->ifname,
			strerror(-ret));
		return ret;
	}
	*uapi_fd = -1; /* the server owns it now */
	uapi_server_set_access(&w->srv, a->owner_uid, a->has_admin_gid, a->admin_gid);
	w->lifeline = (struct loop_source){ .fd = a->lifeline_fd, .fn = on_lifeline };
	uapi_server_set_notify(&w->srv, on_set, w);
	ret = loop_add(&w->loop, &w->lifeline, EPOLLIN);
	if (ret == 0)
		ret = loop_add_signals(&w->loop, signals, sizeof(signals) / sizeof(signals[0]),
				       on_signal, w);
	if (ret < 0)
		fprintf(stderr, "wgd: cannot watch signals and the supervisor: %s\n",
			strerror(-ret));
	return ret;
}

/*
 * The steady state's seccomp allowlist, before we report ready: the supervisor's
 * configuration over UAPI is handled under it like any other request.
 */
static int confine(struct worker *w)
{
	const char *what = "";
	int ret = sandbox_enter_worker(&what);

	if (ret < 0)
		log_error("Cannot confine the worker of %s (%s): %s", w->dev->ifname, what,
			  strerror(-ret));
	return ret;
}

/* The daemon proper, as the unprivileged user. Returns the exit status. */
static int serve(const struct worker_args *a, struct rtnl_watch *away_watch)
{
	struct worker w = { .ready_fd = a->ready_fd, .away_watch = away_watch };
	int uapi_fd = a->uapi_fd, ret, status = 1;

	w.srv.listen.fd = -1;
	ret = loop_init(&w.loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create the event loop: %s\n", strerror(-ret));
		close(a->tun_fd);
		rtnl_watch_close(away_watch);
		goto out;
	}
	if (setup(&w, a, &uapi_fd) < 0)
		goto out_clear;
	/* no port: a config applied next usually replaces the random one drawn so far */
	log_info("Serving interface %s with %u crypt thread%s", w.dev->ifname,
		 crypt_data_threads(w.dev), crypt_data_threads(w.dev) == 1 ? "" : "s");
	ret = a->is_daemon ? log_to_syslog() : 0;
	if (ret < 0)
		log_error("Cannot put stdio on /dev/null: %s", strerror(-ret));
	if (confine(&w) < 0)
		goto out_clear;
	report_ready(&w);
	device_rearm(w.dev);
	ret = loop_run(&w.loop, on_timer, w.dev);
	if (ret < 0)
		log_error("Event loop failed: %s", strerror(-ret));
	status = ret < 0 ? 1 : 0;
	log_info("Shutting down");
out_clear:
	if (w.lifeline.fn)
		loop_del(&w.loop, &w.lifeline);
	uapi_server_clear(&w.srv);
	unwatch_link(&w);
	device_destroy(w.dev);
	loop_clear(&w.loop);
out:
	close_fd(&uapi_fd);
	close_fd(&w.ready_fd);
	return status;
}

/*
 * CAP_NET_BIND_SERVICE, so that any listen port works (the kernel's selftest uses 1, 2
 * and 5; admins use 443 or 53 to cross firewalls): it only lets us bind ports below 1024,
 * and the seccomp filter (sandbox.h) lets us open nothing but UDP sockets there.
 * CAP_NET_ADMIN only where an fwmark is or may be set (SO_MARK); without it the UDP
 * buffers are what net.core.rmem_max and wmem_max allow (no SO_RCVBUFFORCE).
 */
static uint64_t worker_caps(const struct worker_args *a)
{
	uint64_t caps = PRIVS_CAP(CAP_NET_BIND_SERVICE);

	return a->has_net_admin ? caps | PRIVS_CAP(CAP_NET_ADMIN) : caps;
}

/*
 * The watch that follows the link into another namespace. Listening to all namespaces
 * needs CAP_NET_BROADCAST, when the option is set and (checked on the socket's opener)
 * at each delivery: opened here, before the drop, the socket keeps working after it
 * without the worker keeping the capability. Without it a moved link is not followed.
 */
static struct rtnl_watch *open_away_watch(void)
{
	struct rtnl_watch *w = NULL;
	int ret = rtnl_watch_open(&w, RTNL_WATCH_LINKS | RTNL_WATCH_ALL_NSID);

	if (ret < 0) {
		log_verbose("Cannot watch other network namespaces: %s", strerror(-ret));
		return NULL;
	}
	return w;
}

int worker_run(const struct worker_args *a)
{
	struct worker_args args = *a;
	struct rtnl_watch *away_watch = open_away_watch();
	const char *what = "";
	int ret;

	ret = privs_drop(a->uid, a->gid, worker_caps(a), &what);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot drop privileges (%s): %s\n", what, strerror(-ret));
		goto err;
	}
	/* After the drop: a change of credentials clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) {
		fprintf(stderr, "wgd: cannot set the parent-death signal: %s\n", strerror(errno));
		goto err;
	}
	if (getppid() != a->supervisor) {
		fprintf(stderr, "wgd: the supervisor exited before the worker started\n");
		goto err;
	}
	ret = serve(&args, away_watch);
	close(a->lifeline_fd);
	return ret;
err:
	rtnl_watch_close(away_watch);
	close(a->tun_fd);
	close(a->uapi_fd);
	close(a->ready_fd);
	close(a->lifeline_fd);
	return 1;
}
