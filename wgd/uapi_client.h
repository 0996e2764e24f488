/* SPDX-License-Identifier: MIT */
/*
 * The client side of the UAPI socket (PROTOCOL.md §2), as wg(8) speaks it: find
 * RUNSTATEDIR/wireguard/<ifname>.sock, send "get=1" and parse the reply strictly into a
 * struct cfg_device plus the per-peer counters, or serialise a struct cfg_device as one
 * "set=1" message and return the daemon's errno. It talks to any daemon with that
 * contract (wgd, wireguard-go). It prints nothing; callers report the -errno.
 *
 * The text halves (uapi_client_get_parse, uapi_client_set_format) and the fd halves are
 * exported too, so tests can drive them over a socketpair without a daemon.
 */
#ifndef WGD_UAPI_CLIENT_H
#define WGD_UAPI_CLIENT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wgd/cfg.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

enum uapi_client_limits {
	/*
	 * wgctl's cap on a get reply (wg's 130 560-route test needs ~4 MB, a 100 000-peer
	 * daemon ~40 MB): the reply buffer never grows past it.
	 */
	UAPI_CLIENT_MAX_REPLY = 256 << 20,
	/*
	 * The supervisor's bounds on its own worker, which parses the network and so is not
	 * trusted: every exchange (connect to last byte) ends within this time, plus a second
	 * per UAPI_CLIENT_WORKER_ITEMS_PER_S configured peers and allowed IPs, so a big
	 * config file still applies on a slow machine...
	 */
	UAPI_CLIENT_WORKER_TIMEOUT_MS = 5000,
	UAPI_CLIENT_WORKER_ITEMS_PER_S = 10000,
	/*
	 * ... and a get reply may hold twice what the configured peers can produce (each at
	 * most UAPI_CLIENT_PEER_REPLY_MAX bytes plus UAPI_CLIENT_AIP_REPLY_MAX per allowed
	 * IP: every counter at its widest, a scoped IPv6 endpoint), plus this much for the
	 * peers `wg set' adds at runtime (some 20 000 typical ones), and never more than
	 * wgctl's UAPI_CLIENT_MAX_REPLY.
	 */
	UAPI_CLIENT_WORKER_SLACK = 8 << 20,
	UAPI_CLIENT_PEER_REPLY_MAX = 512,
	UAPI_CLIENT_AIP_REPLY_MAX = 56, /* "allowed_ip=" + a full IPv6 address + "/128\n" */
};

/*
 * How long and how large one exchange may be. wgctl, like wg(8), waits for the daemon as
 * long as it takes (an administrator can interrupt it) and takes replies up to
 * UAPI_CLIENT_MAX_REPLY: that is a NULL bounds. A timeout fails the exchange with
 * -ETIMEDOUT, a longer reply with -EMSGSIZE.
 */
struct uapi_client_bounds {
	unsigned int timeout_ms; /* connect to the reply's last byte; 0 = no deadline */
	size_t max_reply;	 /* bytes; 0 = UAPI_CLIENT_MAX_REPLY */
};

/* What a get reports besides the configuration; zero when the daemon omits it. */
struct uapi_peer_state {
	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_sec, last_handshake_nsec; /* Unix time; 0 = never */
	uint64_t endpoint_switches; /* wgd_endpoint_switches= (endpoints.h); 0 without */
};

/*
 * One get=1 reply. In cfg, CFG_DEV_HAS_PRIVATE_KEY, _HAS_LISTEN_PORT and _HAS_FWMARK say
 * which device lines were present; a peer has CFG_PEER_HAS_PRESHARED_KEY only for a
 * non-zero key (as wg(8) decides), _HAS_ENDPOINT and _HAS_PERSISTENT_KEEPALIVE when those
 * lines were present. peer_state[i] belongs to cfg.peers[i]. Holds keys: clear it.
 */
struct uapi_state {
	struct cfg_device cfg;
	struct uapi_peer_state *peer_state; /* owned, parallel to cfg.peers */
};

/* A list of interface names, in the socket directory's readdir order (as wg lists them). */
struct uapi_iflist {
	char (*names)[IFNAMSIZ]; /* owned */
	size_t len;
};

