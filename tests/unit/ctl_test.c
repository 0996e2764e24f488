/* SPDX-License-Identifier: MIT */
/*
 * wgctl's formats and input handling, white-box (the ctl sources are included here).
 * Golden files in tests/golden/ctl/ come from Debian's wg(8) v1.0.20210914 talking to a
 * fake UAPI daemon (gen.py there): the same get=1 reply, replayed at the same "now", must
 * print exactly what wg printed, and the same arguments or config file must produce the
 * request wg sent. Error lines are written by hand after wireguard-tools config.c's.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "ctl/endpoints.c"
#include "ctl/format.c"
#include "ctl/genkey.c"
#include "ctl/json.c"
#include "ctl/metrics.c"
#include "ctl/parse.c"
#include "ctl/peer.c"
#include "ctl/peer_save.c"
#include "ctl/plan.c"
#include "ctl/reach.c"
#include "ctl/serving.c"
#include "ctl/set.c"
#include "ctl/setconf.c"
#include "ctl/show.c"
#include "ctl/showconf.c"
#include "ctl/strip.c"
#include "ctl/updown.c"

#define GOLDEN "tests/golden/ctl/"
#define IFNAME "wgctlgold"

/* The whole file, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	cr_assert(not(eq(ptr, f, NULL)), "open %s (run from the repository root)", path);
	m = open_memstream(&buf, &len);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *capture_start(struct capture *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert(not(eq(ptr, c->f, NULL)));
	return c->f;
}

/* The captured text; the caller frees it. */
static char *capture_end(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

static void load_case(const char *name, struct uapi_state *st, time_t *now)
{
	char path[256], *text, *n;

	snprintf(path, sizeof(path), GOLDEN "%s.get", name);
	text = slurp(path);
	memset(st, 0, sizeof(*st));
	cr_assert(eq(int, uapi_client_get_parse(st, text, strlen(text)), 0), "%s", path);
	free(text);
	snprintf(path, sizeof(path), GOLDEN "%s.now", name);
	n = slurp(path);
	*now = (time_t)strtoll(n, NULL, 10);
	free(n);
}

static void expect_golden(const char *got, const char *name, const char *kind)
{
	char path[256], *want;

	snprintf(path, sizeof(path), GOLDEN "%s.%s", name, kind);
	want = slurp(path);
	cr_assert(eq(int, strcmp(got, want), 0), "%s differs:\n--- got\n%s--- want (wg)\n%s", path,
		  got, want);
	free(want);
}

static const char *const cases[] = { "basic", "bare", "nokey" };

Test(ctl, show_report_matches_wg)
{
	static const struct {
		const char *kind;
		bool color, keys;
	} modes[] = {
		{ "show", false, false },
		{ "show-color", true, false },
		{ "show-keys", false, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
			struct uapi_state st;
			struct capture cap;
			struct show_ctx c;
			char *got;

			load_case(cases[i], &st, &c.now);
			c.out = capture_start(&cap);
			c.color = modes[m].color;
			c.show_keys = modes[m].keys;
			show_pretty(&c, IFNAME, &st);
			got = capture_end(&cap);
			expect_golden(got, cases[i], modes[m].kind);
			free(got);
			uapi_state_clear(&st);
		}
	}
}

Test(ctl, show_fields_and_dump_match_wg)
{
	static const char *const fields[] = {
		"public-key",	     "private-key", "listen-port", "fwmark",		   "peers",
		"preshared-keys",    "endpoints",   "allowed-ips", "latest-handshakes",
		"persistent-keepalive", "transfer", "dump",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
			struct uapi_state st;
			struct capture cap;
			time_t now;
			char *got;

			load_case(cases[i], &st, &now);
			cr_assert(show_field(capture_start(&cap), IFNAME, &st, fields[k], false));
			got = capture_end(&cap);
			expect_golden(got, cases[i], fields[k]);
			free(got);
			uapi_state_clear(&st);
		}
	}
}

Test(ctl, showconf_matches_wg)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct uapi_state st;
		struct capture cap;
		time_t now;
		char *got;

		load_case(cases[i], &st, &now);
		show_conf(capture_start(&cap), &st);
		got = capture_end(&cap);
		expect_golden(got, cases[i], "showconf");
		free(got);
		uapi_state_clear(&st);
	}
}

