/* SPDX-License-Identifier: MIT */
/*
 * The reload sequence. Order matters for "a bad file changes nothing": parse, ask the
 * daemon for its state, compute the diff, and only then send the one set=1 the daemon
 * commits atomically (uapi.h); netlink changes follow once the device has accepted.
 */
#include <errno.h>
#include <string.h>

#include "wgd/cfg_sync.h"
#include "wgd/conf.h"
#include "wgd/ifconfig.h"
#include "wgd/log.h"
#include "wgd/reload.h"
#include "wgd/uapi_client.h"

enum { RELOAD_MSG_LEN = 1024 };

/* Each '\n'-terminated warning line of the parser as one log line. */
static void log_warnings(char *warn)
{
	char *save = NULL;

	for (char *line = strtok_r(warn, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_info("%s", line);
}

static bool same_user(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The set=1 that takes the device from what it runs to next->dev. */
static int sync_device(const char *ifname, const struct conf *next)
{
	struct uapi_state running = { 0 };
	struct cfg_device diff = { 0 };
	int ret;

	ret = uapi_client_get(ifname, &running);
	if (ret < 0) {
		log_error("Reload: cannot read the running configuration: %s", strerror(-ret));
		return ret;
	}
	ret = cfg_sync_diff(&diff, &running.cfg, &next->dev);
	uapi_state_clear(&running);
	if (ret < 0) {
		log_error("Reload: cannot compute the configuration change: %s", strerror(-ret));
		return ret;
	}
	ret = uapi_client_set(ifname, &diff);
	cfg_device_clear(&diff);
	if (ret < 0)
		log_error("Reload: the device refused the new configuration: %s", strerror(-ret));
	return ret;
}

int reload_apply(const char *ifname, const char *path, struct conf *current, struct ifconfig *ic)
{
	char err[RELOAD_MSG_LEN] = "", warn[RELOAD_MSG_LEN] = "";
	struct conf next;
	int ret;

	log_info("Reloading %s", path);
	ret = conf_parse_file(&next, path, err, sizeof(err), warn, sizeof(warn));
	if (ret < 0) {
		log_error("%s", err);
		log_error("Reload aborted: nothing changed");
		return ret;
	}
	log_warnings(warn);
	/*
	 * A file without ListenPort has no flag for it, so the diff keeps the current port.
	 * "ListenPort = 0" asks for any port too, and the current one is one: rebinding on
	 * every reload (as `wg syncconf` would) only makes the peers lose us for a while.
	 */
	if (!next.dev.listen_port)
		next.dev.flags &= ~CFG_DEV_HAS_LISTEN_PORT;
	ifconfig_policy_prepare(&next);
	/* the file is the whole configuration: no FwMark means none (the key is required) */
	next.dev.flags |= CFG_DEV_HAS_FWMARK;
	ret = sync_device(ifname, &next);
	if (ret < 0) {
		log_error("Reload aborted: nothing changed");
		conf_clear(&next);
		return ret;
	}
	if (!same_user(current->user, next.user))
		log_info("Reload: User= takes effect only when wgd starts again");
	if (!same_user(current->admin_group, next.admin_group))
		log_info("Reload: AdminGroup= takes effect only when wgd starts again");
	ret = ifconfig_sync(ic, &next);
	conf_clear(current);
	*current = next; /* moves ownership: wipe the stack copy of the private key */
	wipe(&next, sizeof(next));
	log_info("Reloaded %s: %zu peers%s", path, current->dev.peers_len,
		 ret < 0 ? ", with interface errors (above)" : "");
	return ret;
}
