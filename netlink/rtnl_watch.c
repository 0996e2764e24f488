/* SPDX-License-Identifier: MIT */
/* Link notifications over rtnetlink (see rtnl_watch.h). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink/rtnl_priv.h"
#include "netlink/rtnl_watch.h"

enum { RTNL_WATCH_BATCH = 64 }; /* datagrams per rtnl_watch_read */

struct rtnl_watch {
	struct mnl_socket *sock;
	uint32_t seq;
	/* one datagram: a link notification is a few KiB at most, with its counters */
	uint8_t buf[RTNL_RECV_LEN];
};

/* The legacy group bits bind() takes for what the caller asked. */
static unsigned int watch_groups(unsigned int what)
{
	unsigned int groups = 0;

	if (what & RTNL_WATCH_LINKS)
		groups |= RTMGRP_LINK;
	if (what & RTNL_WATCH_ROUTES)
		groups |= RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_RULE;
	return groups;
}

int rtnl_watch_open(struct rtnl_watch **out, unsigned int what)
{
	struct rtnl_watch *w = calloc(1, sizeof(*w));
	int ret, one = 1;

	if (!w)
		return -ENOMEM;
	w->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->sock) {
		ret = -errno;
		free(w);
		return ret;
	}
	if ((what & RTNL_WATCH_ALL_NSID) &&
	    mnl_socket_setsockopt(w->sock, NETLINK_LISTEN_ALL_NSID, &one, sizeof(one)) < 0) {
		ret = -errno;
		rtnl_watch_close(w);
		return ret;
	}
	if (mnl_socket_bind(w->sock, watch_groups(what), MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		rtnl_watch_close(w);
		return ret;
	}
	ret = rtnl_seq_seed(&w->seq);
	if (ret < 0) {
		rtnl_watch_close(w);
		return ret;
	}
	*out = w;
	return 0;
}

void rtnl_watch_close(struct rtnl_watch *w)
{
	if (!w)
		return;
	mnl_socket_close(w->sock);
	free(w);
}

int rtnl_watch_fd(const struct rtnl_watch *w)
{
	return mnl_socket_get_fd(w->sock);
}

int rtnl_watch_query(struct rtnl_watch *w, int ifindex)
{
	return rtnl_watch_query_in(w, RTNL_NSID_SELF, ifindex);
}

int rtnl_watch_query_in(struct rtnl_watch *w, int nsid, int ifindex)
{
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	void *fixed;

	/* ifindex 0 would make the kernel look for an IFLA_IFNAME instead */
	if (ifindex <= 0)
		return -ENODEV;
	nlh = rtnl_msg_start(&req, RTM_GETLINK, NLM_F_REQUEST, &fixed, sizeof(*ifi));
	ifi = fixed;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nsid != RTNL_NSID_SELF)
		mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, (uint32_t)nsid);
	nlh->nlmsg_seq = ++w->seq;
	if (mnl_socket_sendto(w->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static int attr_s32(const struct nlattr *a, int fallback)
{
	uint32_t v;

	return rtnl_attr_u32(a, &v) ? (int)v : fallback;
}

/* A link message: its ifindex and flags, and where a departing link went. */
static bool parse_link(const struct nlmsghdr *nlh, struct rtnl_watch_event *e)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	if (rtnl_attrs_parse(nlh, sizeof(*ifi), tb, IFLA_MAX) < 0)
		return false;
	ifi = mnl_nlmsg_get_payload(nlh);
	e->kind = nlh->nlmsg_type == RTM_NEWLINK ? RTNL_WATCH_LINK : RTNL_WATCH_LINK_GONE;
	e->ifindex = ifi->ifi_index;
	e->flags = ifi->ifi_flags;
	/* the answer to a query in another namespace names it; notifications come with a cmsg */
	e->nsid = attr_s32(tb[IFLA_TARGET_NETNSID], e->nsid);
	if (e->kind == RTNL_WATCH_LINK_GONE && tb[IFLA_NEW_NETNSID]) {
		e->new_nsid = attr_s32(tb[IFLA_NEW_NETNSID], -1);
		e->new_ifindex = attr_s32(tb[IFLA_NEW_IFINDEX], 0);
	}
	return true;
}

void rtnl_watch_parse(const void *buf, size_t len, int nsid, rtnl_watch_fn fn, void *ctx)
{
	const struct nlmsghdr *nlh = buf;
	struct rtnl_watch_event e;
	int left = len > RTNL_RECV_LEN ? RTNL_RECV_LEN : (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		e = (struct rtnl_watch_event){ .nsid = nsid, .new_nsid = -1 };
		switch (nlh->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			if (!parse_link(nlh, &e))
				continue;
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
		case RTM_NEWRULE:
		case RTM_DELRULE:
			e.kind = RTNL_WATCH_ROUTING;
			break;
		default:
			continue;
		}
		fn(ctx, &e);
	}
}

/* The NETLINK_LISTEN_ALL_NSID id a datagram came with, RTNL_NSID_SELF without one. */
static int datagram_nsid(struct msghdr *msg)
{
	int nsid = RTNL_NSID_SELF;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm))
		if (cm->cmsg_level == SOL_NETLINK && cm->cmsg_type == NETLINK_LISTEN_ALL_NSID &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&nsid, CMSG_DATA(cm), sizeof(nsid));
	return nsid;
}

int rtnl_watch_read(struct rtnl_watch *w, rtnl_watch_fn fn, void *ctx)
{
	int fd = mnl_socket_get_fd(w->sock), ret = 0;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = w->buf, .iov_len = sizeof(w->buf) };
	struct msghdr msg;
	ssize_t n;

	/* a budget, so a storm of link changes elsewhere cannot starve the loop's other fds */
	for (unsigned int i = 0; i < RTNL_WATCH_BATCH; i++) {
		msg = (struct msghdr){ .msg_name = &from,
				       .msg_namelen = sizeof(from),
				       .msg_iov = &iov,
				       .msg_iovlen = 1,
				       .msg_control = control.buf,
				       .msg_controllen = sizeof(control.buf) };
		n = recvmsg(fd, &msg, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* reported once per overrun; what follows is still in order */
			ret = -ENOBUFS;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? ret : -errno;
		/*
		 * Only the kernel (port 0) speaks for links; a truncated datagram (longer
		 * than the buffer, which no link message is) is dropped whole.
		 */
		if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK ||
		    from.nl_pid != 0 || (size_t)n > sizeof(w->buf) || (msg.msg_flags & MSG_TRUNC))
			continue;
		rtnl_watch_parse(w->buf, (size_t)n, datagram_nsid(&msg), fn, ctx);
	}
	return ret; /* more is pending: the loop calls again (level-triggered) */
}
