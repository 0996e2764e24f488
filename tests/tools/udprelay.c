/* SPDX-License-Identifier: MIT */
/*
 * udprelay: a UDP relay that reorders, duplicates and delays, for tests/netns/faults.sh
 * (netem is not available there). It sits in the middle namespace between two daemons:
 *
 *   client --> LISTEN [relay] FROM --> TO (server)      lane "a2b"
 *   client <-- LISTEN [relay] FROM <-- TO (server)      lane "b2a", to the last client seen
 *
 * Reordering is by count, so it is bounded and independent of the rate: the n-th datagram
 * of a lane is released when the lane's (n + d)-th arrives, d uniform in [0, --reorder];
 * no datagram is overtaken by more than --reorder later ones. When a lane is idle for
 * --flush-ms, everything it holds goes out in release order (the tail of a stream, or a
 * lone handshake). --dup PERCENT sends that share of datagrams twice, the copy with its own
 * release point; --delay-ms holds every released datagram that much longer.
 *
 * Stats (JSON) go to --stats FILE every half second and at exit (SIGTERM, SIGINT): per
 * lane the datagrams in and out, the copies added, how many went out after a later
 * arrival, and the deepest such overtaking, the reordering depth actually reached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/messages.h"
#include "wgd/clock.h"

enum relay_values {
	MAX_DATAGRAM = 65535,
	MAX_REORDER = 1 << 20,
	SOCKET_BUFFER = 16 << 20,
	STATS_INTERVAL_NS = 500 * NSEC_PER_MSEC,
};

struct datagram {
	struct datagram *next;
	uint64_t arrival; /* the lane's arrival number */
	uint64_t due_ns;  /* with --delay-ms: when it may leave */
	size_t len;
	uint8_t data[];
};

struct queue {
	struct datagram *head, *tail;
};

struct lane {
	const char *name;
	int out_fd;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	struct queue *slots; /* reorder + 1 release points, a ring */
	struct queue delayed;
	uint64_t arrivals, held, last_arrival_ns, max_arrival_out;
	uint64_t in, out, dups, reordered, max_depth, unsent;
	bool has_out;
};

struct relay {
	int listen_fd, upstream_fd;
	uint32_t reorder, dup_permille, delay_ms, flush_ms;
	uint64_t rng;
	const char *stats_path;
	struct lane a2b, b2a;
};

static volatile sig_atomic_t is_stopping;

/* xorshift64*: a test tool's reproducible stream (--seed), not a secret */
static uint64_t rng_next(struct relay *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dULL;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "192.0.2.1:80" or "[2001:db8::1]:80" */
static bool parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	uint32_t port;

	if (!colon || !hlen || hlen >= sizeof(host) || !parse_u32(colon + 1, 65535, &port))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	*len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1;
}

static int socket_bound(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int size = SOCKET_BUFFER;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (bind(fd, (const struct sockaddr *)ss, len) == 0)
		return fd;
	close(fd);
	return -1;
}

static void queue_push(struct queue *q, struct datagram *d)
{
	d->next = NULL;
	if (q->tail)
		q->tail->next = d;
	else
		q->head = d;
	q->tail = d;
}

static struct datagram *queue_pop(struct queue *q)
{
	struct datagram *d = q->head;

	if (d) {
		q->head = d->next;
		if (!q->head)
			q->tail = NULL;
	}
	return d;
}

static void lane_transmit(struct lane *l, struct datagram *d)
{
	ssize_t n = -1;

	if (l->has_out)
		n = sendto(l->out_fd, d->data, d->len, 0, (struct sockaddr *)&l->dst, l->dst_len);
	if (n < 0)
		l->unsent++;
	else
		l->out++;
	free(d);
}

/* Out of the reorder stage: account for overtaking, then send or hold for the delay. */
static void lane_release(struct relay *r, struct lane *l, struct datagram *d)
{
	l->held--;
	if (d->arrival < l->max_arrival_out) {
		l->reordered++;
		if (l->max_arrival_out - d->arrival > l->max_depth)
			l->max_depth = l->max_arrival_out - d->arrival;
	} else {
		l->max_arrival_out = d->arrival;
	}
	if (!r->delay_ms) {
		lane_transmit(l, d);
		return;
	}
	d->due_ns = clock_boottime_ns() + r->delay_ms * NSEC_PER_MSEC;
	queue_push(&l->delayed, d);
}

