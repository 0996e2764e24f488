/* SPDX-License-Identifier: MIT */
/*
 * Endpoint host names for the supervisor. The supervisor is root and reads no network
 * input, so it never calls getaddrinfo: it forks a short-lived resolver that drops to the
 * worker's user with no capability, looks every pending name up, writes one fixed-size
 * record per name to a pipe and exits. The supervisor checks every record field (they
 * come from a less privileged process that parsed DNS replies), applies a resolved
 * address with a UAPI set (update_only: a peer removed meanwhile stays removed), and
 * tries a name that did not resolve again after 1, 2, 4 ... 60 s, for ever. Nothing here
 * waits: startup and reloads go on without the endpoints, which follow when known.
 *
 * A name in a failover list (endpoints.h; wgd -c gives every named Endpoint one) is
 * applied as the whole list with its resolved addresses (wgd_endpoints=), so the worker
 * decides where the peer's endpoint goes. Once resolved, a name is looked up again when
 * its peer's handshake goes stale (resolver_list.c, every RESOLVER_STALE_CHECK_S): no
 * handshake for RESOLVER_STALE_S while the peer sends or keeps alive, the rule of
 * wireguard-tools' reresolve-dns.sh. A new address is logged and applied.
 */
#ifndef WGD_RESOLVER_H
#define WGD_RESOLVER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/messages.h"
#include "wgd/cfg.h"
#include "wgd/loop.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct conf;

enum resolver_values {
	RESOLVER_BACKOFF_FIRST_S = 1, /* the first retry; each failure doubles it */
	RESOLVER_BACKOFF_MAX_S = 60,  /* then every minute, for ever */
	RESOLVER_ERR_CHILD = 1,	      /* our reason (EAI_* codes are negative): no answer */
	RESOLVER_MAX_ERRNO = 4095,    /* the kernel's errno range */
	RESOLVER_STALE_S = 135,	      /* reresolve-dns.sh: REJECT_AFTER_TIME + REKEY_TIMEOUT */
	RESOLVER_STALE_CHECK_S = 10,  /* how often the peers' handshakes are looked at */
	RESOLVER_PEER_TAG_LEN = 8,    /* base64 characters of the key that name a peer in logs */
};

/* What the resolver writes per name: fixed size, far below PIPE_BUF, so writes are atomic. */
struct resolver_record {
	uint32_t job;	   /* index into the supervisor's job list */
	int32_t status;	   /* 0, or getaddrinfo's EAI_* code (EAI_NODATA: no v4 or v6) */
	int32_t sys_errno; /* with EAI_SYSTEM only, else 0 */
	uint16_t family;   /* AF_INET or AF_INET6 with status 0, else 0 */
	uint16_t port;	   /* host order, with status 0: the job's port */
	uint32_t scope_id; /* IPv6 only */
	uint8_t addr[16];  /* IPv4 in the first 4 bytes, the rest zero */
};
_Static_assert(sizeof(struct resolver_record) == 36, "resolver record size");

/* One endpoint host name of the config file. */
struct resolver_job {
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	char *host; /* owned */
	uint16_t port;
	bool is_asked;		    /* in the running resolver's batch */
	bool is_answered;	    /* and its record came */
	bool is_done;		    /* resolved and applied: not asked again until a reload */
	unsigned int failures;	    /* in a row */
	int last_error, last_errno; /* of the last failure, for "log once per change" */
	uint64_t retry_ns;	    /* CLOCK_BOOTTIME; when to ask again */
	bool is_listed;		    /* an entry of its peer's failover list ... */
	uint8_t entry;		    /* ... this one */
	uint64_t prev_tx_bytes;	    /* at the last stale check: did the peer send since? */
};

