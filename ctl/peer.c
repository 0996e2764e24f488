/* SPDX-License-Identifier: MIT */
/*
 * wgctl peer add | remove | list: day-to-day peer administration over the UAPI.
 *   peer add IF PUBKEY allowed-ips A[,B...] [endpoint E] [keepalive N] [psk-file F]
 *            [--save | --save-to NAME]
 *   peer remove IF PUBKEY [--save]
 *   peer list IF
 * --save may come anywhere; the interface and the key come first, then options in pairs.
 * A public key is not secret, so it may be given in argv; a preshared key only as a file.
 * With --save, the file is first checked to be writable (peer_save_check), so a change
 * that could not be saved is refused before it reaches the daemon; the change then goes
 * to the daemon, and only once applied into the file (peer_save.c), so a failed request
 * leaves the file alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "netlink/rtnl.h"

enum { PEER_TEXT_MAX = 1024 };

static const char peer_usage_text[] =
	"Usage: " PROG_NAME " peer add <interface> <base64 public key> allowed-ips "
	"<ip1>/<cidr1>[,<ip2>/<cidr2>]... [endpoint <host>:<port>] [keepalive <seconds>] "
	"[psk-file <file path>] [--save | --save-to <name>]\n"
	"       " PROG_NAME " peer remove <interface> <base64 public key> [--save]\n"
	"       " PROG_NAME " peer list <interface>\n";

/*
 * The allowed IPs from `from' on, as the daemon will hold them: host bits cleared. Each
 * entry that had some gets the config parser's warning, so what --save writes is the
 * network the daemon routes, and a later reload of the file warns about nothing.
 */
static void canonical_allowedips(struct cfg_peer *p, size_t from)
{
	char was[INET6_ADDRSTRLEN + sizeof("/128")], now[sizeof(was)];
	struct rtnl_prefix pfx;

	for (size_t i = from; i < p->allowedips_len; i++) {
		struct cfg_allowedip *aip = &p->allowedips[i];

		pfx = (struct rtnl_prefix){ .family = aip->family, .cidr = aip->cidr };
		memcpy(&pfx.ip6, &aip->ip6, sizeof(pfx.ip6));
		rtnl_prefix_mask(&pfx);
		if (!memcmp(&pfx.ip6, &aip->ip6, sizeof(pfx.ip6)))
			continue;
		ctl_allowedip_text(was, sizeof(was), aip);
		memcpy(&aip->ip6, &pfx.ip6, sizeof(aip->ip6));
		ctl_allowedip_text(now, sizeof(now), aip);
		fprintf(stderr,
			PROG_NAME ": warning: AllowedIPs entry `%s' has a nonzero host part, "
				  "using %s\n",
			was, now);
	}
}

static bool is_add_opt(const char *s)
{
	return !strcmp(s, "allowed-ips") || !strcmp(s, "endpoint") || !strcmp(s, "keepalive") ||
	       !strcmp(s, "psk-file");
}

/* One option and its value: 1 if it was one, 0 if unknown, -1 bad value (reported). */
static int add_opt(struct peer_change *a, struct cfg_peer *p, const char *opt, const char *val)
{
	if (!strcmp(opt, "allowed-ips")) {
		size_t from = p->allowedips_len;

		if (!ctl_parse_allowedips(p, val))
			return -1;
		canonical_allowedips(p, from);
		a->has_allowedips = true;
	} else if (!strcmp(opt, "endpoint")) {
		if (!ctl_parse_endpoint(&p->endpoint, val))
			return -1;
		p->flags |= CFG_PEER_HAS_ENDPOINT;
		a->endpoint = val;
	} else if (!strcmp(opt, "keepalive")) {
		if (!ctl_parse_keepalive(&p->persistent_keepalive_s, val))
			return -1;
		p->flags |= CFG_PEER_HAS_PERSISTENT_KEEPALIVE;
	} else if (!strcmp(opt, "psk-file")) {
		if (!ctl_parse_keyfile(p->preshared_key, val))
			return -1;
		p->flags |= CFG_PEER_HAS_PRESHARED_KEY;
		a->psk_file = val;
	} else {
		return 0;
	}
	return 1;
}