/* `wg show all FIELD' puts the interface name and a tab before every line. */
Test(ctl, show_field_with_interface_prefix)
{
	struct uapi_state st;
	struct capture cap;
	time_t now;
	char *got, *want, *w, *line;

	load_case("basic", &st, &now);
	cr_assert(show_field(capture_start(&cap), IFNAME, &st, "dump", true));
	got = capture_end(&cap);
	want = slurp(GOLDEN "basic.dump");
	w = got;
	for (line = strtok(want, "\n"); line; line = strtok(NULL, "\n")) {
		cr_assert(eq(int, strncmp(w, IFNAME "\t", strlen(IFNAME) + 1), 0));
		w += strlen(IFNAME) + 1;
		cr_assert(eq(int, strncmp(w, line, strlen(line)), 0));
		w += strlen(line) + 1;
	}
	cr_assert(eq(int, *w, '\0'));
	free(got);
	free(want);
	uapi_state_clear(&st);
}

/* --- requests: what wg sent for the same arguments or file ----------------------------- */

/* argv from NAME.args (one per line); the strings live in *text. */
static int load_args(const char *name, const char *argv[], int max, char **text)
{
	char path[256], *p;
	int n = 0;

	snprintf(path, sizeof(path), GOLDEN "%s.args", name);
	*text = slurp(path);
	for (p = *text; *p && n < max; n++) {
		argv[n] = p;
		p = strchr(p, '\n');
		*p++ = '\0';
	}
	return n;
}

static void expect_request(const struct cfg_device *cfg, const char *name)
{
	char *text = NULL;
	size_t len = 0;

	cr_assert(eq(int, uapi_client_set_format(&text, &len, cfg), 0));
	expect_golden(text, name, "req");
	uapi_client_text_free(text, len);
}

Test(ctl, set_request_matches_wg)
{
	static const char *const names[] = { "set_full", "set_devnull", "set_peer_only" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct cfg_device cfg = { 0 };
		const char *argv[64];
		char *text;
		int argc = load_args(names[i], argv, 64, &text);

		cr_assert(set_parse_args(&cfg, argc - 2, argv + 2), "%s", names[i]);
		expect_request(&cfg, names[i]);
		cfg_device_clear(&cfg);
		free(text);
	}
}

/*
 * wg takes a file without [Interface] or PrivateKey; setconf then sends every device key
 * (zeros for those left out), addconf only those named, zero or not.
 */
Test(ctl, setconf_and_addconf_requests_match_wg)
{
	static const char *const names[] = {
		"setconf",	      "addconf",	    "setconf_no_private_key",
		"addconf_no_private_key", "setconf_peers_only", "addconf_peers_only",
		"setconf_empty",	      "addconf_named_zeros",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct conf c = { 0 };
		const char *argv[8];
		char *text;
		int argc = load_args(names[i], argv, 8, &text);

		cr_assert(eq(int, argc, 3));
		cr_assert(ctl_load_conf(&c, argv[2], true, false), "%s", argv[2]);
		make_request(argv[0], &c.dev);
		expect_request(&c.dev, names[i]);
		conf_clear(&c);
		free(text);
	}
}

/* --- JSON, metrics and peer list: expected texts written by hand ----------------------- */

Test(ctl, json_one_interface)
{
	static const char want[] =
		"{\n"
		"  \"interface\": \"wgctlgold\",\n"
		"  \"public_key\": null,\n"
		"  \"listen_port\": 1,\n"
		"  \"fwmark\": 0,\n"
		"  \"peers\": [\n"
		"    {\n"
		"      \"public_key\": \"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\",\n"
		"      \"endpoint\": null,\n"
		"      \"allowed_ips\": [],\n"
		"      \"latest_handshake\": 0,\n"
		"      \"up\": false,\n"
		"      \"rx_bytes\": 0,\n"
		"      \"tx_bytes\": 0,\n"
		"      \"persistent_keepalive\": 0\n"
		"    }\n"
		"  ]\n"
		"}";
	struct uapi_state st;
	struct capture cap;
	time_t now;
	char *got;

	load_case("nokey", &st, &now);
	show_json(capture_start(&cap), IFNAME, &st, false, now);
	got = capture_end(&cap);
	cr_assert(eq(int, strcmp(got, want), 0), "got:\n%s", got);
	free(got);
	uapi_state_clear(&st);
}

