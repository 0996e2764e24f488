// SPDX-License-Identifier: MIT
/*
 * aeadbench: per-packet seal and open of transport data messages on one core,
 * libsodium (crypto/data.c) against OpenSSL EVP (wgd/aead.c), at the sizes the data
 * path sees. Each packet is a separate call on the same key and consecutive counters,
 * as in a burst of one peer's packets. Picks AEAD_OPENSSL_MIN_LEN (wgd/aead.h).
 *
 *   aeadbench [SECONDS_PER_CELL] [SIZE...]     default 0.2 s; 64 128 192 256 512 1420 65535
 *
 * Open times include a memcpy of the message (open works in place, so each call gets a
 * fresh copy): about 2% at 1420 bytes.
 * Prints one line per size: Mpacket/s and GB/s (payload bytes, 10^9) of each
 * implementation and direction, and the OpenSSL/libsodium ratio of the seal rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/data.h"
#include "wgd/aead.h"

static const size_t default_sizes[] = { 64, 128, 192, 256, 512, 1420, 65535 };

static double now_s(void)
{
	struct timespec ts;

	/* CPU time of this thread: on a shared machine, time spent preempted is not ours */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Packets per second of seal (open = false) or open over secs, on lane with impl. */
static double run(struct aead_lane *lane, enum aead_impl impl, bool open, uint8_t *buf,
		  uint8_t *sealed, size_t padded, const uint8_t *key, double secs)
{
	size_t msg_len = message_data_len(padded), plain_len;
	uint64_t n = 0, counter;
	double start = now_s(), elapsed;

	aead_lane_force(lane, impl);
	msg_len = aead_seal(lane, sealed, padded, padded, key, 1, 0);
	do {
		for (int i = 0; i < 64; i++, n++) {
			if (!open) {
				(void)aead_seal(lane, buf, padded, padded, key, 1, n);
				continue;
			}
			/* open works in place: each round opens a fresh copy of one sealed message
			 */
			memcpy(buf, sealed, msg_len);
			if (!aead_open(lane, buf, msg_len, key, &plain_len, &counter)) {
				fprintf(stderr, "aeadbench: open failed at %zu bytes\n", padded);
				exit(1);
			}
		}
		elapsed = now_s() - start;
	} while (elapsed < secs);
	aead_lane_forget(lane);
	return (double)n / elapsed;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.2;
	size_t nsizes =
		argc > 2 ? (size_t)argc - 2 : sizeof(default_sizes) / sizeof(*default_sizes);
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	struct aead_lane *lane;
	uint8_t *buf, *sealed;

	if (sodium_init() < 0 || !(lane = aead_lane_new()) ||
	    !(buf = calloc(1, message_data_len(65536))) ||
	    !(sealed = calloc(1, message_data_len(65536)))) {
		fprintf(stderr, "aeadbench: cannot start\n");
		return 1;
	}
	if (secs <= 0)
		secs = 0.2;
	randombytes_buf(key, sizeof(key));
	printf("# per-packet ChaCha20-Poly1305, one core, %.2f CPU-s per cell; Mpps and GB/s per "
	       "CPU-s\n",
	       secs);
	printf("%7s  %15s  %15s  %15s  %15s  %10s\n", "bytes", "sodium seal", "openssl seal",
	       "sodium open", "openssl open", "ossl/sod");
	for (size_t i = 0; i < nsizes; i++) {
		size_t len = argc > 2 ? strtoul(argv[i + 2], NULL, 10) : default_sizes[i];
		double r[4];

		if (len > 65535)
			len = 65535;
		r[0] = run(lane, AEAD_SODIUM, false, buf, sealed, len, key, secs);
		r[1] = run(lane, AEAD_OPENSSL, false, buf, sealed, len, key, secs);
		r[2] = run(lane, AEAD_SODIUM, true, buf, sealed, len, key, secs);
		r[3] = run(lane, AEAD_OPENSSL, true, buf, sealed, len, key, secs);
		printf("%7zu", len);
		for (int j = 0; j < 4; j++)
			printf("  %6.2f %6.2fGB", r[j] / 1e6, r[j] * (double)len / 1e9);
		printf("  %9.2fx\n", r[1] / r[0]);
	}
	aead_lane_free(lane);
	free(buf);
	free(sealed);
	return 0;
}
