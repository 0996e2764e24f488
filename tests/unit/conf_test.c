/* SPDX-License-Identifier: MIT */
/*
 * The config parser against committed golden files and the inih pitfalls.
 * tests/golden/conf/ok_NAME.conf: NAME.wg (conf_write_wg) and NAME.quick (the wg-quick keys,
 * dumped below) were written by hand from wg(8)/wg-quick(8). bad_NAME.conf: NAME.err is the
 * exact error. wild/NAME.conf: NAME.wg and NAME.quick come from the real wg-quick, wg and
 * wireguard-go (wild/gen.sh).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/conf.h"

#define GOLDEN "tests/golden/conf"

/* Keys used in the golden files, made with `wg genkey', `wg pubkey' and `wg genpsk'. */
#define PRIV1 "kHwK5kV+Ft6YExF+aB+No99zfMONq0Q8W3kTO8M1Ml8="
#define PUB2  "0LTcUeiZziPrl1lM7/gKkCswVqQD44XMpQgfN7UcOC4="
#define PUB3  "IblErkag0CXWWzYCue1YWEPuV24+D3KMrq1B9SVoinE="
#define PUB4  "NPSp95wQVdZIdzvBa1kCMOK393E7uazo2oDWzVYssHg="
#define PSK1  "QILDbGsrH/2089E4JrUVr0Sw/6/Xwdonxy+MYyAoAUk="
#define IFACE "[Interface]\nPrivateKey = " PRIV1 "\n"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r"), *m;
	char *buf = NULL, chunk[4096];
	size_t len = 0, n;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static char *write_wg(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	cr_assert(eq(int, conf_write_wg(c, m), 0));
	fclose(m);
	return buf;
}

static void dump_list(FILE *f, const char *key, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s = %s\n", key, v[i]);
}

/* The wg-quick keys in the format of wild/gen.sh; servers before search domains as
 * wg-quick keeps them apart. */
static char *dump_quick(const struct conf *c)
{
	char *buf = NULL, addr[INET6_ADDRSTRLEN];
	struct in6_addr scratch;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	for (size_t i = 0; i < c->addresses_len; i++) {
		inet_ntop(c->addresses[i].family, &c->addresses[i].ip6, addr, sizeof(addr));
		fprintf(m, "Address = %s/%u\n", addr, c->addresses[i].cidr);
	}
	for (int server = 1; server >= 0; server--) {
		for (size_t i = 0; i < c->dns_len; i++) {
			bool is_ip = inet_pton(AF_INET, c->dns[i], &scratch) == 1 ||
				     inet_pton(AF_INET6, c->dns[i], &scratch) == 1;

			if (is_ip == server)
				fprintf(m, "%s = %s\n", server ? "DNS" : "DNSSearch", c->dns[i]);
		}
	}
	if (c->mtu)
		fprintf(m, "MTU = %u\n", c->mtu);
	if (c->table_mode == CONF_TABLE_ID)
		fprintf(m, "Table = %u\n", c->table);
	else
		fprintf(m, "Table = %s\n", c->table_mode == CONF_TABLE_OFF ? "off" : "auto");
	dump_list(m, "PreUp", c->pre_up, c->pre_up_len);
	dump_list(m, "PostUp", c->post_up, c->post_up_len);
	dump_list(m, "PreDown", c->pre_down, c->pre_down_len);
	dump_list(m, "PostDown", c->post_down, c->post_down_len);
	fprintf(m, "SaveConfig = %s\n", c->save_config ? "true" : "false");
	if (c->user)
		fprintf(m, "User = %s\n", c->user);
	if (c->admin_group)
		fprintf(m, "AdminGroup = %s\n", c->admin_group);
	fclose(m);
	return buf;
}

static int is_loopback6(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a);
}

static bool is_cleared(const struct conf *c)
{
	static const struct conf zero;

	return !memcmp(c, &zero, sizeof(zero));
}

/* Sorted NAME.conf files of dir starting with prefix. */
static size_t list_confs(const char *dir, const char *prefix, char names[][128], size_t max)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t count = 0;

	cr_assert(ge(int, n, 0), "scandir %s", dir);
	for (int i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;
		size_t len = strlen(d);

		if (!strncmp(d, prefix, strlen(prefix)) && len > 5 &&
		    !strcmp(d + len - 5, ".conf") && count < max && len < 128)
			snprintf(names[count++], 128, "%.*s", (int)(len - 5), d);
		free(ents[i]);
	}
	free(ents);
	return count;
}

