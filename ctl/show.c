/* SPDX-License-Identifier: MIT */
/*
 * wgctl show [IF | all | interfaces] [FIELD | dump] [--json]: wg(8)'s show, byte for byte
 * (wireguard-tools show.c), over the UAPI only, plus a JSON rendering. The report sorts
 * peers by latest handshake, newest first, never-handshaken last, keeping the daemon's
 * order among equals; the field and dump forms keep the daemon's order throughout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "ctl/term.h"

enum { SHOW_TEXT_MAX = 1024 };

static const char show_usage_text[] =
	"Usage: " PROG_NAME " show { <interface> | all | interfaces } [public-key | private-key | "
	"listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | "
	"latest-handshakes | transfer | persistent-keepalive | dump] [--json]\n";

/* The device's public key, derived as wg derives it; false when it has no private key. */
static bool public_key(uint8_t pub[static KEY_LEN], const struct cfg_device *cfg)
{
	if (!(cfg->flags & CFG_DEV_HAS_PRIVATE_KEY))
		return false;
	if (crypto_scalarmult_curve25519_base(pub, cfg->private_key) != 0)
		memset(pub, 0, KEY_LEN);
	return true;
}

static const char *b64(char buf[static KEY_B64_LEN + 1], const uint8_t key[static KEY_LEN])
{
	key_to_base64(buf, key);
	return buf;
}

/* "(none)" when absent, else the key itself (the field and dump forms never hide keys). */
static const char *maybe_key(char buf[static KEY_B64_LEN + 1], const uint8_t *key, bool has)
{
	return has ? b64(buf, key) : "(none)";
}

static bool has_endpoint(const struct cfg_peer *p)
{
	return (p->flags & CFG_PEER_HAS_ENDPOINT) &&
	       (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6);
}

/* --- the report ------------------------------------------------------------------------ */

/* Newest handshake first, never last; equal ones keep their order (index tiebreak). */
static int cmp_handshake(const void *a, const void *b, void *states)
{
	const struct uapi_peer_state *s = states;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct uapi_peer_state *pa = &s[ia], *pb = &s[ib];
	bool za = !pa->last_handshake_sec && !pa->last_handshake_nsec;
	bool zb = !pb->last_handshake_sec && !pb->last_handshake_nsec;

	if (za != zb)
		return za ? 1 : -1;
	if (pa->last_handshake_sec != pb->last_handshake_sec)
		return pa->last_handshake_sec > pb->last_handshake_sec ? -1 : 1;
	if (pa->last_handshake_nsec != pb->last_handshake_nsec)
		return pa->last_handshake_nsec > pb->last_handshake_nsec ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

static void pretty_device(const struct show_ctx *c, const char *ifname,
			  const struct cfg_device *cfg)
{
	char buf[KEY_B64_LEN + 1];
	uint8_t pub[KEY_LEN];

	ctl_tprintf(c->out, c->color, TERM_RESET);
	ctl_tprintf(c->out, c->color,
		    TERM_FG_GREEN TERM_BOLD "interface" TERM_RESET ": " TERM_FG_GREEN
					    "%s" TERM_RESET "\n",
		    ifname);
	if (public_key(pub, cfg)) {
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "public key" TERM_RESET ": %s\n",
			    b64(buf, pub));
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "private key" TERM_RESET ": %s\n",
			    c->show_keys ? b64(buf, cfg->private_key) : "(hidden)");
	}
	if (cfg->listen_port)
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "listening port" TERM_RESET ": %u\n",
			    cfg->listen_port);
	if (cfg->fwmark)
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "fwmark" TERM_RESET ": 0x%x\n",
			    cfg->fwmark);
	wipe(buf, sizeof(buf));
}

static void pretty_allowedips(const struct show_ctx *c, const struct cfg_peer *p)
{
	char ip[INET6_ADDRSTRLEN + 8];

	ctl_tprintf(c->out, c->color, "  " TERM_BOLD "allowed ips" TERM_RESET ": ");
	if (!p->allowedips_len)
		ctl_tprintf(c->out, c->color, "(none)\n");
	for (size_t i = 0; i < p->allowedips_len; i++) {
		ctl_allowedip_text(ip, sizeof(ip), &p->allowedips[i]);
		*strrchr(ip, '/') = '\0';
		ctl_tprintf(c->out, c->color, "%s" TERM_FG_CYAN "/" TERM_RESET "%u%s", ip,
			    p->allowedips[i].cidr, i + 1 < p->allowedips_len ? ", " : "\n");
	}
}

