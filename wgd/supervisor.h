/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: the privileged half of wgd. It creates the TUN and the UAPI socket,
 * forks the unprivileged worker (worker.h) and, with a config file, configures the
 * worker through UAPI and the interface through rtnetlink, runs the hooks, reloads on
 * SIGHUP and undoes its work on SIGTERM. The design is written up in supervisor.c.
 */
#ifndef WGD_SUPERVISOR_H
#define WGD_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

struct conf;

struct supervisor_opts {
	const char *ifname;    /* as requested */
	const char *conf_path; /* NULL: the bare xplatform daemon, no config and no netlink */
	struct conf *conf;     /* conf_path parsed (NULL without); the supervisor takes it over
				  and replaces it on reload; cleared when supervisor_run returns */
	uid_t uid;	       /* the worker's user */
	gid_t gid;
	bool has_admin_gid; /* admin_gid may use the UAPI socket (besides root) */
	gid_t admin_gid;
	int ready_fd;	   /* the launcher's pipe: WGD_READY_BYTE once up, EOF on failure; -1 */
	const char *netns; /* --netns: the interface's namespace (else the file's Namespace=) */
};

/*
 * Runs the supervisor until shutdown; returns the process exit status. It also returns
 * in the forked worker, with the worker's exit status, once that is done: the caller
 * just exits with whatever it gets. Startup failures are one line on stderr.
 */
int supervisor_run(const struct supervisor_opts *o);

#endif
