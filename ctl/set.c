/* SPDX-License-Identifier: MIT */
/*
 * wgctl set IF ...: wg(8)'s grammar (wireguard-tools config.c config_read_cmd) turned into
 * one set request. Device options come before the first `peer'; keys are read from files
 * only, never from argv. `allowed-ips' takes the newer incremental form too: "+a" adds,
 * "-a" removes, and any prefixed entry keeps the peer's other allowed IPs.
 */
#include <string.h>

#include "crypto/key.h"
#include "ctl/ctl.h"

static const char set_usage_text[] =
	"Usage: " PROG_NAME " set <interface> [listen-port <port>] [fwmark <mark>] "
	"[private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] "
	"[endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] "
	"[allowed-ips [+|-]<ip1>/<cidr1>[,[+|-]<ip2>/<cidr2>]...] ]...\n";

/* A device option; 2 consumed, 0 not one, -1 bad value (reported). */
static int device_opt(struct cfg_device *cfg, const char *opt, const char *val)
{
	if (!strcmp(opt, "listen-port")) {
		if (!ctl_parse_port(&cfg->listen_port, val))
			return -1;
		cfg->flags |= CFG_DEV_HAS_LISTEN_PORT;
	} else if (!strcmp(opt, "fwmark")) {
		if (!ctl_parse_fwmark(&cfg->fwmark, val))
			return -1;
		cfg->flags |= CFG_DEV_HAS_FWMARK;
	} else if (!strcmp(opt, "private-key")) {
		if (!ctl_parse_keyfile(cfg->private_key, val))
			return -1;
		cfg->flags |= CFG_DEV_HAS_PRIVATE_KEY;
	} else {
		return 0;
	}
	return 2;
}

/* A peer option with a value; 2 consumed, 0 not one, -1 bad value (reported). */
static int peer_opt(struct cfg_peer *p, const char *opt, const char *val)
{
	if (!strcmp(opt, "endpoint")) {
		if (!ctl_parse_endpoint(&p->endpoint, val))
			return -1;
		p->flags |= CFG_PEER_HAS_ENDPOINT;
	} else if (!strcmp(opt, "allowed-ips")) {
		if (!ctl_parse_allowedips(p, val))
			return -1;
	} else if (!strcmp(opt, "persistent-keepalive")) {
		if (!ctl_parse_keepalive(&p->persistent_keepalive_s, val))
			return -1;
		p->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	} else if (!strcmp(opt, "preshared-key")) {
		if (!ctl_parse_keyfile(p->preshared_key, val))
			return -1;
		p->flags |= CFG_PEER_HAS_PRESHARED_KEY;
	} else {
		return 0;
	}
	return 2;
}

static int new_peer(struct cfg_device *cfg, struct cfg_peer **peer, const char *key)
{
	*peer = cfg_device_add_peer(cfg);
	if (!*peer) {
		ctl_err("Out of memory");
		return -1;
	}
	return ctl_parse_pubkey((*peer)->public_key, key) ? 2 : -1;
}

static int mark_removed(struct cfg_peer *peer)
{
	peer->flags |= CFG_PEER_REMOVE_ME;
	return 1;
}

/* Fills cfg from the options after the interface name; false after the error line. */
static bool set_parse_args(struct cfg_device *cfg, int argc, const char *argv[])
{
	struct cfg_peer *peer = NULL;
	int n = 0;

	for (int i = 0; i < argc; i += n) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		n = 0;
		if (!strcmp(argv[i], "peer") && val)
			n = new_peer(cfg, &peer, val);
		else if (peer && !strcmp(argv[i], "remove"))
			n = mark_removed(peer);
		else if (!peer && val)
			n = device_opt(cfg, argv[i], val);
		else if (peer && val)
			n = peer_opt(peer, argv[i], val);
		if (n < 0)
			return false;
		if (n == 0) {
			ctl_err("Invalid argument: `%s'", argv[i]);
			return false;
		}
	}
	return true;
}

int set_main(int argc, const char *argv[])
{
	struct cfg_device cfg = { 0 };
	int ret = 1, err;

	if (argc < 3) {
		fputs(set_usage_text, stderr);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]) || !set_parse_args(&cfg, argc - 2, argv + 2))
		goto out;
	err = uapi_client_set(argv[1], &cfg);
	if (err < 0) {
		ctl_uapi_err("modify interface", argv[1], err);
		goto out;
	}
	ret = 0;
out:
	cfg_device_clear(&cfg);
	return ret;
}
