/* SPDX-License-Identifier: MIT */
/*
 * The event loop: the timer fires at (not before) its deadline, once per arming, can be
 * moved and disarmed; fd events reach the embedding object; loop_mod; a source deleted
 * from another callback of the same batch is never called; signals arrive through the
 * signalfd; EINTR is absorbed; loop_stop. Also the two clocks against clock_gettime.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/clock.h"
#include "wgd/loop.h"

#define MS (1000000ULL)

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	cr_assert(eq(int, clock_gettime(id, &ts), 0));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct timer_log {
	struct loop *l;
	unsigned int calls, stop_after;
	uint64_t fired_ns[4];
	uint64_t rearm_ns; /* re-armed from the callback unless UINT64_MAX */
};

static void on_timer(void *ctx, uint64_t now_ns)
{
	struct timer_log *t = ctx;

	if (t->calls < 4)
		t->fired_ns[t->calls] = now_ns;
	if (++t->calls >= t->stop_after)
		loop_stop(t->l);
	else if (t->rearm_ns != UINT64_MAX)
		loop_arm_timer(t->l, t->rearm_ns);
}

static void timer_log_init(struct timer_log *t, struct loop *l, unsigned int stop_after)
{
	memset(t, 0, sizeof(*t));
	t->l = l;
	t->stop_after = stop_after;
	t->rearm_ns = UINT64_MAX;
}

/* A test-owned timerfd as an ordinary source, to stop the loop after a while. */
struct stopper {
	struct loop_source src;
	struct loop *l;
	unsigned int calls;
};

static void stopper_fn(struct loop_source *src, uint32_t events)
{
	struct stopper *s = container_of(src, struct stopper, src);
	uint64_t n;

	cr_assert(ne(u32, events & EPOLLIN, 0));
	cr_assert(eq(int, (int)read(src->fd, &n, sizeof(n)), (int)sizeof(n)));
	s->calls++;
	loop_stop(s->l);
}

static void stopper_add(struct stopper *s, struct loop *l, uint64_t after_ns)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(after_ns / 1000000000ULL),
						.tv_nsec = (long)(after_ns % 1000000000ULL) } };

	s->l = l;
	s->calls = 0;
	s->src.fn = stopper_fn;
	s->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	cr_assert(s->src.fd >= 0);
	cr_assert(eq(int, timerfd_settime(s->src.fd, 0, &its, NULL), 0));
	cr_assert(eq(int, loop_add(l, &s->src, EPOLLIN), 0));
}

/* Turns a hang (a timer or event that never comes) into a failure. */
#define WATCHDOG_NS (2000 * MS)

static void watchdog_check(struct stopper *w)
{
	cr_assert(eq(u32, w->calls, 0), "watchdog fired: the loop would have hung");
	close(w->src.fd);
}

Test(clock, boottime_and_realtime_match_clock_gettime)
{
	uint64_t b0 = ts_ns(CLOCK_BOOTTIME), b = clock_boottime_ns(), b1 = ts_ns(CLOCK_BOOTTIME);
	uint64_t r0 = ts_ns(CLOCK_REALTIME), r = clock_realtime_ns(), r1 = ts_ns(CLOCK_REALTIME);

	cr_assert(le(u64, b0, b));
	cr_assert(le(u64, b, b1));
	cr_assert(le(u64, r0, r));
	cr_assert(le(u64, r, r1));
	cr_assert(gt(u64, r, 1600000000ULL * 1000000000ULL)); /* after 2020: really the epoch */
}

Test(loop, init_and_clear)
{
	struct loop l;

	cr_assert(eq(int, loop_init(&l), 0));
	cr_assert(l.epfd >= 0 && l.timerfd >= 0);
	cr_assert(eq(int, l.sigfd, -1));
	loop_clear(&l);
	cr_assert(eq(int, l.epfd, -1));
	cr_assert(eq(int, l.timerfd, -1));
	loop_clear(&l); /* idempotent */
}

Test(loop, timer_fires_at_its_deadline)
{
	struct loop l;
	struct stopper w;
	struct timer_log t;
	uint64_t deadline;

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	timer_log_init(&t, &l, 1);
	deadline = ts_ns(CLOCK_BOOTTIME) + 30 * MS;
	loop_arm_timer(&l, deadline);
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(eq(u32, t.calls, 1));
	cr_assert(ge(u64, t.fired_ns[0], deadline));
	cr_assert(lt(u64, t.fired_ns[0], deadline + 1000 * MS));
	watchdog_check(&w);
	loop_clear(&l);
}

/* A past deadline fires at once, and re-arming the very same deadline fires again. */
Test(loop, timer_past_deadline_fires_once_per_arming)
{
	struct loop l;
	struct stopper w;
	struct timer_log t;

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	timer_log_init(&t, &l, 3);
	t.rearm_ns = 0;
	loop_arm_timer(&l, 0);
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(eq(u32, t.calls, 3));
	watchdog_check(&w);
	loop_clear(&l);
}

