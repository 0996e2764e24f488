/* SPDX-License-Identifier: MIT */
/*
 * Transport data sealed and opened by the crypt threads (`Threads = N`, N > 1), one read
 * burst at a time. The loop thread keeps every piece of state: during a TUN burst it
 * routes, takes each packet's counter and lays the packets out in an arena as send.c
 * does in dev->gso_buf (which points into the arena meanwhile), recording one seal per
 * message and one send per GSO batch; crypt_data_commit then seals them all on the pool
 * and sends the batches in the order they were made. During a UDP burst it reads the
 * datagrams into another arena and finds each data message's keypair; the pool opens
 * them; then, in read order, the loop thread applies the replay window, roaming, key
 * confirmation and crypto-key routing and writes to the TUN (receive.c). Handshake
 * messages and cookie replies take the same ordered pass as with one thread. So the
 * packets of a peer leave and arrive in the order they were read, as with the kernel's
 * per-peer serial queues, and the threads touch nothing but their items: the message
 * bytes and the key (read only; no keypair changes while a burst's items exist).
 *
 * With one thread (dev->crypt NULL) none of this exists and the paths are unchanged.
 */
#ifndef WGD_CRYPT_DATA_H
#define WGD_CRYPT_DATA_H

#include <stddef.h>
#include <stdint.h>

#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
/*
 * crypt_hs.c: processes up to HSQUEUE_BUDGET handshake messages per thread from dev->hsq,
 * the DH work on the pool (see there); how many were taken. device_handshakes_run calls
 * it when the device has crypt threads.
 */
unsigned int crypt_handshakes_run(struct device *dev, uint64_t now_ns);
/* For crypt_hs.c: its job array (crypt_data_hs_budget entries of crypt_hs_job_size). */
void *crypt_data_hs_jobs(struct device *dev);
unsigned int crypt_data_hs_budget(const struct device *dev);
size_t crypt_hs_job_size(void);
/* Runs fn over n items of `items` on dev's pool. */
void crypt_data_run(struct device *dev, void (*fn)(void *ctx, void *items, size_t i), void *items,
		    size_t n);

#endif

struct device;
struct peer;
struct crypt_data;

/*
 * The thread count `Threads = 0` (or unset) means: WGD_THREADS from the environment
 * when it holds a number in 1..CRYPT_POOL_MAX_THREADS, else the online CPUs (capped).
 */
unsigned int crypt_data_default_threads(void);

/*
 * Gives the device n crypt threads (n > 1; 1 keeps the single-threaded path). Call once,
 * before the sandbox and before any packet. 0 or -errno (the device is unchanged).
 */
int __must_check crypt_data_enable(struct device *dev, unsigned int n);
/* Stops the threads and frees everything; puts dev->gso_buf back. NULL-safe. */
void crypt_data_disable(struct device *dev);
/* Threads sealing and opening for dev, the loop thread included (1 without a pool). */
unsigned int crypt_data_threads(const struct device *dev);

/* send.c, in threaded mode: a message to seal at commit (msg lies in the TX arena). */
void crypt_data_add_seal(struct device *dev, uint8_t *msg, size_t plain_len, size_t padded_len,
			 const uint8_t *key, uint32_t remote_index, uint64_t nonce);
/*
 * send.c: buf (== dev->gso_buf) holds len bytes of messages for peer, seg each but the
 * last; dev->gso_buf moves past them, and everything is committed when the arena is low.
 */
void crypt_data_add_send(struct device *dev, struct peer *peer, uint8_t *buf, size_t len,
			 size_t seg);
/* Seals every recorded message on the pool, then sends the batches in order. */
void crypt_data_commit(struct device *dev);

/* device.c, in threaded mode: drains one UDP fd (read, open on the pool, deliver in order). */
void crypt_data_udp_readable(struct device *dev, int fd, uint64_t now_ns);

/*
 * crypt_hs.c: processes up to HSQUEUE_BUDGET handshake messages per thread from dev->hsq,
 * the DH work on the pool (see there); how many were taken. device_handshakes_run calls
 * it when the device has crypt threads.
 */
unsigned int crypt_handshakes_run(struct device *dev, uint64_t now_ns);
/* For crypt_hs.c: its job array (crypt_data_hs_budget entries of crypt_hs_job_size). */
void *crypt_data_hs_jobs(struct device *dev);
unsigned int crypt_data_hs_budget(const struct device *dev);
size_t crypt_hs_job_size(void);
/* Runs fn over n items of `items` on dev's pool. */
void crypt_data_run(struct device *dev, void (*fn)(void *ctx, void *items, size_t i), void *items,
		    size_t n);

#endif
