/* SPDX-License-Identifier: MIT */
/*
 * The worker's privilege drop (libcap-ng): from root to an unprivileged user that keeps
 * only the capabilities its configuration needs: CAP_NET_BIND_SERVICE always, so that
 * `wg set IF listen-port 1` or ListenPort = 443 works (it can only bind ports below
 * 1024, and the seccomp filter lets the worker open UDP sockets alone), and
 * CAP_NET_ADMIN only where an fwmark may be set (SO_MARK; PROTOCOL §2: boringtun broke
 * fwmark by dropping it), see worker_args.has_net_admin. Everything else the daemon needs
 * as root (the TUN, the UAPI socket file, addresses and routes) the supervisor does
 * before or instead of the worker.
 */
#ifndef WGD_PRIVS_H
#define WGD_PRIVS_H

#include <stdint.h>
#include <sys/types.h>

#include <linux/capability.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * The account the worker runs as unless the config file or --user names another: a
 * system user of its own (`make install` creates it), so that no other service shares
 * its uid and can signal or ptrace-inspect it; nobody where it does not exist.
 */
#define PRIVS_DEFAULT_USER  "wgd"
#define PRIVS_FALLBACK_USER "nobody"

/* A capability's bit in the masks below: PRIVS_CAP(CAP_NET_ADMIN). */
#define PRIVS_CAP(cap) (UINT64_C(1) << (cap))

/*
 * Resolves user, a login name or else a decimal uid that has a passwd entry, to its uid
 * and primary gid. Returns 0, -ENOENT (no such user), -EINVAL (empty) or -errno.
 */
int __must_check privs_user_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Resolves group, a group name or else any decimal gid (a group entry is not needed,
 * so a site may use a bare number), to its gid. 0, -ENOENT, -EINVAL (empty) or -errno.
 */
int __must_check privs_group_lookup(const char *group, gid_t *gid);

/*
 * Irreversibly becomes uid/gid with no supplementary groups and exactly the capabilities
 * in caps (a PRIVS_CAP mask) effective and permitted (none inheritable or ambient),
 * then sets PR_SET_NO_NEW_PRIVS
 * and clears PR_SET_DUMPABLE. The bounding set is emptied when CAP_SETPCAP allows it
 * (under a systemd CapabilityBoundingSet without it, the unit's set already bounds us).
 * Must run before any thread starts. Returns 0, or -errno with *what naming the step
 * that failed (a static string); the caller must then exit, since the process may hold
 * a partial set of credentials.
 */
int __must_check privs_drop(uid_t uid, gid_t gid, uint64_t caps, const char **what);

/*
 * privs_drop keeping no capability at all: for the resolver (wgd/resolver.h), which needs
 * none to look a name up.
 */
int __must_check privs_drop_all(uid_t uid, gid_t gid, const char **what);

/* RLIMIT_MEMLOCK the launcher asks for, so the worker can lock 10 000s of peers' keys
 * (4 KiB each); 8 MiB, a common default, holds about 2 000. */
#define PRIVS_MEMLOCK_BYTES (1024UL * 1024 * 1024)

/*
 * First thing in every wgd process, before a key is read: no core dumps (RLIMIT_CORE 0)
 * and not dumpable (PR_SET_DUMPABLE 0: no ptrace attach or /proc/PID/mem by the same
 * user, no core), so a crash or a local user cannot copy keys out. Also raises
 * RLIMIT_MEMLOCK towards PRIVS_MEMLOCK_BYTES as far as the process may (the soft limit
 * to the hard one at least): the worker inherits it and locks key memory
 * (wgd/secmem.h) without CAP_IPC_LOCK.
 * Returns 0, or -errno with *what naming the step that failed.
 */
int __must_check privs_harden_process(const char **what);

#endif
