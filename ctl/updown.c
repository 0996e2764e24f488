/* SPDX-License-Identifier: MIT */
/*
 * wgctl up | down | reload | check: the daemon's lifecycle. `up' starts `wgd -c CONF IF'
 * and waits for the launcher, which returns once the interface is ready. wgd's
 * supervisor serves a control socket (wgd/control.h) in this mount namespace's
 * RUNSTATEDIR/wgd, so `down', `reload' and `check' talk to exactly the daemon behind
 * the interface's files here and wait for its answer: `down' returns once the teardown
 * is complete, `reload' prints the daemon's outcome (or the parser's FILE:LINE error
 * before anything is sent). A daemon without a control socket (wireguard-go) is stopped
 * by SIGTERM through a pidfd, once the kernel has shown which process holds the very
 * socket file at the path (serving.c), and reloaded by syncing the config file in.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "wgd/conf.h"
#include "wgd/control.h"

enum {
	DOWN_TIMEOUT_MS = 5000,
	POLL_MS = 50,
	MSG_LEN = 1024,
};

/* ${WGD}, else the wgd next to this executable, else "wgd" on PATH. */
static void wgd_path(char *buf, size_t len)
{
	const char *env = getenv("WGD");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && (size_t)(slash - self) + sizeof("/wgd") <= len) {
			snprintf(buf, len, "%.*s/wgd", (int)(slash - self), self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "wgd");
}

