/* SPDX-License-Identifier: MIT */
/*
 * One parser per configuration key: each checks a trimmed, non-empty value and stores it
 * in the struct conf being built, or fails with a message naming the key and the value
 * (never a key's value). Endpoint host names are kept as written, not resolved (conf.h);
 * conf_endpoint_resolve() is the one lookup, for those who resolve them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgd/conf_parse.h"
#include "wgd/crypt_pool.h"

enum {
	CONF_MIN_MTU = 68,	 /* RFC 791: every IPv4 link carries 68 bytes */
	CONF_MAX_MTU = 65535,	 /* the IPv4 total length field */
	CONF_TABLE_MAIN = 254,	 /* RT_TABLE_MAIN in linux/rtnetlink.h */
	CONF_MAX_USER = 32,	 /* useradd's limit */
	CONF_MAX_DOMAIN = 253,	 /* RFC 1035 §2.3.4, without the final dot */
	CONF_KEY_FILE_MAX = 128, /* a key file holds 44 characters and some whitespace */
};

/* --- small value parsers --------------------------------------------------------------- */

void conf_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Digits only (after "0x" when hex is allowed): no sign, no blanks, nothing after. */
static bool parse_number(const char *v, bool allow_hex, uint32_t max, uint32_t *out)
{
	unsigned long long x;
	int base = 10;
	char *end;

	if (allow_hex && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
		if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
			return false; /* strtoull would skip a second "0x" */
	}
	if (!(base == 16 ? isxdigit((unsigned char)*v) : isdigit((unsigned char)*v)))
		return false;
	errno = 0;
	x = strtoull(v, &end, base);
	if (errno || *end || x > max)
		return false;
	*out = (uint32_t)x;
	return true;
}

/* "addr/cidr" or a bare address (a host route), as wg(8)'s AllowedIPs. */
static bool parse_prefix(const char *item, size_t len, struct conf_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + sizeof("/128")];
	uint32_t cidr, max;
	char *slash;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, item, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, buf, &out->ip6) != 1)
		return false;
	max = out->family == AF_INET ? 32 : 128;
	if (!slash)
		cidr = max;
	else if (!parse_number(slash, false, max, &cidr))
		return false;
	out->cidr = (uint8_t)cidr;
	return true;
}

bool conf_parse_prefix(const char *item, size_t len, struct conf_prefix *out)
{
	return parse_prefix(item, len, out);
}

static bool host_bits_zero(const struct conf_prefix *pfx)
{
	const uint8_t *a = (const uint8_t *)&pfx->ip6;
	unsigned int bytes = pfx->family == AF_INET ? 4 : 16;

	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int bit = i * 8;
		uint8_t host_mask = 0xff;

		if (bit + 8 <= pfx->cidr)
			host_mask = 0;
		else if (bit < pfx->cidr)
			host_mask = (uint8_t)(0xff >> (pfx->cidr - bit));
		if (a[i] & host_mask)
			return false;
	}
	return true;
}

/* Doubles arr whenever len reaches a power of two, so no capacity field is needed. */
static bool grow(struct conf_parse *p, void *arrp, size_t len, size_t elem)
{
	void **arr = arrp, *q;

	if (len & (len - 1))
		return true;
	if (len > SIZE_MAX / 2 / elem)
		return conf_oom(p);
	q = realloc(*arr, (len ? len * 2 : 1) * elem);
	if (!q)
		return conf_oom(p);
	*arr = q;
	return true;
}

static bool push_str(struct conf_parse *p, char ***arr, size_t *len, const char *s, size_t n)
{
	char *copy;

	if (!grow(p, arr, *len, sizeof(**arr)))
		return false;
	copy = strndup(s, n);
	if (!copy)
		return conf_oom(p);
	(*arr)[(*len)++] = copy;
	return true;
}