/* The options after the key; false after the error line. */
static bool parse_add_opts(struct peer_change *a, struct cfg_peer *p, int argc, const char *argv[])
{
	for (int i = 0; i < argc; i++) {
		int n = 0;

		if (i + 1 < argc)
			n = add_opt(a, p, argv[i], argv[i + 1]);
		if (n < 0)
			return false;
		if (n == 0) {
			ctl_err("Invalid argument: `%s'", argv[i]);
			return false;
		}
		i++;
	}
	if (!a->has_allowedips) {
		ctl_err("Missing `allowed-ips' for the new peer");
		return false;
	}
	return true;
}

/*
 * Moves every --save and --save-to NAME out of argv (admins put them anywhere), setting
 * a->save and a->save_to; returns the new argc, or -1 after the error line. Then an
 * option where the interface or the key belongs is named as misplaced rather than taken
 * for a bad name or key.
 */
static int take_save(struct peer_change *a, int argc, const char *argv[])
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--save")) {
			a->save = true;
		} else if (!strcmp(argv[i], "--save-to")) {
			if (i + 1 == argc) {
				ctl_err("Missing the drop-in name after `--save-to'");
				return -1;
			}
			a->save_to = argv[++i];
		} else {
			argv[n++] = argv[i];
		}
	}
	if (a->save_to && a->save) {
		ctl_err("Give `--save' or `--save-to NAME', not both");
		return -1;
	}
	if (a->save_to && !strcmp(argv[0], "remove")) {
		ctl_err("`peer remove --save' finds the file that defines the peer: no "
			"`--save-to'");
		return -1;
	}
	a->save |= a->save_to != NULL;
	return n;
}

static bool positional_ok(int argc, const char *argv[])
{
	for (int i = 1; i < 3 && i < argc; i++) {
		if (is_add_opt(argv[i]) || !strncmp(argv[i], "--", 2)) {
			ctl_err("Misplaced argument `%s': give `peer %s <interface> <public key>' "
				"first",
				argv[i], argv[0]);
			return false;
		}
	}
	return true;
}

/* argv without --save: add|remove IF KEY [options]. Fills a; false after the error line. */
static bool parse_positional(struct peer_change *a, int argc, const char *argv[])
{
	struct cfg_peer *p;

	if (!positional_ok(argc, argv))
		return false;
	if (argc < 3) {
		fputs(peer_usage_text, stderr);
		return false;
	}
	a->ifname = argv[1];
	if (!ctl_parse_ifname(a->ifname))
		return false;
	p = cfg_device_add_peer(&a->cfg);
	if (!p) {
		ctl_err("Out of memory");
		return false;
	}
	if (!ctl_parse_pubkey(p->public_key, argv[2]))
		return false;
	if (!strcmp(argv[0], "add"))
		return parse_add_opts(a, p, argc - 3, argv + 3);
	p->flags = CFG_PEER_REMOVE_ME;
	if (argc > 3) {
		ctl_err("Invalid argument: `%s'", argv[3]);
		return false;
	}
	return true;
}

/* Whether the interface has a peer with this key; -errno after the error line. */
static int peer_exists(const char *ifname, const uint8_t *key)
{
	struct uapi_state st = { 0 };
	int ret = uapi_client_get(ifname, &st);

	if (ret < 0) {
		ctl_uapi_err("access interface", ifname, ret);
		return ret;
	}
	ret = cfg_device_find_peer(&st.cfg, key) != NULL;
	uapi_state_clear(&st);
	return ret;
}

