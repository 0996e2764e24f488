/* SPDX-License-Identifier: MIT */
/*
 * wgd [-f|--foreground] [-c FILE] [-u|--user USER] IFNAME. Without -c this is the
 * xplatform contract (wireguard.com/xplatform) that wg-quick relies on: the interface and
 * its UAPI socket exist when the command returns. With -c FILE the file is parsed before
 * anything is created, then the daemon brings the interface up as the file says.
 *
 * Unless in the foreground, the launcher forks the supervisor (in a new session) and
 * waits on a pipe until it reports the interface ready (exit 0) or closes the pipe after
 * printing why not on the shared stderr (exit 1). The supervisor and the worker it forks
 * are described in supervisor.c. Until ready the daemon logs on the launcher's stderr, so
 * start-up errors reach the admin; once ready, a daemonised wgd holds none of the launcher's
 * descriptors (stdio on /dev/null, the log in syslog) and so never holds a caller's pipe
 * open. With -f it keeps stderr. The only file allowed to exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wgd/conf.h"
#include "wgd/log.h"
#include "wgd/privs.h"
#include "wgd/supervisor.h"
#include "wgd/worker.h"

#ifndef WGD_VERSION
#define WGD_VERSION "0.1.0"
#endif

enum { CONF_MSG_LEN = 1024 };

struct options {
	bool foreground;
	const char *conf_path;
	const char *user;
	const char *admin_group;
	const char *netns;
	const char *ifname;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wgd [-f|--foreground] [-c FILE] [-u|--user USER] [-g|--admin-group GROUP]\n"
		"           [--netns NAME] IFNAME\n"
		"       wgd --version | --help\n"
		"Creates the WireGuard interface IFNAME, configured with wg(8) through\n"
		"%s/wireguard/IFNAME.sock, or from FILE (wg-quick format) with -c.\n"
		"Packets are handled as USER (default %s, else %s); SIGHUP reloads FILE.\n"
		"Root and members of GROUP may use the control socket.\n"
		"--netns moves IFNAME into /run/netns/NAME; the UDP sockets stay here.\n"
		"Environment: LOG_LEVEL=silent|error|info|verbose, WG_PROCESS_FOREGROUND=1.\n",
		RUNSTATEDIR, PRIVS_DEFAULT_USER, PRIVS_FALLBACK_USER);
}

/*
 * Descriptors above stderr are the caller's business (a script's open file, an ssh
 * session's pipe): a daemon must not keep them. Before anything of ours is opened.
 */
