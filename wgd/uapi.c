/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket: the file in RUNSTATEDIR/wireguard, and the connections on the loop,
 * each reading operations nonblocking, running them one at a time (uapi_text.c parses
 * and formats) and writing the replies. A failure of the device (port in use, ...) goes
 * back as the negative errno, which wg(8) prints as "Unable to modify interface: ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <net/if.h>

#include "wgd/clock.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/uapi.h"

#define UAPI_DIR RUNSTATEDIR "/wireguard"

enum {
	OP_LINE_LEN = 6, /* "get=1\n", "set=1\n" */
};

/* --- the socket file --------------------------------------------------------------- */

/* The UAPI socket; the supervisor's control socket (control.h) shares the helpers. */
static const struct uapi_sockfile uapi_file = { UAPI_DIR, ".sock" };

int uapi_sockfile_path(struct sockaddr_un *addr, const struct uapi_sockfile *f, const char *ifname)
{
	size_t len = strnlen(ifname, IFNAMSIZ);
	int n;

	if (!len || len >= IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	addr->sun_family = AF_UNIX;
	n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s%s", f->dir, ifname, f->suffix);
	return n > 0 && (size_t)n < sizeof(addr->sun_path) ? 0 : -ENAMETOOLONG;
}

static int make_dir(const char *dir)
{
	if (mkdir(RUNSTATEDIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0755) == 0)
		/* mkdir honoured the daemon's umask 077; wg lists this directory */
		return chmod(dir, 0755) < 0 ? -errno : 0;
	return errno == EEXIST ? 0 : -errno;
}

static int bind_private(int fd, const struct sockaddr_un *addr)
{
	mode_t old = umask(0077); /* no window in which others could connect */
	int ret = bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ? -errno : 0;

	umask(old);
	if (!ret && chmod(addr->sun_path, 0600) < 0) {
		ret = -errno;
		unlink(addr->sun_path);
	}
	return ret;
}

/*
 * The path is taken. As wg(8) does, a socket that refuses connections is a leftover of a
 * dead daemon: remove it. One that accepts (or whose backlog is full) is alive.
 */
static int reclaim_stale(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 || errno == EAGAIN)
		ret = -EADDRINUSE;
	else
		ret = errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
	close(fd);
	if (!ret && unlink(addr->sun_path) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

int uapi_sockfile_listen(const struct uapi_sockfile *f, const char *ifname, int *fd_out)
{
	struct sockaddr_un addr = { 0 };
	int fd, ret;

	ret = uapi_sockfile_path(&addr, f, ifname);
	ret = ret ?: make_dir(f->dir);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = bind_private(fd, &addr);
	if (ret == -EADDRINUSE) {
		ret = reclaim_stale(&addr);
		ret = ret ?: bind_private(fd, &addr);
	}
	if (!ret && listen(fd, SOMAXCONN) < 0) {
		ret = -errno;
		unlink(addr.sun_path);
	}
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

int uapi_sockfile_grant_group(const struct uapi_sockfile *f, const char *ifname, gid_t gid)
{
	struct sockaddr_un addr = { 0 };
	int ret = uapi_sockfile_path(&addr, f, ifname);

	if (ret < 0)
		return ret;
	if (chown(addr.sun_path, (uid_t)-1, gid) < 0 || chmod(addr.sun_path, 0660) < 0)
		return -errno;
	return 0;
}

void uapi_sockfile_unlink(const struct uapi_sockfile *f, const char *ifname)
{
	struct sockaddr_un addr = { 0 };

	if (!uapi_sockfile_path(&addr, f, ifname))
		unlink(addr.sun_path);
}

int uapi_listen(const char *ifname, int *fd_out)
{
	return uapi_sockfile_listen(&uapi_file, ifname, fd_out);
}

int uapi_grant_group(const char *ifname, gid_t gid)
{
	return uapi_sockfile_grant_group(&uapi_file, ifname, gid);
}

void uapi_unlink(const char *ifname)
{
	uapi_sockfile_unlink(&uapi_file, ifname);
}

/* --- connections ------------------------------------------------------------------- */

static bool out_pending(const struct uapi_conn *c)
{
	return c->out_sent < c->out.len;
}

static void reply_errno(struct uapi_conn *c, int err)
{
	if (uapi_buf_printf(&c->out, "errno=%d\n\n", err) < 0)
		c->is_closing = true;
}

static void conn_get(struct uapi_conn *c)
{
	size_t mark = c->out.len;
	int ret;

	uapi_buf_consume(&c->in, OP_LINE_LEN + 1);
	ret = uapi_get_format(&c->out, c->srv->dev);
	if (ret < 0) {
		uapi_buf_truncate(&c->out, mark);
		log_error("UAPI: get=1 failed: %s", strerror(-ret));
	}
	reply_errno(c, ret);
}

static void conn_set(struct uapi_conn *c, size_t body_len, size_t consumed)
{
	struct cfg_device cfg = { 0 };
	struct uapi_set_error err = { 0 };
	int ret;

	ret = uapi_set_parse(&cfg, c->in.data + OP_LINE_LEN, body_len, &err);
	uapi_buf_consume(&c->in, consumed); /* wipes the message: it may hold keys */
	c->scan = 0;
	if (ret < 0) {
		log_error("UAPI: set=1 failed at line %u (%s): %s", err.line, err.key,
			  strerror(-ret));
	} else {
		ret = device_apply_cfg(c->srv->dev, &cfg, clock_boottime_ns());
		if (ret == -EADDRINUSE && (cfg.flags & CFG_DEV_HAS_LISTEN_PORT))
			log_error("UAPI: set=1 refused: cannot bind UDP port %u: %s",
				  cfg.listen_port, strerror(-ret));
		else if (ret < 0)
			log_error("UAPI: set=1 refused by the device: %s", strerror(-ret));
		else if (c->srv->on_set)
			c->srv->on_set(c->srv->on_set_ctx);
		cfg_device_clear(&cfg);
	}
	reply_errno(c, ret);
}

/* Forgets all input but its last byte, which may begin the "\n\n" that ends it. */
static void conn_drop_input(struct uapi_conn *c)
{
	if (c->in.len > 1)
		uapi_buf_consume(&c->in, c->in.len - 1);
	c->scan = 0;
}

/*
 * A set message over max_message is read to its end without being kept, then refused,
 * so that wg (still writing) sees an answer rather than a reset connection.
 */
static int conn_discard(struct uapi_conn *c)
{
	const char *end = memmem(c->in.data, c->in.len, "\n\n", 2);

	if (!end && !c->is_eof) {
		conn_drop_input(c);
		return 0;
	}
	uapi_buf_consume(&c->in, end ? (size_t)(end - c->in.data) + 2 : c->in.len);
	c->is_discarding = false;
	reply_errno(c, -EMSGSIZE);
	return 1;
}

/* A set=1 message ends at its first empty line, or, as in wireguard-go, at EOF. */
static int conn_try_set(struct uapi_conn *c)
{
	size_t start = c->scan > OP_LINE_LEN - 1 ? c->scan : OP_LINE_LEN - 1;
	const char *in = c->in.data, *end;
	size_t consumed;

	end = memmem(in + start, c->in.len - start, "\n\n", 2);
	if (!end && !c->is_eof) {
		c->scan = c->in.len - 1;
		if (c->in.len >= c->srv->max_message) {
			log_error("UAPI: set=1 message over %zu bytes, discarding it",
				  c->srv->max_message);
			c->is_discarding = true;
			conn_drop_input(c);
		}
		return 0;
	}
	consumed = end ? (size_t)(end - in) + 2 : c->in.len;
	if (consumed > c->srv->max_message) {
		log_error("UAPI: set=1 message over %zu bytes, discarding it", c->srv->max_message);
		uapi_buf_consume(&c->in, consumed);
		c->scan = 0;
		reply_errno(c, -EMSGSIZE);
		return 1;
	}
	/* the body keeps the '\n' of its last line; the empty line is not part of it */
	conn_set(c, end ? (size_t)(end + 1 - in) - OP_LINE_LEN : c->in.len - OP_LINE_LEN, consumed);
	return 1;
}

/* Handles one buffered operation: 1 done, 0 more input needed, -1 close. */
static int conn_next_op(struct uapi_conn *c)
{
	const char *in = c->in.data;
	size_t len = c->in.len;

	if (c->is_discarding)
		return conn_discard(c);
	if (len < OP_LINE_LEN) {
		/* as soon as it cannot become an operation, like "\n" or "hello" */
		if (len && memcmp(in, "get=1\n", len) && memcmp(in, "set=1\n", len))
			goto invalid;
		return c->is_eof ? -1 : 0;
	}
	if (!memcmp(in, "get=1\n", OP_LINE_LEN)) {
		if (len == OP_LINE_LEN)
			return c->is_eof ? -1 : 0;
		if (in[OP_LINE_LEN] == '\n') {
			conn_get(c);
			return 1;
		}
		/* wireguard-go answers -EINVAL here; the rest of the stream is garbage: close */
		log_error("UAPI: trailing byte after get=1");
		reply_errno(c, -EINVAL);
		c->is_closing = true;
		return 1;
	}
	if (!memcmp(in, "set=1\n", OP_LINE_LEN))
		return conn_try_set(c);
invalid:
	log_error("UAPI: invalid operation");
	return -1;
}

/* Runs buffered operations while no reply is pending. Returns false to close. */
static bool conn_process(struct uapi_conn *c)
{
	int ret = 1;

	while (ret > 0 && !c->is_closing && !out_pending(c))
		ret = conn_next_op(c);
	if (ret < 0)
		return false;
	if (out_pending(c))
		return true;
	return !c->is_closing && !c->is_eof;
}

/* Returns 0 when all is written, 1 when the socket is full, -1 on error. */
static int conn_flush(struct uapi_conn *c)
{
	ssize_t n;

	while (out_pending(c)) {
		n = send(c->src.fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		c->out_sent += (size_t)n;
	}
	uapi_buf_truncate(&c->out, 0); /* the reply may have held the private key */
	c->out_sent = 0;
	return 0;
}

/* Reads one chunk: 1 on data or EOF, 0 when there is nothing to read, -1 on error. */
static int conn_fill(struct uapi_conn *c)
{
	ssize_t n;

	if (uapi_buf_reserve(&c->in, UAPI_READ_CHUNK) < 0)
		return -1;
	n = recv(c->src.fd, c->in.data + c->in.len, UAPI_READ_CHUNK, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		c->is_eof = true;
	c->in.len += (size_t)n;
	return 1;
}

static void conn_close(struct uapi_conn *c)
{
	struct uapi_server *srv = c->srv;

	for (size_t i = 0; i < UAPI_MAX_CLIENTS; i++) {
		if (srv->conns[i] == c)
			srv->conns[i] = NULL;
	}
	loop_del(srv->loop, &c->src);
	close(c->src.fd);
	uapi_buf_free(&c->in);
	uapi_buf_free(&c->out);
	free(c);
}

/*
 * Flush, run what is buffered, read more, repeat, until the socket would block. While a
 * reply is pending the connection waits for EPOLLOUT and reads nothing, so a client
 * that does not read its answers cannot make us buffer without bound.
 */
static void conn_ready(struct loop_source *src, uint32_t events)
{
	struct uapi_conn *c = container_of(src, struct uapi_conn, src);
	uint32_t want;
	int ret;

	(void)events;
	for (;;) {
		if (out_pending(c)) {
			ret = conn_flush(c);
			if (ret)
				break;
		}
		if (!conn_process(c)) {
			ret = -1;
			break;
		}
		if (out_pending(c))
			continue;
		ret = conn_fill(c);
		if (ret <= 0)
			break;
	}
	want = out_pending(c) ? EPOLLOUT : EPOLLIN;
	if (ret >= 0 && want != c->events && loop_mod(c->srv->loop, &c->src, want) < 0)
		ret = -1;
	if (ret < 0) {
		conn_close(c);
		return;
	}
	c->events = want;
}

/* Whether the connected process on fd has gid among its supplementary groups. */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: len now says how much room the list needs */
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found |= groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

int uapi_peer_check(int fd, uid_t owner, bool has_group, gid_t gid, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == owner)
		return 0;
	if (has_group && (cred.gid == gid || peer_in_group(fd, gid)))
		return 0;
	log_error("UAPI: connection refused: uid %u, gid %u, pid %ld may not use the socket",
		  (unsigned int)cred.uid, (unsigned int)cred.gid, (long)cred.pid);
	return -EPERM;
}

static int check_peer(const struct uapi_server *srv, int fd)
{
	uid_t uid;

	return uapi_peer_check(fd, srv->owner_uid, srv->has_admin_gid, srv->admin_gid, &uid);
}

void uapi_server_set_access(struct uapi_server *srv, uid_t owner, bool has_group, gid_t gid)
{
	srv->owner_uid = owner;
	srv->has_admin_gid = has_group;
	srv->admin_gid = gid;
}

int uapi_server_add_client(struct uapi_server *srv, int fd)
{
	struct uapi_conn *c;
	size_t i;
	int ret;

	for (i = 0; i < UAPI_MAX_CLIENTS && srv->conns[i]; i++)
		;
	if (i == UAPI_MAX_CLIENTS)
		return -EBUSY;
	ret = check_peer(srv, fd);
	if (ret < 0)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->src.fd = fd;
	c->src.fn = conn_ready;
	c->srv = srv;
	c->events = EPOLLIN;
	ret = loop_add(srv->loop, &c->src, c->events);
	if (ret < 0) {
		free(c);
		return ret;
	}
	srv->conns[i] = c;
	return 0;
}

static void listen_ready(struct loop_source *src, uint32_t events)
{
	struct uapi_server *srv = container_of(src, struct uapi_server, listen);
	int fd, ret;

	(void)events;
	for (;;) {
		fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("UAPI: accept: %s", strerror(errno));
			return;
		}
		ret = uapi_server_add_client(srv, fd);
		if (ret < 0) {
			if (ret != -EPERM) /* check_peer named who */
				log_error("UAPI: connection refused: %s", strerror(-ret));
			close(fd);
		}
	}
}

int uapi_server_init(struct uapi_server *srv, struct device *dev, struct loop *loop, int listen_fd)
{
	int ret;

	memset(srv, 0, sizeof(*srv));
	srv->listen.fd = listen_fd;
	srv->listen.fn = listen_ready;
	srv->loop = loop;
	srv->dev = dev;
	srv->owner_uid = geteuid();
	srv->max_message = UAPI_MAX_MESSAGE;
	ret = loop_add(loop, &srv->listen, EPOLLIN);
	if (ret < 0)
		srv->listen.fd = -1;
	return ret;
}

void uapi_server_set_notify(struct uapi_server *srv, void (*fn)(void *ctx), void *ctx)
{
	srv->on_set = fn;
	srv->on_set_ctx = ctx;
}

void uapi_server_clear(struct uapi_server *srv)
{
	for (size_t i = 0; i < UAPI_MAX_CLIENTS; i++) {
		if (srv->conns[i])
			conn_close(srv->conns[i]);
	}
	if (srv->listen.fd >= 0) {
		loop_del(srv->loop, &srv->listen);
		close(srv->listen.fd);
		srv->listen.fd = -1;
	}
}
