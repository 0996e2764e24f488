/* SPDX-License-Identifier: MIT */
/*
 * Several endpoints per peer (wgd/endpoints.h): the wgd_endpoints= text both ways, the
 * worker's choice when a list arrives, and failover on a virtual clock: an initiation
 * unanswered for REKEY_TIMEOUT + jitter moves the peer to the next entry, round robin,
 * a completed handshake keeps it there, and roaming still wins. Also the supervisor's
 * stale-handshake rule (resolver_is_stale, resolver_mark_stale) at given instants.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "device_harness.h"
#include "wgd/cfg_sync.h"
#include "wgd/endpoints.h"
#include "wgd/resolver.h"
#include "wgd/uapi.h"
#include "wgd/uapi_client.h"

static struct harness a, b;
static union endpoint_addr sent_to[H_MAX]; /* where a's datagrams went, in order */
static size_t nsent_to;

static int capture_send(struct device *dev, struct endpoint *ep, const void *buf, size_t len)
{
	if (nsent_to < H_MAX)
		sent_to[nsent_to++] = ep->addr;
	return h_udp_send(dev, ep, buf, len);
}

static void setup(void)
{
	h_init(&a, 0x11, 10001);
	h_init(&b, 0x22, 10002);
	a.dev->io.udp_send = capture_send;
	a.jitter_ns = MS(7);
	b.jitter_ns = MS(11);
	nsent_to = 0;
}

static void teardown(void)
{
	h_free(&a);
	h_free(&b);
}

TestSuite(endpoints, .init = setup, .fini = teardown);

static void parse_ok(struct cfg_peer *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	cr_assert_eq(endpoints_parse(p, text, strlen(text)), 0, "`%s' refused", text);
}

static char *put_text(const struct cfg_peer *p)
{
	struct uapi_buf buf = { 0 };
	char *s;

	cr_assert_eq(endpoints_put(&buf, p->endpoints, p->endpoints_len), 0);
	s = strndup(buf.data, buf.len);
	uapi_buf_free(&buf);
	return s;
}

Test(endpoints, text_round_trip)
{
	const char *in = "dc1.example.net:51820@192.0.2.1:51820,[2001:db8::1]:7,dc2.test:9@";
	struct cfg_peer p;
	char *out;

	parse_ok(&p, in);
	cr_assert_eq(p.endpoints_len, 3);
	cr_assert(p.flags & CFG_PEER_HAS_ENDPOINTS);
	cr_assert_str_eq(p.endpoints[0].name, "dc1.example.net:51820");
	cr_assert_eq(p.endpoints[0].addr.sa.sa_family, AF_INET);
	cr_assert_str_eq(p.endpoints[1].name, "");
	cr_assert_eq(p.endpoints[1].addr.sa.sa_family, AF_INET6);
	cr_assert_eq(p.endpoints[2].addr.sa.sa_family, 0, "a name alone is unresolved");
	out = put_text(&p);
	cr_assert_str_eq(out, "wgd_endpoints=dc1.example.net:51820@192.0.2.1:51820,[2001:db8::1]:7,"
			      "dc2.test:9@\n");
	free(out);
	free(p.endpoints);
	parse_ok(&p, "");
	cr_assert_eq(p.endpoints_len, 0, "empty clears");
	cr_assert(p.flags & CFG_PEER_HAS_ENDPOINTS);
}

Test(endpoints, text_refused)
{
	static const char *const bad[] = {
		"192.0.2.1:1,",
		",192.0.2.1:1",
		"192.0.2.1",
		"192.0.2.1:0",
		"host:1",
		"a b:1@192.0.2.1:1",
		"a@b@192.0.2.1:1",
		"@192.0.2.1:1",
		"x:1@300.0.0.1:1",
		"1.1.1.1:1,1.1.1.1:2,1.1.1.1:3,1.1.1.1:4,1.1.1.1:5,1.1.1.1:6,1.1.1.1:7,1.1.1.1:8,"
		"1.1.1.1:9",
	};
	struct cfg_peer p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		cr_assert_eq(endpoints_parse(&p, bad[i], strlen(bad[i])), -EINVAL, "`%s' taken",
			     bad[i]);
		cr_assert_null(p.endpoints);
	}
}

/* b as a's peer with the list `text' and no endpoint= of its own. */
static struct peer *add_listed(const char *text)
{
	struct cfg_device cfg = { 0 };
	struct cfg_peer *cp = cfg_device_add_peer(&cfg);

