/* SPDX-License-Identifier: MIT */
/*
 * wgd's process design: privilege separation after OpenSSH.
 *
 *   launcher (the command the admin ran; absent with -f)
 *      | fork, setsid; waits on the ready pipe, exits 0 or 1
 *      v
 *   supervisor (root, no network input)        worker (USER, seccomp, see privs.h)
 *      opens the TUN and the UAPI socket  --fork-->  device + loop + UAPI server:
 *      applies the config as a UAPI client           every packet and every UAPI
 *      addresses/MTU/routes (ifconfig.c)             request from wg(8)
 *      routes follow the peers (follow.c) <--"C"--   after each committed set=1
 *      hooks, SIGHUP reload, SIGTERM teardown
 *      the control socket (wgctl reload/check/down)
 *      unlinks the sockets at the end
 *
 * - Why two processes: the worker parses attacker-controlled packets, so it runs as
 *   an unprivileged user (`User=`, --user, default wgd, else nobody) without supplementary
 *   groups, with NO_NEW_PRIVS, CAP_NET_BIND_SERVICE (low ports), CAP_NET_ADMIN only
 *   for an fwmark (SO_MARK), and a seccomp allowlist once set up (sandbox.h). The
 *   supervisor keeps root for what needs it and reads nothing from the network: its only
 *   inputs are the config file, signals, the worker's replies on the UAPI socket, and
 *   the fixed-size records of the endpoint resolver (resolver.h): a child forked per
 *   batch of Endpoint host names that drops to the worker's user with no capability
 *   before glibc parses any DNS reply. The supervisor checks every field it sends.
 * - The worker inherits the TUN fd and the listening UAPI fd, opened as root; the socket
 *   file stays root's, mode 0600, and the worker's SO_PEERCRED check admits uid 0, so
 *   wg(8), wgctl and the supervisor itself connect as root. The supervisor closes its
 *   copies after the fork: the link lives exactly as long as the worker.
 * - Startup: [-c] parse the file before anything exists (an error is one line,
 *   FILE:LINE: message, exit 1), PreUp, TUN + socket, fork the worker, wait for its
 *   ready byte, [-c] set the config over UAPI (replace_peers, as `wg setconf`), then
 *   addresses, MTU, link up, routes, policy rules, PostUp; only then does the launcher
 *   exit 0 and systemd hear READY=1 (NOTIFY_SOCKET, notify.c). Endpoint host names are
 *   not waited for: the resolver sets each endpoint when its name resolves, retrying
 *   with backoff (1 s doubling to 60 s) for as long as it takes. Its child is reaped by
 *   the resolver itself (by pid), as hooks are: SIGCHLD here only looks for the worker.
 * - SIGHUP: reload.c, with RELOADING=1 ... READY=1 around it.
 * - [-c] Routes follow the running peers (follow.c): the worker sends one byte on the
 *   lifeline (a socketpair) after each set=1 it committed, whichever client sent it, and
 *   the supervisor follows the link's IFF_UP over rtnetlink; on either it reads the peers
 *   over UAPI and syncs addresses and routes, checked against the kernel (ifconfig.c).
 * - The control socket (control.h), created once the worker is ready and before the
 *   launcher returns: `wgctl reload` gets the reload's outcome, `wgctl down` a reply
 *   once the teardown below is done. It names this very supervisor, in this mount
 *   namespace, so no tool has to guess a process from /proc.
 * - SIGTERM/SIGINT: STOPPING=1, PreDown, remove our rules/routes/addresses, stop the
 *   worker (close the lifeline and SIGTERM it; SIGKILL after STOP_TIMEOUT_MS),
 *   PostDown, unlink the socket, exit 0.
 * - Worker exit on its own (its link was deleted, e.g. by wg-quick down; or SIGTERM sent
 *   to it): remove our rules (they outlive the link), PostDown, unlink, exit with its
 *   status. Supervisor death (even SIGKILL): the worker sees EOF on the lifeline
 *   (and PR_SET_PDEATHSIG) and exits; the stale socket is later replaced (uapi_listen)
 *   or dropped by wg(8), as for any crashed daemon.
 * - Without -c this is still the xplatform daemon that wg-quick runs as `wgd IF`: the
 *   same two processes, but no config, no netlink changes and no hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wgd/clock.h"
#include "wgd/conf.h"
#include "wgd/hook_output.h"
#include "wgd/follow.h"
#include "wgd/control.h"
#include "wgd/ifconfig.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/netns.h"
#include "wgd/notify.h"
#include "wgd/reach.h"
#include "wgd/reload.h"
#include "wgd/resolver.h"
#include "wgd/supervisor.h"
#include "wgd/tun.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"
#include "wgd/worker.h"

enum {
	STOP_TIMEOUT_MS = 5000, /* SIGTERM to SIGKILL for a worker that does not stop */
	/* fork to the ready byte; a worker that hangs before it must not hang us */
	READY_TIMEOUT_MS = 10000,
	STOP_POLL_MS = 20,
	ERR_LEN = 512,
};

