/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the UAPI socket protocol as wg(8) speaks it. The fuzzer's bytes are the
 * stream a client writes to one connection ("get=1\n\n", "set=1\n<key=value>...\n\n", in
 * any number and any shape); the server (uapi.c: framing, uapi_set_parse,
 * device_apply_cfg, uapi_get_format) runs on one end of a socketpair, its connection
 * callback driven directly, with a device whose UDP sends are captured.
 *
 * Checks, beyond the sanitizers:
 *   - the server answers with nothing but replies "key=value" lines ... "errno=N\n\n",
 *     and every one parses with wgctl's strict reply parser (uapi_client_get_parse);
 *   - round trip: the device's state as get=1 prints it, parsed by the client, written
 *     back as a set message by the client (uapi_client_set_format), must parse on the
 *     server and, applied to a fresh device, print the same configuration again.
 * listen_port binds real UDP ports, so the target runs in a network namespace of its own
 * when it can create one; otherwise it renames the key so the fuzzer cannot bind ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "wgd/loop.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

enum {
	UA_MAX_INPUT = 1 << 16,
	UA_MAX_ROUNDS = 64,
};

/* what the last input did, for the regression test */
static struct {
	size_t replies, failed; /* failed: replies with errno != 0 */
	bool round_trip;
} ua_stats;

struct ua_env {
	struct loop loop;
	struct uapi_server srv;
	bool own_netns;
};

static struct ua_env *ua_env(void)
{
	static struct ua_env env;
	static bool ready;
	int fd;

	if (ready)
		return &env;
	env.own_netns = unshare(CLONE_NEWNET) == 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* a listener that never fires */
	if (fd < 0 || loop_init(&env.loop) < 0 || uapi_server_init(&env.srv, NULL, &env.loop, fd))
		abort();
	ready = true;
	return &env;
}

/* Appends what the server wrote so far; false once it closed its end. */
static bool ua_read(int fd, struct uapi_buf *out)
{
	for (;;) {
		ssize_t n;

		if (uapi_buf_reserve(out, 4096) < 0)
			abort();
		n = read(fd, out->data + out->len, 4096);
		if (n > 0) {
			out->len += (size_t)n;
			continue;
		}
		return n < 0 && errno == EAGAIN;
	}
}

/* Feeds the stream through one connection, as the loop would; the replies go to out. */
static void ua_converse(struct ua_env *env, const uint8_t *data, size_t size, struct uapi_buf *out)
{
	size_t sent = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (uapi_server_add_client(&env->srv, sv[1]) < 0)
		abort();
	for (int round = 0; round < UA_MAX_ROUNDS; round++) {
		struct uapi_conn *c = env->srv.conns[0];
		ssize_t n = sent < size ? write(sv[0], data + sent, size - sent) : 0;

		if (n > 0)
			sent += (size_t)n;
		if (sent == size)
			shutdown(sv[0], SHUT_WR);
		if (c)
			c->src.fn(&c->src, c->events);
		if (!ua_read(sv[0], out) || !env->srv.conns[0])
			break;
	}
	FZ_CHECK(!env->srv.conns[0], "the server kept a connection whose client had left");
	close(sv[0]);
}

/* Each reply must be "key=value" lines and "errno=N", and parse as wg would parse it. */
static void ua_check_replies(const struct uapi_buf *out)
{
	const char *p = out->data, *end = out->data + out->len;

	while (p < end) {
		const char *stop = memmem(p, (size_t)(end - p), "\n\n", 2);
		struct uapi_state st = { 0 };
		int ret;

		const char *last;
		long n;

		FZ_CHECK(stop, "a reply without its blank line");
		/* its last line is errno=N, which the parser returns as -|N| */
		for (last = stop; last > p && last[-1] != '\n'; last--)
			;
		FZ_CHECK(!strncmp(last, "errno=", 6), "a reply that does not end in errno=");
		n = strtol(last + 6, NULL, 10);
		ret = uapi_client_get_parse(&st, p, (size_t)(stop + 2 - p));
		FZ_CHECK(ret == (n < 0 ? n : -n), "reply with errno=%ld parses as %d", n, ret);
		ua_stats.replies++;
		ua_stats.failed += n != 0;
		uapi_state_clear(&st);
		p = stop + 2;
	}
}

