/* SPDX-License-Identifier: MIT */
/*
 * log.h's implementation: formatting, level filter and the per-call-site rate limiter.
 * This is the one module that writes to stderr or syslog; everything else returns codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "wgd/clock.h"
#include "wgd/log.h"
#include "wgd/log_syslog.h"

enum {
	LOG_LINE_MAX = 1024,
	LOG_PREFIX_MAX = 32, /* > IFNAMSIZ */
};

static enum log_level log_level = LOG_INFO;
static char log_prefix[LOG_PREFIX_MAX] = "wgd";
static bool log_is_syslog; /* after log_to_syslog: stderr is /dev/null */

static const char *const level_names[] = {
	[LOG_SILENT] = "silent",
	[LOG_ERROR] = "error",
	[LOG_INFO] = "info",
	[LOG_VERBOSE] = "verbose",
};

bool log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return true;
		}
	}
	if (!strcasecmp(s, "debug")) { /* wireguard-go's name for verbose */
		*out = LOG_VERBOSE;
		return true;
	}
	return false;
}

void log_init(const char *ifname)
{
	const char *env = getenv("LOG_LEVEL");

	snprintf(log_prefix, sizeof(log_prefix), "%s", ifname && *ifname ? ifname : "wgd");
	log_level = LOG_INFO;
	if (env && !log_level_parse(env, &log_level))
		log_error("Unknown LOG_LEVEL, using info");
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_to_syslog(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), ret = 0;

	if (null < 0)
		return -errno;
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (dup2(null, fd) < 0)
			ret = -errno;
	close(null);
	log_syslog_open();
	log_is_syslog = true;
	return ret;
}

bool log_uses_syslog(void)
{
	return log_is_syslog;
}

static size_t format_time(char *buf, size_t len)
{
	uint64_t now = clock_realtime_ns();
	time_t sec = (time_t)(now / 1000000000ULL);
	struct tm tm;
	size_t n;

	if (!localtime_r(&sec, &tm))
		return 0;
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n && n < len)
		n += (size_t)snprintf(buf + n, len - n, ".%06u ",
				      (unsigned int)(now % 1000000000ULL / 1000));
	return n < len ? n : len - 1;
}

/* Messages may carry peer-supplied text; keep a line one line, and printable. */
static void sanitize(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	}
}

static void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* stderr gone (daemonised onto a closed fd): nothing to tell */
		buf += n;
		len -= (size_t)n;
	}
}

static void log_vprint(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n, start;
	int r;

	/* syslog stamps the time itself */
	n = log_is_syslog ? 0 : format_time(line, sizeof(line));
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: %s: ", log_prefix,
			      level_names[level]);
	start = n;
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	sanitize(line + start, n - start);
	if (log_is_syslog) {
		line[n] = '\0';
		log_syslog_write((int)level - LOG_ERROR, line);
		return;
	}
	line[n++] = '\n';
	write_all(line, n);
}

static void log_print(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, fmt, ap);
	va_end(ap);
}

#define DEFINE_LOG_FN(name, level)                                                                 \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		if (log_level < (level))                                                           \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_vprint((level), fmt, ap);                                                      \
		va_end(ap);                                                                        \
	}

DEFINE_LOG_FN(log_error, LOG_ERROR)
DEFINE_LOG_FN(log_info, LOG_INFO)
DEFINE_LOG_FN(log_verbose, LOG_VERBOSE)

/*
 * A fixed window: the first LOG_RATELIMIT_BURST messages of each window pass. When a new
 * window opens, *suppressed gets the number the previous one dropped.
 */
static bool ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ns, unsigned int *suppressed)
{
	*suppressed = 0;
	if (now_ns - rl->window_start_ns >= LOG_RATELIMIT_WINDOW_MS * 1000000ULL) {
		if (rl->count > LOG_RATELIMIT_BURST)
			*suppressed = rl->count - LOG_RATELIMIT_BURST;
		rl->window_start_ns = now_ns;
		rl->count = 0;
	}
	if (rl->count < UINT_MAX)
		rl->count++;
	return rl->count <= LOG_RATELIMIT_BURST;
}

void log_verbose_rl(struct log_ratelimit *rl, const char *fmt, ...)
{
	unsigned int suppressed;
	va_list ap;

	if (log_level < LOG_VERBOSE)
		return;
	if (!ratelimit_allow(rl, clock_boottime_ns(), &suppressed))
		return;
	if (suppressed)
		log_print(LOG_VERBOSE, "(%u similar messages suppressed)", suppressed);
	va_start(ap, fmt);
	log_vprint(LOG_VERBOSE, fmt, ap);
	va_end(ap);
}