static const int handled_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

struct supervisor {
	const struct supervisor_opts *o;
	char ifname[IFNAMSIZ]; /* as the kernel named the TUN */
	struct conf *conf;     /* NULL in bare mode */
	struct ifconfig ic;
	struct loop loop;
	struct control ctl;
	pid_t worker;	   /* 0 once reaped */
	int worker_status; /* waitpid status, once reaped */
	int lifeline_fd;   /* our end of the lifeline socketpair (worker.h) */
	int ready_fd;	   /* the launcher's pipe, -1 once used */
	bool is_up;	   /* startup completed (PostUp ran): run the down hooks */
	bool is_stopping;  /* SIGTERM/SIGINT, not the worker's own exit */

	struct follow follow; /* routes after the peers and the link, while serving */
	/* -c: endpoint host names, looked up by an unprivileged child */
	struct resolver resolver;
	/* Namespace=/--netns (netns.h): the tenant's namespace and the one we started in */
	const char *netns; /* borrowed from o or a copy in netns_name */
	char netns_name[NAME_MAX + 1];
	int netns_fd, home_fd; /* -1 without Namespace */
	struct rtnl *home_nl;  /* rtnetlink left where we started, once moved */
};

/* Signals stay blocked from the start, so none is lost before the loop reads them. */
static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
		sigaddset(&set, handled_signals[i]);
	return sigprocmask(SIG_BLOCK, &set, NULL) < 0 ? -errno : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The namespace fds and the home rtnetlink socket; safe twice. */
static void netns_clear(struct supervisor *s)
{
	close_fd(&s->netns_fd);
	close_fd(&s->home_fd);
	if (s->home_nl)
		rtnl_close(s->home_nl);
	s->home_nl = NULL;
}

