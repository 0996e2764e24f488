/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket and connections (uapi.c), in process: the server runs on one end of a
 * socketpair (or behind its real socket file) and these tests play wg(8) on the other.
 * Expected replies follow wireguard-go's device/uapi.go IpcHandle (PROTOCOL.md §2), checked
 * by hand against Debian's wireguard-go 0.0.20220316; where wgd deliberately differs the
 * test says so. The get=1 text itself is pinned by uapi_test.c's golden test.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wgd/clock.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/loop.h"
#include "wgd/peer.h"
#include "wgd/uapi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define M(s)	      s, sizeof(s) - 1
/* 64 hex digits: every byte of the key is 0xcc */
#define X8(s)  s s s s s s s s
#define KEY(c) X8(X8(c))
#define Z      KEY("0")
#define A      KEY("a")
#define B      KEY("b")
#define PK     "public_key=" A "\n"

static void quiet(void)
{
	log_set_level(LOG_SILENT); /* the failure lines are expected here */
}

TestSuite(uapi_server, .init = quiet);

/* No real datagrams leave when a keepalive is switched on. */
static int drop_udp(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	(void)dev;
	(void)ep;
	(void)buf;
	(void)len;
	return -ENETUNREACH;
}

static struct device *test_device(void)
{
	struct device *dev;

	cr_assert(eq(int, device_create(&dev, "wgdut", -1, NULL), 0));
	dev->io.udp_send = drop_udp;
	return dev;
}

/* --- the server, in process -------------------------------------------------------- */

struct fixture {
	struct loop loop;
	struct device *dev;
	struct uapi_server srv;
	int client;
	struct sockaddr_un addr; /* the listening socket's abstract address */
	socklen_t addr_len;
};

static void fixture_init(struct fixture *f)
{
	int lfd, sv[2];

	cr_assert(eq(int, loop_init(&f->loop), 0));
	f->dev = test_device();
	/* an abstract address: nothing in the file system */
	memset(&f->addr, 0, sizeof(f->addr));
	f->addr.sun_family = AF_UNIX;
	f->addr_len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			    (size_t)snprintf(f->addr.sun_path + 1, sizeof(f->addr.sun_path) - 1,
					     "wgd-uapi-test-%d", getpid()));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, lfd, 0));
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&f->addr, f->addr_len), 0));
	cr_assert(eq(int, listen(lfd, 8), 0));
	cr_assert(eq(int, uapi_server_init(&f->srv, f->dev, &f->loop, lfd), 0));
	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
	cr_assert(eq(int, uapi_server_add_client(&f->srv, sv[0]), 0));
	f->client = sv[1];
}

static void fixture_clear(struct fixture *f)
{
	uapi_server_clear(&f->srv);
	if (f->client >= 0)
		close(f->client);
	device_destroy(f->dev);
	loop_clear(&f->loop);
}

/* Runs every connection's handler once, as the loop would on readiness. */
static void pump(struct fixture *f)
{
	for (size_t i = 0; i < UAPI_MAX_CLIENTS; i++) {
		if (f->srv.conns[i])
			f->srv.conns[i]->src.fn(&f->srv.conns[i]->src, EPOLLIN | EPOLLOUT);
	}
}

static size_t n_conns(const struct fixture *f)
{
	size_t n = 0;

	for (size_t i = 0; i < UAPI_MAX_CLIENTS; i++)
		n += !!f->srv.conns[i];
	return n;
}

