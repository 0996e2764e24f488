/* SPDX-License-Identifier: MIT */
/*
 * The server side of the control socket (control.h): accept, check the peer, read one
 * bounded request, run it, answer, close; all on the supervisor's loop, one connection
 * at a time. It holds no state between connections but the client of a pending stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "wgd/control.h"
#include "wgd/log.h"
#include "wgd/reload.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

static const struct uapi_sockfile control_file = { CONTROL_DIR, CONTROL_SUFFIX };

enum op {
	OP_NONE,
	OP_EMPTY,
	OP_INFO,
	OP_CHECK,
	OP_RELOAD,
	OP_PLAN,
	OP_PLAN_JSON,
	OP_STOP,
	OP_REACH
};

static const struct {
	const char *text;
	enum op op;
} requests[] = {
	{ "info=1\n\n", OP_INFO },	    { "check=1\n\n", OP_CHECK },
	{ "reload=1\n\n", OP_RELOAD },	    { "plan=1\n\n", OP_PLAN },
	{ "planjson=1\n\n", OP_PLAN_JSON }, { "stop=1\n\n", OP_STOP },
	{ "reach=1\n\n", OP_REACH },
};

/* A reply under construction; output that does not fit is cut (errno line kept). */
struct reply {
	char text[3 * RELOAD_TEXT_LEN + 256];
	size_t len;
};

static void reply_add(struct reply *r, const char *key, const char *value, size_t vlen)
{
	int n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s=%.*s\n", key, (int)vlen,
			 value);

	if (n > 0 && (size_t)n < sizeof(r->text) - r->len)
		r->len += (size_t)n;
}

/* One key line per '\n'-separated line of text: values must not hold newlines. */
static void reply_lines(struct reply *r, const char *key, const char *text)
{
	const char *line = text, *end;

	for (; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (end > line)
			reply_add(r, key, line, (size_t)(end - line));
	}
}

static void reply_send(int fd, struct reply *r, int err)
{
	int ret;

	snprintf(r->text + r->len, sizeof(r->text) - r->len, "errno=%d\n\n", err);
	r->len += strlen(r->text + r->len);
	ret = uapi_client_write_all(fd, r->text, r->len);
	if (ret < 0)
		log_error("Control: cannot send the reply: %s", strerror(-ret));
}

/*
 * Reads one request: its op, OP_EMPTY when the client left without a byte (a probe), or
 * OP_NONE for anything else (too long, garbage, a timeout).
 */
static enum op read_request(int fd)
{
	char buf[CONTROL_MAX_REQUEST];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) && !memmem(buf, len, "\n\n", 2)) {
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!len)
		return OP_EMPTY;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		if (len == strlen(requests[i].text) && !memcmp(buf, requests[i].text, len))
			return requests[i].op;
	}
	return OP_NONE;
}

static void reply_result(int fd, const struct reload_result *res, int ret)
{
	struct reply r = { .len = 0 };

	reply_lines(&r, "warning", res->warnings);
	reply_lines(&r, "message", res->line);
	reply_lines(&r, "error", res->error);
	reply_send(fd, &r, ret);
}

/* key=line for each non-empty line of text. */
static void stream_lines(FILE *f, const char *key, const char *text)
{
	const char *line = text, *end;

	for (; text && *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (end > line)
			fprintf(f, "%s=%.*s\n", key, (int)(end - line), line);
	}
}

/* plan=1: a reply of any length (one line per peer), so built in memory. */
static void reply_plan(struct control *c, int fd, bool json)
{
	struct reload_result res = { 0 };
	char *text = NULL, *out = NULL;
	size_t len = 0;
	int ret = c->o.plan(c->o.ctx, json, &text, &res), wret;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		free(text);
		reply_result(fd, &res, ret < 0 ? ret : -ENOMEM);
		return;
	}
	stream_lines(f, "warning", res.warnings);
	stream_lines(f, "plan", text);
	stream_lines(f, "error", res.error);
	if (ret >= 0)
		fprintf(f, "changes=%d\n", ret);
	fprintf(f, "errno=%d\n\n", ret < 0 ? ret : 0);
	free(text);
	if (fclose(f)) {
		free(out);
		reply_result(fd, &res, -ENOMEM);
		return;
	}
	wret = uapi_client_write_all(fd, out, len);
	if (wret < 0)
		log_error("Control: cannot send the reply: %s", strerror(-wret));
	free(out);
}

/* check=1 and reload=1 on a bare daemon: say why there is nothing to do. */
static void reply_no_file(struct control *c, int fd)
{
	struct reply r = { .len = 0 };
	char msg[128];

	snprintf(msg, sizeof(msg), "%s runs without a config file (wgd -c): nothing to %s",
		 c->ifname, "reload or check");
	reply_lines(&r, "error", msg);
	reply_send(fd, &r, -ENOENT);
}

