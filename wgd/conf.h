/* SPDX-License-Identifier: MIT */
/*
 * The configuration file: wg-quick's format (wg(8)'s keys plus Address, DNS, MTU, Table,
 * the four hooks and SaveConfig) and our PrivateKeyFile, PresharedKeyFile and User, parsed
 * strictly into plain data. Shared by wgd and wgctl. Nothing here touches a device or runs
 * a hook, and nothing here resolves a name while parsing: an Endpoint host name is kept
 * as written, for conf_resolve_endpoints() (wgctl, as wg(8) does, in the admin's process)
 * or for the daemon's unprivileged resolver (wgd/resolver.h), so a root process never
 * parses a DNS reply.
 */
#ifndef WGD_CONF_H
#define WGD_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "crypto/key.h"
#include "wgd/cfg.h"

/* One per cfg peer, at the same index. */
struct conf_peer_extra {
	char *endpoint_host; /* owned; Endpoint's host as written, without brackets; or NULL */
	unsigned int line;   /* line of the [Peer] header */
	/*
	 * An Endpoint host that is a name, not an address: the peer has no endpoint (no
	 * CFG_PEER_HAS_ENDPOINT) until someone resolves endpoint_host.
	 */
	bool is_endpoint_name;
	uint16_t endpoint_port;	    /* Endpoint's port (host order), with is_endpoint_name */
	unsigned int endpoint_line; /* line of the Endpoint key */
	char *file; /* owned: the drop-in (conf_load) that defines the peer; NULL: the main file */
	/* Reach (conf_tenant.c): where this peer's packets may be forwarded; owned */
	struct conf_prefix *reach;
	size_t reach_len;
};

/* An interface address: host bits are kept, as `ip address add` wants them. */
struct conf_prefix {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
	uint8_t cidr;
};

enum conf_table {
	CONF_TABLE_AUTO, /* default: wg-quick's policy routing for a /0, else the main table */
	CONF_TABLE_OFF,	 /* add no routes */
	CONF_TABLE_ID,	 /* routes go to table `table' ("main" is 254) */
};

struct conf {
	/*
	 * The wg(8) part, flagged as the file states it: CFG_DEV_HAS_PRIVATE_KEY,
	 * _HAS_LISTEN_PORT and _HAS_FWMARK exactly when the file names PrivateKey (or
	 * PrivateKeyFile), ListenPort and FwMark ("FwMark = off" and "ListenPort = 0" count);
	 * never CFG_DEV_REPLACE_PEERS, which is the caller's choice (`wg setconf' adds it and
	 * all three HAS flags, sending absent keys as zero; `wg addconf' sends these flags
	 * as they are). Each peer has REPLACE_ALLOWEDIPS, and HAS_PRESHARED_KEY,
	 * HAS_ENDPOINT, HAS_PERSISTENT_KEEPALIVE when the file sets them.
	 */
	struct cfg_device dev;
	struct conf_peer_extra *peer_extra; /* owned, dev.peers_len entries */
	struct conf_prefix *addresses;	    /* owned */
	size_t addresses_len;
	unsigned int mtu; /* 0 = not set (automatic) */
	enum conf_table table_mode;
	uint32_t table;
	char **dns; /* owned; servers (IP literals) and search domains, in file order */
	size_t dns_len;
	char **pre_up, **post_up, **pre_down, **post_down; /* owned, raw: %i is left in */
	size_t pre_up_len, post_up_len, pre_down_len, post_down_len;
	char *user;	   /* owned, or NULL */
	char *admin_group; /* owned, or NULL: AdminGroup, who may use the UAPI socket */
	bool save_config;
	unsigned int threads; /* Threads=: crypt threads of the worker; 0 = not set (default) */
	/* tenants (conf_tenant.c): Namespace, VRF (owned, or NULL), Isolate */
	char *netns;
	char *vrf;
	bool isolate;
	/* not parsed: the VRF's routing table, looked up when wgd starts (0: no VRF) */
	uint32_t vrf_table;
};

/* What a parse requires of the file; every key is accepted in both modes. */
enum conf_mode {
	/* `wgd -c' and reloads: one [Interface] with a PrivateKey or PrivateKeyFile */
	CONF_FULL,
	/*
	 * `wgctl setconf/addconf/syncconf', as wg(8) reads a file (wireguard-tools
	 * config.c): [Interface] and all its keys are optional (a peers-only or empty file
	 * is fine), and an all-zero PrivateKey is taken, as a request to remove the key.
	 */
	CONF_WG_SUBSET,
	/* a drop-in, IF.d/NAME.conf (conf_load): [Peer] sections only, no [Interface] */
	CONF_DROPIN,
	/* `wgctl strip': the wg subset of a wgd.conf, where an Endpoint list keeps its first */
	CONF_STRIP,
};

