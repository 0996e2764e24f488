/* SPDX-License-Identifier: MIT */
/*
 * flood: handshake floods for tests/netns/faults.sh, against the DoS defences of
 * whitepaper §5.3 and §5.4.7 (mac1, cookie replies under load, per-source ratelimiter).
 *
 *   flood replay OPTIONS   sends one datagram (a captured initiation) again and again,
 *                          round-robin from many source addresses, paced or as fast as
 *                          sendmmsg goes; with --corrupt-mac1 every copy carries a
 *                          different invalid mac1. Counts the replies that come back.
 *   flood cookie OPTIONS   one source address sending fresh valid initiations (from
 *                          the keys of configured peers) at a fixed rate, answering
 *                          cookie replies as a real initiator does (mac2 from then on);
 *                          counts the responses in each second after the first send.
 *
 * Both print one JSON line. Sources come from an AnyIP route in the flood namespace
 * (`ip route add local NET dev lo`): every address of NET is local, so replay can name
 * one per datagram with IP_PKTINFO inside a sendmmsg batch, and cookie can bind to one.
 * The replies to all of them land on the one socket bound to the wildcard address.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/key.h"
#include "crypto/messages.h"
#include "crypto/noise.h"
#include "wgd/clock.h"

enum flood_values {
	MAX_PACKET = 1500,
	MAX_BATCH = 64,
	MAX_SOURCES = 65536,
	MAX_KEYS = 1024,
	MAX_SECONDS = 3600,
	REPLY_BUF = 256,
	SOCKET_BUFFER = 4 << 20,
	/* > 2^24 ns, the TAI64N whitening, so each key's timestamps strictly increase */
	TIMESTAMP_STEP_NS = 25 * NSEC_PER_MSEC,
	MAX_LAG_NS = 100 * NSEC_PER_MSEC, /* behind schedule by more: skip, do not burst */
	LINGER_NS = 300 * NSEC_PER_MSEC,  /* replies still counted after the last send */
};

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC),
			       .tv_nsec = (long)(deadline_ns % NSEC_PER_SEC) };

	while (clock_nanosleep(CLOCK_BOOTTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- options ---- */

enum opt_kind {
	OPT_STRING,
	OPT_U32,
	OPT_SECONDS,
	OPT_KEY,
	OPT_ADDR, /* IPv4:PORT */
	OPT_IPV4,
	OPT_FLAG,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	void *dst;
	uint32_t min, max;
	bool is_required;
};

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	uint32_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || !parse_u32(colon + 1, 1, 65535, &port))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

static bool opt_set(const struct opt *o, const char *v)
{
	char *end;

	switch (o->kind) {
	case OPT_STRING:
		*(const char **)o->dst = v;
		return true;
	case OPT_U32:
		return parse_u32(v, o->min, o->max, o->dst);
	case OPT_SECONDS:
		*(double *)o->dst = strtod(v, &end);
		return end != v && !*end && *(double *)o->dst > 0 &&
		       *(double *)o->dst <= MAX_SECONDS;
	case OPT_KEY:
		return key_from_base64(o->dst, v);
	case OPT_ADDR:
		return parse_addr(v, o->dst);
	case OPT_IPV4:
		return inet_pton(AF_INET, v, o->dst) == 1;
	case OPT_FLAG:
		break;
	}
	return false;
}

/* "--name VALUE" pairs, "--flag" alone; false after printing why. */
static bool opts_parse(const struct opt *opts, size_t n, int argc, char *argv[])
{
	bool seen[16] = { false };
	size_t i;

	for (int a = 1; a < argc; a++) {
		for (i = 0; i < n && i < 16; i++)
			if (!strncmp(argv[a], "--", 2) && !strcmp(argv[a] + 2, opts[i].name))
				break;
		if (i == n || i == 16) {
			fprintf(stderr, "flood: unknown option `%s'\n", argv[a]);
			return false;
		}
		seen[i] = true;
		if (opts[i].kind == OPT_FLAG) {
			*(bool *)opts[i].dst = true;
			continue;
		}
		if (++a == argc || !opt_set(&opts[i], argv[a])) {
			fprintf(stderr, "flood: --%s: missing or bad value\n", opts[i].name);
			return false;
		}
	}
	for (i = 0; i < n && i < 16; i++) {
		if (opts[i].is_required && !seen[i]) {
			fprintf(stderr, "flood: --%s is required\n", opts[i].name);
			return false;
		}
	}
	return true;
}

/* ---- sockets and replies ---- */

static int socket_open(struct in_addr addr, uint32_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr = addr };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int size = SOCKET_BUFFER;

	if (fd < 0)
		goto err;
	/* FORCE needs CAP_NET_ADMIN; the plain option is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
err:
	fprintf(stderr, "flood: UDP socket on %s:%u: %s\n", inet_ntoa(addr), port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

struct reply_stats {
	uint64_t replies, reply_bytes, cookies, responses, other;
};

static uint32_t message_type(const uint8_t *buf, size_t len)
{
	uint32_t type;

	if (len < sizeof(type))
		return MESSAGE_INVALID;
	memcpy(&type, buf, sizeof(type));
	return le32toh(type);
}

/* Reads every reply waiting, counting them by type; never blocks. */
static void replies_drain(int fd, struct reply_stats *st)
{
	static uint8_t bufs[MAX_BATCH][REPLY_BUF];
	struct iovec iov[MAX_BATCH];
	struct mmsghdr msgs[MAX_BATCH];
	int n;

	for (int i = 0; i < MAX_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = REPLY_BUF };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while ((n = recvmmsg(fd, msgs, MAX_BATCH, MSG_DONTWAIT, NULL)) > 0) {
		for (int i = 0; i < n; i++) {
			uint32_t type = message_type(bufs[i], msgs[i].msg_len);

			st->replies++;
			st->reply_bytes += msgs[i].msg_len;
			if (type == MESSAGE_HANDSHAKE_COOKIE)
				st->cookies++;
			else if (type == MESSAGE_HANDSHAKE_RESPONSE)
				st->responses++;
			else
				st->other++;
		}
	}
}

/* ---- replay ---- */

struct replay {
	uint8_t pkt[MAX_PACKET];
	size_t len;
	const char *packet_path;
	struct sockaddr_in to;
	struct in_addr src_net;
	uint32_t nsources, pps, batch, port;
	double duration_s;
	bool corrupt_mac1;
	uint64_t sent, send_errors, cursor;
	struct reply_stats replies;
	/* one batch: message i uses bufs[i] (or pkt) and a pktinfo naming its source */
	uint8_t bufs[MAX_BATCH][MAX_PACKET];
	struct iovec iov[MAX_BATCH];
	struct mmsghdr msgs[MAX_BATCH];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} control[MAX_BATCH];
};

