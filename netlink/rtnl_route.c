/* SPDX-License-Identifier: MIT */
/*
 * Routes (one device route per AllowedIPs prefix), route-MTU lookups for the default tunnel
 * MTU, and the two policy rules of a wg-quick(8) full tunnel, over rtnetlink.
 */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/messages.h"
#include "netlink/rtnl_priv.h"

_Static_assert(RTNL_PROTOCOL == RTPROT_STATIC, "rtnl.h documents proto static");

/* A route dump racing a route change is retried (NLM_F_DUMP_INTR). */
#define ROUTE_DUMP_TRIES 3

static struct rtmsg *route_msg(struct rtnl_req *req, struct nlmsghdr **nlh, uint16_t type,
			       uint16_t flags, int family)
{
	void *fixed;

	*nlh = rtnl_msg_start(req, type, flags, &fixed, sizeof(struct rtmsg));
	((struct rtmsg *)fixed)->rtm_family = (uint8_t)family;
	return fixed;
}

/* Tables above 255 exist only as RTA_TABLE; rtm_table then says RT_TABLE_UNSPEC. */
static uint8_t table_byte(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

static int route_change(struct rtnl *nl, uint16_t type, uint16_t flags, int ifindex,
			const struct rtnl_prefix *p, uint32_t table)
{
	size_t alen = rtnl_family_addr_len(p->family);
	struct rtnl_prefix dst = *p;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen)
		return -EAFNOSUPPORT;
	if (!table)
		table = RT_TABLE_MAIN;
	/* AllowedIPs may carry host bits ("10.0.0.1/24"); IPv4 routes must not. */
	rtnl_prefix_mask(&dst);
	rtm = route_msg(&req, &nlh, type, flags, p->family);
	rtm->rtm_dst_len = p->cidr;
	rtm->rtm_table = table_byte(table);
	rtm->rtm_protocol = RTNL_PROTOCOL;
	/* ip(8)'s choice for a device route: link scope, but IPv6 routes are all universe. */
	rtm->rtm_scope = p->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, alen, &dst.ip6);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_route_add(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p, uint32_t table)
{
	return route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, p, table);
}

int rtnl_route_del(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p, uint32_t table)
{
	return route_change(nl, RTM_DELROUTE, 0, ifindex, p, table);
}

struct route_info {
	uint8_t type, dst_len;
	uint32_t table, oif, priority, mtu; /* oif and mtu 0 = absent */
};

static void route_info_read(const struct rtmsg *rtm, const struct nlattr *const *tb,
			    struct route_info *r)
{
	const struct nlattr *metrics[RTAX_MAX + 1];
	const struct rtnexthop *nh;

	memset(r, 0, sizeof(*r));
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	if (!rtnl_attr_u32(tb[RTA_TABLE], &r->table))
		r->table = rtm->rtm_table;
	rtnl_attr_u32(tb[RTA_PRIORITY], &r->priority);
	if (!rtnl_attr_u32(tb[RTA_OIF], &r->oif) && tb[RTA_MULTIPATH] &&
	    mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(*nh)) {
		/* An ECMP route: its first hop's device stands for all of them. */
		nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		r->oif = (uint32_t)nh->rtnh_ifindex;
	}
	if (tb[RTA_METRICS]) {
		rtnl_attrs_parse_nested(tb[RTA_METRICS], metrics, RTAX_MAX);
		rtnl_attr_u32(metrics[RTAX_MTU], &r->mtu);
	}
}

static int route_read(const struct nlmsghdr *nlh, struct route_info *r)
{
	const struct nlattr *tb[RTA_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    rtnl_attrs_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX) < 0)
		return -EBADMSG;
	route_info_read(mnl_nlmsg_get_payload(nlh), tb, r);
	return 0;
}

static int route_get_read(const struct nlmsghdr *nlh, void *ctx)
{
	return route_read(nlh, ctx);
}

struct route_set {
	int ifindex;
	struct rtnl_route *v;
	size_t n, cap;
};

