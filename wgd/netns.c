/* SPDX-License-Identifier: MIT */
/* Opening and entering network namespaces (netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netlink/rtnl_tenant.h"
#include "wgd/conf.h"
#include "wgd/ifconfig.h"
#include "wgd/netns.h"

int netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int netns_open_self(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_enter(int fd)
{
	/* CLONE_NEWNET: the kernel refuses an fd of any other kind of namespace (EINVAL) */
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int netns_move_link(const char *ifname, int fd, struct rtnl **home_nl, char *err, size_t errlen)
{
	int ret = rtnl_open(home_nl), ifindex;

	if (ret < 0) {
		snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(-ret));
		return ret;
	}
	ifindex = rtnl_link_index(*home_nl, ifname);
	ret = ifindex < 0 ? ifindex : rtnl_link_set_netns(*home_nl, ifindex, fd);
	if (ret < 0) {
		/* EEXIST: the namespace has a link of that name already */
		snprintf(err, errlen, "cannot move %s into its namespace: %s%s%s%s", ifname,
			 strerror(-ret), *rtnl_error(*home_nl) ? " (" : "", rtnl_error(*home_nl),
			 *rtnl_error(*home_nl) ? ")" : "");
		return ret;
	}
	ret = netns_enter(fd);
	if (ret < 0)
		snprintf(err, errlen, "cannot enter the namespace of %s: %s%s", ifname,
			 strerror(-ret),
			 ret == -EPERM ? " (setns needs CAP_SYS_ADMIN: see wgd@.service)" : "");
	return ret;
}

int netns_vrf_attach(struct ifconfig *ic, struct conf *c, char *err, size_t errlen)
{
	uint32_t table = 0;
	int master = 0, ret;

	if (!c->vrf)
		return 0;
	ret = rtnl_vrf_lookup(ic->nl, c->vrf, &master, &table);
	if (ret == -ENODEV || ret == -EMEDIUMTYPE) {
		snprintf(err, errlen, "VRF %s: %s", c->vrf,
			 ret == -ENODEV ? "no such link (create it: ip link add NAME type vrf "
					  "table N)"
					: "not a VRF device");
		return ret;
	}
	if (ret == 0)
		ret = rtnl_link_set_master(ic->nl, ic->ifindex, master);
	if (ret < 0) {
		snprintf(err, errlen, "cannot enslave %s to VRF %s: %s", ic->ifname, c->vrf,
			 strerror(-ret));
		return ret;
	}
	c->vrf_table = table;
	return 0;
}
