/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: wgctl's command line. The fuzzer's bytes, split at NUL bytes, are the
 * arguments after "wgctl"; they go through wgctl's real main (ctl/main.c, renamed and
 * included here with every ctl source) and so through each subcommand's own argv
 * grammar and input parsers: interface names, ports, fwmarks, keepalives, base64 keys,
 * endpoints (numeric only: numeric_dns.h), allowed-IP lists with +/- prefixes, key files
 * and config files.
 *
 * Kept away from the machine: the Makefile builds this target with RUNSTATEDIR pointing
 * at a directory that cannot exist, so `set', `peer' and `show' never reach a running
 * daemon; `up', `down' and `reload' (which start and signal daemons) are skipped; absolute
 * paths and ".." are refused, so files come only from the current directory (the
 * repository when run by make: tests/golden/ctl/in has keys and configs); stdin is
 * /dev/null and stdout and stdio's stderr are discarded (sanitizer reports still print).
 *
 * Checks, beyond the sanitizers and the leak checker: the exit status is 0 or 1.
 */
#include <fcntl.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/numeric_dns.h"

#define main wgctl_main
#include "ctl/main.c"
#undef main
#include "ctl/endpoints.c"
#include "ctl/format.c"
#include "ctl/genkey.c"
#include "ctl/json.c"
#include "ctl/metrics.c"
#include "ctl/parse.c"
#include "ctl/peer.c"
#include "ctl/peer_save.c"
#include "ctl/plan.c"
#include "ctl/reach.c"
#include "ctl/serving.c"
#include "ctl/set.c"
#include "ctl/setconf.c"
#include "ctl/show.c"
#include "ctl/showconf.c"
#include "ctl/strip.c"
#include "ctl/updown.c"

enum {
	CA_MAX_ARGS = 64,
	CA_MAX_INPUT = 4096,
};

int wgctl_main(int argc, const char *argv[]);

/* what the last input did, for the regression test: wgctl's exit status, -1 = skipped */
static int ca_status;

static void ca_quiet(void)
{
	static bool done;
	int null_fd;

	if (done)
		return;
	done = true;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		abort();
	close(null_fd);
	/* stdio's stderr only: the sanitizers and libFuzzer write to fd 2 themselves */
	stderr = fopen("/dev/null", "w");
	if (!stderr)
		abort();
	setenv("WG_ENDPOINT_RESOLUTION_RETRIES", "0", 1);
	setenv("WGCTL_CONF_DIR", "/nonexistent/wgd-fuzz", 1);
	unsetenv("WG_COLOR_MODE");
	unsetenv("WG_HIDE_KEYS");
	unsetenv("WGD");
}

/* Only files under the current directory, and none of the special trees if that is /. */
static bool ca_arg_allowed(const char *a)
{
	static const char *const roots[] = { "dev", "proc", "sys", "run", "var" };

	if (a[0] == '/' || a[0] == '~' || strstr(a, ".."))
		return false;
	for (size_t i = 0; i < FZ_ARRAY_SIZE(roots); i++)
		if (!strncmp(a, roots[i], strlen(roots[i])))
			return false;
	return true;
}

static bool ca_command_allowed(int argc, const char *argv[])
{
	static const char *const skipped[] = { "up", "down", "reload" };

	for (size_t i = 0; argc > 1 && i < FZ_ARRAY_SIZE(skipped); i++)
		if (!strcmp(argv[1], skipped[i]))
			return false;
	for (int i = 1; i < argc; i++)
		if (!ca_arg_allowed(argv[i]))
			return false;
	return true;
}

static void fz_ctl_argv_one(const uint8_t *data, size_t size)
{
	static char buf[CA_MAX_INPUT + 1];
	const char *argv[CA_MAX_ARGS + 1] = { "wgctl" };
	int argc = 1, ret;

	fz_begin(9);
	ca_quiet();
	if (size > CA_MAX_INPUT)
		size = CA_MAX_INPUT;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size && argc < CA_MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	ca_status = -1;
	if (!ca_command_allowed(argc, argv))
		return;
	ret = wgctl_main(argc, argv);
	ca_status = ret;
	FZ_CHECK(ret == 0 || ret == 1, "exit status %d", ret);
}

FZ_ENTRY(fz_ctl_argv_one)
