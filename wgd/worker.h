/* SPDX-License-Identifier: MIT */
/*
 * The worker process: everything that touches network input (the device, its event loop
 * and the UAPI server), run as an unprivileged user after privs_drop. It inherits the
 * TUN and UAPI listening fds the supervisor opened as root, so it needs no privilege to
 * serve them. See supervisor.c for the process design.
 */
#ifndef WGD_WORKER_H
#define WGD_WORKER_H

#include <sys/types.h>

/* The byte a child writes on its ready pipe once it is up; EOF alone means failure. */
#define WGD_READY_BYTE 'R'
/*
 * The byte the worker sends on its lifeline after each committed UAPI set=1: only the
 * fact that the configuration changed, for the supervisor to bring routes in line.
 */
#define WGD_CHANGED_BYTE 'C'

struct worker_args {
	const char *ifname;
	int tun_fd;	  /* owned by the worker from worker_run on */
	int uapi_fd;	  /* the listening UAPI socket; owned likewise */
	int ready_fd;	  /* write end: WGD_READY_BYTE once serving, then closed */
	int lifeline_fd;  /* our end of a socketpair with the supervisor: EOF = it is gone; */
			  /* we send WGD_CHANGED_BYTE on it, it never sends */
	pid_t supervisor; /* our parent; if it is already gone we do not start */
	uid_t uid;	  /* whom to become */
	gid_t gid;
	bool has_net_admin; /* keep CAP_NET_ADMIN: an fwmark is or may be set (privs.h) */
	uid_t owner_uid;    /* the UAPI socket serves root, this user ... */
	bool has_admin_gid; /* ... and, when set, members of admin_gid */
	gid_t admin_gid;
	bool is_daemon;	      /* stderr is a launcher's: log to syslog once serving (log.h) */
	unsigned int threads; /* crypt threads (Threads=); 0: crypt_data_default_threads() */
};

/*
 * Runs in the forked child: drops privileges, asks for SIGTERM when the supervisor dies,
 * then serves the device until SIGTERM/SIGINT, a closed lifeline or a deleted link.
 * Failures before serving are one line on stderr (the launcher's); with is_daemon, later
 * messages go to syslog and stdio to /dev/null, before the supervisor hears we serve, so
 * its launcher exits with no descriptor of its own left in us. Closes every fd in a
 * and returns the process exit status (0 after an orderly shutdown). It does not remove
 * the socket file: the supervisor owns that, and the worker could not anyway.
 */
int worker_run(const struct worker_args *a);

#endif