	memcpy(cp->public_key, b.public_key, 32);
	cr_assert_eq(endpoints_parse(cp, text, strlen(text)), 0);
	cp->flags |= CFG_PEER_REPLACE_ALLOWEDIPS;
	h_add_aip(cp, AF_INET, "10.0.0.2", 32);
	cr_assert_eq(device_apply_cfg(a.dev, &cfg, H_T0), 0);
	cfg_device_clear(&cfg);
	return device_lookup_peer(a.dev, b.public_key);
}

static bool is_addr(const union endpoint_addr *x, const char *text)
{
	union endpoint_addr want;

	cr_assert_eq(endpoint_from_string(&want, text), 0);
	return endpoint_addr_equal(x, &want);
}

Test(endpoints, first_resolved_entry_taken)
{
	struct peer *p = add_listed("dc1.test:1@,192.0.2.2:2,192.0.2.3:3");

	cr_assert(is_addr(&p->endpoint.addr, "192.0.2.2:2"), "skips the unresolved name");
	cr_assert_eq(p->eps.cur, 1);
}

Test(endpoints, first_entry_preferred_once_it_resolves_before_any_handshake)
{
	struct peer *p = add_listed("dc1.test:1@,192.0.2.2:2");

	cr_assert(is_addr(&p->endpoint.addr, "192.0.2.2:2"));
	cr_assert_eq(add_listed("dc1.test:1@192.0.2.1:1,192.0.2.2:2"), p);
	cr_assert(is_addr(&p->endpoint.addr, "192.0.2.1:1"), "the first entry goes first");
	cr_assert_eq(p->eps.switches, 0);
}

Test(endpoints, answered_later_entry_is_kept_when_the_first_resolves)
{
	struct peer *p = add_listed("dc1.test:1@,192.0.2.2:2");

	p->last_handshake_unix_ns = 1;
	(void)add_listed("dc1.test:1@192.0.2.1:1,192.0.2.2:2");
	cr_assert(is_addr(&p->endpoint.addr, "192.0.2.2:2"), "a working endpoint stays");
}

Test(endpoints, failover_round_robin_then_stays)
{
	struct peer *pa = add_listed("one.test:1@192.0.2.1:1,192.0.2.2:2");
	struct peer *pb = h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	const uint64_t step = S(REKEY_TIMEOUT_S) + MS(7);

	h_tun_packet(&a, "10.0.0.1", "10.0.0.2", 64, H_T0);
	cr_assert_eq(nsent_to, 1);
	cr_assert(is_addr(&sent_to[0], "192.0.2.1:1"));
	timers_run(a.dev, H_T0 + step - 1);
	cr_assert_eq(nsent_to, 1, "no switch before REKEY_TIMEOUT + jitter");
	timers_run(a.dev, H_T0 + step);
	cr_assert_eq(nsent_to, 2);
	cr_assert(is_addr(&sent_to[1], "192.0.2.2:2"), "second initiation to the next entry");
	cr_assert_eq(pa->eps.switches, 1);
	timers_run(a.dev, H_T0 + 2 * step);
	cr_assert(is_addr(&sent_to[2], "192.0.2.1:1"), "round robin back to the first");
	cr_assert_eq(pa->eps.switches, 2);
	/* b answers the last initiation: the handshake completes, nothing moves any more */
	a.nsent = 1;
	memcpy(a.sent[0].buf, a.sent[2].buf, a.sent[2].len);
	a.sent[0].len = a.sent[2].len;
	h_deliver(&a, &b, H_T0 + 2 * step);
	h_deliver(&b, &a, H_T0 + 2 * step);
	cr_assert_neq(pa->last_handshake_unix_ns, 0);
	cr_assert_eq(pa->timers.retransmit_handshake_ns, TIMER_OFF);
	timers_run(a.dev, H_T0 + 10 * step);
	cr_assert_eq(pa->eps.switches, 2, "an answered endpoint is kept");
	(void)pb;
}

Test(endpoints, roaming_wins_and_failover_resumes_from_the_list)
{
	struct peer *pa = add_listed("192.0.2.1:1,192.0.2.2:2");

	(void)h_add_peer(&b, &a, "10.0.0.1", 32, 0);
	h_tun_packet(&b, "10.0.0.2", "10.0.0.1", 64, H_T0);
	h_deliver(&b, &a, H_T0); /* b's initiation, from b.self: 127.0.0.1:10002 */
	h_deliver(&a, &b, H_T0);
	h_deliver(&b, &a, H_T0);
	cr_assert(is_addr(&pa->endpoint.addr, "127.0.0.1:10002"), "authenticated source wins");
	cr_assert_eq(pa->eps.switches, 0);
	cr_assert(endpoints_peer_failover(pa));
	cr_assert(is_addr(&pa->endpoint.addr, "192.0.2.1:1"), "off the list: back to its entry");
}