static void pretty_peer(const struct show_ctx *c, const struct cfg_peer *p,
			const struct uapi_peer_state *ps)
{
	char buf[SHOW_TEXT_MAX], rx[SHOW_TEXT_MAX];
	uint64_t refused;

	ctl_tprintf(c->out, c->color,
		    TERM_FG_YELLOW TERM_BOLD "peer" TERM_RESET ": " TERM_FG_YELLOW "%s" TERM_RESET
					     "\n",
		    b64(buf, p->public_key));
	if (p->flags & CFG_PEER_HAS_PRESHARED_KEY)
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "preshared key" TERM_RESET ": %s\n",
			    c->show_keys ? b64(buf, p->preshared_key) : "(hidden)");
	if (has_endpoint(p)) {
		ctl_endpoint_text(buf, sizeof(buf), &p->endpoint);
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "endpoint" TERM_RESET ": %s", buf);
		if (ctl_endpoint_name(p)) /* wgd.conf's name for it (endpoints.c) */
			ctl_tprintf(c->out, c->color, " (%s)", ctl_endpoint_name(p));
		ctl_tprintf(c->out, c->color, "\n");
	}
	ctl_show_endpoints(c, p, ps);
	pretty_allowedips(c, p);
	if (ctl_reach_of(p->public_key, &refused, buf, sizeof(buf)))
		ctl_tprintf(c->out, c->color,
			    "  " TERM_BOLD "reach" TERM_RESET ": %s (%" PRIu64 " refused)\n", buf,
			    refused);
	if (ps->last_handshake_sec) {
		ctl_ago(buf, sizeof(buf), ps->last_handshake_sec, c->now);
		ctl_tprintf(c->out, c->color, "  " TERM_BOLD "latest handshake" TERM_RESET ": %s\n",
			    buf);
	}
	if (ps->rx_bytes || ps->tx_bytes) {
		ctl_bytes(rx, sizeof(rx), ps->rx_bytes);
		ctl_bytes(buf, sizeof(buf), ps->tx_bytes);
		ctl_tprintf(c->out, c->color,
			    "  " TERM_BOLD "transfer" TERM_RESET ": %s received, %s sent\n", rx,
			    buf);
	}
	if (p->persistent_keepalive_s) {
		ctl_pretty_time(buf, sizeof(buf), p->persistent_keepalive_s);
		ctl_tprintf(c->out, c->color,
			    "  " TERM_BOLD "persistent keepalive" TERM_RESET ": every %s\n", buf);
	}
	wipe(buf, sizeof(buf));
}

void show_pretty(const struct show_ctx *c, const char *ifname, const struct uapi_state *st)
{
	const struct cfg_device *cfg = &st->cfg;
	size_t *order;

	pretty_device(c, ifname, cfg);
	if (!cfg->peers_len)
		return;
	order = calloc(cfg->peers_len, sizeof(*order));
	for (size_t i = 0; i < cfg->peers_len; i++) {
		if (order)
			order[i] = i;
	}
	if (order) { /* out of memory: the daemon's order, as wg falls back */
		qsort_r(order, cfg->peers_len, sizeof(*order), cmp_handshake, st->peer_state);
	}
	ctl_tprintf(c->out, c->color, "\n");
	for (size_t i = 0; i < cfg->peers_len; i++) {
		size_t k = order ? order[i] : i;

		pretty_peer(c, &cfg->peers[k], &st->peer_state[k]);
		if (i + 1 < cfg->peers_len)
			ctl_tprintf(c->out, c->color, "\n");
	}
	free(order);
}

/* --- fields and dump ------------------------------------------------------------------- */

static void prefix(FILE *f, const char *ifname, bool with_interface)
{
	if (with_interface)
		fprintf(f, "%s\t", ifname);
}

static void put_allowedips(FILE *f, const struct cfg_peer *p, char sep, char end)
{
	char ip[INET6_ADDRSTRLEN + 8];

	if (!p->allowedips_len)
		fprintf(f, "(none)%c", end);
	for (size_t i = 0; i < p->allowedips_len; i++) {
		ctl_allowedip_text(ip, sizeof(ip), &p->allowedips[i]);
		fprintf(f, "%s%c", ip, i + 1 < p->allowedips_len ? sep : end);
	}
}

static void put_endpoint(FILE *f, const struct cfg_peer *p, char end)
{
	char ep[SHOW_TEXT_MAX];

	if (has_endpoint(p))
		ctl_endpoint_text(ep, sizeof(ep), &p->endpoint);
	fprintf(f, "%s%c", has_endpoint(p) ? ep : "(none)", end);
}

