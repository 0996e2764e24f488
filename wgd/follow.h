/* SPDX-License-Identifier: MIT */
/*
 * The supervisor keeps the interface in line with the running device, whoever changed it
 * (wgctl, wg set, a reload): after each committed UAPI set=1 the worker sends one byte on
 * the lifeline socket, and when the link comes up again (`ip link set IF up`, followed
 * with rtnetlink as the worker does), the supervisor reads the running peers with a UAPI
 * get and syncs addresses and routes to them (ifconfig_sync_peers), checked against the
 * kernel. The bytes are an untrusted trigger: their content is ignored, they are read
 * non-blocking and a burst of them makes one sync. Our own route changes are not watched,
 * so a sync never triggers another.
 */
#ifndef WGD_FOLLOW_H
#define WGD_FOLLOW_H

#include "wgd/loop.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct conf;
struct ifconfig;
struct rtnl_watch;

struct follow {
	struct loop *loop;	 /* borrowed */
	struct ifconfig *ic;	 /* borrowed; NULL in bare mode */
	const struct conf *conf; /* borrowed (a reload replaces its contents); NULL in bare mode */
	struct loop_source events; /* the lifeline's read side; fd borrowed */
	struct rtnl_watch *watch;
	struct loop_source link_src;
	int link_up; /* -1: not known yet, else the link's IFF_UP */
	int last_err;
};

/*
 * Starts reading the worker's bytes on lifeline_fd (always, so they never pile up) and,
 * with a conf, following ic's link. 0 or -errno (f is then stopped: follow_stop is safe).
 */
int __must_check follow_start(struct follow *f, struct loop *loop, int lifeline_fd,
			      struct ifconfig *ic, const struct conf *conf);

/* Leaves the loop and closes the link watch; the lifeline fd stays the caller's. */
void follow_stop(struct follow *f);

#endif