struct resolver {
	struct loop *loop; /* borrowed */
	char ifname[IFNAMSIZ];
	uid_t uid; /* the worker's account: the resolver runs as it */
	gid_t gid;
	struct conf *conf;	   /* borrowed; wiped in the child, which must hold no key */
	struct resolver_job *jobs; /* owned */
	size_t jobs_len;
	pid_t child;		 /* 0 when none runs */
	uint64_t stale_check_ns; /* CLOCK_BOOTTIME; UINT64_MAX without names */
	int home_netns_fd;	 /* -1, or the namespace the child resolves in (Namespace=) */
	struct loop_source pipe_src, timer_src; /* fd -1 when closed */
};

/* Ready to resolve for ifname's supervisor on loop (a timerfd). 0 or -errno. */
int __must_check resolver_init(struct resolver *r, struct loop *loop, const char *ifname, uid_t uid,
			       gid_t gid);

/*
 * Takes conf's endpoint host names (conf_peer_extra.is_endpoint_name) as the new job list,
 * stopping a resolver still busy with the old one, and starts resolving them at once.
 * Borrows conf until the next call or resolver_clear. 0 or -errno (the jobs are then
 * dropped; logged).
 */
int resolver_update(struct resolver *r, struct conf *conf, uint64_t now_ns);

/* Kills and reaps a running resolver, closes the fds, frees the jobs. Safe twice. */
void resolver_clear(struct resolver *r);

/* --- pure parts, exported for tests -------------------------------------------------- */

/*
 * 0 when rec is a well-formed answer to a job of the running batch (asked, not answered
 * yet) and every field is in range for its status; -EINVAL otherwise.
 */
int __must_check resolver_record_check(const struct resolver_record *rec,
				       const struct resolver_job *jobs, size_t n);

/* rec (checked) as a socket address. */
void resolver_record_sockaddr(const struct resolver_record *rec, union cfg_sockaddr *out);

/* The pause after the failures-th failure in a row (>= 1): 1, 2, 4 ... 60 s. */
uint64_t resolver_backoff_s(unsigned int failures);

/*
 * Records a failure of j at now_ns and schedules the retry. true when it is worth a log
 * line: the first failure, or a reason other than the last one.
 */
bool resolver_job_failed(struct resolver_job *j, int error, int sys_errno, uint64_t now_ns);

/* The earliest retry among jobs neither done nor asked; UINT64_MAX for none. */
uint64_t resolver_next_retry_ns(const struct resolver_job *jobs, size_t n);

/*
 * reresolve-dns.sh's rule at now_unix_ns (CLOCK_REALTIME): the peer sends (has_traffic)
 * or keeps alive, and its last handshake (Unix ns, 0 = never) is older than
 * RESOLVER_STALE_S.
 */
bool resolver_is_stale(uint64_t now_unix_ns, uint64_t last_handshake_unix_ns, bool has_traffic,
		       bool has_keepalive);

struct uapi_state;

/*
 * Marks every resolved job whose peer in st (a get reply) is stale for a lookup at now_ns
 * and notes each peer's tx_bytes for the next check. Returns how many were marked.
 */
size_t resolver_mark_stale(struct resolver_job *jobs, size_t n, const struct uapi_state *st,
			   uint64_t now_unix_ns, uint64_t now_ns);

/* Asks the worker for its peers (a bounded UAPI get) and marks the stale jobs; logged. */
void resolver_stale_check(struct resolver *r, uint64_t now_ns);

/* --- internal to resolver.c and resolver_list.c ------------------------------------- */

/* The first characters of key's base64, which name a peer in the logs. */
void resolver_peer_tag(char out[static RESOLVER_PEER_TAG_LEN + 1], const uint8_t *key);

/* conf's names as r's jobs (none yet): 0 or -ENOMEM. Arms the stale check. */
int resolver_jobs_from_conf(struct resolver *r, const struct conf *c, uint64_t now_ns);

/* A listed job's answer: into the config's list and, if new, the list into the worker. */
void resolver_apply_listed(struct resolver *r, struct resolver_job *j,
			   const struct resolver_record *rec);

/* The text of a job's failure (error as in resolver_job_failed). */
const char *resolver_strerror(int error, int sys_errno);

#endif
