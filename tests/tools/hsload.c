/* SPDX-License-Identifier: MIT */
/*
 * hsload: a handshake load generator for bench/bench.sh. It measures how many handshakes
 * one responder completes per second by sending it VALID initiations (crypto/noise.h)
 * from many static keys, and counting the responses.
 *
 *   hsload keygen COUNT               COUNT lines "PRIVATE PUBLIC" (base64)
 *   hsload x25519 SECONDS             crypto_scalarmult rates of this machine, as JSON
 *   hsload pool OPTIONS               precomputes initiations into a file
 *   hsload run OPTIONS                sends them, prints one JSON line of results
 *
 * Initiations are built before the timed window (two X25519 each) so that the load tool
 * does not take CPU from the responder on a small machine. Each one carries its own
 * TAI64N timestamp: entry i belongs to key i % keys and is that key's (i / keys)-th
 * initiation, stamped t0 + (i / keys) * 25 ms, so every key's timestamps strictly
 * increase past the 2^24 ns whitening (whitepaper §5.4.2) when sent in pool order. The
 * responder must have every key as a peer and fresh replay state (`wg setconf`).
 *
 * The responder's DoS defences shape the sender (whitepaper §5.3, §5.4.7): under load it
 * answers initiations without mac2 with a cookie reply and admits 20 per second per
 * source address, so hsload sends from many source addresses (an AnyIP local route makes
 * them bindable), at most 20/s each, keeps one cookie per address, and caps the number
 * of initiations in flight so the responder's socket never overflows: a closed loop that
 * measures capacity, not loss. mac1 of every response is checked, and the first
 * --verify responses are fully consumed with noise_handshake_consume_response.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdbool.h>
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

enum hsload_values {
	TIMESTAMP_STEP_NS = 25 * NSEC_PER_MSEC, /* > 2^24 ns, the TAI64N whitening */
	SOURCE_INTERVAL_NS = NSEC_PER_SEC / 20, /* the responder's per-address rate */
	MAX_THREADS = 64,
	MAX_SOURCES = 65535,
	POOL_MAGIC_LEN = 8,
};

static const char pool_magic[POOL_MAGIC_LEN] = { 'H', 'S', 'L', 'P', 'O', 'O', 'L', '1' };

struct pool_header {
	char magic[POOL_MAGIC_LEN];
	uint32_t count;	  /* initiations */
	uint32_t nkeys;	  /* entry i belongs to key i % nkeys */
	uint32_t nverify; /* handshake states kept for the first nverify entries */
	uint32_t reserved;
	uint8_t responder[NOISE_PUBLIC_KEY_LEN];
};

struct keyset {
	struct noise_static_identity *ids;
	uint32_t count;
};

struct pool {
	struct pool_header hdr;
	struct message_handshake_initiation *msgs;
	struct noise_handshake *verify;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "hsload: out of memory\n");
		exit(1);
	}
	return p;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "hsload: `%s' is not a number in [%u, %u]\n", s, min, max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	if (end == s || *end || !(*out >= 0 && *out <= 3600)) {
		fprintf(stderr, "hsload: `%s' is not a duration in seconds\n", s);
		return false;
	}
	return true;
}

enum opt_kind {
	OPT_STRING,
	OPT_U32,
	OPT_SECONDS,
	OPT_KEY,
	OPT_IPV4,
};

/* One "--name VALUE" option: where the value goes and, for numbers, its range. */
struct opt {
	const char *name;
	enum opt_kind kind;
	void *dst;
	uint32_t min, max;
	bool is_required;
};

static bool opt_set(const struct opt *o, const char *v)
{
	switch (o->kind) {
	case OPT_STRING:
		*(const char **)o->dst = v;
		return true;
	case OPT_U32:
		return parse_u32(v, o->min, o->max, o->dst);
	case OPT_SECONDS:
		return parse_seconds(v, o->dst);
	case OPT_KEY:
		if (key_from_base64(o->dst, v))
			return true;
		break;
	case OPT_IPV4:
		if (inet_pton(AF_INET, v, o->dst) == 1)
			return true;
		break;
	}
	fprintf(stderr, "hsload: --%s: bad value `%s'\n", o->name, v);
	return false;
}

