/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the configuration file parser, conf_parse_string() (wg-quick's format plus
 * our keys, through inih), on the fuzzer's bytes as a whole file. Endpoints resolve
 * numerically only (numeric_dns.h); key files named by a fuzzed path are read like any
 * file, so run it with stdin at /dev/null (smoke.sh does).
 *
 * Checks, beyond the sanitizers: a failure leaves *out cleared and reports one line
 * "NAME:LINE: message" or "NAME: message" naming the file; a success, written back with
 * conf_write_wg() (the `wg showconf' subset), parses again to the same wg configuration:
 * keys, port, fwmark, peers in order with their preshared keys, allowed IPs in order,
 * endpoints and keepalives.
 */
#include <stdio.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/numeric_dns.h"
#include "wgd/conf.h"

#define CF_NAME "fuzz.conf"

/* what the last input did, for the regression test */
static struct {
	int ret;
	size_t peers;
	char err[512];
} cf_stats;

static void cf_same_peer(const struct cfg_peer *a, const struct cfg_peer *b, size_t i)
{
	FZ_CHECK(!memcmp(a->public_key, b->public_key, 32), "peer %zu: public key", i);
	FZ_CHECK(!!(a->flags & CFG_PEER_HAS_PRESHARED_KEY && !key_is_zero(a->preshared_key)) ==
				 !!(b->flags & CFG_PEER_HAS_PRESHARED_KEY) &&
			 (!(b->flags & CFG_PEER_HAS_PRESHARED_KEY) ||
			  !memcmp(a->preshared_key, b->preshared_key, 32)),
		 "peer %zu: preshared key", i);
	FZ_CHECK(a->persistent_keepalive_s == b->persistent_keepalive_s, "peer %zu: keepalive", i);
	FZ_CHECK((a->flags & CFG_PEER_HAS_ENDPOINT) == (b->flags & CFG_PEER_HAS_ENDPOINT),
		 "peer %zu: endpoint flag", i);
	if (a->flags & CFG_PEER_HAS_ENDPOINT)
		FZ_CHECK(!memcmp(&a->endpoint, &b->endpoint, sizeof(a->endpoint)),
			 "peer %zu: endpoint", i);
	FZ_CHECK(a->allowedips_len == b->allowedips_len, "peer %zu: %zu allowed IPs, then %zu", i,
		 a->allowedips_len, b->allowedips_len);
	for (size_t j = 0; j < a->allowedips_len; j++) {
		const struct cfg_allowedip *x = &a->allowedips[j], *y = &b->allowedips[j];

		FZ_CHECK(x->family == y->family && x->cidr == y->cidr &&
				 !memcmp(&x->ip6, &y->ip6, x->family == AF_INET ? 4 : 16),
			 "peer %zu: allowed IP %zu", i, j);
	}
}

/* Written back and parsed again, the wg part must not change. */
static void cf_round_trip(const struct conf *c)
{
	struct conf again;
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		abort();
	FZ_CHECK(conf_write_wg(c, f) == 0, "conf_write_wg failed");
	if (fclose(f))
		abort();
	ret = conf_parse_string(&again, CF_NAME, text, len, err, sizeof(err));
	FZ_CHECK(ret == 0, "the written file does not parse: %s\n%s", err, text);
	FZ_CHECK(!memcmp(c->dev.private_key, again.dev.private_key, 32) &&
			 c->dev.listen_port == again.dev.listen_port &&
			 c->dev.fwmark == again.dev.fwmark,
		 "interface values changed:\n%s", text);
	FZ_CHECK(c->dev.peers_len == again.dev.peers_len, "%zu peers, then %zu", c->dev.peers_len,
		 again.dev.peers_len);
	for (size_t i = 0; i < c->dev.peers_len; i++)
		cf_same_peer(&c->dev.peers[i], &again.dev.peers[i], i);
	conf_clear(&again);
	wipe(text, len);
	free(text);
}

static void fz_conf_one(const uint8_t *data, size_t size)
{
	static const struct conf zero;
	char err[512];
	struct conf c;
	int ret;

	fz_begin(8);
	memset(err, 0x55, sizeof(err));
	ret = conf_parse_string(&c, CF_NAME, (const char *)data, size, err, sizeof(err));
	cf_stats.ret = ret;
	cf_stats.peers = ret < 0 ? 0 : c.dev.peers_len;
	memcpy(cf_stats.err, err, sizeof(err));
	if (ret < 0) {
		FZ_CHECK(!memcmp(&c, &zero, sizeof(c)), "a failed parse left data behind");
		FZ_CHECK(memchr(err, '\0', sizeof(err)) && !strncmp(err, CF_NAME ":", 10),
			 "error line: %.80s", err);
		return;
	}
	cf_round_trip(&c);
	conf_clear(&c);
}

FZ_ENTRY(fz_conf_one)
