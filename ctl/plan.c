/* SPDX-License-Identifier: MIT */
/*
 * wgctl reload IF --dry-run | check IF [--json]: what a reload would change, changing
 * nothing, with an exit status a CI job or Ansible's check_mode can branch on: 0 no
 * change, 2 a change, 1 refused. wgd computes the plan itself (control.h's plan=1): it
 * holds the record of the addresses and routes it installed. A daemon without a control
 * socket (wireguard-go) has only peers and device keys to compare, over the UAPI, and the
 * plan says so; its `reload' applies that same plan and prints its counts.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "wgd/conf.h"
#include "wgd/control.h"
#include "wgd/plan.h"

enum { PLAN_ERR_LEN = PATH_MAX + 1024, PLAN_EXIT_CHANGES = 2 };

/* A refusal: the error on stderr (ctl_print_reply or the caller did), and for --json. */
static int refused(const char *ifname, const char *error, bool json)
{
	if (json) {
		fputs("{\n  \"interface\": ", stdout);
		json_write_str(stdout, ifname);
		fputs(",\n  \"changes\": null,\n  \"refused\": true,\n  \"error\": ", stdout);
		json_write_str(stdout, error);
		fputs("\n}\n", stdout);
	}
	return 1;
}

/* The first error= line of a reply, for --json. */
static void reply_error(const char *reply, char *buf, size_t len)
{
	if (!control_reply_value(reply, "error", buf, len))
		snprintf(buf, len, "refused (see the daemon's log)");
}

/* Prints the plan= lines of the daemon's answer; the exit status. */
static int print_plan(const char *ifname, char *reply, int ret, bool json)
{
	char err[PLAN_ERR_LEN], changes[8] = "";
	const char *line = reply;

	ctl_print_reply(reply); /* warnings and errors */
	if (ret < 0) {
		reply_error(reply, err, sizeof(err));
		free(reply);
		return refused(ifname, err, json);
	}
	while (*line) {
		size_t n = strcspn(line, "\n");

		if (!strncmp(line, "plan=", 5))
			printf("%.*s\n", (int)(n - 5), line + 5);
		line += n + (line[n] == '\n');
	}
	control_reply_value(reply, "changes", changes, sizeof(changes));
	free(reply);
	return !strcmp(changes, "1") ? PLAN_EXIT_CHANGES : 0;
}

/* --- not wgd: the peers, over the UAPI ----------------------------------------------- */

struct local {
	char path[PATH_MAX];
	struct conf conf;
	struct uapi_state running;
	struct plan plan;
};

static void local_clear(struct local *l)
{
	conf_clear(&l->conf);
	uapi_state_clear(&l->running);
	plan_clear(&l->plan);
}

/* IF's file and drop-ins against its running peers. 0, or 1 after the error line. */
static int local_plan(struct local *l, const char *ifname, bool json)
{
	char err[PLAN_ERR_LEN] = "", warn[PLAN_ERR_LEN] = "";
	int ret;

	memset(l, 0, sizeof(*l));
	if (!ctl_conf_path(l->path, sizeof(l->path), ifname))
		return 1;
	ret = conf_load(&l->conf, l->path, CONF_WG_SUBSET, err, sizeof(err), warn, sizeof(warn));
	ctl_err_lines(warn);
	/* as wg(8) reads a file: names are looked up here, the daemon never sees them */
	if (!ret)
		ret = conf_resolve_endpoints(&l->conf, l->path, err, sizeof(err));
	if (ret < 0) {
		if (!*err)
			snprintf(err, sizeof(err), "%s: %s", l->path, strerror(-ret));
		fprintf(stderr, "%s\n", err);
		return refused(ifname, err, json);
	}
	ret = uapi_client_get(ifname, &l->running);
	if (ret < 0) {
		ctl_uapi_err("retrieve the current configuration of", ifname, ret);
		return 1;
	}
	/* as syncconf (setconf.c): "ListenPort = 0" or none keeps the port it has */
	if (!l->conf.dev.listen_port)
		l->conf.dev.flags &= ~(unsigned int)CFG_DEV_HAS_LISTEN_PORT;
	l->plan.ifname = ifname;
	l->plan.path = l->path;
	l->plan.is_peers_only = true;
	ret = plan_peers(&l->plan, &l->running.cfg, &l->conf.dev, l->conf.peer_extra);
	if (ret < 0) {
		ctl_err("Unable to compute the changes for `%s': %s", ifname, strerror(-ret));
		return 1;
	}
	return 0;
}

static int plan_other(const char *ifname, bool json)
{
	struct local l;
	int ret = local_plan(&l, ifname, json);

	if (!ret) {
		if (json)
			plan_write_json(stdout, &l.plan);
		else
			plan_write_text(stdout, &l.plan);
		ret = plan_has_changes(&l.plan) ? PLAN_EXIT_CHANGES : 0;
	}
	local_clear(&l);
	return ret;
}

int ctl_reload_other(const char *ifname)
{
	struct cfg_device diff = { 0 };
	struct local l;
	int ret = local_plan(&l, ifname, false);

	if (ret)
		goto out;
	ret = cfg_sync_diff(&diff, &l.running.cfg, &l.conf.dev);
	if (ret < 0) {
		ctl_err("Unable to compute the changes for `%s': %s", ifname, strerror(-ret));
		ret = 1;
		goto out;
	}
	ret = uapi_client_set(ifname, &diff);
	if (ret < 0) {
		ctl_uapi_err("modify interface", ifname, ret);
		ret = 1;
		goto out;
	}
	printf("Reloaded %s: peers %zu added, %zu removed, %zu changed, %zu unchanged "
	       "(peers only: `%s' is not served by wgd)\n",
	       l.path, l.plan.added.len, l.plan.removed.len, l.plan.changed.len, l.plan.unchanged,
	       ifname);
out:
	cfg_device_clear(&diff);
	local_clear(&l);
	return ret;
}

/* --- entry ------------------------------------------------------------------------------ */

/* `check IF' when nothing serves IF here: the file `up' would start it with, parsed. */
static int check_file_only(const char *ifname, bool json)
{
	char path[PATH_MAX], err[PLAN_ERR_LEN] = "", warn[PLAN_ERR_LEN] = "";
	struct conf c;

	if (!ctl_conf_path(path, sizeof(path), ifname))
		return 1;
	if (conf_load(&c, path, CONF_FULL, err, sizeof(err), warn, sizeof(warn)) < 0) {
		fputs(warn, stderr);
		fprintf(stderr, "%s\n", err);
		return refused(ifname, err, json);
	}
	conf_clear(&c);
	fputs(warn, stderr);
	if (json) {
		fputs("{\n  \"interface\": ", stdout);
		json_write_str(stdout, ifname);
		fputs(",\n  \"file\": ", stdout);
		json_write_str(stdout, path);
		fputs(",\n  \"changes\": null,\n  \"running\": false\n}\n", stdout);
	} else {
		printf("%s: OK\n", path);
	}
	return 0;
}

int ctl_plan(const char *ifname, bool json, bool is_check)
{
	char *reply = NULL;
	int ret, fd;

	ret = ctl_control_request(ifname, json ? "planjson" : "plan", &reply);
	if (ret == CTL_NO_REPLY)
		return 1;
	if (ret != CTL_NO_DAEMON)
		return print_plan(ifname, reply, ret, json);
	fd = uapi_client_connect(ifname);
	if (fd >= 0) {
		close(fd);
		return plan_other(ifname, json);
	}
	if (is_check)
		return check_file_only(ifname, json);
	ctl_uapi_err("access interface", ifname, fd);
	return 1;
}