/* Fills the table from argv (after the subcommand); false after printing why not. */
static bool opts_parse(const struct opt *opts, size_t n, int argc, char *argv[])
{
	bool seen[16] = { false };

	if (n > sizeof(seen) / sizeof(seen[0]))
		return false;
	for (int a = 1; a < argc; a += 2) {
		size_t i = 0;

		while (i < n && (strncmp(argv[a], "--", 2) || strcmp(argv[a] + 2, opts[i].name)))
			i++;
		if (i == n || a + 1 == argc) {
			fprintf(stderr, "hsload: unknown option or missing value: `%s'\n", argv[a]);
			return false;
		}
		if (!opt_set(&opts[i], argv[a + 1]))
			return false;
		seen[i] = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (opts[i].is_required && !seen[i]) {
			fprintf(stderr, "hsload: --%s is required\n", opts[i].name);
			return false;
		}
	}
	return true;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char *argv[])
{
	char priv_b64[KEY_B64_LEN + 1], pub_b64[KEY_B64_LEN + 1];
	uint8_t priv[NOISE_PRIVATE_KEY_LEN];
	struct noise_static_identity id;
	uint32_t count;

	if (argc != 2 || !parse_u32(argv[1], 1, 1U << 20, &count))
		return 2;
	for (uint32_t i = 0; i < count; i++) {
		do {
			randombytes_buf(priv, sizeof(priv));
			noise_static_identity_set(&id, priv);
		} while (!id.has_identity);
		key_to_base64(priv_b64, id.static_private);
		key_to_base64(pub_b64, id.static_public);
		printf("%s %s\n", priv_b64, pub_b64);
	}
	wipe(priv, sizeof(priv));
	wipe(priv_b64, sizeof(priv_b64));
	noise_static_identity_clear(&id);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- x25519 ---- */

/* Scalar multiplications per second; each output feeds the next input. */
static double x25519_rate(bool fixed_base, double seconds)
{
	uint8_t scalar[NOISE_PRIVATE_KEY_LEN], point[NOISE_PUBLIC_KEY_LEN];
	uint64_t start = clock_boottime_ns(), elapsed;
	unsigned long n = 0;
	int ret = 0;

	randombytes_buf(scalar, sizeof(scalar));
	ret |= crypto_scalarmult_base(point, scalar);
	do {
		for (int i = 0; i < 64; i++) {
			if (fixed_base)
				ret |= crypto_scalarmult_base(point, scalar);
			else
				ret |= crypto_scalarmult(point, scalar, point);
			scalar[i % NOISE_PRIVATE_KEY_LEN] ^= point[0];
		}
		n += 64;
		elapsed = clock_boottime_ns() - start;
	} while (elapsed < (uint64_t)(seconds * NSEC_PER_SEC));
	wipe(scalar, sizeof(scalar));
	return ret ? -1 : (double)n * NSEC_PER_SEC / (double)elapsed;
}

static int cmd_x25519(int argc, char *argv[])
{
	double seconds, var, base;

	if (argc != 2 || !parse_seconds(argv[1], &seconds))
		return 2;
	var = x25519_rate(false, seconds / 2);
	base = x25519_rate(true, seconds / 2);
	if (var <= 0 || base <= 0) {
		fprintf(stderr, "hsload: crypto_scalarmult failed\n");
		return 1;
	}
	printf("{\"variable_base_per_s\": %.0f, \"fixed_base_per_s\": %.0f}\n", var, base);
	return 0;
}

/* ---- key and pool files ---- */

static int keyset_read(struct keyset *ks, const char *path)
{
	char line[256], priv_b64[KEY_B64_LEN + 8];
	uint8_t priv[NOISE_PRIVATE_KEY_LEN];
	size_t cap = 0;
	FILE *f = fopen(path, "re");
	int ret = -1;

	memset(ks, 0, sizeof(*ks));
	if (!f) {
		fprintf(stderr, "hsload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%47s", priv_b64) != 1 || !key_from_base64(priv, priv_b64)) {
			fprintf(stderr, "hsload: %s: bad key line %u\n", path, ks->count + 1);
			goto out;
		}
		if (ks->count == cap) {
			cap = cap ? cap * 2 : 1024;
			ks->ids = realloc(ks->ids, cap * sizeof(*ks->ids));
			if (!ks->ids)
				goto out;
		}
		noise_static_identity_set(&ks->ids[ks->count], priv);
		if (!ks->ids[ks->count++].has_identity)
			goto out;
	}
	ret = ks->count ? 0 : -1;
	if (ret)
		fprintf(stderr, "hsload: %s: no keys\n", path);
out:
	wipe(priv, sizeof(priv));
	wipe(priv_b64, sizeof(priv_b64));
	wipe(line, sizeof(line));
	fclose(f);
	return ret;
}