/*
 * Calls fn for each item of the comma-separated list v. wg-quick splits Address and DNS
 * on blanks too and drops empty items (bash word splitting); wg(8) does neither for
 * AllowedIPs, where an empty item is an error.
 */
static bool for_each_item(struct conf_parse *p, const char *v, bool split_blanks,
			  bool (*fn)(struct conf_parse *p, const char *item, size_t len))
{
	const char *s = v, *e, *next;
	size_t count = 0;

	for (;;) {
		e = s;
		while (*e && *e != ',' && !(split_blanks && isspace((unsigned char)*e)))
			e++;
		next = e;
		conf_trim(&s, &e);
		if (s < e || !split_blanks) {
			if (!fn(p, s, e - s))
				return false;
			count++;
		}
		if (!*next)
			break;
		s = next + 1;
	}
	return count ? true : conf_fail(p, "no entries in %s", p->key->name);
}

bool conf_each_item(struct conf_parse *p, const char *v,
		    bool (*fn)(struct conf_parse *p, const char *item, size_t len))
{
	return for_each_item(p, v, false, fn);
}

/* --- [Interface] keys ---------------------------------------------------------------- */

static struct cfg_peer *cur_peer(struct conf_parse *p)
{
	return &p->conf->dev.peers[p->conf->dev.peers_len - 1];
}

/*
 * A daemon needs a key, but wg(8) sends a zero one as it is: the device then has none.
 * So zeros are refused only where a key is required.
 */
static bool private_key_set(struct conf_parse *p)
{
	if (p->mode == CONF_FULL && key_is_zero(p->conf->dev.private_key))
		return conf_fail(p, "PrivateKey is all zeros");
	p->conf->dev.flags |= CFG_DEV_HAS_PRIVATE_KEY;
	return true;
}

static bool parse_private_key(struct conf_parse *p, const char *v)
{
	if (!key_from_base64(p->conf->dev.private_key, v))
		return conf_fail(p, "invalid PrivateKey (expected 44 characters of base64)");
	return private_key_set(p);
}

/*
 * A key file holds one base64 key and optional whitespace, as for `wg set ... private-key
 * FILE'. Warns when others may read it (wg-quick warns likewise about the config file).
 */
