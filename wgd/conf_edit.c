/* SPDX-License-Identifier: MIT */
/*
 * conf_edit.h's edits. The file is read whole and split into lines, each one blank, a
 * comment, a section header or other; the parser (without DNS) says which header starts
 * which peer. The new text is built from untouched slices of the old one plus a section
 * written by conf_write_peer(), parsed again, and only then renamed over the file. Every
 * buffer may hold a key, so each is wiped before it is freed; nothing goes to disk but the
 * temporary file that becomes the target.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgd/conf_edit.h"
#include "wgd/conf_parse.h"

enum line_kind { LINE_BLANK, LINE_COMMENT, LINE_HEADER, LINE_OTHER };

struct edit {
	const char *name; /* as the caller gave it, for messages */
	char *real;	  /* owned: the target with symlinks resolved */
	struct stat st;
	char *text; /* owned, wiped */
	size_t len;
	size_t *start; /* owned: where each line starts; start[n] == len */
	unsigned char *kind;
	size_t n;
	struct conf conf;    /* the text as parsed */
	enum conf_mode mode; /* how it is parsed: CONF_FULL, or CONF_DROPIN for a drop-in */
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
edit_fail(struct edit *e, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!e->err || !e->errlen)
		return ret;
	n = snprintf(e->err, e->errlen, "%s: ", e->name);
	if (n >= 0 && (size_t)n < e->errlen) {
		va_start(ap, fmt);
		vsnprintf(e->err + n, e->errlen - n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static void free_wiped(char *buf, size_t len)
{
	if (buf)
		wipe(buf, len);
	free(buf);
}

/* The same rules as the parser's reader: a comment or header after optional blanks. */
static enum line_kind classify(const char *s, size_t len, bool first)
{
	size_t i = first && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3) ? 3 : 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len)
		return LINE_BLANK;
	if (s[i] == '#' || s[i] == ';')
		return LINE_COMMENT;
	return s[i] == '[' ? LINE_HEADER : LINE_OTHER;
}

static int split_lines(struct edit *e)
{
	size_t n = 0, i;

	for (i = 0; i < e->len; i++)
		n += e->text[i] == '\n';
	n += e->len && e->text[e->len - 1] != '\n';
	e->start = calloc(n + 1, sizeof(*e->start));
	e->kind = calloc(n + 1, 1);
	if (!e->start || !e->kind)
		return edit_fail(e, -ENOMEM, "out of memory");
	e->n = n;
	for (i = 0, n = 0; n < e->n; n++) {
		const char *nl = memchr(e->text + i, '\n', e->len - i);
		size_t end = nl ? (size_t)(nl - e->text) + 1 : e->len;

		e->start[n] = i;
		e->kind[n] = classify(e->text + i, end - i, n == 0);
		i = end;
	}
	e->start[e->n] = e->len;
	return 0;
}

