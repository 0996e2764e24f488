/* SPDX-License-Identifier: MIT */
/* gwload's run state and its two measurements (see tests/tools/gwload.c). */
#ifndef GWLOAD_GWLOAD_H
#define GWLOAD_GWLOAD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/tools/gw/session.h"

enum gw_size { GW_64, GW_512, GW_1420, GW_TSO, GW_SIZES };
enum gw_dir { GW_DECRYPT, GW_DECRYPT_GSO, GW_ENCRYPT, GW_DIRS };

struct gw_run {
	/* options */
	const char *daemon_ns, *tun;
	struct in_addr to, inner_gen, inner_daemon, sink;
	uint16_t to_port;
	bool sizes[GW_SIZES], dirs[GW_DIRS];
	double duration;   /* seconds of timed window per measurement */
	size_t pool_bytes; /* memory for pre-sealed packets */
	size_t mtu;
	/* state */
	struct gw_session s;
	int fd;		    /* UDP, connected to the daemon */
	int devstats;	    /* /proc/net/dev of the daemon's namespace */
	int tun_ifindex;    /* in the daemon's namespace */
	int packet_fd;	    /* AF_PACKET on the TUN */
	int packet_vnet_fd; /* the same with PACKET_VNET_HDR, for TSO super-packets */
	uint32_t tcp_seq;   /* the decrypt flow's next sequence number */
};

struct gw_result {
	enum gw_dir dir;
	enum gw_size size;
	uint64_t offered;	   /* inner packets handed over (encrypt tso: 1420-byte segments) */
	uint64_t packets;	   /* decrypt: TUN writes; encrypt: sealed datagrams received */
	uint64_t bytes;		   /* inner IP bytes delivered */
	double seconds;		   /* from the first send until the last delivery */
	unsigned verified, failed; /* encrypt: received datagrams opened */
};

/* AF_PACKET socket on ifindex (inner IPv4), with virtio_net_hdr when vnet. */
int gw_packet_socket(int ifindex, bool vnet);

bool gw_send_keepalive(struct gw_run *r);
bool gw_decrypt(struct gw_run *r, struct gw_result *res);
bool gw_encrypt(struct gw_run *r, struct gw_result *res);

#endif