Test(endpoints, new_list_follows_a_moved_name)
{
	struct peer *p = add_listed("dc1.test:1@192.0.2.1:1,192.0.2.2:2");
	struct cfg_endpoint *l = calloc(2, sizeof(*l));
	union endpoint_addr moved;

	cr_assert_eq(endpoint_from_string(&moved, "198.51.100.9:1"), 0);
	strcpy(l[0].name, "dc1.test:1");
	memcpy(&l[0].addr, &moved, sizeof(moved));
	memcpy(&l[1].addr, &p->eps.list[1].addr, sizeof(l[1].addr));
	endpoints_peer_install(p, l, 2);
	cr_assert(is_addr(&p->endpoint.addr, "198.51.100.9:1"));
	cr_assert_eq(p->eps.switches, 0, "a new address is no failover");
	cr_assert_not(add_listed("192.0.2.5:5")->eps.len != 1);
	cr_assert(is_addr(&p->endpoint.addr, "198.51.100.9:1"), "off the new list: kept");
}

Test(endpoints, single_entry_never_fails_over)
{
	struct peer *p = add_listed("one.test:1@192.0.2.1:1");

	cr_assert_not(endpoints_peer_failover(p));
	cr_assert_eq(p->eps.switches, 0);
}

Test(endpoints, uapi_get_emits_the_list_only_for_listed_peers)
{
	struct uapi_buf out = { 0 };
	struct uapi_state st = { 0 };

	(void)add_listed("one.test:1@192.0.2.1:1,192.0.2.2:2");
	cr_assert_eq(uapi_get_format(&out, a.dev), 0);
	cr_assert_eq(uapi_buf_printf(&out, "errno=0\n\n"), 0);
	cr_assert_not_null(memmem(out.data, out.len,
				  "wgd_endpoints=one.test:1@192.0.2.1:1,192.0.2.2:2\n"
				  "wgd_endpoint_switches=0\n",
				  73));
	cr_assert_eq(uapi_client_get_parse(&st, out.data, out.len), 0);
	cr_assert_eq(st.cfg.peers[0].endpoints_len, 2);
	cr_assert_str_eq(st.cfg.peers[0].endpoints[0].name, "one.test:1");
	uapi_state_clear(&st);
	uapi_buf_free(&out);
	(void)h_add_peer(&a, &b, "10.0.0.3", 32, 0); /* b again: endpoint=, list kept */
	h_free(&a);
	h_init(&a, 0x11, 10001);
	(void)h_add_peer(&a, &b, "10.0.0.2", 32, 0);
	cr_assert_eq(uapi_get_format(&out, a.dev), 0);
	cr_assert_null(memmem(out.data, out.len, "wgd_", 4), "no list: no wgd_ key");
	uapi_buf_free(&out);
}

Test(endpoints, uapi_set_takes_the_key_after_a_public_key_only)
{
	static const char before[] = "wgd_endpoints=192.0.2.1:1\n";
	struct cfg_device cfg = { 0 };
	struct uapi_set_error err;
	char body[512];

	cr_assert_eq(uapi_set_parse(&cfg, before, strlen(before), &err), -EINVAL);
	snprintf(body, sizeof(body),
		 "public_key=%064x\nwgd_endpoints=x.test:1@192.0.2.1:1,192.0.2.2:2\n", 7);
	cr_assert_eq(uapi_set_parse(&cfg, body, strlen(body), &err), 0);
	cr_assert_eq(cfg.peers[0].endpoints_len, 2);
	cfg_device_clear(&cfg);
	snprintf(body, sizeof(body), "public_key=%064x\nwgd_endpoints=192.0.2.1:1,,\n", 7);
	cr_assert_eq(uapi_set_parse(&cfg, body, strlen(body), &err), -EINVAL);
	cr_assert_eq(err.line, 3);
}

/* --- stale handshakes (the supervisor's resolver) ------------------------------------ */

Test(endpoints, stale_rule)
{
	const uint64_t now = S(1700000000ULL);

	cr_assert(resolver_is_stale(now, 0, true, false), "never, with traffic");
	cr_assert(resolver_is_stale(now, 0, false, true), "never, with keepalive");
	cr_assert_not(resolver_is_stale(now, 0, false, false), "idle peer");
	cr_assert_not(resolver_is_stale(now, now - S(135), true, true), "exactly 135 s");
	cr_assert(resolver_is_stale(now, now - S(135) - 1, true, false), "135 s + 1 ns");
	cr_assert_not(resolver_is_stale(now, now + S(5), true, true), "clock went back");
}

