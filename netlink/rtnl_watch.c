/* SPDX-License-Identifier: MIT */
/* Link notifications over rtnetlink (see rtnl_watch.h). */
#include <errno.h>
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

int rtnl_watch_open(struct rtnl_watch **out)
{
	struct rtnl_watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->sock) {
		ret = -errno;
		free(w);
		return ret;
	}
	/* RTMGRP_LINK is RTNLGRP_LINK's bit in the legacy group mask bind() takes. */
	if (mnl_socket_bind(w->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
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
	nlh->nlmsg_seq = ++w->seq;
	if (mnl_socket_sendto(w->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

void rtnl_watch_parse(const void *buf, size_t len, rtnl_watch_fn fn, void *ctx)
{
	const struct nlmsghdr *nlh = buf;
	const struct ifinfomsg *ifi;
	int left = len > RTNL_RECV_LEN ? RTNL_RECV_LEN : (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
			continue;
		ifi = mnl_nlmsg_get_payload(nlh);
		fn(ctx, ifi->ifi_index, ifi->ifi_flags);
	}
}

int rtnl_watch_read(struct rtnl_watch *w, rtnl_watch_fn fn, void *ctx)
{
	int fd = mnl_socket_get_fd(w->sock), ret = 0;
	struct sockaddr_nl from;
	socklen_t alen;
	ssize_t n;

	/* a budget, so a storm of link changes elsewhere cannot starve the loop's other fds */
	for (unsigned int i = 0; i < RTNL_WATCH_BATCH; i++) {
		alen = sizeof(from);
		n = recvfrom(fd, w->buf, sizeof(w->buf), MSG_TRUNC, (struct sockaddr *)&from,
			     &alen);
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
		if (alen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0 ||
		    (size_t)n > sizeof(w->buf))
			continue;
		rtnl_watch_parse(w->buf, (size_t)n, fn, ctx);
	}
	return ret; /* more is pending: the loop calls again (level-triggered) */
}
