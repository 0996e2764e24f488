/* SPDX-License-Identifier: MIT */
/*
 * peer add | remove --save: the same change, written into the interface's config file
 * (${WGCTL_CONF_DIR:-/etc/wgd}/IF.conf) through wgd/conf_edit.c, which keeps every other
 * line of the file as it was and replaces the file atomically only if the result parses.
 * peer_save_check() runs first, before the daemon is asked: a file that cannot be
 * replaced then refuses the whole command instead of leaving the change half done.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "wgd/conf_edit.h"

enum { SAVE_ERR_LEN = 512 };

/* conf_edit's line without its "PATH: " prefix, which our message already names. */
static const char *reason(const char *err, const char *path)
{
	size_t n = strlen(path);

	return !strncmp(err, path, n) && !strncmp(err + n, ": ", 2) ? err + n + 2 : err;
}

bool peer_save_check(const struct peer_change *c)
{
	char path[PATH_MAX], err[SAVE_ERR_LEN] = "";
	int ret;

	if (!ctl_conf_path(path, sizeof(path), c->ifname))
		return false;
	ret = conf_edit_check(path, err, sizeof(err));
	if (ret < 0)
		ctl_err("Unable to save to `%s', nothing changed: %s", path,
			*err ? reason(err, path) : strerror(-ret));
	return ret == 0;
}

bool peer_save(const struct peer_change *c)
{
	const struct cfg_peer *p = &c->cfg.peers[0];
	char path[PATH_MAX], err[SAVE_ERR_LEN] = "";
	int ret;

	if (!ctl_conf_path(path, sizeof(path), c->ifname))
		return false;
	if (access(path, F_OK) < 0) { /* conf_edit's -ENOENT also means "no such peer" */
		ctl_err("Unable to save to `%s': %s", path, strerror(errno));
		return false;
	}
	if (p->flags & CFG_PEER_REMOVE_ME)
		ret = conf_edit_remove_peer(path, p->public_key, err, sizeof(err));
	else
		ret = conf_edit_add_peer(path, p, c->endpoint, err, sizeof(err));
	if (ret == -ENOENT && (p->flags & CFG_PEER_REMOVE_ME)) {
		/* gone from the daemon and never in the file: nothing to save */
		return true;
	}
	if (ret < 0) {
		if (*err)
			ctl_err("Unable to save to `%s': %s", path, err);
		else
			ctl_err("Unable to save to `%s': %s", path, strerror(-ret));
		return false;
	}
	return true;
}
