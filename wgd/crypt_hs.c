/* SPDX-License-Identifier: MIT */
/*
 * Handshake messages on the crypt threads (`Threads = N`, N > 1): the X25519 work of a
 * budget of queued initiations and responses runs on the pool, so a handshake flood
 * cannot take the loop thread from data for longer than one budget, and a responder
 * uses every core (the kernel hands handshakes to a per-CPU worker queue for the same
 * reason). As for data, the loop thread owns all state:
 *  1. in queue order it takes each message off dev->hsq and decides on admission (mac1,
 *     under load: mac2 or a cookie reply, the per-source limit: receive.c), as with one
 *     thread; for a response it finds the initiator by receiver index;
 *  2. the pool works on copies: an initiation is opened (DH es, ss if not cached), its
 *     timestamp and the flood limit are checked against a copy of the peer's handshake,
 *     and the response made on that copy (a new ephemeral, DH ee and se); a response is
 *     consumed on a copy of the initiator's handshake (DH ee, se). The threads only read
 *     the device (identity, public-key table, peers' handshakes) while the loop waits;
 *  3. in queue order the loop thread takes the results over where the peer's state still
 *     allows it (the timestamp and flood checks again, the initiator's handshake
 *     unchanged), gives the response its local index and macs and sends it.
 * The copies hold secrets and are wiped after each run.
 */
#include <endian.h>
#include <string.h>

#include "crypto/key.h"
#include "crypto/noise.h"
#include "wgd/crypt_data.h"
#include "wgd/crypt_pool.h"
#include "wgd/device.h"
#include "wgd/log.h"
#include "wgd/packet.h"
#include "wgd/peer.h"

struct crypt_hs_job {
	struct hsqueue_entry e;
	struct device *dev;
	uint64_t now_ns;
	struct peer *peer; /* response: the initiator, found by index; initiation: by the thread */
	bool is_admitted, is_done;
	struct noise_initiation in;
	struct noise_handshake hs; /* the copy the thread works on */
	struct message_handshake_response resp;
};

/* The thread's part: DH work on copies; nothing of the device is written. */
static void crypt_item_handshake(void *ctx, void *items, size_t i)
{
	struct crypt_hs_job *j = (struct crypt_hs_job *)items + i;
	const struct noise_static_identity *id = &j->dev->identity;

	(void)ctx;
	if (!j->is_admitted)
		return;
	if (j->e.type == MESSAGE_HANDSHAKE_INITIATION) {
		if (!noise_handshake_open_initiation((const void *)j->e.buf, id,
						     receive_lookup_handshake, j->dev, &j->in))
			return;
		j->peer = container_of(j->in.hs, struct peer, handshake);
		j->hs = *j->in.hs;
		/* a replayed or too frequent initiation costs no more DH than with one thread */
		if (!noise_handshake_accept_initiation(&j->hs, &j->in, j->now_ns))
			return;
		j->is_done = noise_handshake_create_response(&j->resp, &j->hs, id, 0);
	} else if (j->peer) {
		j->hs = j->peer->handshake;
		j->is_done = noise_handshake_consume_response(&j->hs, (const void *)j->e.buf, id);
	}
}

/* Step 1: the next message off the queue, admitted or not, into job j. */
static void take_message(struct device *dev, struct crypt_hs_job *j, const struct hsqueue_entry *e,
			 uint64_t now_ns)
{
	const struct message_handshake_response *m = (const void *)e->buf;

	memset(j, 0, sizeof(*j));
	j->e = *e;
	j->dev = dev;
	j->now_ns = now_ns;
	/* as receive_message: a down link receives nothing */
	j->is_admitted = dev->is_up &&
			 receive_handshake_admitted(dev, j->e.buf, j->e.len, &j->e.from, now_ns);
	if (j->is_admitted && e->type == MESSAGE_HANDSHAKE_RESPONSE)
		j->peer = index_table_lookup(&dev->index, le32toh(m->receiver_index));
}

/* Step 3: the results, in queue order. */
static void apply_result(struct crypt_hs_job *j)
{
	static struct log_ratelimit rl_init, rl_resp;

	if (!j->is_admitted)
		return;
	if (j->e.type == MESSAGE_HANDSHAKE_INITIATION) {
		if (j->is_done)
			receive_initiation_prepared(j->peer, &j->in, &j->resp, &j->hs, j->e.len,
						    &j->e.from, j->now_ns);
		else
			log_verbose_rl(&rl_init, "Invalid handshake initiation");
	} else {
		if (j->is_done)
			receive_response_prepared(j->peer, &j->hs, j->e.len, &j->e.from, j->now_ns);
		else
			log_verbose_rl(&rl_resp, "Invalid handshake response");
	}
}

unsigned int crypt_handshakes_run(struct device *dev, uint64_t now_ns)
{
	struct crypt_hs_job *jobs = crypt_data_hs_jobs(dev);
	unsigned int n = 0, max = crypt_data_hs_budget(dev);
	struct hsqueue_entry *e;

	/* The entry stays queued while it is admitted, as device_handshakes_run does. */
	for (; n < max && (e = hsqueue_peek(&dev->hsq)); n++) {
		take_message(dev, &jobs[n], e, now_ns);
		hsqueue_pop(&dev->hsq);
	}
	crypt_data_run(dev, crypt_item_handshake, jobs, n);
	for (unsigned int i = 0; i < n; i++)
		apply_result(&jobs[i]);
	wipe(jobs, n * sizeof(*jobs));
	return n;
}

size_t crypt_hs_job_size(void)
{
	return sizeof(struct crypt_hs_job);
}
