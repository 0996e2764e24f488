/* SPDX-License-Identifier: MIT */
/*
 * What a multi-tenant hub asks of rtnetlink (wgd/netns.h, wgd.conf(5) Namespace and VRF):
 * moving a link into another network namespace (IFLA_NET_NS_FD, as `ip link set IF netns
 * NS`), enslaving it to a VRF device (IFLA_MASTER, `ip link set IF master VRF`) and
 * finding that VRF's routing table (IFLA_LINKINFO / IFLA_INFO_DATA / IFLA_VRF_TABLE).
 */
#ifndef WGD_NETLINK_RTNL_TENANT_H
#define WGD_NETLINK_RTNL_TENANT_H

#include <stddef.h>
#include <stdint.h>

#include "netlink/rtnl.h"

/* Moves the link into the namespace open at netns_fd. 0 or -errno. */
int __must_check rtnl_link_set_netns(struct rtnl *nl, int ifindex, int netns_fd);

/* Enslaves the link to master (0: releases it). 0 or -errno. */
int __must_check rtnl_link_set_master(struct rtnl *nl, int ifindex, int master);

/*
 * The VRF device called name: its ifindex in *ifindex and its table in *table. 0;
 * -ENODEV when there is no such link, -EMEDIUMTYPE when it is not a VRF; -errno.
 */
int __must_check rtnl_vrf_lookup(struct rtnl *nl, const char *name, int *ifindex, uint32_t *table);

/*
 * The parser behind rtnl_vrf_lookup, for tests: the table of the RTM_NEWLINK message at
 * buf (len bytes) if its kind is "vrf". 0, -EMEDIUMTYPE (another kind, or no table),
 * -EBADMSG (not a link message).
 */
int rtnl_vrf_parse(const void *buf, size_t len, int *ifindex, uint32_t *table);

#endif
