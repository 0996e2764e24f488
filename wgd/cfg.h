/* SPDX-License-Identifier: MIT */
/*
 * A requested configuration change as plain data: what one UAPI set=1 message or one
 * config file asks of a device. Parsers (uapi.c, the config reader) fill it and check
 * syntax; device_apply_cfg() validates it against the running device and commits it
 * whole or not at all. Nothing here touches a device. Holds keys: cfg_device_clear() wipes.
 */
#ifndef WGD_CFG_H
#define WGD_CFG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/messages.h"

enum cfg_device_flags {
	CFG_DEV_REPLACE_PEERS = 1U << 0,
	CFG_DEV_HAS_PRIVATE_KEY = 1U << 1, /* an all-zero key removes it */
	CFG_DEV_HAS_LISTEN_PORT = 1U << 2,
	CFG_DEV_HAS_FWMARK = 1U << 3,
};

enum cfg_peer_flags {
	CFG_PEER_REMOVE_ME = 1U << 0,
	CFG_PEER_REPLACE_ALLOWEDIPS = 1U << 1,
	CFG_PEER_UPDATE_ONLY = 1U << 2,
	CFG_PEER_HAS_PRESHARED_KEY = 1U << 3, /* an all-zero key removes it */
	CFG_PEER_HAS_PERSISTENT_KEEPALIVE = 1U << 4,
	CFG_PEER_HAS_ENDPOINT = 1U << 5,
	CFG_PEER_HAS_ENDPOINTS = 1U << 6, /* wgd_endpoints=: replaces the failover list */
};

union cfg_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct cfg_allowedip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
	uint8_t cidr;
	bool is_removal; /* UAPI "allowed_ip=-a.b.c.d/n" */
};

/*
 * wgd's own failover list (Endpoint = A, B in wgd.conf; the private UAPI key
 * wgd_endpoints=, endpoints.h). A name is kept only for display, "host:port" as written.
 */
enum cfg_endpoint_values {
	CFG_ENDPOINTS_MAX = 8,
	CFG_ENDPOINT_NAME_LEN = 262, /* a DNS name (253), ':', a port, NUL */
};

struct cfg_endpoint {
	union cfg_sockaddr addr;	  /* sa_family 0: a name not resolved yet */
	char name[CFG_ENDPOINT_NAME_LEN]; /* "host:port", or "" for an address */
};

struct cfg_peer {
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	union cfg_sockaddr endpoint;
	uint16_t persistent_keepalive_s;
	unsigned int flags;
	struct cfg_allowedip *allowedips; /* owned */
	size_t allowedips_len;
	size_t allowedips_cap;
	struct cfg_endpoint *endpoints; /* owned; with CFG_PEER_HAS_ENDPOINTS (may be empty) */
	size_t endpoints_len;
};

struct cfg_device {
	uint8_t private_key[NOISE_PRIVATE_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	unsigned int flags;
	struct cfg_peer *peers; /* owned */
	size_t peers_len;
	size_t peers_cap;
};

/* Returns the new zeroed peer (borrowed from cfg, valid until the next add), or NULL. */
struct cfg_peer *cfg_device_add_peer(struct cfg_device *cfg);
int cfg_peer_add_allowedip(struct cfg_peer *peer, const struct cfg_allowedip *aip);
/* Copies n <= CFG_ENDPOINTS_MAX entries as peer's list (replacing one). 0, -EINVAL, -ENOMEM. */
int cfg_peer_set_endpoints(struct cfg_peer *peer, const struct cfg_endpoint *list, size_t n);
/* The peer with this public key, or NULL; borrowed. */
struct cfg_peer *cfg_device_find_peer(struct cfg_device *cfg, const uint8_t *public_key);
/* 1 if two peers share a public key, 0 if none do, -ENOMEM. O(n log n). */
int cfg_device_has_duplicate_peers(const struct cfg_device *cfg);
/* Wipes keys and frees every array; leaves cfg zeroed and reusable. */
void cfg_device_clear(struct cfg_device *cfg);

#endif
