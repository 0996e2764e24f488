/* SPDX-License-Identifier: MIT */
/*
 * conf_edit against hand-written before/after texts: other sections, comments and
 * formatting stay byte for byte, add then remove gives the original back, the file keeps
 * its mode, owner and symlink, and a failed edit leaves the file and directory as they were.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/conf.h"
#include "wgd/conf_edit.h"

/* Made with `wg genkey', `wg pubkey' and `wg genpsk'. */
#define PRIV1 "kHwK5kV+Ft6YExF+aB+No99zfMONq0Q8W3kTO8M1Ml8="
#define PUB2 "0LTcUeiZziPrl1lM7/gKkCswVqQD44XMpQgfN7UcOC4="
#define PUB3 "IblErkag0CXWWzYCue1YWEPuV24+D3KMrq1B9SVoinE="
#define PUB4 "NPSp95wQVdZIdzvBa1kCMOK393E7uazo2oDWzVYssHg="
#define PUB5 "d/VuSWDTJnRacVJ8r2IT7encTAo9SiqG7C56E0tKsXs="
#define PSK1 "QILDbGsrH/2089E4JrUVr0Sw/6/Xwdonxy+MYyAoAUk="

#define HEAD                                                                                      \
	"# wg0: the office server\n"                                                              \
	"[Interface]\n"                                                                           \
	"PrivateKey = " PRIV1 "   # inline comment kept\n"                                         \
	"ListenPort = 51820\n"                                                                    \
	"Address = 10.0.0.1/24\n"                                                                 \
	"\n"
#define ALICE                                                                                     \
	"# alice's laptop\n"                                                                      \
	"[Peer]\n"                                                                                \
	"PublicKey = " PUB2 "\n"                                                                  \
	"AllowedIPs = 10.0.0.2/32\n"                                                              \
	"# AllowedIPs = 10.0.0.22/32 (old)\n"                                                     \
	"\n"
#define BOB_BODY                                                                                  \
	"[Peer]\n"                                                                                \
	"PublicKey = " PUB3 "\n"                                                                  \
	"AllowedIPs = 10.0.0.3/32\n"                                                              \
	"Endpoint = nonexistent.invalid:51820\n"
#define BOB "### begin bob ###\n" BOB_BODY "### end bob ###\n\n"
#define CAROL                                                                                     \
	"# carol\n"                                                                               \
	"[peer]\n"                                                                                \
	"\tpublickey = " PUB4 "\n"                                                                \
	"\tallowedips = 10.0.0.4/32\n"
#define BASE HEAD ALICE BOB CAROL

#define NEW_PEER                                                                                  \
	"[Peer]\n"                                                                                \
	"PublicKey = " PUB5 "\n"                                                                  \
	"PresharedKey = " PSK1 "\n"                                                               \
	"AllowedIPs = 10.0.0.5/32, fd00::5/128\n"                                                 \
	"Endpoint = vpn.example.org:51820\n"                                                      \
	"PersistentKeepalive = 25\n"

static char dir[64], path[96];

static void setup(void)
{
	strcpy(dir, "/tmp/conf_edit_test.XXXXXX");
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}

TestSuite(conf_edit, .init = setup, .fini = teardown);

static void put(const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(sz, (size_t)write(fd, text, strlen(text)), strlen(text)));
	cr_assert(eq(int, fchmod(fd, mode), 0));
	close(fd);
}

static char *get(void)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert(ge(int, fd, 0));
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert(ge(sz, (size_t)n, 0));
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* The directory holds wg0.conf (and extra, if not NULL) and nothing else. */
static void only_target_left(const char *extra)
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int n = 0;

	cr_assert(ne(ptr, dh, NULL));
	while ((d = readdir(dh))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		n++;
		cr_expect(eq(int, !strcmp(d->d_name, "wg0.conf") || (extra && !strcmp(d->d_name, extra)),
			     1),
			  "stray file %s", d->d_name);
	}
	closedir(dh);
	cr_assert(eq(int, n, extra ? 2 : 1));
}

static void key(uint8_t out[32], const char *b64)
{
	cr_assert(eq(int, key_from_base64(out, b64), true));
}