/* Keys appear with WG_HIDE_KEYS=never only; values as wg's dump shows them. */
Test(ctl, json_keys_and_values)
{
	struct uapi_state st;
	struct capture cap;
	time_t now;
	char *got, *want_now = slurp(GOLDEN "basic.now"), expect[128];

	load_case("basic", &st, &now);
	show_json(capture_start(&cap), "a\"b\\c", &st, false, now);
	got = capture_end(&cap);
	cr_assert(not(eq(ptr, strstr(got, "\"interface\": \"a\\\"b\\\\c\""), NULL)));
	cr_assert(eq(ptr, strstr(got, "private_key"), NULL));
	cr_assert(eq(ptr, strstr(got, "preshared_key"), NULL));
	cr_assert(not(eq(ptr, strstr(got, "\"public_key\": \"FO4OB/NOOhcDDG7s9m03BegNHhU/egyls0XoPOnWJkM=\""), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"fwmark\": 3405643776"), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"endpoint\": \"[::ffff:192.0.2.7]:1\""), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"allowed_ips\": [\"0.0.0.0/0\", \"::/0\"]"), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"tx_bytes\": 18446744073709551615"), NULL)));
	snprintf(expect, sizeof(expect), "\"latest_handshake\": %lld,\n      \"up\": true,",
		 strtoll(want_now, NULL, 10) - 61);
	cr_assert(not(eq(ptr, strstr(got, expect), NULL)));
	free(got);
	show_json(capture_start(&cap), IFNAME, &st, true, now);
	got = capture_end(&cap);
	cr_assert(not(eq(ptr, strstr(got, "\"private_key\": \"BRAbJjE8R1JdaHN+iZSfqrXAy9bh7PcCDRgjLjlET1o=\""), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"preshared_key\": \"OfbMnHkFJY7vsSKB3rWA89qvCANobwKtCoO/oI+FJrQ=\""), NULL)));
	cr_assert(not(eq(ptr, strstr(got, "\"preshared_key\": null"), NULL)));
	free(got);
	free(want_now);
	uapi_state_clear(&st);
}

Test(ctl, metrics_text)
{
	static const char want[] =
		"# HELP wgd_peers Number of peers configured on the interface.\n"
		"# TYPE wgd_peers gauge\n"
		"wgd_peers{interface=\"wg0\"} 1\n"
		"wgd_peers{interface=\"x\\\"y\"} 0\n"
		"# HELP wgd_peer_receive_bytes_total Bytes received from the peer.\n"
		"# TYPE wgd_peer_receive_bytes_total counter\n"
		"wgd_peer_receive_bytes_total{interface=\"wg0\",public_key=\"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\"} 5\n"
		"# HELP wgd_peer_transmit_bytes_total Bytes sent to the peer.\n"
		"# TYPE wgd_peer_transmit_bytes_total counter\n"
		"wgd_peer_transmit_bytes_total{interface=\"wg0\",public_key=\"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\"} 6\n"
		"# HELP wgd_peer_last_handshake_timestamp_seconds Unix time of the peer's latest handshake, 0 if none.\n"
		"# TYPE wgd_peer_last_handshake_timestamp_seconds gauge\n"
		"wgd_peer_last_handshake_timestamp_seconds{interface=\"wg0\",public_key=\"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\"} 7\n"
		"# HELP wgd_peer_up 1 if the peer's latest handshake is under 180 s old, else 0.\n"
		"# TYPE wgd_peer_up gauge\n"
		"wgd_peer_up{interface=\"wg0\",public_key=\"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\"} 1\n";
	const char *names[] = { "wg0", "x\"y" };
	struct uapi_state st[2];
	struct capture cap;
	time_t now;
	char *got;

	load_case("nokey", &st[0], &now);
	load_case("bare", &st[1], &now);
	st[0].peer_state[0] = (struct uapi_peer_state){ .rx_bytes = 5, .tx_bytes = 6,
							.last_handshake_sec = 7 };
	metrics_write(capture_start(&cap), names, st, 2, 7 + 179);
	got = capture_end(&cap);
	cr_assert(eq(int, strcmp(got, want), 0), "got:\n%s", got);
	free(got);
	uapi_state_clear(&st[0]);
	uapi_state_clear(&st[1]);
}

