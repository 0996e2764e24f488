/* SPDX-License-Identifier: MIT */
/* Links moved between namespaces and enslaved to VRFs over rtnetlink (rtnl_tenant.h). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "netlink/rtnl_priv.h"
#include "netlink/rtnl_tenant.h"

static struct nlmsghdr *link_msg(struct rtnl_req *req, uint16_t type, int ifindex)
{
	struct ifinfomsg *ifi;
	void *fixed;
	struct nlmsghdr *nlh = rtnl_msg_start(req, type, 0, &fixed, sizeof(*ifi));

	ifi = fixed;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int rtnl_link_set_netns(struct rtnl *nl, int ifindex, int netns_fd)
{
	struct rtnl_req req;
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || netns_fd < 0)
		return -EINVAL;
	nlh = link_msg(&req, RTM_NEWLINK, ifindex);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

int rtnl_link_set_master(struct rtnl *nl, int ifindex, int master)
{
	struct rtnl_req req;
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || master < 0)
		return -EINVAL;
	nlh = link_msg(&req, RTM_NEWLINK, ifindex);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return rtnl_talk(nl, nlh, NULL, NULL);
}

struct vrf_info {
	int ifindex;
	uint32_t table;
	int ret;
};

/* IFLA_LINKINFO { IFLA_INFO_KIND "vrf", IFLA_INFO_DATA { IFLA_VRF_TABLE u32 } } */
static int vrf_read(const struct nlmsghdr *nlh, void *ctx)
{
	const struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1], *data[IFLA_VRF_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct vrf_info *v = ctx;
	const char *kind;

	if (nlh->nlmsg_type != RTM_NEWLINK || rtnl_attrs_parse(nlh, sizeof(*ifi), tb, IFLA_MAX) < 0)
		return v->ret = -EBADMSG;
	v->ifindex = ifi->ifi_index;
	v->ret = -EMEDIUMTYPE;
	if (!tb[IFLA_LINKINFO])
		return 0;
	rtnl_attrs_parse_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	if (!info[IFLA_INFO_KIND] || !info[IFLA_INFO_DATA] ||
	    mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) < 0)
		return 0;
	kind = mnl_attr_get_str(info[IFLA_INFO_KIND]);
	if (strcmp(kind, "vrf"))
		return 0;
	rtnl_attrs_parse_nested(info[IFLA_INFO_DATA], data, IFLA_VRF_MAX);
	if (rtnl_attr_u32(data[IFLA_VRF_TABLE], &v->table) && v->table)
		v->ret = 0;
	return 0;
}

int rtnl_vrf_parse(const void *buf, size_t len, int *ifindex, uint32_t *table)
{
	const struct nlmsghdr *nlh = buf;
	struct vrf_info v = { .ret = -EBADMSG };

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EBADMSG;
	(void)vrf_read(nlh, &v);
	if (v.ret == 0) {
		*ifindex = v.ifindex;
		*table = v.table;
	}
	return v.ret;
}

int rtnl_vrf_lookup(struct rtnl *nl, const char *name, int *ifindex, uint32_t *table)
{
	struct vrf_info v = { .ret = -ENODEV };
	struct rtnl_req req;
	struct nlmsghdr *nlh;
	int ret;

	if (!name || !name[0] || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	nlh = link_msg(&req, RTM_GETLINK, 0);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = rtnl_talk(nl, nlh, vrf_read, &v);
	if (ret < 0)
		return ret;
	if (v.ret == 0) {
		*ifindex = v.ifindex;
		*table = v.table;
	}
	return v.ret;
}
