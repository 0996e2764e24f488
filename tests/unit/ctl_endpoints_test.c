/* SPDX-License-Identifier: MIT */
/*
 * wgctl with wgd's endpoint lists (wgd/endpoints.h): the name beside the address in the
 * report, the list and its switch count in the report, --json and metrics; a peer
 * without a list prints as before (ctl_test pins that against wg(8)).
 */
#include <criterion/criterion.h>

#include "ctl/endpoints.c"
#include "ctl/format.c"
#include "ctl/genkey.c"
#include "ctl/json.c"
#include "ctl/metrics.c"
#include "ctl/parse.c"
#include "ctl/peer.c"
#include "ctl/peer_save.c"
#include "ctl/reach.c"
#include "ctl/serving.c"
#include "ctl/set.c"
#include "ctl/setconf.c"
#include "ctl/show.c"
#include "ctl/showconf.c"
#include "ctl/strip.c"

static const char reply[] =
	"listen_port=1\n"
	"public_key=c9bdf9835def3ccbbaa7ca3d6b8e32f6aa7e8a9d4ab59b1a8aa4f0df6cf3b9a9\n"
	"endpoint=192.0.2.7:51820\n"
	"wgd_endpoints=dc1.example.net:51820@192.0.2.7:51820,203.0.113.7:51820,dc2.test:1@\n"
	"wgd_endpoint_switches=3\n"
	"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"errno=0\n\n";

static char *render(void (*fn)(FILE *f, const struct uapi_state *st))
{
	struct uapi_state st = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(uapi_client_get_parse(&st, reply, sizeof(reply) - 1), 0);
	fn(f, &st);
	fclose(f);
	uapi_state_clear(&st);
	return buf;
}

static void pretty(FILE *f, const struct uapi_state *st)
{
	struct show_ctx c = { .out = f, .now = 1 };

	show_pretty(&c, "wg0", st);
}

static void json(FILE *f, const struct uapi_state *st)
{
	show_json(f, "wg0", st, false, 1);
}

static void metrics(FILE *f, const struct uapi_state *st)
{
	const char *names[] = { "wg0" };

	metrics_write(f, names, st, 1, 1);
}

static void expect_in(const char *got, const char *want)
{
	cr_assert_not_null(strstr(got, want), "`%s' missing in:\n%s", want, got);
}

Test(ctl_endpoints, report_names_the_endpoint_and_lists_them)
{
	char *got = render(pretty);

	expect_in(got, "  endpoint: 192.0.2.7:51820 (dc1.example.net:51820)\n");
	expect_in(got, "  endpoints: dc1.example.net:51820 (192.0.2.7:51820), 203.0.113.7:51820, "
		       "dc2.test:1 (unresolved); 3 switches\n");
	free(got);
}

Test(ctl_endpoints, json_has_the_list)
{
	char *got = render(json);

	expect_in(got,
		  "      \"endpoint\": \"192.0.2.7:51820\",\n"
		  "      \"endpoint_name\": \"dc1.example.net:51820\",\n"
		  "      \"endpoints\": [{\"name\": \"dc1.example.net:51820\", \"address\": "
		  "\"192.0.2.7:51820\"}, {\"name\": null, \"address\": \"203.0.113.7:51820\"}, "
		  "{\"name\": \"dc2.test:1\", \"address\": null}],\n"
		  "      \"endpoint_switches\": 3,\n"
		  "      \"allowed_ips\": [],\n");
	free(got);
}

Test(ctl_endpoints, metrics_count_switches)
{
	char *got = render(metrics);

	expect_in(got, "# TYPE wgd_peer_endpoint_switches_total counter\n"
		       "wgd_peer_endpoint_switches_total{interface=\"wg0\",public_key="
		       "\"yb35g13vPMu6p8o9a44y9qp+"
		       "ip1KtZsaiqTw32zzuak=\"} 3\n");
	free(got);
}
