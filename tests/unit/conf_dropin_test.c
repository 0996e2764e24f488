/* SPDX-License-Identifier: MIT */
/*
 * conf_load: the main file plus IF.d/NAME.conf in "C" order, [Peer] sections only, a key in
 * two places refused naming both, editors' leftovers ignored, and files others could
 * write refused before they are read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/conf.h"
#include "wgd/conf_edit.h"

#define PRIV1 "kHwK5kV+Ft6YExF+aB+No99zfMONq0Q8W3kTO8M1Ml8="
#define PUB2  "0LTcUeiZziPrl1lM7/gKkCswVqQD44XMpQgfN7UcOC4="
#define PUB3  "IblErkag0CXWWzYCue1YWEPuV24+D3KMrq1B9SVoinE="
#define PUB4  "NPSp95wQVdZIdzvBa1kCMOK393E7uazo2oDWzVYssHg="
#define PUB5  "d/VuSWDTJnRacVJ8r2IT7encTAo9SiqG7C56E0tKsXs="

#define MAIN	      "[Interface]\nPrivateKey = " PRIV1 "\nListenPort = 51820\n"
#define PEER(pub, ip) "[Peer]\nPublicKey = " pub "\nAllowedIPs = " ip "\n"

static char dir[64], path[96], ddir[96];
static char err[512], warn[512];

static void setup(void)
{
	strcpy(dir, "/tmp/conf_dropin_test.XXXXXX");
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	snprintf(ddir, sizeof(ddir), "%s/wg0.d", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}

TestSuite(conf_dropin, .init = setup, .fini = teardown);

static void put_at(const char *file, const char *text, mode_t mode)
{
	FILE *f = fopen(file, "w");

	cr_assert(ne(ptr, f, NULL), "%s: %s", file, strerror(errno));
	cr_assert(eq(int, fputs(text, f) >= 0, 1));
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(int, chmod(file, mode), 0));
}

/* A drop-in called name in wg0.d (made 0700 when missing). */
static void put_dropin(const char *name, const char *text, mode_t mode)
{
	char file[256];

	if (access(ddir, F_OK) < 0)
		cr_assert(eq(int, mkdir(ddir, 0700), 0));
	snprintf(file, sizeof(file), "%s/%s", ddir, name);
	put_at(file, text, mode);
}

static int load(struct conf *c)
{
	return conf_load(c, path, CONF_FULL, err, sizeof(err), warn, sizeof(warn));
}

static void key(uint8_t out[32], const char *b64)
{
	cr_assert(key_from_base64(out, b64));
}

static void peer_is(const struct conf *c, size_t i, const char *pub, const char *file)
{
	uint8_t k[32];
	char want[256];

	key(k, pub);
	cr_assert(eq(int, memcmp(c->dev.peers[i].public_key, k, 32), 0), "peer %zu", i);
	if (!file) {
		cr_assert(eq(ptr, c->peer_extra[i].file, NULL));
		return;
	}
	snprintf(want, sizeof(want), "%s/%s", ddir, file);
	cr_assert(eq(str, c->peer_extra[i].file, want));
}

Test(conf_dropin, dir_name)
{
	char buf[64];

	cr_assert(eq(int, conf_dropin_dir(buf, sizeof(buf), "/etc/wgd/wg0.conf"), 0));
	cr_assert(eq(int, strcmp(buf, "/etc/wgd/wg0.d"), 0));
	cr_assert(eq(int, conf_dropin_dir(buf, sizeof(buf), "hub"), 0));
	cr_assert(eq(int, strcmp(buf, "hub.d"), 0));
	cr_assert(eq(int, conf_dropin_dir(buf, 4, "/etc/wgd/wg0.conf"), -ENAMETOOLONG));
}

Test(conf_dropin, no_directory_is_the_main_file)
{
	struct conf c;

	put_at(path, MAIN PEER(PUB2, "10.0.0.2/32"), 0600);
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	peer_is(&c, 0, PUB2, NULL);
	conf_clear(&c);
}

