/* SPDX-License-Identifier: MIT */
/*
 * The syslog(3) side of log.c, in a file of its own because <syslog.h> #defines names
 * (LOG_INFO, LOG_ERR) that log.h uses for its own levels.
 */
#ifndef WGD_LOG_SYSLOG_H
#define WGD_LOG_SYSLOG_H

/* openlog("wgd", LOG_PID | LOG_NDELAY, LOG_DAEMON): connects to /dev/log now, if it can. */
void log_syslog_open(void);

/* One message at a priority chosen by severity: 0 error, 1 info, 2 verbose (debug). */
void log_syslog_write(int severity, const char *msg);

#endif
