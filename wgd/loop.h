/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one epoll set, one timerfd and optionally one signalfd, on one thread.
 * It is the only place the daemon blocks. Every other fd is a struct loop_source embedded
 * in its owner (device, UAPI connection, ...) and found again with container_of; the loop
 * keeps borrowed pointers only, so an owner must loop_del() its source before freeing it.
 *
 * All protocol deadlines share the one timerfd: the owner of the timers computes the
 * earliest deadline and calls loop_arm_timer() after each event; the loop calls back at
 * that CLOCK_BOOTTIME instant (timers keep running across suspend, as in the kernel).
 * Create the loop after any fork: an epoll set shared between processes misbehaves.
 */
#ifndef WGD_LOOP_H
#define WGD_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

struct loop_source {
	int fd;
	/* events: the EPOLL* bits reported; EPOLLERR and EPOLLHUP arrive unrequested */
	void (*fn)(struct loop_source *src, uint32_t events);
};

enum loop_values {
	LOOP_MAX_EVENTS = 64, /* per epoll_wait; more just wait for the next round */
};

struct loop {
	int epfd;
	int timerfd; /* CLOCK_BOOTTIME, absolute, one-shot */
	int sigfd;   /* -1 until loop_add_signals() */
	bool stop;
	uint64_t timer_deadline_ns; /* as armed; UINT64_MAX = disarmed or fired */
	struct loop_source timer_src, signal_src;
	void (*on_timer)(void *ctx, uint64_t now_ns);
	void *timer_ctx;
	void (*on_signal)(void *ctx, int signo);
	void *signal_ctx;
	/* the batch being dispatched, so loop_del() can cancel events still pending in it */
	struct epoll_event events[LOOP_MAX_EVENTS];
	int nevents;
};

/* Returns 0 or -errno; on failure l is cleared (loop_clear is still safe to call). */
int __must_check loop_init(struct loop *l);

/*
 * Closes the loop's own fds (not the sources'). Signals given to loop_add_signals stay
 * blocked, so a late SIGTERM cannot kill the process in the middle of its cleanup.
 */
void loop_clear(struct loop *l);

/*
 * Registers, changes or removes src (level-triggered unless events has EPOLLET). The loop
 * borrows src until loop_del. loop_del may be called from any callback, also for a source
 * whose events are pending in the same batch: they are dropped, so src may be freed at
 * once. Call loop_del before closing src->fd. Return 0 or -errno.
 */
int __must_check loop_add(struct loop *l, struct loop_source *src, uint32_t events);
int __must_check loop_mod(struct loop *l, struct loop_source *src, uint32_t events);
int loop_del(struct loop *l, struct loop_source *src);

/*
 * Sets the one timer to fire at deadline_ns (absolute CLOCK_BOOTTIME ns; a past deadline
 * fires at once) or disarms it with UINT64_MAX. Cheap to call after every event: an
 * unchanged deadline costs no system call.
 */
void loop_arm_timer(struct loop *l, uint64_t deadline_ns);

/*
 * Dispatches events until loop_stop(), which takes effect when the current callback
 * returns. on_timer (may be NULL) is called with the current CLOCK_BOOTTIME time when the
 * armed deadline passes; it fires once per arming. Signals interrupting the wait are
 * absorbed. Returns 0 after loop_stop (and resets the flag, so the loop can run again;
 * a loop_stop before loop_run makes it return at once), or -errno if epoll_wait fails.
 */
int __must_check loop_run(struct loop *l, void (*on_timer)(void *ctx, uint64_t now_ns), void *ctx);

void loop_stop(struct loop *l);

/*
 * Blocks the n signals (for every thread created afterwards too) and delivers them
 * through a signalfd: fn(ctx, signo) runs in the loop, once per signal received (the
 * kernel merges repeats of one signal still pending). Once per loop: -EBUSY otherwise.
 * Returns 0 or -errno (-EINVAL for an invalid signal number).
 */
int __must_check loop_add_signals(struct loop *l, const int *signals, size_t n,
				  void (*fn)(void *ctx, int signo), void *ctx);

#endif
