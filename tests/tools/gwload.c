/* SPDX-License-Identifier: MIT */
/*
 * gwload: a one-sided gateway benchmark for bench/bench.sh. It measures ONE daemon (wgd or
 * wireguard-go): gwload lives in its own namespace as that daemon's only peer, does a real
 * handshake with it (it holds the peer's private key, the daemon its public key), and then
 *
 *   decrypt  sends data packets it sealed BEFORE the timed window (increasing counters,
 *            sendmmsg, 64 per call) to the daemon's UDP port and counts what the daemon
 *            writes to its TUN: the TUN's rx counters in the daemon's namespace, where the
 *            inner destination is a blackhole route (nothing answers, nothing is sent back);
 *   decrypt-gso  the same, sent as UDP GSO batches (UDP_SEGMENT, up to 64 datagrams per
 *            message, 8 messages per sendmmsg): a cheaper generator, and the batches a
 *            NIC's GRO would hand a socket that asked for UDP_GRO;
 *   encrypt  writes plain packets into the daemon's TUN from the kernel's side (an AF_PACKET
 *            socket on the TUN, in the daemon's namespace: the way the stack hands a packet
 *            routed into the tunnel to the daemon) and counts the sealed datagrams that
 *            arrive back at its own UDP socket, opening the first few to check them.
 *
 * Sizes are inner IPv4 packet lengths; "tso" is TCP: for decrypt, 1420-byte segments of one
 * flow in sequence (which a daemon may coalesce into GRO super-packets on its TUN), for
 * encrypt, 64 KiB TSO super-packets with a virtio_net_hdr, segmented by the daemon if its
 * TUN offers TSO and by the kernel before the TUN otherwise.
 *
 *   gwload --daemon-ns NS --tun IF --to ADDR --to-port PORT --key-file F --daemon-key PUB
 *          --inner-gen A --inner-daemon A --sink A [--sizes 64,512,1420,tso]
 *          [--directions decrypt,decrypt-gso,encrypt] [--duration S] [--pool-mb MB] [--mtu N]
 *
 * Prints one JSON document; exit 1 when a measurement got nothing through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/key.h"
#include "tests/tools/gw/gwload.h"
#include "tests/tools/gw/inner.h"
#include "tests/tools/gw/session.h"
#include "wgd/clock.h"

static bool parse_list(const char *s, const char *const *known, size_t n, bool *out)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < n && strcmp(tok, known[i]))
			i++;
		if (i == n) {
			fprintf(stderr, "gwload: unknown `%s' in `%s'\n", tok, s);
			return false;
		}
		out[i] = true;
	}
	return true;
}

static bool parse_addr(const char *name, const char *v, struct in_addr *out)
{
	if (inet_pton(AF_INET, v, out) == 1)
		return true;
	fprintf(stderr, "gwload: --%s: `%s' is not an IPv4 address\n", name, v);
	return false;
}

static bool parse_number(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end;

	*out = strtod(v, &end);
	if (end != v && !*end && *out >= lo && *out <= hi)
		return true;
	fprintf(stderr, "gwload: --%s: `%s' is not a number in [%g, %g]\n", name, v, lo, hi);
	return false;
}

/* The private key comes from a file (never argv): one base64 line, as wg genkey prints. */
static bool read_private_key(const char *path, struct gw_session *s)
{
	char line[128] = { 0 };
	uint8_t priv[NOISE_PRIVATE_KEY_LEN];
	FILE *f = fopen(path, "re");
	bool ok = false;

	if (!f) {
		fprintf(stderr, "gwload: %s: %s\n", path, strerror(errno));
		return false;
	}
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		ok = key_from_base64(priv, line);
	}
	fclose(f);
	if (ok)
		noise_static_identity_set(&s->id, priv);
	else
		fprintf(stderr, "gwload: %s:1: not a base64 private key\n", path);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(priv, sizeof(priv));
	return ok;
}

static const char *const size_names[GW_SIZES] = { "64", "512", "1420", "tso" };
static const char *const dir_names[GW_DIRS] = { "decrypt", "decrypt-gso", "encrypt" };

static const struct option longs[] = {
	{ "daemon-ns", 1, 0, 'n' }, { "tun", 1, 0, 't' },	   { "to", 1, 0, 'a' },
	{ "to-port", 1, 0, 'p' },   { "key-file", 1, 0, 'k' },	   { "daemon-key", 1, 0, 'K' },
	{ "inner-gen", 1, 0, 'g' }, { "inner-daemon", 1, 0, 'd' }, { "sink", 1, 0, 's' },
	{ "sizes", 1, 0, 'S' },	    { "directions", 1, 0, 'D' },   { "duration", 1, 0, 'T' },
	{ "pool-mb", 1, 0, 'P' },   { "mtu", 1, 0, 'm' },	   { 0, 0, 0, 0 },
};

/* The option's long name, for messages. */
static const char *opt_name(int c)
{
	for (size_t i = 0; longs[i].name; i++)
		if (longs[i].val == c)
			return longs[i].name;
	return "?";
}