/* The get=1 text without what is not configuration (port, counters, handshake time). */
static void ua_config_text(const struct device *dev, struct uapi_buf *out)
{
	static const char *const skip[] = { "listen_port=", "tx_bytes=", "rx_bytes=",
					    "last_handshake_time_sec=",
					    "last_handshake_time_nsec=" };
	struct uapi_buf all = { 0 };
	const char *p, *nl;

	FZ_CHECK(uapi_get_format(&all, dev) == 0, "get=1 failed");
	for (p = all.data; p && p < all.data + all.len; p = nl + 1) {
		bool keep = true;

		nl = memchr(p, '\n', (size_t)(all.data + all.len - p));
		FZ_CHECK(nl, "get=1 line without newline");
		for (size_t i = 0; i < FZ_ARRAY_SIZE(skip); i++)
			keep = keep && strncmp(p, skip[i], strlen(skip[i]));
		if (keep && uapi_buf_printf(out, "%.*s\n", (int)(nl - p), p) < 0)
			abort();
	}
	uapi_buf_free(&all);
}

/* get -> client parse -> client set text -> server parse -> fresh device -> same get. */
static void ua_round_trip(const struct fz_dev *d)
{
	struct uapi_buf text1 = { 0 }, text2 = { 0 }, get = { 0 };
	struct uapi_state st = { 0 };
	struct cfg_device cfg = { 0 };
	struct uapi_set_error err;
	struct fz_dev d2;
	char *set;
	size_t set_len;
	int ret;

	FZ_CHECK(uapi_get_format(&get, d->dev) == 0 && uapi_buf_printf(&get, "errno=0\n\n") == 0,
		 "get=1 failed");
	ret = uapi_client_get_parse(&st, get.data, get.len);
	FZ_CHECK(ret == 0, "the client cannot parse our get=1: %d", ret);
	st.cfg.flags |= CFG_DEV_REPLACE_PEERS;
	FZ_CHECK(uapi_client_set_format(&set, &set_len, &st.cfg) == 0, "client set format");
	FZ_CHECK(set_len >= 7 && !memcmp(set, "set=1\n", 6), "client set text");
	ret = uapi_set_parse(&cfg, set + 6, set_len - 6, &err);
	FZ_CHECK(ret == 0, "the client's set does not parse: %d at line %u (%s)", ret, err.line,
		 err.key);
	cfg.flags &= ~(unsigned int)CFG_DEV_HAS_LISTEN_PORT; /* d still holds that port */
	cfg.flags |= CFG_DEV_HAS_PRIVATE_KEY; /* none in the text: all zero removes d2's */
	fz_dev_init(&d2, 0x77, FZ_PORT_B);
	ret = device_apply_cfg(d2.dev, &cfg, d2.now_ns);
	FZ_CHECK(ret == 0, "a fresh device refuses the state: %d", ret);
	ua_config_text(d->dev, &text1);
	ua_config_text(d2.dev, &text2);
	FZ_CHECK(text1.len == text2.len &&
			 (!text1.len || !memcmp(text1.data, text2.data, text1.len)),
		 "round trip changed the configuration:\n%.*s---\n%.*s", (int)text1.len, text1.data,
		 (int)text2.len, text2.data);
	ua_stats.round_trip = true;
	fz_dev_free(&d2);
	cfg_device_clear(&cfg);
	uapi_client_text_free(set, set_len);
	uapi_state_clear(&st);
	uapi_buf_free(&get);
	uapi_buf_free(&text1);
	uapi_buf_free(&text2);
}

static void fz_uapi_one(const uint8_t *data, size_t size)
{
	struct ua_env *env;
	struct uapi_buf out = { 0 };
	uint8_t *copy = NULL;
	struct fz_dev d;

	fz_begin(7);
	memset(&ua_stats, 0, sizeof(ua_stats));
	env = ua_env();
	if (size > UA_MAX_INPUT)
		size = UA_MAX_INPUT;
	if (!env->own_netns) {
		uint8_t *m;

		copy = malloc(size ? size : 1);
		if (!copy)
			abort();
		memcpy(copy, data, size);
		for (m = copy; (m = memmem(m, size - (size_t)(m - copy), "listen_port", 11)); m++)
			m[10] = 'T'; /* no real ports outside a namespace of our own */
		data = copy;
	}
	fz_dev_init(&d, 0x22, FZ_PORT_B);
	env->srv.dev = d.dev;
	ua_converse(env, data, size, &out);
	ua_check_replies(&out);
	ua_round_trip(&d);
	env->srv.dev = NULL;
	fz_dev_free(&d);
	uapi_buf_free(&out);
	free(copy);
}

FZ_ENTRY(fz_uapi_one)