/* Up while the latest handshake is younger than REJECT_AFTER_TIME (180 s); never without one. */
Test(ctl, peer_up_boundaries)
{
	const time_t t = 1700000000;

	cr_assert(not(ctl_peer_up(0, t)));
	cr_assert(not(ctl_peer_up(0, 0)));
	cr_assert(ctl_peer_up(t, t));
	cr_assert(ctl_peer_up(t - 179, t));
	cr_assert(not(ctl_peer_up(t - 180, t)));
	cr_assert(not(ctl_peer_up(t - 181, t)));
	cr_assert(not(ctl_peer_up(1, t)));
	cr_assert(ctl_peer_up(t + 5, t), "a handshake after now (clock wound back) is fresh");
	cr_assert(ctl_peer_up(UINT64_MAX, t));
}

/* The pieces of each line are copied from wg's report of the same state (basic.show). */
Test(ctl, peer_list_lines)
{
	struct uapi_state st;
	struct capture cap;
	time_t now;
	char *got, *line;

	load_case("basic", &st, &now);
	peer_list_write(capture_start(&cap), &st, now);
	got = capture_end(&cap);
	line = strtok(got, "\n");
	cr_assert_str_eq(line, "yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=\t192.0.2.1:51820\t"
			       "10.0.0.2/32,fd00::2/128\t1 minute, 1 second ago\t"
			       "1023 B received, 1.50 KiB sent");
	line = strtok(NULL, "\n");
	cr_assert_str_eq(line, "FI9ZbbVAveaVM3FrURJ+JKMi2Q+t/xRUwXPnA+z3RnA=\t(none)\t(none)\tnever\t"
			       "0 B received, 0 B sent");
	for (int i = 0; i < 5; i++)
		line = strtok(NULL, "\n");
	cr_assert_str_eq(line, "eFmPiw2SVPsgNPbCc0JUCYniBDgyH6rLySkfBTLoNzs=\t(none)\t(none)\t"
			       "1 hour ago\t0 B received, 1024.00 TiB sent");
	cr_assert(eq(ptr, strtok(NULL, "\n"), NULL));
	free(got);
	uapi_state_clear(&st);
}

/* --- bad input: one line naming it --------------------------------------------------- */

/* Runs fn with stderr captured and returns what it printed; the caller frees it. */
static char *stderr_of(bool (*fn)(const void *arg), const void *arg, bool *ret)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = calloc(1, 4096);

	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	*ret = fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	cr_assert(ge(sz, fread(out, 1, 4095, tmp), 0));
	fclose(tmp);
	return out;
}

struct input_case {
	bool (*parse)(const char *value);
	const char *value, *err;
};

static bool run_case(const void *arg)
{
	const struct input_case *c = arg;

	return c->parse(c->value);
}

static uint16_t u16_sink;
static uint32_t u32_sink;
static uint8_t key_sink[32];
static union cfg_sockaddr ep_sink;

static bool port(const char *v)
{
	return ctl_parse_port(&u16_sink, v);
}

static bool fwmark(const char *v)
{
	return ctl_parse_fwmark(&u32_sink, v);
}

static bool keepalive(const char *v)
{
	return ctl_parse_keepalive(&u16_sink, v);
}

static bool pubkey(const char *v)
{
	return ctl_parse_pubkey(key_sink, v);
}

static bool keyfile(const char *v)
{
	return ctl_parse_keyfile(key_sink, v);
}

static bool endpoint(const char *v)
{
	return ctl_parse_endpoint(&ep_sink, v);
}

static bool allowedips(const char *v)
{
	struct cfg_device cfg = { 0 };
	bool ok = ctl_parse_allowedips(cfg_device_add_peer(&cfg), v);

	cfg_device_clear(&cfg);
	return ok;
}

