/* SPDX-License-Identifier: MIT */
/*
 * The output of a hook run after the daemon is ready, when its stdout and stderr are no
 * longer the launcher's: read from a pipe and logged line by line, so it reaches syslog.
 */
#ifndef WGD_HOOK_OUTPUT_H
#define WGD_HOOK_OUTPUT_H

#include <sys/types.h>

/*
 * Logs each line read from fd (the read end of the hook's stdout and stderr) as
 * "KIND: line" until EOF or until the process pid exits, whichever is first: a command
 * the hook left in the background may keep the pipe open, and must not hold us.
 * Does not close fd or reap pid.
 */
void hook_output_log(int fd, pid_t pid, const char *kind);

#endif
