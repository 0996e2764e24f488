/* SPDX-License-Identifier: MIT */
/* wg-quick's full-tunnel nftables rules through nft(8); see firewall.h. */
#include "wgd/firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wgd/log.h"

enum { FIREWALL_SCRIPT_MAX = 16384, FIREWALL_OUT_MAX = 512 };

/* wg-quick's priorities: raw (-300) before conntrack, mangle (-150) after it */
static const char script_head[] = "table %1$s wgd-%2$s {}\n"
				  "delete table %1$s wgd-%2$s\n"
				  "table %1$s wgd-%2$s {\n"
				  "\tchain preraw {\n"
				  "\t\ttype filter hook prerouting priority -300; policy accept;\n";
static const char script_rule[] =
	"\t\tiifname != \"%s\" %s daddr %s fib saddr type != local drop\n";
static const char script_tail[] = "\t}\n"
				  "\tchain premangle {\n"
				  "\t\ttype filter hook prerouting priority -150; policy accept;\n"
				  "\t\tmeta l4proto udp meta mark set ct mark\n"
				  "\t}\n"
				  "\tchain postmangle {\n"
				  "\t\ttype filter hook postrouting priority -150; policy accept;\n"
				  "\t\tmeta l4proto udp meta mark %u ct mark set meta mark\n"
				  "\t}\n"
				  "}\n";

static const char *family_word(int family)
{
	return family == AF_INET ? "ip" : "ip6";
}

/* Appends to buf at *off; false when it does not fit. */
static bool append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return false;
	*off += (size_t)n;
	return true;
}

/* Link names may hold almost any byte; nft's quoting has no escape for these. */
static bool nft_safe_name(const char *s)
{
	return *s && !strpbrk(s, "\"\\\n") && strlen(s) < 16;
}

int firewall_script(char *buf, size_t len, const char *ifname, int family, uint32_t mark,
		    const struct rtnl_prefix *addrs, size_t n)
{
	const char *pf = family_word(family);
	char ip[INET6_ADDRSTRLEN];
	size_t off = 0;

	if (!nft_safe_name(ifname) || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if (!append(buf, len, &off, script_head, pf, ifname))
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		if (addrs[i].family != family || !inet_ntop(family, &addrs[i].ip6, ip, sizeof(ip)))
			continue;
		if (!append(buf, len, &off, script_rule, ifname, pf, ip))
			return -ENOSPC;
	}
	if (!append(buf, len, &off, script_tail, (unsigned int)mark))
		return -ENOSPC;
	return (int)off;
}

/* Writes all of s to fd; false on a short write (nft died early). */
static bool write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * One read from fd into out (NUL-terminated, at most outlen - 1 bytes kept at *got);
 * past that the bytes are read and dropped, so nft never blocks on a full pipe.
 * Returns 0 at EOF or on error, else 1.
 */
static ssize_t read_some(int fd, char *out, size_t outlen, ssize_t *got)
{
	char scratch[256];
	size_t room = outlen - 1 - (size_t)*got;
	ssize_t n;

	n = room ? read(fd, out + *got, room) : read(fd, scratch, sizeof(scratch));
	if (n < 0)
		return errno == EINTR;
	if (n > 0 && room) {
		*got += n;
		out[*got] = '\0';
	}
	return n > 0;
}

/* list: {family, table} for `nft -j list table`, NULL for `nft -f -` */
static void child_exec(int in, int out, const char *const *list)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	if (list)
		execlp("nft", "nft", "-j", "list", "table", list[0], list[1], (char *)NULL);
	else
		execlp("nft", "nft", "-f", "-", (char *)NULL);
	_exit(127);
}

static int nft_exec(const char *const *list, const char *script, char *out, size_t outlen);

/* nft -f - with script on stdin; its output (first line) lands in out. Wait status. */
static int nft_run(const char *script, char *out, size_t outlen)
{
	return firewall_nft(script, out, outlen);
}

int firewall_nft(const char *script, char *out, size_t outlen)
{
	return nft_exec(NULL, script, out, outlen);
}

int firewall_nft_list_json(const char *family, const char *table, char *out, size_t outlen)
{
	/* nft -j reads JSON from -f: a listing in JSON needs the command on its command line */
	const char *const list[] = { family, table };

	return nft_exec(list, "", out, outlen);
}

/* nft (see child_exec) with script on stdin; its output lands in out. Wait status. */
static int nft_exec(const char *const *list, const char *script, char *out, size_t outlen)
{
	int in[2], res[2], status;
	ssize_t got = 0, n;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child_exec(in[0], res[1], list);
	close(in[0]);
	close(res[1]);
	if (pid > 0)
		(void)write_all(in[1], script, strlen(script));
	close(in[1]);
	out[0] = '\0';
	while (pid > 0 && (n = read_some(res[0], out, outlen, &got)) != 0)
		;
	close(res[0]);
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

static void first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

int firewall_apply(const char *ifname, int family, uint32_t mark, const struct rtnl_prefix *addrs,
		   size_t n, char *err, size_t errlen)
{
	char script[FIREWALL_SCRIPT_MAX], out[FIREWALL_OUT_MAX];
	int ret = firewall_script(script, sizeof(script), ifname, family, mark, addrs, n);

	if (ret < 0) {
		snprintf(err, errlen, "cannot write the %s firewall rules of %s: %s",
			 family_word(family), ifname, strerror(-ret));
		return ret;
	}
	ret = nft_run(script, out, sizeof(out));
	first_line(out);
	if (ret == 0)
		return 0;
	if (ret > 0 && WIFEXITED(ret) && WEXITSTATUS(ret) == 127)
		snprintf(err, errlen,
			 "cannot add the full-tunnel firewall rules of %s: "
			 "nft not found (install nftables)",
			 ifname);
	else if (ret > 0)
		snprintf(err, errlen, "cannot add the full-tunnel firewall rules of %s: nft: %s",
			 ifname, *out ? out : "failed");
	else
		snprintf(err, errlen, "cannot run nft: %s", strerror(-ret));
	return ret < 0 ? ret : -EIO;
}

void firewall_remove(const char *ifname, int family)
{
	char script[128], out[FIREWALL_OUT_MAX];
	int ret;

	if (!nft_safe_name(ifname))
		return;
	/* declaring it first makes the delete succeed when it is already gone */
	snprintf(script, sizeof(script), "table %1$s wgd-%2$s {}\ndelete table %1$s wgd-%2$s\n",
		 family_word(family), ifname);
	ret = nft_run(script, out, sizeof(out));
	first_line(out);
	if (ret != 0)
		log_error("Cannot remove the %s firewall table wgd-%s: %s", family_word(family),
			  ifname, *out ? out : "nft failed");
}