static int packet_read(struct replay *r)
{
	FILE *f = fopen(r->packet_path, "re");

	if (!f) {
		fprintf(stderr, "flood: %s: %s\n", r->packet_path, strerror(errno));
		return -1;
	}
	r->len = fread(r->pkt, 1, sizeof(r->pkt), f);
	fclose(f);
	if (!r->len) {
		fprintf(stderr, "flood: %s: empty\n", r->packet_path);
		return -1;
	}
	/* mac1 sits 32 bytes before the end of an initiation or a response */
	if (r->corrupt_mac1 && r->len != sizeof(struct message_handshake_initiation) &&
	    r->len != sizeof(struct message_handshake_response)) {
		fprintf(stderr, "flood: --corrupt-mac1 needs a 148- or 92-byte message\n");
		return -1;
	}
	return 0;
}

/* Message i of the next batch: its source, and with corrupt_mac1 its own bad mac1. */
static void replay_fill(struct replay *r, unsigned int i)
{
	struct in_pktinfo info = { 0 };
	struct cmsghdr *cm;
	uint64_t seq = r->cursor++;

	if (r->corrupt_mac1) {
		uint8_t *mac1 = r->bufs[i] + r->len - 2 * COOKIE_MAC_LEN;
		uint64_t x;

		memcpy(r->bufs[i], r->pkt, r->len);
		/* XOR with seq + 1 (never 0): always different from the valid mac1 */
		memcpy(&x, mac1, sizeof(x));
		x ^= seq + 1;
		memcpy(mac1, &x, sizeof(x));
	}
	r->iov[i].iov_base = r->corrupt_mac1 ? r->bufs[i] : r->pkt;
	r->iov[i].iov_len = r->len;
	r->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &r->to,
					      .msg_namelen = sizeof(r->to),
					      .msg_iov = &r->iov[i],
					      .msg_iovlen = 1 };
	if (!r->nsources)
		return;
	info.ipi_spec_dst.s_addr = htonl(ntohl(r->src_net.s_addr) + 1 + seq % r->nsources);
	r->msgs[i].msg_hdr.msg_control = r->control[i].buf;
	r->msgs[i].msg_hdr.msg_controllen = sizeof(r->control[i].buf);
	cm = CMSG_FIRSTHDR(&r->msgs[i].msg_hdr);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cm), &info, sizeof(info));
}