static const struct input_case input_cases[] = {
	{ ctl_parse_ifname, "a/b", "wgctl: Invalid interface name: `a/b'\n" },
	{ ctl_parse_ifname, "", "wgctl: Invalid interface name: `'\n" },
	{ ctl_parse_ifname, "sixteen-chars-xx",
	  "wgctl: Interface name `sixteen-chars-xx' is too long (at most 15 characters)\n" },
	{ ctl_parse_ifname, "wg 0", "wgctl: Invalid interface name: `wg 0'\n" },
	{ port, "abc", "wgctl: Invalid port: `abc'\n" },
	{ port, "65536", "wgctl: Invalid port: `65536'\n" },
	{ port, "-1", "wgctl: Invalid port: `-1'\n" },
	{ port, " 1", "wgctl: Invalid port: ` 1'\n" },
	{ fwmark, "0x100000000", "wgctl: Fwmark is neither 0/off nor 0-0xffffffff: `0x100000000'\n" },
	{ fwmark, "on", "wgctl: Fwmark is neither 0/off nor 0-0xffffffff: `on'\n" },
	{ keepalive, "65536",
	  "wgctl: Persistent keepalive interval is neither 0/off nor 1-65535: `65536'\n" },
	{ keepalive, "1s", "wgctl: Persistent keepalive interval is neither 0/off nor 1-65535: `1s'\n" },
	{ pubkey, "abc", "wgctl: Key is not the correct length or format: `abc'\n" },
	{ pubkey, "yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws",
	  "wgctl: Key is not the correct length or format: `yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws'\n" },
	{ keyfile, "/nonexistent/key", "wgctl: Unable to open key file `/nonexistent/key': No such file or directory\n" },
	{ keyfile, GOLDEN "in/setconf.conf",
	  "wgctl: Key is not the correct length or format in key file `" GOLDEN "in/setconf.conf'\n" },
	{ endpoint, "", "wgctl: Unable to parse empty endpoint\n" },
	{ endpoint, "192.0.2.1", "wgctl: Unable to find port of endpoint: `192.0.2.1'\n" },
	{ endpoint, "192.0.2.1:", "wgctl: Unable to find port of endpoint: `192.0.2.1:'\n" },
	{ endpoint, "[2001:db8::1", "wgctl: Unable to find matching brace of endpoint: `[2001:db8::1'\n" },
	{ endpoint, "[2001:db8::1]", "wgctl: Unable to find port of endpoint: `[2001:db8::1]'\n" },
	{ endpoint, "[2001:db8::1]x1", "wgctl: Unable to find port of endpoint: `[2001:db8::1]x1'\n" },
	{ allowedips, "10.0.0.1/33", "wgctl: AllowedIP is not in the correct format: `10.0.0.1/33'\n" },
	{ allowedips, "fd00::/129", "wgctl: AllowedIP is not in the correct format: `fd00::/129'\n" },
	{ allowedips, "10.0.0.0/8,300.1.1.1", "wgctl: Unable to parse IP address: `300.1.1.1'\n" },
	{ allowedips, "10.0.0.0/x", "wgctl: AllowedIP is not in the correct format: `10.0.0.0/x'\n" },
	{ allowedips, "10.0.0.0/8,,", "wgctl: Unable to parse IP address: `'\n" },
};

Test(ctl, bad_input_lines)
{
	for (size_t i = 0; i < ARRAY_SIZE(input_cases); i++) {
		bool ret;
		char *err = stderr_of(run_case, &input_cases[i], &ret);

		cr_assert(not(ret), "case %zu accepted", i + 1);
		cr_assert(eq(int, strcmp(err, input_cases[i].err), 0), "case %zu: got %s", i + 1, err);
		free(err);
	}
}

Test(ctl, good_input_values)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *p = cfg_device_add_peer(&cfg);
	char text[64];

	cr_assert(ctl_parse_fwmark(&u32_sink, "0xffffffff"));
	cr_assert(eq(u32, u32_sink, 0xffffffffU));
	cr_assert(ctl_parse_fwmark(&u32_sink, "OFF"));
	cr_assert(eq(u32, u32_sink, 0));
	cr_assert(ctl_parse_keepalive(&u16_sink, "off"));
	cr_assert(eq(u16, u16_sink, 0));
	cr_assert(ctl_parse_endpoint(&ep_sink, "[fe80::1]:51820"));
	ctl_endpoint_text(text, sizeof(text), &ep_sink);
	cr_assert_str_eq(text, "[fe80::1]:51820");
	/* '+' and '-' make the change incremental; whitespace is ignored, as in wg */
	cr_assert(ctl_parse_allowedips(p, " 10.0.0.1 , +10.1.0.0/16,-fd00::/8"));
	cr_assert(eq(u32, p->flags & CFG_PEER_REPLACE_ALLOWEDIPS, 0));
	cr_assert(eq(sz, p->allowedips_len, 3));
	cr_assert(eq(u8, p->allowedips[0].cidr, 32));
	cr_assert(eq(int, p->allowedips[2].is_removal, true));
	cr_assert(eq(int, p->allowedips[1].is_removal, false));
	cfg_device_clear(&cfg);
}

