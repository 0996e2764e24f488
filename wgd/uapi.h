/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform userspace API (wireguard.com/xplatform) that wg(8) speaks over
 * RUNSTATEDIR/wireguard/<ifname>.sock: "get=1\n\n" and "set=1\n<key=value lines>\n\n",
 * each answered with "errno=N\n\n" (after the key lines for get), several operations per
 * connection. Formats and errno values follow wireguard-go's device/uapi.go, with one
 * deliberate difference: a set is parsed whole into a struct cfg_device first and then
 * committed atomically by device_apply_cfg, so a message that fails changes nothing
 * (wireguard-go leaves the lines before the error applied).
 *
 * Connections live on the daemon's epoll loop, nonblocking; each buffers one operation at
 * a time (up to UAPI_MAX_MESSAGE bytes) and its reply. Only uid 0 or the daemon's own uid
 * may connect (SO_PEERCRED), on top of the socket file's mode 0600.
 *
 * uapi.c holds the socket and the connections, uapi_text.c the parser and formatter.
 */
#ifndef WGD_UAPI_H
#define WGD_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wgd/cfg.h"
#include "wgd/loop.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct device;

enum uapi_values {
	UAPI_MAX_CLIENTS = 16,
	/*
	 * One set message, generously: 130 560 allowed_ip lines (wg's big test) take ~4 MB.
	 * A longer message is read to its end, discarded and answered errno=-EMSGSIZE.
	 */
	UAPI_MAX_MESSAGE = 64 << 20,
	UAPI_READ_CHUNK = 64 << 10,
};

/* A growable byte buffer; it may hold keys, so every move and free wipes. */
struct uapi_buf {
	char *data;
	size_t len, cap;
};