static void replay_send_batch(struct replay *r, int fd)
{
	int n;

	for (unsigned int i = 0; i < r->batch; i++)
		replay_fill(r, i);
	n = sendmmsg(fd, r->msgs, r->batch, 0);
	if (n < 0) {
		r->send_errors += r->batch;
		return;
	}
	r->sent += (unsigned int)n;
	r->send_errors += r->batch - (unsigned int)n;
	/* the unsent ones' sources come round again next time */
	r->cursor -= r->batch - (unsigned int)n;
}

static void replay_loop(struct replay *r, int fd, double *elapsed_s)
{
	uint64_t start = clock_boottime_ns(), now = start;
	uint64_t end = start + (uint64_t)(r->duration_s * NSEC_PER_SEC);
	uint64_t interval = r->pps ? r->batch * NSEC_PER_SEC / r->pps : 0, next = start;

	while ((now = clock_boottime_ns()) < end) {
		if (interval && now < next) {
			sleep_until(next < end ? next : end);
			continue;
		}
		replay_send_batch(r, fd);
		replies_drain(fd, &r->replies);
		next += interval;
		if (now > next + MAX_LAG_NS)
			next = now;
	}
	*elapsed_s = (double)(now - start) / NSEC_PER_SEC;
	sleep_until(now + LINGER_NS);
	replies_drain(fd, &r->replies);
}

/* About one batch per millisecond when paced, and at most MAX_BATCH. */
static uint32_t default_batch(uint32_t pps)
{
	if (!pps || pps / 1000 > MAX_BATCH)
		return MAX_BATCH;
	return pps / 1000 ? pps / 1000 : 1;
}

