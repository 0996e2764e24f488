/* SPDX-License-Identifier: MIT */
/*
 * Several endpoints per peer (wgd.conf's `Endpoint = A, B`): the worker holds the list
 * and, when a handshake initiation to the current endpoint gets no answer within
 * REKEY_TIMEOUT (the retransmit timer, timers.c), moves to the next one, round robin,
 * and stays on whichever answers. An authenticated packet from another address still
 * moves the endpoint there (roaming, whitepaper §2.1); the list only decides where a
 * handshake goes when the current address is silent.
 *
 * The list travels in a wgd-private UAPI key, on set and get alike:
 *   wgd_endpoints=[NAME@]ADDR:PORT,...   NAME "host:port" as the file wrote it; an entry
 *                                         "NAME@" alone is a name not resolved yet
 *   wgd_endpoint_switches=N               (get only) how often the list moved the peer
 * wg(8) skips keys it does not know in a get reply (wireguard-tools ipc-uapi.h), so
 * `wg show` and `wg showconf` keep seeing one endpoint= address. An empty value clears
 * the list. A peer whose list is empty emits neither key.
 */
#ifndef WGD_ENDPOINTS_H
#define WGD_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgd/cfg.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct peer;
struct uapi_buf;

#define ENDPOINTS_KEY	       "wgd_endpoints"
#define ENDPOINTS_SWITCHES_KEY "wgd_endpoint_switches"

enum endpoints_values {
	/* the longest wgd_endpoints value: every entry a full name and an IPv6 address */
	ENDPOINTS_TEXT_MAX = CFG_ENDPOINTS_MAX * (CFG_ENDPOINT_NAME_LEN + 72),
};

/* Embedded in struct peer; all zero = no list. */
struct peer_endpoints {
	struct cfg_endpoint *list; /* owned (malloc), len entries */
	uint8_t len;
	uint8_t cur;	   /* the entry the endpoint was last taken from */
	uint64_t switches; /* failovers since the peer was created */
};

/*
 * Parses a wgd_endpoints value (v[0..len), need not be NUL-terminated) into peer's list
 * (cfg_peer_set_endpoints). 0, -EINVAL (a bad entry, more than CFG_ENDPOINTS_MAX) or
 * -ENOMEM.
 */
int __must_check endpoints_parse(struct cfg_peer *peer, const char *v, size_t len);

/* Appends "wgd_endpoints=...\n" for list[0..n). 0, -EINVAL (a bad entry) or -ENOMEM. */
int __must_check endpoints_put(struct uapi_buf *b, const struct cfg_endpoint *list, size_t n);

/* True for a "host:port" that fits an entry: no ',', '@', '=', space or control byte. */
bool endpoints_name_ok(const char *name);

/*
 * Gives p the list (taken over; NULL with n 0 clears it). The endpoint stays where it is
 * when it is one of the list's, except that a peer that never completed a handshake
 * moves to an earlier entry that has resolved since (the list's order is a preference);
 * a peer without an endpoint takes the first resolved entry; a peer on the entry whose
 * name got a new address follows it. Cannot fail.
 */
void endpoints_peer_install(struct peer *p, struct cfg_endpoint *list, size_t n);

/*
 * The handshake to the current endpoint got no answer: moves p to the next resolved
 * entry after cur, round robin (counted and logged). False when there is none to move
 * to (no list, one entry, or the others unresolved).
 */
bool endpoints_peer_failover(struct peer *p);

/* Frees p's list. */
void endpoints_peer_free(struct peer *p);

#endif
