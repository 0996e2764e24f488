/* SPDX-License-Identifier: MIT */
/* hook_output.h's implementation: poll the pipe and a pidfd of the hook's shell. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "wgd/hook_output.h"
#include "wgd/log.h"

enum { HOOK_LINE_MAX = 512 };

struct line_buf {
	char text[HOOK_LINE_MAX];
	size_t len;
};

static void flush_line(struct line_buf *b, const char *kind)
{
	if (b->len)
		log_info("%s: %.*s", kind, (int)b->len, b->text);
	b->len = 0;
}

/* Splits what was read into lines; a line longer than the buffer is cut into several. */
static void take(struct line_buf *b, const char *kind, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			flush_line(b, kind);
			continue;
		}
		if (b->len == sizeof(b->text))
			flush_line(b, kind);
		b->text[b->len++] = data[i];
	}
}

/* Reads once; false at EOF or on an error other than "nothing there yet". */
static bool read_some(int fd, struct line_buf *b, const char *kind)
{
	char chunk[HOOK_LINE_MAX];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR;
	take(b, kind, chunk, (size_t)n);
	return n > 0;
}

void hook_output_log(int fd, pid_t pid, const char *kind)
{
	struct line_buf b = { .len = 0 };
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .events = POLLIN } };
	int nfds = 2;

	p[1].fd = pidfd_open(pid, 0);
	if (p[1].fd < 0)
		nfds = 1; /* no pidfd: read to EOF, as a plain pipe would */
	for (;;) {
		if (poll(p, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !read_some(fd, &b, kind))
			break;
		if (nfds == 2 && p[1].revents) {
			/* the shell exited: take what it wrote, not what it left running */
			if (fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
				while (read_some(fd, &b, kind))
					;
			break;
		}
	}
	flush_line(&b, kind);
	if (nfds == 2)
		close(p[1].fd);
}