static int route_set_push(struct route_set *s, const struct rtnl_route *r)
{
	return rtnl_vec_push((void **)&s->v, &s->n, &s->cap, r, sizeof(*r));
}

/* A unicast route of s->ifindex into s; the rest of the dump is skipped. */
static int route_list_read(const struct nlmsghdr *nlh, void *ctx)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1];
	struct route_set *s = ctx;
	struct rtnl_route r = { 0 };
	struct route_info info;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    rtnl_attrs_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX) < 0)
		return -EBADMSG;
	route_info_read(rtm, tb, &info);
	alen = rtnl_family_addr_len(rtm->rtm_family);
	if (!alen || info.type != RTN_UNICAST || info.oif != (uint32_t)s->ifindex ||
	    rtm->rtm_dst_len > alen * 8)
		return 0;
	r.prefix.family = rtm->rtm_family;
	r.prefix.cidr = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(&r.prefix.ip6, mnl_attr_get_payload(tb[RTA_DST]), alen);
	else if (r.prefix.cidr)
		return -EBADMSG;
	r.table = info.table;
	r.protocol = rtm->rtm_protocol;
	return route_set_push(s, &r);
}

static int route_dump(struct rtnl *nl, struct route_set *s)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	int ret = 0;

	s->n = 0;
	for (size_t f = 0; f < 2 && ret == 0; f++) {
		size_t start = s->n;

		ret = -EINTR;
		for (int i = 0; i < ROUTE_DUMP_TRIES && ret == -EINTR; i++) {
			s->n = start;
			route_msg(&req, &nlh, RTM_GETROUTE, NLM_F_DUMP, families[f]);
			ret = rtnl_talk(nl, nlh, route_list_read, s);
		}
	}
	return ret;
}

int rtnl_route_list(struct rtnl *nl, int ifindex, int (*fn)(void *ctx, const struct rtnl_route *r),
		    void *ctx)
{
	struct route_set s = { .ifindex = ifindex };
	int ret = route_dump(nl, &s);

	for (size_t i = 0; i < s.n && ret >= 0; i++)
		ret = fn(ctx, &s.v[i]);
	free(s.v);
	return ret < 0 ? ret : 0;
}

/* The route's own MTU metric, else its device's MTU. */
static int route_mtu(struct rtnl *nl, const struct route_info *r, unsigned int *mtu)
{
	if (r->mtu) {
		*mtu = r->mtu;
		return 0;
	}
	if (!r->oif)
		return -ENETUNREACH;
	return rtnl_link_get_mtu(nl, (int)r->oif, mtu);
}

/* RTM_GETROUTE towards dst (optionally from src, under mark): the route the kernel picks. */
static int route_get(struct rtnl *nl, int family, const void *dst, const void *src, uint32_t mark,
		     struct route_info *r)
{
	size_t alen = rtnl_family_addr_len(family);
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen)
		return -EAFNOSUPPORT;
	rtm = route_msg(&req, &nlh, RTM_GETROUTE, 0, family);
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	if (src) {
		rtm->rtm_src_len = (uint8_t)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, src);
	}
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	return rtnl_talk(nl, nlh, route_get_read, r);
}

int rtnl_route_mtu_towards(struct rtnl *nl, int family, const void *addr, unsigned int *mtu)
{
	struct route_info r = { 0 };
	int ret = route_get(nl, family, addr, NULL, 0, &r);

	if (ret < 0)
		return ret;
	/* Unreachable, prohibit, blackhole or throw: nothing would leave for addr. */
	if (r.type != RTN_UNICAST && r.type != RTN_LOCAL)
		return -ENETUNREACH;
	return route_mtu(nl, &r, mtu);
}

int rtnl_route_oif(struct rtnl *nl, int family, const void *dst, const void *src, uint32_t mark)
{
	struct route_info r = { 0 };
	int ret = route_get(nl, family, dst, src, mark, &r);

	if (ret < 0)
		return ret;
	return r.oif ? (int)r.oif : -ENETUNREACH;
}

struct default_route {
	struct route_info best;
	bool is_found;
};