struct argv_case {
	const char *argv[8];
	const char *err;
};

static bool run_set(const void *arg)
{
	const struct argv_case *c = arg;
	int argc = 0;

	while (c->argv[argc])
		argc++;
	return set_main(argc, (const char **)(uintptr_t)c->argv) == 0;
}

Test(ctl, set_rejects_bad_arguments_before_any_io)
{
	static const struct argv_case cases_[] = {
		{ { "set", "wg0", "bogus", "1" }, "wgctl: Invalid argument: `bogus'\n" },
		{ { "set", "wg0", "listen-port" }, "wgctl: Invalid argument: `listen-port'\n" },
		{ { "set", "wg0", "peer" }, "wgctl: Invalid argument: `peer'\n" },
		{ { "set", "wg0", "remove" }, "wgctl: Invalid argument: `remove'\n" },
		{ { "set", "wg0", "listen-port", "x" }, "wgctl: Invalid port: `x'\n" },
		{ { "set", "wg0", "peer", "abc" },
		  "wgctl: Key is not the correct length or format: `abc'\n" },
		{ { "set", "wg0", "peer", "yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=", "listen-port",
		    "1" },
		  "wgctl: Invalid argument: `listen-port'\n" },
		{ { "set", "bad/name", "listen-port", "1" }, "wgctl: Invalid interface name: `bad/name'\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases_); i++) {
		bool ok;
		char *err = stderr_of(run_set, &cases_[i], &ok);

		cr_assert(not(ok), "case %zu", i + 1);
		cr_assert(eq(int, strcmp(err, cases_[i].err), 0), "case %zu: got %s", i + 1, err);
		free(err);
	}
}

static bool run_setconf(const void *arg)
{
	const char *const *argv = arg;

	return setconf_main(3, (const char **)(uintptr_t)argv) == 0;
}

Test(ctl, setconf_reports_the_file)
{
	static const char *argv[] = { "setconf", "wg0", "/nonexistent/wg0.conf", NULL };
	bool ok;
	char *err = stderr_of(run_setconf, argv, &ok);

	cr_assert(not(ok));
	cr_assert(eq(int, strncmp(err, "wgctl: ", 7), 0), "got %s", err);
	cr_assert(not(eq(ptr, strstr(err, "/nonexistent/wg0.conf"), NULL)), "got %s", err);
	cr_assert(eq(ptr, strchr(err, '\n'), err + strlen(err) - 1), "one line: %s", err);
	free(err);
}

/* --- pieces of wg's text, checked against values worked out by hand ---------------------- */

Test(ctl, pretty_time_and_bytes)
{
	char buf[256];

	ctl_pretty_time(buf, sizeof(buf), 0);
	cr_assert_str_eq(buf, "");
	ctl_ago(buf, sizeof(buf), 10000 - 3725, 10000); /* 1 h 2 min 5 s */
	strip_ansi(buf);
	cr_assert_str_eq(buf, "1 hour, 2 minutes, 5 seconds ago");
	ctl_bytes(buf, sizeof(buf), 1048576 - 1);
	strip_ansi(buf);
	cr_assert_str_eq(buf, "1024.00 KiB");
	ctl_bytes(buf, sizeof(buf), 1073741824ULL * 3 / 2);
	strip_ansi(buf);
	cr_assert_str_eq(buf, "1.50 GiB");
}

/* --- peer add / remove arguments ------------------------------------------------------- */

#define PEER_KEY "yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws="

static struct peer_change change_sink;

static bool run_peer_parse(const void *arg)
{
	const struct argv_case *c = arg;
	int argc = 0;
	bool ok;

	while (c->argv[argc])
		argc++;
	cfg_device_clear(&change_sink.cfg);
	memset(&change_sink, 0, sizeof(change_sink));
	ok = parse_change(&change_sink, argc, (const char **)(uintptr_t)c->argv);
	return ok;
}

/* --save may come anywhere; an option where the interface or key belongs is named. */
Test(ctl, peer_arguments_in_any_order)
{
	static const struct argv_case good[] = {
		{ { "add", "--save", "wg0", PEER_KEY, "allowed-ips", "10.0.0.2/32" }, "" },
		{ { "add", "wg0", "--save", PEER_KEY, "allowed-ips", "10.0.0.2/32" }, "" },
		{ { "add", "wg0", PEER_KEY, "allowed-ips", "10.0.0.2/32", "--save" }, "" },
		{ { "remove", "--save", "wg0", PEER_KEY }, "" },
	};
	static const struct argv_case bad[] = {
		{ { "add", "wg0", "allowed-ips", "10.0.0.2/32", PEER_KEY },
		  "wgctl: Misplaced argument `allowed-ips': give `peer add <interface> <public key>' "
		  "first\n" },
		{ { "add", "--save", "endpoint", "wg0", PEER_KEY },
		  "wgctl: Misplaced argument `endpoint': give `peer add <interface> <public key>' "
		  "first\n" },
		{ { "remove", "wg0", "--force", PEER_KEY },
		  "wgctl: Misplaced argument `--force': give `peer remove <interface> <public key>' "
		  "first\n" },
		{ { "remove", "wg0", PEER_KEY, "extra" }, "wgctl: Invalid argument: `extra'\n" },
	};
	char want[KEY_B64_LEN + 1];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		bool ok;
		char *err = stderr_of(run_peer_parse, &good[i], &ok);

		cr_assert(ok, "good case %zu: %s", i + 1, err);
		cr_assert_str_eq(err, "", "good case %zu", i + 1);
		cr_assert(change_sink.save, "good case %zu", i + 1);
		cr_assert_str_eq(change_sink.ifname, "wg0");
		key_to_base64(want, change_sink.cfg.peers[0].public_key);
		cr_assert_str_eq(want, PEER_KEY);
		free(err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		bool ok;
		char *err = stderr_of(run_peer_parse, &bad[i], &ok);

		cr_assert(not(ok), "bad case %zu", i + 1);
		cr_assert_str_eq(err, bad[i].err, "bad case %zu", i + 1);
		free(err);
	}
	cfg_device_clear(&change_sink.cfg);
}

/* Host bits get the parser's warning and are cleared, so --save writes the network. */
Test(ctl, peer_add_clears_host_bits_with_a_warning)
{
	static const struct argv_case c = {
		{ "add", "wg0", PEER_KEY, "allowed-ips", "10.0.0.1/24,10.0.1.0/24,fd00::1/64" }, ""
	};
	char text[64];
	bool ok;
	char *err = stderr_of(run_peer_parse, &c, &ok);

	cr_assert(ok);
	cr_assert_str_eq(err, "wgctl: warning: AllowedIPs entry `10.0.0.1/24' has a nonzero host "
			      "part, using 10.0.0.0/24\n"
			      "wgctl: warning: AllowedIPs entry `fd00::1/64' has a nonzero host "
			      "part, using fd00::/64\n");
	cr_assert(eq(sz, change_sink.cfg.peers[0].allowedips_len, 3));
	ctl_allowedip_text(text, sizeof(text), &change_sink.cfg.peers[0].allowedips[0]);
	cr_assert_str_eq(text, "10.0.0.0/24");
	ctl_allowedip_text(text, sizeof(text), &change_sink.cfg.peers[0].allowedips[1]);
	cr_assert_str_eq(text, "10.0.1.0/24");
	ctl_allowedip_text(text, sizeof(text), &change_sink.cfg.peers[0].allowedips[2]);
	cr_assert_str_eq(text, "fd00::/64");
	free(err);
	cfg_device_clear(&change_sink.cfg);
}

/* --- strip ------------------------------------------------------------------------------ */

/* Runs strip_main(argv) with stdout and stderr captured; the caller frees both. */
static int strip_run(const char *arg, char **out, char **err)
{
	const char *argv[] = { "strip", arg, NULL };
	FILE *o = tmpfile(), *e = tmpfile();
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO), ret;

	fflush(stdout);
	fflush(stderr);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(e), STDERR_FILENO);
	ret = strip_main(2, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	*out = calloc(1, 4096);
	*err = calloc(1, 4096);
	rewind(o);
	rewind(e);
	cr_assert(ge(sz, fread(*out, 1, 4095, o), 0));
	cr_assert(ge(sz, fread(*err, 1, 4095, e), 0));
	fclose(o);
	fclose(e);
	return ret;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	cr_assert(not(eq(ptr, f, NULL)), "%s", path);
	fputs(text, f);
	fclose(f);
	cr_assert(eq(int, chmod(path, 0600), 0));
}

