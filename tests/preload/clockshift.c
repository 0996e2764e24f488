/* SPDX-License-Identifier: MIT */
/*
 * clockshift.so: an LD_PRELOAD shim that moves the wall clock of one process by an
 * offset it reads from a file, for tests/netns/faults_cycles.sh (scenario clock-jump).
 *
 *   CLOCKSHIFT_FILE=PATH LD_PRELOAD=build/tests/preload/clockshift.so wgd IF
 *
 * PATH holds a signed decimal number of seconds. It is looked at no more often than
 * every 100 ms of CLOCK_MONOTONIC, and read again only when its inode or mtime changed,
 * so writers should replace it by rename(2). CLOCK_REALTIME, CLOCK_REALTIME_COARSE and
 * CLOCK_TAI, gettimeofday(2) and time(2) move; CLOCK_MONOTONIC, CLOCK_BOOTTIME and the
 * rest are left alone, as a real settimeofday(2) or NTP step leaves them.
 *
 * A missing or unreadable file means an offset of 0 (said once on stderr); a file that
 * does not parse keeps the previous offset. The daemon's worker runs as nobody, so
 * PATH and its directories must be readable and searchable by that user.
 *
 * The worker's seccomp filter (wgd/sandbox.c) kills a process that opens or stats a file:
 * this shim therefore wraps libseccomp's seccomp_load to allow, in the process it is
 * loaded into and nowhere else, just the calls it makes to look at PATH.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/syscall.h>

#define NSEC_PER_SEC   1000000000LL
#define CHECK_EVERY_NS (100 * 1000000LL)

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static _Atomic(clock_gettime_fn) real_gettime;
static _Atomic int64_t offset_ns;
static _Atomic int64_t next_check_ns = INT64_MIN;
static _Atomic bool warned;
/* What the file was when last read: inode and mtime. Racing readers only re-read it. */
static _Atomic uint64_t seen_ino, seen_mtime_ns;

static clock_gettime_fn gettime_fn(void)
{
	clock_gettime_fn fn = atomic_load(&real_gettime);

	if (!fn) {
		fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
		if (!fn)
			abort(); /* no libc below us: nothing sensible to return */
		atomic_store(&real_gettime, fn);
	}
	return fn;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static void warn_once(const char *path, const char *what)
{
	if (!atomic_exchange(&warned, true))
		fprintf(stderr, "clockshift: %s %s: offset 0\n", what, path);
}

/* Parses "[-+]SECONDS" from path into *secs; false if the file is unusable. */
static bool file_read(const char *path, long long *secs)
{
	char buf[64], *end;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	errno = 0;
	*secs = strtoll(buf, &end, 10);
	return errno == 0 && end != buf && (*end == '\0' || *end == '\n');
}

/* The current offset, refreshed from the file at most every CHECK_EVERY_NS. */
static int64_t offset_get(void)
{
	const char *path = getenv("CLOCKSHIFT_FILE");
	struct timespec mono;
	long long secs;
	struct stat st;
	uint64_t mtime;
	int saved = errno;

	if (!path || gettime_fn()(CLOCK_MONOTONIC, &mono) < 0)
		return atomic_load(&offset_ns);
	if (ts_ns(&mono) < atomic_load(&next_check_ns))
		return atomic_load(&offset_ns);
	atomic_store(&next_check_ns, ts_ns(&mono) + CHECK_EVERY_NS);
	if (stat(path, &st) < 0) {
		warn_once(path, "cannot stat");
		atomic_store(&offset_ns, 0);
		errno = saved;
		return 0;
	}
	mtime = (uint64_t)ts_ns(&st.st_mtim);
	if ((uint64_t)st.st_ino != atomic_load(&seen_ino) || mtime != atomic_load(&seen_mtime_ns)) {
		if (file_read(path, &secs)) {
			atomic_store(&offset_ns, (int64_t)secs * NSEC_PER_SEC);
			atomic_store(&seen_ino, (uint64_t)st.st_ino);
			atomic_store(&seen_mtime_ns, mtime);
		} else {
			warn_once(path, "cannot read a number of seconds from");
		}
	}
	errno = saved;
	return atomic_load(&offset_ns);
}

static void ts_shift(struct timespec *ts, int64_t off)
{
	int64_t ns = ts_ns(ts) + off;
	int64_t sec = ns / NSEC_PER_SEC, rem = ns % NSEC_PER_SEC;

	if (rem < 0) {
		rem += NSEC_PER_SEC;
		sec--;
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)rem;
}

static bool is_wall_clock(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int ret = gettime_fn()(id, ts);

	if (ret == 0 && is_wall_clock(id))
		ts_shift(ts, offset_get());
	return ret;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	if (tz)
		((struct timezone *)tz)->tz_minuteswest = ((struct timezone *)tz)->tz_dsttime = 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/* libseccomp's, wrapped: the filter also allows the shim's own stat and open of PATH. */
int seccomp_load(const scmp_filter_ctx ctx)
{
	static const int calls[] = { SYS_openat, SYS_newfstatat, SYS_fstat, SYS_statx };
	int (*rule_add)(scmp_filter_ctx, uint32_t, int, unsigned int, ...) =
		(int (*)(scmp_filter_ctx, uint32_t, int, unsigned int, ...))dlsym(
			RTLD_DEFAULT, "seccomp_rule_add");
	int (*load)(const scmp_filter_ctx) =
		(int (*)(const scmp_filter_ctx))dlsym(RTLD_NEXT, "seccomp_load");

	if (!rule_add || !load)
		return -ENOSYS;
	/* best effort: an ASan build's filter already allows some of them */
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		(void)rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return load(ctx);
}