/* Sends req, lets the server run, returns what it answered ("<EOF>" appended if closed). */
static const char *xfer(struct fixture *f, const char *req, size_t len)
{
	static char out[1 << 16];
	size_t n = 0;
	ssize_t r;

	if (len)
		cr_assert(eq(sz, (size_t)write(f->client, req, len), len));
	pump(f);
	while ((r = recv(f->client, out + n, sizeof(out) - 1 - n, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	if (r == 0)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "<EOF>");
	out[n] = '\0';
	return out;
}

#define XFER(f, s) xfer(f, M(s))

static const char *get_text(struct fixture *f)
{
	static char text[1 << 16];
	struct uapi_buf b = { 0 };

	cr_assert(eq(int, uapi_get_format(&b, f->dev), 0));
	snprintf(text, sizeof(text), "%.*serrno=0\n\n", (int)b.len, b.data);
	uapi_buf_free(&b);
	return text;
}

Test(uapi_server, server_set_then_get)
{
	struct fixture f;
	char want[1024];

	fixture_init(&f);
	cr_assert_str_eq(
		XFER(&f, "set=1\nprivate_key=" A "\nfwmark=7\n" PK "allowed_ip=10.0.0.0/8\n\n"),
		"errno=0\n\n");
	snprintf(want, sizeof(want),
		 "private_key=a8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6a\n"
		 "listen_port=%u\nfwmark=7\npublic_key=" A "\npreshared_key=" Z "\n"
		 "protocol_version=1\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
		 "tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n"
		 "allowed_ip=10.0.0.0/8\nerrno=0\n\n",
		 f.dev->sock.port);
	cr_assert_str_eq(XFER(&f, "get=1\n\n"), want);
	fixture_clear(&f);
}

Test(uapi_server, server_failed_set_changes_nothing)
{
	struct fixture f;
	char before[4096];

	fixture_init(&f);
	cr_assert_str_eq(XFER(&f, "set=1\nfwmark=7\n" PK "\n"), "errno=0\n\n");
	snprintf(before, sizeof(before), "%s", get_text(&f));
	/* good lines, then a bad one: wireguard-go would keep the first two */
	cr_assert_str_eq(XFER(&f, "set=1\nfwmark=9\npublic_key=" B "\nendpoint=nowhere\n\n"),
			 "errno=-22\n\n");
	cr_assert_str_eq(XFER(&f, "set=1\nlisten_port\n\n"), "errno=-71\n\n"); /* EPROTO */
	cr_assert_str_eq(XFER(&f, "get=1\n\n"), before);
	cr_assert(eq(sz, n_conns(&f), 1));
	fixture_clear(&f);
}

static void count_set(void *ctx)
{
	(*(unsigned int *)ctx)++;
}

/* The worker's "configuration changed" byte: once per committed set, never for a refused one. */
Test(uapi_server, server_notifies_committed_sets_only)
{
	unsigned int sets = 0;
	struct fixture f;

	fixture_init(&f);
	uapi_server_set_notify(&f.srv, count_set, &sets);
	cr_assert_str_eq(XFER(&f, "set=1\nfwmark=7\n" PK "allowed_ip=10.0.0.0/8\n\n"),
			 "errno=0\n\n");
	cr_assert(eq(uint, sets, 1));
	cr_assert_str_eq(XFER(&f, "set=1\nfwmark=9\npublic_key=" B "\nendpoint=nowhere\n\n"),
			 "errno=-22\n\n");
	cr_assert_str_eq(XFER(&f, "get=1\n\n"), get_text(&f));
	cr_assert(eq(uint, sets, 1));
	cr_assert_str_eq(XFER(&f, "set=1\n" PK "remove=true\n\n"), "errno=0\n\n");
	cr_assert(eq(uint, sets, 2));
	fixture_clear(&f);
}

Test(uapi_server, server_pipelined_and_split)
{
	const char *msg = "set=1\n" PK "persistent_keepalive_interval=5\n\n";
	char before[4096], got[8192], want[8192];
	struct fixture f;

	fixture_init(&f);
	/* three operations in one write, answered in order */
	snprintf(before, sizeof(before), "%s", get_text(&f));
	snprintf(got, sizeof(got), "%s", XFER(&f, "get=1\n\nset=1\n" PK "\nget=1\n\n"));
	snprintf(want, sizeof(want), "%serrno=0\n\n%s", before, get_text(&f));
	cr_assert_str_eq(got, want);
	cr_assert(eq(sz, f.dev->peers_len, 1));
	/* one byte at a time: a single answer at the very end */
	for (size_t i = 0; msg[i + 1]; i++)
		cr_assert_str_eq(xfer(&f, msg + i, 1), "", "byte %zu", i);
	cr_assert_str_eq(xfer(&f, msg + strlen(msg) - 1, 1), "errno=0\n\n");
	cr_assert(eq(u16, f.dev->peers_first->persistent_keepalive_s, 5));
	fixture_clear(&f);
}

Test(uapi_server, server_framing_errors)
{
	struct fixture f;

	fixture_init(&f);
	/* wireguard-go answers -EINVAL to a byte other than '\n' after get=1; we also close */
	cr_assert_str_eq(XFER(&f, "get=1\nxget=1\n\n"), "errno=-22\n\n<EOF>");
	cr_assert(eq(sz, n_conns(&f), 0));
	fixture_clear(&f);

	static const char *const closers[] = { "hello\n", "\n",	      "xy",	  "GET=1\n",
					       "get=2\n", "set=1 \n", "get=1\r\n" };
	for (size_t i = 0; i < ARRAY_SIZE(closers); i++) {
		fixture_init(&f);
		cr_assert_str_eq(xfer(&f, closers[i], strlen(closers[i])), "<EOF>", "case %zu", i);
		cr_assert(eq(sz, n_conns(&f), 0));
		fixture_clear(&f);
	}
}

/* As wireguard-go: EOF ends a set message; the reply still goes out. */
Test(uapi_server, server_eof_ends_set)
{
	struct fixture f;

	fixture_init(&f);
	cr_assert(eq(sz, (size_t)write(f.client, M("set=1\nfwmark=5")), 14));
	cr_assert(eq(int, shutdown(f.client, SHUT_WR), 0));
	cr_assert_str_eq(xfer(&f, "", 0), "errno=0\n\n<EOF>");
	cr_assert(eq(u32, f.dev->fwmark, 5));
	cr_assert(eq(sz, n_conns(&f), 0));
	fixture_clear(&f);

	/* but EOF in the middle of a get, or of the operation line, just closes */
	fixture_init(&f);
	cr_assert(eq(sz, (size_t)write(f.client, M("get=1\n")), 6));
	cr_assert(eq(int, shutdown(f.client, SHUT_WR), 0));
	cr_assert_str_eq(xfer(&f, "", 0), "<EOF>");
	fixture_clear(&f);
}

Test(uapi_server, server_oversize_set)
{
	struct uapi_buf msg = { 0 };
	struct fixture f;
	char want[1024];

	fixture_init(&f);
	f.srv.max_message = 1024;
	cr_assert(eq(int, uapi_buf_printf(&msg, "set=1\n" PK), 0));
	for (int i = 0; i < 100; i++)
		cr_assert(eq(int, uapi_buf_printf(&msg, "allowed_ip=10.0.0.%d/32\n", i), 0));
	cr_assert(eq(int, uapi_buf_printf(&msg, "\nget=1\n\n"), 0));
	/* refused whole, read to its end: the next operation still works */
	snprintf(want, sizeof(want), "errno=-90\n\n%s", get_text(&f)); /* EMSGSIZE */
	cr_assert_str_eq(xfer(&f, msg.data, msg.len), want);
	cr_assert(eq(sz, f.dev->peers_len, 0));
	/*
	 * In pieces: past the limit without an end in sight the input is dropped as it
	 * comes, and the end is still found when its two '\n' arrive in different reads.
	 */
	size_t blank = msg.len - strlen("\nget=1\n\n");
	cr_assert_str_eq(xfer(&f, msg.data, 1500), "");
	cr_assert(f.srv.conns[0]->is_discarding);
	cr_assert(le(sz, f.srv.conns[0]->in.len, 1));
	cr_assert_str_eq(xfer(&f, msg.data + 1500, blank - 1500), "");
	cr_assert_str_eq(xfer(&f, msg.data + blank, msg.len - blank), want);
	cr_assert(eq(sz, f.dev->peers_len, 0));
	cr_assert(not(f.srv.conns[0]->is_discarding));
	uapi_buf_free(&msg);
	fixture_clear(&f);
}

/* A reply larger than the socket buffer goes out in pieces; nothing more is read meanwhile. */
Test(uapi_server, server_big_reply_backpressure)
{
	enum { N = 20000 };
	struct uapi_buf msg = { 0 }, got = { 0 }, text = { 0 };
	struct fixture f;
	const char *want;
	ssize_t r;

	fixture_init(&f);
	cr_assert(eq(int, uapi_buf_printf(&msg, "set=1\n" PK), 0));
	for (int i = 0; i < N; i++)
		cr_assert(eq(int,
			     uapi_buf_printf(&msg, "allowed_ip=10.%d.%d.0/24\n", i >> 8, i & 255),
			     0));
	cr_assert(eq(int, uapi_buf_printf(&msg, "\n"), 0));
	for (size_t off = 0; off < msg.len; off += (size_t)r) {
		r = send(f.client, msg.data + off, msg.len - off, MSG_DONTWAIT);
		cr_assert(gt(sz, (size_t)r, 0));
		pump(&f);
	}
	cr_assert_str_eq(xfer(&f, "", 0), "errno=0\n\n");
	cr_assert(eq(int, uapi_get_format(&text, f.dev), 0));
	cr_assert(eq(int, uapi_buf_printf(&text, "errno=0\n\n%c", '\0'), 0));
	want = text.data;
	cr_assert(gt(sz, strlen(want), 500000));
	/* two gets in one write: the second waits until the first reply has left */
	cr_assert(eq(int, (int)write(f.client, "get=1\n\nget=1\n\n", 14), 14));
	pump(&f);
	cr_assert(eq(u32, f.srv.conns[0]->events, EPOLLOUT));
	cr_assert(gt(sz, f.srv.conns[0]->in.len, 0)); /* the second get, not yet run */
	for (int idle = 0; idle < 3;) {
		cr_assert(eq(int, uapi_buf_reserve(&got, 1 << 16), 0));
		r = recv(f.client, got.data + got.len, 1 << 16, MSG_DONTWAIT);
		if (r > 0)
			got.len += (size_t)r;
		idle = r > 0 ? 0 : idle + 1;
		pump(&f);
	}
	cr_assert(eq(sz, got.len, 2 * strlen(want)));
	cr_assert(eq(int, memcmp(got.data, want, strlen(want)), 0));
	cr_assert(eq(int, memcmp(got.data + strlen(want), want, strlen(want)), 0));
	cr_assert(eq(u32, f.srv.conns[0]->events, EPOLLIN));
	uapi_buf_free(&text);
	uapi_buf_free(&msg);
	uapi_buf_free(&got);
	fixture_clear(&f);
}

Test(uapi_server, server_client_limit)
{
	int sv[2], fds[UAPI_MAX_CLIENTS];
	struct fixture f;

	fixture_init(&f); /* one client already */
	for (int i = 1; i < UAPI_MAX_CLIENTS; i++) {
		cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
		cr_assert(eq(int, uapi_server_add_client(&f.srv, sv[0]), 0));
		fds[i] = sv[1];
	}
	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
	cr_assert(eq(int, uapi_server_add_client(&f.srv, sv[0]), -EBUSY));
	close(sv[0]);
	close(sv[1]);
	/* a client that hangs up frees its slot */
	close(fds[1]);
	pump(&f);
	cr_assert(eq(sz, n_conns(&f), UAPI_MAX_CLIENTS - 1));
	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
	cr_assert(eq(int, uapi_server_add_client(&f.srv, sv[0]), 0));
	close(sv[1]);
	for (int i = 2; i < UAPI_MAX_CLIENTS; i++)
		close(fds[i]);
	fixture_clear(&f);
}

static int connect_to(const struct sockaddr_un *addr, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Only root or our own uid may talk to the daemon (SO_PEERCRED); others are hung up on. */
Test(uapi_server, server_peer_credentials)
{
	struct fixture f;
	int status, fd;
	char byte;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	fixture_init(&f);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		if (setuid(65534) < 0)
			_exit(2);
		fd = connect_to(&f.addr, f.addr_len);
		if (fd < 0 || write(fd, "get=1\n\n", 7) != 7)
			_exit(3);
		/* no reply: EOF, or a reset since our request was never read */
		n = read(fd, &byte, 1);
		_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 4);
	}
	/* accept whatever is pending until the child, hung up on, exits */
	for (int tries = 0; waitpid(pid, &status, WNOHANG) == 0; tries++) {
		cr_assert(lt(int, tries, 1000));
		f.srv.listen.fn(&f.srv.listen, EPOLLIN);
		usleep(2000);
	}
	cr_assert(eq(int, status, 0), "child status %#x", status);
	cr_assert(eq(sz, n_conns(&f), 1));
	/* our own uid is accepted */
	fd = connect_to(&f.addr, f.addr_len);
	cr_assert(ge(int, fd, 0));
	f.srv.listen.fn(&f.srv.listen, EPOLLIN);
	cr_assert(eq(sz, n_conns(&f), 2));
	close(fd);
	fixture_clear(&f);
}

static void sock_name(char *ifname, size_t len)
{
	snprintf(ifname, len, "wgdut%d", (int)(getpid() % 1000000));
}

static void sock_file(char *path, size_t len, const char *ifname)
{
	snprintf(path, len, "%s/wireguard/%s.sock", RUNSTATEDIR, ifname);
}

Test(uapi_server, listen_socket_file)
{
	char ifname[IFNAMSIZ], path[108];
	struct stat st;
	int fd, fd2, flags;

	if (geteuid() != 0)
		cr_skip_test("needs root to write " RUNSTATEDIR "/wireguard");
	sock_name(ifname, sizeof(ifname));
	sock_file(path, sizeof(path), ifname);
	cr_assert(eq(int, uapi_listen("a/b", &fd), -EINVAL));
	cr_assert(eq(int, uapi_listen("", &fd), -EINVAL));
	cr_assert(eq(int, uapi_listen("0123456789abcdef", &fd), -EINVAL)); /* 16 > IFNAMSIZ - 1 */

	cr_assert(eq(int, uapi_listen(ifname, &fd), 0));
	cr_assert(eq(int, lstat(path, &st), 0));
	cr_assert_eq(S_ISSOCK(st.st_mode), 1);
	cr_assert(eq(u32, st.st_mode & 07777, 0600));
	cr_assert(eq(int, stat(RUNSTATEDIR "/wireguard", &st), 0));
	cr_assert_eq(S_ISDIR(st.st_mode), 1);
	flags = fcntl(fd, F_GETFL);
	cr_assert(ne(int, flags &O_NONBLOCK, 0), "flags %#x", flags);
	cr_assert(eq(int, fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC));

	/* a live daemon keeps its socket */
	cr_assert(eq(int, uapi_listen(ifname, &fd2), -EADDRINUSE));
	cr_assert(eq(int, lstat(path, &st), 0));
	/* a dead one's socket (the file outlives the fd) is taken over */
	close(fd);
	cr_assert(eq(int, uapi_listen(ifname, &fd2), 0));
	close(fd2);
	uapi_unlink(ifname);
	cr_assert(eq(int, lstat(path, &st), -1));
	cr_assert(eq(int, errno, ENOENT));

	/* anything else at the path is left alone */
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	cr_assert(ge(int, fd, 0));
	close(fd);
	cr_assert(eq(int, uapi_listen(ifname, &fd2), -EEXIST));
	cr_assert(eq(int, unlink(path), 0));
}

static void stop_loop(void *ctx, uint64_t now_ns)
{
	(void)now_ns;
	loop_stop(ctx);
}

static void run_loop_ms(struct loop *l, unsigned int ms)
{
	loop_arm_timer(l, clock_boottime_ns() + ms * NSEC_PER_MSEC);
	cr_assert(eq(int, loop_run(l, stop_loop, l), 0));
}

/* The whole path as wg(8) takes it: the socket file, accept on the loop, set and get. */
Test(uapi_server, server_on_loop_through_socket_file)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char ifname[IFNAMSIZ], want[1024], got[1024];
	struct uapi_server srv;
	struct device *dev;
	struct loop loop;
	ssize_t n;
	int lfd, fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to write " RUNSTATEDIR "/wireguard");
	sock_name(ifname, sizeof(ifname));
	sock_file(addr.sun_path, sizeof(addr.sun_path), ifname);
	cr_assert(eq(int, loop_init(&loop), 0));
	dev = test_device();
	cr_assert(eq(int, uapi_listen(ifname, &lfd), 0));
	cr_assert(eq(int, uapi_server_init(&srv, dev, &loop, lfd), 0));

	fd = connect_to(&addr, sizeof(addr));
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, (int)write(fd, "set=1\nfwmark=3\n\nget=1\n\n", 23), 23));
	run_loop_ms(&loop, 100);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	cr_assert(gt(int, (int)n, 0));
	got[n] = '\0';
	snprintf(want, sizeof(want), "errno=0\n\nlisten_port=%u\nfwmark=3\nerrno=0\n\n",
		 dev->sock.port);
	cr_assert_str_eq(got, want);
	cr_assert(not(eq(ptr, srv.conns[0], NULL)));
	close(fd);
	run_loop_ms(&loop, 20);
	cr_assert(eq(ptr, srv.conns[0], NULL));

	uapi_server_clear(&srv);
	uapi_unlink(ifname);
	device_destroy(dev);
	loop_clear(&loop);
}
