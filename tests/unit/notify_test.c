/* SPDX-License-Identifier: MIT */
/*
 * systemd notification: a datagram socket of our own stands in for systemd's, bound at
 * a path or at an abstract name, and must receive exactly the assignments sd_notify(3)
 * documents (READY=1, MAINPID, RELOADING=1 with MONOTONIC_USEC, STOPPING=1). Also the
 * cases that must send nothing or fail: unset, empty, a relative or vsock address, a
 * name longer than sockaddr_un, nobody listening.
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

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/notify.h"

static char path_name[108];

/* A datagram socket bound at name ('@' = abstract), with NOTIFY_SOCKET pointing at it. */
static int listen_at(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	memcpy(addr.sun_path, name, strlen(name));
	if (name[0] == '@')
		addr.sun_path[0] = '\0';
	else
		len++;
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, len), 0), "bind: %s", strerror(errno));
	cr_assert(eq(int, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0));
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));
	return fd;
}

static int listen_path(void)
{
	snprintf(path_name, sizeof(path_name), "/tmp/wgd-notify-test.%ld", (long)getpid());
	unlink(path_name);
	return listen_at(path_name);
}

static void remove_path(void)
{
	if (path_name[0])
		unlink(path_name);
}

/* The next datagram, NUL-terminated. */
static char *receive(int fd)
{
	static char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	cr_assert(gt(long, (long)n, 0L), "recv: %s", strerror(errno));
	buf[n] = '\0';
	return buf;
}

static void expect_nothing(int fd)
{
	char c;

	cr_assert(eq(long, (long)recv(fd, &c, 1, MSG_DONTWAIT), -1L));
	cr_assert(eq(int, errno, EAGAIN));
}

static char *ready_text(void)
{
	static char want[64];

	snprintf(want, sizeof(want), "READY=1\nMAINPID=%ld", (long)getpid());
	return want;
}

Test(notify, ready_to_a_path, .fini = remove_path)
{
	int fd = listen_path();

	cr_assert(eq(int, notify_ready(), 0));
	cr_assert(eq(str, receive(fd), ready_text()));
	expect_nothing(fd);
	close(fd);
}

Test(notify, ready_to_an_abstract_name)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@wgd-notify-test/%ld", (long)getpid());
	fd = listen_at(name);
	cr_assert(eq(int, notify_ready(), 0));
	cr_assert(eq(str, receive(fd), ready_text()));
	close(fd);
}

Test(notify, reload_then_ready_then_stopping, .fini = remove_path)
{
	unsigned long long usec, before, after;
	struct timespec ts;
	int fd = listen_path(), used = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	cr_assert(eq(int, notify_reloading(), 0));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	after = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	cr_assert(eq(int, sscanf(receive(fd), "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec, &used),
		     1));
	cr_assert(gt(int, used, 0));
	cr_assert(ge(ullong, usec, before));
	cr_assert(le(ullong, usec, after));
	cr_assert(eq(int, notify_ready(), 0));
	cr_assert(eq(str, receive(fd), ready_text()));
	cr_assert(eq(int, notify_stopping(), 0));
	cr_assert_str_eq(receive(fd), "STOPPING=1");
	close(fd);
}

Test(notify, any_state_text, .fini = remove_path)
{
	int fd = listen_path();

	cr_assert(eq(int, notify_send("STATUS=peers: 3\nERRNO=0"), 0));
	cr_assert_str_eq(receive(fd), "STATUS=peers: 3\nERRNO=0");
	close(fd);
}

Test(notify, unset_or_empty_sends_nothing)
{
	cr_assert(eq(int, unsetenv("NOTIFY_SOCKET"), 0));
	cr_assert(eq(int, notify_ready(), 0));
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", "", 1), 0));
	cr_assert(eq(int, notify_stopping(), 0));
}

Test(notify, bad_addresses)
{
	char name[200];

	cr_assert(eq(int, setenv("NOTIFY_SOCKET", "run/systemd/notify", 1), 0));
	cr_assert(eq(int, notify_ready(), -EINVAL));
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0));
	cr_assert(eq(int, notify_ready(), -EINVAL));
	/* sun_path is 108 bytes: a path needs its NUL, an abstract name does not */
	memset(name, 'x', sizeof(name));
	name[0] = '/';
	name[108] = '\0';
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));
	cr_assert(eq(int, notify_ready(), -ENAMETOOLONG));
	name[0] = '@';
	name[109] = '\0';
	name[108] = 'x';
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));
	cr_assert(eq(int, notify_ready(), -ENAMETOOLONG));
}

Test(notify, longest_abstract_name_fits)
{
	char name[109];
	int fd;

	memset(name, 'y', 108);
	name[108] = '\0';
	name[0] = '@';
	snprintf(name + 1, 20, "%ld", (long)getpid());
	name[strlen(name)] = 'y'; /* keep it 108 long after the pid */
	fd = listen_at(name);
	cr_assert(eq(int, notify_stopping(), 0));
	cr_assert_str_eq(receive(fd), "STOPPING=1");
	close(fd);
}

Test(notify, nobody_listening)
{
	char name[64];

	snprintf(name, sizeof(name), "/tmp/wgd-notify-test.absent.%ld", (long)getpid());
	unlink(name);
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));
	cr_assert(eq(int, notify_ready(), -ENOENT));
	snprintf(name, sizeof(name), "@wgd-notify-test.absent/%ld", (long)getpid());
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));
	cr_assert(eq(int, notify_ready(), -ECONNREFUSED));
}
