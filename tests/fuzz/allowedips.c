/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the allowed-IPs trie (wgd/allowedips.c), differential against the naive
 * table in tests/ref/allowedips_naive.c (hash set of exact prefixes, longest-first probe,
 * and a linear scan). The fuzzer drives inserts, removals and per-peer removals of IPv4
 * and IPv6 prefixes for eight peers, including bad families and prefix lengths, and
 * lookups of addresses drawn near the prefixes already inserted.
 *
 * Input: operations until the input ends.
 * Checks: every return value equals the reference's; every lookup equals both reference
 * lookups; after each change, one peer's routes (walk order = insertion order, with a
 * re-inserted prefix moving to the end) and count equal the reference's, and at the end
 * every peer's do.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "wgd/allowedips.h"
#ifdef FUZZING /* the fuzz build links only the core; the unit tests link tests/ref */
#include "tests/ref/allowedips_naive.c"
#else
#include "tests/ref/allowedips_naive.h"
#endif

enum {
	AI_PEERS = 8,
	AI_MAX_OPS = 512,
	AI_KNOWN = 64, /* prefixes remembered to aim lookups and removals at */
	AI_MAX_ROUTES = 1024,
};

/* what the last input did, for the regression test */
static struct {
	size_t inserted, found;
} ai_stats;

struct ai_state {
	struct allowedips trie;
	struct allowedips_naive naive;
	uint64_t peer_objs[AI_PEERS]; /* stand-ins: the table never dereferences a peer */
	struct naive_prefix known[AI_KNOWN];
	size_t nknown;
};

struct ai_walk {
	struct naive_prefix got[AI_MAX_ROUTES];
	size_t n;
};

static struct peer *ai_peer(struct ai_state *s, uint8_t i)
{
	return i >= AI_PEERS ? NULL : (struct peer *)(void *)&s->peer_objs[i];
}

static int ai_collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct ai_walk *w = ctx;

	if (w->n < AI_MAX_ROUTES) {
		memset(&w->got[w->n], 0, sizeof(w->got[w->n]));
		w->got[w->n].family = family;
		memcpy(w->got[w->n].addr, addr, family == AF_INET ? 4 : 16);
		w->got[w->n].cidr = cidr;
	}
	w->n++;
	return 0;
}

static void ai_check_peer(struct ai_state *s, struct peer *p)
{
	static struct ai_walk w;
	static struct naive_prefix want[AI_MAX_ROUTES];
	size_t n = allowedips_naive_list_by_peer(&s->naive, p, want, AI_MAX_ROUTES);

	w.n = 0;
	FZ_CHECK(allowedips_walk_by_peer(&s->trie, p, ai_collect, &w) == 0, "walk stopped");
	FZ_CHECK(w.n == n && allowedips_count_by_peer(&s->trie, p) == n,
		 "peer has %zu routes (count %zu), reference %zu", w.n,
		 allowedips_count_by_peer(&s->trie, p), n);
	for (size_t i = 0; i < n && i < AI_MAX_ROUTES; i++)
		FZ_CHECK(w.got[i].family == want[i].family && w.got[i].cidr == want[i].cidr &&
				 !memcmp(w.got[i].addr, want[i].addr, 16),
			 "route %zu of the walk differs", i);
}

/* A family, an address and a prefix length: fresh, or near a remembered prefix. */
static void ai_prefix(struct ai_state *s, struct fz_in *in, int *family, uint8_t addr[16],
		      uint8_t *cidr)
{
	uint8_t how = fz_u8(in);

	memset(addr, 0, 16);
	if (how & 1 && s->nknown) {
		const struct naive_prefix *k = &s->known[fz_u8(in) % s->nknown];

		*family = k->family;
		memcpy(addr, k->addr, 16);
		addr[fz_u8(in) % (k->family == AF_INET ? 4 : 16)] ^= fz_u8(in);
		*cidr = how & 2 ? k->cidr : (uint8_t)(k->cidr + (int8_t)fz_u8(in) % 4);
		return;
	}
	*family = how & 2 ? AF_INET6 : AF_INET;
	if ((how & 0x1c) == 0x1c)
		*family = AF_UNIX; /* refused by both */
	fz_bytes(in, addr, *family == AF_INET6 ? 16 : 4);
	*cidr = fz_u8(in) % 130;
}

static void ai_remember(struct ai_state *s, int family, const uint8_t *addr, uint8_t cidr)
{
	struct naive_prefix *k = &s->known[s->nknown < AI_KNOWN ? s->nknown++ : cidr % AI_KNOWN];

	k->family = family;
	memcpy(k->addr, addr, 16);
	k->cidr = cidr;
}

static void ai_op_change(struct ai_state *s, struct fz_in *in, bool insert)
{
	struct peer *p = ai_peer(s, fz_u8(in) % (AI_PEERS + 1));
	uint8_t addr[16], cidr;
	int family, got, want;

	ai_prefix(s, in, &family, addr, &cidr);
	if (insert) {
		got = allowedips_insert(&s->trie, family, addr, cidr, p);
		want = allowedips_naive_insert(&s->naive, family, addr, cidr, p);
		if (!got) {
			ai_remember(s, family, addr, cidr);
			ai_stats.inserted++;
		}
	} else {
		got = allowedips_remove(&s->trie, family, addr, cidr, p);
		want = allowedips_naive_remove(&s->naive, family, addr, cidr, p);
	}
	FZ_CHECK(got == want, "%s family %d cidr %u: %d, reference %d",
		 insert ? "insert" : "remove", family, cidr, got, want);
	if (p)
		ai_check_peer(s, p);
}

static void ai_op_lookup(struct ai_state *s, struct fz_in *in)
{
	uint8_t addr[16], cidr;
	struct peer *got, *want, *scan;
	int family;

	ai_prefix(s, in, &family, addr, &cidr);
	if (family != AF_INET && family != AF_INET6)
		return; /* lookup's contract covers the two families only */
	got = allowedips_lookup(&s->trie, family, addr);
	want = allowedips_naive_lookup(&s->naive, family, addr);
	scan = allowedips_naive_lookup_scan(&s->naive, family, addr);
	FZ_CHECK(want == scan, "the two references disagree");
	FZ_CHECK(got == want, "lookup: peer %p, reference %p", (void *)got, (void *)want);
	ai_stats.found += got != NULL;
}

static void fz_allowedips_one(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	static struct ai_state s;

	memset(&s, 0, sizeof(s));
	memset(&ai_stats, 0, sizeof(ai_stats));
	allowedips_init(&s.trie);
	if (allowedips_naive_init(&s.naive, 256) < 0)
		abort();
	for (int i = 0; i < AI_MAX_OPS && in.n; i++) {
		uint8_t op = fz_u8(&in);

		switch (op % 5) {
		case 0:
		case 1:
			ai_op_change(&s, &in, true);
			break;
		case 2:
			ai_op_change(&s, &in, false);
			break;
		case 3: {
			struct peer *p = ai_peer(&s, fz_u8(&in) % AI_PEERS);

			allowedips_remove_by_peer(&s.trie, p);
			allowedips_naive_remove_by_peer(&s.naive, p);
			ai_check_peer(&s, p);
			break;
		}
		default:
			ai_op_lookup(&s, &in);
			break;
		}
	}
	for (uint8_t i = 0; i < AI_PEERS; i++)
		ai_check_peer(&s, ai_peer(&s, i));
	allowedips_free(&s.trie);
	allowedips_naive_free(&s.naive);
}

FZ_ENTRY(fz_allowedips_one)