static void keyset_clear(struct keyset *ks)
{
	if (ks->ids)
		wipe(ks->ids, ks->count * sizeof(*ks->ids));
	free(ks->ids);
	memset(ks, 0, sizeof(*ks));
}

static void pool_clear(struct pool *p)
{
	if (p->verify)
		wipe(p->verify, p->hdr.nverify * sizeof(*p->verify));
	free(p->verify);
	free(p->msgs);
	memset(p, 0, sizeof(*p));
}

static int pool_write(const struct pool *p, const char *path)
{
	FILE *f = fopen(path, "we");
	bool ok;

	if (!f) {
		fprintf(stderr, "hsload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(&p->hdr, sizeof(p->hdr), 1, f) == 1 &&
	     fwrite(p->msgs, sizeof(*p->msgs), p->hdr.count, f) == p->hdr.count &&
	     fwrite(p->verify, sizeof(*p->verify), p->hdr.nverify, f) == p->hdr.nverify;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "hsload: %s: write failed\n", path);
	return ok ? 0 : -1;
}

static int pool_read(struct pool *p, const char *path)
{
	FILE *f = fopen(path, "re");
	bool ok;

	memset(p, 0, sizeof(*p));
	if (!f) {
		fprintf(stderr, "hsload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fread(&p->hdr, sizeof(p->hdr), 1, f) == 1 &&
	     !memcmp(p->hdr.magic, pool_magic, POOL_MAGIC_LEN) && p->hdr.count && p->hdr.nkeys &&
	     p->hdr.nverify <= p->hdr.count;
	if (ok) {
		p->msgs = xcalloc(p->hdr.count, sizeof(*p->msgs));
		p->verify = xcalloc(p->hdr.nverify, sizeof(*p->verify));
		ok = fread(p->msgs, sizeof(*p->msgs), p->hdr.count, f) == p->hdr.count &&
		     fread(p->verify, sizeof(*p->verify), p->hdr.nverify, f) == p->hdr.nverify;
	}
	fclose(f);
	if (!ok) {
		fprintf(stderr, "hsload: %s: not a complete pool file\n", path);
		pool_clear(p);
	}
	return ok ? 0 : -1;
}

/* ---- pool ---- */

struct pool_job {
	struct pool *pool;
	const struct keyset *keys;
	const struct noise_handshake *templates; /* one per key, static-static precomputed */
	uint64_t t0_ns;
	uint32_t begin, end;
	bool failed;
};

static void *pool_job_run(void *arg)
{
	struct pool_job *job = arg;
	struct pool *p = job->pool;
	struct noise_handshake hs;

	for (uint32_t i = job->begin; i < job->end && !job->failed; i++) {
		uint32_t k = i % p->hdr.nkeys;
		uint64_t stamp = job->t0_ns + (uint64_t)(i / p->hdr.nkeys) * TIMESTAMP_STEP_NS;

		hs = job->templates[k];
		/* sender_index i + 1: a response's receiver_index names its entry. */
		if (!noise_handshake_create_initiation(&p->msgs[i], &hs, &job->keys->ids[k], i + 1,
						       stamp))
			job->failed = true;
		if (i < p->hdr.nverify)
			p->verify[i] = hs;
	}
	wipe(&hs, sizeof(hs));
	return NULL;
}

static int pool_build(struct pool *p, const struct keyset *ks, uint32_t nthreads)
{
	struct noise_handshake *templates = xcalloc(ks->count, sizeof(*templates));
	struct pool_job jobs[MAX_THREADS] = { 0 };
	uint64_t t0_ns = clock_realtime_ns();
	pthread_t tids[MAX_THREADS];
	uint32_t started = 0;
	int ret = 0;

	for (uint32_t k = 0; k < ks->count; k++)
		noise_handshake_init(&templates[k], &ks->ids[k], p->hdr.responder, NULL);
	for (uint32_t t = 0; t < nthreads; t++) {
		jobs[t] = (struct pool_job){
			.pool = p,
			.keys = ks,
			.templates = templates,
			.t0_ns = t0_ns, /* one timeline for every thread */
			.begin = (uint32_t)((uint64_t)p->hdr.count * t / nthreads),
			.end = (uint32_t)((uint64_t)p->hdr.count * (t + 1) / nthreads),
		};
		if (pthread_create(&tids[t], NULL, pool_job_run, &jobs[t]) != 0) {
			ret = -1;
			break;
		}
		started++;
	}
	for (uint32_t t = 0; t < started; t++) {
		pthread_join(tids[t], NULL);
		if (jobs[t].failed)
			ret = -1;
	}
	wipe(templates, ks->count * sizeof(*templates));
	free(templates);
	if (ret)
		fprintf(stderr, "hsload: could not build the initiations\n");
	return ret;
}

static int cmd_pool(int argc, char *argv[])
{
	const char *keys_path = NULL, *out_path = NULL;
	struct pool p = { .hdr.nverify = 64 };
	uint32_t nthreads = 1;
	const struct opt opts[] = {
		{ "keys", OPT_STRING, &keys_path, 0, 0, true },
		{ "responder", OPT_KEY, p.hdr.responder, 0, 0, true },
		{ "count", OPT_U32, &p.hdr.count, 1, 1U << 24, true },
		{ "verify", OPT_U32, &p.hdr.nverify, 0, 1U << 16, false },
		{ "threads", OPT_U32, &nthreads, 1, MAX_THREADS, false },
		{ "out", OPT_STRING, &out_path, 0, 0, true },
	};
	struct keyset ks;
	int ret = 1;

	if (!opts_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv)) {
		fprintf(stderr, "usage: hsload pool --keys FILE --responder PUB --count N "
				"[--verify N] [--threads N] --out FILE\n");
		return 2;
	}
	memcpy(p.hdr.magic, pool_magic, POOL_MAGIC_LEN);
	if (keyset_read(&ks, keys_path) < 0)
		return 1;
	p.hdr.nkeys = ks.count;
	if (p.hdr.nverify > p.hdr.count)
		p.hdr.nverify = p.hdr.count;
	p.msgs = xcalloc(p.hdr.count, sizeof(*p.msgs));
	p.verify = xcalloc(p.hdr.nverify, sizeof(*p.verify));
	if (pool_build(&p, &ks, nthreads) == 0 && pool_write(&p, out_path) == 0)
		ret = 0;
	pool_clear(&p);
	keyset_clear(&ks);
	return ret;
}

/* ---- run ---- */

enum slot_state {
	SLOT_UNSENT,
	SLOT_PENDING,
	SLOT_DONE,
};

struct slot {
	uint64_t sent_ns;
	uint8_t mac1[COOKIE_MAC_LEN]; /* the AD of a cookie reply to this initiation */
	uint16_t source;
	uint8_t state;
};

/* One source address: its own cookie, and the responder's 20/s budget. */
struct source {
	struct cookie_maker maker;
	struct in_addr addr;
	uint64_t last_send_ns;
};

struct run_opts {
	const char *keys_path;
	const char *pool_path;
	struct sockaddr_in to; /* the responder */
	uint32_t to_port;
	struct in_addr src_net;
	uint32_t nsources;
	uint32_t window;
	uint32_t timeout_ms;
	uint32_t port;
	double warmup_s;
	double duration_s;
};

struct run_stats {
	uint64_t sent, responses, window_responses, cookie_replies, timeouts, stale, bad;
	uint64_t verified, verify_failed, send_errors;
};

struct run {
	struct run_opts o;
	struct keyset keys;
	struct pool pool;
	struct cookie_checker *checkers; /* per key: checks mac1 of the responses to it */
	struct source *sources;
	struct slot *slots;
	int fd;
	uint32_t next;	 /* next pool entry to send */
	uint32_t oldest; /* every entry before it is done */
	uint32_t in_flight;
	uint32_t cursor; /* next source, round-robin: the least recently used */
	uint64_t window_start_ns, window_end_ns;
	bool is_exhausted;
	struct run_stats st;
};

static int run_socket_open(const struct run_opts *o)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int size = 4 << 20;

	if (fd < 0)
		goto err;
	/* Replies arrive in bursts while we sleep; FORCE needs root, plain is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
err:
	fprintf(stderr, "hsload: UDP socket on port %u: %s\n", o->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int run_init(struct run *r)
{
	uint32_t base = ntohl(r->o.src_net.s_addr);

	if (keyset_read(&r->keys, r->o.keys_path) < 0 || pool_read(&r->pool, r->o.pool_path) < 0)
		return -1;
	if (r->pool.hdr.nkeys != r->keys.count) {
		fprintf(stderr, "hsload: the pool was built from %u keys, not %u\n",
			r->pool.hdr.nkeys, r->keys.count);
		return -1;
	}
	r->checkers = xcalloc(r->keys.count, sizeof(*r->checkers));
	for (uint32_t k = 0; k < r->keys.count; k++)
		cookie_checker_init(&r->checkers[k], r->keys.ids[k].static_public);
	r->sources = xcalloc(r->o.nsources, sizeof(*r->sources));
	for (uint32_t i = 0; i < r->o.nsources; i++) {
		cookie_maker_init(&r->sources[i].maker, r->pool.hdr.responder);
		r->sources[i].addr.s_addr = htonl(base + 1 + i);
	}
	r->slots = xcalloc(r->pool.hdr.count, sizeof(*r->slots));
	r->fd = run_socket_open(&r->o);
	return r->fd < 0 ? -1 : 0;
}

static void run_clear(struct run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->sources)
		wipe(r->sources, r->o.nsources * sizeof(*r->sources));
	free(r->sources);
	free(r->checkers);
	free(r->slots);
	pool_clear(&r->pool);
	keyset_clear(&r->keys);
}

/* sendmsg with IP_PKTINFO: one socket speaks for every source address. */
static ssize_t send_from(int fd, void *buf, size_t len, struct in_addr from, struct sockaddr_in *to)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = to,
		.msg_namelen = sizeof(*to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo info = { .ipi_spec_dst = from };

	memset(&control, 0, sizeof(control));
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cm), &info, sizeof(info));
	return sendmsg(fd, &mh, 0);
}