/* Parses dir/name.conf (as a file and as a string) and compares with NAME.wg/.quick. */
static void check_good(const char *dir, const char *name)
{
	char path[512], exp_path[512], err[512] = "", *want, *got, *text;
	struct conf c, c2;

	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	cr_assert(eq(int, conf_parse_file(&c, path, err, sizeof(err), NULL, 0), 0), "%s: %s", path,
		  err);
	snprintf(exp_path, sizeof(exp_path), "%s/%s.wg", dir, name);
	want = slurp(exp_path);
	cr_assert(ne(ptr, want, NULL), "missing %s", exp_path);
	got = write_wg(&c);
	cr_expect_str_eq(got, want, "%s:\n got:\n%s\nwant:\n%s", exp_path, got, want);
	free(got);
	free(want);
	snprintf(exp_path, sizeof(exp_path), "%s/%s.quick", dir, name);
	if (exists(exp_path)) {
		want = slurp(exp_path);
		got = dump_quick(&c);
		cr_expect_str_eq(got, want, "%s:\n got:\n%s\nwant:\n%s", exp_path, got, want);
		free(got);
		free(want);
	}
	text = slurp(path);
	cr_assert(eq(int, conf_parse_string(&c2, path, text, strlen(text), err, sizeof(err)), 0),
		  "%s as a string: %s", path, err);
	cr_expect(eq(sz, c2.dev.peers_len, c.dev.peers_len), "%s as a string", path);
	conf_clear(&c2);
	/* a file good for wgd is read alike for wg's commands */
	cr_assert(eq(int,
		     conf_parse_file_mode(&c2, path, CONF_WG_SUBSET, err, sizeof(err), NULL, 0), 0),
		  "%s in the wg subset: %s", path, err);
	want = write_wg(&c);
	got = write_wg(&c2);
	cr_expect_str_eq(got, want, "%s in the wg subset", path);
	cr_expect(eq(uint, c2.dev.flags, c.dev.flags), "%s in the wg subset", path);
	free(got);
	free(want);
	conf_clear(&c2);
	conf_clear(&c);
	cr_assert(is_cleared(&c));
	free(text);
}

Test(conf, golden_good)
{
	char names[64][128];
	size_t n = list_confs(GOLDEN, "ok_", names, 64);

	cr_assert(n >= 7, "only %zu good files", n);
	for (size_t i = 0; i < n; i++)
		check_good(GOLDEN, names[i]);
}

Test(conf, golden_wild_equals_wg_quick_strip)
{
	char names[64][128];
	size_t n = list_confs(GOLDEN "/wild", "", names, 64);

	cr_assert(n >= 9, "only %zu wild files", n);
	for (size_t i = 0; i < n; i++)
		check_good(GOLDEN "/wild", names[i]);
}

/* The files that fail only for lack of what wg(8) does not require (see below). */
static const char *const wg_accepts[] = { "bad_empty", "bad_no_interface", "bad_no_private",
					  "bad_private_key_zero" };

static bool wg_accepted(const char *name)
{
	for (size_t i = 0; i < sizeof(wg_accepts) / sizeof(wg_accepts[0]); i++)
		if (!strcmp(name, wg_accepts[i]))
			return true;
	return false;
}