/* Runs the launcher and waits for it: its status, or -1 after the error line. */
static int run_wgd(const char *wgd, const char *conf, const char *ifname)
{
	const char *args[] = { wgd, "-c", conf, ifname, NULL };
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ctl_err("Unable to start `%s': %s", wgd, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(wgd, (char *const *)(uintptr_t)args);
		ctl_err("Unable to start `%s': %s", wgd, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ctl_err("Unable to wait for `%s': %s", wgd, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	ctl_err("`%s' was killed by signal %d", wgd, WTERMSIG(status));
	return -1;
}

int up_main(int argc, const char *argv[])
{
	char conf[PATH_MAX], wgd[PATH_MAX];
	int fd, status;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]) || !ctl_conf_path(conf, sizeof(conf), argv[1]))
		return 1;
	if (access(conf, R_OK) < 0) {
		ctl_err("Unable to read `%s': %s", conf, strerror(errno));
		return 1;
	}
	fd = uapi_client_connect(argv[1]);
	if (fd >= 0) {
		close(fd);
		ctl_err("Interface `%s' is already up", argv[1]);
		return 1;
	}
	wgd_path(wgd, sizeof(wgd));
	status = run_wgd(wgd, conf, argv[1]);
	if (status > 0 && status != 127)
		ctl_err("`%s' exited with status %d", wgd, status);
	return status == 0 ? 0 : 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The interface is down here: no UAPI socket (a stale file counts as none), no link. */
static bool interface_gone(const char *ifname)
{
	int fd = uapi_client_connect(ifname);

	if (fd >= 0)
		close(fd);
	return fd == -ENODEV && !if_nametoindex(ifname);
}

static bool wait_gone(const char *ifname)
{
	for (long waited = 0; waited < DOWN_TIMEOUT_MS; waited += POLL_MS) {
		if (interface_gone(ifname))
			return true;
		sleep_ms(POLL_MS);
	}
	return interface_gone(ifname);
}

/* --- the control socket ------------------------------------------------------------ */

static void control_err(const char *ifname, int err)
{
	if (err == -EACCES || err == -EPERM)
		ctl_err("Unable to access the control socket " CONTROL_DIR "/%s" CONTROL_SUFFIX
			": %s (it is for root and the interface's AdminGroup)",
			ifname, strerror(-err));
	else if (err == -EPROTO)
		ctl_err("The daemon of `%s' closed its control socket without an answer: it "
			"refused this user or stopped (see its log)",
			ifname);
	else
		ctl_uapi_err("reach the daemon of", ifname, err);
}

/* Prints a reply's lines: messages on stdout, warnings and errors as they are on stderr. */
void ctl_print_reply(const char *reply)
{
	while (*reply) {
		size_t n = strcspn(reply, "\n");
		const char *eq = memchr(reply, '=', n);

		if (eq && !strncmp(reply, "message=", 8))
			printf("%.*s\n", (int)(n - 8), reply + 8);
		else if (eq && (!strncmp(reply, "error=", 6) || !strncmp(reply, "warning=", 8)))
			fprintf(stderr, "%.*s\n", (int)(n - (size_t)(eq + 1 - reply)), eq + 1);
		reply += n + (reply[n] == '\n');
	}
}

int ctl_control_request(const char *ifname, const char *op, char **reply)
{
	int fd = control_client_connect(ifname), ret;

	if (fd == -ENODEV)
		return CTL_NO_DAEMON;
	if (fd < 0) {
		control_err(ifname, fd);
		return CTL_NO_REPLY;
	}
	ret = control_client_request(fd, op, reply);
	close(fd);
	if (ret == -EPROTO || ret == -ENOMEM || (ret < 0 && !*reply)) {
		control_err(ifname, ret);
		return CTL_NO_REPLY;
	}
	return ret;
}

/* Parses path as the daemon will, printing the outcome; false on an error. */
static bool parse_file(const char *path, bool say_ok)
{
	char err[MSG_LEN] = "", warn[MSG_LEN] = "";
	struct conf c;

	if (conf_load(&c, path, CONF_FULL, err, sizeof(err), warn, sizeof(warn)) < 0) {
		fputs(warn, stderr);
		fprintf(stderr, "%s\n", err);
		return false;
	}
	conf_clear(&c);
	if (say_ok) {
		fputs(warn, stderr);
		printf("%s: OK\n", path);
	}
	return true;
}

/* --- down ---------------------------------------------------------------------------- */

/* wgd: the supervisor answers stop=1 once routes, addresses, worker and sockets are gone. */
static int down_wgd(const char *ifname, char *reply)
{
	char status[16] = "0";

	control_reply_value(reply, "status", status, sizeof(status));
	free(reply);
	if (strcmp(status, "0"))
		ctl_err("The daemon of `%s' stopped with status %s (a hook failed?): see its log",
			ifname, status);
	if (wait_gone(ifname))
		return 0;
	ctl_err("Interface `%s' is still up after its daemon stopped", ifname);
	return 1;
}

/* Any other daemon: SIGTERM to the process that holds this very socket, or refuse. */
static int down_other(const char *ifname)
{
	char path[PATH_MAX];
	int fd = uapi_client_connect(ifname), pidfd, ret;
	pid_t pid;

	if (fd < 0) {
		ctl_uapi_err("access interface", ifname, fd);
		return 1;
	}
	close(fd);
	snprintf(path, sizeof(path), RUNSTATEDIR "/wireguard/%s.sock", ifname);
	ret = ctl_serving_pidfd(path, &pidfd, &pid);
	if (ret == -ESRCH)
		ctl_err("Cannot tell which process serves `%s' from this network namespace; "
			"run " PROG_NAME " there",
			path);
	else if (ret == -ETOOMANYREFS)
		ctl_err("Several processes hold `%s': not guessing which one to stop", path);
	else if (ret < 0)
		ctl_err("Unable to find the process serving `%s': %s", path, strerror(-ret));
	if (ret < 0)
		return 1;
	if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0) {
		ctl_err("Unable to signal the daemon of `%s' (pid %d): %s", ifname, (int)pid,
			strerror(errno));
		close(pidfd);
		return 1;
	}
	ret = ctl_pidfd_wait(pidfd, DOWN_TIMEOUT_MS);
	close(pidfd);
	if (ret == 0 && wait_gone(ifname))
		return 0;
	ctl_err("Interface `%s' is still up %d seconds after SIGTERM to pid %d", ifname,
		DOWN_TIMEOUT_MS / 1000, (int)pid);
	return 1;
}

