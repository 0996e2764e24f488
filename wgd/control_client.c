/* SPDX-License-Identifier: MIT */
/*
 * The client side of the control socket (control.h), for wgctl: connect, one request,
 * the whole reply. Replies carry no secrets (file names, counts, parser messages).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wgd/control.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

static const struct uapi_sockfile control_file = { CONTROL_DIR, CONTROL_SUFFIX };

/* a plan (plan=1) lists every peer: a hub's runs to megabytes */
enum { REPLY_MAX = 64 << 20, REPLY_CHUNK = 4096 };

int control_client_connect(const char *ifname)
{
	struct sockaddr_un addr = { 0 };
	int fd, ret;

	ret = uapi_sockfile_path(&addr, &control_file, ifname);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	ret = -errno;
	close(fd);
	return ret == -ECONNREFUSED || ret == -ENOENT ? -ENODEV : ret;
}

/* Reads until EOF or the final "\n\n"; the text is NUL-terminated. */
static int read_reply(int fd, char **out, size_t *len)
{
	char *buf = NULL, *more;
	size_t cap = 0, n = 0;
	ssize_t got;

	for (;;) {
		if (cap - n < REPLY_CHUNK + 1) {
			size_t grown = cap ? cap * 2 : REPLY_CHUNK + 1;

			if (cap >= REPLY_MAX || !(more = realloc(buf, grown))) {
				free(buf);
				return cap >= REPLY_MAX ? -EPROTO : -ENOMEM;
			}
			buf = more;
			cap = grown;
		}
		got = recv(fd, buf + n, cap - n - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n >= 2 && !memcmp(buf + n - 2, "\n\n", 2))
			break;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Splits off the last line "errno=N" of a complete reply; its value, or -EPROTO. */
static int take_errno(char *text, size_t len)
{
	char *line, *end;
	long err;

	if (len < 2 || memcmp(text + len - 2, "\n\n", 2))
		return -EPROTO;
	text[len - 2] = '\0';
	line = strrchr(text, '\n');
	line = line ? line + 1 : text;
	if (strncmp(line, "errno=", 6))
		return -EPROTO;
	err = strtol(line + 6, &end, 10);
	if (*end || end == line + 6 || err > 0 || err < -4095)
		return -EPROTO;
	*line = '\0';
	return (int)err;
}

int control_client_request(int fd, const char *op, char **reply)
{
	char req[CONTROL_MAX_REQUEST];
	char *text = NULL;
	size_t len = 0;
	int ret;

	snprintf(req, sizeof(req), "%s=1\n\n", op);
	ret = uapi_client_write_all(fd, req, strlen(req));
	ret = ret ?: read_reply(fd, &text, &len);
	if (ret < 0)
		return ret;
	ret = take_errno(text, len); /* -EPROTO too for EOF at once: refused, or died */
	if (ret == -EPROTO) {
		free(text);
		return ret;
	}
	*reply = text;
	return ret;
}

bool control_reply_value(const char *reply, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	const char *line = reply;

	while (*line) {
		size_t l = strcspn(line, "\n");

		if (l > klen && !strncmp(line, key, klen) && line[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)(l - klen - 1), line + klen + 1);
			return true;
		}
		line += l + (line[l] == '\n');
	}
	return false;
}