Test(loop, timer_disarmed_does_not_fire)
{
	struct loop l;
	struct timer_log t;
	struct stopper s;

	cr_assert(eq(int, loop_init(&l), 0));
	timer_log_init(&t, &l, 1);
	loop_arm_timer(&l, ts_ns(CLOCK_BOOTTIME) + 10 * MS);
	loop_arm_timer(&l, UINT64_MAX);
	stopper_add(&s, &l, 60 * MS);
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(eq(u32, s.calls, 1));
	cr_assert(eq(u32, t.calls, 0));
	loop_clear(&l);
	close(s.src.fd);
}

Test(loop, timer_moved_later_waits_for_the_new_deadline)
{
	struct loop l;
	struct stopper w;
	struct timer_log t;
	uint64_t later;

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	timer_log_init(&t, &l, 1);
	loop_arm_timer(&l, ts_ns(CLOCK_BOOTTIME) + 5 * MS);
	later = ts_ns(CLOCK_BOOTTIME) + 60 * MS;
	loop_arm_timer(&l, later);
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(ge(u64, t.fired_ns[0], later));
	watchdog_check(&w);
	loop_clear(&l);
}

struct pipe_src {
	struct loop_source src;
	struct loop *l;
	struct pipe_src *other;
	unsigned int calls;
	uint32_t events;
	bool is_deleted, stop;
	char got;
};

static void pipe_fn(struct loop_source *src, uint32_t events)
{
	struct pipe_src *p = container_of(src, struct pipe_src, src);

	cr_assert(not(p->is_deleted), "called after loop_del");
	p->calls++;
	p->events = events;
	if (events & EPOLLIN)
		cr_assert(eq(int, (int)read(src->fd, &p->got, 1), 1));
	if (p->other && !p->other->is_deleted) {
		cr_assert(eq(int, loop_del(p->l, &p->other->src), 0));
		p->other->is_deleted = true;
	}
	if (p->stop)
		loop_stop(p->l);
}

static void pipe_src_init(struct pipe_src *p, struct loop *l, int fd)
{
	memset(p, 0, sizeof(*p));
	p->src.fd = fd;
	p->src.fn = pipe_fn;
	p->l = l;
}

Test(loop, fd_event_reaches_its_owner)
{
	struct loop l;
	struct stopper w;
	struct pipe_src p;
	int fds[2];

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	cr_assert(eq(int, pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0));
	pipe_src_init(&p, &l, fds[0]);
	p.stop = true;
	cr_assert(eq(int, loop_add(&l, &p.src, EPOLLIN), 0));
	cr_assert(eq(int, loop_add(&l, &p.src, EPOLLIN), -EEXIST));
	cr_assert(eq(int, (int)write(fds[1], "z", 1), 1));
	cr_assert(eq(int, loop_run(&l, NULL, NULL), 0));
	cr_assert(eq(u32, p.calls, 1));
	cr_assert(eq(u32, p.events, EPOLLIN));
	cr_assert(eq(chr, p.got, 'z'));
	cr_assert(eq(int, loop_del(&l, &p.src), 0));
	cr_assert(eq(int, loop_del(&l, &p.src), -ENOENT));
	watchdog_check(&w);
	loop_clear(&l);
	close(fds[0]);
	close(fds[1]);
}

/* Registered with no events, the write end stays silent until the timer asks for EPOLLOUT. */
static void mod_on_timer(void *ctx, uint64_t now_ns)
{
	struct pipe_src *p = ctx;

	(void)now_ns;
	cr_assert(eq(u32, p->calls, 0));
	cr_assert(eq(int, loop_mod(p->l, &p->src, EPOLLOUT), 0));
}

Test(loop, mod_changes_the_events)
{
	struct loop l;
	struct stopper w;
	struct pipe_src p;
	int fds[2];

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	cr_assert(eq(int, pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0));
	pipe_src_init(&p, &l, fds[1]);
	p.stop = true;
	cr_assert(eq(int, loop_add(&l, &p.src, 0), 0));
	loop_arm_timer(&l, ts_ns(CLOCK_BOOTTIME) + 20 * MS);
	cr_assert(eq(int, loop_run(&l, mod_on_timer, &p), 0));
	cr_assert(eq(u32, p.calls, 1));
	cr_assert(eq(u32, p.events, EPOLLOUT));
	watchdog_check(&w);
	loop_clear(&l);
	close(fds[0]);
	close(fds[1]);
}