static int cmd_replay(int argc, char *argv[])
{
	static struct replay r = { .nsources = 1024, .duration_s = 10, .port = 40000 };
	const struct opt opts[] = {
		{ "packet", OPT_STRING, &r.packet_path, 0, 0, true },
		{ "to", OPT_ADDR, &r.to, 0, 0, true },
		{ "src-net", OPT_IPV4, &r.src_net, 0, 0, false },
		{ "sources", OPT_U32, &r.nsources, 0, MAX_SOURCES - 2, false },
		{ "pps", OPT_U32, &r.pps, 0, 10000000, false },
		{ "batch", OPT_U32, &r.batch, 1, MAX_BATCH, false },
		{ "duration", OPT_SECONDS, &r.duration_s, 0, 0, false },
		{ "port", OPT_U32, &r.port, 1, 65535, false },
		{ "corrupt-mac1", OPT_FLAG, &r.corrupt_mac1, 0, 0, false },
	};
	double elapsed_s;
	int fd;

	if (!opts_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv)) {
		fprintf(stderr, "usage: flood replay --packet FILE --to IPv4:PORT [--src-net IPv4 "
				"--sources N] [--pps N] [--batch N]\n"
				"       [--duration SECONDS] [--port N] [--corrupt-mac1]\n");
		return 2;
	}
	if (!r.src_net.s_addr)
		r.nsources = 0; /* the socket's own address */
	if (!r.batch)
		r.batch = default_batch(r.pps);
	if (packet_read(&r) < 0)
		return 1;
	fd = socket_open((struct in_addr){ .s_addr = htonl(INADDR_ANY) }, r.port);
	if (fd < 0)
		return 1;
	replay_loop(&r, fd, &elapsed_s);
	close(fd);
	printf("{\"sent\": %" PRIu64 ", \"send_errors\": %" PRIu64 ", \"seconds\": %.3f, "
	       "\"pps\": %.0f, \"sources\": %u, \"bytes\": %" PRIu64 ", \"replies\": %" PRIu64
	       ", \"reply_bytes\": %" PRIu64 ", \"cookie_replies\": %" PRIu64
	       ", \"responses\": %" PRIu64 "}\n",
	       r.sent, r.send_errors, elapsed_s, (double)r.sent / elapsed_s, r.nsources,
	       r.sent * r.len, r.replies.replies, r.replies.reply_bytes, r.replies.cookies,
	       r.replies.responses);
	return r.sent ? 0 : 1;
}

/* ---- cookie ---- */

struct slot {
	uint64_t sent_ns;
	uint8_t mac1[COOKIE_MAC_LEN]; /* the AD of a cookie reply to this initiation */
	bool is_answered;
};

struct cookie_run {
	const char *keys_path;
	struct sockaddr_in to;
	struct in_addr src;
	uint8_t responder[NOISE_PUBLIC_KEY_LEN];
	uint32_t pps, port;
	double duration_s;
	struct noise_static_identity *ids;
	struct noise_handshake *templates; /* per key, static-static precomputed */
	struct cookie_checker *checkers;   /* per key: mac1 of the responses to it */
	uint32_t nkeys;
	struct cookie_maker maker; /* the one cookie of our one source address */
	struct slot *slots;
	uint32_t nslots, next;
	uint64_t start_ns, start_unix_ns;
	uint64_t responses, cookies, bad, stale, send_errors, first_cookie_ns;
	uint32_t per_second[MAX_SECONDS];
};

static int keys_read(struct cookie_run *c)
{
	char line[256], b64[KEY_B64_LEN + 8];
	uint8_t priv[NOISE_PRIVATE_KEY_LEN];
	FILE *f = fopen(c->keys_path, "re");
	int ret = 0;

	if (!f) {
		fprintf(stderr, "flood: %s: %s\n", c->keys_path, strerror(errno));
		return -1;
	}
	c->ids = calloc(MAX_KEYS, sizeof(*c->ids));
	while (c->ids && c->nkeys < MAX_KEYS && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%47s", b64) != 1 || !key_from_base64(priv, b64)) {
			ret = -1;
			break;
		}
		noise_static_identity_set(&c->ids[c->nkeys++], priv);
	}
	fclose(f);
	wipe(priv, sizeof(priv));
	wipe(b64, sizeof(b64));
	wipe(line, sizeof(line));
	if (!c->ids || ret || !c->nkeys) {
		fprintf(stderr, "flood: %s: want lines of base64 private keys\n", c->keys_path);
		return -1;
	}
	return 0;
}

static int cookie_init(struct cookie_run *c)
{
	if (keys_read(c) < 0)
		return -1;
	c->templates = calloc(c->nkeys, sizeof(*c->templates));
	c->checkers = calloc(c->nkeys, sizeof(*c->checkers));
	c->nslots = (uint32_t)(c->pps * c->duration_s) + 1;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (!c->templates || !c->checkers || !c->slots)
		return -1;
	for (uint32_t k = 0; k < c->nkeys; k++) {
		noise_handshake_init(&c->templates[k], &c->ids[k], c->responder, NULL);
		cookie_checker_init(&c->checkers[k], c->ids[k].static_public);
	}
	cookie_maker_init(&c->maker, c->responder);
	return 0;
}

