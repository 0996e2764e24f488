/* SPDX-License-Identifier: MIT */
/*
 * The control socket (control.c and control_client.c) behind its real socket file: the
 * client connects and writes its request, then the test runs the server's accept
 * handler, as the loop would, and reads the answer. The reload is the supervisor's
 * hook, so here it is a function that reports a fixed outcome.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wgd/control.c"
#include "wgd/log.h"

static void quiet(void)
{
	log_set_level(LOG_SILENT);
}

TestSuite(control, .init = quiet);

static int reloads, stops;

static void same(const char *got, const char *want)
{
	cr_assert(eq(int, strcmp(got, want), 0), "got '%s', want '%s'", got, want);
}

static int fake_reload(void *ctx, struct reload_result *res)
{
	(void)ctx;
	reloads++;
	memset(res, 0, sizeof(*res));
	snprintf(res->line, sizeof(res->line), "Reloaded x: peers 1 added");
	snprintf(res->warnings, sizeof(res->warnings), "w1\nw2\n");
	return 0;
}

/* A plan of two lines when json is false; a refusal with it, for the error path. */
static int fake_plan(void *ctx, bool json, char **text, struct reload_result *res)
{
	(void)ctx;
	memset(res, 0, sizeof(*res));
	if (json) {
		*text = NULL;
		snprintf(res->error, sizeof(res->error), "x.d/a.conf:3: duplicate peer");
		return -EINVAL;
	}
	*text = strdup("Plan for x: would change\n+ peer K\n");
	return 1;
}

static void fake_stop(void *ctx)
{
	(void)ctx;
	stops++;
}

static void start(struct control *c, struct loop *l, const char *ifname, const char *path)
{
	struct control_opts o = { .ifname = ifname,
				  .conf_path = path,
				  .reload = fake_reload,
				  .plan = fake_plan,
				  .stop = fake_stop };

	cr_assert(eq(int, loop_init(l), 0));
	cr_assert(eq(int, control_init(c, l, &o), 0));
}

/* One raw request (any bytes) through the real socket; the reply text, malloc'd. */
static char *raw(struct control *c, const char *ifname, const char *req, size_t len)
{
	int fd = control_client_connect(ifname);
	char *buf = calloc(1, 4096);
	ssize_t n, off = 0;

	cr_assert(fd >= 0);
	cr_assert(eq(sz, (size_t)send(fd, req, len, 0), len));
	shutdown(fd, SHUT_WR);
	listen_ready(&c->listen, EPOLLIN);
	while ((n = recv(fd, buf + off, 4095 - (size_t)off, 0)) > 0)
		off += n;
	close(fd);
	return buf;
}

Test(control, requests_and_replies)
{
	char ifname[IFNAMSIZ], *r;
	struct control c;
	struct loop l;
	struct stat st;

	snprintf(ifname, sizeof(ifname), "ct%d", (int)getpid());
	start(&c, &l, ifname, "/etc/x.conf");
	cr_assert(eq(int, stat(CONTROL_DIR, &st), 0));
	cr_assert(eq(u32, st.st_mode & 0777, 0755));
	r = raw(&c, ifname, "info=1\n\n", 8);
	same(r, "file=/etc/x.conf\nerrno=0\n\n");
	free(r);
	r = raw(&c, ifname, "reload=1\n\n", 10);
	same(r, "warning=w1\nwarning=w2\nmessage=Reloaded x: peers 1 added\nerrno=0\n\n");
	cr_assert(eq(int, reloads, 1));
	free(r);
	r = raw(&c, ifname, "plan=1\n\n", 8);
	same(r, "plan=Plan for x: would change\nplan=+ peer K\nchanges=1\nerrno=0\n\n");
	free(r);
	r = raw(&c, ifname, "planjson=1\n\n", 12);
	same(r, "error=x.d/a.conf:3: duplicate peer\nerrno=-22\n\n");
	free(r);
	r = raw(&c, ifname, "reload=1\nget=1\n\n", 16); /* one request per connection */
	same(r, "errno=-22\n\n");
	free(r);
	r = raw(&c, ifname, "x", 1); /* EOF before the end: refused */
	same(r, "errno=-22\n\n");
	free(r);
	r = raw(&c, ifname, "", 0); /* a probe: closed without a word */
	same(r, "");
	free(r);
	cr_assert(eq(int, reloads, 1));
	control_clear(&c);
	cr_assert(eq(int, control_client_connect(ifname), -ENODEV));
	loop_clear(&l);
}

