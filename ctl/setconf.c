/* SPDX-License-Identifier: MIT */
/*
 * wgctl setconf | addconf | syncconf IF FILE. The file is read with the daemon's own
 * parser (wgd/conf.c) in its wg(8) mode, so a wg file (maybe without [Interface] or
 * PrivateKey), a wgd.conf or a wg-quick file works as is: the wg-quick-only keys
 * (Address, DNS, MTU, Table, the hooks, SaveConfig) and wgd's User are accepted and
 * ignored here, and PrivateKeyFile/PresharedKeyFile are read. "-" reads standard input.
 *  - setconf replaces everything (replace_peers; absent keys are sent as zero);
 *  - addconf adds the file's peers and sets only the device keys it names, as the
 *    parser flags them;
 *  - syncconf computes the difference against the running state (wgd/cfg_sync.c) so that
 *    peers that stay keep their sessions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "wgd/cfg_sync.h"
#include "wgd/conf.h"

enum {
	ERR_LEN = 512,
	WARN_LEN = 4096,
	STDIN_MAX = 16 << 20,
};

void ctl_err_lines(const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		if (n)
			fprintf(stderr, PROG_NAME ": %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* Reads all of standard input into a malloc'd buffer; NULL after the error line. */
static char *read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *p;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			p = cap < STDIN_MAX ? malloc(cap * 2) : NULL;
			if (p)
				memcpy(p, buf, n);
			wipe(buf, cap);
			free(buf);
			buf = p;
			cap *= 2;
			continue;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*len = n;
			if (r == 0)
				return buf;
			ctl_err("Unable to read standard input: %s", strerror(errno));
			wipe(buf, cap);
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	ctl_err("Unable to read standard input: %s", strerror(ENOMEM));
	return NULL;
}

bool ctl_load_conf(struct conf *c, const char *path, bool resolve, bool dropins)
{
	char err[ERR_LEN] = "", warn[WARN_LEN] = "";
	size_t len = 0;
	char *text;
	int ret;

	enum conf_mode mode = resolve ? CONF_WG_SUBSET : CONF_STRIP;

	if (strcmp(path, "-") && dropins) {
		ret = conf_load(c, path, mode, err, sizeof(err), warn, sizeof(warn));
	} else if (strcmp(path, "-")) {
		ret = conf_parse_file_mode(c, path, mode, err, sizeof(err), warn, sizeof(warn));
	} else {
		text = read_stdin(&len);
		if (!text)
			return false;
		ret = conf_parse_string_mode(c, "<stdin>", text, len, mode, err, sizeof(err));
		wipe(text, len);
		free(text);
	}
	ctl_err_lines(warn);
	/*
	 * Host names are resolved here, in wgctl, as wg(8) does: the daemon never sees them.
	 * strip prints them as written, as wg-quick strip does.
	 */
	if (ret == 0 && resolve) {
		ret = conf_resolve_endpoints(c, strcmp(path, "-") ? path : "<stdin>", err,
					     sizeof(err));
		if (ret < 0)
			conf_clear(c);
	}
	if (ret < 0) {
		if (*err)
			ctl_err_lines(err);
		else
			ctl_err("Unable to read `%s': %s", path, strerror(-ret));
		return false;
	}
	return true;
}

/*
 * The request of setconf or addconf from the parsed file. setconf: the file is the whole
 * configuration (wireguard-tools config_read_init), so its peers replace the running
 * ones and the device keys it leaves out go as zero: no private key, a random port, no
 * mark. addconf: the parser's flags as they are, only the keys the file names.
 */
static void make_request(const char *mode, struct cfg_device *cfg)
{
	if (!strcmp(mode, "setconf"))
		cfg->flags |= CFG_DEV_REPLACE_PEERS | CFG_DEV_HAS_PRIVATE_KEY |
			      CFG_DEV_HAS_LISTEN_PORT | CFG_DEV_HAS_FWMARK;
}

/* syncconf: the request that moves the running state to cfg. */
static int sync_request(struct cfg_device *req, const char *ifname, struct cfg_device *cfg)
{
	struct uapi_state running = { 0 };
	int ret = uapi_client_get(ifname, &running);

	if (ret < 0) {
		ctl_uapi_err("retrieve the current configuration of", ifname, ret);
		return ret;
	}
	/*
	 * Without ListenPort (no flag) cfg_sync_diff keeps the current port. "ListenPort = 0"
	 * asks for any port too, and the current one is one: rebinding would only make the
	 * peers lose us until our next handshake.
	 */
	if (!cfg->listen_port)
		cfg->flags &= ~(unsigned int)CFG_DEV_HAS_LISTEN_PORT;
	ret = cfg_sync_diff(req, &running.cfg, cfg);
	if (ret < 0)
		ctl_err("Unable to compute the changes for `%s': %s", ifname, strerror(-ret));
	uapi_state_clear(&running);
	return ret;
}

/* Applies the file at path to ifname in mode setconf, addconf or syncconf: 0 or 1. */
static int apply_conf(const char *mode, const char *ifname, const char *path, bool dropins)
{
	struct cfg_device req = { 0 };
	struct conf c = { 0 };
	int ret = 1, err;

	if (!ctl_parse_ifname(ifname) || !ctl_load_conf(&c, path, true, dropins))
		return 1;
	if (!strcmp(mode, "syncconf")) {
		if (sync_request(&req, ifname, &c.dev) < 0)
			goto out;
		err = uapi_client_set(ifname, &req);
	} else {
		make_request(mode, &c.dev);
		err = uapi_client_set(ifname, &c.dev);
	}
	if (err < 0) {
		ctl_uapi_err("modify interface", ifname, err);
		goto out;
	}
	ret = 0;
out:
	cfg_device_clear(&req);
	conf_clear(&c);
	return ret;
}

int ctl_syncconf(const char *ifname, const char *path)
{
	return apply_conf("syncconf", ifname, path, true);
}

int setconf_main(int argc, const char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "Usage: %s %s <interface> <configuration filename>\n", PROG_NAME,
			argv[0]);
		return 1;
	}
	return apply_conf(argv[0], argv[1], argv[2], false);
}
