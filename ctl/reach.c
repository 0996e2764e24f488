/* SPDX-License-Identifier: MIT */
/*
 * What a daemon's Reach/Isolate table says about each peer (wgd.conf(5) Reach, reach.h),
 * asked over its control socket (reach=1): `wgctl show` prints each peer's reach and
 * `wgctl metrics` the packets the table refused, per peer. Another daemon (wireguard-go,
 * wgd without -c) has nothing to say, and the output is then what it always was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/key.h"
#include "ctl/ctl.h"
#include "wgd/control.h"

static char *current; /* the reply for the interface being shown; owned */

char *ctl_reach_fetch(const char *ifname)
{
	char *reply = NULL;
	int fd = control_client_connect(ifname), ret;

	if (fd < 0)
		return NULL;
	ret = control_client_request(fd, "reach", &reply);
	close(fd);
	if (ret < 0) {
		free(reply);
		return NULL;
	}
	return reply;
}

void ctl_reach_load(const char *ifname)
{
	ctl_reach_unload();
	current = ctl_reach_fetch(ifname);
}

void ctl_reach_unload(void)
{
	free(current);
	current = NULL;
}

bool ctl_reach_find(const char *reply, const char *b64, uint64_t *refused, char *reach, size_t len)
{
	size_t klen = strlen(b64);

	for (const char *l = reply; l && *l;) {
		size_t n = strcspn(l, "\n");
		const char *v = l + strlen("peer=");
		char *end;

		if (n > strlen("peer=") + klen + 1 && !strncmp(l, "peer=", 5) &&
		    !strncmp(v, b64, klen) && v[klen] == ' ') {
			*refused = strtoull(v + klen + 1, &end, 10);
			if (*end == ' ' && end < l + n) {
				snprintf(reach, len, "%.*s", (int)(l + n - end - 1), end + 1);
				return true;
			}
		}
		l += n + (l[n] == '\n');
	}
	return false;
}

bool ctl_reach_of(const uint8_t *key, uint64_t *refused, char *reach, size_t len)
{
	char b64[KEY_B64_LEN + 1];

	if (!current)
		return false;
	key_to_base64(b64, key);
	return ctl_reach_find(current, b64, refused, reach, len);
}

/* One sample per peer= line of one daemon's reply. */
static void reach_samples(FILE *f, const char *ifname, const char *reply)
{
	for (const char *l = reply; l && *l;) {
		size_t n = strcspn(l, "\n");
		char key[KEY_B64_LEN + 1];
		uint64_t refused;

		if (!strncmp(l, "peer=", 5) && n > 5 + KEY_B64_LEN + 2 &&
		    l[5 + KEY_B64_LEN] == ' ') {
			snprintf(key, sizeof(key), "%.*s", KEY_B64_LEN, l + 5);
			refused = strtoull(l + 5 + KEY_B64_LEN + 1, NULL, 10);
			/* interface names are checked by wgctl, keys are base64: nothing to escape
			 */
			fprintf(f,
				"wgd_peer_refused_packets_total{interface=\"%s\",public_key=\"%s\"}"
				" "
				"%" PRIu64 "\n",
				ifname, key, refused);
		}
		l += n + (l[n] == '\n');
	}
}

void reach_metrics_write(FILE *f, const char *const *ifnames, size_t n)
{
	bool has_header = false;

	for (size_t i = 0; i < n; i++) {
		char *reply = ctl_reach_fetch(ifnames[i]);

		if (reply && strstr(reply, "peer=") && !has_header) {
			fputs("# HELP wgd_peer_refused_packets_total Packets from the peer that "
			      "its "
			      "Reach or Isolate refused.\n"
			      "# TYPE wgd_peer_refused_packets_total counter\n",
			      f);
			has_header = true;
		}
		reach_samples(f, ifnames[i], reply);
		free(reply);
	}
}