static bool parse_args(int argc, char *argv[], struct gw_run *r)
{
	const char *key_file = NULL, *sizes = "64,512,1420,tso", *dirs = "decrypt,encrypt";
	double v;
	int c;
	bool ok = true;

	while (ok && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		const char *name = opt_name(c);

		switch (c) {
		case 'n':
			r->daemon_ns = optarg;
			break;
		case 't':
			r->tun = optarg;
			break;
		case 'a':
			ok = parse_addr(name, optarg, &r->to);
			break;
		case 'p':
			ok = parse_number(name, optarg, 1, 65535, &v);
			r->to_port = (uint16_t)v;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'K':
			ok = key_from_base64(r->s.daemon_public, optarg);
			if (!ok)
				fprintf(stderr, "gwload: --daemon-key: not a base64 key\n");
			break;
		case 'g':
			ok = parse_addr(name, optarg, &r->inner_gen);
			break;
		case 'd':
			ok = parse_addr(name, optarg, &r->inner_daemon);
			break;
		case 's':
			ok = parse_addr(name, optarg, &r->sink);
			break;
		case 'S':
			sizes = optarg;
			break;
		case 'D':
			dirs = optarg;
			break;
		case 'T':
			ok = parse_number(name, optarg, 0.05, 600, &r->duration);
			break;
		case 'P':
			ok = parse_number(name, optarg, 1, 8192, &v);
			r->pool_bytes = (size_t)v << 20;
			break;
		case 'm':
			ok = parse_number(name, optarg, 576, 9000, &v);
			r->mtu = (size_t)v;
			break;
		default:
			ok = false;
		}
	}
	if (!ok || optind != argc || !r->daemon_ns || !r->tun || !r->to_port || !key_file ||
	    !r->inner_gen.s_addr || !r->inner_daemon.s_addr || !r->sink.s_addr ||
	    key_is_zero(r->s.daemon_public)) {
		fprintf(stderr,
			"usage: gwload --daemon-ns NS --tun IF --to ADDR --to-port PORT "
			"--key-file F --daemon-key PUB --inner-gen A --inner-daemon A --sink A "
			"[--sizes 64,512,1420,tso] [--directions decrypt,decrypt-gso,encrypt] "
			"[--duration S] [--pool-mb MB] [--mtu N]\n");
		return false;
	}
	return parse_list(sizes, size_names, GW_SIZES, r->sizes) &&
	       parse_list(dirs, dir_names, GW_DIRS, r->dirs) && read_private_key(key_file, &r->s);
}

/* The socket the daemon knows us by: connected to its port, big buffers, UDP GRO. */
static int open_peer_socket(const struct gw_run *r)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(r->to_port),
				  .sin_addr = r->to };
	int buf = 64 << 20, on = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "gwload: UDP socket to the daemon: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	return fd;
}

/* Inside the daemon's namespace: its /proc/net/dev and AF_PACKET sockets on its TUN. */
static bool open_daemon_side(void *arg)
{
	struct gw_run *r = arg;

	r->devstats = gw_devstats_open();
	r->tun_ifindex = (int)if_nametoindex(r->tun);
	if (r->devstats < 0 || !r->tun_ifindex) {
		fprintf(stderr, "gwload: %s in namespace %s: %s\n", r->tun, r->daemon_ns,
			strerror(errno));
		return false;
	}
	r->packet_fd = gw_packet_socket(r->tun_ifindex, false);
	r->packet_vnet_fd = gw_packet_socket(r->tun_ifindex, true);
	return r->packet_fd >= 0 && r->packet_vnet_fd >= 0;
}

static void print_result(const struct gw_result *res, bool *first)
{
	double secs = res->seconds > 0 ? res->seconds : 1e-9;

	printf("%s\n    {\"direction\": \"%s\", \"size\": \"%s\", \"offered\": %llu, "
	       "\"packets\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"pps\": %.1f, "
	       "\"gbps\": %.4f, \"offered_pps\": %.1f, \"verified\": %u, \"failed\": %u}",
	       *first ? "" : ",", dir_names[res->dir], size_names[res->size],
	       (unsigned long long)res->offered, (unsigned long long)res->packets,
	       (unsigned long long)res->bytes, res->seconds, (double)res->packets / secs,
	       (double)res->bytes * 8 / secs / 1e9, (double)res->offered / secs, res->verified,
	       res->failed);
	*first = false;
}

int main(int argc, char *argv[])
{
	struct gw_run r = { .duration = 1,
			    .pool_bytes = 256U << 20,
			    .mtu = 1420,
			    .devstats = -1,
			    .packet_fd = -1,
			    .packet_vnet_fd = -1 };
	bool first = true, all_ok = true;
	uint64_t t0;

	if (sodium_init() < 0 || !parse_args(argc, argv, &r))
		return 2;
	if (!gw_in_netns(r.daemon_ns, open_daemon_side, &r) || (r.fd = open_peer_socket(&r)) < 0)
		return 1;
	t0 = clock_boottime_ns();
	if (!gw_session_handshake(&r.s, r.fd, 1000))
		return 1;
	/* An empty data message confirms the session: a responder only sends after it. */
	if (!gw_send_keepalive(&r))
		return 1;
	printf("{\"handshake_ms\": %.3f, \"results\": [",
	       (double)(clock_boottime_ns() - t0) / NSEC_PER_MSEC);
	for (int d = 0; d < GW_DIRS; d++) {
		for (int z = 0; z < GW_SIZES; z++) {
			struct gw_result res = { .dir = d, .size = z };

			if (!r.dirs[d] || !r.sizes[z])
				continue;
			if (!(d == GW_ENCRYPT ? gw_encrypt(&r, &res) : gw_decrypt(&r, &res)) ||
			    !res.packets)
				all_ok = false;
			print_result(&res, &first);
			fflush(stdout);
		}
	}
	printf("\n]}\n");
	gw_session_clear(&r.s);
	return all_ok ? 0 : 1;
}