static void cookie_clear(struct cookie_run *c)
{
	if (c->ids)
		wipe(c->ids, MAX_KEYS * sizeof(*c->ids));
	if (c->templates)
		wipe(c->templates, c->nkeys * sizeof(*c->templates));
	free(c->ids);
	free(c->templates);
	free(c->checkers);
	free(c->slots);
}

/* Initiation i, from key i % nkeys, stamped so that each key's timestamps increase. */
static void cookie_send_next(struct cookie_run *c, int fd, uint64_t now)
{
	struct message_handshake_initiation msg;
	uint32_t i = c->next, k = i % c->nkeys;
	struct noise_handshake hs = c->templates[k];
	uint64_t stamp = c->start_unix_ns + (uint64_t)(i / c->nkeys) * TIMESTAMP_STEP_NS;

	if (i >= c->nslots)
		return;
	c->next++;
	if (!noise_handshake_create_initiation(&msg, &hs, &c->ids[k], i + 1, stamp)) {
		c->send_errors++;
		goto out;
	}
	cookie_add_mac_to_packet((uint8_t *)&msg, sizeof(msg), &c->maker, now);
	memcpy(c->slots[i].mac1, msg.macs.mac1, COOKIE_MAC_LEN);
	c->slots[i].sent_ns = now;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&c->to, sizeof(c->to)) < 0)
		c->send_errors++;
out:
	wipe(&hs, sizeof(hs));
}

static struct slot *slot_of(struct cookie_run *c, const uint8_t *buf, size_t off)
{
	uint32_t index;

	memcpy(&index, buf + off, sizeof(index));
	index = le32toh(index);
	if (!index || index > c->next)
		return NULL;
	return &c->slots[index - 1];
}

static void cookie_on_response(struct cookie_run *c, const uint8_t *buf, size_t len, uint64_t now)
{
	struct slot *s =
		slot_of(c, buf, offsetof(struct message_handshake_response, receiver_index));
	uint32_t k, second;

	if (!s) {
		c->bad++;
		return;
	}
	k = (uint32_t)(s - c->slots) % c->nkeys;
	if (cookie_validate_packet(&c->checkers[k], buf, len, NULL, 0, false, now) == INVALID_MAC) {
		c->bad++;
		return;
	}
	if (s->is_answered) {
		c->stale++;
		return;
	}
	s->is_answered = true;
	c->responses++;
	/* by arrival: the responder decides on its clock, a fraction of a ms before */
	second = (uint32_t)((now - c->start_ns) / NSEC_PER_SEC);
	if (second < MAX_SECONDS)
		c->per_second[second]++;
}

static void cookie_on_cookie(struct cookie_run *c, const uint8_t *buf, uint64_t now)
{
	struct slot *s = slot_of(c, buf, offsetof(struct message_handshake_cookie, receiver_index));

	if (!s) {
		c->bad++;
		return;
	}
	/* The maker remembers only its last mac1; this reply is bound to that slot's. */
	memcpy(c->maker.last_mac1_sent, s->mac1, COOKIE_MAC_LEN);
	c->maker.have_sent_mac1 = true;
	if (!cookie_message_consume(&c->maker, (const void *)buf, now)) {
		c->bad++;
		return;
	}
	if (!c->cookies++)
		c->first_cookie_ns = now - c->start_ns;
}

static void cookie_receive(struct cookie_run *c, int fd)
{
	uint8_t buf[REPLY_BUF];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		uint32_t type = message_type(buf, (size_t)n);

		if (type == MESSAGE_HANDSHAKE_RESPONSE &&
		    n == sizeof(struct message_handshake_response))
			cookie_on_response(c, buf, (size_t)n, clock_boottime_ns());
		else if (type == MESSAGE_HANDSHAKE_COOKIE &&
			 n == sizeof(struct message_handshake_cookie))
			cookie_on_cookie(c, buf, clock_boottime_ns());
		else
			c->bad++;
	}
}

