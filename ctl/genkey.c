/* SPDX-License-Identifier: MIT */
/*
 * wgctl genkey | genpsk | pubkey: keys as base64 lines on stdout (wireguard-tools
 * genkey.c, pubkey.c). genkey clamps its private key (RFC 7748 §5) as wg does; pubkey
 * reads one key and only whitespace after it from stdin. Every buffer is wiped.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/key.h"
#include "crypto/random.h"
#include "ctl/ctl.h"

/* stdio buffers the keys read and written here: keep those buffers ours, and wipe them */
static char stdin_buf[BUFSIZ], stdout_buf[BUFSIZ];

/* Writes the key line and wipes every copy of it stdio held. 0 or 1. */
static int put_key_line(const char *b64)
{
	int ret;

	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	puts(b64);
	ret = fflush(stdout) ? 1 : 0;
	wipe(stdout_buf, sizeof(stdout_buf));
	return ret;
}

int genkey_main(int argc, const char *argv[])
{
	uint8_t key[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	struct stat st;
	int ret;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
	crypto_random(key, sizeof(key));
	if (!strcmp(argv[0], "genkey"))
		key_clamp(key);
	key_to_base64(b64, key);
	ret = put_key_line(b64);
	wipe(key, sizeof(key));
	wipe(b64, sizeof(b64));
	return ret;
}

/* Reads the 44 key characters, then insists on nothing but whitespace (or NULs). */
static bool read_key_text(char b64[static KEY_B64_LEN + 1])
{
	int c;

	if (fread(b64, 1, KEY_B64_LEN, stdin) != KEY_B64_LEN) {
		ctl_err("Key is not the correct length or format");
		return false;
	}
	b64[KEY_B64_LEN] = '\0';
	while ((c = getc(stdin)) != EOF) {
		if (c && !isspace(c)) {
			ctl_err("Trailing characters found after key");
			return false;
		}
	}
	return true;
}

int pubkey_main(int argc, const char *argv[])
{
	uint8_t key[KEY_LEN], pub[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	int ret = 1;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	setvbuf(stdin, stdin_buf, _IOFBF, sizeof(stdin_buf));
	if (!read_key_text(b64))
		goto out;
	if (!key_from_base64(key, b64)) {
		ctl_err("Key is not the correct length or format");
		goto out;
	}
	if (crypto_scalarmult_curve25519_base(pub, key) != 0) {
		ctl_err("Key is not usable as a private key");
		goto out;
	}
	key_to_base64(b64, pub);
	ret = put_key_line(b64);
out:
	wipe(key, sizeof(key));
	wipe(b64, sizeof(b64));
	wipe(stdin_buf, sizeof(stdin_buf));
	return ret;
}
