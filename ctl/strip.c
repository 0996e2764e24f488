/* SPDX-License-Identifier: MIT */
/*
 * wgctl strip IF | FILE (wg-quick strip): the configuration with only the keys wg(8)'s
 * setconf and syncconf read, for `wg syncconf IF <(wgctl strip IF)'. IF means
 * ${WGCTL_CONF_DIR:-/etc/wgd}/IF.conf, as wg-quick takes a bare name for
 * /etc/wireguard/NAME.conf. The file goes through wgd's parser, so a PrivateKeyFile or
 * PresharedKeyFile is read and comes out as the key itself: the output holds secrets
 * and goes to standard output only, where the caller sends it (never to argv). The
 * policy-routing FwMark that wgd adds for a /0 under Table=auto is written too, so
 * a stock `wg syncconf' does not take away the mark that keeps the tunnel's own
 * packets out of it.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>

#include "ctl/ctl.h"
#include "wgd/conf.h"
#include "wgd/ifconfig.h"

/*
 * wg-quick's rule: a valid interface name names IF.conf, anything else is a path ("-" is
 * standard input).
 */
static bool strip_path(char *buf, size_t len, const char *arg)
{
	size_t n = strlen(arg);

	if (strcmp(arg, "-") && n && n < IFNAMSIZ &&
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_=+.-") == n)
		return ctl_conf_path(buf, len, arg);
	if (n >= len) {
		ctl_err("Configuration path too long: `%s'", arg);
		return false;
	}
	memcpy(buf, arg, n + 1);
	return true;
}

int strip_main(int argc, const char *argv[])
{
	char path[PATH_MAX];
	struct conf c;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s { <interface> | <configuration filename> }\n",
			PROG_NAME, argv[0]);
		return 1;
	}
	if (!strip_path(path, sizeof(path), argv[1]))
		return 1;
	if (!ctl_load_conf(&c, path, false, strcmp(path, argv[1])))
		return 1;
	ifconfig_policy_prepare(&c);
	ret = conf_write_wg(&c, stdout);
	conf_clear(&c);
	if (!ret && fflush(stdout) == EOF)
		ret = -errno;
	if (ret < 0) {
		ctl_err("Unable to write the configuration: %s", strerror(-ret));
		return 1;
	}
	return 0;
}
