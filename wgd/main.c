/* SPDX-License-Identifier: MIT */
/*
 * wgd [-f|--foreground] IFNAME: the xplatform contract (wireguard.com/xplatform). The
 * parent creates the TUN interface and the UAPI socket, so both exist when it returns;
 * unless in the foreground it then forks, and the child (the daemon) reports readiness
 * over a pipe before the parent exits 0. The daemon runs the loop until SIGTERM/SIGINT
 * or until its link is deleted, then removes its socket. Like wireguard-go, the daemon
 * keeps the launcher's stderr for its log. The only file allowed to exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wgd/clock.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/tun.h"
#include "wgd/uapi.h"

#ifndef WGD_VERSION
#define WGD_VERSION "0.1.0"
#endif

enum { READY_BYTE = 'R' };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wgd [-f|--foreground] IFNAME\n"
		"       wgd --version | --help\n"
		"Creates the WireGuard interface IFNAME, configured with wg(8) through\n"
		"%s/wireguard/IFNAME.sock.\n"
		"Environment: LOG_LEVEL=silent|error|info|verbose, WG_PROCESS_FOREGROUND=1.\n",
		RUNSTATEDIR);
}

static void on_signal(void *ctx, int signo)
{
	log_info("Received signal %d, shutting down", signo);
	loop_stop(ctx);
}

static void on_timer(void *ctx, uint64_t now_ns)
{
	device_timers_run(ctx, now_ns);
}

/* Tells the waiting parent that the daemon is up (or, with an error byte, that it is not). */
static void notify_parent(int *fd, char byte)
{
	if (*fd < 0)
		return;
	if (write(*fd, &byte, 1) != 1)
		log_error("Could not notify the launcher: %s", strerror(errno));
	close(*fd);
	*fd = -1;
}

/* The daemon proper: owns tun_fd and uapi_fd. Returns the process exit status. */
static int run(const char *ifname, int tun_fd, int uapi_fd, int ready_fd)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	struct uapi_server srv;
	struct device *dev = NULL;
	struct loop loop;
	int ret, status = 1;

	ret = loop_init(&loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create the event loop: %s\n", strerror(-ret));
		close(tun_fd);
		close(uapi_fd);
		goto out_unlink;
	}
	ret = device_create(&dev, ifname, tun_fd, &loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot set up interface `%s': %s\n", ifname, strerror(-ret));
		close(uapi_fd);
		goto out_loop;
	}
	ret = uapi_server_init(&srv, dev, &loop, uapi_fd);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot serve the UAPI socket of `%s': %s\n", ifname,
			strerror(-ret));
		close(uapi_fd);
		goto out_device;
	}
	ret = loop_add_signals(&loop, signals, sizeof(signals) / sizeof(signals[0]), on_signal,
			       &loop);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot watch signals: %s\n", strerror(-ret));
		goto out_uapi;
	}
	log_info("Interface %s up, listening on UDP port %u", dev->ifname, dev->sock.port);
	notify_parent(&ready_fd, READY_BYTE);
	device_rearm(dev);
	ret = loop_run(&loop, on_timer, dev);
	if (ret < 0)
		log_error("Event loop failed: %s", strerror(-ret));
	status = ret < 0 ? 1 : 0;
	log_info("Shutting down");
out_uapi:
	uapi_server_clear(&srv);
out_device:
	device_destroy(dev);
out_loop:
	loop_clear(&loop);
out_unlink:
	uapi_unlink(ifname);
	if (ready_fd >= 0)
		close(ready_fd);
	return status;
}

/* Parent side of the fork: waits for the daemon's ready byte. */
static int wait_ready(int fd)
{
	char byte = 0;
	ssize_t n;

	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	/* The daemon already printed its error line on the shared stderr. */
	return n == 1 && byte == READY_BYTE ? 0 : 1;
}

/* Forks the daemon; returns in the child only, with *ready_fd its end of the pipe. */
static int daemonize(int *ready_fd)
{
	int fds[2], null;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid > 0) {
		close(fds[1]);
		exit(wait_ready(fds[0]));
	}
	close(fds[0]);
	*ready_fd = fds[1];
	if (setsid() < 0 || chdir("/") < 0)
		return -errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	return 0;
}

static bool env_foreground(void)
{
	const char *v = getenv("WG_PROCESS_FOREGROUND");

	return v && !strcmp(v, "1");
}

/* Returns the interface name from argv, or NULL after printing why not. */
static const char *parse_args(int argc, char *argv[], bool *foreground)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*foreground = true;
			break;
		case 'V':
			printf("wgd v%s\n", WGD_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return NULL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return NULL;
	}
	return argv[optind];
}

int main(int argc, char *argv[])
{
	bool foreground = env_foreground();
	char name[IFNAMSIZ];
	const char *ifname;
	int tun_fd, uapi_fd, ready_fd = -1, ret;

	umask(0077);
	ifname = parse_args(argc, argv, &foreground);
	if (!ifname)
		return 1;
	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		fprintf(stderr, "wgd: invalid interface name `%s'\n", ifname);
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "wgd: cannot initialise libsodium\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init(ifname);
	tun_fd = tun_open(ifname, name);
	if (tun_fd < 0) {
		fprintf(stderr, "wgd: cannot create TUN interface `%s': %s\n", ifname,
			strerror(-tun_fd));
		return 1;
	}
	ret = uapi_listen(name, &uapi_fd);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot create UAPI socket for `%s': %s\n", name,
			strerror(-ret));
		close(tun_fd);
		return 1;
	}
	if (!foreground) {
		ret = daemonize(&ready_fd);
		if (ret < 0) {
			fprintf(stderr, "wgd: cannot daemonise: %s\n", strerror(-ret));
			close(tun_fd);
			close(uapi_fd);
			uapi_unlink(name);
			return 1;
		}
	}
	return run(name, tun_fd, uapi_fd, ready_fd);
}
