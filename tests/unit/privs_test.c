/* SPDX-License-Identifier: MIT */
/*
 * The worker's privilege drop, observed from outside the library that did it: a forked
 * child drops to nobody, then reports what the kernel shows in /proc/self/status
 * (proc(5)) and whether setuid(0) works again. The expected bit masks follow from the
 * capability numbers in <linux/capability.h> (CAP_NET_ADMIN = 12), and the account comes
 * from parsing /etc/passwd by hand, not from getpwnam. Needs root; skipped otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/privs.h"

enum { REPORT_LEN = 4096 };

/* /etc/passwd's fields 3 and 4 for name, read without libc's NSS. */
static void passwd_ids(const char *name, long *uid, long *gid)
{
	char line[512], *save, *f;
	FILE *fp = fopen("/etc/passwd", "r");

	cr_assert(not(eq(ptr, fp, NULL)));
	*uid = *gid = -1;
	while (fgets(line, sizeof(line), fp)) {
		f = strtok_r(line, ":", &save);
		if (!f || strcmp(f, name))
			continue;
		strtok_r(NULL, ":", &save);
		*uid = strtol(strtok_r(NULL, ":", &save), NULL, 10);
		*gid = strtol(strtok_r(NULL, ":", &save), NULL, 10);
		break;
	}
	fclose(fp);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

/* The value after "Key:\t" in a /proc status text, or "". */
static char *field(const char *status, const char *key)
{
	static char val[128];
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\n%s:\t", key);
	p = strstr(status, pat);
	val[0] = '\0';
	if (!p)
		return val;
	p += strlen(pat);
	n = strcspn(p, "\n");
	if (n >= sizeof(val))
		n = sizeof(val) - 1;
	memcpy(val, p, n);
	while (n && val[n - 1] == ' ') /* "Groups:" ends in a space */
		n--;
	val[n] = '\0';
	return val;
}

/*
 * Runs prepare (may be NULL) then privs_drop(uid, gid, caps) in a child and returns the
 * child's report: "rc=N what=...\n", "setuid0=N\n" and its /proc/self/status.
 */
static char *drop_in_child(void (*prepare)(void), uid_t uid, gid_t gid, uint64_t caps)
{
	static char report[REPORT_LEN];
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	cr_assert(eq(int, pipe(fds), 0));
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		const char *what = "";
		char buf[REPORT_LEN];
		int rc, len;
		FILE *fp;

		close(fds[0]);
		if (prepare)
			prepare();
		rc = privs_drop(uid, gid, caps, &what);
		len = snprintf(buf, sizeof(buf), "rc=%d what=%s\nsetuid0=%d\n", rc, what,
			       setuid(0));
		fp = fopen("/proc/self/status", "r");
		if (fp) {
			len += (int)fread(buf + len, 1, sizeof(buf) - (size_t)len - 1, fp);
			fclose(fp);
		}
		if (write(fds[1], buf, (size_t)len) != len)
			_exit(2);
		/* _exit: a non-dumpable process cannot run LeakSanitizer's exit check */
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], report + got, sizeof(report) - 1 - got)) > 0)
		got += (size_t)n;
	report[got] = '\0';
	close(fds[0]);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, status, 0), "child status %d", status);
	return report;
}

/* The worker's two capabilities: 1 << CAP_NET_ADMIN (12) | 1 << CAP_NET_BIND_SERVICE (10) */
#define WORKER_CAPS (PRIVS_CAP(CAP_NET_ADMIN) | PRIVS_CAP(CAP_NET_BIND_SERVICE))

static void expect_nobody(const char *r, long uid, long gid, const char *caps)
{
	char want[64];

	cr_assert(eq(int, strncmp(r, "rc=0 ", 5), 0), "%s", r);
	cr_assert(not(eq(ptr, strstr(r, "\nsetuid0=-1\n"), NULL)), "setuid(0) worked again");
	snprintf(want, sizeof(want), "%ld\t%ld\t%ld\t%ld", uid, uid, uid, uid);
	cr_assert(eq(str, field(r, "Uid"), want));
	snprintf(want, sizeof(want), "%ld\t%ld\t%ld\t%ld", gid, gid, gid, gid);
	cr_assert(eq(str, field(r, "Gid"), want));
	cr_assert_str_eq(field(r, "Groups"), "");
	cr_assert_str_eq(field(r, "CapEff"), caps);
	cr_assert_str_eq(field(r, "CapPrm"), caps);
	cr_assert_str_eq(field(r, "CapInh"), "0000000000000000");
	cr_assert_str_eq(field(r, "CapAmb"), "0000000000000000");
	cr_assert_str_eq(field(r, "NoNewPrivs"), "1");
}