static void lane_release_slot(struct relay *r, struct lane *l, uint64_t point)
{
	struct queue *q = &l->slots[point % (r->reorder + 1)];
	struct datagram *d;

	while ((d = queue_pop(q)))
		lane_release(r, l, d);
}

/* Hold a copy until arrival number arrival + d, d uniform in [0, reorder]. */
static void lane_hold(struct relay *r, struct lane *l, const uint8_t *buf, size_t len,
		      uint64_t arrival)
{
	struct datagram *d = malloc(sizeof(*d) + len);
	uint64_t point = arrival + rng_next(r) % (r->reorder + 1);

	if (!d) {
		l->unsent++;
		return;
	}
	d->arrival = arrival;
	d->len = len;
	memcpy(d->data, buf, len);
	queue_push(&l->slots[point % (r->reorder + 1)], d);
	l->held++;
}

static void lane_arrive(struct relay *r, struct lane *l, const uint8_t *buf, size_t len)
{
	uint64_t arrival = l->arrivals++;

	l->in++;
	l->last_arrival_ns = clock_boottime_ns();
	lane_hold(r, l, buf, len, arrival);
	if (rng_next(r) % 1000 < r->dup_permille) {
		lane_hold(r, l, buf, len, arrival);
		l->dups++;
	}
	lane_release_slot(r, l, arrival);
}

/* Idle: release everything held, in release order, as if the arrivals had gone on. */
static void lane_flush(struct relay *r, struct lane *l)
{
	for (uint64_t p = l->arrivals; l->held && p <= l->arrivals + r->reorder; p++)
		lane_release_slot(r, l, p);
}

static void lane_tick(struct relay *r, struct lane *l, uint64_t now)
{
	struct datagram *d;

	if (l->held && now - l->last_arrival_ns >= r->flush_ms * NSEC_PER_MSEC)
		lane_flush(r, l);
	while (l->delayed.head && l->delayed.head->due_ns <= now) {
		d = queue_pop(&l->delayed);
		lane_transmit(l, d);
	}
}

