/* SPDX-License-Identifier: MIT */
/* log_syslog.h's implementation: the only file that includes <syslog.h>. */
#include <syslog.h>

#include "wgd/log_syslog.h"

void log_syslog_open(void)
{
	/*
	 * LOG_NDELAY: connect before the worker's sandbox could get in the way; glibc
	 * reconnects by itself if the syslog daemon restarts.
	 */
	openlog("wgd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_syslog_write(int severity, const char *msg)
{
	static const int priorities[] = { LOG_ERR, LOG_INFO, LOG_DEBUG };

	if (severity < 0 || severity > 2)
		severity = 2;
	syslog(priorities[severity], "%s", msg);
}
