/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging to stderr, one line per message: "<local time> <ifname>: <level>: <text>";
 * once a daemonised wgd is ready, to syslog instead ("<ifname>: <level>: <text>", facility
 * daemon, the level mapped to err, info or debug), since it then holds no launcher's fd.
 * Each line leaves in a single write(2), so lines from several processes sharing a journal
 * never interleave. Messages on the packet path are verbose-only and rate-limited, because
 * an attacker who can make us log can otherwise make us fill the disk. Never log keys.
 *
 * log_init, log_set_level and each struct log_ratelimit belong to the loop thread; the plain
 * print calls may be used from any thread.
 * Do not include <syslog.h> next to this header: it #defines LOG_INFO.
 */
#ifndef WGD_LOG_H
#define WGD_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_SILENT,
	LOG_ERROR,
	LOG_INFO,
	LOG_VERBOSE,
};

/* log_verbose_rl: at most LOG_RATELIMIT_BURST lines per call site per window. */
enum log_ratelimit_values {
	LOG_RATELIMIT_BURST = 10,
	LOG_RATELIMIT_WINDOW_MS = 1000,
};

/* One per call site, usually `static struct log_ratelimit rl;` (zero-initialised). */
struct log_ratelimit {
	uint64_t window_start_ns;
	unsigned int count; /* messages seen in this window, printed or not */
};

/*
 * Sets the line prefix (ifname is copied; NULL or "" gives "wgd") and the level from the
 * environment: LOG_LEVEL=silent|error|info|verbose, "debug" meaning verbose, any case.
 * Unset means info; an unknown value means info plus one error line saying so.
 */
void log_init(const char *ifname);

/* Parses a LOG_LEVEL word as log_init does; false leaves *out untouched. */
bool log_level_parse(const char *s, enum log_level *out);

/*
 * From now on, messages go to syslog, and stdin, stdout and stderr are /dev/null (hooks
 * and libraries write there). 0, or -errno if a descriptor could not be replaced.
 */
int log_to_syslog(void);
bool log_uses_syslog(void);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Verbose and rate-limited. When a window closes with lines dropped, the next printed
 * line of that call site is preceded by "(N similar messages suppressed)".
 */
void log_verbose_rl(struct log_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
