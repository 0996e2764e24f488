/* SPDX-License-Identifier: MIT */
/*
 * Shared by netlink/rtnl*.c (and white-box tests): the socket state and the one
 * request/response exchange every call goes through. Not part of the public API.
 */
#ifndef WGD_NETLINK_RTNL_PRIV_H
#define WGD_NETLINK_RTNL_PRIV_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "netlink/rtnl.h"

enum {
	/*
	 * The kernel sizes dump skbs to the reader's buffer but never above 32 KiB
	 * (netlink_recvmsg caps max_recvmsg_len), so a 32 KiB buffer never truncates.
	 */
	RTNL_RECV_LEN = 32768,
	/* Our requests are a header, a fixed struct and a few small attributes. */
	RTNL_REQ_LEN = 512,
	/* Kernel messages are literals or NETLINK_MAX_FMTMSG_LEN (80) formatted bytes. */
	RTNL_ERROR_LEN = 256,
};

struct rtnl {
	struct mnl_socket *sock;
	unsigned int portid;
	uint32_t seq;
	char error[RTNL_ERROR_LEN];
	uint8_t buf[RTNL_RECV_LEN];
};

/*
 * A random first sequence number (getrandom(2)): replies are matched by it, so it must not
 * be guessable from the clock by another process that can send to our port. 0 or -errno.
 */
int __must_check rtnl_seq_seed(uint32_t *seq);

/* A request buffer, aligned for struct nlmsghdr. */
struct rtnl_req {
	_Alignas(struct nlmsghdr) uint8_t buf[RTNL_REQ_LEN];
};

/*
 * Called for each data message (type >= NLMSG_MIN_TYPE) answering our request. A negative
 * return is remembered and becomes rtnl_talk's result, but the reply is still read to its end
 * so the socket stays in step.
 */
typedef int (*rtnl_msg_fn)(const struct nlmsghdr *nlh, void *ctx);

/*
 * Sends nlh (adding NLM_F_REQUEST | NLM_F_ACK and a fresh sequence number) and reads until
 * the kernel's ACK, error or NLMSG_DONE. Returns the kernel's -errno (with nl->error set
 * from the extended ACK), else fn's first negative return, else -EINTR if a dump was
 * interrupted by a concurrent change (NLM_F_DUMP_INTR), else 0.
 */
int __must_check rtnl_talk(struct rtnl *nl, struct nlmsghdr *nlh, rtnl_msg_fn fn, void *ctx);

/* nlh with the given type and flags and a zeroed fixed header of len bytes after it. */
struct nlmsghdr *rtnl_msg_start(struct rtnl_req *req, uint16_t type, uint16_t flags, void **fixed,
				size_t len);

/* Appends elem (size bytes) to the growable array *v of *n elements. 0 or -ENOMEM. */
int __must_check rtnl_vec_push(void **v, size_t *n, size_t *cap, const void *elem, size_t size);

/* The address length of an AF_INET/AF_INET6 family, 0 for others. */
size_t rtnl_family_addr_len(int family);

/*
 * Indexes the attributes after a fixed header of fixed_len bytes into tb[0..max] (zeroed
 * first; types above max are ignored). -EBADMSG if the message is too short for the header.
 */
int __must_check rtnl_attrs_parse(const struct nlmsghdr *nlh, size_t fixed_len,
				  const struct nlattr **tb, unsigned int max);
/* The same for the attributes nested inside nest. */
void rtnl_attrs_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned int max);
/* The value of a u32 attribute, or false if absent or malformed. */
bool rtnl_attr_u32(const struct nlattr *attr, uint32_t *out);

#endif