/* reach=1: one peer= line per line of the supervisor's report, unbounded by struct reply. */
static void reply_reach(struct control *c, int fd)
{
	char *lines = calloc(1, CONTROL_REACH_MAX), *out = malloc(CONTROL_REACH_MAX * 2);
	size_t len = 0;
	int ret = lines && out ? 0 : -ENOMEM;

	if (ret == 0 && c->o.reach)
		ret = c->o.reach(c->o.ctx, lines, CONTROL_REACH_MAX);
	for (const char *l = lines; ret >= 0 && l && *l;) {
		size_t n = strcspn(l, "\n");

		len += (size_t)snprintf(out + len, CONTROL_REACH_MAX * 2 - len, "peer=%.*s\n",
					(int)n, l);
		l += n + (l[n] == '\n');
	}
	if (out) {
		len += (size_t)snprintf(out + len, CONTROL_REACH_MAX * 2 - len, "errno=%d\n\n",
					ret < 0 ? ret : 0);
		if (uapi_client_write_all(fd, out, len) < 0)
			log_error("Control: cannot send the reach reply");
	}
	free(lines);
	free(out);
}

/* Runs one op for the connection fd; true if fd was kept (a pending stop). */
static bool serve_op(struct control *c, int fd, enum op op)
{
	struct reply r = { .len = 0 };
	struct reload_result res;
	int ret;

	if ((op == OP_CHECK || op == OP_RELOAD || op == OP_PLAN || op == OP_PLAN_JSON) &&
	    !c->o.conf_path) {
		reply_no_file(c, fd);
		return false;
	}
	switch (op) {
	case OP_INFO:
		if (c->o.conf_path)
			reply_lines(&r, "file", c->o.conf_path);
		reply_send(fd, &r, 0);
		return false;
	case OP_CHECK:
		ret = reload_check(c->o.conf_path, &res);
		reply_result(fd, &res, ret);
		return false;
	case OP_RELOAD:
		ret = c->o.reload(c->o.ctx, &res);
		reply_result(fd, &res, ret);
		return false;
	case OP_PLAN:
	case OP_PLAN_JSON:
		reply_plan(c, fd, op == OP_PLAN_JSON);
		return false;
	case OP_STOP:
		log_info("Stop requested through the control socket");
		c->stop_fd = fd;
		c->o.stop(c->o.ctx);
		return true;
	case OP_REACH:
		reply_reach(c, fd);
		return false;
	case OP_EMPTY:
		return false;
	case OP_NONE:
		break;
	}
	log_error("Control: invalid request");
	reply_send(fd, &r, -EINVAL);
	return false;
}

/* The connection is blocking with timeouts: a stuck client costs us a second at most. */
static void serve_conn(struct control *c, int fd)
{
	const struct timeval tv = { CONTROL_TIMEOUT_MS / 1000, (CONTROL_TIMEOUT_MS % 1000) * 1000 };
	uid_t uid = (uid_t)-1;
	int ret;

	ret = uapi_peer_check(fd, 0, c->o.has_admin_gid, c->o.admin_gid, &uid);
	if (ret < 0) {
		log_error("Control: connection from uid %ld refused: %s",
			  uid == (uid_t)-1 ? -1L : (long)uid, strerror(-ret));
		close(fd);
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		log_error("Control: cannot set timeouts: %s", strerror(errno));
		close(fd);
		return;
	}
	if (!serve_op(c, fd, read_request(fd)))
		close(fd);
}

static void listen_ready(struct loop_source *src, uint32_t events)
{
	struct control *c = container_of(src, struct control, listen);
	int fd;

	(void)events;
	while (c->stop_fd < 0) {
		fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC); /* blocking: see serve_conn */
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("Control: accept: %s", strerror(errno));
			return;
		}
		serve_conn(c, fd);
	}
}

void control_zero(struct control *c)
{
	memset(c, 0, sizeof(*c));
	c->listen.fd = -1;
	c->stop_fd = -1;
}

int control_init(struct control *c, struct loop *loop, const struct control_opts *o)
{
	int fd, ret;

	control_zero(c);
	snprintf(c->ifname, sizeof(c->ifname), "%s", o->ifname);
	ret = uapi_sockfile_listen(&control_file, c->ifname, &fd);
	if (ret < 0)
		return ret;
	ret = o->has_admin_gid ? uapi_sockfile_grant_group(&control_file, c->ifname, o->admin_gid)
			       : 0;
	c->listen.fd = fd;
	c->listen.fn = listen_ready;
	c->loop = loop;
	c->o = *o;
	c->o.ifname = c->ifname;
	ret = ret ?: loop_add(loop, &c->listen, EPOLLIN);
	if (ret < 0) {
		close(fd);
		uapi_sockfile_unlink(&control_file, c->ifname);
		control_zero(c);
	}
	return ret;
}

void control_clear(struct control *c)
{
	if (c->listen.fd < 0)
		return;
	if (c->loop && c->loop->epfd >= 0)
		loop_del(c->loop, &c->listen);
	close(c->listen.fd);
	c->listen.fd = -1;
	uapi_sockfile_unlink(&control_file, c->ifname);
}

void control_finish_stop(struct control *c, int status)
{
	struct reply r = { .len = 0 };
	char text[32];

	if (c->stop_fd < 0)
		return;
	snprintf(text, sizeof(text), "%d", status);
	reply_lines(&r, "status", text);
	reply_send(c->stop_fd, &r, 0);
	close(c->stop_fd);
	c->stop_fd = -1;
}