/* The next time a lane needs attention, in ms from now (-1: only on input). */
static int lane_timeout_ms(const struct relay *r, const struct lane *l, uint64_t now)
{
	uint64_t t = UINT64_MAX;

	if (l->held)
		t = l->last_arrival_ns + r->flush_ms * NSEC_PER_MSEC;
	if (l->delayed.head && l->delayed.head->due_ns < t)
		t = l->delayed.head->due_ns;
	if (t == UINT64_MAX)
		return -1;
	return t <= now ? 0 : (int)((t - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

static void stats_lane(FILE *f, const struct lane *l)
{
	fprintf(f,
		"\"%s\": {\"in\": %" PRIu64 ", \"out\": %" PRIu64 ", \"dups\": %" PRIu64
		", \"reordered\": %" PRIu64 ", \"max_depth\": %" PRIu64 ", \"unsent\": %" PRIu64
		", \"held\": %" PRIu64 "}",
		l->name, l->in, l->out, l->dups, l->reordered, l->max_depth, l->unsent, l->held);
}

/* Written aside and renamed, so a reader never sees half a file. */
static void stats_write(const struct relay *r)
{
	char tmp[4096];
	FILE *f;

	if (!r->stats_path ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", r->stats_path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f)
		return;
	fputc('{', f);
	stats_lane(f, &r->a2b);
	fputs(", ", f);
	stats_lane(f, &r->b2a);
	fputs("}\n", f);
	if (fclose(f) == 0)
		(void)rename(tmp, r->stats_path);
}

/* A datagram on the listening socket comes from the client: remember it for replies. */
static void on_readable(struct relay *r, int fd, uint8_t *buf)
{
	struct sockaddr_storage from;
	socklen_t from_len;
	ssize_t n;

	for (int i = 0; i < 64; i++) {
		from_len = sizeof(from);
		n = recvfrom(fd, buf, MAX_DATAGRAM, 0, (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		if (fd == r->upstream_fd) {
			lane_arrive(r, &r->b2a, buf, (size_t)n);
			continue;
		}
		memcpy(&r->b2a.dst, &from, from_len);
		r->b2a.dst_len = from_len;
		r->b2a.has_out = true;
		lane_arrive(r, &r->a2b, buf, (size_t)n);
	}
}

static int relay_run(struct relay *r)
{
	struct pollfd pfd[2] = { { .fd = r->listen_fd, .events = POLLIN },
				 { .fd = r->upstream_fd, .events = POLLIN } };
	uint8_t *buf = malloc(MAX_DATAGRAM);
	uint64_t now, next_stats = 0;
	int t1, t2, timeout;

	if (!buf)
		return 1;
	while (!is_stopping) {
		now = clock_boottime_ns();
		if (now >= next_stats) {
			stats_write(r);
			next_stats = now + STATS_INTERVAL_NS;
		}
		t1 = lane_timeout_ms(r, &r->a2b, now);
		t2 = lane_timeout_ms(r, &r->b2a, now);
		timeout = (int)(STATS_INTERVAL_NS / NSEC_PER_MSEC);
		if (t1 >= 0 && t1 < timeout)
			timeout = t1;
		if (t2 >= 0 && t2 < timeout)
			timeout = t2;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				on_readable(r, pfd[i].fd, buf);
		now = clock_boottime_ns();
		lane_tick(r, &r->a2b, now);
		lane_tick(r, &r->b2a, now);
	}
	free(buf);
	stats_write(r);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	is_stopping = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: udprelay --listen ADDR:PORT --to ADDR:PORT [--from ADDR:PORT]\n"
			"       [--reorder N] [--dup PERCENT] [--delay-ms MS] [--flush-ms MS]\n"
			"       [--seed N] [--stats FILE]\n");
}

static bool args_parse(struct relay *r, int argc, char *argv[], struct sockaddr_storage *addrs,
		       socklen_t *lens)
{
	uint32_t dup_pct = 0, seed = 0;
	bool ok = true;

	for (int a = 1; ok && a < argc; a += 2) {
		const char *k = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!v)
			ok = false;
		else if (!strcmp(k, "--listen"))
			ok = parse_addr(v, &addrs[0], &lens[0]);
		else if (!strcmp(k, "--to"))
			ok = parse_addr(v, &addrs[1], &lens[1]);
		else if (!strcmp(k, "--from"))
			ok = parse_addr(v, &addrs[2], &lens[2]);
		else if (!strcmp(k, "--reorder"))
			ok = parse_u32(v, MAX_REORDER, &r->reorder);
		else if (!strcmp(k, "--dup"))
			ok = parse_u32(v, 100, &dup_pct);
		else if (!strcmp(k, "--delay-ms"))
			ok = parse_u32(v, 60000, &r->delay_ms);
		else if (!strcmp(k, "--flush-ms"))
			ok = parse_u32(v, 60000, &r->flush_ms) && r->flush_ms;
		else if (!strcmp(k, "--seed"))
			ok = parse_u32(v, UINT32_MAX, &seed);
		else if (!strcmp(k, "--stats"))
			r->stats_path = v;
		else
			ok = false;
	}
	r->dup_permille = dup_pct * 10;
	r->rng = seed ? seed : (uint64_t)clock_boottime_ns() ^ (uint64_t)getpid() << 32;
	r->rng |= 1; /* xorshift must not start at 0 */
	return ok && lens[0] && lens[1];
}

int main(int argc, char *argv[])
{
	struct relay r = { .flush_ms = 20, .a2b.name = "a2b", .b2a.name = "b2a" };
	struct sockaddr_storage addrs[3];
	socklen_t lens[3] = { 0, 0, 0 };
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */

	if (!args_parse(&r, argc, argv, addrs, lens)) {
		usage();
		return 2;
	}
	if (!lens[2]) { /* the wildcard address of --to's family, any port */
		memset(&addrs[2], 0, sizeof(addrs[2]));
		addrs[2].ss_family = addrs[1].ss_family;
		lens[2] = lens[1];
	}
	r.listen_fd = socket_bound(&addrs[0], lens[0]);
	r.upstream_fd = socket_bound(&addrs[2], lens[2]);
	r.a2b.slots = calloc(r.reorder + 1, sizeof(*r.a2b.slots));
	r.b2a.slots = calloc(r.reorder + 1, sizeof(*r.b2a.slots));
	if (r.listen_fd < 0 || r.upstream_fd < 0 || !r.a2b.slots || !r.b2a.slots) {
		fprintf(stderr, "udprelay: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	r.a2b.out_fd = r.upstream_fd;
	memcpy(&r.a2b.dst, &addrs[1], lens[1]);
	r.a2b.dst_len = lens[1];
	r.a2b.has_out = true;
	r.b2a.out_fd = r.listen_fd;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return relay_run(&r);
}