/*
 * A wg-quick file with key files: only wg's keys come out, the key files' keys inline,
 * and the policy mark wgd (and wg-quick) set for a /0; by path, by name, from stdin.
 */
Test(ctl, strip_prints_the_wg_subset_with_the_keys)
{
	static const char conf[] =
		"[Interface]\n"
		"PrivateKeyFile = a.key\n"
		"ListenPort = 51820\n"
		"Address = 10.0.0.1/24, fd00::1/64\n"
		"DNS = 10.0.0.53\n"
		"MTU = 1420\n"
		"Table = auto\n"
		"PostUp = echo up\n"
		"SaveConfig = false\n"
		"\n"
		"[Peer]\n"
		"PublicKey = FI9ZbbVAveaVM3FrURJ+JKMi2Q+t/xRUwXPnA+z3RnA=\n"
		"PresharedKeyFile = psk.key\n"
		"AllowedIPs = 0.0.0.0/0\n"
		"Endpoint = 192.0.2.2:51820\n"
		"PersistentKeepalive = 25\n";
	static const char want[] =
		"[Interface]\n"
		"ListenPort = 51820\n"
		"FwMark = 0xca6c\n"
		"PrivateKey = BRAbJjE8R1JdaHN+iZSfqrXAy9bh7PcCDRgjLjlET1o=\n"
		"\n"
		"[Peer]\n"
		"PublicKey = FI9ZbbVAveaVM3FrURJ+JKMi2Q+t/xRUwXPnA+z3RnA=\n"
		"PresharedKey = OfbMnHkFJY7vsSKB3rWA89qvCANobwKtCoO/oI+FJrQ=\n"
		"AllowedIPs = 0.0.0.0/0\n"
		"Endpoint = 192.0.2.2:51820\n"
		"PersistentKeepalive = 25\n";
	char dir[] = "/tmp/ctl_strip.XXXXXX", path[128], cmd[160], *out, *err;

	cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
	snprintf(path, sizeof(path), "%s/a.key", dir);
	write_file(path, "BRAbJjE8R1JdaHN+iZSfqrXAy9bh7PcCDRgjLjlET1o=\n");
	snprintf(path, sizeof(path), "%s/psk.key", dir);
	write_file(path, "OfbMnHkFJY7vsSKB3rWA89qvCANobwKtCoO/oI+FJrQ=\n");
	snprintf(path, sizeof(path), "%s/wg9.conf", dir);
	write_file(path, conf);

	cr_assert(eq(int, strip_run(path, &out, &err), 0), "%s", err);
	cr_assert_str_eq(out, want);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);

	cr_assert(eq(int, setenv("WGCTL_CONF_DIR", dir, 1), 0));
	cr_assert(eq(int, strip_run("wg9", &out, &err), 0), "%s", err);
	cr_assert_str_eq(out, want);
	free(out);
	free(err);
	cr_assert(eq(int, strip_run("wg8", &out, &err), 1));
	cr_assert_str_eq(out, "");
	snprintf(cmd, sizeof(cmd), "wgctl: %s/wg8.conf: No such file or directory\n", dir);
	cr_assert_str_eq(err, cmd);
	free(out);
	free(err);
	unsetenv("WGCTL_CONF_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}

/* The control socket's reach=1 lines (wgd/control.h), as wgctl show reads them. */
Test(ctl, reach_find)
{
	static const char reply[] = "peer=xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg= 7 "
				    "10.9.0.0/24,fd09::/64\n"
				    "peer=TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0= 0 none\n";
	char reach[64];
	uint64_t refused = 1;

	cr_assert(ctl_reach_find(reply, "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=", &refused,
				 reach, sizeof(reach)));
	cr_expect(eq(u64, refused, 0));
	cr_expect_str_eq(reach, "none");
	cr_assert(ctl_reach_find(reply, "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", &refused,
				 reach, sizeof(reach)));
	cr_expect(eq(u64, refused, 7));
	cr_expect_str_eq(reach, "10.9.0.0/24,fd09::/64");
	cr_expect(not(ctl_reach_find(reply, "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=",
				     &refused, reach, sizeof(reach))));
	cr_expect(not(ctl_reach_find("peer=broken\n", "broken", &refused, reach, sizeof(reach))));
}