/* "%i" becomes the interface name everywhere, as wg-quick's ${hook//%i/$INTERFACE}. */
static char *hook_expand(const char *cmd, const char *ifname)
{
	size_t n = 0, ilen = strlen(ifname);
	const char *p;
	char *out, *q;

	for (p = cmd; (p = strstr(p, "%i")); p += 2)
		n++;
	out = malloc(strlen(cmd) + n * ilen + 1);
	if (!out)
		return NULL;
	for (p = cmd, q = out; *p;) {
		if (p[0] == '%' && p[1] == 'i') {
			memcpy(q, ifname, ilen);
			q += ilen;
			p += 2;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	return out;
}

/*
 * /bin/sh -c cmd as root, like wg-quick; returns its wait status or -errno. Once the log
 * is syslog (daemonised and ready), the hook's stdout and stderr are logged through a pipe.
 */
static int hook_exec(const char *cmd, const char *kind)
{
	int out[2] = { -1, -1 }, status;
	bool capture = log_uses_syslog();
	sigset_t none;
	pid_t pid;

	if (capture && pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		status = -errno;
		close_fd(&out[0]);
		close_fd(&out[1]);
		return status;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (capture && (dup2(out[1], STDOUT_FILENO) < 0 || dup2(out[1], STDERR_FILENO) < 0))
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (capture) {
		close_fd(&out[1]);
		hook_output_log(out[0], pid, kind);
		close_fd(&out[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

/* Runs one kind of hook in order; stops at the first failure. 0 or -1 (logged). */
static int hooks_run(const struct supervisor *s, const char *kind, char **cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *cmd = hook_expand(cmds[i], s->ifname);
		int status;

		if (!cmd) {
			log_error("%s: out of memory", kind);
			return -1;
		}
		log_info("[#] %s", cmd);
		status = hook_exec(cmd, kind);
		free(cmd);
		if (status < 0) {
			log_error("%s: cannot run /bin/sh: %s", kind, strerror(-status));
			return -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			log_error("%s hook %zu failed (%s %d)", kind, i + 1,
				  WIFEXITED(status) ? "exit status" : "signal",
				  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return -1;
		}
	}
	return 0;
}

/*
 * The worker keeps CAP_NET_ADMIN only for SO_MARK: when the file sets an fwmark (or
 * Table=auto with a /0 made one, ifconfig_policy_prepare), or without -c, where
 * wg-quick sets one after the start for a full tunnel. Otherwise a later fwmark is
 * refused (a reload needs a restart for it) and the worker cannot touch routes, rules
 * or firewall of the namespace.
 */
static bool worker_needs_net_admin(const struct conf *c)
{
	return !c || c->dev.fwmark;
}

/* In the child: become the worker. Never returns to the supervisor's code paths. */
static int worker_child(struct supervisor *s, pid_t supervisor, int tun_fd, int uapi_fd,
			int ready[2], int lifeline[2])
{
	struct worker_args a = {
		.ifname = s->ifname,
		.tun_fd = tun_fd,
		.uapi_fd = uapi_fd,
		.ready_fd = ready[1],
		.lifeline_fd = lifeline[0],
		.supervisor = supervisor,
		.uid = s->o->uid,
		.gid = s->o->gid,
		.has_net_admin = worker_needs_net_admin(s->conf),
		.owner_uid = geteuid(),
		.has_admin_gid = s->o->has_admin_gid,
		.admin_gid = s->o->admin_gid,
		.is_daemon = s->ready_fd >= 0,
		.threads = s->conf ? s->conf->threads : 0,
	};

	close(ready[0]);
	close(lifeline[1]);
	close_fd(&s->ready_fd); /* the launcher must not wait on us */
	close_fd(&s->netns_fd); /* the worker stays where wgd started, and cannot setns */
	close_fd(&s->home_fd);
	if (s->conf)
		conf_clear(s->conf); /* the worker gets its keys over UAPI, not from memory */
	return worker_run(&a);
}

/*
 * Forks the worker with tun_fd and uapi_fd (closed here in the supervisor either way).
 * Returns 0 with *ready_rd the pipe to wait on, 1 in the child (s->worker_status holds
 * its exit status), or -errno.
 */
static int worker_start(struct supervisor *s, int tun_fd, int uapi_fd, int *ready_rd)
{
	int ready[2] = { -1, -1 }, lifeline[2] = { -1, -1 }, ret = 0;
	pid_t self = getpid(), pid;

	if (pipe2(ready, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, lifeline) < 0) {
		ret = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0) {
		s->worker_status = worker_child(s, self, tun_fd, uapi_fd, ready, lifeline);
		return 1;
	}
	s->worker = pid;
	s->lifeline_fd = lifeline[1];
	*ready_rd = ready[0];
	close(ready[1]);
	close(lifeline[0]);
	close(tun_fd);
	close(uapi_fd);
	return 0;
out:
	close_fd(&ready[0]);
	close_fd(&ready[1]);
	close_fd(&lifeline[0]);
	close_fd(&lifeline[1]);
	close(tun_fd);
	close(uapi_fd);
	return ret;
}

/*
 * Waits until the worker reports it serves, at most READY_TIMEOUT_MS; false if it failed
 * (it said why) or did not answer in time (said here).
 */
static bool worker_wait_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t deadline = clock_boottime_ns() + (uint64_t)READY_TIMEOUT_MS * 1000000, now;
	char byte = 0;
	ssize_t n = -1;
	int ready;

	do {
		now = clock_boottime_ns();
		ready = now < deadline ? poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) : 0;
	} while (ready < 0 && errno == EINTR);
	if (ready > 0) {
		do
			n = read(fd, &byte, 1);
		while (n < 0 && errno == EINTR);
	}
	close(fd);
	if (ready == 0)
		fprintf(stderr, "wgd: the worker did not report ready within %d s\n",
			READY_TIMEOUT_MS / 1000);
	return n == 1 && byte == WGD_READY_BYTE;
}

/* Non-blocking reap; true once the worker is gone (status in s->worker_status). */
static bool worker_reap(struct supervisor *s)
{
	pid_t pid;

	if (!s->worker)
		return true;
	pid = waitpid(s->worker, &s->worker_status, WNOHANG);
	if (pid == s->worker || (pid < 0 && errno == ECHILD)) {
		s->worker = 0;
		return true;
	}
	return false;
}

/* Asks the worker to stop and waits for it; SIGKILL after STOP_TIMEOUT_MS. */
static void worker_stop(struct supervisor *s)
{
	const struct timespec poll = { 0, STOP_POLL_MS * 1000000L };

	close_fd(&s->lifeline_fd);
	if (!s->worker)
		return;
	/* EPERM without CAP_KILL (a lean systemd unit): the lifeline suffices then */
	kill(s->worker, SIGTERM);
	kill(s->worker, SIGCONT); /* a stopped worker would act on neither before SIGKILL */
	for (int waited = 0; !worker_reap(s); waited += STOP_POLL_MS) {
		if (waited >= STOP_TIMEOUT_MS) {
			log_error("The worker (pid %ld) did not stop; killing it", (long)s->worker);
			kill(s->worker, SIGKILL);
			while (waitpid(s->worker, &s->worker_status, 0) < 0 && errno == EINTR)
				;
			s->worker = 0;
			return;
		}
		nanosleep(&poll, NULL);
	}
}

/*
 * The launcher exits 0 on this byte; systemd starts ordering after us on READY=1.
 * Daemonised, neither process may then hold the launcher's stderr (`wgctl up IF 2>&1 |
 * cat` would never end): we switch to syslog first, the worker did at its ready point.
 */
static void report_ready(struct supervisor *s)
{
	char byte = WGD_READY_BYTE;
	int ret;

	ret = s->ready_fd >= 0 ? log_to_syslog() : 0; /* -f (and systemd) keep stderr */
	if (ret < 0)
		log_error("Cannot put stdio on /dev/null: %s", strerror(-ret));
	if (s->ready_fd >= 0 && write(s->ready_fd, &byte, 1) != 1)
		log_error("Could not notify the launcher: %s", strerror(errno));
	close_fd(&s->ready_fd);
	ret = notify_ready();
	if (ret < 0)
		log_error("Cannot notify systemd: %s", strerror(-ret));
}

/* -c: the config into the worker, the interface around it, PostUp. 0 or -1 (said why). */
static int configure(struct supervisor *s)
{
	const struct uapi_client_bounds b = uapi_client_worker_bounds(&s->conf->dev);
	char err[ERR_LEN];
	int ret;

	ret = uapi_client_set_bounded(s->ifname, &s->conf->dev, &b);
	if (ret == -EADDRINUSE && (s->conf->dev.flags & CFG_DEV_HAS_LISTEN_PORT)) {
		fprintf(stderr, "wgd: cannot bind UDP port %u: %s\n", s->conf->dev.listen_port,
			strerror(-ret));
		return -1;
	}
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot configure %s through its UAPI socket: %s\n", s->ifname,
			uapi_client_worker_strerror(ret, &b, err, sizeof(err)));
		return -1;
	}
	ret = ifconfig_init(&s->ic, s->ifname, err, sizeof(err));
	s->ic.endpoint_nl = s->home_nl;
	if (ret == 0)
		ret = netns_vrf_attach(&s->ic, s->conf, err, sizeof(err));
	if (ret == 0)
		ret = ifconfig_up(&s->ic, s->conf, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "wgd: %s\n", err);
		return -1;
	}
	if (s->conf->dns_len)
		log_info("DNS= is not applied by wgd: use a PostUp hook (see wgd(8))");
	if (hooks_run(s, "PostUp", s->conf->post_up, s->conf->post_up_len) < 0)
		return -1;
	s->is_up = true;
	return 0;
}

/* SIGHUP or reload=1 on the control socket (which answers a bare daemon itself). */
static int reload(void *ctx, struct reload_result *res)
{
	struct supervisor *s = ctx;
	const struct conf_peer_extra *before = s->conf ? s->conf->peer_extra : NULL;
	int ret = notify_reloading(), status;

	if (ret < 0)
		log_error("Cannot notify systemd: %s", strerror(-ret));
	status = reload_apply(s->ifname, s->o->conf_path, s->conf, &s->ic, res);
	if (status < 0)
		log_error("Reload of %s failed (see above)", s->o->conf_path);
	/*
	 * The device took the new file exactly when *s->conf was replaced (its peer table,
	 * allocated while the old one lived, is elsewhere): then every endpoint host name is
	 * looked up again, as `wg syncconf' would. A refused file changes nothing, here too.
	 */
	if (s->conf && s->conf->peer_extra != before)
		(void)resolver_update(&s->resolver, s->conf, clock_boottime_ns());
	ret = notify_ready();
	if (ret < 0)
		log_error("Cannot notify systemd: %s", strerror(-ret));
	return status;
}

/* plan=1 on the control socket: what a reload would do, done by nobody. */
static int plan(void *ctx, bool json, char **text, struct reload_result *res)
{
	struct supervisor *s = ctx;

	return reload_plan(s->ifname, s->o->conf_path, s->conf, &s->ic, json, text, res);
}

/* reach=1 on the control socket: the file's peers, their Reach and refused packets. */
static int reach(void *ctx, char *buf, size_t len)
{
	struct supervisor *s = ctx;

	buf[0] = '\0';
	return s->conf ? reach_report(&s->ic.reach, s->ifname, s->conf, buf, len) : 0;
}

static void stop(void *ctx)
{
	struct supervisor *s = ctx;

	s->is_stopping = true;
	loop_stop(&s->loop);
}

static void on_signal(void *ctx, int signo)
{
	struct supervisor *s = ctx;

	switch (signo) {
	case SIGHUP:
		if (s->conf)
			(void)reload(s, &(struct reload_result){ 0 });
		else
			log_info("Received SIGHUP, but there is no config file (-c) to reload");
		break;
	case SIGCHLD:
		if (!worker_reap(s))
			break;
		if (WIFEXITED(s->worker_status))
			log_info("The worker exited with status %d", WEXITSTATUS(s->worker_status));
		else
			log_error("The worker was killed by signal %d", WTERMSIG(s->worker_status));
		loop_stop(&s->loop);
		break;
	default:
		log_info("Received signal %d, shutting down", signo);
		s->is_stopping = true;
		loop_stop(&s->loop);
		break;
	}
}

/* Shutdown and cleanup for every path past the fork; returns the exit status. */
static int teardown(struct supervisor *s, int status)
{
	int ret = notify_stopping();
	bool hooks = s->conf && s->is_up; /* a failed start runs none, as in wg-quick */

	if (ret < 0)
		log_error("Cannot notify systemd: %s", strerror(-ret));
	/* PreDown only while the link still exists: not when the worker left with it */
	if (hooks && s->worker &&
	    hooks_run(s, "PreDown", s->conf->pre_down, s->conf->pre_down_len) < 0)
		status = 1;
	ifconfig_down(&s->ic);
	worker_stop(s);
	if (hooks && hooks_run(s, "PostDown", s->conf->post_down, s->conf->post_down_len) < 0)
		status = 1;
	uapi_unlink(s->ifname);
	control_clear(&s->ctl);
	ifconfig_clear(&s->ic);
	netns_clear(s);
	control_finish_stop(&s->ctl, status); /* `wgctl down' returns: all is undone */
	return status;
}

/*
 * Namespace=/--netns: opened before anything exists, so a wrong name creates nothing.
 * 0 or -1 after saying why.
 */
static int netns_prepare(struct supervisor *s)
{
	const char *name = s->o->netns ? s->o->netns : s->conf ? s->conf->netns : NULL;

	if (!name)
		return 0;
	/* the file's name goes with the conf a reload replaces: keep a copy */
	snprintf(s->netns_name, sizeof(s->netns_name), "%s", name);
	s->netns = s->netns_name;
	s->netns_fd = netns_open(name);
	if (s->netns_fd < 0) {
		fprintf(stderr, "wgd: cannot open network namespace `%s' (%s/%s): %s\n", name,
			NETNS_RUN_DIR, name, strerror(-s->netns_fd));
		return -1;
	}
	s->home_fd = netns_open_self();
	if (s->home_fd < 0) {
		fprintf(stderr, "wgd: cannot open our own network namespace: %s\n",
			strerror(-s->home_fd));
		return -1;
	}
	return 0;
}

/*
 * Once the worker serves (its UDP sockets bound here, or bound here when the link comes
 * up: it never leaves this namespace), the TUN goes into the tenant's namespace and the
 * supervisor follows it for good. 0 or -1 after saying why.
 */
static int netns_move(struct supervisor *s)
{
	char err[ERR_LEN];

	if (s->netns_fd < 0)
		return 0;
	if (netns_move_link(s->ifname, s->netns_fd, &s->home_nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "wgd: %s\n", err);
		return -1;
	}
	log_info("%s moved into network namespace %s; its UDP sockets stay here", s->ifname,
		 s->netns);
	return 0;
}

/* Up to the running worker; 0, 1 in the worker child, or -1 after saying why. */
static int start(struct supervisor *s)
{
	int tun_fd, uapi_fd, ready_rd = -1, ret;

	ret = block_signals();
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot block signals: %s\n", strerror(-ret));
		return -1;
	}
	if (s->conf && hooks_run(s, "PreUp", s->conf->pre_up, s->conf->pre_up_len) < 0)
		return -1;
	tun_fd = tun_open(s->o->ifname, s->ifname);
	if (tun_fd < 0) {
		fprintf(stderr, "wgd: cannot create TUN interface `%s': %s\n", s->o->ifname,
			strerror(-tun_fd));
		return -1;
	}
	ret = tun_set_mtu(s->ifname, TUN_DEFAULT_MTU);
	if (ret < 0)
		log_error("Cannot set the MTU of %s to %d: %s", s->ifname, TUN_DEFAULT_MTU,
			  strerror(-ret));
	ret = uapi_listen(s->ifname, &uapi_fd);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create UAPI socket for `%s': %s\n", s->ifname,
			strerror(-ret));
		close(tun_fd);
		return -1;
	}
	ret = s->o->has_admin_gid ? uapi_grant_group(s->ifname, s->o->admin_gid) : 0;
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot open the UAPI socket of `%s' to group %u: %s\n",
			s->ifname, (unsigned int)s->o->admin_gid, strerror(-ret));
		close(uapi_fd);
		uapi_unlink(s->ifname);
		close(tun_fd);
		return -1;
	}
	ret = worker_start(s, tun_fd, uapi_fd, &ready_rd);
	if (ret != 0) {
		if (ret < 0) {
			fprintf(stderr, "wgd: cannot start the worker: %s\n", strerror(-ret));
			uapi_unlink(s->ifname);
		}
		return ret < 0 ? -1 : 1;
	}
	if (!worker_wait_ready(ready_rd))
		return -1; /* the worker printed why */
	return netns_move(s);
}