static void new_peer(struct cfg_peer *p, struct cfg_allowedip aips[2])
{
	memset(p, 0, sizeof(*p));
	key(p->public_key, PUB5);
	key(p->preshared_key, PSK1);
	p->flags = CFG_PEER_HAS_PRESHARED_KEY | CFG_PEER_HAS_ENDPOINT |
		   CFG_PEER_HAS_PERSISTENT_KEEPALIVE | CFG_PEER_REPLACE_ALLOWEDIPS;
	p->persistent_keepalive_s = 25;
	aips[0] = (struct cfg_allowedip){ .family = AF_INET, .cidr = 32 };
	inet_pton(AF_INET, "10.0.0.5", &aips[0].ip4);
	aips[1] = (struct cfg_allowedip){ .family = AF_INET6, .cidr = 128 };
	inet_pton(AF_INET6, "fd00::5", &aips[1].ip6);
	p->allowedips = aips;
	p->allowedips_len = 2;
}

static void remove_ok(const char *pub, const char *want)
{
	uint8_t k[32];
	char err[512] = "";

	key(k, pub);
	cr_assert(eq(int, conf_edit_remove_peer(path, k, err, sizeof(err)), 0), "%s", err);
	cr_assert_str_eq(get(), want);
	only_target_left(NULL);
}

Test(conf_edit, remove_first_peer_keeps_the_next_ones_comments)
{
	put(BASE, 0600);
	remove_ok(PUB2, HEAD BOB CAROL);
}

Test(conf_edit, remove_middle_peer)
{
	put(BASE, 0600);
	remove_ok(PUB3, HEAD ALICE CAROL);
}

/* The blank line that separated the last section goes with it. */
Test(conf_edit, remove_last_peer)
{
	put(BASE, 0600);
	remove_ok(PUB4, HEAD ALICE "### begin bob ###\n" BOB_BODY "### end bob ###\n");
}

Test(conf_edit, remove_all_peers_in_turn)
{
	put(BASE, 0600);
	remove_ok(PUB3, HEAD ALICE CAROL);
	remove_ok(PUB4, HEAD "# alice's laptop\n[Peer]\nPublicKey = " PUB2
			     "\nAllowedIPs = 10.0.0.2/32\n# AllowedIPs = 10.0.0.22/32 (old)\n");
	remove_ok(PUB2, "# wg0: the office server\n[Interface]\nPrivateKey = " PRIV1
			"   # inline comment kept\nListenPort = 51820\nAddress = 10.0.0.1/24\n");
}

Test(conf_edit, add_appends_and_remove_restores)
{
	struct cfg_allowedip aips[2];
	struct cfg_peer p;
	char err[512] = "";

	put(BASE, 0600);
	new_peer(&p, aips);
	cr_assert(eq(int, conf_edit_add_peer(path, &p, "vpn.example.org:51820", err, sizeof(err)), 0),
		  "%s", err);
	cr_assert_str_eq(get(), BASE "\n" NEW_PEER);
	only_target_left(NULL);
	remove_ok(PUB5, BASE);
}

/* A missing final newline is supplied, then the blank separator. */
Test(conf_edit, add_to_file_without_final_newline)
{
	struct cfg_allowedip aips[2];
	struct cfg_peer p;
	char err[512] = "";

	put("[Interface]\nPrivateKey = " PRIV1, 0600);
	new_peer(&p, aips);
	p.flags &= ~CFG_PEER_HAS_PRESHARED_KEY;
	p.persistent_keepalive_s = 0;
	p.allowedips_len = 1;
	p.endpoint.in6.sin6_family = AF_INET6;
	p.endpoint.in6.sin6_port = htons(7);
	inet_pton(AF_INET6, "2001:db8::7", &p.endpoint.in6.sin6_addr);
	cr_assert(eq(int, conf_edit_add_peer(path, &p, NULL, err, sizeof(err)), 0), "%s", err);
	cr_assert_str_eq(get(), "[Interface]\nPrivateKey = " PRIV1 "\n\n[Peer]\nPublicKey = " PUB5
				"\nAllowedIPs = 10.0.0.5/32\nEndpoint = [2001:db8::7]:7\n");
}