/*
 * Parse the file at path into *out (which need not be initialised). On success returns 0;
 * warnings (a key readable by group or others, an AllowedIPs host part) go to warn as
 * '\n'-terminated lines "FILE: warning: ..." or "FILE:LINE: warning: ...", truncated to
 * warnlen (warn may be NULL). On failure returns -errno (-EINVAL for any content error),
 * writes one line "FILE:LINE: message" (or "FILE: message" for the file itself) to err,
 * and leaves *out cleared. Relative key file paths are taken from path's directory.
 * Sets inih's process-wide options for the duration of the call: not thread-safe.
 */
int __must_check conf_parse_file(struct conf *out, const char *path, char *err, size_t errlen,
				 char *warn, size_t warnlen);
/* The same in the given mode (conf_parse_file is CONF_FULL). */
int __must_check conf_parse_file_mode(struct conf *out, const char *path, enum conf_mode mode,
				      char *err, size_t errlen, char *warn, size_t warnlen);

/*
 * The same for text[0..len) (need not be NUL-terminated), reported as coming from the
 * file `name'; relative key file paths are taken from name's directory (so the current
 * one for a name without '/', e.g. "<stdin>"). Warnings are dropped.
 */
int __must_check conf_parse_string(struct conf *out, const char *name, const char *text, size_t len,
				   char *err, size_t errlen);
/* The same in the given mode (conf_parse_string is CONF_FULL). */
int __must_check conf_parse_string_mode(struct conf *out, const char *name, const char *text,
					size_t len, enum conf_mode mode, char *err, size_t errlen);

/*
 * The configuration of an interface: the file at path (in mode, CONF_FULL or
 * CONF_WG_SUBSET), then the drop-ins of its directory (conf_dropin_dir), *.conf in
 * lexical ("C") order, names starting with '.' and not ending in ".conf" ignored, each
 * parsed as CONF_DROPIN and its peers appended (peer_extra[i].file names the drop-in).
 * The main file, the directory and each drop-in must be owned by root or the effective
 * user and not writable by group or others: anyone who can write one can add a peer.
 * A PublicKey given in two places is refused, naming both. Errors, warnings and return
 * values as conf_parse_file(); a missing directory is no drop-ins.
 */
int __must_check conf_load(struct conf *out, const char *path, enum conf_mode mode, char *err,
			   size_t errlen, char *warn, size_t warnlen);

/* Formats the message into err (when err and errlen) and returns ret: the drop-in modules' errors.
 */
int __attribute__((format(printf, 4, 5)))
conf_errorf(char *err, size_t errlen, int ret, const char *fmt, ...);

/* The drop-in directory of the file path: path without ".conf", plus ".d". 0 or -errno. */
int __must_check conf_dropin_dir(char *buf, size_t len, const char *path);

/* Whether a drop-in directory entry name is read: "*.conf" not starting with '.'. */
bool conf_dropin_name_ok(const char *name);

/*
 * Refuses a config file or directory that someone other than root or the effective user
 * could change: 0, or -EPERM with "PATH: refused: why" in err.
 */
int __must_check conf_check_owner(const char *path, const struct stat *st, char *err,
				  size_t errlen);

/* Wipes the keys and frees everything; leaves c zeroed and reusable. */
void conf_clear(struct conf *c);

/*
 * Resolves host (a name or an address) for UDP to port, taking the first IPv4 or IPv6
 * address as wg(8) does, into *out. Returns 0, or an EAI_* code (EAI_NODATA when the
 * name has neither kind of address) with *sys_errno set for EAI_SYSTEM. Looks the name
 * up (DNS): never call it in a root daemon (wgd resolves in wgd/resolver.c's child).
 */
int __must_check conf_endpoint_resolve(const char *host, uint16_t port, union cfg_sockaddr *out,
				       int *sys_errno);

/* The reason text of a conf_endpoint_resolve() failure (static or strerror's). */
const char *conf_endpoint_strerror(int eai, int sys_errno);

/*
 * Gives every peer whose Endpoint is a host name (is_endpoint_name) its address, as wg(8)
 * does when it reads a file: 0, or -EINVAL at the first name that does not resolve, with
 * "NAME:LINE: cannot resolve Endpoint host `host': reason" in err (NAME as parsed).
 * For wgctl; the daemon never calls it (see conf_endpoint_resolve).
 */
int __must_check conf_resolve_endpoints(struct conf *c, const char *name, char *err, size_t errlen);

/*
 * Writes the wg(8) subset in `wg showconf` layout: [Interface] ListenPort, FwMark,
 * PrivateKey, then each [Peer]. Endpoints given as hostnames are written as the hostname,
 * resolved or not.
 * Writes the private key to f: the caller chooses where f goes. 0 or -errno.
 */
int __must_check conf_write_wg(const struct conf *c, FILE *f);

/*
 * Writes one "[Peer]" section (no blank line after it). endpoint_text ("host:port") is
 * written as given when not NULL; otherwise a set endpoint is written numerically.
 * Writes the preshared key to f. 0 or -errno.
 */
int __must_check conf_write_peer(FILE *f, const struct cfg_peer *peer, const char *endpoint_text);

#endif