static bool send_next(struct run *r, uint64_t now)
{
	struct source *src = &r->sources[r->cursor];
	struct message_handshake_initiation msg;
	struct slot *slot;

	if (r->next >= r->pool.hdr.count || r->in_flight >= r->o.window ||
	    now - src->last_send_ns < SOURCE_INTERVAL_NS)
		return false;
	msg = r->pool.msgs[r->next];
	cookie_add_mac_to_packet((uint8_t *)&msg, sizeof(msg), &src->maker, now);
	if (send_from(r->fd, &msg, sizeof(msg), src->addr, &r->o.to) < 0) {
		r->st.send_errors++;
		return false;
	}
	slot = &r->slots[r->next++];
	slot->sent_ns = now;
	memcpy(slot->mac1, msg.macs.mac1, sizeof(slot->mac1));
	slot->source = (uint16_t)r->cursor;
	slot->state = SLOT_PENDING;
	src->last_send_ns = now;
	r->cursor = (r->cursor + 1) % r->o.nsources;
	r->in_flight++;
	r->st.sent++;
	return true;
}

static void slot_finish(struct run *r, struct slot *slot)
{
	slot->state = SLOT_DONE;
	r->in_flight--;
}

static void handle_response(struct run *r, uint32_t i, const uint8_t *buf, size_t len, uint64_t now)
{
	const struct message_handshake_response *m = (const void *)buf;
	uint32_t k = i % r->keys.count;

	if (cookie_validate_packet(&r->checkers[k], buf, len, NULL, 0, false, now) !=
	    VALID_MAC_BUT_NO_COOKIE) {
		r->st.bad++;
		return;
	}
	slot_finish(r, &r->slots[i]);
	r->st.responses++;
	if (now >= r->window_start_ns && now < r->window_end_ns)
		r->st.window_responses++;
	if (i >= r->pool.hdr.nverify)
		return;
	if (noise_handshake_consume_response(&r->pool.verify[i], m, &r->keys.ids[k]))
		r->st.verified++;
	else
		r->st.verify_failed++;
}