static void put_fwmark(FILE *f, uint32_t fwmark)
{
	if (fwmark)
		fprintf(f, "0x%x\n", fwmark);
	else
		fprintf(f, "off\n");
}

static void put_keepalive(FILE *f, uint16_t s)
{
	if (s)
		fprintf(f, "%u\n", s);
	else
		fprintf(f, "off\n");
}

static void dump(FILE *f, const char *ifname, const struct uapi_state *st, bool with_if)
{
	const struct cfg_device *cfg = &st->cfg;
	char k[KEY_B64_LEN + 1];
	uint8_t pub[KEY_LEN];
	bool has_pub = public_key(pub, cfg);

	prefix(f, ifname, with_if);
	fprintf(f, "%s\t", maybe_key(k, cfg->private_key, cfg->flags & CFG_DEV_HAS_PRIVATE_KEY));
	fprintf(f, "%s\t%u\t", maybe_key(k, pub, has_pub), cfg->listen_port);
	put_fwmark(f, cfg->fwmark);
	for (size_t i = 0; i < cfg->peers_len; i++) {
		const struct cfg_peer *p = &cfg->peers[i];
		const struct uapi_peer_state *ps = &st->peer_state[i];

		prefix(f, ifname, with_if);
		fprintf(f, "%s\t", b64(k, p->public_key));
		fprintf(f, "%s\t",
			maybe_key(k, p->preshared_key, p->flags & CFG_PEER_HAS_PRESHARED_KEY));
		put_endpoint(f, p, '\t');
		put_allowedips(f, p, ',', '\t');
		fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", ps->last_handshake_sec,
			ps->rx_bytes, ps->tx_bytes);
		put_keepalive(f, p->persistent_keepalive_s);
	}
	wipe(k, sizeof(k));
}

/* The device-wide fields: false when field is not one of them. */
static bool device_field(FILE *f, const char *ifname, const struct cfg_device *cfg,
			 const char *field, bool with_if)
{
	char k[KEY_B64_LEN + 1];
	uint8_t pub[KEY_LEN];
	bool has_pub = public_key(pub, cfg);

	if (!strcmp(field, "public-key")) {
		prefix(f, ifname, with_if);
		fprintf(f, "%s\n", maybe_key(k, pub, has_pub));
	} else if (!strcmp(field, "private-key")) {
		prefix(f, ifname, with_if);
		fprintf(f, "%s\n",
			maybe_key(k, cfg->private_key, cfg->flags & CFG_DEV_HAS_PRIVATE_KEY));
		wipe(k, sizeof(k));
	} else if (!strcmp(field, "listen-port")) {
		prefix(f, ifname, with_if);
		fprintf(f, "%u\n", cfg->listen_port);
	} else if (!strcmp(field, "fwmark")) {
		prefix(f, ifname, with_if);
		put_fwmark(f, cfg->fwmark);
	} else {
		return false;
	}
	return true;
}

static const char *const peer_fields[] = {
	"endpoints",	  "allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive",
	"preshared-keys", "peers",
};

/* One line of a per-peer field (index into peer_fields). */
static void peer_field(FILE *f, const struct cfg_peer *p, const struct uapi_peer_state *ps,
		       size_t which)
{
	char k[KEY_B64_LEN + 1];

	fprintf(f, "%s%c", b64(k, p->public_key), which == 6 ? '\n' : '\t');
	switch (which) {
	case 0:
		put_endpoint(f, p, '\n');
		break;
	case 1:
		put_allowedips(f, p, ' ', '\n');
		break;
	case 2:
		fprintf(f, "%" PRIu64 "\n", ps->last_handshake_sec);
		break;
	case 3:
		fprintf(f, "%" PRIu64 "\t%" PRIu64 "\n", ps->rx_bytes, ps->tx_bytes);
		break;
	case 4:
		put_keepalive(f, p->persistent_keepalive_s);
		break;
	case 5:
		fprintf(f, "%s\n",
			maybe_key(k, p->preshared_key, p->flags & CFG_PEER_HAS_PRESHARED_KEY));
		wipe(k, sizeof(k));
		break;
	}
}

