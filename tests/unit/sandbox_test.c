/* SPDX-License-Identifier: MIT */
/*
 * The worker's seccomp allowlist, installed by the very function the worker calls
 * (sandbox_enter_worker) in a forked child: what the worker's steady state does still
 * works, and a system call outside the list, or a listed one with arguments outside
 * its narrowing, kills the child with SIGSYS (SECCOMP_RET_KILL_PROCESS). No root needed:
 * the filter sets PR_SET_NO_NEW_PRIVS itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/crypt_pool.h"
#include "wgd/sandbox.h"

/* Runs fn in a child under the filter; returns its wait status. */
static int run_confined(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		const char *what = "";

		if (sandbox_enter_worker(&what) < 0)
			_exit(100);
		/* _exit: no exit handlers (LSan's) in a confined child */
		_exit(fn());
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	return status;
}

static void expect_killed(int (*fn)(void), const char *what)
{
	int status = run_confined(fn);

	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGSYS),
		  "%s: status %#x, not killed by SIGSYS", what, status);
}

/* The steady state's calls: a UDP socket bound and used, time, randomness, memory, MTU. */
static int worker_calls(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct ifreq ifr = { .ifr_name = "lo" };
	struct timespec ts;
	uint8_t rnd[16];
	char byte = 'x';
	void *p;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return 1;
	if (sendto(fd, &byte, 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1 ||
	    recv(fd, &byte, 1, 0) != 1)
		return 2;
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
		return 3;
	close(fd);
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0 || getrandom(rnd, sizeof(rnd), 0) != 16)
		return 4;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_NONE) < 0 || munmap(p, 4096) < 0)
		return 5;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* syslog's reconnect */
	if (fd < 0)
		return 6;
	close(fd);
	return 0;
}

Test(sandbox, worker_calls_still_work)
{
	int status = run_confined(worker_calls);

	cr_assert(eq(int, status, 0), "status %#x (exit code: the step that failed)", status);
}

static int do_execve(void)
{
	static char name[] = "true";
	char *const argv[] = { name, NULL };

	execve("/bin/true", argv, NULL);
	return 0;
}

static int do_mount(void)
{
	return mount("none", "/tmp", "tmpfs", 0, NULL);
}

static int do_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_RAW, 0);
}

static int do_tcp_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int do_netlink_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW, 0);
}

static int do_set_mtu(void)
{
	struct ifreq ifr = { .ifr_name = "lo", .ifr_mtu = 1280 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	return ioctl(fd, SIOCSIFMTU, &ifr);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * A set of 128 peers or more: the worker sorts their keys, and glibc's qsort (before
 * 2.37) calls sysinfo the first time it sorts more than 1 KiB. Called directly too, in
 * case this process's glibc sorted before the filter (it keeps the answer).
 */
static int big_sort(void)
{
	static uint64_t keys[512];
	struct sysinfo si;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		keys[i] = (i * 2654435761U) % 1000003;
	qsort(keys, sizeof(keys) / sizeof(keys[0]), sizeof(keys[0]), cmp_u64);
	for (size_t i = 1; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i - 1] > keys[i])
			return 1;
	return sysinfo(&si) < 0 ? 2 : 0;
}

Test(sandbox, big_sort_still_works)
{
	int status = run_confined(big_sort);

	cr_assert(eq(int, status, 0), "status %#x (signal 31: sysinfo refused)", status);
}

Test(sandbox, unlisted_calls_kill)
{
	expect_killed(do_execve, "execve");
	expect_killed(do_mount, "mount");
	expect_killed(do_packet_socket, "socket(AF_PACKET)");
	expect_killed(do_tcp_socket, "socket(AF_INET, SOCK_STREAM)");
	expect_killed(do_netlink_socket, "socket(AF_NETLINK)");
	expect_killed(do_set_mtu, "ioctl(SIOCSIFMTU)");
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) /* sanitizer builds allow these */
static int do_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int do_fork(void)
{
	return (int)fork();
}

static int do_open(void)
{
	return open("/etc/passwd", O_RDONLY);
}

static int do_exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED;
}

Test(sandbox, no_files_processes_or_executable_memory)
{
	expect_killed(do_ptrace, "ptrace");
	expect_killed(do_fork, "fork");
	expect_killed(do_open, "open");
	expect_killed(do_exec_mapping, "mmap(PROT_EXEC)");
}
#endif

/*
 * Crypt threads (wgd/crypt_pool.h) started before the filter, as the worker starts them.
 * Not under ThreadSanitizer, which cannot start threads in a child forked from a threaded
 * process ("dup thread with used id"); its build runs threads.sh's confined daemons.
 */
#if !defined(__SANITIZE_THREAD__)
static void pool_work(void *ctx, void *items, size_t i)
{
	unsigned long *v = items;

	(void)ctx;
	for (int r = 0; r < 1000; r++)
		v[i] = v[i] * 6364136223846793005UL + 1442695040888963407UL;
}

static unsigned int thread_idx[3];

static void *pool_init(void *arg, unsigned int idx)
{
	(void)arg;
	thread_idx[idx] = idx;
	return &thread_idx[idx];
}

/* getcwd (harmless, and on no list), on the crypt threads only, not the caller */
static void pool_forbidden(void *ctx, void *items, size_t i)
{
	char buf[64];

	(void)items;
	(void)i;
	if (*(unsigned int *)ctx != 0)
		(void)!getcwd(buf, sizeof(buf));
}

/* Forks; the child starts a pool of 3, enters the filter, runs fn on 64 items, stops it. */
static int run_pool_confined(crypt_pool_item_fn fn)
{
	int status;
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		static unsigned long v[64];
		const char *what = "";
		struct crypt_pool *p;

		if (crypt_pool_create_with(&p, 3, pool_init, NULL, NULL) < 0)
			_exit(101);
		if (sandbox_enter_worker(&what) < 0)
			_exit(100);
		for (int r = 0; r < 100; r++)
			crypt_pool_run(p, fn, v, 64);
		crypt_pool_destroy(p); /* the threads exit under the filter */
		_exit(0);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	return status;
}

Test(sandbox, crypt_threads_run_and_stop_confined)
{
	int status = run_pool_confined(pool_work);

	cr_assert(eq(int, status, 0), "status %#x", status);
}

/* The filter covers the crypt threads too (TSYNC): a forbidden call there kills. */
Test(sandbox, crypt_threads_are_confined)
{
	int status = run_pool_confined(pool_forbidden);

	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGSYS), "status %#x",
		  status);
}
#endif
