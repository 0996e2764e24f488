/* SPDX-License-Identifier: MIT */
/*
 * The UAPI's text, apart from any socket: the key-wiping byte buffer, the set=1 parser
 * (message -> struct cfg_device) and the get=1 formatter (device -> text). The parser
 * checks that each line is well formed; what a set means for a running device is decided
 * by device_apply_cfg.
 *
 * Error values are wireguard-go's (device/uapi.go, ipc/uapi_unix.go): a line without '='
 * is -EPROTO, every other malformed line -EINVAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include "crypto/key.h"
#include "wgd/allowedips.h"
#include "wgd/device.h"
#include "wgd/endpoints.h"
#include "wgd/peer.h"
#include "wgd/socket.h"
#include "wgd/uapi.h"

enum {
	VALUE_MAX = 128, /* longer than any well-formed value ("[v6%zone]:port" is 70) */
	BUF_MIN_CAP = 256,
};

_Static_assert(sizeof(union cfg_sockaddr) == sizeof(union endpoint_addr),
	       "cfg.h and socket.h carry endpoints in the same sockaddr union");

/* --- buffers ------------------------------------------------------------------------ */

void uapi_buf_free(struct uapi_buf *b)
{
	if (b->data) {
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Makes room for extra more bytes, moving by hand so no unwiped copy is left behind. */
int uapi_buf_reserve(struct uapi_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
	char *p;

	if (b->cap - b->len >= extra)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	while (cap - b->len < extra)
		cap *= 2;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (b->data) {
		memcpy(p, b->data, b->len);
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Drops the first n bytes; whatever is no longer live is wiped. */
void uapi_buf_consume(struct uapi_buf *b, size_t n)
{
	if (!n)
		return;
	memmove(b->data, b->data + n, b->len - n);
	wipe(b->data + b->len - n, n);
	b->len -= n;
}

void uapi_buf_truncate(struct uapi_buf *b, size_t len)
{
	if (len == b->len)
		return;
	wipe(b->data + len, b->len - len);
	b->len = len;
}

int uapi_buf_printf(struct uapi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (size_t room = 64;; room = (size_t)n + 1) {
		if (uapi_buf_reserve(b, room) < 0)
			return -ENOMEM;
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
	}
}

/* --- set=1 ------------------------------------------------------------------------- */

enum set_key {
	/* device keys, valid only before the first public_key */
	SET_PRIVATE_KEY,
	SET_LISTEN_PORT,
	SET_FWMARK,
	SET_REPLACE_PEERS,
	SET_PUBLIC_KEY,
	/* peer keys, valid only after it */
	SET_REMOVE,
	SET_UPDATE_ONLY,
	SET_PRESHARED_KEY,
	SET_ENDPOINT,
	SET_PERSISTENT_KEEPALIVE_INTERVAL,
	SET_REPLACE_ALLOWED_IPS,
	SET_ALLOWED_IP,
	SET_PROTOCOL_VERSION,
	SET_WGD_ENDPOINTS, /* wgd's own (endpoints.h); long, never secret */
	SET_UNKNOWN,
};

static const char *const set_key_names[] = {
	[SET_PRIVATE_KEY] = "private_key",
	[SET_LISTEN_PORT] = "listen_port",
	[SET_FWMARK] = "fwmark",
	[SET_REPLACE_PEERS] = "replace_peers",
	[SET_PUBLIC_KEY] = "public_key",
	[SET_REMOVE] = "remove",
	[SET_UPDATE_ONLY] = "update_only",
	[SET_PRESHARED_KEY] = "preshared_key",
	[SET_ENDPOINT] = "endpoint",
	[SET_PERSISTENT_KEEPALIVE_INTERVAL] = "persistent_keepalive_interval",
	[SET_REPLACE_ALLOWED_IPS] = "replace_allowed_ips",
	[SET_ALLOWED_IP] = "allowed_ip",
	[SET_PROTOCOL_VERSION] = "protocol_version",
	[SET_WGD_ENDPOINTS] = ENDPOINTS_KEY,
	[SET_UNKNOWN] = "unknown key",
};

/*
 * The public keys seen so far in this message, so a repeat is caught in O(1): open
 * addressing over indices into cfg->peers (slot value index + 1; 0 = free).
 */
struct key_set {
	size_t *slots;
	size_t mask;
	size_t len;
};

struct set_parser {
	struct cfg_device *cfg;
	struct cfg_peer *peer; /* the last public_key's peer; NULL while on device keys */
	struct key_set seen;
};

static size_t key_slot(const struct key_set *s, const uint8_t *key)
{
	uint64_t h;

	/* public keys are uniformly distributed curve points, and not secret */
	memcpy(&h, key, sizeof(h));
	return (size_t)(h * 0x9e3779b97f4a7c15ULL >> 17) & s->mask;
}

static void key_set_put(struct key_set *s, const struct cfg_device *cfg, size_t idx)
{
	size_t i = key_slot(s, cfg->peers[idx].public_key);

	while (s->slots[i])
		i = (i + 1) & s->mask;
	s->slots[i] = idx + 1;
	s->len++;
}

static int key_set_grow(struct key_set *s, const struct cfg_device *cfg)
{
	struct key_set n = { .mask = s->mask ? s->mask * 2 + 1 : 63 };

	n.slots = calloc(n.mask + 1, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (size_t i = 0; s->slots && i <= s->mask; i++) {
		if (s->slots[i])
			key_set_put(&n, cfg, s->slots[i] - 1);
	}
	free(s->slots);
	*s = n;
	return 0;
}

/* Adds cfg->peers[idx]; -EINVAL when an earlier peer has the same public key. */
static int key_set_add(struct key_set *s, const struct cfg_device *cfg, size_t idx)
{
	const uint8_t *key = cfg->peers[idx].public_key;
	size_t i;

	if (2 * (s->len + 1) > s->mask + 1 && key_set_grow(s, cfg) < 0)
		return -ENOMEM;
	for (i = key_slot(s, key); s->slots[i]; i = (i + 1) & s->mask) {
		if (!memcmp(cfg->peers[s->slots[i] - 1].public_key, key, NOISE_PUBLIC_KEY_LEN))
			return -EINVAL;
	}
	key_set_put(s, cfg, idx);
	return 0;
}

/* Decimal 0..max: digits only (no sign, no space), leading zeros allowed as in Go. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* The only value of the flag keys; wireguard-go refuses everything else too. */
static bool is_true(const char *v)
{
	return !strcmp(v, "true");
}

/*
 * "[-]ip/cidr". The prefix length is plain decimal without leading zeros (as Go's
 * netip.ParsePrefix since 1.22); host bits are accepted and masked by the trie later.
 */
static int parse_allowedip(struct cfg_allowedip *aip, char *v)
{
	char *slash;
	uint64_t cidr;

	memset(aip, 0, sizeof(*aip));
	if (*v == '-') {
		aip->is_removal = true;
		v++;
	}
	slash = strrchr(v, '/');
	if (!slash || (slash[1] == '0' && slash[2]) || !parse_uint(slash + 1, 128, &cidr))
		return -EINVAL;
	*slash = '\0';
	aip->family = strchr(v, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(aip->family, v,
		      aip->family == AF_INET6 ? (void *)&aip->ip6 : (void *)&aip->ip4) != 1)
		return -EINVAL;
	if (aip->family == AF_INET && cidr > 32)
		return -EINVAL;
	aip->cidr = (uint8_t)cidr;
	return 0;
}

static int set_device_key(struct cfg_device *cfg, enum set_key k, const char *v)
{
	uint64_t n;

	switch (k) {
	case SET_PRIVATE_KEY: /* all zero is allowed: it removes the key */
		if (!key_from_hex(cfg->private_key, v))
			return -EINVAL;
		cfg->flags |= CFG_DEV_HAS_PRIVATE_KEY;
		return 0;
	case SET_LISTEN_PORT:
		if (!parse_uint(v, UINT16_MAX, &n))
			return -EINVAL;
		cfg->listen_port = (uint16_t)n;
		cfg->flags |= CFG_DEV_HAS_LISTEN_PORT;
		return 0;
	case SET_FWMARK:
		if (!parse_uint(v, UINT32_MAX, &n))
			return -EINVAL;
		cfg->fwmark = (uint32_t)n;
		cfg->flags |= CFG_DEV_HAS_FWMARK;
		return 0;
	case SET_REPLACE_PEERS:
		if (!is_true(v))
			return -EINVAL;
		cfg->flags |= CFG_DEV_REPLACE_PEERS;
		return 0;
	default:
		return -EINVAL; /* a peer key before any public_key */
	}
}

static int set_peer_flag(struct cfg_peer *peer, unsigned int flag, const char *v)
{
	if (!is_true(v))
		return -EINVAL;
	peer->flags |= flag;
	return 0;
}

static int set_peer_key(struct cfg_peer *peer, enum set_key k, char *v)
{
	struct cfg_allowedip aip;
	union endpoint_addr ep;
	uint64_t n;

	switch (k) {
	case SET_REMOVE:
		return set_peer_flag(peer, CFG_PEER_REMOVE_ME, v);
	case SET_UPDATE_ONLY:
		return set_peer_flag(peer, CFG_PEER_UPDATE_ONLY, v);
	case SET_PRESHARED_KEY: /* all zero removes it */
		if (!key_from_hex(peer->preshared_key, v))
			return -EINVAL;
		peer->flags |= CFG_PEER_HAS_PRESHARED_KEY;
		return 0;
	case SET_ENDPOINT:
		if (endpoint_from_string(&ep, v) < 0)
			return -EINVAL;
		memcpy(&peer->endpoint, &ep, sizeof(ep));
		peer->flags |= CFG_PEER_HAS_ENDPOINT;
		return 0;
	case SET_PERSISTENT_KEEPALIVE_INTERVAL:
		if (!parse_uint(v, UINT16_MAX, &n))
			return -EINVAL;
		peer->persistent_keepalive_s = (uint16_t)n;
		peer->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
		return 0;
	case SET_REPLACE_ALLOWED_IPS:
		/* wireguard-go applies lines in order: this also drops the ones above it */
		peer->allowedips_len = 0;
		return set_peer_flag(peer, CFG_PEER_REPLACE_ALLOWEDIPS, v);
	case SET_ALLOWED_IP:
		if (parse_allowedip(&aip, v) < 0)
			return -EINVAL;
		return cfg_peer_add_allowedip(peer, &aip);
	case SET_PROTOCOL_VERSION:
		return strcmp(v, "1") ? -EINVAL : 0;
	default:
		return -EINVAL; /* a device key after the first public_key */
	}
}

static int set_public_key(struct set_parser *p, const char *v)
{
	uint8_t key[NOISE_PUBLIC_KEY_LEN];
	struct cfg_peer *peer;

	if (!key_from_hex(key, v))
		return -EINVAL;
	peer = cfg_device_add_peer(p->cfg);
	if (!peer)
		return -ENOMEM;
	memcpy(peer->public_key, key, sizeof(key));
	p->peer = peer;
	return key_set_add(&p->seen, p->cfg, p->cfg->peers_len - 1);
}

static enum set_key set_key_lookup(const char *name, size_t len)
{
	for (int k = 0; k < SET_UNKNOWN; k++) {
		if (strlen(set_key_names[k]) == len && !memcmp(set_key_names[k], name, len))
			return (enum set_key)k;
	}
	return SET_UNKNOWN;
}

static int set_line(struct set_parser *p, const char *line, size_t len, const char **key_name)
{
	const char *eq = memchr(line, '=', len);
	char v[VALUE_MAX];
	size_t vlen;
	enum set_key k;
	int ret;

	if (!eq) {
		*key_name = "line without '='";
		return -EPROTO;
	}
	k = set_key_lookup(line, (size_t)(eq - line));
	*key_name = set_key_names[k];
	vlen = len - (size_t)(eq + 1 - line);
	if (k == SET_WGD_ENDPOINTS) /* parsed in place: longer than v, and no key in it */
		return p->peer && vlen <= ENDPOINTS_TEXT_MAX && !memchr(eq + 1, '\0', vlen)
			       ? endpoints_parse(p->peer, eq + 1, vlen)
			       : -EINVAL;
	if (k == SET_UNKNOWN || vlen >= sizeof(v) || memchr(eq + 1, '\0', vlen))
		return -EINVAL;
	memcpy(v, eq + 1, vlen); /* values can be keys: v is wiped below */
	v[vlen] = '\0';
	if (k == SET_PUBLIC_KEY)
		ret = set_public_key(p, v);
	else if (!p->peer)
		ret = set_device_key(p->cfg, k, v);
	else
		ret = set_peer_key(p->peer, k, v);
	wipe(v, sizeof(v));
	return ret;
}

int uapi_set_parse(struct cfg_device *cfg, const char *body, size_t len, struct uapi_set_error *err)
{
	struct set_parser p = { .cfg = cfg };
	const char *key = NULL, *nl;
	unsigned int line = 1;
	size_t n;
	int ret = 0;

	while (len) {
		nl = memchr(body, '\n', len);
		n = nl ? (size_t)(nl - body) : len;
		line++;
		if (!n)
			break;
		ret = set_line(&p, body, n, &key);
		if (ret < 0)
			break;
		n += !!nl;
		body += n;
		len -= n;
	}
	free(p.seen.slots);
	if (ret < 0) {
		if (err)
			*err = (struct uapi_set_error){ .line = line, .key = key };
		cfg_device_clear(cfg);
	}
	return ret;
}

/* --- get=1 ------------------------------------------------------------------------- */

static int put_key(struct uapi_buf *out, const char *name, const uint8_t *key)
{
	char hex[KEY_HEX_LEN + 1];
	int ret;

	key_to_hex(hex, key);
	ret = uapi_buf_printf(out, "%s=%s\n", name, hex);
	wipe(hex, sizeof(hex));
	return ret;
}

/*
 * allowed_ip lines as Go's netip.Prefix.String. IPv6 goes through socket.c's formatter,
 * which matches Go's RFC 5952 text where glibc's inet_ntop does not (::a.b.c.d).
 */
static int put_allowedip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	char text[ENDPOINT_STRING_LEN];
	union endpoint_addr a = { 0 };
	char *host = text;

	if (family == AF_INET) {
		if (!inet_ntop(AF_INET, addr, text, sizeof(text)))
			return -EINVAL;
	} else {
		a.in6.sin6_family = AF_INET6;
		memcpy(&a.in6.sin6_addr, addr, sizeof(a.in6.sin6_addr));
		endpoint_to_string(&a, text, sizeof(text)); /* "[addr]:0" */
		host = text + 1;
		*strrchr(host, ']') = '\0';
	}
	return uapi_buf_printf(ctx, "allowed_ip=%s/%u\n", host, (unsigned int)cidr);
}

static int put_peer(struct uapi_buf *out, const struct device *dev, const struct peer *p)
{
	uint64_t sec = p->last_handshake_unix_ns / NSEC_PER_SEC;
	uint64_t nsec = p->last_handshake_unix_ns % NSEC_PER_SEC;
	char ep[ENDPOINT_STRING_LEN];

	if (put_key(out, "public_key", peer_public_key(p)) ||
	    put_key(out, "preshared_key", peer_preshared_key(p)) ||
	    uapi_buf_printf(out, "protocol_version=1\n"))
		return -ENOMEM;
	if (p->endpoint.addr.sa.sa_family) {
		endpoint_to_string(&p->endpoint.addr, ep, sizeof(ep));
		if (uapi_buf_printf(out, "endpoint=%s\n", ep))
			return -ENOMEM;
	}
	if (p->eps.len &&
	    (endpoints_put(out, p->eps.list, p->eps.len) ||
	     uapi_buf_printf(out, "%s=%" PRIu64 "\n", ENDPOINTS_SWITCHES_KEY, p->eps.switches)))
		return -ENOMEM;
	if (uapi_buf_printf(out,
			    "last_handshake_time_sec=%" PRIu64 "\n"
			    "last_handshake_time_nsec=%" PRIu64 "\n"
			    "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n"
			    "persistent_keepalive_interval=%u\n",
			    sec, nsec, p->tx_bytes, p->rx_bytes,
			    (unsigned int)p->persistent_keepalive_s))
		return -ENOMEM;
	return allowedips_walk_by_peer(&dev->allowedips, p, put_allowedip, out);
}

int uapi_get_format(struct uapi_buf *out, const struct device *dev)
{
	const struct peer *p;
	int ret = 0;

	if (dev->identity.has_identity)
		ret = put_key(out, "private_key", dev->identity.static_private);
	if (!ret && dev->sock.port)
		ret = uapi_buf_printf(out, "listen_port=%u\n", (unsigned int)dev->sock.port);
	if (!ret && dev->fwmark)
		ret = uapi_buf_printf(out, "fwmark=%u\n", dev->fwmark);
	/* creation order; wireguard-go's is its map's, so wg(8) must not rely on any */
	for (p = dev->peers_first; p && !ret; p = p->next)
		ret = put_peer(out, dev, p);
	return ret ? -ENOMEM : 0;
}
