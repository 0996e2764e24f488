/* SPDX-License-Identifier: MIT */
/*
 * wgctl <cmd> [<args>]: the subcommand table (wireguard-tools wg.c's shape). With no
 * arguments it runs `show', as wg does.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"
#include "wgd/privs.h"

static const struct {
	const char *name;
	int (*fn)(int argc, const char *argv[]);
	const char *help;
} subcommands[] = {
	{ "show", show_main, "Shows the current configuration and device information" },
	{ "showconf", showconf_main,
	  "Shows the current configuration of a given WireGuard interface, for use with "
	  "`setconf'" },
	{ "set", set_main,
	  "Change the current configuration, add peers, remove peers, or change peers" },
	{ "setconf", setconf_main, "Applies a configuration file to a WireGuard interface" },
	{ "addconf", setconf_main, "Appends a configuration file to a WireGuard interface" },
	{ "syncconf", setconf_main, "Synchronizes a configuration file to a WireGuard interface" },
	{ "strip", strip_main,
	  "Prints a configuration file with only the keys wg setconf and syncconf read" },
	{ "genkey", genkey_main, "Generates a new private key and writes it to stdout" },
	{ "genpsk", genkey_main, "Generates a new preshared key and writes it to stdout" },
	{ "pubkey", pubkey_main,
	  "Reads a private key from stdin and writes a public key to stdout" },
	{ "up", up_main, "Starts wgd for an interface from its configuration file" },
	{ "down", down_main, "Stops the daemon of an interface" },
	{ "reload", reload_main,
	  "Makes the daemon of an interface re-read its configuration file and says what "
	  "changed" },
	{ "check", check_main,
	  "Checks a configuration file, or the one the daemon of an interface runs from" },
	{ "peer", peer_main, "Adds, removes or lists the peers of an interface" },
	{ "metrics", metrics_main, "Prints peer counters in the Prometheus text format" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s <cmd> [<args>]\n\nAvailable subcommands:\n", PROG_NAME);
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %s: %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
}

static bool is_any(const char *arg, const char *a, const char *b, const char *c)
{
	return !strcmp(arg, a) || !strcmp(arg, b) || !strcmp(arg, c);
}

int main(int argc, const char *argv[])
{
	static const char *show_argv[] = { "show", NULL };
	const char *what;

	/* wgctl reads and prints keys too: no core dump, no ptrace by the same user */
	if (privs_harden_process(&what) < 0) {
		ctl_err("Unable to harden the process: %s", what);
		return 1;
	}
	if (sodium_init() < 0) {
		ctl_err("Unable to initialise libsodium");
		return 1;
	}
	if (argc == 2 && is_any(argv[1], "-v", "--version", "version")) {
		printf("%s v%s\n", PROG_NAME, WGCTL_VERSION);
		return 0;
	}
	if (argc == 2 && is_any(argv[1], "-h", "--help", "help")) {
		usage(stdout);
		return 0;
	}
	if (argc == 1)
		return show_main(1, show_argv);
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	}
	ctl_err("Invalid subcommand: `%s'", argv[1]);
	usage(stderr);
	return 1;
}
