/* SPDX-License-Identifier: MIT */
/*
 * The worker's privilege drop (libcap-ng): from root to an unprivileged user that keeps
 * only CAP_NET_ADMIN, which `wg set IF fwmark N` needs for SO_MARK on the UDP sockets
 * (PROTOCOL §2: boringtun broke fwmark by dropping it). Everything else the daemon needs
 * as root (the TUN, the UAPI socket file, addresses and routes) the supervisor does
 * before or instead of the worker.
 */
#ifndef WGD_PRIVS_H
#define WGD_PRIVS_H

#include <sys/types.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/* The account the worker runs as unless the config file or --user names another. */
#define PRIVS_DEFAULT_USER "nobody"

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
 * Irreversibly becomes uid/gid with no supplementary groups and only CAP_NET_ADMIN
 * effective and permitted (none inheritable or ambient), then sets PR_SET_NO_NEW_PRIVS
 * and clears PR_SET_DUMPABLE. The bounding set is emptied when CAP_SETPCAP allows it
 * (under a systemd CapabilityBoundingSet without it, the unit's set already bounds us).
 * Must run before any thread starts. Returns 0, or -errno with *what naming the step
 * that failed (a static string); the caller must then exit, since the process may hold
 * a partial set of credentials.
 */
int __must_check privs_drop(uid_t uid, gid_t gid, const char **what);

/*
 * The same, keeping no capability at all: for the resolver (wgd/resolver.h), which needs
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
