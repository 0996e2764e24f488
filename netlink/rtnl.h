/* SPDX-License-Identifier: MIT */
/*
 * Interface configuration over rtnetlink (libmnl): link up/down and MTU, addresses, one device
 * route per AllowedIPs prefix, the wg-quick(8) policy rules for a full tunnel, and the route
 * MTU towards an endpoint. It never shells out to ip(8) and knows nothing of peers or keys.
 *
 * Every call returns 0 (or a positive result where stated) or -errno. When the kernel refuses
 * a request, the errno is the kernel's own and rtnl_error() holds its extended-ACK text
 * verbatim (NETLINK_EXT_ACK), so the edge can show the administrator what `ip` would.
 * One struct rtnl serves one thread; calls are synchronous (request, then wait for the ACK).
 */
#ifndef WGD_NETLINK_RTNL_H
#define WGD_NETLINK_RTNL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Routes and rules we add carry this protocol, and deletes match on it, so shutdown removes
 * only what the daemon installed, never an administrator's identical route ("proto static").
 */
#define RTNL_PROTOCOL 4 /* RTPROT_STATIC */

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" plus the NUL */
#define RTNL_PREFIX_STRLEN (46 + 4)

/* The path MTU wg-quick assumes when nothing better is known. */
#define RTNL_MTU_FALLBACK 1500

struct rtnl;

struct rtnl_prefix {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
	uint8_t cidr;
};

/* Opens a NETLINK_ROUTE socket with extended ACKs; *out is the caller's, for rtnl_close(). */
int __must_check rtnl_open(struct rtnl **out);
void rtnl_close(struct rtnl *nl);

/* The extended-ACK message of the last failed request, "" if the kernel gave none. Borrowed. */
const char *rtnl_error(const struct rtnl *nl);

/*
 * "10.0.0.1/24", "fd00::1/64"; a bare address means /32 or /128. Host bits are kept (an
 * interface address needs them); rtnl_prefix_mask() clears them. -EINVAL on anything else.
 */
int __must_check rtnl_prefix_parse(struct rtnl_prefix *out, const char *s);
/* "addr/cidr" (inet_ntop form), truncated to len; "" for an unknown family. */
void rtnl_prefix_format(const struct rtnl_prefix *p, char *out, size_t len);
void rtnl_prefix_mask(struct rtnl_prefix *p);

/* The ifindex (> 0) of ifname, -ENODEV if there is none, -EINVAL for an impossible name. */
int __must_check rtnl_link_index(struct rtnl *nl, const char *ifname);
int __must_check rtnl_link_set_up(struct rtnl *nl, int ifindex, bool up);
int __must_check rtnl_link_set_mtu(struct rtnl *nl, int ifindex, unsigned int mtu);
int __must_check rtnl_link_get_mtu(struct rtnl *nl, int ifindex, unsigned int *mtu);
int __must_check rtnl_link_delete(struct rtnl *nl, int ifindex);

/* The address with its prefix length, scope global. -EEXIST if present. */
int __must_check rtnl_addr_add(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p);
/* -EADDRNOTAVAIL if the address (with this prefix length) is not on the link. */
int __must_check rtnl_addr_del(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p);
/*
 * Calls fn for each IPv4 and IPv6 address of the link. The dump completes before the first
 * call, so fn may itself use nl (to delete addresses, say). A negative return from fn stops
 * the walk and is returned.
 */
int __must_check rtnl_addr_list(struct rtnl *nl, int ifindex,
				int (*fn)(void *ctx, const struct rtnl_prefix *p), void *ctx);

/*
 * A device route for the masked prefix: scope link (universe for IPv6, as ip(8) does), type
 * unicast, protocol RTNL_PROTOCOL, in table `table` (0 = RT_TABLE_MAIN). -EEXIST if present;
 * -ENETDOWN while the link is down. Delete matches device, table and protocol: -ESRCH if
 * there is no such route of ours.
 */
int __must_check rtnl_route_add(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p,
				uint32_t table);
int __must_check rtnl_route_del(struct rtnl *nl, int ifindex, const struct rtnl_prefix *p,
				uint32_t table);

