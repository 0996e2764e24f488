/* SPDX-License-Identifier: MIT */
/*
 * Internal to the config parser (conf.c: lines, sections, inih; conf_keys.c: one parser
 * per key). Nothing outside wgd/conf*.c includes this.
 */
#ifndef WGD_CONF_PARSE_H
#define WGD_CONF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "wgd/conf.h"

enum {
	CONF_MAX_FILE = 64 << 20, /* 130 000 allowed IPs take about 3 MiB */
};

enum conf_section { CONF_SECTION_NONE, CONF_SECTION_INTERFACE, CONF_SECTION_PEER };

/* Keys that may appear once per section; keys sharing a slot exclude each other. */
enum conf_slot {
	CONF_SLOT_PRIVATE_KEY,
	CONF_SLOT_LISTEN_PORT,
	CONF_SLOT_FWMARK,
	CONF_SLOT_MTU,
	CONF_SLOT_TABLE,
	CONF_SLOT_SAVE_CONFIG,
	CONF_SLOT_USER,
	CONF_SLOT_ADMIN_GROUP,
	CONF_SLOT_THREADS,
	CONF_SLOT_PUBLIC_KEY,
	CONF_SLOT_PRESHARED_KEY,
	CONF_SLOT_ENDPOINT,
	CONF_SLOT_KEEPALIVE,
	CONF_SLOT_NAMESPACE,
	CONF_SLOT_VRF,
	CONF_SLOT_ISOLATE,
	CONF_SLOT_COUNT,
	CONF_SLOT_REPEATABLE = CONF_SLOT_COUNT,
};

struct conf_key;

struct conf_parse {
	struct conf *conf;
	const char *name; /* the file, as messages name it */
	char *dir;	  /* owned; where relative key files are, NULL for the cwd */
	const char *text;
	size_t len, pos;
	unsigned int line;
	const char *emit; /* the rest of the current line for inih */
	size_t emit_len;
	bool emitting;
	const char *secret; /* the current line's PrivateKey/PresharedKey value: kept from inih */
	size_t secret_len;
	bool has_private_key_text, has_psk_text;
	enum conf_section section;
	const struct conf_key *key; /* the key being parsed */
	unsigned int section_line, interface_line;
	unsigned int seen[CONF_SLOT_COUNT]; /* line of each once-only key in this section */
	const struct conf_key *seen_key[CONF_SLOT_COUNT];
	char *err, *warn;
	size_t errlen, warnlen;
	int ret; /* 0, or the -errno of the first error */
	enum conf_mode mode;
};

struct conf_key {
	const char *name;
	enum conf_section section;
	enum conf_slot slot;
	bool (*parse)(struct conf_parse *p, const char *value); /* value: non-empty, trimmed */
};

/* The first error wins: "NAME:LINE: message" into p->err, -EINVAL into p->ret. false. */
bool conf_fail(struct conf_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool conf_fail_at(struct conf_parse *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool conf_oom(struct conf_parse *p);
/* Appends one '\n'-terminated line; a full buffer loses the rest. */
void conf_warn_add(char *warn, size_t warnlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void conf_trim(const char **s, const char **e);

/* "addr/cidr" or a bare address into *out (conf_keys.c); false if it is not one. */
bool conf_parse_prefix(const char *item, size_t len, struct conf_prefix *out);
/* Calls fn for each comma-separated item of v (empty items are errors). */
bool conf_each_item(struct conf_parse *p, const char *v,
		    bool (*fn)(struct conf_parse *p, const char *item, size_t len));

/* The tenant keys (conf_tenant.c): Namespace, VRF, Isolate; [Peer] Reach. */
bool conf_parse_namespace(struct conf_parse *p, const char *v);
bool conf_parse_vrf(struct conf_parse *p, const char *v);
bool conf_parse_isolate(struct conf_parse *p, const char *v);
bool conf_parse_reach(struct conf_parse *p, const char *v);

/* The key called name (any case) in section, or NULL. */
const struct conf_key *conf_key_lookup(const char *name, enum conf_section section);

#endif