/* Each bad file fails in mode with its NAME.err, except those wg(8) takes in its mode. */
static void check_bad(enum conf_mode mode)
{
	char names[128][128], path[512], err[1024], *want, *nl;
	size_t n = list_confs(GOLDEN, "bad_", names, 128);
	struct conf c;

	cr_assert(n >= 55, "only %zu bad files", n);
	for (size_t i = 0; i < n; i++) {
		if (mode == CONF_WG_SUBSET && wg_accepted(names[i]))
			continue;
		snprintf(path, sizeof(path), "%s/%.127s.err", GOLDEN, names[i]);
		want = slurp(path);
		cr_assert(ne(ptr, want, NULL), "missing %s", path);
		nl = strchr(want, '\n');
		cr_assert(ne(ptr, nl, NULL), "%s: one line", path);
		cr_assert(eq(chr, nl[1], 0), "%s: one line", path);
		*nl = '\0';
		snprintf(path, sizeof(path), "%s/%.127s.conf", GOLDEN, names[i]);
		memset(&c, 0xa5, sizeof(c));
		cr_expect(eq(int, conf_parse_file_mode(&c, path, mode, err, sizeof(err), NULL, 0),
			     -EINVAL),
			  "%s", path);
		cr_expect(zero(int, strncmp(err, GOLDEN "/", strlen(GOLDEN "/"))), "%s: %s", path,
			  err);
		cr_expect_str_eq(err + strlen(GOLDEN "/"), want, "%s:\n got %s\nwant %s", path, err,
				 want);
		cr_expect(is_cleared(&c), "%s: output not cleared", path);
		free(want);
	}
}

Test(conf, golden_bad)
{
	check_bad(CONF_FULL);
}

Test(conf, golden_bad_wg_subset)
{
	check_bad(CONF_WG_SUBSET);
}

/* Every file in the golden directories has its expectation, so none is silently skipped. */
Test(conf, golden_files_all_checked)
{
	const char *dirs[] = { GOLDEN, GOLDEN "/wild" };
	char names[256][128], path[512];

	for (size_t d = 0; d < 2; d++) {
		size_t n = list_confs(dirs[d], "", names, 256);

		for (size_t i = 0; i < n; i++) {
			bool bad = !strncmp(names[i], "bad_", 4);

			snprintf(path, sizeof(path), "%s/%s.%s", dirs[d], names[i],
				 bad ? "err" : "wg");
			bool named = d == 1 || bad || !strncmp(names[i], "ok_", 3);

			cr_expect(eq(int, exists(path), true), "no %s", path);
			cr_expect(eq(int, named, true), "%s: ok_ or bad_", names[i]);
		}
	}
}

static int parse(struct conf *c, const char *text, char *err, size_t errlen)
{
	return conf_parse_string(c, "t.conf", text, strlen(text), err, errlen);
}

/* inih's 200-byte stack line would cut this line into fragments. */
Test(conf, pitfall_long_allowedips_line)
{
	size_t n = 0, len, want_n;
	char *text = NULL, err[256];
	FILE *m = open_memstream(&text, &len);
	struct conf c;

	fputs(IFACE "[Peer]\nPublicKey = " PUB2 "\nAllowedIPs = ", m);
	for (; ftell(m) < 100000; n++)
		fprintf(m, "%s10.%zu.%zu.%zu/32", n ? ", " : "", n >> 16, (n >> 8) & 255, n & 255);
	fputs("\nPersistentKeepalive = 7\n", m);
	fclose(m);
	want_n = n;
	cr_assert(gt(sz, len, 100000));
	cr_assert(eq(int, parse(&c, text, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(sz, c.dev.peers[0].allowedips_len, want_n));
	for (size_t i = 0; i < want_n; i++) {
		const struct cfg_allowedip *a = &c.dev.peers[0].allowedips[i];
		uint32_t want = htonl(10U << 24 | (uint32_t)i);

		cr_assert(eq(u32, a->ip4.s_addr, want), "entry %zu", i);
		cr_assert(eq(u8, a->cidr, 32));
	}
	cr_assert(eq(u16, c.dev.peers[0].persistent_keepalive_s, 7));
	conf_clear(&c);
	free(text);
}

Test(conf, pitfall_long_hook_kept_whole)
{
	enum { HOOK_LEN = 150000 };
	char *text = malloc(HOOK_LEN + 100), *want = malloc(HOOK_LEN + 1), err[256];
	size_t off = (size_t)sprintf(text, IFACE "PostUp = ");
	struct conf c;

	for (size_t i = 0; i < HOOK_LEN; i++)
		want[i] = "echo a; b=c  "[i % 13];
	want[HOOK_LEN - 1] = 'z';
	want[HOOK_LEN] = '\0';
	sprintf(text + off, "%s\n", want);
	cr_assert(eq(int, parse(&c, text, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(sz, c.post_up_len, 1));
	cr_assert(eq(sz, strlen(c.post_up[0]), HOOK_LEN));
	cr_assert_str_eq(c.post_up[0], want);
	conf_clear(&c);
	free(want);
	free(text);
}

/* wg-quick cuts a hook at '#' too (${line%%\#*}); ';' and '=' stay. */
Test(conf, pitfall_inline_hash)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     parse(&c, IFACE "PostUp = echo a;b=c#d\nPreUp = x # y\nListenPort=9#1\n", err,
			   sizeof(err)),
		     0),
		  "%s", err);
	cr_assert_str_eq(c.post_up[0], "echo a;b=c");
	cr_assert_str_eq(c.pre_up[0], "x");
	cr_assert(eq(u16, c.dev.listen_port, 9));
	conf_clear(&c);
}

Test(conf, pitfall_consecutive_peers)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     parse(&c,
			   "[Peer]\nPublicKey = " PUB2 "\n[Peer]\nPublicKey = " PUB3
			   "\n[Peer]\nPublicKey = " PUB4 "\n" IFACE,
			   err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(sz, c.dev.peers_len, 3));
	cr_assert(eq(uint, c.peer_extra[0].line, 1));
	cr_assert(eq(uint, c.peer_extra[1].line, 3));
	cr_assert(eq(uint, c.peer_extra[2].line, 5));
	conf_clear(&c);
}

