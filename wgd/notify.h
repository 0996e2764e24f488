/* SPDX-License-Identifier: MIT */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
 * newline-separated VAR=value assignments to the AF_UNIX datagram socket named by
 * $NOTIFY_SOCKET, either a path or, with a leading '@', an abstract name. When the
 * variable is unset nothing is sent, so the daemon behaves the same under any supervisor.
 * Only the supervisor process notifies: it is the unit's main process.
 */
#ifndef WGD_NOTIFY_H
#define WGD_NOTIFY_H

#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

/*
 * Sends state (e.g. "READY=1") to $NOTIFY_SOCKET. Returns 0 when sent or when the
 * variable is unset or empty, -EINVAL for an address that is neither a path nor '@name',
 * -ENAMETOOLONG when it does not fit a sockaddr_un, or -errno from socket/sendto.
 */
int __must_check notify_send(const char *state);

/* "READY=1" and "MAINPID=<our pid>": the service is up (again, after a reload). */
int __must_check notify_ready(void);

/*
 * "RELOADING=1" and "MONOTONIC_USEC=<now>", CLOCK_MONOTONIC in microseconds, which
 * systemd (Type=notify-reload) uses to tell this reload from an earlier one.
 */
int __must_check notify_reloading(void);

/* "STOPPING=1": the service is shutting down. */
int __must_check notify_stopping(void);

#endif