/* Both pipes are readable in one batch; whichever runs first deletes the other. */
Test(loop, del_cancels_events_pending_in_the_batch)
{
	struct loop l;
	struct pipe_src a, b;
	struct stopper s;
	int pa[2], pb[2];

	cr_assert(eq(int, loop_init(&l), 0));
	cr_assert(eq(int, pipe2(pa, O_CLOEXEC | O_NONBLOCK), 0));
	cr_assert(eq(int, pipe2(pb, O_CLOEXEC | O_NONBLOCK), 0));
	pipe_src_init(&a, &l, pa[0]);
	pipe_src_init(&b, &l, pb[0]);
	a.other = &b;
	b.other = &a;
	cr_assert(eq(int, loop_add(&l, &a.src, EPOLLIN), 0));
	cr_assert(eq(int, loop_add(&l, &b.src, EPOLLIN), 0));
	cr_assert(eq(int, (int)write(pa[1], "a", 1), 1));
	cr_assert(eq(int, (int)write(pb[1], "b", 1), 1));
	stopper_add(&s, &l, 30 * MS);
	cr_assert(eq(int, loop_run(&l, NULL, NULL), 0));
	cr_assert(eq(u32, a.calls + b.calls, 1));
	loop_clear(&l);
	for (int i = 0; i < 2; i++) {
		close(pa[i]);
		close(pb[i]);
	}
	close(s.src.fd);
}

struct sig_log {
	struct loop *l;
	unsigned int mask, calls;
};

static void on_signal(void *ctx, int signo)
{
	struct sig_log *g = ctx;

	g->calls++;
	g->mask |= 1U << signo;
	if (g->mask == (1U << SIGUSR1 | 1U << SIGUSR2))
		loop_stop(g->l);
}

Test(loop, signals_arrive_through_signalfd)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2 };
	struct loop l;
	struct stopper w;
	struct sig_log g = { .l = &l };
	sigset_t now;

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	cr_assert(eq(int, loop_add_signals(&l, sigs, 2, on_signal, &g), 0));
	cr_assert(eq(int, loop_add_signals(&l, sigs, 2, on_signal, &g), -EBUSY));
	cr_assert(eq(int, sigprocmask(SIG_BLOCK, NULL, &now), 0));
	cr_assert(eq(int, sigismember(&now, SIGUSR1), 1));
	cr_assert(eq(int, sigismember(&now, SIGUSR2), 1));
	/* blocked, so their default action (termination) cannot run */
	cr_assert(eq(int, kill(getpid(), SIGUSR1), 0));
	cr_assert(eq(int, kill(getpid(), SIGUSR2), 0));
	cr_assert(eq(int, loop_run(&l, NULL, NULL), 0));
	cr_assert(eq(u32, g.calls, 2));
	watchdog_check(&w);
	loop_clear(&l);
	cr_assert(eq(int, l.sigfd, -1));
}

Test(loop, signals_invalid_number)
{
	static const int sigs[] = { SIGUSR1, 1000 };
	struct loop l;

	cr_assert(eq(int, loop_init(&l), 0));
	cr_assert(eq(int, loop_add_signals(&l, sigs, 2, on_signal, NULL), -EINVAL));
	cr_assert(eq(int, l.sigfd, -1));
	loop_clear(&l);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signo)
{
	(void)signo;
	alarms++;
}

/* SIGALRM (a handler, not blocked) interrupts epoll_wait every 5 ms: EINTR is no error. */
Test(loop, eintr_is_absorbed)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_interval = { 0, 5000 }, .it_value = { 0, 5000 } };
	struct loop l;
	struct stopper w;
	struct timer_log t;
	uint64_t deadline;

	cr_assert(eq(int, sigaction(SIGALRM, &sa, NULL), 0));
	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	timer_log_init(&t, &l, 1);
	deadline = ts_ns(CLOCK_BOOTTIME) + 60 * MS;
	loop_arm_timer(&l, deadline);
	cr_assert(eq(int, setitimer(ITIMER_REAL, &it, NULL), 0));
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	memset(&it, 0, sizeof(it));
	cr_assert(eq(int, setitimer(ITIMER_REAL, &it, NULL), 0));
	cr_assert(gt(int, (int)alarms, 0));
	cr_assert(eq(u32, t.calls, 1));
	cr_assert(ge(u64, t.fired_ns[0], deadline));
	watchdog_check(&w);
	loop_clear(&l);
}

/* A stop before run returns at once; the flag is then reset, so the loop runs again. */
Test(loop, stop_before_run_and_run_again)
{
	struct loop l;
	struct stopper w;
	struct timer_log t;

	cr_assert(eq(int, loop_init(&l), 0));
	stopper_add(&w, &l, WATCHDOG_NS);
	timer_log_init(&t, &l, 1);
	loop_arm_timer(&l, 0);
	loop_stop(&l);
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(eq(u32, t.calls, 0));
	cr_assert(eq(int, loop_run(&l, on_timer, &t), 0));
	cr_assert(eq(u32, t.calls, 1));
	watchdog_check(&w);
	loop_clear(&l);
}
