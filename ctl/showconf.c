/* SPDX-License-Identifier: MIT */
/*
 * wgctl showconf IF: the running configuration in the config file format, exactly as
 * `wg showconf` prints it (wireguard-tools showconf.c), keys included: the output is meant
 * for `setconf`, so it goes only where the caller sends it.
 */
#include <inttypes.h>
#include <string.h>

#include "crypto/key.h"
#include "ctl/ctl.h"

enum { CONF_TEXT_MAX = 256 };

static void conf_peer(FILE *f, const struct cfg_peer *p)
{
	char text[CONF_TEXT_MAX], b64[KEY_B64_LEN + 1];

	key_to_base64(b64, p->public_key);
	fprintf(f, "[Peer]\nPublicKey = %s\n", b64);
	if (p->flags & CFG_PEER_HAS_PRESHARED_KEY) {
		key_to_base64(b64, p->preshared_key);
		fprintf(f, "PresharedKey = %s\n", b64);
		wipe(b64, sizeof(b64));
	}
	for (size_t i = 0; i < p->allowedips_len; i++) {
		ctl_allowedip_text(text, sizeof(text), &p->allowedips[i]);
		fprintf(f, "%s%s%s", i ? "" : "AllowedIPs = ", text,
			i + 1 < p->allowedips_len ? ", " : "\n");
	}
	if ((p->flags & CFG_PEER_HAS_ENDPOINT) &&
	    (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6)) {
		ctl_endpoint_text(text, sizeof(text), &p->endpoint);
		fprintf(f, "Endpoint = %s\n", text);
	}
	if (p->persistent_keepalive_s)
		fprintf(f, "PersistentKeepalive = %u\n", p->persistent_keepalive_s);
}

void show_conf(FILE *f, const struct uapi_state *st)
{
	const struct cfg_device *cfg = &st->cfg;
	char b64[KEY_B64_LEN + 1];

	fputs("[Interface]\n", f);
	if (cfg->listen_port)
		fprintf(f, "ListenPort = %u\n", cfg->listen_port);
	if (cfg->fwmark)
		fprintf(f, "FwMark = 0x%x\n", cfg->fwmark);
	if (cfg->flags & CFG_DEV_HAS_PRIVATE_KEY) {
		key_to_base64(b64, cfg->private_key);
		fprintf(f, "PrivateKey = %s\n", b64);
		wipe(b64, sizeof(b64));
	}
	fputs("\n", f);
	for (size_t i = 0; i < cfg->peers_len; i++) {
		conf_peer(f, &cfg->peers[i]);
		if (i + 1 < cfg->peers_len)
			fputs("\n", f);
	}
}

int showconf_main(int argc, const char *argv[])
{
	struct uapi_state st = { 0 };
	int ret;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!ctl_parse_ifname(argv[1]))
		return 1;
	ret = uapi_client_get(argv[1], &st);
	if (ret < 0) {
		ctl_uapi_err("access interface", argv[1], ret);
		return 1;
	}
	show_conf(stdout, &st);
	uapi_state_clear(&st);
	return 0;
}
