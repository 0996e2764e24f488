/* SPDX-License-Identifier: MIT */
/*
 * Parsers for what a user types or points at: ports, marks, keepalives, keys and key
 * files, endpoints and allowed IPs, with wireguard-tools config.c's rules and one
 * "wgctl: ... `input'" line per mistake. Key material is never echoed: a bad key file is
 * named by its path.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/key.h"
#include "ctl/ctl.h"

enum {
	KEYFILE_MAX = 4096, /* a key, a newline and generous whitespace */
	DNS_RETRIES_DEFAULT = 15,
};

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ctl_uapi_err(const char *what, const char *ifname, int err)
{
	ctl_err("Unable to %s `%s': %s", what, ifname, strerror(-err));
}

/* wg-quick's rule for interface names, which is also what fits a UAPI socket name. */
bool ctl_parse_ifname(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && !strchr("_=+.-", name[i]))
			len = 0;
	}
	if (len >= IFNAMSIZ) {
		ctl_err("Interface name `%s' is too long (at most %d characters)", name,
			IFNAMSIZ - 1);
		return false;
	}
	if (!len) {
		ctl_err("Invalid interface name: `%s'", name);
		return false;
	}
	return true;
}

/* Decimal digits only, no sign or spaces, at most max. */
static bool parse_uint(unsigned long *out, const char *v, unsigned long max, int base)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	*out = strtoul(v, &end, base);
	return !*end && !errno && *out <= max;
}

bool ctl_parse_port(uint16_t *port, const char *value)
{
	unsigned long n;

	if (!parse_uint(&n, value, 65535, 10)) {
		ctl_err("Invalid port: `%s'", value);
		return false;
	}
	*port = (uint16_t)n;
	return true;
}

bool ctl_parse_fwmark(uint32_t *mark, const char *value)
{
	unsigned long n = 0;
	bool hex = strlen(value) > 2 && value[0] == '0' && value[1] == 'x';

	if (strcasecmp(value, "off") && !parse_uint(&n, value, UINT32_MAX, hex ? 16 : 10)) {
		ctl_err("Fwmark is neither 0/off nor 0-0xffffffff: `%s'", value);
		return false;
	}
	*mark = (uint32_t)n;
	return true;
}

bool ctl_parse_keepalive(uint16_t *interval, const char *value)
{
	unsigned long n = 0;

	if (strcasecmp(value, "off") && !parse_uint(&n, value, 65535, 10)) {
		ctl_err("Persistent keepalive interval is neither 0/off nor 1-65535: `%s'", value);
		return false;
	}
	*interval = (uint16_t)n;
	return true;
}

bool ctl_parse_pubkey(uint8_t key[static 32], const char *value)
{
	if (!key_from_base64(key, value)) {
		ctl_err("Key is not the correct length or format: `%s'", value);
		return false;
	}
	return true;
}

/* Reads at most len bytes of path into buf; -errno, or the length (len + 1 if longer). */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got <= len) {
		char extra;

		n = got < len ? read(fd, buf + got, len - got) : read(fd, &extra, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		wipe(&extra, sizeof(extra));
	}
	n = n < 0 ? -errno : (ssize_t)got;
	close(fd);
	return n;
}

bool ctl_parse_keyfile(uint8_t key[static 32], const char *path)
{
	char buf[KEYFILE_MAX], b64[KEY_B64_LEN + 1];
	ssize_t n = read_small(path, buf, sizeof(buf));
	bool ok = false;

	memset(key, 0, KEY_LEN);
	if (n < 0) {
		ctl_err("Unable to open key file `%s': %s", path, strerror((int)-n));
		return false;
	}
	if (n == 0) /* an empty file or /dev/null removes the key, as in wg */
		return true;
	if ((size_t)n >= KEY_B64_LEN && (size_t)n <= sizeof(buf)) {
		memcpy(b64, buf, KEY_B64_LEN);
		b64[KEY_B64_LEN] = '\0';
		ok = true;
		for (size_t i = KEY_B64_LEN; i < (size_t)n; i++)
			ok &= !!isspace((unsigned char)buf[i]);
		ok = ok && key_from_base64(key, b64);
	}
	if (!ok)
		ctl_err("Key is not the correct length or format in key file `%s'", path);
	wipe(buf, sizeof(buf));
	wipe(b64, sizeof(b64));
	return ok;
}

/* WG_ENDPOINT_RESOLUTION_RETRIES: a count, or "infinity" (-1). */
static bool dns_retries(int *out)
{
	const char *v = getenv("WG_ENDPOINT_RESOLUTION_RETRIES");
	unsigned long n;

	*out = DNS_RETRIES_DEFAULT;
	if (!v)
		return true;
	if (!strcmp(v, "infinity")) {
		*out = -1;
		return true;
	}
	if (!parse_uint(&n, v, INT_MAX, 10)) {
		ctl_err("Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `%s'", v);
		return false;
	}
	*out = (int)n;
	return true;
}

