/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces for `Namespace = NAME` and `wgd --netns NAME` (wgd.conf(5)): the
 * supervisor opens the named namespace (/run/netns/NAME, as ip-netns(8) makes them) and
 * its own, moves the TUN there once the worker serves, and then enters it for good, so
 * that addresses, routes, rules, nft, the link watch and the hooks all act there. The
 * worker never enters it: its UDP sockets stay where wgd started (the kernel's WireGuard
 * keeps its socket in the namespace the interface was created in, in the same way).
 */
#ifndef WGD_NETNS_H
#define WGD_NETNS_H

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

struct conf;
struct ifconfig;
struct rtnl;

/* An fd of the namespace /run/netns/name (O_CLOEXEC). fd >= 0, or -errno. */
int __must_check netns_open(const char *name);

/* An fd of the calling thread's own network namespace. fd >= 0, or -errno. */
int __must_check netns_open_self(void);

/* Makes fd's namespace the calling thread's (setns, CAP_SYS_ADMIN). 0 or -errno. */
int __must_check netns_enter(int fd);

/*
 * Moves the link ifname from the current namespace into fd's (IFLA_NET_NS_FD) and enters
 * that namespace. *home_nl is then an rtnetlink socket left in the namespace we came from
 * (the caller closes it). 0, or -errno with one line in err; nothing moved on failure
 * before the move, and a link that moved stays there (the caller's teardown deletes it
 * with the worker).
 */
int __must_check netns_move_link(const char *ifname, int fd, struct rtnl **home_nl, char *err,
				 size_t errlen);

/*
 * VRF=: enslaves ic's link to the VRF device c->vrf of the current namespace and records
 * its table in c->vrf_table, where the routes go. 0, or -errno with one line in err.
 */
int __must_check netns_vrf_attach(struct ifconfig *ic, struct conf *c, char *err, size_t errlen);

#endif
