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
};

struct resolver {
	struct loop *loop; /* borrowed */
	char ifname[IFNAMSIZ];
	uid_t uid; /* the worker's account: the resolver runs as it */
	gid_t gid;
	struct conf *conf;	   /* borrowed; wiped in the child, which must hold no key */
	struct resolver_job *jobs; /* owned */
	size_t jobs_len;
	pid_t child;	   /* 0 when none runs */
	int home_netns_fd; /* -1, or the namespace the child resolves in (Namespace=) */
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

/* The text of a job's failure (error as in resolver_job_failed). */
const char *resolver_strerror(int error, int sys_errno);

#endif
