/* SPDX-License-Identifier: MIT */
/*
 * `Endpoint = A, B` in wgd.conf: the list for the worker (endpoints.h), the first item as
 * the peer's endpoint as wg(8) knows it, and one-line FILE:LINE: errors for bad lists.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "wgd/conf.h"

#define PRIV1 "kHwK5kV+Ft6YExF+aB+No99zfMONq0Q8W3kTO8M1Ml8="
#define PUB2  "0LTcUeiZziPrl1lM7/gKkCswVqQD44XMpQgfN7UcOC4="
#define HEAD  "[Interface]\nPrivateKey = " PRIV1 "\n\n[Peer]\nPublicKey = " PUB2 "\n"

static int parse(struct conf *c, enum conf_mode mode, const char *endpoint, char *err)
{
	char text[1024];

	snprintf(text, sizeof(text), HEAD "Endpoint = %s\n", endpoint);
	return conf_parse_string_mode(c, "t.conf", text, strlen(text), mode, err, 256);
}

Test(conf_endpoints, list_of_name_and_address)
{
	struct conf c;
	char err[256] = "";

	cr_assert_eq(parse(&c, CONF_FULL, "dc1.example.net:51820 , 203.0.113.7:51820", err), 0,
		     "%s", err);
	cr_assert(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINTS);
	cr_assert_eq(c.dev.peers[0].endpoints_len, 2);
	cr_assert_str_eq(c.dev.peers[0].endpoints[0].name, "dc1.example.net:51820");
	cr_assert_eq(c.dev.peers[0].endpoints[0].addr.sa.sa_family, 0);
	cr_assert_str_eq(c.dev.peers[0].endpoints[1].name, "");
	cr_assert_eq(c.dev.peers[0].endpoints[1].addr.sa.sa_family, AF_INET);
	cr_assert(c.peer_extra[0].is_endpoint_name, "the first item is what wg(8) sees");
	cr_assert_str_eq(c.peer_extra[0].endpoint_host, "dc1.example.net");
	cr_assert_not(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT, "a name is not resolved here");
	conf_clear(&c);
	cr_assert_eq(parse(&c, CONF_FULL, "203.0.113.7:51820, dc1.example.net:51820", err), 0);
	cr_assert(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT, "a first address is the endpoint");
	cr_assert_eq(c.dev.peers[0].endpoints_len, 2);
	conf_clear(&c);
}

Test(conf_endpoints, single_address_stays_plain)
{
	struct conf c;
	char err[256] = "";

	cr_assert_eq(parse(&c, CONF_FULL, "[2001:db8::1]:51820", err), 0, "%s", err);
	cr_assert(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT);
	cr_assert_not(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINTS);
	conf_clear(&c);
	cr_assert_eq(parse(&c, CONF_FULL, "one.test:7", err), 0, "%s", err);
	cr_assert_eq(c.dev.peers[0].endpoints_len, 1, "a name gets a list: wgctl shows it");
	conf_clear(&c);
	cr_assert_eq(parse(&c, CONF_WG_SUBSET, "one.test:7", err), 0, "%s", err);
	cr_assert_not(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINTS, "wg subset: no list");
	conf_clear(&c);
	cr_assert_eq(parse(&c, CONF_STRIP, "192.0.2.1:1, one.test:7", err), 0, "%s", err);
	cr_assert(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINT, "strip keeps the first");
	cr_assert_not(c.dev.peers[0].flags & CFG_PEER_HAS_ENDPOINTS);
	conf_clear(&c);
}

Test(conf_endpoints, bad_lists)
{
	static const struct {
		enum conf_mode mode;
		const char *endpoint, *err;
	} cases[] = {
		{ CONF_FULL, "192.0.2.1:1,", "t.conf:6: invalid Endpoint `': empty entry" },
		{ CONF_FULL, "192.0.2.1:1,,192.0.2.2:2",
		  "t.conf:6: invalid Endpoint `': empty entry" },
		{ CONF_FULL, "192.0.2.1:1, bad host:2",
		  "t.conf:6: invalid Endpoint `bad host:2': neither an IP address nor a host "
		  "name" },
		{ CONF_FULL, "192.0.2.1:1, 192.0.2.2",
		  "t.conf:6: invalid Endpoint `192.0.2.2': missing port" },
		{ CONF_FULL, "a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1",
		  "t.conf:6: Endpoint lists 9 endpoints (at most 8)" },
		{ CONF_WG_SUBSET, "192.0.2.1:1, 192.0.2.2:2",
		  "t.conf:6: Endpoint lists 2 endpoints: wg(8) takes one (a list is for wgd -c)" },
	};
	struct conf c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(parse(&c, cases[i].mode, cases[i].endpoint, err), -EINVAL, "`%s'",
			     cases[i].endpoint);
		cr_assert_str_eq(err, cases[i].err);
	}
}
