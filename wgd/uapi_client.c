/* SPDX-License-Identifier: MIT */
/*
 * The client side of the UAPI: socket discovery (wireguard-tools ipc-uapi-unix.h's rules),
 * a strict get=1 reply parser and the set=1 serialiser (wireguard-tools ipc-uapi.h's line
 * order). Replies and requests may carry keys, so every buffer is wiped before it is freed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto/key.h"
#include "wgd/clock.h"
#include "wgd/endpoints.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

#define UAPI_CLIENT_DIR RUNSTATEDIR "/wireguard"
#define SOCK_SUFFIX	".sock"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	VALUE_MAX = 128, /* longer than any well-formed value ("[v6%zone]:port" is ~70) */
	READ_CHUNK = 64 << 10,
	CONNECT_RETRY_MS = 10, /* a full listen backlog: try again until the deadline */
	NS_PER_MS = 1000000,
};

/*
 * One exchange's limits: a CLOCK_BOOTTIME deadline (0 = none) and a reply cap. Without a
 * deadline every call blocks as before (and SO_SNDTIMEO/SO_RCVTIMEO set by a caller still
 * apply); with one, each call is non-blocking and poll() waits for what time is left.
 */
struct exchange {
	uint64_t deadline_ns;
	size_t max_reply;
};

static struct exchange exchange_start(const struct uapi_client_bounds *b)
{
	struct exchange x = { .max_reply = UAPI_CLIENT_MAX_REPLY };

	if (b && b->max_reply)
		x.max_reply = b->max_reply;
	if (b && b->timeout_ms)
		x.deadline_ns = clock_boottime_ns() + (uint64_t)b->timeout_ms * NS_PER_MS;
	return x;
}

