/* SPDX-License-Identifier: MIT */
/*
 * Text pieces of wg(8)'s reports, reproduced exactly (wireguard-tools show.c and
 * terminal.c): relative times, byte counts in binary units, endpoints and allowed IPs,
 * and printing with ANSI colours that vanish when stdout is not a terminal.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/messages.h"
#include "ctl/ctl.h"
#include "ctl/term.h"

bool ctl_color_mode(void)
{
	const char *v = getenv("WG_COLOR_MODE");

	if (v && !strcmp(v, "always"))
		return true;
	if (v && !strcmp(v, "never"))
		return false;
	return isatty(STDOUT_FILENO);
}

bool ctl_show_keys(void)
{
	const char *v = getenv("WG_HIDE_KEYS");

	return v && !strcmp(v, "never");
}

void ctl_endpoint_text(char *buf, size_t len, const union cfg_sockaddr *ep)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t alen = ep->sa.sa_family == AF_INET6 ? sizeof(ep->in6) : sizeof(ep->in4);
	int ret;

	ret = getnameinfo(&ep->sa, alen, host, sizeof(host), serv, sizeof(serv),
			  NI_DGRAM | NI_NUMERICSERV | NI_NUMERICHOST);
	if (ret)
		snprintf(buf, len, "%s", gai_strerror(ret));
	else if (ep->sa.sa_family == AF_INET6 && strchr(host, ':'))
		snprintf(buf, len, "[%s]:%s", host, serv);
	else
		snprintf(buf, len, "%s:%s", host, serv);
}

void ctl_allowedip_text(char *buf, size_t len, const struct cfg_allowedip *aip)
{
	char ip[INET6_ADDRSTRLEN] = "";

	inet_ntop(aip->family, &aip->ip6, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, aip->cidr);
}

/* Appends "[, ]N unit[s]" when n is not zero. */
static size_t put_unit(char *buf, size_t len, size_t off, unsigned long long n, const char *unit)
{
	int w;

	if (!n || off >= len)
		return off;
	w = snprintf(buf + off, len - off, "%s%llu " TERM_FG_CYAN "%s%s" TERM_RESET,
		     off ? ", " : "", n, unit, n == 1 ? "" : "s");
	return w < 0 ? off : off + (size_t)w;
}

size_t ctl_pretty_time(char *buf, size_t len, unsigned long long left)
{
	static const unsigned long long year = 365ULL * 24 * 60 * 60, day = 24 * 60 * 60;
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	off = put_unit(buf, len, off, left / year, "year");
	left %= year;
	off = put_unit(buf, len, off, left / day, "day");
	left %= day;
	off = put_unit(buf, len, off, left / 3600, "hour");
	left %= 3600;
	off = put_unit(buf, len, off, left / 60, "minute");
	off = put_unit(buf, len, off, left % 60, "second");
	return off < len ? off : len - 1;
}

void ctl_ago(char *buf, size_t len, uint64_t then_s, time_t now)
{
	size_t off;

	if ((uint64_t)now == then_s) {
		snprintf(buf, len, "Now");
	} else if ((uint64_t)now < then_s) {
		snprintf(buf, len,
			 "(" TERM_FG_RED
			 "System clock wound backward; connection problems may ensue." TERM_RESET
			 ")");
	} else {
		off = ctl_pretty_time(buf, len, (unsigned long long)now - then_s);
		snprintf(buf + off, len - off, " ago");
	}
}

/*
 * A session older than REJECT_AFTER_TIME (whitepaper 6.1, 180 s) can carry no data, and a
 * working peer re-handshakes before that (REKEY_AFTER_TIME, 120 s, plus traffic or a
 * keepalive). A handshake in the future (the clock wound back) counts as fresh.
 */
bool ctl_peer_up(uint64_t last_handshake_s, time_t now)
{
	if (!last_handshake_s)
		return false;
	if ((uint64_t)now <= last_handshake_s)
		return true;
	return (uint64_t)now - last_handshake_s < REJECT_AFTER_TIME_S;
}

void ctl_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b / 1024;
	size_t u = 0;

	if (b < 1024) {
		snprintf(buf, len, "%u " TERM_FG_CYAN "B" TERM_RESET, (unsigned int)b);
		return;
	}
	/* wg stops at TiB: larger counts are printed as thousands of TiB */
	for (uint64_t limit = 1024ULL * 1024; u < 3 && b >= limit; limit *= 1024) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.2f " TERM_FG_CYAN "%s" TERM_RESET, v, units[u]);
}

/* terminal.c's filter: drop every ESC '[' ... <letter> sequence. */
static void strip_ansi(char *s)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (r[0] == '\x1b' && r[1] == '[') {
			for (r += 2; *r && !isalpha((unsigned char)*r); r++)
				;
			if (*r)
				r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

void ctl_tprintf(FILE *f, bool color, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (color) {
		vfprintf(f, fmt, ap);
		va_end(ap);
		return;
	}
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	strip_ansi(s);
	fputs(s, f);
	free(s);
}
