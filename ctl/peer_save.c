/* SPDX-License-Identifier: MIT */
/*
 * peer add | remove --save: the same change, written into the interface's config file
 * (${WGCTL_CONF_DIR:-/etc/wgd}/IF.conf) through wgd/conf_edit.c, which keeps every other
 * line of the file as it was and replaces the file atomically only if the result parses.
 * `add --save-to NAME' writes the drop-in IF.d/NAME.conf whole instead, and `remove
 * --save' edits whichever file defines the peer (a drop-in that held only it goes).
 * peer_save_check() runs first, before the daemon is asked: a file that cannot be
 * replaced, or a peer the save would define twice, then refuses the whole command
 * instead of leaving the change half done.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "wgd/conf_edit.h"

enum { SAVE_ERR_LEN = 512 + PATH_MAX, DROPIN_NAME_MAX = 200 };

/* conf_edit's line without its "PATH: " prefix, which our message already names. */
static const char *reason(const char *err, const char *path)
{
	size_t n = strlen(path);

	return !strncmp(err, path, n) && !strncmp(err + n, ": ", 2) ? err + n + 2 : err;
}

/* A drop-in name: letters, digits and "_.@+-", not starting with '.'; ".conf" optional. */
static bool dropin_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= DROPIN_NAME_MAX && name[0] != '.' &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+-") == n;
}

/* IF.d/NAME.conf for --save-to NAME; false after the error line. */
static bool dropin_path(char *buf, size_t len, const char *main_path, const char *name)
{
	char dir[PATH_MAX];
	size_t n = strlen(name);

	if (!dropin_name_ok(name)) {
		ctl_err("Invalid drop-in name `%s': letters, digits and `_.@+-', not starting "
			"with `.'",
			name);
		return false;
	}
	if (n > 5 && !strcmp(name + n - 5, ".conf"))
		n -= 5;
	if (conf_dropin_dir(dir, sizeof(dir), main_path) < 0 ||
	    snprintf(buf, len, "%s/%.*s.conf", dir, (int)n, name) >= (int)len) {
		ctl_err("Drop-in path too long for `%s'", name);
		return false;
	}
	return true;
}

/* Where the peer is defined: 1 (file, line), 0 nowhere, -1 after the error line. */
static int where(const char *main_path, const uint8_t *key, char *file, size_t len,
		 unsigned int *line, size_t *peers)
{
	char err[SAVE_ERR_LEN] = "";
	int ret = conf_dropin_find(main_path, key, file, len, line, peers, err, sizeof(err));

	if (ret < 0)
		ctl_err("Unable to save to `%s', nothing changed: %s", main_path,
			*err ? reason(err, main_path) : strerror(-ret));
	return ret < 0 ? -1 : ret;
}

/* The directory of a drop-in (or the one it would be made in) takes new files. */
static bool dir_writable(const char *file)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
	if (access(dir, F_OK) < 0 && errno == ENOENT) { /* --save-to makes it */
		slash = strrchr(dir, '/');
		if (slash)
			dir[slash == dir ? 1 : slash - dir] = '\0';
	}
	if (access(dir, W_OK) == 0)
		return true;
	ctl_err("Unable to save to `%s', nothing changed: cannot create files in %s: %s", file, dir,
		strerror(errno));
	return false;
}

bool peer_save_check(const struct peer_change *c)
{
	char path[PATH_MAX], file[PATH_MAX + 256], target[PATH_MAX], err[SAVE_ERR_LEN] = "";
	const struct cfg_peer *p = &c->cfg.peers[0];
	unsigned int line = 0;
	size_t peers = 0;
	int ret;

	if (!ctl_conf_path(path, sizeof(path), c->ifname))
		return false;
	if (c->save_to && !dropin_path(target, sizeof(target), path, c->save_to))
		return false;
	ret = access(path, R_OK) == 0
		      ? where(path, p->public_key, file, sizeof(file), &line, &peers)
		      : 0;
	if (ret < 0)
		return false;
	if (ret && strcmp(file, c->save_to ? target : path) && !(p->flags & CFG_PEER_REMOVE_ME)) {
		ctl_err("Unable to save to `%s', nothing changed: the peer is defined at %s:%u "
			"(save it there, or remove it from there first)",
			c->save_to ? target : path, file, line);
		return false;
	}
	if (c->save_to || (ret && strcmp(file, path)))
		return dir_writable(c->save_to ? target : file);
	ret = conf_edit_check(path, err, sizeof(err));
	if (ret < 0)
		ctl_err("Unable to save to `%s', nothing changed: %s", path,
			*err ? reason(err, path) : strerror(-ret));
	return ret == 0;
}

/* remove --save of a peer a drop-in defines. */
static bool remove_from_dropin(const char *file, const uint8_t *key)
{
	char err[SAVE_ERR_LEN] = "";
	int ret = conf_dropin_remove_peer(file, key, err, sizeof(err));

	if (ret < 0)
		ctl_err("Unable to save to `%s': %s", file, *err ? err : strerror(-ret));
	return ret == 0;
}

bool peer_save(const struct peer_change *c)
{
	const struct cfg_peer *p = &c->cfg.peers[0];
	char path[PATH_MAX], file[PATH_MAX + 256], err[SAVE_ERR_LEN] = "";
	unsigned int line = 0;
	size_t peers = 0;
	int ret;

	if (!ctl_conf_path(path, sizeof(path), c->ifname))
		return false;
	if (c->save_to) {
		if (!dropin_path(file, sizeof(file), path, c->save_to))
			return false;
		ret = conf_dropin_write_peer(file, p, c->endpoint, err, sizeof(err));
		if (ret < 0)
			ctl_err("Unable to save to `%s': %s", file, *err ? err : strerror(-ret));
		return ret == 0;
	}
	if (access(path, F_OK) < 0) { /* conf_edit's -ENOENT also means "no such peer" */
		ctl_err("Unable to save to `%s': %s", path, strerror(errno));
		return false;
	}
	if (p->flags & CFG_PEER_REMOVE_ME) {
		ret = where(path, p->public_key, file, sizeof(file), &line, &peers);
		if (ret < 0)
			return false;
		if (ret && strcmp(file, path))
			return remove_from_dropin(file, p->public_key);
		ret = conf_edit_remove_peer(path, p->public_key, err, sizeof(err));
	} else {
		ret = conf_edit_add_peer(path, p, c->endpoint, err, sizeof(err));
	}
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
