/* SPDX-License-Identifier: MIT */
/*
 * The worker: privilege drop, then the device, the loop and the UAPI server until told
 * to stop. It stops on SIGTERM/SIGINT (also the PR_SET_PDEATHSIG one), on EOF from the
 * supervisor's lifeline pipe (which needs no permission to deliver, unlike a signal from
 * a root that lacks CAP_KILL to a process of another uid), or when its link is deleted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/privs.h"
#include "wgd/uapi.h"
#include "wgd/worker.h"

struct worker {
	struct loop loop;
	struct loop_source lifeline;
	struct device *dev;
	struct uapi_server srv;
	int ready_fd;
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
	ret = uapi_server_init(&w->srv, w->dev, &w->loop, *uapi_fd);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot serve the UAPI socket of `%s': %s\n", a->ifname,
			strerror(-ret));
		return ret;
	}
	*uapi_fd = -1; /* the server owns it now */
	uapi_server_set_access(&w->srv, a->owner_uid, a->has_admin_gid, a->admin_gid);
	w->lifeline = (struct loop_source){ .fd = a->lifeline_fd, .fn = on_lifeline };
	ret = loop_add(&w->loop, &w->lifeline, EPOLLIN);
	if (ret == 0)
		ret = loop_add_signals(&w->loop, signals, sizeof(signals) / sizeof(signals[0]),
				       on_signal, w);
	if (ret < 0)
		fprintf(stderr, "wgd: cannot watch signals and the supervisor: %s\n",
			strerror(-ret));
	return ret;
}

/* The daemon proper, as the unprivileged user. Returns the exit status. */
static int serve(const struct worker_args *a)
{
	struct worker w = { .ready_fd = a->ready_fd };
	int uapi_fd = a->uapi_fd, ret, status = 1;

	w.srv.listen.fd = -1;
	ret = loop_init(&w.loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create the event loop: %s\n", strerror(-ret));
		close(a->tun_fd);
		goto out;
	}
	if (setup(&w, a, &uapi_fd) < 0)
		goto out_clear;
	log_info("Interface %s up, listening on UDP port %u", w.dev->ifname, w.dev->sock.port);
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
	device_destroy(w.dev);
	loop_clear(&w.loop);
out:
	close_fd(&uapi_fd);
	close_fd(&w.ready_fd);
	return status;
}

int worker_run(const struct worker_args *a)
{
	struct worker_args args = *a;
	const char *what = "";
	int ret;

	ret = privs_drop(a->uid, a->gid, &what);
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
	ret = serve(&args);
	close(a->lifeline_fd);
	return ret;
err:
	close(a->tun_fd);
	close(a->uapi_fd);
	close(a->ready_fd);
	close(a->lifeline_fd);
	return 1;
}
