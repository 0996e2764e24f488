/* SPDX-License-Identifier: MIT */
/*
 * Following links (and, on request, IPv4 routing) over rtnetlink: a NETLINK_ROUTE socket
 * subscribed to RTNLGRP_LINK (any user may join it: no privilege needed), read from an
 * event loop. Every RTM_NEWLINK the kernel sends, whether a notification of a change (`ip
 * link set IF up`) or the answer to rtnl_watch_query, becomes one callback with the link's
 * ifindex and ifi_flags (IFF_UP is the administrative state, what `ip link set up/down`
 * changes); an RTM_DELLINK says the link left the namespace, deleted or moved (`ip link
 * set IF netns NS`: the message then names where to). A link that moved is followed in
 * its new namespace through a socket that listens to all of them (RTNL_WATCH_ALL_NSID).
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

/* What rtnl_watch_open joins (any user may join these groups) and how it listens. */
enum rtnl_watch_what {
	RTNL_WATCH_LINKS = 1 << 0,  /* RTNLGRP_LINK: links appearing, changing, going */
	RTNL_WATCH_ROUTES = 1 << 1, /* RTNLGRP_IPV4_ROUTE and _RULE: IPv4 routing changed */
	/*
	 * NETLINK_LISTEN_ALL_NSID: also the messages of every other namespace this one has
	 * an id for, each with that id. Setting it needs CAP_NET_BROADCAST, and the kernel
	 * delivers only while the socket's opener had it: open as root, use after any drop.
	 */
	RTNL_WATCH_ALL_NSID = 1 << 2,
};

enum rtnl_watch_kind {
	RTNL_WATCH_LINK,      /* RTM_NEWLINK: a link's state, or the answer to a query */
	RTNL_WATCH_LINK_GONE, /* RTM_DELLINK: deleted, or moved to another namespace */
	RTNL_WATCH_ROUTING,   /* a route or policy rule was added or removed */
};

enum { RTNL_NSID_SELF = -1 }; /* the watching socket's own namespace */

struct rtnl_watch_event {
	enum rtnl_watch_kind kind;
	/* where it happened, by the id the watching namespace gives it; RTNL_NSID_SELF for its own
	 */
	int nsid;
	int ifindex;	    /* links only */
	unsigned int flags; /* RTNL_WATCH_LINK: ifi_flags (IFF_UP is `ip link set up/down`) */
	/*
	 * RTNL_WATCH_LINK_GONE of a link that moved to another namespace (IFLA_NEW_NETNSID,
	 * IFLA_NEW_IFINDEX): that namespace's id, as the namespace the link left numbers it
	 * (so it is ours only when nsid is RTNL_NSID_SELF), and the link's ifindex there.
	 * -1 and 0 when the link was deleted.
	 */
	int new_nsid;
	int new_ifindex;
};

typedef void (*rtnl_watch_fn)(void *ctx, const struct rtnl_watch_event *e);

/*
 * Opens the socket: nonblocking, close-on-exec, joined to what `what` (enum
 * rtnl_watch_what) asks. *out is the caller's, for rtnl_watch_close(). 0 or -errno
 * (-EPERM: RTNL_WATCH_ALL_NSID without CAP_NET_BROADCAST).
 */
int __must_check rtnl_watch_open(struct rtnl_watch **out, unsigned int what);
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
 * The same for a link in the namespace of id nsid (IFLA_TARGET_NETNSID; RTNL_NSID_SELF is
 * rtnl_watch_query). The kernel answers only a caller with CAP_NET_ADMIN there, and the
 * answer carries the id, so it arrives as an event of that nsid.
 */
int __must_check rtnl_watch_query_in(struct rtnl_watch *w, int nsid, int ifindex);

/*
 * Reads pending messages (at most a batch of them: a level-triggered loop calls again while
 * more wait) and calls fn for each link or routing event. Returns 0, -ENOBUFS if
 * notifications were lost on the way (call rtnl_watch_query again), or another -errno from
 * the socket. Messages not sent by the kernel are ignored.
 */
int rtnl_watch_read(struct rtnl_watch *w, rtnl_watch_fn fn, void *ctx);

/*
 * The parser behind rtnl_watch_read, for tests: calls fn for each well-formed link or
 * routing message in the len bytes of netlink messages at buf, which came from the
 * namespace nsid (the datagram's NETLINK_LISTEN_ALL_NSID id, RTNL_NSID_SELF if none);
 * anything else (other types, errors, truncated messages) is skipped.
 */
void rtnl_watch_parse(const void *buf, size_t len, int nsid, rtnl_watch_fn fn, void *ctx);

#endif