Test(control, bare_daemon_has_no_file)
{
	char ifname[IFNAMSIZ], *r, value[64];
	struct control c;
	struct loop l;

	snprintf(ifname, sizeof(ifname), "cb%d", (int)getpid());
	start(&c, &l, ifname, NULL);
	r = raw(&c, ifname, "check=1\n\n", 9);
	cr_assert(eq(int, strncmp(r, "error=", 6), 0));
	cr_assert(not(eq(ptr, strstr(r, "errno=-2\n\n"), NULL)));
	free(r);
	r = raw(&c, ifname, "plan=1\n\n", 8);
	cr_assert(not(eq(ptr, strstr(r, "errno=-2\n\n"), NULL)));
	free(r);
	r = raw(&c, ifname, "info=1\n\n", 8);
	same(r, "errno=0\n\n");
	free(r);
	cr_assert(eq(int, reloads, 0));
	/* the client half: values */
	cr_assert(eq(int, control_reply_value("a=1\nfile=/x\n", "file", value, sizeof(value)), 1));
	same(value, "/x");
	cr_assert(eq(int, control_reply_value("files=1\n", "file", value, sizeof(value)), 0));
	control_clear(&c);
	loop_clear(&l);
}

/* stop=1 is answered after the teardown, by control_finish_stop. */
Test(control, stop_answers_at_the_end)
{
	char ifname[IFNAMSIZ], buf[64] = "";
	struct control c;
	struct loop l;
	int fd;

	snprintf(ifname, sizeof(ifname), "cs%d", (int)getpid());
	start(&c, &l, ifname, "/etc/x.conf");
	fd = control_client_connect(ifname);
	cr_assert(fd >= 0);
	cr_assert(eq(int, send(fd, "stop=1\n\n", 8, 0), 8));
	listen_ready(&c.listen, EPOLLIN);
	cr_assert(eq(int, stops, 1));
	cr_assert(eq(int, recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1)); /* nothing yet */
	control_clear(&c);
	control_finish_stop(&c, 0);
	cr_assert(eq(int, recv(fd, buf, sizeof(buf) - 1, 0), 18));
	same(buf, "status=0\nerrno=0\n\n");
	close(fd);
	loop_clear(&l);
}

/* Only root and the admin group: anyone else is closed on before a byte is read. */
Test(control, peer_credentials)
{
	char ifname[IFNAMSIZ];
	struct control c;
	struct loop l;
	int status;
	pid_t pid;

	snprintf(ifname, sizeof(ifname), "cp%d", (int)getpid());
	start(&c, &l, ifname, "/etc/x.conf");
	{
		char path[128];

		snprintf(path, sizeof(path), CONTROL_DIR "/%s" CONTROL_SUFFIX, ifname);
		cr_assert(eq(int, chmod(path, 0666), 0)); /* the file would let anyone in */
	}
	pid = fork();
	if (pid == 0) {
		char *reply = NULL;
		int fd;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		fd = control_client_connect(ifname);
		if (fd < 0)
			_exit(3);
		_exit(control_client_request(fd, "reload", &reply) == -EPROTO ? 0 : 4);
	}
	/* the child's connection is queued before we accept: give it the time to connect */
	for (int i = 0; i < 100; i++) {
		struct timespec t = { 0, 10000000 };

		listen_ready(&c.listen, EPOLLIN);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&t, NULL);
	}
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0));
	cr_assert(eq(int, reloads, 0));
	control_clear(&c);
	loop_clear(&l);
}

static int fake_reach(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "K1 7 10.9.0.0/24\nK2 0 none\n");
	return 0;
}

/* reach=1: one peer= line per line of the supervisor's report; none without a hook. */
Test(control, reach_lines)
{
	struct control_opts o = { .stop = fake_stop, .reach = fake_reach };
	char ifname[IFNAMSIZ], *r;
	struct control c;
	struct loop l;

	snprintf(ifname, sizeof(ifname), "cr%d", (int)getpid());
	o.ifname = ifname;
	cr_assert(eq(int, loop_init(&l), 0));
	cr_assert(eq(int, control_init(&c, &l, &o), 0));
	r = raw(&c, ifname, "reach=1\n\n", 9);
	same(r, "peer=K1 7 10.9.0.0/24\npeer=K2 0 none\nerrno=0\n\n");
	free(r);
	control_clear(&c);
	o.reach = NULL;
	cr_assert(eq(int, control_init(&c, &l, &o), 0));
	r = raw(&c, ifname, "reach=1\n\n", 9);
	same(r, "errno=0\n\n");
	free(r);
	control_clear(&c);
	loop_clear(&l);
}
