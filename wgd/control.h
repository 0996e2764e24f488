/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's control socket, RUNSTATEDIR/wgd/<ifname>.ctl: how `wgctl reload`,
 * `check` and `down` reach the one daemon that serves an interface in this mount
 * namespace, without looking for processes. It lives in its own directory so that wg(8),
 * which lists RUNSTATEDIR/wireguard, never mistakes it for a UAPI socket.
 *
 * One request per connection, a line then an empty line, as the UAPI frames them:
 *   info=1    file=PATH (the config file; none for a bare daemon)
 *   check=1   parse the daemon's own file, change nothing: message=FILE: OK, or error=
 *   reload=1  reload the file (reload.h): message=<summary line>, or error= lines
 *   plan=1    what reload=1 would change, changing nothing (reload_plan): one plan= line
 *             per line of the plan's text, then changes=0 or changes=1; or error= lines
 *   planjson=1  the same with the plan as JSON
 *   stop=1    shut down; the reply comes once teardown is complete, just before exit
 *   reach=1   peer=KEY REFUSED REACH per peer of the file (reach.h: reach_report)
 * each answered by "key=value" lines (also warning= for the parser's warnings) and
 * "errno=N\n\n" (0 or a negative errno). Values never hold a newline.
 *
 * The supervisor is single-threaded and must not stall: a connection is served to its
 * end at once, with a bounded request (CONTROL_MAX_REQUEST) and one-second receive and
 * send timeouts. Access as for the UAPI socket: the file is root's, mode 0600, or 0660
 * with the admin group; on top, SO_PEERCRED must show uid 0 or a member of that group.
 */
#ifndef WGD_CONTROL_H
#define WGD_CONTROL_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

#include "wgd/loop.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

#define CONTROL_DIR    RUNSTATEDIR "/wgd"
#define CONTROL_SUFFIX ".ctl"

struct reload_result;

enum control_values {
	CONTROL_MAX_REQUEST = 64, /* longer than any request */
	CONTROL_TIMEOUT_MS = 1000,
	CONTROL_REACH_MAX = 256 << 10, /* reach=1's lines: ~100 bytes per peer */
};

struct control_opts {
	const char *ifname;
	const char *conf_path; /* borrowed; NULL for the bare daemon (no file to reload) */
	bool has_admin_gid;    /* members of admin_gid may connect too */
	gid_t admin_gid;
	/* reload=1: reload_apply's return and outcome */
	int (*reload)(void *ctx, struct reload_result *res);
	/* plan=1, planjson=1: reload_plan's return, text (malloc'd) and outcome */
	int (*plan)(void *ctx, bool json, char **text, struct reload_result *res);
	/* stop=1: begin the shutdown (control_finish_stop answers the client later) */
	void (*stop)(void *ctx);
	/* reach=1: '\n'-terminated lines into buf (reach_report); NULL: none to report */
	int (*reach)(void *ctx, char *buf, size_t len);
	void *ctx;
};

struct control {
	struct loop_source listen;
	struct loop *loop; /* borrowed */
	struct control_opts o;
	char ifname[IFNAMSIZ];
	int stop_fd; /* the client of stop=1, waiting for its answer; -1 */
};

/* A control that owns nothing, so control_clear and control_finish_stop are safe on it. */
void control_zero(struct control *c);

/*
 * Creates the socket file (CONTROL_DIR 0755, the file as above; a stale one is replaced)
 * and serves it on loop. 0, or -errno with nothing left behind.
 */
int __must_check control_init(struct control *c, struct loop *loop, const struct control_opts *o);

/* Stops serving, closes the listening fd and removes the socket file. */
void control_clear(struct control *c);

/* Answers a waiting stop=1 client with errno=0 (status: the daemon's exit status). */
void control_finish_stop(struct control *c, int status);

/* --- the client (wgctl), control_client.c ------------------------------------------- */

/*
 * Connects to ifname's control socket. Returns the fd, or -ENODEV (no socket there, or a
 * stale one nobody listens on), -EACCES, -EINVAL (bad name), or another -errno.
 */
int __must_check control_client_connect(const char *ifname);

/*
 * Sends "OP=1\n\n" on fd and reads the reply to its end (no timeout: stop takes as long
 * as the teardown). Returns the reply's errno (0 or negative) with *reply the malloc'd
 * key lines before the errno line, NUL-terminated (the caller frees it); or -EPROTO (no
 * well-formed reply: the daemon refused us, or died), -ENOMEM, -errno.
 */
int __must_check control_client_request(int fd, const char *op, char **reply);

/* The value of the first "key=" line of reply, copied into buf; false if none. */
bool control_reply_value(const char *reply, const char *key, char *buf, size_t len);

#endif