/* One route as a dump reports it. */
struct rtnl_route {
	struct rtnl_prefix prefix; /* the destination; 0.0.0.0/0 or ::/0 for a default */
	uint32_t table;		   /* the kernel's number: RT_TABLE_MAIN is 254 */
	uint8_t protocol; /* RTNL_PROTOCOL for ours (and for `ip route ... proto static') */
};

/*
 * Calls fn for each IPv4 and IPv6 unicast route, in any table, whose output device is
 * ifindex (the first hop's, for a multipath route). As for rtnl_addr_list, the dump
 * completes before the first call, so fn may use nl; a negative return from fn stops the
 * walk and is returned.
 */
int __must_check rtnl_route_list(struct rtnl *nl, int ifindex,
				 int (*fn)(void *ctx, const struct rtnl_route *r), void *ctx);

/*
 * The MTU of the path the kernel would use towards addr (struct in_addr or in6_addr): the
 * route's RTAX_MTU metric (which includes a learnt path-MTU exception) if set, else the MTU of
 * its output device. -ENETUNREACH (or the kernel's errno) if there is no usable route.
 */
int __must_check rtnl_route_mtu_towards(struct rtnl *nl, int family, const void *addr,
					unsigned int *mtu);
/*
 * The output interface (ifindex > 0) of the route the kernel picks for a datagram to dst
 * from src (NULL: routing chooses the source) with fwmark mark (0: none), as a socket's
 * sendmsg would: a source that is no longer ours gives -EINVAL, as it does there.
 */
int __must_check rtnl_route_oif(struct rtnl *nl, int family, const void *dst, const void *src,
				uint32_t mark);
/*
 * The same for the main table's default route of the family (the lowest metric one): its
 * RTAX_MTU metric if set, else its device's MTU. -ENOENT if there is no default route.
 */
int __must_check rtnl_default_route_mtu(struct rtnl *nl, int family, unsigned int *mtu);
/*
 * The tunnel MTU when MTU is unset: the smallest rtnl_route_mtu_towards() over the
 * endpoints, so that no endpoint's path needs fragments (wg-quick(8) takes the largest)
 * (AF_INET/AF_INET6 sockaddrs; NULLs, other families and failed lookups are skipped, as wg-quick's
 * `|| true` does), else the IPv4 default route's, else (our addition, for IPv6-only hosts) the IPv6
 * default route's, else RTNL_MTU_FALLBACK; minus the 80 bytes of MESSAGE_OVERHEAD_UDP6. So 1420 on
 * a 1500 path.
 */
unsigned int rtnl_tunnel_mtu(struct rtnl *nl, const struct sockaddr *const *endpoints, size_t n);

/*
 * A policy rule "[not] fwmark F lookup T [suppress_prefixlength S] [pref P]" of the family:
 * table 0 means RT_TABLE_MAIN; fwmark 0 means no fwmark match; suppress_prefixlen < 0 means
 * none; priority 0 lets the kernel choose (add) or matches any (del). With the two rules
 *   rtnl_rule_add(nl, f, T, T, true, -1, 0)    ip rule add not fwmark T table T
 *   rtnl_rule_add(nl, f, 0, 0, false, 0, 0)    ip rule add table main suppress_prefixlength 0
 * a /0 AllowedIPs routed in table T leaves the tunnel's own (fwmark T) packets on main.
 * Add gives -EEXIST if an identical rule with the same priority exists. Delete removes the
 * first of our (RTNL_PROTOCOL) rules that matches as the kernel matches: what we leave
 * unset (fwmark 0, suppress_prefixlen < 0, priority 0) matches anything, and invert_fwmark
 * is not compared at all; -ENOENT if none.
 */
int __must_check rtnl_rule_add(struct rtnl *nl, int family, uint32_t table, uint32_t fwmark,
			       bool invert_fwmark, int suppress_prefixlen, uint32_t priority);
int __must_check rtnl_rule_del(struct rtnl *nl, int family, uint32_t table, uint32_t fwmark,
			       bool invert_fwmark, int suppress_prefixlen, uint32_t priority);

#endif