/*
 * Connects to RUNSTATEDIR/wireguard/<ifname>.sock. Returns the fd (close-on-exec), or
 * -EINVAL (bad name), -ENODEV (no such socket, not a socket, or a stale one, which is
 * unlinked as wg does), or another -errno.
 */
int __must_check uapi_client_connect(const char *ifname);

/* get=1 on a fresh connection; out must be zeroed and is filled only on success. */
int __must_check uapi_client_get(const char *ifname, struct uapi_state *out);

/* set=1 on a fresh connection. Returns 0 or the daemon's errno, always negative. */
int __must_check uapi_client_set(const char *ifname, const struct cfg_device *cfg);

/* The same within bounds b (NULL: none, as above). */
int __must_check uapi_client_get_bounded(const char *ifname, struct uapi_state *out,
					 const struct uapi_client_bounds *b);
int __must_check uapi_client_set_bounded(const char *ifname, const struct cfg_device *cfg,
					 const struct uapi_client_bounds *b);

/*
 * The supervisor's bounds for a worker configured with cfg (NULL: no config file), from
 * the figures above.
 */
struct uapi_client_bounds uapi_client_worker_bounds(const struct cfg_device *cfg);

/* A log text for a bounded exchange's error: the deadline and the cap in words. */
const char *uapi_client_worker_strerror(int err, const struct uapi_client_bounds *b, char *buf,
					size_t len);

/* The pid of the process that serves ifname's socket (SO_PEERCRED). 0 or -errno. */
int __must_check uapi_client_peer_pid(const char *ifname, pid_t *pid);

/* Lists the interfaces whose socket accepts a connection. 0 or -errno. */
int __must_check uapi_client_list(struct uapi_iflist *out);
void uapi_iflist_clear(struct uapi_iflist *l);

/* Wipes and frees; leaves s zeroed. */
void uapi_state_clear(struct uapi_state *s);

/* --- the halves, for tests and for other transports --------------------------------- */

/* Sends all of p on the stream fd (no SIGPIPE), through EINTR. 0 or -errno. */
int __must_check uapi_client_write_all(int fd, const char *p, size_t len);

/* Sends get=1 on fd and reads and parses the reply, within b (may be NULL). */
int __must_check uapi_client_get_fd(int fd, struct uapi_state *out,
				    const struct uapi_client_bounds *b);
/* Sends cfg as set=1 on fd and reads the errno reply, within b (may be NULL). */
int __must_check uapi_client_set_fd(int fd, const struct cfg_device *cfg,
				    const struct uapi_client_bounds *b);

/*
 * Parses a complete get reply ("key=value\n"... "errno=N\n\n"; len bytes, no NUL needed).
 * Device keys must precede the first public_key; numbers are decimal within their range,
 * keys 64 hex digits, endpoints numeric "a.b.c.d:port" or "[v6]:port", allowed IPs
 * "ip/cidr"; unknown keys are ignored as wg ignores them. Returns 0 (out filled, which
 * must have been zeroed), -N for a reply "errno=N" with N != 0, -EPROTO for any malformed
 * or repeated line, a missing errno line, or text after the terminating blank line,
 * -ENOMEM. On failure out is left cleared.
 */
int __must_check uapi_client_get_parse(struct uapi_state *out, const char *text, size_t len);

/*
 * Writes cfg as a complete set message, "set=1\n" ... "\n", in wg(8)'s order: the device
 * keys, replace_peers, then per peer public_key, remove (and nothing more), update_only,
 * preshared_key, endpoint, persistent_keepalive_interval, replace_allowed_ips, allowed_ip
 * ("-ip/cidr" for a removal). Returns a malloc'd NUL-terminated string in *out (the
 * caller wipes and frees it: uapi_client_text_free) and its length, or -ENOMEM / -EINVAL
 * (an endpoint or allowed IP of unknown family).
 */
int __must_check uapi_client_set_format(char **out, size_t *len, const struct cfg_device *cfg);
void uapi_client_text_free(char *text, size_t len);

#endif
