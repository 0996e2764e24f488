/* SPDX-License-Identifier: MIT */
/*
 * The worker's seccomp allowlist (libseccomp), for its steady state: entered once the
 * device, the link watch and the UAPI server are set up and syslog is connected, just
 * before the worker reports ready, so that every packet and every UAPI request (the
 * supervisor's configuration included) is handled under it. Any system call outside the
 * list kills the worker (docs/SECURITY.md says why not EPERM).
 */
#ifndef WGD_SANDBOX_H
#define WGD_SANDBOX_H

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Installs the filter on every thread of the calling process (SECCOMP_FILTER_FLAG_TSYNC:
 * the crypt threads exist already), which must have PR_SET_NO_NEW_PRIVS set (privs_drop
 * does). Irreversible. Returns 0, or -errno with
 * *what naming the step that failed (a static string); the caller must then exit
 * rather than serve unconfined.
 */
int __must_check sandbox_enter_worker(const char **what);

#endif
