/* SPDX-License-Identifier: MIT */
/*
 * wgctl up | down | reload IF: the daemon's lifecycle, found through its UAPI socket.
 * `up' starts `wgd -c CONF IF' and waits for the launcher, which returns once the
 * interface is ready. The process serving the socket (SO_PEERCRED, or a search of /proc
 * when that names a launcher that has exited, as with wireguard-go) is wgd's unprivileged
 * worker when wgd runs as a root supervisor with a worker child: signals then go to the
 * supervisor, recognised as a parent whose /proc comm is "wgd" (else the server itself).
 * `down' sends SIGTERM and waits up to 5 s for the socket and that process to go; `reload'
 * sends SIGHUP to wgd, and for any other daemon (wireguard-go has no reload) syncs the
 * config file in.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

enum {
	DOWN_TIMEOUT_MS = 5000,
	POLL_MS = 50,
	COMM_LEN = 64,
	UNIX_FLAG_LISTENING = 0x10000, /* __SO_ACCEPTCON in /proc/net/unix */
};

/* /proc/PID/comm without its newline; false if pid is gone. */
static bool proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static pid_t proc_ppid(pid_t pid)
{
	char path[64], line[256];
	pid_t ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	}
	fclose(f);
	return ppid;
}

struct daemon_id {
	pid_t target; /* whom to signal */
	bool is_wgd;
};

/* Inodes of the listening UNIX sockets bound at path, as pid's network namespace sees them. */
static size_t listener_inodes(pid_t pid, const char *path, unsigned long *inodes, size_t max)
{
	char file[64], line[512], name[256];
	unsigned long inode;
	unsigned int flags;
	size_t n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/net/unix", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*x %*x %x %*x %*x %lu %255s", &flags, &inode, name) == 3 &&
		    (flags & UNIX_FLAG_LISTENING) && !strcmp(name, path))
			inodes[n++] = inode;
	}
	fclose(f);
	return n;
}

/* Whether pid has the listening socket at path open. */
static bool holds_listener(pid_t pid, const char *path)
{
	unsigned long inodes[4], inode;
	char dir[64], link[PATH_MAX], target[64];
	size_t n = listener_inodes(pid, path, inodes, ARRAY_SIZE(inodes));
	struct dirent *ent;
	bool found = false;
	DIR *d;

	if (!n)
		return false;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	while (d && !found && (ent = readdir(d))) {
		ssize_t len;

		snprintf(link, sizeof(link), "%s/%s", dir, ent->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		for (size_t i = 0; i < n; i++)
			found |= inode == inodes[i];
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * The process serving ifname's socket. SO_PEERCRED names whoever called listen(), which
 * for a daemon that binds before it forks (wireguard-go) is a launcher long gone: then
 * look through /proc for the process that holds the listening socket.
 */
static bool serving_pid(const char *ifname, pid_t *pid)
{
	char path[PATH_MAX];
	struct dirent *ent;
	int ret = uapi_client_peer_pid(ifname, pid);
	DIR *d;

	if (ret < 0) {
		ctl_uapi_err("access interface", ifname, ret);
		return false;
	}
	snprintf(path, sizeof(path), RUNSTATEDIR "/wireguard/%s.sock", ifname);
	if (holds_listener(*pid, path))
		return true;
	d = opendir("/proc");
	while (d && (ent = readdir(d))) {
		pid_t p = (pid_t)strtol(ent->d_name, NULL, 10);

		if (p > 0 && holds_listener(p, path)) {
			*pid = p;
			closedir(d);
			return true;
		}
	}
	if (d)
		closedir(d);
	ctl_err("Unable to find the process serving `%s'", path);
	return false;
}

/* Finds the daemon behind ifname's socket; false after the error line. */
static bool find_daemon(struct daemon_id *d, const char *ifname)
{
	char comm[COMM_LEN];
	pid_t pid, ppid;

	if (!serving_pid(ifname, &pid))
		return false;
	ppid = proc_ppid(pid);
	if (ppid > 1 && proc_comm(ppid, comm, sizeof(comm)) && !strcmp(comm, "wgd")) {
		d->target = ppid;
		d->is_wgd = true;
		return true;
	}
	d->target = pid;
	d->is_wgd = proc_comm(pid, comm, sizeof(comm)) && !strcmp(comm, "wgd");
	return true;
}

static bool send_signal(pid_t pid, int sig, const char *ifname)
{
	if (kill(pid, sig) < 0) {
		ctl_err("Unable to signal the daemon of `%s' (pid %d): %s", ifname, (int)pid,
			strerror(errno));
		return false;
	}
	return true;
}

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

/* Gone, or a zombie its parent has yet to reap. */
static bool proc_gone(pid_t pid)
{
	char path[64], line[256];
	bool gone = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(line, sizeof(line), f)) {
		const char *paren = strrchr(line, ')'); /* comm may hold spaces */

		gone = paren && paren[1] == ' ' && paren[2] == 'Z';
	}
	fclose(f);
	return gone;
}

static bool socket_gone(const char *ifname)
{
	int fd = uapi_client_connect(ifname);

	if (fd >= 0)
		close(fd);
	return fd == -ENODEV;
}

/* Done when the socket is gone and the signalled process has exited. */
int down_main(int argc, const char *argv[])
{
	struct daemon_id d;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]) || !find_daemon(&d, argv[1]) ||
	    !send_signal(d.target, SIGTERM, argv[1]))
		return 1;
	for (long waited = 0; waited < DOWN_TIMEOUT_MS; waited += POLL_MS) {
		if (socket_gone(argv[1]) && proc_gone(d.target))
			return 0;
		sleep_ms(POLL_MS);
	}
	ctl_err("Interface `%s' is still up %d seconds after SIGTERM to pid %d", argv[1],
		DOWN_TIMEOUT_MS / 1000, (int)d.target);
	return 1;
}

int reload_main(int argc, const char *argv[])
{
	char conf[PATH_MAX];
	struct daemon_id d;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]) || !find_daemon(&d, argv[1]))
		return 1;
	if (d.is_wgd)
		return send_signal(d.target, SIGHUP, argv[1]) ? 0 : 1;
	/* not wgd: SIGHUP would most likely kill it; do what the reload would do instead */
	if (!ctl_conf_path(conf, sizeof(conf), argv[1]))
		return 1;
	return ctl_syncconf(argv[1], conf);
}