Test(conf_dropin, read_in_lexical_order_after_the_main_file)
{
	struct conf c;

	put_at(path, MAIN PEER(PUB2, "10.0.0.2/32"), 0600);
	put_dropin("20-b.conf", PEER(PUB4, "10.0.4.0/24"), 0600);
	put_dropin("10-a.conf", PEER(PUB3, "10.0.3.0/24") "\n" PEER(PUB5, "10.0.5.0/24"), 0600);
	put_dropin("Z.conf", "# only a comment\n", 0600);
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 4));
	peer_is(&c, 0, PUB2, NULL);
	peer_is(&c, 1, PUB3, "10-a.conf");
	peer_is(&c, 2, PUB5, "10-a.conf");
	peer_is(&c, 3, PUB4, "20-b.conf");
	cr_assert(eq(u32, c.peer_extra[2].line, 5), "line in its own file");
	cr_assert(eq(sz, c.dev.peers[3].allowedips_len, 1));
	cr_assert(eq(u16, c.dev.listen_port, 51820));
	conf_clear(&c);
}

Test(conf_dropin, leftovers_are_ignored)
{
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24"), 0600);
	put_dropin(".a.conf.swp", "garbage", 0600);
	put_dropin(".hidden.conf", "garbage", 0600);
	put_dropin("a.conf~", "garbage", 0600);
	put_dropin("a.conf.dpkg-old", "garbage", 0600);
	put_dropin("README", "garbage", 0666);
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	peer_is(&c, 0, PUB3, "a.conf");
	conf_clear(&c);
	cr_assert(not(conf_dropin_name_ok(".conf")));
	cr_assert(conf_dropin_name_ok("x.conf"));
}

Test(conf_dropin, interface_section_refused_with_file_and_line)
{
	char want[256];
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24") "\n[Interface]\nListenPort = 1\n", 0600);
	cr_assert(eq(int, load(&c), -EINVAL));
	snprintf(want, sizeof(want), "%s/a.conf:5: [Interface] in a drop-in", ddir);
	cr_assert(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 0));
}

Test(conf_dropin, other_errors_name_the_drop_in)
{
	char want[256];
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24") "Bogus = 1\n", 0600);
	cr_assert(eq(int, load(&c), -EINVAL));
	snprintf(want, sizeof(want), "%s/a.conf:4: ", ddir);
	cr_assert(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
}

Test(conf_dropin, duplicate_across_two_drop_ins_names_both)
{
	char want[512];
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", "# a\n" PEER(PUB3, "10.0.3.0/24"), 0600);
	put_dropin("b.conf", PEER(PUB4, "10.0.4.0/24") PEER(PUB3, "10.0.5.0/24"), 0600);
	cr_assert(eq(int, load(&c), -EINVAL));
	snprintf(want, sizeof(want),
		 "%s/b.conf:4: duplicate peer: PublicKey " PUB3
		 " is already defined at %s/a.conf:2",
		 ddir, ddir);
	cr_assert(eq(str, err, want));
	cr_assert(eq(sz, c.dev.peers_len, 0));
}

Test(conf_dropin, duplicate_of_the_main_file_names_both)
{
	char want[512];
	struct conf c;

	put_at(path, MAIN "\n" PEER(PUB3, "10.0.3.0/24"), 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.5.0/24"), 0600);
	cr_assert(eq(int, load(&c), -EINVAL));
	snprintf(want, sizeof(want),
		 "%s/a.conf:1: duplicate peer: PublicKey " PUB3 " is already defined at %s:5", ddir,
		 path);
	cr_assert(eq(str, err, want));
}

static void refused(const char *file, const char *why)
{
	char want[512];
	struct conf c;

	cr_assert(eq(int, load(&c), -EPERM), "%s", err);
	snprintf(want, sizeof(want), "%s: refused: %s", file, why);
	cr_assert(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 0));
}

Test(conf_dropin, writable_by_others_refused)
{
	char file[256];

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24"), 0600);
	put_dropin("b.conf", PEER(PUB4, "10.0.4.0/24"), 0600);
	snprintf(file, sizeof(file), "%s/b.conf", ddir);
	cr_assert(eq(int, chmod(file, 0666), 0));
	refused(file, "writable by others (mode 0666)");
	cr_assert(eq(int, chmod(file, 0620), 0));
	refused(file, "writable by its group (mode 0620)");
	cr_assert(eq(int, chmod(file, 0644), 0));
	cr_assert(eq(int, chmod(ddir, 0777), 0));
	refused(ddir, "writable by others (mode 0777)");
	cr_assert(eq(int, chmod(ddir, 0755), 0));
	cr_assert(eq(int, chmod(path, 0602), 0));
	refused(path, "writable by others (mode 0602)");
}

Test(conf_dropin, foreign_owner_refused)
{
	char file[256], why[128];

	if (geteuid() != 0)
		cr_skip_test("needs root to give a file away");
	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24"), 0600);
	snprintf(file, sizeof(file), "%s/a.conf", ddir);
	cr_assert(eq(int, chown(file, 65534, 65534), 0));
	snprintf(why, sizeof(why), "owned by uid 65534, not by root or uid 0");
	refused(file, why);
}

Test(conf_dropin, not_a_regular_file_refused)
{
	char file[256];
	struct conf c;

	put_at(path, MAIN, 0600);
	cr_assert(eq(int, mkdir(ddir, 0700), 0));
	snprintf(file, sizeof(file), "%s/sub.conf", ddir);
	cr_assert(eq(int, mkdir(file, 0700), 0));
	cr_assert(eq(int, load(&c), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "sub.conf: not a regular file"), NULL), "%s", err);
}