static void cookie_loop(struct cookie_run *c, int fd)
{
	uint64_t interval = NSEC_PER_SEC / c->pps, next, now, end, wait;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts;

	c->start_ns = next = clock_boottime_ns();
	c->start_unix_ns = clock_realtime_ns();
	end = c->start_ns + (uint64_t)(c->duration_s * NSEC_PER_SEC);
	while ((now = clock_boottime_ns()) < end + LINGER_NS) {
		if (now < end && now >= next) {
			cookie_send_next(c, fd, now);
			next += interval;
			if (now > next + MAX_LAG_NS)
				next = now;
		}
		cookie_receive(c, fd);
		/* sleep until the next send is due, or a reply arrives */
		now = clock_boottime_ns();
		wait = now < next && next - now < interval ? next - now : interval;
		ts = (struct timespec){ .tv_sec = (time_t)(wait / NSEC_PER_SEC),
					.tv_nsec = (long)(wait % NSEC_PER_SEC) };
		(void)ppoll(&pfd, 1, &ts, NULL);
	}
}

static void cookie_report(const struct cookie_run *c)
{
	uint32_t seconds = (uint32_t)c->duration_s + (c->duration_s > (uint32_t)c->duration_s);

	printf("{\"sent\": %u, \"send_errors\": %" PRIu64 ", \"responses\": %" PRIu64
	       ", \"cookie_replies\": %" PRIu64 ", \"first_cookie_ms\": %.1f, \"bad\": %" PRIu64
	       ", \"stale\": %" PRIu64 ", \"per_second\": [",
	       c->next, c->send_errors, c->responses, c->cookies,
	       c->cookies ? (double)c->first_cookie_ns / NSEC_PER_MSEC : -1.0, c->bad, c->stale);
	for (uint32_t s = 0; s < seconds && s < MAX_SECONDS; s++)
		printf("%s%u", s ? ", " : "", c->per_second[s]);
	printf("]}\n");
}

static int cmd_cookie(int argc, char *argv[])
{
	static struct cookie_run c = { .pps = 200, .duration_s = 5, .port = 40001 };
	const struct opt opts[] = {
		{ "keys", OPT_STRING, &c.keys_path, 0, 0, true },
		{ "responder", OPT_KEY, c.responder, 0, 0, true },
		{ "to", OPT_ADDR, &c.to, 0, 0, true },
		{ "src", OPT_IPV4, &c.src, 0, 0, true },
		{ "pps", OPT_U32, &c.pps, 1, 100000, false },
		{ "duration", OPT_SECONDS, &c.duration_s, 0, 0, false },
		{ "port", OPT_U32, &c.port, 1, 65535, false },
	};
	int fd = -1, ret = 1;

	if (!opts_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv)) {
		fprintf(stderr, "usage: flood cookie --keys FILE --responder PUB --to IPv4:PORT "
				"--src IPv4 [--pps N]\n"
				"       [--duration SECONDS] [--port N]\n");
		return 2;
	}
	if (cookie_init(&c) == 0 && (fd = socket_open(c.src, c.port)) >= 0) {
		cookie_loop(&c, fd);
		cookie_report(&c);
		ret = c.next && !c.send_errors ? 0 : 1;
	}
	if (fd >= 0)
		close(fd);
	cookie_clear(&c);
	return ret;
}

int main(int argc, char *argv[])
{
	if (sodium_init() < 0) {
		fprintf(stderr, "flood: cannot initialise libsodium\n");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "cookie"))
		return cmd_cookie(argc - 1, argv + 1);
	fprintf(stderr, "usage: flood replay ... | flood cookie ...\n");
	return 2;
}
