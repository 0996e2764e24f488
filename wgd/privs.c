/* SPDX-License-Identifier: MIT */
/*
 * Privilege drop with libcap-ng's capng_change_id, which does the delicate order for
 * us: keep capabilities across setresuid (PR_SET_KEEPCAPS), change gid, drop
 * supplementary groups, change uid, then apply the final capability sets. We check the
 * result afterwards instead of trusting it, as OpenSSH's permanently_set_uid does.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cap-ng.h>

#include "wgd/privs.h"

enum { PRIVS_PW_BUF = 16384 };

static bool is_decimal(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int privs_user_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *found = NULL;
	char *buf;
	int ret;

	if (!user || !*user)
		return -EINVAL;
	buf = malloc(PRIVS_PW_BUF);
	if (!buf)
		return -ENOMEM;
	ret = getpwnam_r(user, &pw, buf, PRIVS_PW_BUF, &found);
	if (!ret && !found && is_decimal(user)) {
		unsigned long n;

		errno = 0;
		n = strtoul(user, NULL, 10);
		if (errno || n >= (uid_t)-1)
			ret = ERANGE;
		else
			ret = getpwuid_r((uid_t)n, &pw, buf, PRIVS_PW_BUF, &found);
	}
	if (!ret && found) {
		*uid = found->pw_uid;
		*gid = found->pw_gid;
	}
	free(buf);
	if (ret)
		return -ret;
	return found ? 0 : -ENOENT;
}

/* capng_change_id's documented failure codes, as the step that failed. */
static const char *change_id_step(int rc)
{
	switch (rc) {
	case -2:
		return "keeping capabilities across the uid change";
	case -3:
		return "applying the intermediate capabilities";
	case -4:
		return "changing the group id";
	case -5:
		return "dropping the supplementary groups";
	case -6:
		return "changing the user id";
	case -7:
		return "clearing PR_SET_KEEPCAPS";
	case -8:
		return "clearing the capability bounding set";
	case -9:
		return "dropping the temporary capabilities";
	default:
		return "initialising libcap-ng";
	}
}

/* Trust but verify: ids, groups, no way back to root, and the capabilities asked for. */
static int verify(uid_t uid, gid_t gid, uint64_t caps, const char **what)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	*what = "verifying the new credentials";
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return -errno;
	if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid ||
	    sgid != gid || getgroups(0, NULL) != 0)
		return -EPERM;
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return -EPERM;
	if (capng_get_caps_process() < 0)
		return -EPERM;
	for (unsigned int cap = 0; cap < 64; cap++) {
		bool want = caps & PRIVS_CAP(cap);

		if (capng_have_capability(CAPNG_EFFECTIVE, cap) != want ||
		    capng_have_capability(CAPNG_PERMITTED, cap) != want ||
		    capng_have_capability(CAPNG_INHERITABLE, cap) ||
		    capng_have_capability(CAPNG_AMBIENT, cap))
			return -EPERM;
	}
	return 0;
}

int privs_group_lookup(const char *group, gid_t *gid)
{
	struct group gr, *found = NULL;
	unsigned long n;
	char *buf;
	int ret;

	if (!group || !*group)
		return -EINVAL;
	buf = malloc(PRIVS_PW_BUF);
	if (!buf)
		return -ENOMEM;
	ret = getgrnam_r(group, &gr, buf, PRIVS_PW_BUF, &found);
	if (!ret && found)
		*gid = found->gr_gid;
	free(buf);
	if (ret)
		return -ret;
	if (found)
		return 0;
	if (!is_decimal(group))
		return -ENOENT;
	errno = 0;
	n = strtoul(group, NULL, 10);
	if (errno || n >= (gid_t)-1)
		return -ERANGE;
	*gid = (gid_t)n;
	return 0;
}

int privs_drop(uid_t uid, gid_t gid, uint64_t caps, const char **what)
{
	int flags = CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT, rc;

	*what = "reading the current capabilities";
	if (capng_get_caps_process() < 0)
		return errno ? -errno : -EPERM;
	/* Emptying the bounding set needs CAP_SETPCAP; systemd units may withhold it. */
	if (capng_have_capability(CAPNG_PERMITTED, CAP_SETPCAP))
		flags |= CAPNG_CLEAR_BOUNDING;
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	for (unsigned int cap = 0; cap < 64; cap++)
		if ((caps & PRIVS_CAP(cap)) &&
		    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, cap) < 0)
			return -EINVAL;
	errno = 0;
	rc = capng_change_id((int)uid, (int)gid, (capng_flags_t)flags);
	if (rc < 0) {
		*what = change_id_step(rc);
		return errno ? -errno : -EPERM;
	}
	*what = "setting PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* The uid change already reset it (fs.suid_dumpable), but do not depend on a sysctl. */
	*what = "clearing PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return verify(uid, gid, caps, what);
}

int privs_drop_all(uid_t uid, gid_t gid, const char **what)
{
	return privs_drop(uid, gid, 0, what);
}

int privs_harden_process(const char **what)
{
	const struct rlimit no_core = { 0, 0 };
	struct rlimit lock;

	*what = "setting RLIMIT_CORE to 0";
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	*what = "clearing PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	/*
	 * Best effort: raising the hard limit needs CAP_SYS_RESOURCE (which a container's
	 * root may lack); the soft limit can always go up to the hard one. Beyond it secmem
	 * logs that it could not lock; systemd's LimitMEMLOCK= sets both (wgd@.service).
	 */
	if (getrlimit(RLIMIT_MEMLOCK, &lock) == 0 && lock.rlim_cur != RLIM_INFINITY &&
	    lock.rlim_cur < PRIVS_MEMLOCK_BYTES) {
		struct rlimit want = { PRIVS_MEMLOCK_BYTES, lock.rlim_max };

		if (want.rlim_max != RLIM_INFINITY && want.rlim_max < PRIVS_MEMLOCK_BYTES)
			want.rlim_max = PRIVS_MEMLOCK_BYTES;
		if (setrlimit(RLIMIT_MEMLOCK, &want) < 0) {
			lock.rlim_cur = lock.rlim_max;
			(void)setrlimit(RLIMIT_MEMLOCK, &lock);
		}
	}
	*what = NULL;
	return 0;
}
