/* SPDX-License-Identifier: MIT */
/*
 * The worker's seccomp allowlist. What the steady state does, and so what is listed:
 * the loop (epoll, the timerfd, the signalfd), the UDP sockets (datagrams, and a new
 * pair on a port change or link up: socket, options, bind), the TUN (read/write, and
 * the MTU ioctl each second), the UAPI server (accept4, SO_PEERCRED, recv/send), memory
 * (malloc, sodium_malloc's guarded and locked pages), the clock, getrandom, syslog (a
 * reconnect: socket and connect on AF_UNIX) and exit. Arguments narrow the risky ones:
 * sockets only UDP or AF_UNIX (so CAP_NET_BIND_SERVICE can bind nothing but UDP ports),
 * no executable memory, three read-only ioctls, signals only to ourselves. There is no
 * open, exec, fork, ptrace, mount, namespace, bpf, keyring or netlink socket.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "wgd/sandbox.h"

/* Allowed whatever their arguments. */
static const int plain[] = {
	/* the loop, the TUN, the UAPI connections, syslog */
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	SCMP_SYS(fcntl),
	/* datagrams and the UAPI socket */
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(accept4),
	SCMP_SYS(bind),
	SCMP_SYS(connect),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(shutdown),
	/* memory: malloc, and sodium_malloc's locked pages */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(mlock),
	SCMP_SYS(munlock),
	/*
	 * glibc's qsort (before 2.37) asks sysconf(_SC_PHYS_PAGES), so sysinfo, the first
	 * time it sorts more than 1 KiB: the duplicate-key check of a set with 128 peers or
	 * more (a config file's, at start). It only reads memory and load figures.
	 */
	SCMP_SYS(sysinfo),
	/* time, randomness, identity, signals, exit */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getppid),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	/*
	 * The crypt threads (crypt_pool.h) wait for and hand back each run on a mutex and
	 * condition variables. They are created, and have run their start-up (clone3,
	 * set_robust_list, rseq, the stack's mmap), before the filter; at exit a thread only
	 * needs madvise (its stack), munmap and exit, and its join futex.
	 */
	SCMP_SYS(futex),
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/*
	 * The ASan/LSan build only (make SANITIZE=1; tests/netns/faults_cycles.sh runs it
	 * with the filter on): ASan's reports and LeakSanitizer's check at exit read
	 * /proc/self/maps and stop the process's threads with a ptrace-ing clone.
	 */
	SCMP_SYS(openat),
	SCMP_SYS(open),
	SCMP_SYS(newfstatat),
	SCMP_SYS(fstat),
	SCMP_SYS(lseek),
	SCMP_SYS(readlink),
	SCMP_SYS(getdents),
	SCMP_SYS(getdents64),
	SCMP_SYS(clone),
	SCMP_SYS(clone3),
	SCMP_SYS(ptrace),
	SCMP_SYS(wait4),
	SCMP_SYS(waitid),
	SCMP_SYS(sched_yield),
	SCMP_SYS(prctl),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(mprotect),
	SCMP_SYS(mmap),
	SCMP_SYS(pipe2),
	SCMP_SYS(dup),
	SCMP_SYS(getuid),
	SCMP_SYS(kill),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrlimit),
	SCMP_SYS(prlimit64),
	SCMP_SYS(uname),
#endif
};

/* Read-only link ioctls (tun.h): the MTU each second, the ifindex, the TUN's flags. */
static const unsigned long ioctls[] = { SIOCGIFMTU, SIOCGIFINDEX, TUNGETIFF };

static int add(scmp_filter_ctx ctx, int nr, unsigned int n, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

/* UDP over IPv4 or IPv6, whatever SOCK_NONBLOCK/SOCK_CLOEXEC; AF_UNIX for syslog. */
static int add_sockets(scmp_filter_ctx ctx)
{
	const uint32_t type_mask = ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC);
	static const int inet[] = { AF_INET, AF_INET6 };
	int ret = 0;

	for (size_t i = 0; i < sizeof(inet) / sizeof(inet[0]) && !ret; i++) {
		struct scmp_arg_cmp c[] = { SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)inet[i]),
					    SCMP_A1_32(SCMP_CMP_MASKED_EQ, type_mask, SOCK_DGRAM) };

		ret = add(ctx, SCMP_SYS(socket), 2, c);
	}
	if (!ret) {
		struct scmp_arg_cmp c[] = { SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX) };

		ret = add(ctx, SCMP_SYS(socket), 1, c);
	}
	return ret;
}

/* Pages that never become executable; tgkill to ourselves (abort). */
static int add_narrowed(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp no_exec[] = { SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) };
	struct scmp_arg_cmp self[] = { SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()) };
	int ret;

	ret = add(ctx, SCMP_SYS(mmap), 1, no_exec);
	if (!ret)
		ret = add(ctx, SCMP_SYS(mprotect), 1, no_exec);
	if (!ret)
		ret = add(ctx, SCMP_SYS(tgkill), 1, self);
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && !ret; i++) {
		struct scmp_arg_cmp req[] = { SCMP_A1_64(SCMP_CMP_EQ, ioctls[i]) };

		ret = add(ctx, SCMP_SYS(ioctl), 1, req);
	}
	return ret;
}

/*
 * SECCOMP_RET_KILL_PROCESS; where libseccomp cannot ask the kernel whether it has it (a
 * systemd SystemCallFilter= without seccomp(2), so it falls back to prctl), KILL_THREAD,
 * which ends our single thread and so the process all the same.
 */
static scmp_filter_ctx filter_create(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);

	return ctx ? ctx : seccomp_init(SCMP_ACT_KILL_THREAD);
}

int sandbox_enter_worker(const char **what)
{
	scmp_filter_ctx ctx;
	int ret = 0;

	/* glibc reads /etc/localtime once, at the first tzset: do it while we may open */
	tzset();
	*what = "creating the seccomp filter";
	ctx = filter_create();
	if (!ctx)
		return -ENOMEM;
	*what = "adding a rule to the seccomp filter";
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && !ret; i++)
		ret = add(ctx, plain[i], 0, NULL);
	if (!ret)
		ret = add_sockets(ctx);
	if (!ret)
		ret = add_narrowed(ctx);
	/* every thread, the crypt threads already running included, gets the same filter */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret) {
		*what = "loading the seccomp filter";
		ret = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}
