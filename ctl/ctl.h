/* SPDX-License-Identifier: MIT */
/*
 * wgctl: a superset of wg(8) that speaks only the UAPI socket. Each subcommand is a
 * `<cmd>_main(argc, argv)` (argv[0] is the subcommand's name) in its own file, listed in
 * main.c's table; the helpers here are shared by several of them. Errors go to stderr as
 * one line "wgctl: ..." naming the offending input, and a subcommand then returns 1.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "wgd/cfg.h"
#include "wgd/uapi_client.h"

#define PROG_NAME "wgctl"
#ifndef WGCTL_VERSION
#define WGCTL_VERSION "0.1.0"
#endif
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where `up`, `reload` and --save find IF.conf unless WGCTL_CONF_DIR says otherwise. */
#define CTL_CONF_DIR SYSCONFDIR "/wgd"

int show_main(int argc, const char *argv[]);
int showconf_main(int argc, const char *argv[]);
int set_main(int argc, const char *argv[]);
int setconf_main(int argc, const char *argv[]); /* also addconf and syncconf */
int genkey_main(int argc, const char *argv[]);	/* also genpsk */
int pubkey_main(int argc, const char *argv[]);
int up_main(int argc, const char *argv[]);
int down_main(int argc, const char *argv[]);
int reload_main(int argc, const char *argv[]);
int check_main(int argc, const char *argv[]);
int peer_main(int argc, const char *argv[]);
int metrics_main(int argc, const char *argv[]);

int strip_main(int argc, const char *argv[]);
/*
 * The process serving the UNIX socket at path, seen from this network namespace
 * (serving.c), as a pidfd: 0, -ESRCH (none here), -ETOOMANYREFS (several hold it), -errno.
 */
int ctl_serving_pidfd(const char *path, int *pidfd, pid_t *pid);
/* Waits up to timeout_ms for the pidfd's process to exit: 0, -ETIMEDOUT or -errno. */
int ctl_pidfd_wait(int pidfd, int timeout_ms);

/*
 * One request to ifname's control socket (updown.c). Returns the daemon's errno (0 or
 * negative) with *reply set (the caller frees it); or, after the error line, CTL_NO_REPLY;
 * or CTL_NO_DAEMON, unreported, when the interface has no control socket here (not wgd,
 * or not up).
 */
#define CTL_NO_REPLY  INT_MIN
#define CTL_NO_DAEMON (INT_MIN + 1)
int ctl_control_request(const char *ifname, const char *op, char **reply);
/* A control reply's message= lines on stdout, warning= and error= lines on stderr. */
void ctl_print_reply(const char *reply);
/*
 * `reload IF --dry-run' and `check IF' (plan.c): the plan, as text or JSON; the exit
 * status: 0 no change, 2 changes, 1 refused (after the FILE:LINE: line). is_check: when
 * nothing serves IF here, only parse its file (`FILE: OK', 0) as `check' always did.
 */
int ctl_plan(const char *ifname, bool json, bool is_check);
/* `reload IF' when IF is not wgd's (plan.c): its file's peers synced in, a summary. */
int ctl_reload_other(const char *ifname);

/* `syncconf IF PATH' with PATH's drop-ins (setconf.c): the exit status, after any error. */
int ctl_syncconf(const char *ifname, const char *path);

struct conf;
/*
 * A config file read as wg(8) reads one (setconf.c: wgd's parser in CONF_WG_SUBSET mode,
 * CONF_STRIP without resolve,
 * "-" for standard input), its warnings printed; false after the error lines. With
 * resolve, Endpoint host names are resolved (getaddrinfo) as wg(8) does; with dropins,
 * the drop-ins of path's directory too (conf_load).
 */
bool ctl_load_conf(struct conf *c, const char *path, bool resolve, bool dropins);
/* Prints each '\n'-terminated line of text to stderr as "wgctl: line". */
void ctl_err_lines(const char *text);

/* Prints "wgctl: <message>\n" to stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- input parsers (parse.c): each prints its one error line and returns false --------- */

bool ctl_parse_ifname(const char *name);
bool ctl_parse_port(uint16_t *port, const char *value);
bool ctl_parse_fwmark(uint32_t *mark, const char *value);
bool ctl_parse_keepalive(uint16_t *interval, const char *value);
/* A base64 public key (not secret: it may come from argv). */
bool ctl_parse_pubkey(uint8_t key[static 32], const char *value);
/* A key file as wg reads one: 44 base64 chars and whitespace; empty (or /dev/null) = zeros. */
bool ctl_parse_keyfile(uint8_t key[static 32], const char *path);
/* "host:port" or "[v6]:port"; hostnames resolved once, with wg's retry rules. */
bool ctl_parse_endpoint(union cfg_sockaddr *ep, const char *value);
/*
 * Comma-separated "ip[/cidr]" entries appended to peer. Whitespace is ignored. A '+' or '-'
 * prefix makes the change incremental (no replace_allowed_ips); '-' removes that entry.
 * Without any prefix the list replaces the peer's (an empty value empties it).
 */
bool ctl_parse_allowedips(struct cfg_peer *peer, const char *value);

/* The interface's config file, ${WGCTL_CONF_DIR:-/etc/wgd}/IF.conf. false if too long. */
bool ctl_conf_path(char *buf, size_t len, const char *ifname);