/* Wipes and frees; leaves b empty and reusable. */
void uapi_buf_free(struct uapi_buf *b);
/* Makes room for extra more bytes. 0 or -ENOMEM (b unchanged). */
int __must_check uapi_buf_reserve(struct uapi_buf *b, size_t extra);
/* Appends formatted text. 0 or -ENOMEM (b->len unchanged). */
int __must_check uapi_buf_printf(struct uapi_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drops the first n <= len bytes. */
void uapi_buf_consume(struct uapi_buf *b, size_t n);
/* Shortens to len <= b->len bytes. */
void uapi_buf_truncate(struct uapi_buf *b, size_t len);

struct uapi_server;

struct uapi_conn {
	struct loop_source src;
	struct uapi_server *srv;
	struct uapi_buf in;  /* received, not yet consumed */
	struct uapi_buf out; /* reply bytes; out_sent of them already written */
	size_t out_sent;
	size_t scan; /* where the search for the end of a set message resumes */
	bool is_eof, is_closing, is_discarding;
	uint32_t events; /* as registered with the loop */
};

struct uapi_server {
	struct loop_source listen;
	struct loop *loop;  /* borrowed */
	struct device *dev; /* borrowed */
	uid_t owner_uid;    /* besides root, the only user served (the launcher's) */
	gid_t admin_gid;    /* members of this group are served too ... */
	bool has_admin_gid; /* ... when set (uapi_server_set_access) */
	size_t max_message; /* UAPI_MAX_MESSAGE; tests lower it */
	struct uapi_conn *conns[UAPI_MAX_CLIENTS];

	void (*on_set)(void *ctx); /* after each committed set=1 (uapi_server_set_notify) */
	void *on_set_ctx;
};

/*
 * A socket file DIR/<ifname>SUFFIX: the UAPI socket ("RUNSTATEDIR/wireguard", ".sock")
 * or the supervisor's control socket (control.h). The uapi_sockfile_* functions do for
 * any of them what uapi_listen, uapi_grant_group and uapi_unlink do for the UAPI socket.
 */
struct uapi_sockfile {
	const char *dir; /* created 0755 (with RUNSTATEDIR) if missing */
	const char *suffix;
};

struct sockaddr_un;

/* Fills addr with the file's path. 0, -EINVAL (bad ifname) or -ENAMETOOLONG. */
int __must_check uapi_sockfile_path(struct sockaddr_un *addr, const struct uapi_sockfile *f,
				    const char *ifname);
int __must_check uapi_sockfile_listen(const struct uapi_sockfile *f, const char *ifname,
				      int *fd_out);
int __must_check uapi_sockfile_grant_group(const struct uapi_sockfile *f, const char *ifname,
					   gid_t gid);
void uapi_sockfile_unlink(const struct uapi_sockfile *f, const char *ifname);

/*
 * Creates RUNSTATEDIR/wireguard (0755) and binds a listening UNIX stream socket at
 * <ifname>.sock in it, mode 0600, nonblocking, close-on-exec. A live socket there (one
 * that accepts connect) gives -EADDRINUSE; a stale one (ECONNREFUSED) is unlinked and
 * replaced; a non-socket file there gives -EEXIST. ifname must be 1..15 bytes without
 * '/' (-EINVAL). Returns 0 with *fd_out set, or -errno.
 */
int __must_check uapi_listen(const char *ifname, int *fd_out);

/*
 * Opens the socket of ifname to the group gid: group gid, mode 0660 (the file stays
 * root's). Called by the root supervisor right after uapi_listen. 0 or -errno.
 */
int __must_check uapi_grant_group(const char *ifname, gid_t gid);

/* Removes RUNSTATEDIR/wireguard/<ifname>.sock; errors are ignored. */
void uapi_unlink(const char *ifname);

/*
 * Starts serving on listen_fd (from uapi_listen, or inherited), which the server owns
 * from then on. dev and loop are borrowed for the server's life. Returns 0 or -errno (the
 * caller then still owns listen_fd).
 */
int __must_check uapi_server_init(struct uapi_server *srv, struct device *dev, struct loop *loop,
				  int listen_fd);

/*
 * Who may talk to the server, checked with SO_PEERCRED on every connection (whatever
 * the file's mode): root, owner (the user who started the daemon, before the worker
 * dropped privileges), and, when has_group, processes whose effective or supplementary
 * groups include gid (SO_PEERGROUPS). Others are refused before a byte is read.
 * uapi_server_init defaults to root and the current effective user.
 */
void uapi_server_set_access(struct uapi_server *srv, uid_t owner, bool has_group, gid_t gid);

/*
 * Calls fn(ctx) after every set=1 the device committed (none for a refused one), before
 * the reply is sent: the worker tells its supervisor that the peers may have changed.
 */
void uapi_server_set_notify(struct uapi_server *srv, void (*fn)(void *ctx), void *ctx);

/*
 * The access rule of uapi_server_set_access for any connected UNIX socket fd: 0 for uid 0,
 * owner, or (has_group) a process whose effective or supplementary groups hold gid; else
 * -EPERM, or -errno if SO_PEERCRED fails. *uid is the peer's, for the log line.
 */
int __must_check uapi_peer_check(int fd, uid_t owner, bool has_group, gid_t gid, uid_t *uid);

/*
 * Closes every connection and the listening fd (the socket file stays: uapi_unlink).
 * Safe after any uapi_server_init, also a failed one.
 */
void uapi_server_clear(struct uapi_server *srv);

/*
 * Serves an already-connected stream fd (accept() does this; tests pass one end of a
 * socketpair). Takes ownership of fd only on success. Returns 0, -EPERM (peer uid is
 * neither 0 nor ours), -EBUSY (UAPI_MAX_CLIENTS connections open) or -ENOMEM.
 */
int __must_check uapi_server_add_client(struct uapi_server *srv, int fd);

/* Where a set message failed, for the log: never holds a value, since values can be keys. */
struct uapi_set_error {
	unsigned int line; /* 1 is the "set=1" line */
	const char *key;   /* static string: the key's name, or a description */
};

/*
 * Parses the body of a set message (the lines after "set=1\n", up to an empty line or
 * len; a last line may lack its '\n') into cfg, which must be zeroed. Syntax only, with
 * wireguard-go's key names and rules; nothing is looked up on a device. Returns 0 (cfg
 * filled: the caller clears it), or with cfg cleared: -EPROTO (a line without '='),
 * -EINVAL (unknown key, malformed value, device key after the first public_key, peer key
 * before it, a public_key repeated) or -ENOMEM; *err says where.
 */
int __must_check uapi_set_parse(struct cfg_device *cfg, const char *body, size_t len,
				struct uapi_set_error *err);

/*
 * Appends dev's state in wireguard-go's get=1 format and order, without the final
 * "errno=0\n\n": the device keys, then per peer (creation order) public_key,
 * preshared_key, protocol_version, endpoint, last handshake, counters, keepalive and the
 * allowed_ip lines. Returns 0 or -ENOMEM (out then holds a partial text: truncate it).
 */
int __must_check uapi_get_format(struct uapi_buf *out, const struct device *dev);

#endif