/*
 * -c: endpoint host names are looked up in the background (resolver.h), so a name whose
 * DNS is not up yet delays nothing; its peer gets the endpoint when the name resolves.
 */
static void resolve_start(struct supervisor *s)
{
	int ret;

	if (!s->conf)
		return;
	ret = resolver_init(&s->resolver, &s->loop, s->ifname, s->o->uid, s->o->gid);
	s->resolver.home_netns_fd = s->home_fd; /* DNS is asked where the sockets are */
	if (ret < 0) {
		log_error("Cannot start the endpoint resolver: %s", strerror(-ret));
		return;
	}
	(void)resolver_update(&s->resolver, s->conf, clock_boottime_ns()); /* logs failures */
}

/* The supervisor's life after a successful start. Returns the exit status. */
static int serve(struct supervisor *s)
{
	int ret;

	ret = loop_init(&s->loop);
	if (ret == 0)
		ret = loop_add_signals(&s->loop, handled_signals,
				       sizeof(handled_signals) / sizeof(handled_signals[0]),
				       on_signal, s);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot watch signals: %s\n", strerror(-ret));
		loop_clear(&s->loop);
		return teardown(s, 1);
	}
	ret = control_init(&s->ctl, &s->loop,
			   &(struct control_opts){ .ifname = s->ifname,
						   .conf_path = s->conf ? s->o->conf_path : NULL,
						   .has_admin_gid = s->o->has_admin_gid,
						   .admin_gid = s->o->admin_gid,
						   .reload = reload,
						   .plan = plan,
						   .stop = stop,
						   .reach = reach,
						   .ctx = s });
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create the control socket of `%s': %s\n", s->ifname,
			strerror(-ret));
		loop_clear(&s->loop);
		return teardown(s, 1);
	}
	ret = follow_start(&s->follow, &s->loop, s->lifeline_fd, s->conf ? &s->ic : NULL, s->conf);
	if (ret < 0)
		log_error("Cannot follow the peers and the link of %s: %s", s->ifname,
			  strerror(-ret));
	log_info("Supervisor up (pid %ld), worker pid %ld", (long)getpid(), (long)s->worker);
	resolve_start(s);
	report_ready(s);
	ret = loop_run(&s->loop, NULL, NULL);
	if (ret < 0)
		log_error("Event loop failed: %s", strerror(-ret));
	follow_stop(&s->follow);
	resolver_clear(&s->resolver);
	loop_clear(&s->loop);
	if (s->is_stopping || ret < 0)
		return teardown(s, ret < 0 ? 1 : 0);
	/* the worker left on its own: an orderly exit (link deleted) is ours too */
	return teardown(s, WIFEXITED(s->worker_status) ? WEXITSTATUS(s->worker_status) : 1);
}

int supervisor_run(const struct supervisor_opts *o)
{
	struct supervisor s = {
		.o = o,
		.conf = o->conf,
		.lifeline_fd = -1,
		.ready_fd = o->ready_fd,
		.netns_fd = -1,
		.home_fd = -1,
	};
	int ret, status;

	control_zero(&s.ctl);
	snprintf(s.ifname, sizeof(s.ifname), "%s", o->ifname);
	if (s.conf)
		ifconfig_policy_prepare(s.conf);
	if (netns_prepare(&s) < 0) {
		netns_clear(&s);
		if (s.conf)
			conf_clear(s.conf);
		return 1;
	}
	ret = start(&s);
	if (ret > 0)
		return s.worker_status; /* in the worker, which is done */
	if (ret < 0)
		status = s.worker ? teardown(&s, 1) : 1;
	else if (s.conf && configure(&s) < 0)
		status = teardown(&s, 1);
	else {
		s.is_up = true;
		status = serve(&s);
	}
	close_fd(&s.ready_fd);
	netns_clear(&s);
	if (s.conf)
		conf_clear(s.conf);
	return status;
}
