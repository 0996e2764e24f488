/* SPDX-License-Identifier: MIT */
/*
 * Which process serves a UNIX socket path, for a daemon without a control socket
 * (wireguard-go): SO_PEERCRED names whoever called listen(), which for a daemon that
 * binds before it forks is a launcher long gone. So ask the kernel (NETLINK_SOCK_DIAG,
 * unix_diag with UDIAG_SHOW_VFS) for the listening socket whose bound file is the very
 * file at the path (same st_dev and st_ino, not just the same name: another namespace
 * may have its own file there), then find the one process holding that socket in
 * /proc/PID/fd. The dump covers this network namespace only; a daemon elsewhere is not
 * found, and then the caller refuses rather than guesses.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "ctl/ctl.h"

enum {
	TCP_LISTEN_STATE = 10, /* TCP_LISTEN: the state of a listening UNIX socket too */
	DIAG_BUF = 32 << 10,
	KDEV_MINOR_BITS = 20, /* the kernel's dev_t (udiag_vfs_dev is sb->s_dev) */
};

/* Whether a unix_diag answer is a socket bound to the file (dev, ino); its inode then. */
static bool msg_matches(const struct nlmsghdr *h, const struct stat *st, unsigned int *sock_ino)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		const struct unix_diag_vfs *v = RTA_DATA(a);

		if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(*v))
			continue;
		if (v->udiag_vfs_ino == st->st_ino &&
		    v->udiag_vfs_dev >> KDEV_MINOR_BITS == major(st->st_dev) &&
		    (v->udiag_vfs_dev & ((1U << KDEV_MINOR_BITS) - 1)) == minor(st->st_dev)) {
			*sock_ino = m->udiag_ino;
			return true;
		}
	}
	return false;
}

/* Reads the dump to its end; 0 with *sock_ino set, -ESRCH if no socket matched, -errno. */
static int read_dump(int fd, const struct stat *st, unsigned int *sock_ino)
{
	static char buf[DIAG_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool found = false;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return found ? 0 : -ESRCH;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EPROTO;
			}
			if (!found)
				found = msg_matches(h, st, sock_ino);
		}
	}
}

/* The inode of the listening socket bound to the file st describes, in this netns. */
static int listener_inode(const struct stat *st, unsigned int *sock_ino)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_UNIX,
		       .udiag_states = 1U << TCP_LISTEN_STATE,
		       .udiag_show = UDIAG_SHOW_VFS },
	};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), ret;

	if (fd < 0)
		return -errno;
	ret = send(fd, &req, sizeof(req), 0) < 0 ? -errno : read_dump(fd, st, sock_ino);
	close(fd);
	return ret;
}

/* Whether pid has the socket with this inode among its descriptors. */
static bool holds_socket(pid_t pid, unsigned int sock_ino)
{
	char dir[64], link[PATH_MAX], target[64], want[64];
	struct dirent *ent;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%u]", sock_ino);
	d = opendir(dir);
	while (d && !found && (ent = readdir(d))) {
		ssize_t len;

		snprintf(link, sizeof(link), "%s/%s", dir, ent->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		found = !strcmp(target, want);
	}
	if (d)
		closedir(d);
	return found;
}

/* The one process holding the socket: 0, -ESRCH (none visible), -ETOOMANYREFS (several). */
static int holder(unsigned int sock_ino, pid_t *pid)
{
	struct dirent *ent;
	int found = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((ent = readdir(d))) {
		pid_t p = (pid_t)strtol(ent->d_name, NULL, 10);

		if (p > 0 && holds_socket(p, sock_ino)) {
			*pid = p;
			found++;
		}
	}
	closedir(d);
	return found == 1 ? 0 : found ? -ETOOMANYREFS : -ESRCH;
}

int ctl_serving_pidfd(const char *path, int *pidfd, pid_t *pid)
{
	unsigned int sock_ino = 0;
	struct stat st;
	int ret, fd;

	if (stat(path, &st) < 0)
		return -errno;
	ret = listener_inode(&st, &sock_ino);
	ret = ret ?: holder(sock_ino, pid);
	if (ret < 0)
		return ret;
	fd = pidfd_open(*pid, 0);
	if (fd < 0)
		return -errno;
	/* the pid cannot be recycled under the pidfd: check it is still the same process */
	if (!holds_socket(*pid, sock_ino)) {
		close(fd);
		return -ESRCH;
	}
	*pidfd = fd;
	return 0;
}

int ctl_pidfd_wait(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n ? 0 : -ETIMEDOUT;
}
