/* SPDX-License-Identifier: MIT */
/*
 * Following links' flags over rtnetlink: a NETLINK_ROUTE socket subscribed to RTNLGRP_LINK
 * (any user may join it: no privilege needed), read from an event loop. Every RTM_NEWLINK
 * the kernel sends, whether a notification of a change (`ip link set IF up`) or the answer
 * to rtnl_watch_query, becomes one callback with the link's ifindex and ifi_flags (IFF_UP
 * is the administrative state, what `ip link set up/down` changes).
 *
 * Notifications can be lost: when the socket's receive buffer overflows the kernel drops
 * them and reports ENOBUFS once. rtnl_watch_read then returns -ENOBUFS, and the caller
 * asks again for the links it cares about with rtnl_watch_query; the answer is queued
 * behind whatever is already pending, so the last message read is always the current
 * state.
 */
#ifndef WGD_NETLINK_RTNL_WATCH_H
#define WGD_NETLINK_RTNL_WATCH_H

#include <stddef.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct rtnl_watch;

/* One RTM_NEWLINK: the link's ifindex and its ifi_flags (IFF_UP, IFF_RUNNING, ...). */
typedef void (*rtnl_watch_fn)(void *ctx, int ifindex, unsigned int flags);

/*
 * Opens the socket: nonblocking, close-on-exec, joined to RTNLGRP_LINK. *out is the
 * caller's, for rtnl_watch_close(). 0 or -errno.
 */
int __must_check rtnl_watch_open(struct rtnl_watch **out);
void rtnl_watch_close(struct rtnl_watch *w);

/* The fd to poll for input (EPOLLIN); owned by the watch. */
int rtnl_watch_fd(const struct rtnl_watch *w);

/*
 * Asks the kernel for one link's current state (RTM_GETLINK). The answer arrives through
 * rtnl_watch_read like a notification; an error answer (the link is gone) is ignored.
 * 0 or -errno.
 */
int __must_check rtnl_watch_query(struct rtnl_watch *w, int ifindex);

/*
 * Reads pending messages (at most a batch of them: a level-triggered loop calls again while
 * more wait) and calls fn for each RTM_NEWLINK. Returns 0, -ENOBUFS if notifications were
 * lost on the way (call rtnl_watch_query again), or another -errno from the socket.
 * Messages not sent by the kernel are ignored.
 */
int rtnl_watch_read(struct rtnl_watch *w, rtnl_watch_fn fn, void *ctx);

/*
 * The parser behind rtnl_watch_read, for tests: calls fn for each well-formed RTM_NEWLINK
 * in the len bytes of netlink messages at buf; anything else (other types, errors,
 * truncated messages) is skipped.
 */
void rtnl_watch_parse(const void *buf, size_t len, rtnl_watch_fn fn, void *ctx);

#endif