/* The same PublicKey replaces that section in place; its markers and neighbours stay. */
Test(conf_edit, add_existing_peer_replaces_its_section)
{
	struct cfg_allowedip aip = { .family = AF_INET, .cidr = 32 };
	struct cfg_peer p = { .flags = CFG_PEER_REPLACE_ALLOWEDIPS };
	char err[512] = "";

	put(BASE, 0600);
	key(p.public_key, PUB3);
	inet_pton(AF_INET, "10.0.0.33", &aip.ip4);
	p.allowedips = &aip;
	p.allowedips_len = 1;
	cr_assert(eq(int, conf_edit_add_peer(path, &p, NULL, err, sizeof(err)), 0), "%s", err);
	cr_assert_str_eq(get(), HEAD ALICE "### begin bob ###\n[Peer]\nPublicKey = " PUB3
					   "\nAllowedIPs = 10.0.0.33/32\n### end bob ###\n\n" CAROL);
}

Test(conf_edit, keeps_mode_owner_and_symlink)
{
	struct cfg_allowedip aips[2];
	char link[128], err[512] = "";
	struct cfg_peer p;
	struct stat st;

	if (geteuid())
		cr_skip_test("needs root to chown");
	put(BASE, 0640);
	cr_assert(eq(int, chown(path, 1234, 5678), 0));
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	cr_assert(eq(int, symlink("wg0.conf", link), 0));
	new_peer(&p, aips);
	cr_assert(eq(int, conf_edit_add_peer(link, &p, "vpn.example.org:51820", err, sizeof(err)), 0),
		  "%s", err);
	cr_assert(eq(int, lstat(link, &st), 0));
	cr_assert(eq(int, S_ISLNK(st.st_mode), 1));
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0640));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 5678));
	cr_assert_str_eq(get(), BASE "\n" NEW_PEER);
	only_target_left("link.conf");
}

Test(conf_edit, unknown_peer_is_enoent)
{
	uint8_t k[32];
	char err[512], want[256];

	put(BASE, 0600);
	key(k, PUB5);
	cr_assert(eq(int, conf_edit_remove_peer(path, k, err, sizeof(err)), -ENOENT));
	snprintf(want, sizeof(want), "%s: no [Peer] with PublicKey " PUB5, path);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(get(), BASE);
	only_target_left(NULL);
}

/* A result that would not parse is refused; the file and directory stay as they were. */
Test(conf_edit, unparsable_result_refused)
{
	struct cfg_allowedip aips[2];
	char err[512], want[512];
	struct cfg_peer p;

	put(BASE, 0600);
	new_peer(&p, aips);
	cr_assert(eq(int, conf_edit_add_peer(path, &p, "vpn.example.org", err, sizeof(err)), -EINVAL));
	snprintf(want, sizeof(want),
		 "%s: refusing to save, the result would not parse: %s:29: invalid Endpoint "
		 "`vpn.example.org': missing port",
		 path, path);
	cr_assert_str_eq(err, want);
	cr_assert(eq(int, conf_edit_add_peer(path, &p, "a:1\nListenPort = 2", err, sizeof(err)),
		     -EINVAL));
	snprintf(want, sizeof(want), "%s: invalid endpoint text", path);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(get(), BASE);
	only_target_left(NULL);
}

Test(conf_edit, broken_or_missing_file_untouched)
{
	uint8_t k[32];
	char err[512], want[512];

	key(k, PUB2);
	cr_assert(eq(int, conf_edit_remove_peer(path, k, err, sizeof(err)), -ENOENT));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	cr_assert_str_eq(err, want);

	put(BASE "Bogus = 1\n", 0600);
	cr_assert(eq(int, conf_edit_remove_peer(path, k, err, sizeof(err)), -EINVAL));
	snprintf(want, sizeof(want), "%s:24: unknown key `Bogus' in [Peer]", path);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(get(), BASE "Bogus = 1\n");
	only_target_left(NULL);
}