static int default_route_read(const struct nlmsghdr *nlh, void *ctx)
{
	struct default_route *d = ctx;
	struct route_info r;
	int ret = route_read(nlh, &r);

	if (ret < 0)
		return ret;
	if (r.dst_len || r.table != RT_TABLE_MAIN || r.type != RTN_UNICAST || !r.oif)
		return 0;
	/* Of several defaults the kernel uses the lowest metric one. */
	if (!d->is_found || r.priority < d->best.priority) {
		d->best = r;
		d->is_found = true;
	}
	return 0;
}

int rtnl_default_route_mtu(struct rtnl *nl, int family, unsigned int *mtu)
{
	struct default_route d;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	int ret = -EINTR;

	if (!rtnl_family_addr_len(family))
		return -EAFNOSUPPORT;
	for (int i = 0; i < ROUTE_DUMP_TRIES && ret == -EINTR; i++) {
		memset(&d, 0, sizeof(d));
		route_msg(&req, &nlh, RTM_GETROUTE, NLM_F_DUMP, family);
		ret = rtnl_talk(nl, nlh, default_route_read, &d);
	}
	if (ret < 0)
		return ret;
	if (!d.is_found)
		return -ENOENT;
	return route_mtu(nl, &d.best, mtu);
}

static bool sockaddr_mtu(struct rtnl *nl, const struct sockaddr *sa, unsigned int *mtu)
{
	const void *addr;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return false;
	return rtnl_route_mtu_towards(nl, sa->sa_family, addr, mtu) == 0;
}

unsigned int rtnl_tunnel_mtu(struct rtnl *nl, const struct sockaddr *const *endpoints, size_t n)
{
	unsigned int best = 0, mtu;

	for (size_t i = 0; i < n; i++)
		if (sockaddr_mtu(nl, endpoints[i], &mtu) && mtu && (!best || mtu < best))
			best = mtu;
	if (!best && rtnl_default_route_mtu(nl, AF_INET, &mtu) == 0)
		best = mtu;
	if (!best && rtnl_default_route_mtu(nl, AF_INET6, &mtu) == 0)
		best = mtu;
	/* Even a path too small to carry one byte of tunnel payload gets the fallback. */
	if (best <= MESSAGE_OVERHEAD_UDP6)
		best = RTNL_MTU_FALLBACK;
	return best - MESSAGE_OVERHEAD_UDP6;
}

static int rule_change(struct rtnl *nl, uint16_t type, uint16_t flags, int family, uint32_t table,
		       uint32_t fwmark, bool invert_fwmark, int suppress_prefixlen,
		       uint32_t priority)
{
	struct fib_rule_hdr *frh;
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	void *fixed;

	if (!rtnl_family_addr_len(family))
		return -EAFNOSUPPORT;
	if (!table)
		table = RT_TABLE_MAIN;
	nlh = rtnl_msg_start(&req, type, flags, &fixed, sizeof(*frh));
	frh = fixed;
	frh->family = (uint8_t)family;
	frh->table = table_byte(table);
	frh->action = FR_ACT_TO_TBL;
	frh->flags = invert_fwmark ? FIB_RULE_INVERT : 0;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, RTNL_PROTOCOL);
	if (fwmark)
		mnl_attr_put_u32(nlh, FRA_FWMARK, fwmark);
	if (suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)suppress_prefixlen);
	if (priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_rule_add(struct rtnl *nl, int family, uint32_t table, uint32_t fwmark, bool invert_fwmark,
		  int suppress_prefixlen, uint32_t priority)
{
	return rule_change(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family, table, fwmark,
			   invert_fwmark, suppress_prefixlen, priority);
}

int rtnl_rule_del(struct rtnl *nl, int family, uint32_t table, uint32_t fwmark, bool invert_fwmark,
		  int suppress_prefixlen, uint32_t priority)
{
	return rule_change(nl, RTM_DELRULE, 0, family, table, fwmark, invert_fwmark,
			   suppress_prefixlen, priority);
}