static void handle_cookie(struct run *r, uint32_t i, const uint8_t *buf, uint64_t now)
{
	struct slot *slot = &r->slots[i];
	struct cookie_maker *maker = &r->sources[slot->source].maker;

	/* The maker remembers only its last mac1; the reply is bound to this one's. */
	memcpy(maker->last_mac1_sent, slot->mac1, sizeof(slot->mac1));
	maker->have_sent_mac1 = true;
	if (!cookie_message_consume(maker, (const void *)buf, now)) {
		r->st.bad++;
		return;
	}
	slot_finish(r, slot);
	r->st.cookie_replies++;
}

static void handle_reply(struct run *r, const uint8_t *buf, size_t len, uint64_t now)
{
	uint32_t type, index, i;

	if (len < sizeof(type) + 2 * sizeof(index)) {
		r->st.bad++;
		return;
	}
	memcpy(&type, buf, sizeof(type));
	type = le32toh(type);
	if (type == MESSAGE_HANDSHAKE_RESPONSE && len == sizeof(struct message_handshake_response))
		memcpy(&index, buf + offsetof(struct message_handshake_response, receiver_index),
		       sizeof(index));
	else if (type == MESSAGE_HANDSHAKE_COOKIE && len == sizeof(struct message_handshake_cookie))
		memcpy(&index, buf + offsetof(struct message_handshake_cookie, receiver_index),
		       sizeof(index));
	else {
		r->st.bad++;
		return;
	}
	i = le32toh(index) - 1;
	if (i >= r->next || r->slots[i].state != SLOT_PENDING)
		r->st.stale++; /* a reply after its timeout, or a duplicate */
	else if (type == MESSAGE_HANDSHAKE_RESPONSE)
		handle_response(r, i, buf, len, now);
	else
		handle_cookie(r, i, buf, now);
}

