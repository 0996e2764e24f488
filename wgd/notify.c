/* SPDX-License-Identifier: MIT */
/*
 * sd_notify(3) by hand: the protocol is one datagram, so a socket, a sendto and a close
 * are all libsystemd would do for us here. No file descriptors are passed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wgd/notify.h"

/* Fills addr from $NOTIFY_SOCKET; returns the address length, 0 when unset, or -errno. */
static int notify_address(struct sockaddr_un *addr)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!path || !*path)
		return 0;
	if (path[0] != '/' && path[0] != '@')
		return -EINVAL; /* "vsock:..." and the like are not for a network daemon */
	len = strlen(path);
	if (len > sizeof(addr->sun_path) || (path[0] == '/' && len == sizeof(addr->sun_path)))
		return -ENAMETOOLONG;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len);
	/* An abstract name starts with a NUL and is exactly len bytes: no terminator. */
	if (path[0] == '@') {
		addr->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int notify_send(const char *state)
{
	struct sockaddr_un addr;
	int fd, addrlen, ret = 0;

	addrlen = notify_address(&addr);
	if (addrlen <= 0)
		return addrlen;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   (socklen_t)addrlen) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int notify_ready(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
	return notify_send(msg);
}

int notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -errno;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_send(msg);
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}