/* The edited file parses for real, and holds what the edit promised. */
Test(conf_edit, result_parses)
{
	struct cfg_allowedip aips[2];
	char err[512] = "";
	struct cfg_peer p;
	struct conf c;
	uint8_t k[32];

	put("[Interface]\nPrivateKey = " PRIV1 "\n[Peer]\nPublicKey = " PUB2 "\n", 0600);
	new_peer(&p, aips);
	cr_assert(eq(int, conf_edit_add_peer(path, &p, "127.0.0.1:51820", err, sizeof(err)), 0),
		  "%s", err);
	key(k, PUB2);
	cr_assert(eq(int, conf_edit_remove_peer(path, k, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, conf_parse_file(&c, path, err, sizeof(err), NULL, 0), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	cr_assert(zero(int, memcmp(c.dev.peers[0].public_key, p.public_key, 32)));
	cr_assert(zero(int, memcmp(c.dev.peers[0].preshared_key, p.preshared_key, 32)));
	cr_assert(eq(sz, c.dev.peers[0].allowedips_len, 2));
	cr_assert(eq(u16, ntohs(c.dev.peers[0].endpoint.in4.sin_port), 51820));
	cr_assert(eq(u16, c.dev.peers[0].persistent_keepalive_s, 25));
	conf_clear(&c);
}

/* --save's check: a file that could be replaced passes and nothing is left behind. */
Test(conf_edit, check_passes_and_leaves_nothing)
{
	char err[512] = "";

	put(BASE, 0640);
	cr_assert(eq(int, conf_edit_check(path, err, sizeof(err)), 0), "%s", err);
	cr_assert_str_eq(get(), BASE);
	only_target_left(NULL);
}

/* A missing or broken file fails the check as it would fail the edit. */
Test(conf_edit, check_reports_missing_and_broken_files)
{
	char err[512], want[512];

	cr_assert(eq(int, conf_edit_check(path, err, sizeof(err)), -ENOENT));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	cr_assert_str_eq(err, want);
	put(BASE "Bogus = 1\n", 0600);
	cr_assert(eq(int, conf_edit_check(path, err, sizeof(err)), -EINVAL));
}

/* conf_edit_check() run by nobody in a child, so the teardown keeps root: ret, err. */
static int check_as_nobody(char *err, size_t errlen)
{
	int fds[2], status, ret = 0;
	pid_t pid;
	ssize_t n;

	cr_assert(eq(int, pipe(fds), 0));
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (!pid) {
		close(fds[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		ret = conf_edit_check(path, err, errlen);
		if (write(fds[1], &ret, sizeof(ret)) != sizeof(ret) ||
		    write(fds[1], err, strlen(err)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	cr_assert(eq(sz, (size_t)read(fds[0], &ret, sizeof(ret)), sizeof(ret)));
	n = read(fds[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, status, 0));
	return ret;
}

/*
 * An admin-group member who may read the file but not write it or its directory (the
 * usual /etc/wgd): the check refuses and changes nothing.
 */
Test(conf_edit, check_refuses_a_user_who_cannot_write_the_file)
{
	char err[512], want[512];

	if (geteuid())
		cr_skip_test("needs root to switch users");
	put(BASE, 0644);
	cr_assert(eq(int, chmod(dir, 0755), 0));
	cr_assert(eq(int, check_as_nobody(err, sizeof(err)), -EACCES));
	snprintf(want, sizeof(want), "%s: Permission denied", path);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(get(), BASE);
	only_target_left(NULL);
}

/* Writable file, read-only directory: the temporary file of the atomic rename fails. */
Test(conf_edit, check_refuses_a_directory_without_write_access)
{
	char err[512], want[512];

	if (geteuid())
		cr_skip_test("needs root to switch users");
	put(BASE, 0644);
	cr_assert(eq(int, chown(path, 65534, 65534), 0));
	cr_assert(eq(int, chmod(dir, 0755), 0));
	cr_assert(eq(int, check_as_nobody(err, sizeof(err)), -EACCES));
	snprintf(want, sizeof(want), "%s: cannot create files in %s: Permission denied", path, dir);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(get(), BASE);
	only_target_left(NULL);
}