/* getaddrinfo with wg's patience: permanent failures end it, transient ones retry. */
static bool resolve(union cfg_sockaddr *ep, const char *host, const char *port, const char *v)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP };
	unsigned int delay_us = 1000000;
	struct addrinfo *res;
	int ret, retries;
	bool ok;

	if (!dns_retries(&retries))
		return false;
	while ((ret = getaddrinfo(host, port, &hints, &res))) {
		const char *why = ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret);

		if (ret == EAI_NONAME || ret == EAI_FAIL || ret == EAI_NODATA ||
		    (retries >= 0 && !retries--)) {
			ctl_err("%s: `%s'", why, v);
			return false;
		}
		ctl_err("%s: `%s'. Trying again in %.2f seconds...", why, v, delay_us / 1e6);
		usleep(delay_us);
		delay_us = delay_us * 6 / 5 > 20000000 ? 20000000 : delay_us * 6 / 5;
	}
	ok = (res->ai_family == AF_INET && res->ai_addrlen == sizeof(ep->in4)) ||
	     (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(ep->in6));
	if (ok) {
		memset(ep, 0, sizeof(*ep));
		memcpy(ep, res->ai_addr, res->ai_addrlen);
	} else {
		ctl_err("Neither IPv4 nor IPv6 address found: `%s'", v);
	}
	freeaddrinfo(res);
	return ok;
}

/* Splits "host:port" or "[host]:port" in place; NULL port (after the error line) if bad. */
static char *split_endpoint(char *copy, char **host, const char *value)
{
	char *port;

	if (copy[0] == '[') {
		*host = copy + 1;
		port = strchr(copy, ']');
		if (!port) {
			ctl_err("Unable to find matching brace of endpoint: `%s'", value);
			return NULL;
		}
		*port++ = '\0';
		if (*port != ':')
			port = NULL;
	} else {
		*host = copy;
		port = strrchr(copy, ':');
	}
	if (!port || !port[1]) {
		ctl_err("Unable to find port of endpoint: `%s'", value);
		return NULL;
	}
	*port++ = '\0';
	return port;
}

bool ctl_parse_endpoint(union cfg_sockaddr *ep, const char *value)
{
	char *copy, *host, *port;
	bool ok;

	if (!*value) {
		ctl_err("Unable to parse empty endpoint");
		return false;
	}
	copy = strdup(value);
	if (!copy) {
		ctl_err("Out of memory");
		return false;
	}
	port = split_endpoint(copy, &host, value);
	ok = port && resolve(ep, host, port, value);
	free(copy);
	return ok;
}

/* One "ip[/cidr]" entry, without its prefix; entry is the text to name on error. */
static bool parse_one_allowedip(struct cfg_allowedip *aip, char *ip, const char *entry)
{
	char *mask = strchr(ip, '/');
	unsigned long cidr;

	if (mask)
		*mask++ = '\0';
	aip->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(aip->family, ip, &aip->ip6) != 1) {
		ctl_err("Unable to parse IP address: `%s'", ip);
		return false;
	}
	if (!mask)
		cidr = aip->family == AF_INET ? 32 : 128;
	else if (!parse_uint(&cidr, mask, aip->family == AF_INET ? 32 : 128, 10)) {
		ctl_err("AllowedIP is not in the correct format: `%s'", entry);
		return false;
	}
	aip->cidr = (uint8_t)cidr;
	return true;
}

static bool add_allowedip_entry(struct cfg_peer *peer, char *entry)
{
	struct cfg_allowedip aip = { 0 };
	char saved[INET6_ADDRSTRLEN + 8];
	char *ip = entry;

	if (*ip == '+' || *ip == '-') {
		aip.is_removal = *ip == '-';
		peer->flags &= ~CFG_PEER_REPLACE_ALLOWEDIPS;
		ip++;
	}
	snprintf(saved, sizeof(saved), "%s", ip);
	if (!parse_one_allowedip(&aip, ip, saved))
		return false;
	if (cfg_peer_add_allowedip(peer, &aip) < 0) {
		ctl_err("Out of memory");
		return false;
	}
	return true;
}

bool ctl_parse_allowedips(struct cfg_peer *peer, const char *value)
{
	char *copy = calloc(1, strlen(value) + 1), *sep, *entry;
	size_t n = 0;
	bool ok = true;

	if (!copy) {
		ctl_err("Out of memory");
		return false;
	}
	for (const char *p = value; *p; p++) {
		if (!isspace((unsigned char)*p))
			copy[n++] = *p;
	}
	peer->flags |= CFG_PEER_REPLACE_ALLOWEDIPS;
	sep = n ? copy : NULL;
	while (ok && (entry = strsep(&sep, ",")))
		ok = add_allowedip_entry(peer, entry);
	free(copy);
	return ok;
}

bool ctl_conf_path(char *buf, size_t len, const char *ifname)
{
	const char *dir = getenv("WGCTL_CONF_DIR");
	int n = snprintf(buf, len, "%s/%s.conf", dir && *dir ? dir : CTL_CONF_DIR, ifname);

	if (n < 0 || (size_t)n >= len) {
		ctl_err("Configuration path too long: `%s'", dir);
		return false;
	}
	return true;
}