static bool read_key_file(struct conf_parse *p, const char *path, const char *key_name,
			  const char *what, uint8_t key[static KEY_LEN])
{
	char buf[CONF_KEY_FILE_MAX], *full = NULL;
	const char *s = buf, *e;
	bool ok = false;
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (path[0] != '/' && p->dir && asprintf(&full, "%s/%s", p->dir, path) < 0)
		return conf_oom(p);
	fd = open(full ? full : path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		conf_fail(p, "cannot read %s `%s': %s", key_name, path, strerror(errno));
		goto out;
	}
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			conf_fail(p, "cannot read %s `%s': %s", key_name, path, strerror(errno));
			goto out;
		}
		n += r;
	}
	buf[n] = '\0';
	e = buf + n;
	conf_trim(&s, &e);
	if (e - s != KEY_B64_LEN || n == sizeof(buf) - 1) {
		conf_fail(p, "%s `%s' does not hold a base64 key", key_name, path);
		goto out;
	}
	buf[e - buf] = '\0';
	if (!key_from_base64(key, s)) {
		conf_fail(p, "%s `%s' does not hold a base64 key", key_name, path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
		conf_warn_add(p->warn, p->warnlen,
			      "%s: warning: holds a %s but is readable by group or others",
			      full ? full : path, what);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	free(full);
	wipe(buf, sizeof(buf));
	return ok;
}

static bool parse_private_key_file(struct conf_parse *p, const char *v)
{
	if (!read_key_file(p, v, "PrivateKeyFile", "private key", p->conf->dev.private_key))
		return false;
	return private_key_set(p);
}

static bool parse_listen_port(struct conf_parse *p, const char *v)
{
	uint32_t port;

	if (!parse_number(v, false, UINT16_MAX, &port))
		return conf_fail(p, "invalid ListenPort `%s' (expected 0-65535)", v);
	p->conf->dev.listen_port = (uint16_t)port;
	p->conf->dev.flags |= CFG_DEV_HAS_LISTEN_PORT;
	return true;
}

static bool parse_fwmark(struct conf_parse *p, const char *v)
{
	if (!strcasecmp(v, "off"))
		p->conf->dev.fwmark = 0;
	else if (!parse_number(v, true, UINT32_MAX, &p->conf->dev.fwmark))
		return conf_fail(p, "invalid FwMark `%s' (expected off, 0-4294967295 or 0x hex)",
				 v);
	p->conf->dev.flags |= CFG_DEV_HAS_FWMARK;
	return true;
}

static bool add_address(struct conf_parse *p, const char *item, size_t len)
{
	struct conf *c = p->conf;
	struct conf_prefix pfx = { 0 };

	if (!parse_prefix(item, len, &pfx))
		return conf_fail(p, "invalid Address `%.*s'", (int)len, item);
	if (!grow(p, &c->addresses, c->addresses_len, sizeof(*c->addresses)))
		return false;
	c->addresses[c->addresses_len++] = pfx;
	return true;
}

static bool parse_address(struct conf_parse *p, const char *v)
{
	return for_each_item(p, v, true, add_address);
}

static bool parse_mtu(struct conf_parse *p, const char *v)
{
	uint32_t mtu;

	if (!parse_number(v, false, CONF_MAX_MTU, &mtu) || mtu < CONF_MIN_MTU)
		return conf_fail(p, "invalid MTU `%s' (expected %d-%d)", v, CONF_MIN_MTU,
				 CONF_MAX_MTU);
	p->conf->mtu = mtu;
	return true;
}

static bool parse_table(struct conf_parse *p, const char *v)
{
	struct conf *c = p->conf;

	c->table = 0;
	if (!strcasecmp(v, "auto")) {
		c->table_mode = CONF_TABLE_AUTO;
	} else if (!strcasecmp(v, "off")) {
		c->table_mode = CONF_TABLE_OFF;
	} else if (!strcasecmp(v, "main")) {
		c->table_mode = CONF_TABLE_ID;
		c->table = CONF_TABLE_MAIN;
	} else if (parse_number(v, false, UINT32_MAX, &c->table) && c->table) {
		c->table_mode = CONF_TABLE_ID;
	} else {
		return conf_fail(p, "invalid Table `%s' (expected auto, off, main or 1-4294967295)",
				 v);
	}
	return true;
}

static bool is_domain(const char *s, size_t len)
{
	if (!len || len > CONF_MAX_DOMAIN || *s == '.' || *s == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* wg-quick's rule: digits and dots, or a colon, make a server address; else a domain. */
static bool add_dns(struct conf_parse *p, const char *item, size_t len)
{
	struct conf *c = p->conf;
	struct in6_addr addr;
	char buf[INET6_ADDRSTRLEN];
	bool is_server = memchr(item, ':', len) || strspn(item, "0123456789.") >= len;

	if (is_server) {
		if (len >= sizeof(buf))
			return conf_fail(p, "invalid DNS server `%.*s'", (int)len, item);
		memcpy(buf, item, len);
		buf[len] = '\0';
		if (inet_pton(memchr(item, ':', len) ? AF_INET6 : AF_INET, buf, &addr) != 1)
			return conf_fail(p, "invalid DNS server `%s'", buf);
	} else if (!is_domain(item, len)) {
		return conf_fail(p, "invalid DNS search domain `%.*s'", (int)len, item);
	}
	return push_str(p, &c->dns, &c->dns_len, item, len);
}

static bool parse_dns(struct conf_parse *p, const char *v)
{
	return for_each_item(p, v, true, add_dns);
}

static bool parse_pre_up(struct conf_parse *p, const char *v)
{
	return push_str(p, &p->conf->pre_up, &p->conf->pre_up_len, v, strlen(v));
}

static bool parse_post_up(struct conf_parse *p, const char *v)
{
	return push_str(p, &p->conf->post_up, &p->conf->post_up_len, v, strlen(v));
}

static bool parse_pre_down(struct conf_parse *p, const char *v)
{
	return push_str(p, &p->conf->pre_down, &p->conf->pre_down_len, v, strlen(v));
}

static bool parse_post_down(struct conf_parse *p, const char *v)
{
	return push_str(p, &p->conf->post_down, &p->conf->post_down_len, v, strlen(v));
}

static bool parse_save_config(struct conf_parse *p, const char *v)
{
	if (strcasecmp(v, "true") && strcasecmp(v, "false"))
		return conf_fail(p, "invalid SaveConfig `%s' (expected true or false)", v);
	p->conf->save_config = !strcasecmp(v, "true");
	/* accepted, as wg-quick files carry it, but the admin must know it does nothing */
	if (p->conf->save_config && p->mode == CONF_FULL)
		conf_warn_add(p->warn, p->warnlen,
			      "%s:%u: warning: SaveConfig = true is ignored: wgd does not write "
			      "the file back; use `wgctl peer add|remove ... --save'",
			      p->name, p->line);
	return true;
}

/* A user or group name as useradd accepts it, or a decimal id. */
static bool is_account_name(const char *v)
{
	size_t len = strlen(v);

	if (len && strspn(v, "0123456789") == len)
		return len <= 10;
	return len <= CONF_MAX_USER && (isalpha((unsigned char)*v) || *v == '_') &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

static bool parse_user(struct conf_parse *p, const char *v)
{
	if (!is_account_name(v))
		return conf_fail(p, "invalid User `%s'", v);
	p->conf->user = strdup(v);
	return p->conf->user ? true : conf_oom(p);
}

static bool parse_admin_group(struct conf_parse *p, const char *v)
{
	if (!is_account_name(v))
		return conf_fail(p, "invalid AdminGroup `%s'", v);
	p->conf->admin_group = strdup(v);
	return p->conf->admin_group ? true : conf_oom(p);
}

/* Threads = N (1..64: 1 is the single-threaded data path) or auto (one per online CPU). */
static bool parse_threads(struct conf_parse *p, const char *v)
{
	uint32_t n = 0;

	if (strcasecmp(v, "auto") && (!parse_number(v, false, CRYPT_POOL_MAX_THREADS, &n) || n < 1))
		return conf_fail(p, "invalid Threads `%s' (expected auto or 1-%d)", v,
				 CRYPT_POOL_MAX_THREADS);
	p->conf->threads = n;
	return true;
}

/* --- [Peer] keys --------------------------------------------------------------------- */

static bool parse_public_key(struct conf_parse *p, const char *v)
{
	struct cfg_device *dev = &p->conf->dev;
	uint8_t key[KEY_LEN];

	if (!key_from_base64(key, v))
		return conf_fail(p, "invalid PublicKey (expected 44 characters of base64)");
	for (size_t i = 0; i + 1 < dev->peers_len; i++) {
		unsigned int line = p->conf->peer_extra[i].line;

		if (!memcmp(dev->peers[i].public_key, key, KEY_LEN))
			return conf_fail(
				p,
				"duplicate peer: PublicKey already used by the [Peer] at line %u",
				line);
	}
	memcpy(cur_peer(p)->public_key, key, KEY_LEN);
	return true;
}

static bool parse_preshared_key(struct conf_parse *p, const char *v)
{
	struct cfg_peer *peer = cur_peer(p);

	if (!key_from_base64(peer->preshared_key, v))
		return conf_fail(p, "invalid PresharedKey (expected 44 characters of base64)");
	peer->flags |= CFG_PEER_HAS_PRESHARED_KEY;
	return true;
}

static bool parse_preshared_key_file(struct conf_parse *p, const char *v)
{
	struct cfg_peer *peer = cur_peer(p);

	if (!read_key_file(p, v, "PresharedKeyFile", "preshared key", peer->preshared_key))
		return false;
	peer->flags |= CFG_PEER_HAS_PRESHARED_KEY;
	return true;
}

static bool add_allowedip(struct conf_parse *p, const char *item, size_t len)
{
	struct cfg_allowedip aip = { 0 };
	struct conf_prefix pfx = { 0 };

	if (!len)
		return conf_fail(p, "empty entry in AllowedIPs");
	if (!parse_prefix(item, len, &pfx))
		return conf_fail(p, "invalid AllowedIPs entry `%.*s'", (int)len, item);
	if (!host_bits_zero(&pfx))
		conf_warn_add(p->warn, p->warnlen,
			      "%s:%u: warning: AllowedIPs entry `%.*s' has a nonzero host part",
			      p->name, p->line, (int)len, item);
	aip.family = pfx.family;
	aip.ip6 = pfx.ip6;
	aip.cidr = pfx.cidr;
	return cfg_peer_add_allowedip(cur_peer(p), &aip) ? conf_oom(p) : true;
}

static bool parse_allowed_ips(struct conf_parse *p, const char *v)
{
	return for_each_item(p, v, false, add_allowedip);
}

/* Splits "host:port" or "[host]:port" in place; NULL on success, else what is wrong. */
static const char *split_endpoint(char *s, char **host, char **port)
{
	char *end;

	if (s[0] == '[') {
		*host = s + 1;
		end = strchr(s, ']');
		if (!end)
			return "unmatched `['";
		*end++ = '\0';
		if (*end != ':')
			return "missing port";
	} else {
		*host = s;
		end = strrchr(s, ':'); /* wg(8) takes the last colon: "::1:51820" works */
		if (!end)
			return "missing port";
	}
	*end = '\0';
	*port = end + 1;
	return **host ? NULL : "missing host";
}

/* getaddrinfo's first IPv4 or IPv6 address, as wg(8) takes it: 0 or an EAI_* code. */
static int lookup(const char *host, const char *serv, int flags, union cfg_sockaddr *out,
		  int *sys_errno)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_protocol = IPPROTO_UDP,
				  .ai_flags = flags };
	struct addrinfo *res;
	int r;

	*sys_errno = 0;
	r = getaddrinfo(host, serv, &hints, &res);
	if (r) {
		if (r == EAI_SYSTEM)
			*sys_errno = errno;
		return r;
	}
	r = EAI_NODATA;
	if ((res->ai_family == AF_INET && res->ai_addrlen == sizeof(out->in4)) ||
	    (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(out->in6))) {
		memset(out, 0, sizeof(*out));
		memcpy(out, res->ai_addr, res->ai_addrlen);
		r = 0;
	}
	freeaddrinfo(res);
	return r;
}

int conf_endpoint_resolve(const char *host, uint16_t port, union cfg_sockaddr *out, int *sys_errno)
{
	char serv[sizeof("65535")];

	snprintf(serv, sizeof(serv), "%u", port);
	return lookup(host, serv, AI_NUMERICSERV, out, sys_errno);
}

const char *conf_endpoint_strerror(int eai, int sys_errno)
{
	if (eai == EAI_SYSTEM)
		return strerror(sys_errno);
	if (eai == EAI_NODATA)
		return "no IPv4 or IPv6 address";
	return gai_strerror(eai);
}

/*
 * An address literal, converted without any lookup (AI_NUMERICHOST: glibc then reads
 * neither NSS nor the network). false for anything else, which is taken as a name.
 */
static bool endpoint_literal(const char *host, const char *port, union cfg_sockaddr *out)
{
	int sys_errno;

	return !lookup(host, port, AI_NUMERICHOST | AI_NUMERICSERV, out, &sys_errno);
}

/*
 * A DNS name as getaddrinfo could resolve it (RFC 1123 labels, plus `_' as resolvers
 * accept): checked now, since the lookup happens later, away from the file and its line.
 */
static bool is_host_name(const char *host)
{
	size_t len = strlen(host), label = 0;

	if (!len || len > 253 || host[0] == '.')
		return false;
	for (const char *c = host; *c; c++) {
		if (*c == '.') {
			if (!label)
				return false; /* an empty label: ".." */
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/*
 * One item of Endpoint (len bytes at v) into *e: an address as it is, or a host name only
 * kept ("host:port" in e->name, e->addr unset) and resolved later by whoever applies the
 * file (conf.h): parsing reads no network input. *host (owned) and *port as written.
 */
static bool endpoint_item(struct conf_parse *p, const char *v, size_t len, struct cfg_endpoint *e,
			  char **host_out, uint16_t *port_out)
{
	char *copy = strndup(v, len), *host, *port;
	const char *why;
	uint32_t n;

	memset(e, 0, sizeof(*e));
	if (!copy)
		return conf_oom(p);
	why = len ? split_endpoint(copy, &host, &port) : "empty entry";
	if (!why && (!parse_number(port, false, UINT16_MAX, &n) || !n))
		why = "invalid port";
	if (!why && !endpoint_literal(host, port, &e->addr)) {
		if (is_host_name(host)) /* at most 253 + 6 bytes: it fits */
			(void)!snprintf(e->name, sizeof(e->name), "%.253s:%hu", host,
					(unsigned short)n);
		else
			why = "neither an IP address nor a host name";
	}
	if (why) {
		conf_fail(p, "invalid Endpoint `%.*s': %s", (int)len, v, why);
		free(copy);
		return false;
	}
	*host_out = strdup(host);
	*port_out = (uint16_t)n;
	free(copy);
	return *host_out ? true : conf_oom(p);
}

/*
 * `Endpoint = A[, B ...]`. The first item is the peer's endpoint as wg(8) knows it (a
 * name in peer_extra, to resolve). With several items, or a name, wgd -c also keeps the
 * list for the worker (endpoints.h): failover, and the names `wgctl show` prints. The wg
 * subset takes one item, as wg(8) does.
 */
static bool parse_endpoint(struct conf_parse *p, const char *v)
{
	struct conf_peer_extra *extra = &p->conf->peer_extra[p->conf->dev.peers_len - 1];
	struct cfg_endpoint list[CFG_ENDPOINTS_MAX];
	struct cfg_peer *peer = cur_peer(p);
	size_t n = 0, count = 1;
	const char *s = v, *e, *next;
	bool has_list;

	for (const char *c = v; *c; c++)
		count += *c == ',';
	if (count > 1 && p->mode == CONF_WG_SUBSET)
		return conf_fail(p,
				 "Endpoint lists %zu endpoints: wg(8) takes one (a list is for "
				 "wgd -c)",
				 count);
	if (count > CFG_ENDPOINTS_MAX)
		return conf_fail(p, "Endpoint lists %zu endpoints (at most %d)", count,
				 CFG_ENDPOINTS_MAX);
	for (; n < count; s = next + 1) {
		char *host = NULL;
		uint16_t port = 0;

		for (e = s; *e && *e != ','; e++)
			;
		next = e;
		conf_trim(&s, &e);
		if (!endpoint_item(p, s, (size_t)(e - s), &list[n], &host, &port))
			return false;
		if (n++) {
			free(host);
			continue;
		}
		extra->endpoint_host = host;
		extra->endpoint_port = port;
		extra->endpoint_line = p->line;
		extra->is_endpoint_name = !list[0].addr.sa.sa_family;
	}
	has_list = p->mode == CONF_FULL && (count > 1 || extra->is_endpoint_name);
	if (!extra->is_endpoint_name) { /* the first: what wg(8) and `wgctl strip' see */
		peer->endpoint = list[0].addr;
		peer->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	if (has_list && cfg_peer_set_endpoints(peer, list, n) < 0)
		return conf_oom(p);
	return true;
}

static bool parse_keepalive(struct conf_parse *p, const char *v)
{
	struct cfg_peer *peer = cur_peer(p);
	uint32_t s = 0;

	if (strcasecmp(v, "off") && !parse_number(v, false, UINT16_MAX, &s))
		return conf_fail(p, "invalid PersistentKeepalive `%s' (expected off or 0-65535)",
				 v);
	peer->persistent_keepalive_s = (uint16_t)s;
	peer->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	return true;
}

static const struct conf_key keys[] = {
	{ "PrivateKey", CONF_SECTION_INTERFACE, CONF_SLOT_PRIVATE_KEY, parse_private_key },
	{ "PrivateKeyFile", CONF_SECTION_INTERFACE, CONF_SLOT_PRIVATE_KEY, parse_private_key_file },
	{ "ListenPort", CONF_SECTION_INTERFACE, CONF_SLOT_LISTEN_PORT, parse_listen_port },
	{ "FwMark", CONF_SECTION_INTERFACE, CONF_SLOT_FWMARK, parse_fwmark },
	{ "Address", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_address },
	{ "MTU", CONF_SECTION_INTERFACE, CONF_SLOT_MTU, parse_mtu },
	{ "Table", CONF_SECTION_INTERFACE, CONF_SLOT_TABLE, parse_table },
	{ "DNS", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_dns },
	{ "PreUp", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_pre_up },
	{ "PostUp", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_post_up },
	{ "PreDown", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_pre_down },
	{ "PostDown", CONF_SECTION_INTERFACE, CONF_SLOT_REPEATABLE, parse_post_down },
	{ "SaveConfig", CONF_SECTION_INTERFACE, CONF_SLOT_SAVE_CONFIG, parse_save_config },
	{ "User", CONF_SECTION_INTERFACE, CONF_SLOT_USER, parse_user },
	{ "AdminGroup", CONF_SECTION_INTERFACE, CONF_SLOT_ADMIN_GROUP, parse_admin_group },
	{ "Threads", CONF_SECTION_INTERFACE, CONF_SLOT_THREADS, parse_threads },
	{ "Namespace", CONF_SECTION_INTERFACE, CONF_SLOT_NAMESPACE, conf_parse_namespace },
	{ "VRF", CONF_SECTION_INTERFACE, CONF_SLOT_VRF, conf_parse_vrf },
	{ "Isolate", CONF_SECTION_INTERFACE, CONF_SLOT_ISOLATE, conf_parse_isolate },
	{ "PublicKey", CONF_SECTION_PEER, CONF_SLOT_PUBLIC_KEY, parse_public_key },
	{ "PresharedKey", CONF_SECTION_PEER, CONF_SLOT_PRESHARED_KEY, parse_preshared_key },
	{ "PresharedKeyFile", CONF_SECTION_PEER, CONF_SLOT_PRESHARED_KEY,
	  parse_preshared_key_file },
	{ "AllowedIPs", CONF_SECTION_PEER, CONF_SLOT_REPEATABLE, parse_allowed_ips },
	{ "Endpoint", CONF_SECTION_PEER, CONF_SLOT_ENDPOINT, parse_endpoint },
	{ "PersistentKeepalive", CONF_SECTION_PEER, CONF_SLOT_KEEPALIVE, parse_keepalive },
	{ "Reach", CONF_SECTION_PEER, CONF_SLOT_REPEATABLE, conf_parse_reach },
};

const struct conf_key *conf_key_lookup(const char *name, enum conf_section section)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].section == section && !strcasecmp(keys[i].name, name))
			return &keys[i];
	}
	return NULL;
}
