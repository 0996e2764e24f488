/* SPDX-License-Identifier: MIT */
/*
 * `wgctl show ... --json`: one object per interface (an array of them for `all`), with a
 * fixed key order and two-space indentation. The schema is documented in wgctl(8);
 * private and preshared keys appear only with WG_HIDE_KEYS=never, like the report's.
 */
#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "wgd/plan.h"

static void json_key(FILE *f, const char *indent, const char *name, const uint8_t *key, bool has)
{
	char b64[KEY_B64_LEN + 1];

	fprintf(f, "%s\"%s\": ", indent, name);
	if (has) {
		key_to_base64(b64, key);
		json_write_str(f, b64);
		wipe(b64, sizeof(b64));
	} else {
		fputs("null", f);
	}
	fputs(",\n", f);
}

static void json_peer(FILE *f, const struct cfg_peer *p, const struct uapi_peer_state *ps,
		      bool show_keys, time_t now)
{
	char text[4096];
	uint64_t refused;
	bool has_ep = (p->flags & CFG_PEER_HAS_ENDPOINT) &&
		      (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6);

	fputs("    {\n", f);
	json_key(f, "      ", "public_key", p->public_key, true);
	if (show_keys)
		json_key(f, "      ", "preshared_key", p->preshared_key,
			 p->flags & CFG_PEER_HAS_PRESHARED_KEY);
	fputs("      \"endpoint\": ", f);
	if (has_ep) {
		ctl_endpoint_text(text, sizeof(text), &p->endpoint);
		json_write_str(f, text);
	} else {
		fputs("null", f);
	}
	ctl_json_endpoints(f, p, ps, json_write_str);
	fputs(",\n      \"allowed_ips\": [", f);
	for (size_t i = 0; i < p->allowedips_len; i++) {
		ctl_allowedip_text(text, sizeof(text), &p->allowedips[i]);
		fputs(i ? ", " : "", f);
		json_write_str(f, text);
	}
	fputs("]", f);
	if (ctl_reach_of(p->public_key, &refused, text, sizeof(text))) {
		fputs(",\n      \"reach\": [", f);
		const char *sep = "";

		for (char *item = strtok(text, ","); item; item = strtok(NULL, ",")) {
			fputs(sep, f);
			json_write_str(f, item);
			sep = ", ";
		}
		fprintf(f, "],\n      \"refused_packets\": %" PRIu64, refused);
	}
	fprintf(f,
		",\n      \"latest_handshake\": %" PRIu64
		",\n      \"up\": %s,\n      \"rx_bytes\": %" PRIu64
		",\n      \"tx_bytes\": %" PRIu64 ",\n      \"persistent_keepalive\": %u\n    }",
		ps->last_handshake_sec, ctl_peer_up(ps->last_handshake_sec, now) ? "true" : "false",
		ps->rx_bytes, ps->tx_bytes, p->persistent_keepalive_s);
}

void show_json(FILE *f, const char *ifname, const struct uapi_state *st, bool show_keys, time_t now)
{
	const struct cfg_device *cfg = &st->cfg;
	bool has_key = cfg->flags & CFG_DEV_HAS_PRIVATE_KEY;
	uint8_t pub[KEY_LEN] = { 0 };

	if (has_key && crypto_scalarmult_curve25519_base(pub, cfg->private_key) != 0)
		memset(pub, 0, sizeof(pub));
	fputs("{\n  \"interface\": ", f);
	json_write_str(f, ifname);
	fputs(",\n", f);
	json_key(f, "  ", "public_key", pub, has_key);
	if (show_keys)
		json_key(f, "  ", "private_key", cfg->private_key, has_key);
	fprintf(f, "  \"listen_port\": %u,\n  \"fwmark\": %" PRIu32 ",\n  \"peers\": [",
		cfg->listen_port, cfg->fwmark);
	for (size_t i = 0; i < cfg->peers_len; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_peer(f, &cfg->peers[i], &st->peer_state[i], show_keys, now);
	}
	fputs(cfg->peers_len ? "\n  ]\n}" : "]\n}", f);
}
