/* SPDX-License-Identifier: MIT */
/* epoll dispatch, the shared timerfd and the signalfd; see loop.h for the contract. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "wgd/clock.h"
#include "wgd/loop.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void timer_ready(struct loop_source *src, uint32_t events)
{
	struct loop *l = container_of(src, struct loop, timer_src);
	uint64_t expirations;

	(void)events;
	/*
	 * EAGAIN here means a callback earlier in this batch re-armed the timer after it
	 * had expired: the old deadline no longer stands, so there is nothing to report.
	 */
	if (read(l->timerfd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	l->timer_deadline_ns = UINT64_MAX; /* one-shot: it is disarmed now */
	if (l->on_timer)
		l->on_timer(l->timer_ctx, clock_boottime_ns());
}

static void signal_ready(struct loop_source *src, uint32_t events)
{
	struct loop *l = container_of(src, struct loop, signal_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (l->on_signal)
			l->on_signal(l->signal_ctx, (int)si.ssi_signo);
	}
}

int loop_init(struct loop *l)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->timerfd = -1;
	l->sigfd = -1;
	l->timer_deadline_ns = UINT64_MAX;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto err;
	l->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0)
		goto err;
	l->timer_src.fd = l->timerfd;
	l->timer_src.fn = timer_ready;
	ret = loop_add(l, &l->timer_src, EPOLLIN);
	if (ret < 0) {
		errno = -ret;
		goto err;
	}
	return 0;

err:
	ret = -errno;
	loop_clear(l);
	return ret;
}

void loop_clear(struct loop *l)
{
	close_fd(&l->sigfd);
	close_fd(&l->timerfd);
	close_fd(&l->epfd);
	l->nevents = 0;
}

static int ctl(struct loop *l, int op, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(l->epfd, op, src->fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct loop *l, struct loop_source *src, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, src, events);
}

int loop_mod(struct loop *l, struct loop_source *src, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, src, events);
}

int loop_del(struct loop *l, struct loop_source *src)
{
	/* the caller may free src as soon as we return: forget it in the current batch */
	for (int i = 0; i < l->nevents; i++) {
		if (l->events[i].data.ptr == src)
			l->events[i].data.ptr = NULL;
	}
	return ctl(l, EPOLL_CTL_DEL, src, 0);
}

void loop_arm_timer(struct loop *l, uint64_t deadline_ns)
{
	struct itimerspec its = { 0 };

	if (deadline_ns == l->timer_deadline_ns)
		return;
	if (deadline_ns != UINT64_MAX) {
		/* an all-zero it_value would disarm: deadline 0 means "now", so use 1 ns */
		uint64_t t = deadline_ns ? deadline_ns : 1;

		its.it_value.tv_sec = (time_t)(t / 1000000000ULL);
		its.it_value.tv_nsec = (long)(t % 1000000000ULL);
	}
	/* cannot fail: the fd is ours and the value is normalised */
	(void)timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->timer_deadline_ns = deadline_ns;
}

static void dispatch(struct loop *l)
{
	for (int i = 0; i < l->nevents && !l->stop; i++) {
		struct loop_source *src = l->events[i].data.ptr;

		if (src)
			src->fn(src, l->events[i].events);
	}
	l->nevents = 0;
}

int loop_run(struct loop *l, void (*on_timer)(void *ctx, uint64_t now_ns), void *ctx)
{
	int ret = 0;

	l->on_timer = on_timer;
	l->timer_ctx = ctx;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, l->events, LOOP_MAX_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		l->nevents = n;
		dispatch(l);
	}
	l->stop = false;
	return ret;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

int loop_add_signals(struct loop *l, const int *signals, size_t n, void (*fn)(void *ctx, int signo),
		     void *ctx)
{
	sigset_t set, old;
	int ret;

	if (l->sigfd >= 0)
		return -EBUSY;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++) {
		if (sigaddset(&set, signals[i]) < 0)
			return -EINVAL;
	}
	/* blocked first, or the default action (termination) would win the race */
	ret = pthread_sigmask(SIG_BLOCK, &set, &old);
	if (ret)
		return -ret;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0) {
		ret = -errno;
		goto err_mask;
	}
	l->on_signal = fn;
	l->signal_ctx = ctx;
	l->signal_src.fd = l->sigfd;
	l->signal_src.fn = signal_ready;
	ret = loop_add(l, &l->signal_src, EPOLLIN);
	if (ret < 0)
		goto err_fd;
	return 0;

err_fd:
	close_fd(&l->sigfd);
err_mask:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
