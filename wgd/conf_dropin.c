/* SPDX-License-Identifier: MIT */
/*
 * conf_load(): an interface's whole configuration, its main file plus the drop-ins of
 * IF.d/ (conf.h), as sshd_config.d/ and systemd's *.conf.d/ work, so that configuration
 * management writes one file per branch and two runs never edit the same file. The
 * drop-ins are read in strcmp() order, which is the "C" locale's and does not depend on
 * the environment; each is parsed on its own (a [Peer] cannot continue across files) and
 * its peers are appended. Files a non-root user could write are refused before they are
 * read, since a line in one of them is a key that opens the tunnel.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgd/conf.h"

enum { DROPIN_WARN_LEN = 1024 };

int conf_errorf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int conf_dropin_dir(char *buf, size_t len, const char *path)
{
	size_t n = strlen(path);
	int w;

	if (n > 5 && !strcmp(path + n - 5, ".conf"))
		n -= 5;
	w = snprintf(buf, len, "%.*s.d", (int)n, path);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

bool conf_dropin_name_ok(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".conf");
}

int conf_check_owner(const char *path, const struct stat *st, char *err, size_t errlen)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me)
		return conf_errorf(
			err, errlen, -EPERM,
			"%s: refused: owned by uid %lu, not by root or uid %lu (who reads it)",
			path, (unsigned long)st->st_uid, (unsigned long)me);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return conf_errorf(err, errlen, -EPERM,
				   "%s: refused: writable by %s (mode %04o), who could add a peer: "
				   "chmod go-w it",
				   path, st->st_mode & S_IWOTH ? "others" : "its group",
				   (unsigned int)(st->st_mode & 07777));
	return 0;
}

/* stat() (a symlink counts as what it names) and conf_check_owner. */
static int check_path(const char *path, bool want_dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return conf_errorf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (want_dir && !S_ISDIR(st.st_mode))
		return conf_errorf(err, errlen, -ENOTDIR, "%s: not a directory", path);
	if (!want_dir && !S_ISREG(st.st_mode))
		return conf_errorf(err, errlen, -EINVAL, "%s: not a regular file", path);
	return conf_check_owner(path, &st, err, errlen);
}

static int dropin_filter(const struct dirent *d)
{
	return conf_dropin_name_ok(d->d_name);
}

/* The "C" locale's collation whatever LC_COLLATE says: the order must not move. */
static int dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Moves every peer of from to the end of to; file (owned) names them. 0 or -ENOMEM. */
static int take_peers(struct conf *to, struct conf *from, const char *file)
{
	for (size_t i = 0; i < from->dev.peers_len; i++) {
		size_t old_cap = to->dev.peers_cap;
		struct cfg_peer *p = cfg_device_add_peer(&to->dev);
		struct conf_peer_extra *x;

		if (!p)
			return -ENOMEM;
		if (to->dev.peers_cap != old_cap) {
			x = realloc(to->peer_extra, to->dev.peers_cap * sizeof(*x));
			if (!x) {
				to->dev.peers_len--;
				return -ENOMEM;
			}
			to->peer_extra = x;
		}
		*p = from->dev.peers[i];
		to->peer_extra[to->dev.peers_len - 1] = from->peer_extra[i];
		x = &to->peer_extra[to->dev.peers_len - 1];
		x->file = strdup(file);
		/* from keeps no pointer to what moved; its key copy is wiped by conf_clear */
		from->dev.peers[i].allowedips = NULL;
		from->dev.peers[i].allowedips_len = from->dev.peers[i].allowedips_cap = 0;
		from->peer_extra[i].endpoint_host = NULL;
		if (!x->file)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_key(const void *a, const void *b, void *base)
{
	const struct cfg_peer *peers = base;

	return memcmp(peers[*(const size_t *)a].public_key, peers[*(const size_t *)b].public_key,
		      KEY_LEN);
}

/* A PublicKey in two places: the later one is the error, naming the first. */
static int check_duplicates(const struct conf *c, const char *main_path, char *err, size_t errlen)
{
	size_t n = c->dev.peers_len, *idx = calloc(n ? n : 1, sizeof(*idx));
	char b64[KEY_B64_LEN + 1];
	int ret = 0;

	if (!idx)
		return conf_errorf(err, errlen, -ENOMEM, "%s: out of memory", main_path);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_key, c->dev.peers);
	for (size_t i = 1; i < n && !ret; i++) {
		size_t a = idx[i - 1], b = idx[i];
		const struct conf_peer_extra *x, *y;

		if (cmp_key(&idx[i - 1], &idx[i], c->dev.peers))
			continue;
		if (a > b) {
			size_t t = a;

			a = b;
			b = t;
		}
		x = &c->peer_extra[a];
		y = &c->peer_extra[b];
		key_to_base64(b64, c->dev.peers[a].public_key);
		ret = conf_errorf(err, errlen, -EINVAL,
				  "%s:%u: duplicate peer: PublicKey %s is already defined at %s:%u",
				  y->file ? y->file : main_path, y->line, b64,
				  x->file ? x->file : main_path, x->line);
	}
	free(idx);
	return ret;
}

/* Appends warning lines to warn (as conf_parse_file writes them). */
static void add_warnings(char *warn, size_t warnlen, const char *more)
{
	size_t used;

	if (!warn || !warnlen || !*more)
		return;
	used = strlen(warn);
	snprintf(warn + used, warnlen - used, "%s", more);
}

/* One drop-in, checked, parsed and merged into c. */
static int load_one(struct conf *c, const char *path, char *err, size_t errlen, char *warn,
		    size_t warnlen)
{
	char w[DROPIN_WARN_LEN] = "";
	struct conf d;
	int ret = check_path(path, false, err, errlen);

	if (ret)
		return ret;
	ret = conf_parse_file_mode(&d, path, CONF_DROPIN, err, errlen, w, sizeof(w));
	if (ret)
		return ret;
	add_warnings(warn, warnlen, w);
	ret = take_peers(c, &d, path);
	conf_clear(&d);
	return ret ? conf_errorf(err, errlen, ret, "%s: out of memory", path) : 0;
}

static int load_dropins(struct conf *c, const char *path, char *err, size_t errlen, char *warn,
			size_t warnlen)
{
	char dir[4096], file[4096 + 256];
	struct dirent **names = NULL;
	struct stat st;
	int n, ret;

	ret = conf_dropin_dir(dir, sizeof(dir), path);
	if (ret)
		return conf_errorf(err, errlen, ret, "%s: path too long", path);
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return 0;
	ret = check_path(dir, true, err, errlen);
	if (ret)
		return ret;
	n = scandir(dir, &names, dropin_filter, dropin_cmp);
	if (n < 0)
		return conf_errorf(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name);
		if (!ret)
			ret = load_one(c, file, err, errlen, warn, warnlen);
		free(names[i]);
	}
	free(names);
	return ret ? ret : check_duplicates(c, path, err, errlen);
}

int conf_load(struct conf *out, const char *path, enum conf_mode mode, char *err, size_t errlen,
	      char *warn, size_t warnlen)
{
	struct stat st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (warn && warnlen)
		warn[0] = '\0';
	/* a file that cannot be opened is reported by the parser, as before */
	if (stat(path, &st) == 0 && (ret = conf_check_owner(path, &st, err, errlen)))
		return ret;
	ret = conf_parse_file_mode(out, path, mode, err, errlen, warn, warnlen);
	if (ret)
		return ret;
	ret = load_dropins(out, path, err, errlen, warn, warnlen);
	if (ret) {
		conf_clear(out);
		if (warn && warnlen)
			warn[0] = '\0';
	}
	return ret;
}