Test(conf_dropin, peers_only_main_file_in_wg_subset_mode)
{
	struct conf c;

	put_at(path, PEER(PUB2, "10.0.0.2/32"), 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24"), 0600);
	cr_assert(eq(int, conf_load(&c, path, CONF_WG_SUBSET, err, sizeof(err), NULL, 0), 0), "%s",
		  err);
	cr_assert(eq(sz, c.dev.peers_len, 2));
	conf_clear(&c);
}

/* --- conf_dropin_edit.c: --save-to and remove --save --------------------------------- */

static void peer_of(struct cfg_peer *p, struct cfg_allowedip *aip, const char *pub)
{
	memset(p, 0, sizeof(*p));
	key(p->public_key, pub);
	*aip = (struct cfg_allowedip){ .family = AF_INET, .cidr = 24 };
	aip->ip4.s_addr = htonl(0x0a000500);
	p->allowedips = aip;
	p->allowedips_len = p->allowedips_cap = 1;
	p->persistent_keepalive_s = 25;
}

static char *slurp(const char *file)
{
	static char buf[4096];
	FILE *f = fopen(file, "r");
	size_t n;

	cr_assert(ne(ptr, f, NULL), "%s", file);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(conf_dropin, write_peer_creates_dir_and_file_0600)
{
	struct cfg_allowedip aip;
	struct cfg_peer p;
	char file[256];
	struct stat st;
	struct conf c;

	put_at(path, MAIN, 0600);
	peer_of(&p, &aip, PUB5);
	snprintf(file, sizeof(file), "%s/branch-5.conf", ddir);
	cr_assert(eq(int,
		     conf_dropin_write_peer(file, &p, "vpn.example.org:51820", err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(int, stat(file, &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0600));
	cr_assert(eq(int, stat(ddir, &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0700));
	cr_assert(ne(ptr, strstr(slurp(file), "Endpoint = vpn.example.org:51820\n"), NULL));
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	peer_is(&c, 0, PUB5, "branch-5.conf");
	cr_assert(eq(u16, c.dev.peers[0].persistent_keepalive_s, 25));
	conf_clear(&c);
}

Test(conf_dropin, write_peer_replaces_the_whole_file_and_leaves_no_temporary)
{
	struct cfg_allowedip aip;
	struct cfg_peer p;
	char file[256], cmd[256];
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("b.conf", PEER(PUB3, "10.0.3.0/24") PEER(PUB4, "10.0.4.0/24"), 0644);
	peer_of(&p, &aip, PUB5);
	snprintf(file, sizeof(file), "%s/b.conf", ddir);
	cr_assert(eq(int, conf_dropin_write_peer(file, &p, NULL, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	peer_is(&c, 0, PUB5, "b.conf");
	conf_clear(&c);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 1", ddir);
	cr_assert(eq(int, system(cmd), 0), "a temporary file was left behind");
}

Test(conf_dropin, find_names_the_file_and_line)
{
	char file[512], want[512];
	unsigned int line = 0;
	size_t peers = 0;
	uint8_t k[32];

	put_at(path, MAIN "\n" PEER(PUB2, "10.0.0.2/32"), 0600);
	put_dropin("a.conf", "\n" PEER(PUB3, "10.0.3.0/24") PEER(PUB4, "10.0.4.0/24"), 0600);
	key(k, PUB4);
	cr_assert(eq(int,
		     conf_dropin_find(path, k, file, sizeof(file), &line, &peers, err, sizeof(err)),
		     1));
	snprintf(want, sizeof(want), "%s/a.conf", ddir);
	cr_assert(eq(str, file, want));
	cr_assert(eq(u32, line, 5));
	cr_assert(eq(sz, peers, 2));
	key(k, PUB2);
	cr_assert(eq(int,
		     conf_dropin_find(path, k, file, sizeof(file), &line, &peers, err, sizeof(err)),
		     1));
	cr_assert(eq(str, file, path));
	key(k, PUB5);
	cr_assert(eq(int,
		     conf_dropin_find(path, k, file, sizeof(file), &line, &peers, err, sizeof(err)),
		     0));
}

Test(conf_dropin, remove_deletes_a_file_that_held_only_the_peer)
{
	char file[256];
	uint8_t k[32];
	struct conf c;

	put_at(path, MAIN, 0600);
	put_dropin("a.conf", PEER(PUB3, "10.0.3.0/24"), 0600);
	put_dropin("b.conf", PEER(PUB4, "10.0.4.0/24"), 0600);
	snprintf(file, sizeof(file), "%s/a.conf", ddir);
	key(k, PUB3);
	cr_assert(eq(int, conf_dropin_remove_peer(file, k, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, access(file, F_OK), -1));
	cr_assert(eq(int, load(&c), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 1));
	peer_is(&c, 0, PUB4, "b.conf");
	conf_clear(&c);
	key(k, PUB5);
	snprintf(file, sizeof(file), "%s/b.conf", ddir);
	cr_assert(eq(int, conf_dropin_remove_peer(file, k, err, sizeof(err)), -ENOENT));
}

Test(conf_dropin, remove_edits_a_file_with_other_peers)
{
	char file[256];
	uint8_t k[32];

	put_at(path, MAIN, 0600);
	put_dropin(
		"a.conf",
		"# branch a\n" PEER(PUB3, "10.0.3.0/24") "\n# branch b\n" PEER(PUB4, "10.0.4.0/24"),
		0600);
	snprintf(file, sizeof(file), "%s/a.conf", ddir);
	key(k, PUB3);
	cr_assert(eq(int, conf_dropin_remove_peer(file, k, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(int, strcmp(slurp(file), "# branch b\n" PEER(PUB4, "10.0.4.0/24")), 0), "%s",
		  slurp(file));
}

/* docs/examples/dropin/ reads as documented: the hub's peer, then Lyon, then Nantes. */
Test(conf_dropin, the_example_layout_loads)
{
	char cmd[512], hub[128];
	struct conf c;

	snprintf(cmd, sizeof(cmd),
		 "cp -r docs/examples/dropin/hub.conf docs/examples/dropin/hub.d '%s' && "
		 "chmod -R go-w '%s' && echo 'PrivateKey = " PRIV1
		 "' | cut -d' ' -f3 >'%s/hub.key'",
		 dir, dir, dir);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
	snprintf(hub, sizeof(hub), "%s/hub.conf", dir);
	cr_assert(eq(int, conf_load(&c, hub, CONF_FULL, err, sizeof(err), NULL, 0), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 3));
	cr_assert(eq(ptr, c.peer_extra[0].file, NULL));
	cr_assert(ne(ptr, strstr(c.peer_extra[1].file, "/hub.d/branch-lyon.conf"), NULL));
	cr_assert(ne(ptr, strstr(c.peer_extra[2].file, "/hub.d/branch-nantes.conf"), NULL));
	conf_clear(&c);
}