/* Waits until fd is ready for events or the deadline passes (-ETIMEDOUT). */
static int exchange_wait(const struct exchange *x, int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		now = clock_boottime_ns();
		if (now >= x->deadline_ns)
			return -ETIMEDOUT;
		/* rounded up, so a wait never ends just before the deadline and spins */
		n = poll(&pfd, 1, (int)((x->deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* --- a wiping text buffer -------------------------------------------------------------- */

void uapi_client_text_free(char *text, size_t len)
{
	if (!text)
		return;
	wipe(text, len);
	free(text);
}

/* --- the socket ------------------------------------------------------------------------ */

static int sock_addr(struct sockaddr_un *addr, const char *ifname)
{
	size_t len = strnlen(ifname, IFNAMSIZ);
	int n;

	if (!len || len >= IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	n = snprintf(addr->sun_path, sizeof(addr->sun_path), UAPI_CLIENT_DIR "/%s" SOCK_SUFFIX,
		     ifname);
	return n > 0 && (size_t)n < sizeof(addr->sun_path) ? 0 : -ENAMETOOLONG;
}

/*
 * connect(2) on a fresh socket. With a deadline the socket is non-blocking, and a full
 * listen backlog (EAGAIN: a daemon that stopped accepting) is retried until it passes.
 */
static int connect_until(const struct sockaddr_un *addr, const struct exchange *x)
{
	const struct timespec pause = { 0, CONNECT_RETRY_MS * NS_PER_MS };
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (x->deadline_ns ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
			return fd;
		ret = -errno;
		if (ret == -EINTR)
			continue;
		if (ret != -EAGAIN || !x->deadline_ns)
			break;
		if (clock_boottime_ns() >= x->deadline_ns) {
			ret = -ETIMEDOUT;
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(fd);
	return ret;
}

static int connect_bounded(const char *ifname, const struct exchange *x)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd, ret;

	ret = sock_addr(&addr, ifname);
	if (ret < 0)
		return ret;
	if (stat(addr.sun_path, &st) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENODEV;
	fd = connect_until(&addr, x);
	if (fd >= 0)
		return fd;
	ret = fd;
	/* As wg(8) does: a socket nobody listens on is a dead daemon's leftover. */
	if (ret == -ECONNREFUSED)
		unlink(addr.sun_path);
	return ret == -ECONNREFUSED || ret == -ENOENT ? -ENODEV : ret;
}

int uapi_client_connect(const char *ifname)
{
	const struct exchange x = exchange_start(NULL);

	return connect_bounded(ifname, &x);
}

int uapi_client_peer_pid(const char *ifname, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = uapi_client_connect(ifname), ret = 0;

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		ret = -errno;
	else if (cred.pid <= 0)
		ret = -ESRCH;
	else
		*pid = cred.pid;
	close(fd);
	return ret;
}

/* wg(8)'s rule for listing: a socket file that does not refuse connections. */
static bool sock_is_live(const char *ifname)
{
	int fd = uapi_client_connect(ifname);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return fd != -ENODEV && fd != -EINVAL && fd != -ENAMETOOLONG;
}

static int iflist_add(struct uapi_iflist *l, const char *name, size_t len, size_t *cap)
{
	char(*p)[IFNAMSIZ];

	if (l->len == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		p = reallocarray(l->names, *cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->names = p;
	}
	memcpy(l->names[l->len], name, len);
	l->names[l->len++][len] = '\0';
	return 0;
}

int uapi_client_list(struct uapi_iflist *out)
{
	const size_t suffix = strlen(SOCK_SUFFIX);
	struct uapi_iflist l = { 0 };
	char name[IFNAMSIZ];
	struct dirent *ent;
	size_t len, cap = 0;
	int ret = 0;
	DIR *dir;

	dir = opendir(UAPI_CLIENT_DIR);
	if (!dir) {
		*out = l;
		return errno == ENOENT ? 0 : -errno;
	}
	while (!ret && (ent = readdir(dir))) {
		len = strlen(ent->d_name);
		if (len <= suffix || len - suffix >= IFNAMSIZ ||
		    strcmp(ent->d_name + len - suffix, SOCK_SUFFIX))
			continue;
		memcpy(name, ent->d_name, len - suffix);
		name[len - suffix] = '\0';
		if (sock_is_live(name))
			ret = iflist_add(&l, name, len - suffix, &cap);
	}
	closedir(dir);
	if (ret < 0)
		uapi_iflist_clear(&l);
	*out = l;
	return ret;
}

void uapi_iflist_clear(struct uapi_iflist *l)
{
	free(l->names);
	l->names = NULL;
	l->len = 0;
}

static int write_all(int fd, const char *p, size_t len, const struct exchange *x)
{
	int flags = MSG_NOSIGNAL | (x->deadline_ns ? MSG_DONTWAIT : 0), ret;

	while (len) {
		ssize_t n = send(fd, p, len, flags);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && x->deadline_ns && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = exchange_wait(x, fd, POLLOUT);
			if (ret < 0)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int uapi_client_write_all(int fd, const char *p, size_t len)
{
	const struct exchange x = exchange_start(NULL);

	return write_all(fd, p, len, &x);
}

/* The end of the first empty line at or after from, or 0. */
static size_t reply_end(const struct uapi_buf *b, size_t from)
{
	for (size_t i = from; i < b->len; i++) {
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] == '\n'))
			return i + 1;
	}
	return 0;
}

/*
 * Reads one reply, up to and including its empty line, into b. No read goes past
 * x->max_reply, so the buffer never grows beyond the power of two at or above it.
 */
static int read_reply(int fd, struct uapi_buf *b, const struct exchange *x)
{
	int flags = x->deadline_ns ? MSG_DONTWAIT : 0, ret;
	size_t end = 0, from, room;
	ssize_t n;

	while (!end) {
		if (b->len >= x->max_reply)
			return -EMSGSIZE;
		room = x->max_reply - b->len < READ_CHUNK ? x->max_reply - b->len : READ_CHUNK;
		if (uapi_buf_reserve(b, room) < 0)
			return -ENOMEM;
		n = recv(fd, b->data + b->len, room, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && x->deadline_ns && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = exchange_wait(x, fd, POLLIN);
			if (ret < 0)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		from = b->len;
		b->len += (size_t)n;
		end = reply_end(b, from);
	}
	/* anything after the reply would belong to an operation we did not send */
	return end == b->len ? 0 : -EPROTO;
}

/* --- get=1 ----------------------------------------------------------------------------- */

struct get_parser {
	struct uapi_state *st;
	struct cfg_peer *peer;
	size_t state_cap;
	bool has_errno;
	int err;
};

static bool parse_u64(uint64_t *out, const char *v, uint64_t max)
{
	uint64_t n = 0;

	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (n > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (n > max)
		return false;
	*out = n;
	return true;
}

/* "a.b.c.d:port" or "[v6(%zone)]:port", numeric only: no name is ever resolved. */
static bool parse_endpoint(union cfg_sockaddr *ep, const char *v)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	char host[VALUE_MAX];
	const char *port, *close_br;
	struct addrinfo *res;
	uint64_t portnum;
	size_t hlen;

	if (v[0] == '[') {
		close_br = strchr(v, ']');
		if (!close_br || close_br[1] != ':')
			return false;
		hlen = (size_t)(close_br - v - 1);
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, v + 1, hlen);
		port = close_br + 2;
		hints.ai_family = AF_INET6;
	} else {
		port = strrchr(v, ':');
		if (!port)
			return false;
		hlen = (size_t)(port - v);
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, v, hlen);
		port++;
		hints.ai_family = AF_INET;
	}
	host[hlen] = '\0';
	if (!hlen || !parse_u64(&portnum, port, UINT16_MAX) ||
	    getaddrinfo(host, NULL, &hints, &res))
		return false;
	memset(ep, 0, sizeof(*ep));
	memcpy(ep, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ep->sa.sa_family == AF_INET)
		ep->in4.sin_port = htons((uint16_t)portnum);
	else
		ep->in6.sin6_port = htons((uint16_t)portnum);
	return true;
}

static bool parse_allowedip(struct cfg_allowedip *aip, const char *v)
{
	char ip[VALUE_MAX];
	const char *slash = strchr(v, '/');
	uint64_t cidr;

	if (!slash || (size_t)(slash - v) >= sizeof(ip))
		return false;
	memcpy(ip, v, (size_t)(slash - v));
	ip[slash - v] = '\0';
	memset(aip, 0, sizeof(*aip));
	if (strchr(ip, ':')) {
		aip->family = AF_INET6;
		if (inet_pton(AF_INET6, ip, &aip->ip6) != 1 || !parse_u64(&cidr, slash + 1, 128))
			return false;
	} else {
		aip->family = AF_INET;
		if (inet_pton(AF_INET, ip, &aip->ip4) != 1 || !parse_u64(&cidr, slash + 1, 32))
			return false;
	}
	aip->cidr = (uint8_t)cidr;
	return true;
}

static int get_new_peer(struct get_parser *p, const char *v)
{
	struct uapi_state *st = p->st;
	struct uapi_peer_state *ps;
	struct cfg_peer *peer = cfg_device_add_peer(&st->cfg);

	if (!peer)
		return -ENOMEM;
	if (st->cfg.peers_cap > p->state_cap) {
		ps = reallocarray(st->peer_state, st->cfg.peers_cap, sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		memset(ps + p->state_cap, 0, (st->cfg.peers_cap - p->state_cap) * sizeof(*ps));
		st->peer_state = ps;
		p->state_cap = st->cfg.peers_cap;
	}
	p->peer = peer;
	return key_from_hex(peer->public_key, v) ? 0 : -EPROTO;
}

static int get_device_line(struct get_parser *p, const char *k, const char *v)
{
	struct cfg_device *cfg = &p->st->cfg;
	uint64_t n;

	if (!strcmp(k, "private_key")) {
		if (!key_from_hex(cfg->private_key, v))
			return -EPROTO;
		cfg->flags |= CFG_DEV_HAS_PRIVATE_KEY;
	} else if (!strcmp(k, "listen_port")) {
		if (!parse_u64(&n, v, UINT16_MAX))
			return -EPROTO;
		cfg->listen_port = (uint16_t)n;
		cfg->flags |= CFG_DEV_HAS_LISTEN_PORT;
	} else if (!strcmp(k, "fwmark")) {
		if (!parse_u64(&n, v, UINT32_MAX))
			return -EPROTO;
		cfg->fwmark = (uint32_t)n;
		cfg->flags |= CFG_DEV_HAS_FWMARK;
	} else {
		return 1;
	}
	return p->peer ? -EPROTO : 0; /* device keys come before the first peer */
}

static int get_counter_line(struct uapi_peer_state *ps, const char *k, const char *v)
{
	uint64_t *field;

	if (!strcmp(k, "rx_bytes"))
		field = &ps->rx_bytes;
	else if (!strcmp(k, "tx_bytes"))
		field = &ps->tx_bytes;
	else if (!strcmp(k, "last_handshake_time_sec"))
		field = &ps->last_handshake_sec;
	else if (!strcmp(k, "last_handshake_time_nsec"))
		field = &ps->last_handshake_nsec;
	else if (!strcmp(k, ENDPOINTS_SWITCHES_KEY))
		field = &ps->endpoint_switches;
	else
		return 1;
	return parse_u64(field, v, k[0] == 'l' ? INT64_MAX : UINT64_MAX) ? 0 : -EPROTO;
}

static int get_peer_line(struct get_parser *p, const char *k, const char *v)
{
	struct cfg_peer *peer = p->peer;
	struct cfg_allowedip aip;
	uint64_t n;

	if (!strcmp(k, "preshared_key")) {
		if (!key_from_hex(peer->preshared_key, v))
			return -EPROTO;
		if (!key_is_zero(peer->preshared_key))
			peer->flags |= CFG_PEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(k, "endpoint")) {
		if (!parse_endpoint(&peer->endpoint, v))
			return -EPROTO;
		peer->flags |= CFG_PEER_HAS_ENDPOINT;
	} else if (!strcmp(k, "persistent_keepalive_interval")) {
		if (!parse_u64(&n, v, UINT16_MAX))
			return -EPROTO;
		peer->persistent_keepalive_s = (uint16_t)n;
		peer->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	} else if (!strcmp(k, "allowed_ip")) {
		if (!parse_allowedip(&aip, v))
			return -EPROTO;
		return cfg_peer_add_allowedip(peer, &aip);
	} else if (!strcmp(k, ENDPOINTS_KEY)) {
		return endpoints_parse(peer, v, strlen(v)) < 0 ? -EPROTO : 0;
	} else {
		return get_counter_line(&p->st->peer_state[peer - p->st->cfg.peers], k, v);
	}
	return 0;
}

static int get_errno_line(struct get_parser *p, const char *v)
{
	uint64_t n;
	bool neg = v[0] == '-';

	if (!parse_u64(&n, v + neg, INT32_MAX))
		return -EPROTO;
	p->has_errno = true;
	p->err = -(int)n; /* wireguard-go sends it negative, wg(8)'s reading positive */
	return 0;
}

static const char *const peer_keys[] = {
	"preshared_key", "endpoint", "persistent_keepalive_interval", "allowed_ip",
	"rx_bytes",	 "tx_bytes", "last_handshake_time_sec",	      "last_handshake_time_nsec",
};
static const char *const other_keys[] = {
	"errno", "public_key", "private_key", "listen_port", "fwmark",
};

static bool is_in(const char *k, size_t klen, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(list[i]) == klen && !memcmp(list[i], k, klen))
			return true;
	}
	return false;
}

/* Keys whose values this parser checks; any other key is skipped, as wg(8) skips it. */
static bool is_known_key(const char *k, size_t klen)
{
	return is_in(k, klen, peer_keys, ARRAY_SIZE(peer_keys)) ||
	       is_in(k, klen, other_keys, ARRAY_SIZE(other_keys));
}

/* One "key=value" line, NUL-terminated without its '\n'. */
static int get_line(struct get_parser *p, char *line)
{
	char *v = strchr(line, '=');
	int ret;

	if (!v || v == line || p->has_errno) /* errno is the last line */
		return -EPROTO;
	*v++ = '\0';
	if (!strcmp(line, "errno"))
		return get_errno_line(p, v);
	if (!strcmp(line, "public_key"))
		return get_new_peer(p, v);
	ret = get_device_line(p, line, v);
	if (ret <= 0)
		return ret;
	if (!p->peer) /* a peer key before any public_key is out of place */
		return is_in(line, strlen(line), peer_keys, ARRAY_SIZE(peer_keys)) ? -EPROTO : 0;
	ret = get_peer_line(p, line, v);
	return ret > 0 ? 0 : ret; /* protocol_version and newer keys are ignored */
}

/* A line too long to be any known key's value: only an unknown key may be that long. */
static int skip_long_line(const char *line, size_t n)
{
	const char *eq = memchr(line, '=', n);

	if (!eq || eq == line || memchr(line, '\0', n) || is_known_key(line, (size_t)(eq - line)))
		return -EPROTO;
	return 0;
}

#define KEY_EQ_LEN (sizeof(ENDPOINTS_KEY "=") - 1)

/* A long wgd_endpoints= line of a peer (endpoints.h): parsed where it lies. */
static bool is_endpoints_line(const struct get_parser *p, const char *line, size_t n)
{
	return p->peer && !p->has_errno && n <= KEY_EQ_LEN + ENDPOINTS_TEXT_MAX &&
	       !memcmp(line, ENDPOINTS_KEY "=", KEY_EQ_LEN) && !memchr(line, '\0', n);
}

static int get_parse_lines(struct get_parser *p, const char *text, size_t len)
{
	char small[VALUE_MAX * 2];
	size_t pos = 0, n;
	const char *nl;
	int ret;

	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		if (!nl)
			return -EPROTO;
		n = (size_t)(nl - (text + pos));
		if (!n) /* the empty line ends the reply; nothing may follow it */
			return pos + 1 == len && p->has_errno ? 0 : -EPROTO;
		if (n >= sizeof(small) && is_endpoints_line(p, text + pos, n)) {
			ret = endpoints_parse(p->peer, text + pos + KEY_EQ_LEN, n - KEY_EQ_LEN) < 0
				      ? -EPROTO
				      : 0;
		} else if (n >= sizeof(small)) {
			ret = p->has_errno ? -EPROTO : skip_long_line(text + pos, n);
		} else {
			memcpy(small, text + pos, n);
			small[n] = '\0';
			ret = strlen(small) == n ? get_line(p, small) : -EPROTO;
			wipe(small, n);
		}
		if (ret < 0)
			return ret;
		pos += n + 1;
	}
	return -EPROTO; /* no empty line */
}

int uapi_client_get_parse(struct uapi_state *out, const char *text, size_t len)
{
	struct get_parser p = { .st = out };
	int ret;

	ret = get_parse_lines(&p, text, len);
	if (!ret)
		ret = p.err;
	/* a key listed twice would make every per-peer answer ambiguous */
	if (!ret) {
		ret = cfg_device_has_duplicate_peers(&out->cfg);
		if (ret > 0)
			ret = -EPROTO;
	}
	if (ret < 0)
		uapi_state_clear(out);
	return ret;
}

static int get_exchange(int fd, struct uapi_state *out, const struct exchange *x)
{
	static const char req[] = "get=1\n\n";
	struct uapi_buf b = { 0 };
	int ret;

	ret = write_all(fd, req, sizeof(req) - 1, x);
	if (!ret)
		ret = read_reply(fd, &b, x);
	if (!ret)
		ret = uapi_client_get_parse(out, b.data, b.len);
	uapi_buf_free(&b);
	return ret;
}

int uapi_client_get_fd(int fd, struct uapi_state *out, const struct uapi_client_bounds *b)
{
	const struct exchange x = exchange_start(b);

	return get_exchange(fd, out, &x);
}

int uapi_client_get_bounded(const char *ifname, struct uapi_state *out,
			    const struct uapi_client_bounds *b)
{
	const struct exchange x = exchange_start(b);
	int fd = connect_bounded(ifname, &x), ret;

	if (fd < 0)
		return fd;
	ret = get_exchange(fd, out, &x);
	close(fd);
	return ret;
}

int uapi_client_get(const char *ifname, struct uapi_state *out)
{
	return uapi_client_get_bounded(ifname, out, NULL);
}

void uapi_state_clear(struct uapi_state *s)
{
	cfg_device_clear(&s->cfg);
	free(s->peer_state);
	s->peer_state = NULL;
}

/* --- set=1 ----------------------------------------------------------------------------- */

static int put_key(struct uapi_buf *b, const char *name, const uint8_t key[static KEY_LEN])
{
	char hex[KEY_HEX_LEN + 1];
	int ret;

	key_to_hex(hex, key);
	ret = uapi_buf_printf(b, "%s=%s\n", name, hex);
	wipe(hex, sizeof(hex));
	return ret;
}

static int put_endpoint(struct uapi_buf *b, const union cfg_sockaddr *ep)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t len;

	if (ep->sa.sa_family == AF_INET)
		len = sizeof(ep->in4);
	else if (ep->sa.sa_family == AF_INET6)
		len = sizeof(ep->in6);
	else
		return -EINVAL;
	if (getnameinfo(&ep->sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV | NI_DGRAM))
		return -EINVAL;
	if (ep->sa.sa_family == AF_INET6)
		return uapi_buf_printf(b, "endpoint=[%s]:%s\n", host, serv);
	return uapi_buf_printf(b, "endpoint=%s:%s\n", host, serv);
}

static int put_allowedip(struct uapi_buf *b, const struct cfg_allowedip *aip)
{
	char ip[INET6_ADDRSTRLEN];

	if ((aip->family != AF_INET && aip->family != AF_INET6) ||
	    !inet_ntop(aip->family, &aip->ip6, ip, sizeof(ip)) ||
	    aip->cidr > (aip->family == AF_INET ? 32 : 128))
		return -EINVAL;
	return uapi_buf_printf(b, "allowed_ip=%s%s/%u\n", aip->is_removal ? "-" : "", ip,
			       aip->cidr);
}

static int put_peer(struct uapi_buf *b, const struct cfg_peer *peer)
{
	int ret = put_key(b, "public_key", peer->public_key);

	if (!ret && (peer->flags & CFG_PEER_REMOVE_ME))
		return uapi_buf_printf(b, "remove=true\n");
	if (!ret && (peer->flags & CFG_PEER_UPDATE_ONLY))
		ret = uapi_buf_printf(b, "update_only=true\n");
	if (!ret && (peer->flags & CFG_PEER_HAS_PRESHARED_KEY))
		ret = put_key(b, "preshared_key", peer->preshared_key);
	if (!ret && (peer->flags & CFG_PEER_HAS_ENDPOINT))
		ret = put_endpoint(b, &peer->endpoint);
	if (!ret && (peer->flags & CFG_PEER_HAS_ENDPOINTS))
		ret = endpoints_put(b, peer->endpoints, peer->endpoints_len);
	if (!ret && (peer->flags & CFG_PEER_HAS_PERSISTENT_KEEPALIVE))
		ret = uapi_buf_printf(b, "persistent_keepalive_interval=%u\n",
				      peer->persistent_keepalive_s);
	if (!ret && (peer->flags & CFG_PEER_REPLACE_ALLOWEDIPS))
		ret = uapi_buf_printf(b, "replace_allowed_ips=true\n");
	for (size_t i = 0; !ret && i < peer->allowedips_len; i++)
		ret = put_allowedip(b, &peer->allowedips[i]);
	return ret;
}

static int put_device(struct uapi_buf *b, const struct cfg_device *cfg)
{
	int ret = uapi_buf_printf(b, "set=1\n");

	if (!ret && (cfg->flags & CFG_DEV_HAS_PRIVATE_KEY))
		ret = put_key(b, "private_key", cfg->private_key);
	if (!ret && (cfg->flags & CFG_DEV_HAS_LISTEN_PORT))
		ret = uapi_buf_printf(b, "listen_port=%u\n", cfg->listen_port);
	if (!ret && (cfg->flags & CFG_DEV_HAS_FWMARK))
		ret = uapi_buf_printf(b, "fwmark=%" PRIu32 "\n", cfg->fwmark);
	if (!ret && (cfg->flags & CFG_DEV_REPLACE_PEERS))
		ret = uapi_buf_printf(b, "replace_peers=true\n");
	return ret;
}

int uapi_client_set_format(char **out, size_t *len, const struct cfg_device *cfg)
{
	struct uapi_buf b = { 0 };
	int ret = put_device(&b, cfg);

	for (size_t i = 0; !ret && i < cfg->peers_len; i++)
		ret = put_peer(&b, &cfg->peers[i]);
	if (!ret)
		ret = uapi_buf_printf(&b, "\n");
	if (ret < 0) {
		uapi_buf_free(&b);
		return ret;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

/* "errno=N\n\n" and nothing else; the value comes back negative whatever its sign. */
static int parse_set_reply(const struct uapi_buf *b)
{
	char v[32];
	uint64_t n;
	size_t vlen;
	bool neg;

	if (b->len < 9 || memcmp(b->data, "errno=", 6) || memcmp(b->data + b->len - 2, "\n\n", 2))
		return -EPROTO;
	vlen = b->len - 8;
	if (vlen >= sizeof(v))
		return -EPROTO;
	memcpy(v, b->data + 6, vlen);
	v[vlen] = '\0';
	neg = v[0] == '-';
	if (!parse_u64(&n, v + neg, INT32_MAX))
		return -EPROTO;
	return -(int)n;
}

static int set_exchange(int fd, const struct cfg_device *cfg, const struct exchange *x)
{
	struct uapi_buf reply = { 0 };
	size_t len = 0;
	char *msg = NULL;
	int ret, wret;

	ret = uapi_client_set_format(&msg, &len, cfg);
	if (ret < 0)
		return ret;
	wret = write_all(fd, msg, len, x);
	uapi_client_text_free(msg, len);
	/* out of time already: the daemon cannot have answered either */
	if (wret == -ETIMEDOUT)
		return wret;
	/* a daemon that stopped reading early may still have answered: prefer its errno */
	ret = read_reply(fd, &reply, x);
	if (!ret)
		ret = parse_set_reply(&reply);
	else if (wret < 0 && ret != -ETIMEDOUT)
		ret = wret;
	uapi_buf_free(&reply);
	return ret;
}

int uapi_client_set_fd(int fd, const struct cfg_device *cfg, const struct uapi_client_bounds *b)
{
	const struct exchange x = exchange_start(b);

	return set_exchange(fd, cfg, &x);
}

int uapi_client_set_bounded(const char *ifname, const struct cfg_device *cfg,
			    const struct uapi_client_bounds *b)
{
	const struct exchange x = exchange_start(b);
	int fd = connect_bounded(ifname, &x), ret;

	if (fd < 0)
		return fd;
	ret = set_exchange(fd, cfg, &x);
	close(fd);
	return ret;
}

int uapi_client_set(const char *ifname, const struct cfg_device *cfg)
{
	return uapi_client_set_bounded(ifname, cfg, NULL);
}

/* --- the supervisor's bounds on its worker ----------------------------------------------- */

struct uapi_client_bounds uapi_client_worker_bounds(const struct cfg_device *cfg)
{
	struct uapi_client_bounds b = { .timeout_ms = UAPI_CLIENT_WORKER_TIMEOUT_MS };
	size_t items = 0, reply = 0;

	for (size_t i = 0; cfg && i < cfg->peers_len; i++) {
		items += 1 + cfg->peers[i].allowedips_len;
		reply += UAPI_CLIENT_PEER_REPLY_MAX +
			 cfg->peers[i].allowedips_len * UAPI_CLIENT_AIP_REPLY_MAX;
	}
	b.timeout_ms += (unsigned int)(items / UAPI_CLIENT_WORKER_ITEMS_PER_S) * 1000;
	b.max_reply = UAPI_CLIENT_WORKER_SLACK + 2 * reply;
	if (b.max_reply > UAPI_CLIENT_MAX_REPLY)
		b.max_reply = UAPI_CLIENT_MAX_REPLY;
	return b;
}

const char *uapi_client_worker_strerror(int err, const struct uapi_client_bounds *b, char *buf,
					size_t len)
{
	if (err == -ETIMEDOUT)
		snprintf(buf, len, "the worker did not answer within %u s",
			 (b->timeout_ms + 999) / 1000);
	else if (err == -EMSGSIZE)
		snprintf(buf, len, "the worker's reply exceeds %zu KiB", b->max_reply >> 10);
	else
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}