Test(endpoints, mark_stale_jobs)
{
	const uint64_t now = S(1700000000ULL);
	struct resolver_job jobs[2] = { 0 };
	struct uapi_state st = { 0 };
	struct uapi_peer_state ps[1] = { 0 };
	struct cfg_peer *p;

	p = cfg_device_add_peer(&st.cfg);
	memset(p->public_key, 3, 32);
	st.peer_state = ps;
	ps[0].last_handshake_sec = 1700000000ULL - 200;
	memset(jobs[0].public_key, 3, 32);
	memset(jobs[1].public_key, 4, 32); /* a peer the worker does not have */
	jobs[0].is_done = jobs[1].is_done = true;
	ps[0].tx_bytes = 0;
	cr_assert_eq(resolver_mark_stale(jobs, 2, &st, now, 77), 0, "no traffic, no keepalive");
	ps[0].tx_bytes = 148;
	cr_assert_eq(resolver_mark_stale(jobs, 2, &st, now, 77), 1, "sent since the last check");
	cr_assert_not(jobs[0].is_done);
	cr_assert_eq(jobs[0].retry_ns, 77);
	jobs[0].is_done = true;
	cr_assert_eq(resolver_mark_stale(jobs, 2, &st, now, 78), 0, "tx unchanged: idle");
	p->persistent_keepalive_s = 25;
	cr_assert_eq(resolver_mark_stale(jobs, 2, &st, now, 79), 1, "keepalive counts");
	jobs[0].is_done = true;
	ps[0].last_handshake_sec = 1700000000ULL - 100;
	cr_assert_eq(resolver_mark_stale(jobs, 2, &st, now, 80), 0, "fresh handshake");
	st.peer_state = NULL;
	cfg_device_clear(&st.cfg);
}

/* --- reloads (cfg_sync) ------------------------------------------------------------- */

Test(endpoints, reload_sends_a_new_list_and_clears_a_dropped_one)
{
	struct cfg_device running = { 0 }, wanted = { 0 }, diff = { 0 };
	struct cfg_peer *r = cfg_device_add_peer(&running), *w;
	struct cfg_sync_counts counts;

	memset(r->public_key, 5, 32);
	cr_assert_eq(endpoints_parse(r, "192.0.2.1:1,192.0.2.2:2", 23), 0);
	w = cfg_device_add_peer(&wanted);
	memset(w->public_key, 5, 32);
	cr_assert_eq(cfg_sync_diff(&diff, &running, &wanted), 0);
	cr_assert(diff.peers[0].flags & CFG_PEER_HAS_ENDPOINTS, "a dropped list is cleared");
	cr_assert_eq(diff.peers[0].endpoints_len, 0);
	cr_assert_eq(cfg_sync_count(&counts, &running, &wanted), 0);
	cr_assert_eq(counts.peers_changed, 1);
	cfg_device_clear(&diff);
	cr_assert_eq(endpoints_parse(w, "192.0.2.1:1,192.0.2.2:2", 23), 0);
	cr_assert_eq(cfg_sync_count(&counts, &running, &wanted), 0);
	cr_assert_eq(counts.peers_unchanged, 1, "the same list changes nothing");
	w->flags |= CFG_PEER_HAS_ENDPOINT; /* the list's first, as conf_keys.c sets it */
	w->endpoint = w->endpoints[0].addr;
	w->endpoint.in4.sin_port = htons(9);
	cr_assert_eq(cfg_sync_count(&counts, &running, &wanted), 0);
	cr_assert_eq(counts.peers_unchanged, 1, "with a list, endpoint= is the worker's choice");
	cr_assert_eq(cfg_sync_diff(&diff, &running, &wanted), 0);
	cr_assert_not(diff.peers[0].flags & CFG_PEER_HAS_ENDPOINT, "no endpoint= with a list");
	cfg_device_clear(&diff);
	cr_assert_eq(endpoints_parse(w, "192.0.2.3:3", 11), 0);
	cr_assert_eq(cfg_sync_diff(&diff, &running, &wanted), 0);
	cr_assert_eq(diff.peers[0].endpoints_len, 1, "a new list is sent");
	cfg_device_clear(&diff);
	cfg_device_clear(&running);
	cfg_device_clear(&wanted);
}