/* argv: add|remove IF KEY [options], --save anywhere. Fills a; false after the error line. */
static bool parse_change(struct peer_change *a, int argc, const char *argv[])
{
	const char **args = calloc((size_t)argc + 1, sizeof(*args));
	bool ok;

	if (!args) {
		ctl_err("Out of memory");
		return false;
	}
	memcpy(args, argv, (size_t)argc * sizeof(*args));
	argc = take_save(a, argc, args);
	ok = argc >= 0 && parse_positional(a, argc, args);
	free(args);
	return ok;
}

static int peer_change_main(int argc, const char *argv[])
{
	struct peer_change a;
	char b64[KEY_B64_LEN + 1];
	int ret = 1, err;

	memset(&a, 0, sizeof(a));
	if (!parse_change(&a, argc, argv))
		goto out;
	if (a.save && !peer_save_check(&a))
		goto out;
	if (a.cfg.peers[0].flags & CFG_PEER_REMOVE_ME) {
		err = peer_exists(a.ifname, a.cfg.peers[0].public_key);
		if (err < 0)
			goto out;
		if (!err) {
			key_to_base64(b64, a.cfg.peers[0].public_key);
			ctl_err("Interface `%s' has no peer `%s'", a.ifname, b64);
			goto out;
		}
	}
	err = uapi_client_set(a.ifname, &a.cfg);
	if (err < 0) {
		ctl_uapi_err("modify interface", a.ifname, err);
		goto out;
	}
	ret = a.save && !peer_save(&a) ? 1 : 0;
out:
	cfg_device_clear(&a.cfg);
	return ret;
}

/* One line: key, endpoint, allowed IPs, handshake age, transfer; tab-separated. */
static void list_peer(FILE *f, const struct cfg_peer *p, const struct uapi_peer_state *ps,
		      time_t now)
{
	char text[PEER_TEXT_MAX], rx[PEER_TEXT_MAX];

	key_to_base64(text, p->public_key);
	fprintf(f, "%s\t", text);
	if (p->flags & CFG_PEER_HAS_ENDPOINT)
		ctl_endpoint_text(text, sizeof(text), &p->endpoint);
	fprintf(f, "%s\t", p->flags & CFG_PEER_HAS_ENDPOINT ? text : "(none)");
	for (size_t i = 0; i < p->allowedips_len; i++) {
		ctl_allowedip_text(text, sizeof(text), &p->allowedips[i]);
		fprintf(f, "%s%s", i ? "," : "", text);
	}
	fputs(p->allowedips_len ? "\t" : "(none)\t", f);
	if (ps->last_handshake_sec)
		ctl_ago(text, sizeof(text), ps->last_handshake_sec, now);
	ctl_tprintf(f, false, "%s\t", ps->last_handshake_sec ? text : "never");
	ctl_bytes(rx, sizeof(rx), ps->rx_bytes);
	ctl_bytes(text, sizeof(text), ps->tx_bytes);
	ctl_tprintf(f, false, "%s received, %s sent\n", rx, text);
}

void peer_list_write(FILE *f, const struct uapi_state *st, time_t now)
{
	for (size_t i = 0; i < st->cfg.peers_len; i++)
		list_peer(f, &st->cfg.peers[i], &st->peer_state[i], now);
}

static int peer_list_main(int argc, const char *argv[])
{
	struct uapi_state st = { 0 };
	int ret;

	if (argc != 2) {
		fputs(peer_usage_text, stderr);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]))
		return 1;
	ret = uapi_client_get(argv[1], &st);
	if (ret < 0) {
		ctl_uapi_err("access interface", argv[1], ret);
		return 1;
	}
	peer_list_write(stdout, &st, time(NULL));
	uapi_state_clear(&st);
	return 0;
}

int peer_main(int argc, const char *argv[])
{
	if (argc >= 2 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "remove")))
		return peer_change_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return peer_list_main(argc - 1, argv + 1);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		fputs(peer_usage_text, stdout);
		return 0;
	}
	fputs(peer_usage_text, stderr);
	return 1;
}
