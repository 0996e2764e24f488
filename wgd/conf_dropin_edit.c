/* SPDX-License-Identifier: MIT */
/*
 * `wgctl peer add --save-to NAME' and `peer remove --save' for drop-ins (conf_edit.h):
 * a drop-in written by wgctl is the one peer it holds, so it is written whole, never
 * edited; removing its only peer removes the file. Every write is a temporary file in
 * the same directory (mode 0600), fsync, rename, fsync of the directory: a reload or a
 * crash sees the old file or the new one, never half of one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgd/conf.h"
#include "wgd/conf_edit.h"

enum { SECTION_MAX = 4096 };

/* The peer with this key in c: its index, or -1. */
static long find_in(const struct conf *c, const uint8_t pub[static KEY_LEN])
{
	for (size_t i = 0; i < c->dev.peers_len; i++) {
		if (!memcmp(c->dev.peers[i].public_key, pub, KEY_LEN))
			return (long)i;
	}
	return -1;
}

/* Parses path in mode and looks for the key; 1 found, 0 not, -errno. */
static int find_in_file(const char *path, enum conf_mode mode, const uint8_t pub[static KEY_LEN],
			unsigned int *line, size_t *peers, char *err, size_t errlen)
{
	struct conf c;
	long i;
	int ret = conf_parse_file_mode(&c, path, mode, err, errlen, NULL, 0);

	if (ret)
		return ret;
	i = find_in(&c, pub);
	if (i >= 0) {
		*line = c.peer_extra[i].line;
		*peers = c.dev.peers_len;
	}
	conf_clear(&c);
	return i >= 0;
}

static int dropin_filter(const struct dirent *d)
{
	return conf_dropin_name_ok(d->d_name);
}

static int dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int conf_dropin_find(const char *main_path, const uint8_t pub[static KEY_LEN], char *file,
		     size_t filelen, unsigned int *line, size_t *peers, char *err, size_t errlen)
{
	char dir[4096];
	struct dirent **names = NULL;
	int n, ret = find_in_file(main_path, CONF_FULL, pub, line, peers, err, errlen);

	if (ret == 1)
		snprintf(file, filelen, "%s", main_path);
	if (ret)
		return ret;
	if (conf_dropin_dir(dir, sizeof(dir), main_path))
		return conf_errorf(err, errlen, -ENAMETOOLONG, "%s: path too long", main_path);
	n = scandir(dir, &names, dropin_filter, dropin_cmp);
	if (n < 0)
		return errno == ENOENT
			       ? 0
			       : conf_errorf(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!ret) {
			snprintf(file, filelen, "%s/%s", dir, names[i]->d_name);
			ret = find_in_file(file, CONF_DROPIN, pub, line, peers, err, errlen);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/* The section as conf_write_peer writes it, with a line saying who wrote the file. */
static int format(char *buf, size_t len, const struct cfg_peer *peer, const char *endpoint_text,
		  size_t *out_len)
{
	FILE *f = fmemopen(buf, len, "w");
	int ret;

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0); /* no stdio copy of the preshared key */
	fputs("# Written by `wgctl peer add --save-to'.\n", f);
	ret = conf_write_peer(f, peer, endpoint_text);
	*out_len = ret ? 0 : (size_t)ftell(f);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t r = write(fd, buf, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static void sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) { /* the rename or unlink is durable once the directory is */
		fsync(dfd);
		close(dfd);
	}
}

/* text replaces path: temporary file, 0600, fsync, rename, fsync of dir. */
static int replace_whole(const char *dir, const char *path, const char *text, size_t len, char *err,
			 size_t errlen)
{
	char tmp[4096 + 32];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s/.wgctl.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return conf_errorf(err, errlen, -errno, "cannot create a file in %s: %s", dir,
				   strerror(errno));
	ret = fchmod(fd, 0600) < 0 ? -errno : 0;
	ret = ret ?: write_all(fd, text, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return conf_errorf(err, errlen, ret, "cannot write %s: %s", path, strerror(-ret));
	}
	sync_dir(dir);
	return 0;
}

int conf_dropin_write_peer(const char *path, const struct cfg_peer *peer, const char *endpoint_text,
			   char *err, size_t errlen)
{
	size_t cap = SECTION_MAX + peer->allowedips_len * 64, len = 0;
	char *buf = calloc(cap, 1), *dir = NULL, perr[512];
	const char *slash = strrchr(path, '/');
	struct conf check;
	int ret;

	if (!buf || !slash || !(dir = strndup(path, (size_t)(slash - path)))) {
		ret = conf_errorf(err, errlen, buf && !slash ? -EINVAL : -ENOMEM, "%s: %s", path,
				  buf && !slash ? "not a path" : "out of memory");
		goto out;
	}
	ret = format(buf, cap, peer, endpoint_text, &len);
	if (ret) {
		ret = conf_errorf(err, errlen, ret, "%s: cannot format the peer: %s", path,
				  strerror(-ret));
		goto out;
	}
	/* what we write must read back as the drop-in it claims to be */
	ret = conf_parse_string_mode(&check, path, buf, len, CONF_DROPIN, perr, sizeof(perr));
	if (ret) {
		ret = conf_errorf(err, errlen, ret,
				  "refusing to save, the result would not parse: %s", perr);
		goto out;
	}
	conf_clear(&check);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = conf_errorf(err, errlen, -errno, "cannot create %s: %s", dir,
				  strerror(errno));
		goto out;
	}
	ret = replace_whole(dir, path, buf, len, err, errlen);
out:
	if (buf)
		wipe(buf, cap);
	free(buf);
	free(dir);
	return ret;
}

int conf_dropin_remove_peer(const char *path, const uint8_t pub[static KEY_LEN], char *err,
			    size_t errlen)
{
	char *dir;
	unsigned int line;
	size_t peers = 0;
	int ret = find_in_file(path, CONF_DROPIN, pub, &line, &peers, err, errlen);

	if (ret < 0)
		return ret;
	if (!ret)
		return conf_errorf(err, errlen, -ENOENT, "%s: no such peer", path);
	if (peers > 1)
		return conf_edit_remove_peer_mode(path, pub, CONF_DROPIN, err, errlen);
	if (unlink(path) < 0)
		return conf_errorf(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	dir = strdup(path);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		sync_dir(*dir ? dir : "/");
	}
	free(dir);
	return 0;
}
