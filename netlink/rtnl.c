/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink socket: one synchronous request/response exchange with extended-ACK
 * capture, and the prefix text codec. Links, addresses, routes and rules build on
 * rtnl_talk() in rtnl_link.c and rtnl_route.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "netlink/rtnl_priv.h"

struct reply {
	rtnl_msg_fn fn;
	void *ctx;
	int kernel_err, fn_err;
	bool is_done, is_interrupted;
};

int rtnl_seq_seed(uint32_t *seq)
{
	ssize_t n;

	do
		n = getrandom(seq, sizeof(*seq), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(*seq) ? 0 : -EIO;
}

int rtnl_open(struct rtnl **out)
{
	struct rtnl *nl = calloc(1, sizeof(*nl));
	int one = 1, ret;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		ret = -errno;
		goto err_free;
	}
	/*
	 * EXT_ACK: the kernel's reason in words, for the administrator. CAP_ACK: an error
	 * carries only our request's header, not its whole body, back to us.
	 */
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	ret = rtnl_seq_seed(&nl->seq);
	if (ret < 0)
		goto err_close;
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return ret;
}

void rtnl_close(struct rtnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

const char *rtnl_error(const struct rtnl *nl)
{
	return nl->error;
}

int rtnl_vec_push(void **v, size_t *n, size_t *cap, const void *elem, size_t size)
{
	size_t next = *cap ? *cap * 2 : 8;
	void *p;

	if (*n == *cap) {
		p = reallocarray(*v, next, size);
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = next;
	}
	memcpy((char *)*v + *n * size, elem, size);
	(*n)++;
	return 0;
}

size_t rtnl_family_addr_len(int family)
{
	if (family == AF_INET)
		return sizeof(struct in_addr);
	if (family == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

struct nlmsghdr *rtnl_msg_start(struct rtnl_req *req, uint16_t type, uint16_t flags, void **fixed,
				size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	*fixed = mnl_nlmsg_put_extra_header(nlh, len);
	return nlh;
}

static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct rtnl *nl = data;
	size_t n;

	if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
		return MNL_CB_OK;
	n = strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));
	if (n >= sizeof(nl->error))
		n = sizeof(nl->error) - 1;
	memcpy(nl->error, mnl_attr_get_str(attr), n);
	nl->error[n] = '\0';
	return MNL_CB_OK;
}

/* The extended-ACK TLVs start `off` bytes into the payload (netlink(7), NLM_F_ACK_TLVS). */
static void ext_ack_read(struct rtnl *nl, const struct nlmsghdr *nlh, size_t off)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, (unsigned int)off, ext_ack_attr, nl);
}

/* An ACK is an NLMSG_ERROR with error 0; the kernel's errors are negative errnos. */
static int reply_error(struct rtnl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (!e->error)
		return 0;
	/* Without NLM_F_CAPPED our whole request sits between the header and the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	ext_ack_read(nl, nlh, off);
	return e->error < 0 ? e->error : -e->error;
}

/* A dump ends with NLMSG_DONE carrying an int: 0, or the error that cut it short. */
static int reply_done(struct rtnl *nl, const struct nlmsghdr *nlh)
{
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(err)))
		return 0;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (!err)
		return 0;
	ext_ack_read(nl, nlh, sizeof(err));
	return err < 0 ? err : -err;
}

static void reply_read(struct rtnl *nl, uint32_t seq, int len, struct reply *r)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
	int ret;

	for (; mnl_nlmsg_ok(nlh, len) && !r->is_done; nlh = mnl_nlmsg_next(nlh, &len)) {
		/* The tail of an answer to an earlier request that ended in a socket error. */
		if (nlh->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(nlh, nl->portid))
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			r->is_interrupted = true;
		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			r->kernel_err = reply_error(nl, nlh);
			r->is_done = true;
			break;
		case NLMSG_DONE:
			r->kernel_err = reply_done(nl, nlh);
			r->is_done = true;
			break;
		default:
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !r->fn || r->fn_err)
				break;
			ret = r->fn(nlh, r->ctx);
			if (ret < 0)
				r->fn_err = ret;
		}
	}
}

/*
 * One datagram from the kernel into nl->buf: its length, or -errno. A process with
 * CAP_NET_ADMIN in this namespace (the worker has it) may send to our port id; only the
 * kernel (port 0) answers requests, so anything else is read and dropped here.
 */
static ssize_t recv_from_kernel(struct rtnl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct sockaddr_nl from;
	socklen_t alen;
	ssize_t n;

	for (;;) {
		alen = sizeof(from);
		n = recvfrom(fd, nl->buf, sizeof(nl->buf), MSG_TRUNC, (struct sockaddr *)&from,
			     &alen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (alen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		/* the kernel never sends more than RTNL_RECV_LEN (rtnl_priv.h) */
		return (size_t)n > sizeof(nl->buf) ? -ENOSPC : n;
	}
}

int rtnl_talk(struct rtnl *nl, struct nlmsghdr *nlh, rtnl_msg_fn fn, void *ctx)
{
	struct reply r = { .fn = fn, .ctx = ctx };
	ssize_t n;

	nl->error[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (!r.is_done) {
		n = recv_from_kernel(nl);
		if (n < 0)
			return (int)n;
		reply_read(nl, nlh->nlmsg_seq, (int)n, &r);
	}
	if (r.kernel_err)
		return r.kernel_err;
	if (r.fn_err)
		return r.fn_err;
	return r.is_interrupted ? -EINTR : 0;
}

static int parse_cidr(const char *s, unsigned int max, uint8_t *out)
{
	unsigned int v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (!i || v > max)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

int rtnl_prefix_parse(struct rtnl_prefix *out, const char *s)
{
	struct rtnl_prefix p = { 0 };
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	size_t len;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (!len || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, &p.ip4) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &p.ip6) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	p.cidr = (uint8_t)(rtnl_family_addr_len(p.family) * 8);
	if (slash && parse_cidr(slash + 1, p.cidr, &p.cidr) < 0)
		return -EINVAL;
	*out = p;
	return 0;
}

void rtnl_prefix_format(const struct rtnl_prefix *p, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!len)
		return;
	out[0] = '\0';
	if (!rtnl_family_addr_len(p->family) || !inet_ntop(p->family, &p->ip6, addr, sizeof(addr)))
		return;
	snprintf(out, len, "%s/%u", addr, p->cidr);
}

void rtnl_prefix_mask(struct rtnl_prefix *p)
{
	size_t len = rtnl_family_addr_len(p->family);
	uint8_t *b = p->ip6.s6_addr; /* the union's first bytes are ip4's too */
	unsigned int bit;

	for (size_t i = 0; i < len; i++) {
		bit = (unsigned int)i * 8;
		if (bit >= p->cidr)
			b[i] = 0;
		else if (p->cidr - bit < 8)
			b[i] &= (uint8_t)(0xff << (8 - (p->cidr - bit)));
	}
}

struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_index(const struct nlattr *attr, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

int rtnl_attrs_parse(const struct nlmsghdr *nlh, size_t fixed_len, const struct nlattr **tb,
		     unsigned int max)
{
	struct attr_table t = { .tb = tb, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < fixed_len)
		return -EBADMSG;
	mnl_attr_parse(nlh, (unsigned int)fixed_len, attr_index, &t);
	return 0;
}

void rtnl_attrs_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned int max)
{
	struct attr_table t = { .tb = tb, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse_nested(nest, attr_index, &t);
}

bool rtnl_attr_u32(const struct nlattr *attr, uint32_t *out)
{
	if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return false;
	*out = mnl_attr_get_u32(attr);
	return true;
}
