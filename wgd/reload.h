/* SPDX-License-Identifier: MIT */
/*
 * Reloading a config file into a running interface (SIGHUP, `wgctl reload`): the whole
 * file is read again and checked before anything changes; then the device moves to it
 * with one `wg syncconf`-style UAPI set (cfg_sync_diff), so peers that stay keep their
 * sessions, and the addresses, routes and MTU with ifconfig_sync. Hooks are not run
 * again; the new file's PreDown/PostDown are the ones used at shutdown. The outcome comes
 * back as text too, for the control socket (control.h) to hand to `wgctl reload`.
 */
#ifndef WGD_RELOAD_H
#define WGD_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "wgd/cfg_sync.h"

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif

struct conf;
struct ifconfig;

enum { RELOAD_TEXT_LEN = 1024 };

/* What a reload changed, for the one summary line. */
struct reload_summary {
	struct cfg_sync_counts peers;
	size_t addrs_added, addrs_removed, routes_added, routes_removed;
	unsigned int listen_port_from, listen_port_to; /* when peers.is_listen_port_changed */
	unsigned int mtu_from, mtu_to;		       /* equal when the MTU stayed */
};

/* The outcome of a reload or a check, each text '\n'-separated lines, "" when none. */
struct reload_result {
	struct reload_summary summary;
	char error[RELOAD_TEXT_LEN];	/* why it failed: "FILE:LINE: message", the refusal */
	char warnings[RELOAD_TEXT_LEN]; /* the parser's warnings */
	char line[RELOAD_TEXT_LEN];	/* reload: the summary line; check: "FILE: OK" */
};

/*
 * Re-reads path and applies it to ifname (whose UAPI socket must answer) and ic. On
 * success *current is replaced by the new config. Returns 0; -EINVAL for a file that does
 * not parse and -errno when the daemon refuses the change, both with nothing changed; or
 * the first -errno of an address, route or MTU change, with the device and *current
 * already updated. Everything is logged, and also written to *res (which need not be
 * initialised): error on failure, line (the summary) once the device took the file.
 */
int __must_check reload_apply(const char *ifname, const char *path, struct conf *current,
			      struct ifconfig *ic, struct reload_result *res);

/*
 * What reload_apply would change, changing nothing (wgd/plan.h): the plan as text, or
 * JSON with json, into *text (malloc'd; the caller frees it). Returns 1 when the reload
 * would change something, 0 when not, or -errno with res->error set (a file that does not
 * parse: "FILE:LINE: message") and *text NULL.
 */
int __must_check reload_plan(const char *ifname, const char *path, const struct conf *current,
			     struct ifconfig *ic, bool json, char **text,
			     struct reload_result *res);

/* Parses path as a reload would, changing nothing: 0 (res->line "PATH: OK") or -errno. */
int __must_check reload_check(const char *path, struct reload_result *res);

/* "Reloaded PATH: peers N added, ...", the summary line (truncated to len). */
void reload_summary_format(char *buf, size_t len, const char *path, const struct reload_summary *s);

#endif