bool show_field(FILE *f, const char *ifname, const struct uapi_state *st, const char *field,
		bool with_interface)
{
	size_t which;

	if (!strcmp(field, "dump")) {
		dump(f, ifname, st, with_interface);
		return true;
	}
	if (device_field(f, ifname, &st->cfg, field, with_interface))
		return true;
	for (which = 0; which < ARRAY_SIZE(peer_fields); which++) {
		if (!strcmp(field, peer_fields[which]))
			break;
	}
	if (which == ARRAY_SIZE(peer_fields)) {
		ctl_err("Invalid parameter: `%s'", field);
		fputs(show_usage_text, stderr);
		return false;
	}
	for (size_t i = 0; i < st->cfg.peers_len; i++) {
		prefix(f, ifname, with_interface);
		peer_field(f, &st->cfg.peers[i], &st->peer_state[i], which);
	}
	return true;
}

/* --- the subcommand -------------------------------------------------------------------- */

struct show_args {
	const char *target; /* NULL: all */
	const char *field;  /* NULL: the report */
	bool json;
};

static bool parse_show_args(struct show_args *a, int argc, const char *argv[])
{
	int n = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			a->json = true;
		else if (n++ == 0)
			a->target = argv[i];
		else if (n == 2)
			a->field = argv[i];
		else
			return false;
	}
	if (a->target && !strcmp(a->target, "all"))
		a->target = NULL;
	return !(a->json && a->field);
}

enum show_result { SHOW_OK, SHOW_NO_ACCESS, SHOW_BAD_FIELD };

static enum show_result show_one(const struct show_args *a, const char *ifname, bool with_if,
				 bool *first)
{
	struct show_ctx c = { stdout, ctl_color_mode(), ctl_show_keys(), time(NULL) };
	struct uapi_state st = { 0 };
	enum show_result r = SHOW_OK;
	int ret = uapi_client_get(ifname, &st);

	if (ret < 0) {
		ctl_uapi_err("access interface", ifname, ret);
		return SHOW_NO_ACCESS;
	}
	ctl_reach_load(ifname); /* Reach per peer, when a wgd daemon has it */
	if (a->json) {
		fputs(*first ? "" : ",\n", stdout);
		show_json(stdout, ifname, &st, c.show_keys, c.now);
	} else if (a->field) {
		if (!show_field(stdout, ifname, &st, a->field, with_if))
			r = SHOW_BAD_FIELD;
	} else {
		show_pretty(&c, ifname, &st);
	}
	*first = false;
	ctl_reach_unload();
	uapi_state_clear(&st);
	return r;
}

static int show_interfaces(void)
{
	struct uapi_iflist l;
	int ret = uapi_client_list(&l);

	if (ret < 0) {
		ctl_err("Unable to list interfaces: %s", strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < l.len; i++)
		printf("%s%c", l.names[i], i + 1 < l.len ? ' ' : '\n');
	uapi_iflist_clear(&l);
	return 0;
}

/*
 * As wg: the exit status is 0 if any interface could be shown (or there is none), and an
 * unknown field stops at the first interface. Reports are separated by a blank line
 * whenever another interface follows in the list.
 */
static int show_all(const struct show_args *a)
{
	enum show_result r = SHOW_OK;
	struct uapi_iflist l;
	bool first = true;
	int ret = uapi_client_list(&l), status;

	if (ret < 0) {
		ctl_err("Unable to list interfaces: %s", strerror(-ret));
		return 1;
	}
	status = l.len ? 1 : 0;
	if (a->json)
		fputs("[", stdout);
	for (size_t i = 0; i < l.len && r != SHOW_BAD_FIELD; i++) {
		r = show_one(a, l.names[i], true, &first);
		if (r == SHOW_OK)
			status = 0;
		if (!a->json && !a->field && r == SHOW_OK && i + 1 < l.len)
			fputs("\n", stdout);
	}
	if (a->json)
		fputs(first ? "]\n" : "\n]\n", stdout);
	uapi_iflist_clear(&l);
	return r == SHOW_BAD_FIELD ? 1 : status;
}

int show_main(int argc, const char *argv[])
{
	struct show_args a;
	bool first = true;

	if (!parse_show_args(&a, argc, argv)) {
		fputs(show_usage_text, stderr);
		return 1;
	}
	if (a.target &&
	    (!strcmp(a.target, "-h") || !strcmp(a.target, "--help") || !strcmp(a.target, "help"))) {
		fputs(show_usage_text, stdout);
		return 0;
	}
	if (a.target && !strcmp(a.target, "interfaces")) {
		if (a.field || a.json) {
			fputs(show_usage_text, stderr);
			return 1;
		}
		return show_interfaces();
	}
	if (!a.target)
		return show_all(&a);
	if (!ctl_parse_ifname(a.target))
		return 1;
	if (show_one(&a, a.target, false, &first) != SHOW_OK)
		return 1;
	if (a.json)
		fputs("\n", stdout);
	return 0;
}