static int read_text(struct edit *e)
{
	size_t cap;
	ssize_t r;
	int fd = open(e->real, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret = 0;

	if (fd < 0 || fstat(fd, &e->st) < 0)
		ret = edit_fail(e, -errno, "%s", strerror(errno));
	else if (!S_ISREG(e->st.st_mode))
		ret = edit_fail(e, -EINVAL, "not a regular file");
	else if (e->st.st_size >= CONF_MAX_FILE)
		ret = edit_fail(e, -EFBIG, "file too large");
	if (ret)
		goto out;
	cap = (size_t)e->st.st_size + 1; /* one more byte tells a file that grew */
	e->text = malloc(cap);
	if (!e->text) {
		ret = edit_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	while (e->len < cap && (r = read(fd, e->text + e->len, cap - e->len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = edit_fail(e, -errno, "%s", strerror(errno));
			goto out;
		}
		e->len += r;
	}
	if (e->len == cap)
		ret = edit_fail(e, -EAGAIN, "file changed while being read");
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int load(struct edit *e)
{
	int ret;

	e->real = realpath(e->name, NULL);
	if (!e->real)
		return edit_fail(e, -errno, "%s", strerror(errno));
	ret = read_text(e);
	if (!ret)
		ret = conf_parse_string_mode(&e->conf, e->real, e->text, e->len, e->mode, e->err,
					     e->errlen);
	return ret ? ret : split_lines(e);
}

static void edit_clear(struct edit *e)
{
	conf_clear(&e->conf);
	free_wiped(e->text, e->len);
	free(e->start);
	free(e->kind);
	free(e->real);
}

/* The header line (0-based) of the peer with this key, or -1. */
static long find_peer(const struct conf *c, const uint8_t pub[static KEY_LEN])
{
	for (size_t i = 0; i < c->dev.peers_len; i++) {
		if (!memcmp(c->dev.peers[i].public_key, pub, KEY_LEN))
			return (long)c->peer_extra[i].line - 1;
	}
	return -1;
}

/* The peer's header line in e, -1 if there is no such peer, -2 if the lines disagree. */
static long find_header(const struct edit *e, const uint8_t pub[static KEY_LEN])
{
	long h = find_peer(&e->conf, pub);

	if (h >= 0 && ((size_t)h >= e->n || e->kind[h] != LINE_HEADER))
		return -2;
	return h;
}

static size_t next_header(const struct edit *e, size_t h)
{
	size_t i = h + 1;

	while (i < e->n && e->kind[i] != LINE_HEADER)
		i++;
	return i;
}

/* End of the section at h, leaving the comments right above the next header to it. */
static size_t section_end(const struct edit *e, size_t h)
{
	size_t next = next_header(e, h), b = next;

	while (next < e->n && b - 1 > h && e->kind[b - 1] == LINE_COMMENT)
		b--;
	return b;
}

static void remove_span(const struct edit *e, size_t h, size_t *a, size_t *b)
{
	*a = h;
	*b = section_end(e, h);
	while (*a > 0 && e->kind[*a - 1] == LINE_COMMENT)
		(*a)--;
	if (*b == e->n) /* the last section: the blank lines before it separated it */
		while (*a > 0 && e->kind[*a - 1] == LINE_BLANK)
			(*a)--;
}

/*
 * The header through the last key line: comments above the header and after the last key
 * (PiVPN's "### end NAME ###" markers, which its scripts look for) stay.
 */
static void replace_span(const struct edit *e, size_t h, size_t *a, size_t *b)
{
	size_t next = next_header(e, h);

	*a = h;
	*b = h + 1;
	for (size_t i = h + 1; i < next; i++) {
		if (e->kind[i] == LINE_OTHER)
			*b = i + 1;
	}
}

/* out = lines [0, a) + sep + ins + lines [b, n). */
static int build(struct edit *e, size_t a, size_t b, const char *sep, const char *ins,
		 size_t ins_len, char **out, size_t *out_len)
{
	size_t head = e->start[a], tail = e->len - e->start[b], sep_len = strlen(sep);
	char *buf = malloc(head + sep_len + ins_len + tail + 1);

	if (!buf)
		return edit_fail(e, -ENOMEM, "out of memory");
	memcpy(buf, e->text, head);
	memcpy(buf + head, sep, sep_len);
	if (ins_len)
		memcpy(buf + head + sep_len, ins, ins_len);
	memcpy(buf + head + sep_len + ins_len, e->text + e->start[b], tail);
	*out_len = head + sep_len + ins_len + tail;
	buf[*out_len] = '\0';
	*out = buf;
	return 0;
}

/*
 * The section in a fixed buffer sized up front: fmemopen() never reallocates and, with no
 * stdio buffer, leaves no copy of the preshared key behind.
 */
static int format_section(struct edit *e, const struct cfg_peer *peer, const char *endpoint_text,
			  char **out, size_t *out_len)
{
	size_t cap = 512 + (endpoint_text ? strlen(endpoint_text) : 0) +
		     peer->allowedips_len * (INET6_ADDRSTRLEN + sizeof("/128, "));
	char *buf = calloc(cap, 1);
	FILE *f = buf ? fmemopen(buf, cap, "w") : NULL;
	int ret;

	if (!f) {
		free(buf);
		return edit_fail(e, -ENOMEM, "out of memory");
	}
	setvbuf(f, NULL, _IONBF, 0);
	ret = conf_write_peer(f, peer, endpoint_text);
	*out_len = ret ? 0 : (size_t)ftell(f);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret) {
		free_wiped(buf, cap);
		return edit_fail(e, ret, "cannot format the peer: %s", strerror(-ret));
	}
	*out = buf;
	return 0;
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
		len -= r;
	}
	return 0;
}

/* Gives a new file the target's owner and mode. */
static int copy_owner(const struct edit *e, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((st.st_uid != e->st.st_uid || st.st_gid != e->st.st_gid) &&
	    fchown(fd, e->st.st_uid, e->st.st_gid) < 0)
		return -errno;
	return fchmod(fd, e->st.st_mode & 07777) < 0 ? -errno : 0;
}

/* Fills a temporary file next to the target, with its owner and mode, and syncs it. */
static int write_temp(struct edit *e, const char *tmp, int fd, const char *text, size_t len)
{
	int ret = copy_owner(e, fd);

	if (!ret)
		ret = write_all(fd, text, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	return ret ? edit_fail(e, ret, "cannot write %s: %s", tmp, strerror(-ret)) : 0;
}

static bool unchanged(const struct edit *e)
{
	struct stat now;

	return !stat(e->real, &now) && now.st_dev == e->st.st_dev && now.st_ino == e->st.st_ino &&
	       now.st_size == e->st.st_size && now.st_mtim.tv_sec == e->st.st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == e->st.st_mtim.tv_nsec;
}

/* The directory of the target and a mkostemp() template next to it, both owned. */
static int temp_names(struct edit *e, char **dir, char **tmp)
{
	const char *slash = strrchr(e->real, '/'); /* realpath() made it absolute */

	*tmp = NULL;
	*dir = slash == e->real ? strdup("/") : strndup(e->real, slash - e->real);
	if (!*dir || asprintf(tmp, "%s/.%s.XXXXXX", *dir, slash + 1) < 0) {
		*tmp = NULL;
		return edit_fail(e, -ENOMEM, "out of memory");
	}
	return 0;
}

static int replace_file(struct edit *e, const char *text, size_t len)
{
	char *dir, *tmp;
	int fd = -1, dfd, ret = temp_names(e, &dir, &tmp);

	if (ret)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = edit_fail(e, -errno, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	ret = write_temp(e, tmp, fd, text, len);
	if (close(fd) < 0 && !ret)
		ret = edit_fail(e, -errno, "cannot write %s: %s", tmp, strerror(errno));
	fd = -1;
	if (!ret && !unchanged(e))
		ret = edit_fail(e, -EAGAIN, "file changed while being edited");
	if (!ret && rename(tmp, e->real) < 0)
		ret = edit_fail(e, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	if (ret) {
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) { /* the rename is durable once the directory is */
		fsync(dfd);
		close(dfd);
	}
out:
	free(tmp);
	free(dir);
	return ret;
}

/*
 * What replace_file() needs, tried for real: a new file in the directory, given the
 * target's owner and mode, then removed again. Permission bits alone would not tell a
 * read-only mount, an ACL, or an owner the caller may not give away.
 */
static int try_replace(struct edit *e)
{
	char *dir, *tmp;
	int fd, ret = temp_names(e, &dir, &tmp);

	if (ret)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = edit_fail(e, -errno, "cannot create files in %s: %s", dir, strerror(errno));
		goto out;
	}
	ret = copy_owner(e, fd);
	if (ret)
		ret = edit_fail(e, ret, "cannot give a new file the owner and mode of the file: %s",
				strerror(-ret));
	close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return ret;
}

/* The edited text must parse, and hold the peer exactly when it should. */
static int check_and_write(struct edit *e, const char *text, size_t len,
			   const uint8_t pub[static KEY_LEN], bool want_peer)
{
	char perr[512];
	struct conf check;
	int ret = conf_parse_string_mode(&check, e->real, text, len, e->mode, perr, sizeof(perr));

	if (ret)
		return edit_fail(e, ret, "refusing to save, the result would not parse: %s", perr);
	if ((find_peer(&check, pub) >= 0) != want_peer)
		ret = edit_fail(e, -EIO, "refusing to save, the edit went wrong");
	conf_clear(&check);
	return ret ? ret : replace_file(e, text, len);
}

static bool endpoint_text_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isgraph((unsigned char)*s) || *s == '#')
			return false;
	}
	return true;
}

int conf_edit_add_peer(const char *path, const struct cfg_peer *peer, const char *endpoint_text,
		       char *err, size_t errlen)
{
	struct edit e = { .name = path, .err = err, .errlen = errlen };
	size_t a, b, section_len = 0, out_len = 0;
	char *section = NULL, *out = NULL;
	const char *sep = "";
	long h;
	int ret;

	if (endpoint_text && !endpoint_text_ok(endpoint_text))
		return edit_fail(&e, -EINVAL, "invalid endpoint text");
	ret = load(&e);
	if (!ret)
		ret = format_section(&e, peer, endpoint_text, &section, &section_len);
	if (ret)
		goto out;
	h = find_header(&e, peer->public_key);
	if (h == -2) {
		ret = edit_fail(&e, -EIO, "cannot find the peer's section");
		goto out;
	} else if (h >= 0) {
		replace_span(&e, (size_t)h, &a, &b);
	} else {
		a = b = e.n;
		if (e.len && e.text[e.len - 1] != '\n')
			sep = e.kind[e.n - 1] == LINE_BLANK ? "\n" : "\n\n";
		else if (e.n && e.kind[e.n - 1] != LINE_BLANK)
			sep = "\n";
	}
	ret = build(&e, a, b, sep, section, section_len, &out, &out_len);
	if (!ret)
		ret = check_and_write(&e, out, out_len, peer->public_key, true);
out:
	free_wiped(section, section_len);
	free_wiped(out, out_len);
	edit_clear(&e);
	return ret;
}

int conf_edit_remove_peer_mode(const char *path, const uint8_t pub[static KEY_LEN],
			       enum conf_mode mode, char *err, size_t errlen)
{
	struct edit e = { .name = path, .mode = mode, .err = err, .errlen = errlen };
	char *out = NULL, b64[KEY_B64_LEN + 1];
	size_t a, b, out_len = 0;
	long h;
	int ret = load(&e);

	if (ret)
		goto out;
	h = find_header(&e, pub);
	if (h == -2) {
		ret = edit_fail(&e, -EIO, "cannot find the peer's section");
		goto out;
	} else if (h < 0) {
		key_to_base64(b64, pub);
		ret = edit_fail(&e, -ENOENT, "no [Peer] with PublicKey %s", b64);
		goto out;
	}
	remove_span(&e, (size_t)h, &a, &b);
	ret = build(&e, a, b, "", NULL, 0, &out, &out_len);
	if (!ret)
		ret = check_and_write(&e, out, out_len, pub, false);
out:
	free_wiped(out, out_len);
	edit_clear(&e);
	return ret;
}

int conf_edit_remove_peer(const char *path, const uint8_t pub[static KEY_LEN], char *err,
			  size_t errlen)
{
	return conf_edit_remove_peer_mode(path, pub, CONF_FULL, err, errlen);
}

int conf_edit_check(const char *path, char *err, size_t errlen)
{
	struct edit e = { .name = path, .err = err, .errlen = errlen };
	int ret = load(&e);

	if (!ret && access(e.real, W_OK) < 0)
		ret = edit_fail(&e, -errno, "%s", strerror(errno));
	if (!ret)
		ret = try_replace(&e);
	edit_clear(&e);
	return ret;
}