static void close_inherited_fds(void)
{
	long max;

	if (close_range(3, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

/* Launcher side of the fork: waits for the supervisor's ready byte. */
static int wait_ready(int fd)
{
	char byte = 0;
	ssize_t n;

	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	/* The daemon already printed its error line on the shared stderr. */
	return n == 1 && byte == WGD_READY_BYTE ? 0 : 1;
}

/*
 * Forks the supervisor. Returns 0 in the child, with *ready_fd its end of the pipe, in a
 * new session with stdin and stdout on /dev/null; in the parent the pid (> 0), with
 * *ready_fd the end to wait on; or -errno.
 */
static pid_t daemonize(int *ready_fd)
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
		*ready_fd = fds[0];
		return pid;
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

/* Fills o from argv; false after printing why not. */
static bool parse_args(int argc, char *argv[], struct options *o)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "admin-group", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "netns", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fc:u:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'c':
			o->conf_path = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'g':
			o->admin_group = optarg;
			break;
		case 'N':
			o->netns = optarg;
			break;
		case 'V':
			printf("wgd v%s\n", WGD_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return false;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return false;
	}
	o->ifname = argv[optind];
	if (strlen(o->ifname) >= IFNAMSIZ) {
		fprintf(stderr, "wgd: interface name `%s' is too long (at most %d characters)\n",
			o->ifname, IFNAMSIZ - 1);
		return false;
	}
	if (!*o->ifname || strchr(o->ifname, '/')) {
		fprintf(stderr, "wgd: invalid interface name `%s'\n", o->ifname);
		return false;
	}
	return true;
}

/* -c: the whole file, before anything is created. 0, or -1 after its one error line. */
static int load_conf(const char *path, struct conf *conf)
{
	char err[CONF_MSG_LEN] = "", warn[CONF_MSG_LEN] = "";

	if (conf_load(conf, path, CONF_FULL, err, sizeof(err), warn, sizeof(warn)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	fputs(warn, stderr);
	return 0;
}

/*
 * The worker's account: --user, else the file's User=, else the dedicated system user
 * `make install` creates, else nobody (which other services share: one line says so).
 */
static int lookup_user(const struct options *o, const struct conf *conf, uid_t *uid, gid_t *gid)
{
	const char *user = o->user ? o->user : conf->user;
	int ret;

	if (!user) {
		user = PRIVS_DEFAULT_USER;
		ret = privs_user_lookup(user, uid, gid);
		if (ret != -ENOENT)
			goto out;
		fprintf(stderr, "wgd: no system user `%s' (make install creates it): %s\n",
			PRIVS_DEFAULT_USER, "the worker runs as " PRIVS_FALLBACK_USER);
		user = PRIVS_FALLBACK_USER;
	}
	ret = privs_user_lookup(user, uid, gid);
out:
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot use user `%s': %s\n", user,
			ret == -ENOENT ? "no such user" : strerror(-ret));
		return -1;
	}
	return 0;
}

/* The UAPI admin group: --admin-group, else the file's AdminGroup=, else none. */
static int lookup_admin_group(const struct options *o, const struct conf *conf,
			      struct supervisor_opts *so)
{
	const char *group = o->admin_group ? o->admin_group : conf->admin_group;
	int ret;

	if (!group)
		return 0;
	ret = privs_group_lookup(group, &so->admin_gid);
	if (ret < 0) {
		fprintf(stderr, "wgd: cannot use admin group `%s': %s\n", group,
			ret == -ENOENT ? "no such group" : strerror(-ret));
		return -1;
	}
	so->has_admin_gid = true;
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = { .foreground = env_foreground() };
	struct supervisor_opts so = { .ready_fd = -1 };
	struct conf conf = { 0 };
	char *abs_path = NULL;
	const char *what;
	int status, ret;
	pid_t pid;

	close_inherited_fds();
	umask(0077);
	ret = privs_harden_process(&what);
	if (ret < 0) {
		fprintf(stderr, "wgd: %s: %s\n", what, strerror(-ret));
		return 1;
	}
	if (!parse_args(argc, argv, &o))
		return 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "wgd: cannot initialise libsodium\n");
		return 1;
	}
	if (o.conf_path && load_conf(o.conf_path, &conf) < 0)
		return 1;
	/* reloads happen after the chdir("/") of daemonize */
	if (o.conf_path && !(abs_path = realpath(o.conf_path, NULL)))
		abs_path = strdup(o.conf_path);
	if (o.conf_path && !abs_path)
		fprintf(stderr, "wgd: out of memory\n");
	if ((o.conf_path && !abs_path) || lookup_user(&o, &conf, &so.uid, &so.gid) < 0 ||
	    lookup_admin_group(&o, &conf, &so) < 0) {
		conf_clear(&conf);
		free(abs_path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init(o.ifname);
	if (!o.foreground) {
		pid = daemonize(&so.ready_fd);
		if (pid != 0) {
			conf_clear(&conf); /* the launcher keeps no keys while it waits */
			free(abs_path);
		}
		if (pid < 0) {
			fprintf(stderr, "wgd: cannot daemonise: %s\n", strerror((int)-pid));
			return 1;
		}
		if (pid > 0)
			return wait_ready(so.ready_fd);
	}
	so.ifname = o.ifname;
	so.netns = o.netns;
	so.conf_path = abs_path;
	so.conf = o.conf_path ? &conf : NULL;
	status = supervisor_run(&so);
	conf_clear(&conf);
	free(abs_path);
	return status;
}
