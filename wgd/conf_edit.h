/* SPDX-License-Identifier: MIT */
/*
 * In-place edits of a configuration file for `wgctl peer add/remove --save': the file's
 * text is changed section by section, so comments, blank lines and the spelling of every
 * other section stay byte for byte. The result must parse (conf.h) before it replaces the
 * file, atomically: a temporary file in the same directory with the same mode and owner,
 * fsync, rename, fsync of the directory. A symlink is followed and stays a symlink.
 * Endpoint hostnames of other peers are not looked up, so an edit never waits on DNS.
 */
#ifndef WGD_CONF_EDIT_H
#define WGD_CONF_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/key.h"
#include "wgd/cfg.h"
#include "wgd/conf.h"

/*
 * Appends a [Peer] section for peer (PublicKey, PresharedKey when set and nonzero,
 * AllowedIPs, Endpoint, PersistentKeepalive when nonzero), or replaces the section with
 * the same PublicKey (its header through its last key line: comments above and after
 * it stay). endpoint_text is written
 * as given ("host:port", so a hostname stays one); NULL writes a set endpoint
 * numerically. 0 or -errno, with one line in err on failure; the file is then untouched.
 */
int __must_check conf_edit_add_peer(const char *path, const struct cfg_peer *peer,
				    const char *endpoint_text, char *err, size_t errlen);

/*
 * Removes the [Peer] section with this public key: from the comment lines right above its
 * header to the next section's header, leaving the comment lines right above that header
 * (they belong to the next section). -ENOENT if there is no such peer.
 */
int __must_check conf_edit_remove_peer(const char *path, const uint8_t pub[static KEY_LEN],
				       char *err, size_t errlen);

/* The same for a file parsed in mode (CONF_DROPIN: a drop-in, which has no [Interface]). */
int __must_check conf_edit_remove_peer_mode(const char *path, const uint8_t pub[static KEY_LEN],
					    enum conf_mode mode, char *err, size_t errlen);

/* --- drop-ins (IF.d/NAME.conf, conf.h's conf_load), conf_dropin_edit.c ------------------ */

/*
 * Where the peer with this key is defined: the main file at main_path or one of its
 * drop-ins. Returns 1 with the file's path in file, the [Peer] line in *line and the
 * number of peers that file defines in *peers; 0 when nowhere; -errno with one line in err
 * (a file that does not parse).
 */
int __must_check conf_dropin_find(const char *main_path, const uint8_t pub[static KEY_LEN],
				  char *file, size_t filelen, unsigned int *line, size_t *peers,
				  char *err, size_t errlen);

/*
 * Writes the drop-in at path whole: one [Peer] section for peer (as conf_edit_add_peer
 * formats it), replacing the file if there is one. The directory is created (0700) when
 * missing; the file is written as a temporary file in it, mode 0600, synced and renamed
 * over path, and the directory synced. 0 or -errno with one line in err.
 */
int __must_check conf_dropin_write_peer(const char *path, const struct cfg_peer *peer,
					const char *endpoint_text, char *err, size_t errlen);

/*
 * Removes the peer from the drop-in at path: the file itself when the peer is all it
 * defines, else its section (conf_edit_remove_peer_mode). 0, -ENOENT (no such peer) or
 * -errno, with one line in err.
 */
int __must_check conf_dropin_remove_peer(const char *path, const uint8_t pub[static KEY_LEN],
					 char *err, size_t errlen);

/*
 * Whether the edits above could replace the file now, changing nothing: it is read and
 * parsed, the caller may write it, and a temporary file with its owner and mode can be
 * made in its directory (made and removed). 0 or -errno, with one line in err. For
 * `--save', which checks this before it changes the running interface.
 */
int __must_check conf_edit_check(const char *path, char *err, size_t errlen);

#endif
