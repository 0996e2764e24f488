/* SPDX-License-Identifier: MIT */
/* Isolate and Reach as one nftables table of wgd's own (see reach.h). */
#include "wgd/reach.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crypto/key.h"
#include "wgd/conf.h"
#include "wgd/firewall.h"
#include "wgd/log.h"

enum {
	REACH_OUT_MAX = 512,	  /* nft's error text we keep */
	REACH_JSON_MAX = 1 << 20, /* a listing: about 200 bytes per peer and prefix */
};

/* A growing string; on allocation failure it stays failed and says so at the end. */
struct text {
	char *s;
	size_t len, cap;
	bool is_failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2 && !t->is_failed; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->is_failed = true;
		} else if (t->s && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		} else {
			size_t cap = (t->cap + (size_t)n + 1) * 2;
			char *p = realloc(t->s, cap);

			if (!p)
				t->is_failed = true;
			else {
				t->s = p;
				t->cap = cap;
			}
		}
	}
}

static const char *fam_word(int family)
{
	return family == AF_INET ? "ip" : "ip6";
}

static void put_prefix(struct text *t, int family, const void *addr, unsigned int cidr)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		ip[0] = '\0';
	put(t, "%s/%u", ip, cidr);
}

/* Link names may hold almost any byte; nft's quoting has no escape for these. */
static bool nft_safe_name(const char *s)
{
	return *s && !strpbrk(s, "\"\\\n") && strlen(s) < 16;
}

/* The config's Reach for a running peer, by public key; NULL for a peer c lacks. */
static const struct conf_peer_extra *peer_reach(const struct conf *c, const uint8_t *key)
{
	for (size_t i = 0; i < c->dev.peers_len; i++)
		if (!memcmp(c->dev.peers[i].public_key, key, KEY_LEN))
			return &c->peer_extra[i];
	return NULL;
}

/* Whether peer i gets a chain: it has Reach, or Isolate blocks it. */
static bool is_restricted(const struct conf *c, const struct cfg_peer *p)
{
	const struct conf_peer_extra *x = peer_reach(c, p->public_key);

	return !(p->flags & CFG_PEER_REMOVE_ME) && (c->isolate || (x && x->reach_len));
}

static bool is_wanted(const struct conf *c, const struct cfg_device *peers)
{
	if (c->isolate)
		return true;
	for (size_t i = 0; i < peers->peers_len; i++)
		if (is_restricted(c, &peers->peers[i]))
			return true;
	return false;
}

static void put_sets(struct text *t, size_t n, const struct conf_peer_extra *x)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t f = 0; f < 2; f++) {
		const char *sep = "";

		if (!x)
			return;
		for (size_t j = 0; j < x->reach_len; j++) {
			if (x->reach[j].family != families[f])
				continue;
			if (!*sep)
				put(t,
				    "\tset reach-%zu-%s {\n\t\ttype %s_addr\n\t\tflags interval\n"
				    "\t\tauto-merge\n\t\telements = { ",
				    n, f ? "v6" : "v4", f ? "ipv6" : "ipv4");
			put(t, "%s", sep);
			put_prefix(t, families[f], &x->reach[j].ip6, x->reach[j].cidr);
			sep = ", ";
		}
		if (*sep)
			put(t, " }\n\t}\n");
	}
}

static bool has_family(const struct conf_peer_extra *x, int family)
{
	for (size_t j = 0; x && j < x->reach_len; j++)
		if (x->reach[j].family == family)
			return true;
	return false;
}

static void put_peer(struct text *t, size_t n, const struct cfg_peer *p,
		     const struct conf_peer_extra *x)
{
	char b64[KEY_B64_LEN + 1];

	key_to_base64(b64, p->public_key);
	put(t, "\tcounter refused-%zu {\n\t\tcomment \"%s\"\n\t}\n", n, b64);
	put_sets(t, n, x);
	put(t, "\tchain peer-%zu {\n", n);
	if (has_family(x, AF_INET))
		put(t, "\t\tip daddr @reach-%zu-v4 accept\n", n);
	if (has_family(x, AF_INET6))
		put(t, "\t\tip6 daddr @reach-%zu-v6 accept\n", n);
	put(t, "\t\tcounter name \"refused-%zu\" drop\n\t}\n", n);
}

struct source {
	const struct cfg_allowedip *aip;
	size_t peer; /* its chain's number */
};