int down_main(int argc, const char *argv[])
{
	char *reply = NULL;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]))
		return 1;
	ret = ctl_control_request(argv[1], "stop", &reply);
	if (ret == CTL_NO_DAEMON)
		return down_other(argv[1]);
	if (ret == CTL_NO_REPLY)
		return 1;
	if (ret < 0) {
		ctl_print_reply(reply);
		free(reply);
		return 1;
	}
	return down_wgd(argv[1], reply);
}

/* --- reload and check ------------------------------------------------------------------ */

/* Prints the daemon's answer to check=1 or reload=1; the exit status. */
static int outcome(char *reply, int ret)
{
	ctl_print_reply(reply);
	free(reply);
	return ret < 0 ? 1 : 0;
}

/*
 * Takes the flags out of argv (they may come anywhere): --dry-run and --json, as far as
 * allowed; returns the new argc, or -1 after the error line for any other "--" word.
 */
static int take_flags(int argc, const char *argv[], bool *dry_run, bool *json)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		if (dry_run && !strcmp(argv[i], "--dry-run")) {
			*dry_run = true;
		} else if (!strcmp(argv[i], "--json")) {
			*json = true;
		} else if (!strncmp(argv[i], "--", 2)) {
			ctl_err("Invalid argument: `%s'", argv[i]);
			return -1;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

int reload_main(int argc, const char *argv[])
{
	char path[PATH_MAX], *reply = NULL;
	bool dry_run = false, json = false;
	int ret;

	argc = take_flags(argc, argv, &dry_run, &json);
	if (argc != 2) {
		if (argc >= 0)
			fprintf(stderr, "Usage: %s %s <interface> [--dry-run [--json]]\n",
				PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]))
		return 1;
	if (json && !dry_run) {
		ctl_err("--json is for the plan: give --dry-run too");
		return 1;
	}
	if (dry_run)
		return ctl_plan(argv[1], json, false);
	ret = ctl_control_request(argv[1], "info", &reply);
	if (ret == CTL_NO_DAEMON)
		return ctl_reload_other(argv[1]);
	if (ret == CTL_NO_REPLY)
		return 1;
	/* the daemon's file, parsed here first when we can read it: the error, nothing sent */
	if (ret == 0 && control_reply_value(reply, "file", path, sizeof(path)) &&
	    access(path, R_OK) == 0 && !parse_file(path, false)) {
		free(reply);
		return 1;
	}
	free(reply);
	reply = NULL;
	ret = ctl_control_request(argv[1], "reload", &reply);
	if (ret == CTL_NO_DAEMON)
		ctl_err("The daemon of `%s' went away", argv[1]);
	if (ret == CTL_NO_REPLY || ret == CTL_NO_DAEMON)
		return 1;
	return outcome(reply, ret);
}

/* An argument with a '/', or naming a file that exists, is a file; else an interface. */
static bool is_file_arg(const char *arg)
{
	struct stat st;

	return strchr(arg, '/') || stat(arg, &st) == 0;
}

int check_main(int argc, const char *argv[])
{
	bool json = false;

	argc = take_flags(argc, argv, NULL, &json);
	if (argc != 2) {
		if (argc >= 0)
			fprintf(stderr,
				"Usage: %s %s <configuration filename> | <interface> [--json]\n",
				PROG_NAME, argv[0]);
		return 1;
	}
	if (is_file_arg(argv[1])) {
		if (json) {
			ctl_err("--json is for the plan of an interface, not a file");
			return 1;
		}
		return parse_file(argv[1], true) ? 0 : 1;
	}
	if (!ctl_parse_ifname(argv[1]))
		return 1;
	/* the plan; the file alone when nothing serves the interface here */
	return ctl_plan(argv[1], json, true);
}