Test(conf, pitfall_indented_line_is_its_own_key)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     parse(&c, IFACE "Address = 10.0.0.1/24\n\tListenPort = 5\n", err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(u16, c.dev.listen_port, 5));
	cr_assert(eq(sz, c.addresses_len, 1));
	conf_clear(&c);
}

Test(conf, pitfall_colon_separator_rejected)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int, parse(&c, IFACE "[Peer]\nPublicKey: " PUB2 "\n", err, sizeof(err)),
		     -EINVAL));
	cr_assert_str_eq(err, "t.conf:4: expected `=' after the key, not `:'");
	/* a colon after the '=' is a value's business */
	cr_assert(eq(int,
		     parse(&c, IFACE "[Peer]\nPublicKey = " PUB2 "\nEndpoint = [::1]:1\n", err,
			   sizeof(err)),
		     0),
		  "%s", err);
	conf_clear(&c);
}

/* The device flags say which keys the file names, as wg(8)'s parser sets them; a
 * REPLACE_PEERS is left to the caller. */
Test(conf, flags_as_wg_reads_the_file)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     conf_parse_file(&c, GOLDEN "/ok_every_key.conf", err, sizeof(err), NULL, 0),
		     0),
		  "%s", err);
	cr_assert(eq(uint, c.dev.flags,
		     CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_LISTEN_PORT | CFG_DEV_HAS_FWMARK));
	cr_assert(eq(uint, c.dev.peers[0].flags,
		     CFG_PEER_REPLACE_ALLOWEDIPS | CFG_PEER_HAS_PRESHARED_KEY |
			     CFG_PEER_HAS_ENDPOINT | CFG_PEER_HAS_PERSISTENT_KEEPALIVE));
	/* "PersistentKeepalive = off" still sets the value (to 0), as wg(8) does */
	cr_assert(eq(uint, c.dev.peers[1].flags,
		     CFG_PEER_REPLACE_ALLOWEDIPS | CFG_PEER_HAS_ENDPOINT |
			     CFG_PEER_HAS_PERSISTENT_KEEPALIVE));
	cr_assert(eq(u16, c.dev.peers[1].persistent_keepalive_s, 0));
	cr_assert(eq(uint, c.peer_extra[0].line, 21));
	cr_assert(eq(uint, c.peer_extra[1].line, 29));
	conf_clear(&c);

	cr_assert(eq(int, parse(&c, IFACE "[Peer]\nPublicKey = " PUB2 "\n", err, sizeof(err)), 0));
	cr_assert(eq(uint, c.dev.flags, CFG_DEV_HAS_PRIVATE_KEY));
	cr_assert(eq(uint, c.dev.peers[0].flags, CFG_PEER_REPLACE_ALLOWEDIPS));
	cr_assert(eq(ptr, c.peer_extra[0].endpoint_host, NULL));
	conf_clear(&c);

	/* named as zero is named: wg sends "listen_port=0" and "fwmark=0" for these */
	cr_assert(eq(int, parse(&c, IFACE "ListenPort = 0\nFwMark = off\n", err, sizeof(err)), 0));
	cr_assert(eq(uint, c.dev.flags,
		     CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_LISTEN_PORT | CFG_DEV_HAS_FWMARK));
	cr_assert(eq(u16, c.dev.listen_port, 0));
	cr_assert(eq(u32, c.dev.fwmark, 0));
	conf_clear(&c);
	cr_assert(eq(int,
		     parse(&c,
			   "[Interface]\nFwMark = 0\nPrivateKeyFile = " GOLDEN "/keys/priv5.key\n",
			   err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(uint, c.dev.flags, CFG_DEV_HAS_PRIVATE_KEY | CFG_DEV_HAS_FWMARK));
	conf_clear(&c);
}

static int parse_wg(struct conf *c, const char *text, char *err, size_t errlen)
{
	return conf_parse_string_mode(c, "t.conf", text, strlen(text), CONF_WG_SUBSET, err, errlen);
}

/*
 * What wg(8) takes and wgd does not (wireguard-tools config.c: no section is required,
 * and a key is any 44 characters of base64): each golden file refused for it alone.
 */
Test(conf, wg_subset_takes_what_wg_takes)
{
	static const uint8_t zero[KEY_LEN];
	const char *want_err[] = { "missing [Interface] section", "missing [Interface] section",
				   "[Interface] without PrivateKey", "PrivateKey is all zeros" };
	const unsigned int want_flags[] = { 0, 0, CFG_DEV_HAS_LISTEN_PORT,
					    CFG_DEV_HAS_PRIVATE_KEY };
	const size_t want_peers[] = { 0, 1, 1, 0 };
	char path[256], err[256];
	struct conf c;

	for (size_t i = 0; i < sizeof(wg_accepts) / sizeof(wg_accepts[0]); i++) {
		snprintf(path, sizeof(path), GOLDEN "/%s.conf", wg_accepts[i]);
		cr_assert(eq(int, conf_parse_file(&c, path, err, sizeof(err), NULL, 0), -EINVAL));
		cr_assert(not(eq(ptr, strstr(err, want_err[i]), NULL)), "%s: %s", path, err);
		cr_assert(eq(int,
			     conf_parse_file_mode(&c, path, CONF_WG_SUBSET, err, sizeof(err), NULL,
						  0),
			     0),
			  "%s: %s", path, err);
		cr_expect(eq(uint, c.dev.flags, want_flags[i]), "%s", path);
		cr_expect(eq(sz, c.dev.peers_len, want_peers[i]), "%s", path);
		cr_expect(zero(int, memcmp(c.dev.private_key, zero, KEY_LEN)), "%s", path);
		conf_clear(&c);
	}
	cr_assert(eq(int,
		     conf_parse_file_mode(&c, GOLDEN "/bad_no_private.conf", CONF_WG_SUBSET, err,
					  sizeof(err), NULL, 0),
		     0));
	cr_assert(eq(u16, c.dev.listen_port, 51820));
	conf_clear(&c);
}

/* The string entry point in both modes; the rest of the format is as strict in both. */
Test(conf, wg_subset_string)
{
	const char *peers = "[Peer]\nPublicKey = " PUB2 "\nAllowedIPs = 10.0.0.0/8\n";
	char err[256];
	struct conf c;

	cr_assert(eq(int, parse(&c, peers, err, sizeof(err)), -EINVAL));
	cr_assert_str_eq(err, "t.conf:1: missing [Interface] section");
	cr_assert(eq(int, parse_wg(&c, peers, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, c.dev.flags, 0));
	cr_assert(eq(sz, c.dev.peers_len, 1));
	cr_assert(eq(sz, c.dev.peers[0].allowedips_len, 1));
	conf_clear(&c);
	cr_assert(
		eq(int,
		   parse_wg(&c, "[Interface]\nListenPort = 1\nListenPort = 2\n", err, sizeof(err)),
		   -EINVAL));
	cr_assert_str_eq(err, "t.conf:3: ListenPort given twice (first at line 2)");
	cr_assert(eq(int, parse_wg(&c, "ListenPort = 1\n", err, sizeof(err)), -EINVAL));
	cr_assert_str_eq(err, "t.conf:1: key `ListenPort' outside a section");
	cr_assert(is_cleared(&c));
}

/*
 * Addresses are taken as they are; a host name is kept for later, without an endpoint, so
 * parsing reads no network input (the daemon resolves it in an unprivileged process);
 * conf_resolve_endpoints (wgctl) then looks it up.
 */
Test(conf, endpoints_resolved_and_host_kept)
{
	char err[256];
	struct conf c;
	struct in_addr v4;
	struct in6_addr v6;

	cr_assert(eq(int,
		     parse(&c,
			   IFACE "[Peer]\nPublicKey = " PUB2 "\nEndpoint = 192.0.2.1:51820\n"
				 "[Peer]\nPublicKey = " PUB3 "\nEndpoint = [2001:db8::3]:7\n"
				 "[Peer]\nPublicKey = " PUB4 "\nEndpoint = localhost:9\n",
			   err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(not(eq(uint, c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT, 0)));
	cr_assert(not(c.peer_extra[0].is_endpoint_name));
	cr_assert(eq(uint, c.dev.peers[2].flags & CFG_PEER_HAS_ENDPOINT, 0));
	cr_assert(c.peer_extra[2].is_endpoint_name);
	cr_assert(eq(u16, c.peer_extra[2].endpoint_port, 9));
	cr_assert(eq(uint, c.peer_extra[2].endpoint_line, 11));
	cr_assert(eq(int, conf_resolve_endpoints(&c, "t.conf", err, sizeof(err)), 0), "%s", err);
	cr_assert(not(eq(uint, c.dev.peers[2].flags & CFG_PEER_HAS_ENDPOINT, 0)));
	inet_pton(AF_INET, "192.0.2.1", &v4);
	inet_pton(AF_INET6, "2001:db8::3", &v6);
	cr_assert(eq(int, c.dev.peers[0].endpoint.sa.sa_family, AF_INET));
	cr_assert(eq(u32, c.dev.peers[0].endpoint.in4.sin_addr.s_addr, v4.s_addr));
	cr_assert(eq(u16, ntohs(c.dev.peers[0].endpoint.in4.sin_port), 51820));
	cr_assert_str_eq(c.peer_extra[0].endpoint_host, "192.0.2.1");
	cr_assert(eq(int, c.dev.peers[1].endpoint.sa.sa_family, AF_INET6));
	cr_assert(zero(int, memcmp(&c.dev.peers[1].endpoint.in6.sin6_addr, &v6, sizeof(v6))));
	cr_assert(eq(u16, ntohs(c.dev.peers[1].endpoint.in6.sin6_port), 7));
	cr_assert_str_eq(c.peer_extra[1].endpoint_host, "2001:db8::3");
	cr_assert_str_eq(c.peer_extra[2].endpoint_host, "localhost");
	if (c.dev.peers[2].endpoint.sa.sa_family == AF_INET)
		cr_assert(eq(u32, ntohl(c.dev.peers[2].endpoint.in4.sin_addr.s_addr) >> 24, 127));
	else
		cr_assert(eq(int, is_loopback6(&c.dev.peers[2].endpoint.in6.sin6_addr), 1));
	conf_clear(&c);
}

/*
 * RFC 6761: names under .invalid never resolve. The file still parses (a daemon starts
 * and retries); resolving it names the Endpoint line. The resolver's text varies, so only
 * the part before it is pinned.
 */
Test(conf, endpoint_unresolvable_names_host)
{
	const char *want = "t.conf:5: cannot resolve Endpoint host `nonexistent.invalid': ";
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     parse(&c,
			   IFACE "[Peer]\nPublicKey = " PUB2
				 "\nEndpoint = nonexistent.invalid:51820\n",
			   err, sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(c.peer_extra[0].is_endpoint_name);
	cr_assert(eq(uint, c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT, 0));
	cr_assert(eq(int, conf_resolve_endpoints(&c, "t.conf", err, sizeof(err)), -EINVAL));
	cr_assert(zero(int, strncmp(err, want, strlen(want))), "%s", err);
	cr_assert(gt(sz, strlen(err), strlen(want)));
	conf_clear(&c);
}

Test(conf, nul_byte_rejected)
{
	static const char text[] = IFACE "ListenPort = 1\0 2\n";
	char err[256];
	struct conf c;

	cr_assert(eq(int, conf_parse_string(&c, "t.conf", text, sizeof(text) - 1, err, sizeof(err)),
		     -EINVAL));
	cr_assert_str_eq(err, "t.conf:3: NUL byte in line");
}

Test(conf, string_needs_no_terminator)
{
	static const char text[] = IFACE "ListenPort = 1234"
					 "5 and more";
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     conf_parse_string(&c, "t.conf", text, strlen(IFACE "ListenPort = 1234"), err,
				       sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(u16, c.dev.listen_port, 1234));
	conf_clear(&c);
}

Test(conf, small_and_missing_buffers)
{
	char err[12];
	struct conf c;

	cr_assert(eq(int, parse(&c, IFACE "Foo = 1\n", err, sizeof(err)), -EINVAL));
	cr_assert_str_eq(err, "t.conf:3: u");
	cr_assert(eq(int, parse(&c, IFACE "Foo = 1\n", NULL, 0), -EINVAL));
	cr_assert(is_cleared(&c));
}

Test(conf, file_errors)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     conf_parse_file(&c, GOLDEN "/nonexistent.conf", err, sizeof(err), NULL, 0),
		     -ENOENT));
	cr_assert_str_eq(err, GOLDEN "/nonexistent.conf: No such file or directory");
	cr_assert(eq(int, conf_parse_file(&c, GOLDEN, err, sizeof(err), NULL, 0), -EISDIR));
	cr_assert_str_eq(err, GOLDEN ": Is a directory");
	cr_assert(is_cleared(&c));
}

/* A name without '/' takes key files from the current directory. */
Test(conf, key_file_relative_to_name)
{
	const char *text = "[Interface]\nPrivateKeyFile = " GOLDEN "/keys/priv5.key\n";
	char err[256];
	struct conf c;

	cr_assert(
		eq(int, conf_parse_string(&c, "<stdin>", text, strlen(text), err, sizeof(err)), 0),
		"%s", err);
	cr_assert(eq(int, key_is_zero(c.dev.private_key), 0));
	conf_clear(&c);
}

Test(conf, inih_options_restored)
{
	char err[256];
	struct conf c;

	ini_max_line = 321;
	ini_allow_multiline = true;
	cr_assert(eq(int, parse(&c, IFACE, err, sizeof(err)), 0));
	cr_assert(eq(int, ini_max_line, 321));
	cr_assert(eq(int, ini_allow_multiline, true));
	conf_clear(&c);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(sz, (size_t)write(fd, text, strlen(text)), strlen(text)));
	cr_assert(eq(int, fchmod(fd, mode), 0));
	close(fd);
}

static char *parse_warn(const char *path, size_t warnlen)
{
	static char warn[1024];
	char err[256];
	struct conf c;

	cr_assert(le(sz, warnlen, sizeof(warn)));
	cr_assert(eq(int, conf_parse_file(&c, path, err, sizeof(err), warn, warnlen), 0), "%s",
		  err);
	conf_clear(&c);
	return warn;
}

Test(conf, warnings)
{
	char dir[] = "/tmp/conf_test.XXXXXX", conf[64], key[64], want[256];

	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(conf, sizeof(conf), "%s/wg0.conf", dir);
	snprintf(key, sizeof(key), "%s/psk", dir);
	write_file(conf, IFACE, 0600);
	cr_assert_str_eq(parse_warn(conf, 1024), "");
	write_file(conf, IFACE, 0644);
	snprintf(want, sizeof(want),
		 "%s: warning: holds a private key but is readable by group or others\n", conf);
	cr_assert_str_eq(parse_warn(conf, 1024), want);
	cr_assert_str_eq(parse_warn(conf, 9), "/tmp/con"); /* truncated, terminated */

	/* the key file is named, relative to the config file's directory */
	write_file(key, PSK1 "\n", 0640);
	write_file(conf, IFACE "[Peer]\nPublicKey = " PUB2 "\nPresharedKeyFile = psk\n", 0600);
	snprintf(want, sizeof(want),
		 "%s: warning: holds a preshared key but is readable by group or others\n", key);
	cr_assert_str_eq(parse_warn(conf, 1024), want);
	write_file(key, PSK1 "\n", 0600);
	cr_assert_str_eq(parse_warn(conf, 1024), "");

	/* the config file itself holds only a preshared key */
	write_file(key, PRIV1 "\n", 0600);
	write_file(conf,
		   "[Interface]\nPrivateKeyFile = psk\n"
		   "[Peer]\nPublicKey = " PUB2 "\nPresharedKey = " PSK1 "\n",
		   0604);
	snprintf(want, sizeof(want),
		 "%s: warning: holds a preshared key but is readable by group or others\n", conf);
	cr_assert_str_eq(parse_warn(conf, 1024), want);

	write_file(conf,
		   IFACE "[Peer]\nPublicKey = " PUB2 "\nAllowedIPs = 10.0.0.0/8, 10.1.2.3/16\n",
		   0600);
	snprintf(want, sizeof(want),
		 "%s:5: warning: AllowedIPs entry `10.1.2.3/16' has a nonzero host part\n", conf);
	cr_assert_str_eq(parse_warn(conf, 1024), want);

	/* SaveConfig = true is accepted (wg-quick files carry it) but does nothing: say so */
	write_file(conf, IFACE "SaveConfig = true\n", 0600);
	snprintf(want, sizeof(want),
		 "%s:3: warning: SaveConfig = true is ignored: wgd does not write the file back; "
		 "use `wgctl peer add|remove ... --save'\n",
		 conf);
	cr_assert_str_eq(parse_warn(conf, 1024), want);
	write_file(conf, IFACE "SaveConfig = false\n", 0600);
	cr_assert_str_eq(parse_warn(conf, 1024), "");
	unlink(key);
	unlink(conf);
	rmdir(dir);
}

Test(conf, clear_is_idempotent)
{
	char err[256];
	struct conf c;

	cr_assert(eq(int,
		     conf_parse_file(&c, GOLDEN "/ok_every_key.conf", err, sizeof(err), NULL, 0),
		     0));
	conf_clear(&c);
	cr_assert(is_cleared(&c));
	conf_clear(&c);
	cr_assert(is_cleared(&c));
}

Test(conf, write_peer_endpoint_text)
{
	struct cfg_peer peer = { .flags = CFG_PEER_HAS_ENDPOINT | CFG_PEER_HAS_PRESHARED_KEY };
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	memset(peer.public_key, 0x01, sizeof(peer.public_key));
	peer.endpoint.in4.sin_family = AF_INET;
	peer.endpoint.in4.sin_port = htons(1);
	/* an all-zero preshared key is no key */
	cr_assert(eq(int, conf_write_peer(m, &peer, "vpn.example.org:51820"), 0));
	cr_assert(eq(int, conf_write_peer(m, &peer, NULL), 0));
	fclose(m);
	cr_assert_str_eq(buf, "[Peer]\nPublicKey = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
			      "Endpoint = vpn.example.org:51820\n"
			      "[Peer]\nPublicKey = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
			      "Endpoint = 0.0.0.0:1\n");
	free(buf);
}

/* Threads = 1..64 or auto (0: the default); anything else one FILE:LINE error. */
Test(conf, threads_key)
{
	static const struct {
		const char *value;
		int ret;
		unsigned int threads;
	} cases[] = {
		{ "1", 0, 1 },	      { "2", 0, 2 },	    { "64", 0, 64 },
		{ "auto", 0, 0 },     { "AUTO", 0, 0 },	    { "0", -EINVAL, 0 },
		{ "65", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "2x", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	char text[512], err[256];
	struct conf c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), IFACE "Threads = %s\n", cases[i].value);
		err[0] = 0;
		cr_assert(eq(int, parse(&c, text, err, sizeof(err)), cases[i].ret), "`%s': %s",
			  cases[i].value, err);
		if (cases[i].ret) {
			cr_assert(not(eq(ptr, strstr(err, "t.conf:"), NULL)), "%s", err);
			cr_assert(not(eq(ptr, strstr(err, "Threads"), NULL)), "%s", err);
			continue;
		}
		cr_assert(eq(u32, c.threads, cases[i].threads), "`%s'", cases[i].value);
		conf_clear(&c);
	}
	snprintf(text, sizeof(text), IFACE "Threads = 2\nThreads = 3\n");
	cr_assert(eq(int, parse(&c, text, err, sizeof(err)), -EINVAL), "a second Threads");
}