/* IPv4 first, then longest prefix first (the trie's choice), then address, then peer. */
static int source_cmp(const void *pa, const void *pb)
{
	const struct source *a = pa, *b = pb;
	int r;

	if (a->aip->family != b->aip->family)
		return a->aip->family == AF_INET ? -1 : 1;
	if (a->aip->cidr != b->aip->cidr)
		return a->aip->cidr > b->aip->cidr ? -1 : 1;
	r = memcmp(&a->aip->ip6, &b->aip->ip6, a->aip->family == AF_INET ? 4 : 16);
	if (r)
		return r;
	return a->peer < b->peer ? -1 : a->peer > b->peer;
}

/* The forward chain: each restricted peer's source prefixes jump to its chain. */
static void put_forward(struct text *t, const char *ifname, const struct conf *c,
			const struct cfg_device *peers)
{
	struct source *src = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < peers->peers_len; i++) {
		const struct cfg_peer *p = &peers->peers[i];

		if (!is_restricted(c, p))
			continue;
		for (size_t j = 0; j < p->allowedips_len; j++) {
			if (p->allowedips[j].is_removal)
				continue;
			if (n == cap) {
				struct source *q = realloc(src, (cap = cap * 2 + 8) * sizeof(*q));

				if (!q) {
					t->is_failed = true;
					free(src);
					return;
				}
				src = q;
			}
			src[n++] = (struct source){ .aip = &p->allowedips[j], .peer = i };
		}
	}
	if (n)
		qsort(src, n, sizeof(*src), source_cmp);
	put(t,
	    "\tchain forward {\n"
	    "\t\ttype filter hook forward priority filter; policy accept;\n"
	    "\t\tiifname != \"%s\" accept\n"
	    "\t\tct state established,related accept\n",
	    ifname);
	for (size_t k = 0; k < n; k++) {
		put(t, "\t\t%s saddr ", fam_word(src[k].aip->family));
		put_prefix(t, src[k].aip->family, &src[k].aip->ip6, src[k].aip->cidr);
		put(t, " jump peer-%zu\n", src[k].peer);
	}
	if (c->isolate)
		put(t, "\t\tcounter drop\n");
	put(t, "\t}\n");
	free(src);
}

int reach_script(char **out, const char *ifname, const struct conf *c,
		 const struct cfg_device *peers)
{
	struct text t = { 0 };

	*out = NULL;
	if (!nft_safe_name(ifname))
		return -EINVAL;
	if (!is_wanted(c, peers))
		return 0;
	/* declared first, so the delete succeeds on a first start: one transaction */
	put(&t,
	    "table inet wgd-reach-%1$s {}\ndelete table inet wgd-reach-%1$s\n"
	    "table inet wgd-reach-%1$s {\n",
	    ifname);
	for (size_t i = 0; i < peers->peers_len; i++)
		if (is_restricted(c, &peers->peers[i]))
			put_peer(&t, i, &peers->peers[i],
				 peer_reach(c, peers->peers[i].public_key));
	put_forward(&t, ifname, c, peers);
	put(&t, "}\n");
	if (t.is_failed) {
		free(t.s);
		return -ENOMEM;
	}
	*out = t.s;
	return 0;
}

/* One nft transaction; 0 or -errno after logging nft's first line. */
static int apply(const char *ifname, const char *script, const char *what)
{
	char out[REACH_OUT_MAX];
	int ret = firewall_nft(script, out, sizeof(out));

	out[strcspn(out, "\n")] = '\0';
	if (ret == 0)
		return 0;
	if (ret > 0 && WIFEXITED(ret) && WEXITSTATUS(ret) == 127)
		log_error("Cannot %s the reach table of %s: nft not found (install nftables)", what,
			  ifname);
	else
		log_error("Cannot %s the reach table of %s: %s", what, ifname,
			  ret < 0 ? strerror(-ret)
			  : *out  ? out
				  : "nft failed");
	return ret < 0 ? ret : -EIO;
}