static void receive_all(struct run *r)
{
	uint8_t buf[256];
	ssize_t n;

	while ((n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
		handle_reply(r, buf, (size_t)n, clock_boottime_ns());
}

/* Entries go out in order, so the pending ones past their deadline are a prefix. */
static void expire(struct run *r, uint64_t now)
{
	uint64_t timeout_ns = (uint64_t)r->o.timeout_ms * NSEC_PER_MSEC;

	for (; r->oldest < r->next; r->oldest++) {
		struct slot *slot = &r->slots[r->oldest];

		if (slot->state == SLOT_PENDING) {
			if (now - slot->sent_ns < timeout_ns)
				break;
			slot_finish(r, slot);
			r->st.timeouts++;
		}
	}
}

/* Sleeps until a reply arrives, or at most until the next source may send again. */
static void wait_event(struct run *r, uint64_t now)
{
	uint64_t wait_ns = NSEC_PER_MSEC;
	uint64_t since = now - r->sources[r->cursor].last_send_ns;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	struct timespec ts;

	if (r->in_flight < r->o.window && since < SOURCE_INTERVAL_NS &&
	    SOURCE_INTERVAL_NS - since < wait_ns)
		wait_ns = SOURCE_INTERVAL_NS - since;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)wait_ns;
	ppoll(&pfd, 1, &ts, NULL);
}

static void run_loop(struct run *r)
{
	uint64_t start = clock_boottime_ns(), now;

	r->window_start_ns = start + (uint64_t)(r->o.warmup_s * NSEC_PER_SEC);
	r->window_end_ns = r->window_start_ns + (uint64_t)(r->o.duration_s * NSEC_PER_SEC);
	while ((now = clock_boottime_ns()) < r->window_end_ns) {
		if (r->next >= r->pool.hdr.count) {
			/* Out of initiations: the window ends here. */
			r->is_exhausted = true;
			r->window_end_ns = now;
			break;
		}
		while (send_next(r, now))
			;
		receive_all(r);
		expire(r, clock_boottime_ns());
		wait_event(r, clock_boottime_ns());
	}
	/* Let the last replies land for the totals; the rate counts only the window. */
	while (r->in_flight &&
	       (now = clock_boottime_ns()) < r->window_end_ns + r->o.timeout_ms * NSEC_PER_MSEC) {
		receive_all(r);
		expire(r, now);
		wait_event(r, now);
	}
}

static void run_report(const struct run *r)
{
	const struct run_stats *st = &r->st;
	double window_s = r->window_end_ns > r->window_start_ns
				  ? (double)(r->window_end_ns - r->window_start_ns) / NSEC_PER_SEC
				  : 0;

	printf("{\"hs_per_s\": %.1f, \"window_s\": %.3f, \"window_responses\": %" PRIu64
	       ", \"responses\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"cookie_replies\": %" PRIu64
	       ", \"timeouts\": %" PRIu64 ", \"stale\": %" PRIu64 ", \"bad\": %" PRIu64
	       ", \"send_errors\": %" PRIu64 ", \"verified\": %" PRIu64
	       ", \"verify_failed\": %" PRIu64 ", \"pool_exhausted\": %s}\n",
	       window_s > 0 ? (double)st->window_responses / window_s : 0.0, window_s,
	       st->window_responses, st->responses, st->sent, st->cookie_replies, st->timeouts,
	       st->stale, st->bad, st->send_errors, st->verified, st->verify_failed,
	       r->is_exhausted ? "true" : "false");
}

static bool run_opts_parse(struct run_opts *o, int argc, char *argv[])
{
	const struct opt opts[] = {
		{ "keys", OPT_STRING, &o->keys_path, 0, 0, true },
		{ "pool", OPT_STRING, &o->pool_path, 0, 0, true },
		{ "to", OPT_IPV4, &o->to.sin_addr, 0, 0, true },
		{ "to-port", OPT_U32, &o->to_port, 1, 65535, true },
		{ "src-net", OPT_IPV4, &o->src_net, 0, 0, true },
		{ "sources", OPT_U32, &o->nsources, 1, MAX_SOURCES, false },
		{ "port", OPT_U32, &o->port, 1, 65535, false },
		{ "window", OPT_U32, &o->window, 1, 1U << 16, false },
		{ "timeout-ms", OPT_U32, &o->timeout_ms, 1, 60000, false },
		{ "warmup", OPT_SECONDS, &o->warmup_s, 0, 0, false },
		{ "duration", OPT_SECONDS, &o->duration_s, 0, 0, false },
	};

	if (opts_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv) && o->duration_s > 0) {
		o->to.sin_family = AF_INET;
		o->to.sin_port = htons((uint16_t)o->to_port);
		return true;
	}
	fprintf(stderr, "usage: hsload run --keys FILE --pool FILE --to IPv4 --to-port PORT\n"
			"       --src-net IPv4"
			" [--sources N] [--port N] [--window N] [--timeout-ms N]\n"
			"       [--warmup SECONDS] [--duration SECONDS]\n");
	return false;
}

static int cmd_run(int argc, char *argv[])
{
	struct run r = {
		.o = { .nsources = 1024,
		       .window = 128,
		       .timeout_ms = 250,
		       .port = 40000,
		       .warmup_s = 0.5,
		       .duration_s = 10 },
		.fd = -1,
	};
	int ret = 1;

	if (!run_opts_parse(&r.o, argc, argv))
		return 2;
	if (run_init(&r) == 0) {
		run_loop(&r);
		if (r.is_exhausted && r.window_end_ns <= r.window_start_ns)
			fprintf(stderr, "hsload: the pool ran out during the warm-up\n");
		else
			ret = 0;
		run_report(&r);
	}
	run_clear(&r);
	return ret;
}

int main(int argc, char *argv[])
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char *argv[]);
	} cmds[] = {
		{ "keygen", cmd_keygen },
		{ "x25519", cmd_x25519 },
		{ "pool", cmd_pool },
		{ "run", cmd_run },
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "hsload: cannot initialise libsodium\n");
		return 1;
	}
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: hsload keygen COUNT | x25519 SECONDS | pool ... | run ...\n");
	return 2;
}
