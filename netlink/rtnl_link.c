/* SPDX-License-Identifier: MIT */
/* Links (index by name, up/down, MTU, delete) and interface addresses over rtnetlink. */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "netlink/rtnl_priv.h"

/* An RTM_GETADDR dump racing an address change is retried, as ip(8) users would. */
#define ADDR_DUMP_TRIES 3

static struct nlmsghdr *link_msg(struct rtnl_req *req, uint16_t type, uint16_t flags, int ifindex,
				 struct ifinfomsg **ifi)
{
	void *fixed;
	struct nlmsghdr *nlh = rtnl_msg_start(req, type, flags, &fixed, sizeof(**ifi));

	*ifi = fixed;
	(*ifi)->ifi_family = AF_UNSPEC;
	(*ifi)->ifi_index = ifindex;
	/* Counters are most of an RTM_NEWLINK answer and we never read them. */
	if (type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

struct link_info {
	int ifindex;
	uint32_t mtu;
	bool has_mtu;
};

static int link_info_read(const struct nlmsghdr *nlh, void *ctx)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];
	struct link_info *info = ctx;

	if (nlh->nlmsg_type != RTM_NEWLINK || rtnl_attrs_parse(nlh, sizeof(*ifi), tb, IFLA_MAX) < 0)
		return -EBADMSG;
	info->ifindex = ifi->ifi_index;
	info->has_mtu = rtnl_attr_u32(tb[IFLA_MTU], &info->mtu);
	return 0;
}

int rtnl_link_index(struct rtnl *nl, const char *ifname)
{
	struct link_info info = { 0 };
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	int ret;

	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	nlh = link_msg(&req, RTM_GETLINK, 0, 0, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	ret = rtnl_talk(nl, nlh, link_info_read, &info);
	if (ret < 0)
		return ret;
	return info.ifindex > 0 ? info.ifindex : -ENODEV;
}

int rtnl_link_set_up(struct rtnl *nl, int ifindex, bool up)
{
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh = link_msg(&req, RTM_NEWLINK, 0, ifindex, &ifi);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_link_set_mtu(struct rtnl *nl, int ifindex, unsigned int mtu)
{
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh = link_msg(&req, RTM_NEWLINK, 0, ifindex, &ifi);

	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_link_get_mtu(struct rtnl *nl, int ifindex, unsigned int *mtu)
{
	struct link_info info = { 0 };
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	int ret;

	/* ifindex 0 would make the kernel look for an IFLA_IFNAME instead. */
	if (ifindex <= 0)
		return -ENODEV;
	nlh = link_msg(&req, RTM_GETLINK, 0, ifindex, &ifi);
	ret = rtnl_talk(nl, nlh, link_info_read, &info);
	if (ret < 0)
		return ret;
	if (!info.has_mtu)
		return -EBADMSG;
	*mtu = info.mtu;
	return 0;
}

int rtnl_link_delete(struct rtnl *nl, int ifindex)
{
	struct ifinfomsg *ifi;
	struct rtnl_req req;
	struct nlmsghdr *nlh = link_msg(&req, RTM_DELLINK, 0, ifindex, &ifi);

	return rtnl_talk(nl, nlh, NULL, NULL);
}

static int addr_change(struct rtnl *nl, uint16_t type, uint16_t flags, int ifindex,
		       const struct rtnl_prefix *p)
{
	size_t alen = rtnl_family_addr_len(p->family);
	struct ifaddrmsg *ifa;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	void *fixed;

	if (!alen)
		return -EAFNOSUPPORT;
	nlh = rtnl_msg_start(&req, type, flags, &fixed, sizeof(*ifa));
	ifa = fixed;
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->cidr;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* As ip(8) sends it for a non-peer address: local and "address" are the same. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, &p->ip6);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &p->ip6);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_addr_add(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p)
{
	return addr_change(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, p);
}

int rtnl_addr_del(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p)
{
	return addr_change(nl, RTM_DELADDR, 0, ifindex, p);
}

struct addr_set {
	int ifindex;
	struct rtnl_prefix *v;
	size_t n, cap;
};

static int addr_set_push(struct addr_set *s, const struct rtnl_prefix *p)
{
	return rtnl_vec_push((void **)&s->v, &s->n, &s->cap, p, sizeof(*p));
}

static int addr_read(const struct nlmsghdr *nlh, void *ctx)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1], *a;
	struct rtnl_prefix p = { 0 };
	struct addr_set *s = ctx;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR || rtnl_attrs_parse(nlh, sizeof(*ifa), tb, IFA_MAX) < 0)
		return -EBADMSG;
	alen = rtnl_family_addr_len(ifa->ifa_family);
	if ((int)ifa->ifa_index != s->ifindex || !alen)
		return 0;
	/* IFA_ADDRESS is the peer's on a point-to-point IPv4 address; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != alen)
		return -EBADMSG;
	p.family = ifa->ifa_family;
	p.cidr = ifa->ifa_prefixlen;
	memcpy(&p.ip6, mnl_attr_get_payload(a), alen);
	return addr_set_push(s, &p);
}

static int addr_dump(struct rtnl *nl, struct addr_set *s)
{
	struct ifaddrmsg *ifa;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	void *fixed;
	int ret = -EINTR;

	for (int i = 0; i < ADDR_DUMP_TRIES && ret == -EINTR; i++) {
		s->n = 0;
		nlh = rtnl_msg_start(&req, RTM_GETADDR, NLM_F_DUMP, &fixed, sizeof(*ifa));
		ifa = fixed;
		ifa->ifa_family = AF_UNSPEC;
		ret = rtnl_talk(nl, nlh, addr_read, s);
	}
	return ret;
}

int rtnl_addr_list(struct rtnl *nl, int ifindex, int (*fn)(void *ctx, const struct rtnl_prefix *p),
		   void *ctx)
{
	struct addr_set s = { .ifindex = ifindex };
	int ret = addr_dump(nl, &s);

	for (size_t i = 0; i < s.n && ret >= 0; i++)
		ret = fn(ctx, &s.v[i]);
	free(s.v);
	return ret < 0 ? ret : 0;
}