int reach_sync(struct reach *r, const char *ifname, const struct conf *c,
	       const struct cfg_device *peers)
{
	char *script;
	int ret = reach_script(&script, ifname, c, peers);

	if (ret < 0) {
		log_error("Cannot write the reach table of %s: %s", ifname, strerror(-ret));
		return ret;
	}
	if (!script) {
		reach_remove(r, ifname);
		return 0;
	}
	if (r->applied && !strcmp(r->applied, script)) {
		free(script);
		return 0;
	}
	ret = apply(ifname, script, "install");
	if (ret < 0) {
		free(script);
		return ret;
	}
	log_info("Installed the reach table of %s (table inet wgd-reach-%s)", ifname, ifname);
	free(r->applied);
	r->applied = script;
	return 0;
}

void reach_remove(struct reach *r, const char *ifname)
{
	char script[128];

	if (!r->applied)
		return;
	snprintf(script, sizeof(script),
		 "table inet wgd-reach-%1$s {}\ndelete table inet wgd-reach-%1$s\n", ifname);
	(void)apply(ifname, script, "remove");
	free(r->applied);
	r->applied = NULL;
}

/* The value after "key": in obj (up to end), as a string or a number. */
static const char *json_field(const char *obj, const char *end, const char *key)
{
	const char *p = obj;
	size_t klen = strlen(key);

	while ((p = strstr(p, key)) && p < end) {
		p += klen;
		while (*p == ' ')
			p++;
		return p < end ? p : NULL;
	}
	return NULL;
}

size_t reach_parse_counters(const char *json,
			    void (*fn)(void *ctx, const char *key, uint64_t packets), void *ctx)
{
	const char *p = json, *end, *comment, *packets;
	char key[KEY_B64_LEN + 1];
	size_t found = 0;

	/* nft's objects are flat here: {"counter": {..., "comment": "K", "packets": N, ...}} */
	while ((p = strstr(p, "{\"counter\": {"))) {
		p += strlen("{\"counter\": {");
		end = strchr(p, '}');
		if (!end)
			break;
		comment = json_field(p, end, "\"comment\":");
		packets = json_field(p, end, "\"packets\":");
		if (comment && packets && *comment == '"' && strlen(comment) > KEY_B64_LEN + 1 &&
		    comment[KEY_B64_LEN + 1] == '"') {
			memcpy(key, comment + 1, KEY_B64_LEN);
			key[KEY_B64_LEN] = '\0';
			fn(ctx, key, strtoull(packets, NULL, 10));
			found++;
		}
		p = end;
	}
	return found;
}

struct counter_find {
	const char *key;
	uint64_t packets;
};

static void counter_match(void *ctx, const char *key, uint64_t packets)
{
	struct counter_find *f = ctx;

	if (!strcmp(f->key, key))
		f->packets += packets;
}

/* The table's listing in JSON (malloc'd), or NULL when there is none. */
static char *list_table(const char *ifname)
{
	char table[32], *json = malloc(REACH_JSON_MAX);

	if (!json || !nft_safe_name(ifname)) {
		free(json);
		return NULL;
	}
	snprintf(table, sizeof(table), "wgd-reach-%s", ifname);
	if (firewall_nft_list_json("inet", table, json, REACH_JSON_MAX) != 0) {
		free(json);
		return NULL;
	}
	return json;
}

int reach_report(const struct reach *r, const char *ifname, const struct conf *c, char *buf,
		 size_t len)
{
	char *json, b64[KEY_B64_LEN + 1];
	struct text t = { 0 };
	int ret = 0;

	buf[0] = '\0';
	if (!r->applied)
		return 0; /* nothing restricts: `wgctl show' stays exactly `wg show' */
	json = list_table(ifname);
	for (size_t i = 0; i < c->dev.peers_len; i++) {
		const struct conf_peer_extra *x = &c->peer_extra[i];
		struct counter_find f = { .key = b64 };

		key_to_base64(b64, c->dev.peers[i].public_key);
		if (json)
			(void)reach_parse_counters(json, counter_match, &f);
		put(&t, "%s %" PRIu64 " ", b64, f.packets);
		for (size_t j = 0; j < x->reach_len; j++) {
			put(&t, "%s", j ? "," : "");
			put_prefix(&t, x->reach[j].family, &x->reach[j].ip6, x->reach[j].cidr);
		}
		put(&t, "%s\n", x->reach_len ? "" : c->isolate ? "none" : "any");
	}
	free(json);
	if (t.is_failed)
		ret = -ENOMEM;
	else if (t.s && t.len >= len)
		ret = -ENOSPC;
	snprintf(buf, len, "%s", t.s ? t.s : "");
	free(t.s);
	return ret;
}
