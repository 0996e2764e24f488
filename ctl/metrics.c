/* SPDX-License-Identifier: MIT */
/*
 * wgctl metrics [IF | all]: the peers' counters in the Prometheus text exposition format
 * (version 0.0.4): each family's HELP and TYPE once, then its samples for every
 * interface, labelled with the interface and the peer's public key (which is public).
 * Names follow Prometheus' conventions (`promtool check metrics` passes): counters end in
 * _total, values are in base units (bytes, seconds), a point in time is Unix seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "ctl/ctl.h"

/* A label value: backslash, double quote and newline escaped (the exposition format). */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum peer_metric { RX_BYTES, TX_BYTES, LAST_HANDSHAKE, UP };

static const struct {
	const char *name, *type, *help;
} peer_metrics[] = {
	[RX_BYTES] = { "wgd_peer_receive_bytes_total", "counter", "Bytes received from the peer." },
	[TX_BYTES] = { "wgd_peer_transmit_bytes_total", "counter", "Bytes sent to the peer." },
	[LAST_HANDSHAKE] = { "wgd_peer_last_handshake_timestamp_seconds", "gauge",
			     "Unix time of the peer's latest handshake, 0 if none." },
	[UP] = { "wgd_peer_up", "gauge",
		 "1 if the peer's latest handshake is under 180 s old, else 0." },
};

static uint64_t peer_value(const struct uapi_peer_state *ps, enum peer_metric m, time_t now)
{
	switch (m) {
	case RX_BYTES:
		return ps->rx_bytes;
	case TX_BYTES:
		return ps->tx_bytes;
	case UP:
		return ctl_peer_up(ps->last_handshake_sec, now);
	case LAST_HANDSHAKE:
		break;
	}
	return ps->last_handshake_sec;
}

/* Only peers with a failover list (wgd/endpoints.h) have the counter; none: no family. */
static void write_endpoint_switches(FILE *f, const char *const *ifnames,
				    const struct uapi_state *states, size_t n)
{
	static const char name[] = "wgd_peer_endpoint_switches_total";
	char b64[KEY_B64_LEN + 1];
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < states[i].cfg.peers_len; p++) {
			const struct cfg_peer *peer = &states[i].cfg.peers[p];

			if (!peer->endpoints_len)
				continue;
			if (!any)
				header(f, name, "counter",
				       "Moves to the next endpoint of the peer's list after an "
				       "unanswered handshake.");
			any = true;
			key_to_base64(b64, peer->public_key);
			fprintf(f, "%s{interface=\"", name);
			label_value(f, ifnames[i]);
			fprintf(f, "\",public_key=\"%s\"} %" PRIu64 "\n", b64,
				states[i].peer_state[p].endpoint_switches);
		}
	}
}

void metrics_write(FILE *f, const char *const *ifnames, const struct uapi_state *states, size_t n,
		   time_t now)
{
	char b64[KEY_B64_LEN + 1];

	header(f, "wgd_peers", "gauge", "Number of peers configured on the interface.");
	for (size_t i = 0; i < n; i++) {
		fputs("wgd_peers{interface=\"", f);
		label_value(f, ifnames[i]);
		fprintf(f, "\"} %zu\n", states[i].cfg.peers_len);
	}
	write_endpoint_switches(f, ifnames, states, n);
	for (size_t m = 0; m < ARRAY_SIZE(peer_metrics); m++) {
		header(f, peer_metrics[m].name, peer_metrics[m].type, peer_metrics[m].help);
		for (size_t i = 0; i < n; i++) {
			for (size_t p = 0; p < states[i].cfg.peers_len; p++) {
				key_to_base64(b64, states[i].cfg.peers[p].public_key);
				fprintf(f, "%s{interface=\"", peer_metrics[m].name);
				label_value(f, ifnames[i]);
				fprintf(f, "\",public_key=\"%s\"} %" PRIu64 "\n", b64,
					peer_value(&states[i].peer_state[p], (enum peer_metric)m,
						   now));
			}
		}
	}
}

/* The interfaces to report: the one named, or every live one. false after the error. */
static bool metrics_targets(struct uapi_iflist *l, const char *target)
{
	int err;

	if (target) {
		if (!ctl_parse_ifname(target))
			return false;
		l->names = calloc(1, sizeof(*l->names));
		if (!l->names) {
			ctl_err("Out of memory");
			return false;
		}
		snprintf(l->names[0], sizeof(l->names[0]), "%s", target);
		l->len = 1;
		return true;
	}
	err = uapi_client_list(l);
	if (err < 0)
		ctl_err("Unable to list interfaces: %s", strerror(-err));
	return err == 0;
}

/*
 * A scrape must not fail because one daemon went away mid-listing: with `all', an
 * interface whose socket is gone (-ENODEV) is left out. Any other failure (no right to
 * the socket, a garbled answer) is reported on stderr and makes the exit status 1, so
 * that a textfile collector keeps its last good file rather than one without samples.
 */
int metrics_main(int argc, const char *argv[])
{
	const char *target = argc == 2 && strcmp(argv[1], "all") ? argv[1] : NULL;
	struct uapi_iflist l = { 0 };
	struct uapi_state *states = NULL;
	const char **names = NULL;
	bool failed = false;
	size_t n = 0;
	int ret = 1, err;

	if (argc > 2) {
		fprintf(stderr, "Usage: %s %s [<interface> | all]\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (!metrics_targets(&l, target))
		return 1;
	states = calloc(l.len + 1, sizeof(*states));
	names = calloc(l.len + 1, sizeof(*names));
	if (!states || !names) {
		ctl_err("Out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.len; i++) {
		err = uapi_client_get(l.names[i], &states[n]);
		if (err < 0) {
			if (!target && err == -ENODEV)
				continue;
			ctl_uapi_err("access interface", l.names[i], err);
			failed = true;
			continue;
		}
		names[n++] = l.names[i];
	}
	if (!failed) {
		metrics_write(stdout, names, states, n, time(NULL));
		reach_metrics_write(stdout, names, n);
	}
	ret = failed;
out:
	for (size_t i = 0; i < n; i++)
		uapi_state_clear(&states[i]);
	free(states);
	free(names);
	uapi_iflist_clear(&l);
	return ret;
}