/* Root's supplementary groups, which the drop must not carry over. */
static void add_groups(void)
{
	static const gid_t groups[] = { 0, 4, 27 };

	if (setgroups(3, groups) < 0)
		_exit(3);
}

Test(privs, drop_to_nobody_keeps_only_the_worker_caps)
{
	long uid, gid;
	char *r;

	need_root();
	passwd_ids("nobody", &uid, &gid);
	cr_assert(gt(long, uid, 0L), "no nobody in /etc/passwd");
	r = drop_in_child(add_groups, (uid_t)uid, (gid_t)gid, WORKER_CAPS);
	expect_nobody(r, uid, gid, "0000000000001400");
	/* with CAP_SETPCAP at hand the bounding set goes too */
	cr_assert_str_eq(field(r, "CapBnd"), "0000000000000000");
}

/* A worker that needs no fwmark keeps only CAP_NET_BIND_SERVICE; the resolver nothing. */
Test(privs, drop_keeps_exactly_the_mask)
{
	long uid, gid;

	need_root();
	passwd_ids("nobody", &uid, &gid);
	expect_nobody(drop_in_child(NULL, (uid_t)uid, (gid_t)gid,
				    PRIVS_CAP(CAP_NET_BIND_SERVICE)),
		      uid, gid, "0000000000000400");
	expect_nobody(drop_in_child(NULL, (uid_t)uid, (gid_t)gid, 0), uid, gid,
		      "0000000000000000");
}

/*
 * What systemd leaves us under CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE
 * CAP_SETUID CAP_SETGID: a bounding set and capability sets of just those, so no
 * CAP_SETPCAP.
 */
static void systemd_bounding_set(void)
{
	unsigned long last = 0;
	FILE *fp = fopen("/proc/sys/kernel/cap_last_cap", "r");

	if (!fp || fscanf(fp, "%lu", &last) != 1)
		_exit(4);
	fclose(fp);
	for (unsigned long cap = 0; cap <= last; cap++)
		if (cap != CAP_NET_ADMIN && cap != CAP_NET_BIND_SERVICE && cap != CAP_SETUID &&
		    cap != CAP_SETGID && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			_exit(5);
	capng_clear(CAPNG_SELECT_CAPS);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN,
		      CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, -1);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		_exit(6);
}

Test(privs, drop_without_setpcap)
{
	long uid, gid;
	char *r;

	need_root();
	passwd_ids("nobody", &uid, &gid);
	r = drop_in_child(systemd_bounding_set, (uid_t)uid, (gid_t)gid, WORKER_CAPS);
	expect_nobody(r, uid, gid, "0000000000001400");
	/* (1 << 12) | (1 << 10) | (1 << 7) | (1 << 6): left as the unit bounded it */
	cr_assert_str_eq(field(r, "CapBnd"), "00000000000014c0");
}

Test(privs, user_lookup)
{
	uid_t uid = 1;
	gid_t gid = 1;
	long want_uid, want_gid;
	char num[32];

	passwd_ids("nobody", &want_uid, &want_gid);
	cr_assert(eq(int, privs_user_lookup("nobody", &uid, &gid), 0));
	cr_assert(eq(long, (long)uid, want_uid));
	cr_assert(eq(long, (long)gid, want_gid));
	uid = 1;
	gid = 1;
	snprintf(num, sizeof(num), "%ld", want_uid);
	cr_assert(eq(int, privs_user_lookup(num, &uid, &gid), 0));
	cr_assert(eq(long, (long)uid, want_uid));
	cr_assert(eq(long, (long)gid, want_gid));
	passwd_ids("root", &want_uid, &want_gid);
	cr_assert(eq(int, privs_user_lookup("root", &uid, &gid), 0));
	cr_assert(eq(long, (long)uid, want_uid));
	cr_assert(eq(int, privs_user_lookup("wgd-no-such-user", &uid, &gid), -ENOENT));
	cr_assert(eq(int, privs_user_lookup("4000000000", &uid, &gid), -ENOENT));
	cr_assert(eq(int, privs_user_lookup("99999999999999999999", &uid, &gid), -ERANGE));
	cr_assert(eq(int, privs_user_lookup("", &uid, &gid), -EINVAL));
	cr_assert(eq(long, (long)uid, want_uid), "a failed lookup changed uid");
}