/* --- output helpers (format.c) --------------------------------------------------------- */

/* WG_COLOR_MODE=always|never, else whether stdout is a terminal. */
bool ctl_color_mode(void);
/* WG_HIDE_KEYS=never shows private and preshared keys. */
bool ctl_show_keys(void);

/* Text for an endpoint ("a.b.c.d:port", "[v6]:port") or an allowed IP ("ip/cidr"). */
void ctl_endpoint_text(char *buf, size_t len, const union cfg_sockaddr *ep);
void ctl_allowedip_text(char *buf, size_t len, const struct cfg_allowedip *aip);
/* wg's "1 minute, 2 seconds" (with colour escapes; print through ctl_tprintf). */
size_t ctl_pretty_time(char *buf, size_t len, unsigned long long seconds);
/* wg's "1 minute, 2 seconds ago", "Now" or the clock-went-backwards note. */
void ctl_ago(char *buf, size_t len, uint64_t then_s, time_t now);
/*
 * Whether a peer counts as up at now: its latest handshake (Unix seconds, 0 for none) is
 * younger than REJECT_AFTER_TIME, so a session with it may still carry data.
 */
bool ctl_peer_up(uint64_t last_handshake_s, time_t now);
/* wg's "1.50 KiB" (with colour escapes). */
void ctl_bytes(char *buf, size_t len, uint64_t bytes);

/* printf to f, dropping ANSI escapes unless color is true (wg's terminal_printf). */
void ctl_tprintf(FILE *f, bool color, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- shows (show.c), pure functions of a state so the tests can pin them -------------- */

struct show_ctx {
	FILE *out;
	bool color;	/* ANSI colours as wg prints them */
	bool show_keys; /* WG_HIDE_KEYS=never */
	time_t now;	/* for "ago" */
};

/* The report `wg show IF` prints (peers sorted by latest handshake, newest first). */
void show_pretty(const struct show_ctx *c, const char *ifname, const struct uapi_state *st);
/*
 * One `wg show IF FIELD` answer; with_interface prefixes each line with the name, as
 * `wg show all FIELD` does. false (after the error line) for an unknown field.
 */
bool show_field(FILE *f, const char *ifname, const struct uapi_state *st, const char *field,
		bool with_interface);
/* `wg showconf IF`. */
void show_conf(FILE *f, const struct uapi_state *st);
/* The JSON object for one interface (schema in docs/wgctl.8). */
void show_json(FILE *f, const char *ifname, const struct uapi_state *st, bool show_keys,
	       time_t now);
/* wgd's endpoint lists (endpoints.c): the name the endpoint came from, or NULL */
const char *ctl_endpoint_name(const struct cfg_peer *p);
/* The report's "endpoints:" line; nothing for a peer without a list. */
void ctl_show_endpoints(const struct show_ctx *c, const struct cfg_peer *p,
			const struct uapi_peer_state *ps);
/* The JSON keys endpoint_name, endpoints, endpoint_switches (each after a ",\n"). */
void ctl_json_endpoints(FILE *f, const struct cfg_peer *p, const struct uapi_peer_state *ps,
			void (*str)(FILE *f, const char *s));
/* Prometheus text for the interfaces' states (metrics.c). */
void metrics_write(FILE *f, const char *const *ifnames, const struct uapi_state *states, size_t n,
		   time_t now);

/* reach.c: a wgd daemon's Reach per peer, over its control socket (reach=1) */
/* The daemon's reply ("peer=KEY REFUSED REACH" lines, malloc'd), or NULL if it has none. */
char *ctl_reach_fetch(const char *ifname);
/* Fetch for the interface being shown (ctl_reach_of reads it), and forget it. */
void ctl_reach_load(const char *ifname);
void ctl_reach_unload(void);
/* The refused count and reach text of the peer b64 in reply; false if absent. */
bool ctl_reach_find(const char *reply, const char *b64, uint64_t *refused, char *reach, size_t len);
/* The same for the loaded interface's peer with this key. */
bool ctl_reach_of(const uint8_t *key, uint64_t *refused, char *reach, size_t len);
/* wgd_peer_refused_packets_total for each of the interfaces that has a Reach table. */
void reach_metrics_write(FILE *f, const char *const *ifnames, size_t n);

/* `peer list' lines (peer.c). */
void peer_list_write(FILE *f, const struct uapi_state *st, time_t now);

/* A `peer add' or `peer remove' request (peer.c), and what --save needs of it. */
struct peer_change {
	struct cfg_device cfg; /* one peer: to add, or marked CFG_PEER_REMOVE_ME */
	const char *ifname;
	const char *endpoint; /* as typed: a hostname stays a hostname in the file */
	const char *psk_file; /* as typed */
	const char *save_to;  /* add --save-to NAME: the drop-in IF.d/NAME.conf */
	bool has_allowedips, save;
};

/*
 * Whether --save could write the interface's config file now (peer_save.c): checked
 * before the daemon is changed. false after the error line.
 */
bool peer_save_check(const struct peer_change *c);
/* Writes the change into the interface's config file (peer_save.c); false after the error. */
bool peer_save(const struct peer_change *c);

/* Reports a failed UAPI call on ifname: "wgctl: Unable to <what> `IF': <strerror>". */
void ctl_uapi_err(const char *what, const char *ifname, int err);

#endif
