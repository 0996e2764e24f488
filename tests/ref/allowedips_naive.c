/* SPDX-License-Identifier: MIT */
/*
 * The naive AllowedIPs reference: byte-wise masking, an exact-prefix hash set, and a
 * longest-first probe over every prefix length. Correct by inspection, not fast.
 */
#include "tests/ref/allowedips_naive.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct naive_entry {
	struct naive_entry *next;
	struct peer *peer;
	uint64_t seq; /* insertion order; a re-insert counts as new */
	struct naive_prefix p;
};

static size_t addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

/* Fills p with addr cut to its first cidr bits; false for a bad family or cidr. */
static bool prefix_make(struct naive_prefix *p, int family, const void *addr, unsigned int cidr)
{
	const uint8_t *in = addr;
	size_t len = addr_len(family), i;

	if (!len || cidr > len * 8)
		return false;
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->cidr = (uint8_t)cidr;
	for (i = 0; i < len; i++) {
		if (cidr >= 8 * (i + 1))
			p->addr[i] = in[i];
		else if (cidr > 8 * i)
			p->addr[i] = in[i] & (uint8_t)(0xff << (8 * (i + 1) - cidr));
	}
	return true;
}

static bool prefix_equal(const struct naive_prefix *a, const struct naive_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

/* FNV-1a over family, cidr and the 16 address bytes. */
static size_t prefix_hash(const struct naive_prefix *p)
{
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ (uint8_t)p->family) * 16777619u;
	h = (h ^ p->cidr) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 16777619u;
	return h;
}

static struct naive_entry **find(const struct allowedips_naive *n, const struct naive_prefix *p)
{
	struct naive_entry **link = &n->buckets[prefix_hash(p) & (n->nbuckets - 1)];

	while (*link && !prefix_equal(&(*link)->p, p))
		link = &(*link)->next;
	return link;
}

int allowedips_naive_init(struct allowedips_naive *n, size_t nbuckets)
{
	memset(n, 0, sizeof(*n));
	if (!nbuckets || (nbuckets & (nbuckets - 1)))
		return -EINVAL;
	n->buckets = calloc(nbuckets, sizeof(*n->buckets));
	if (!n->buckets)
		return -ENOMEM;
	n->nbuckets = nbuckets;
	return 0;
}

void allowedips_naive_free(struct allowedips_naive *n)
{
	struct naive_entry *e, *next;
	size_t i;

	for (i = 0; i < n->nbuckets; i++) {
		for (e = n->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(n->buckets);
	memset(n, 0, sizeof(*n));
}

int allowedips_naive_insert(struct allowedips_naive *n, int family, const void *addr, uint8_t cidr,
			    struct peer *peer)
{
	struct naive_prefix p;
	struct naive_entry **link, *e;

	if (!peer || !prefix_make(&p, family, addr, cidr))
		return -EINVAL;
	link = find(n, &p);
	e = *link;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->p = p;
		*link = e;
		n->count++;
	}
	e->peer = peer;
	e->seq = n->next_seq++;
	return 0;
}

int allowedips_naive_remove(struct allowedips_naive *n, int family, const void *addr, uint8_t cidr,
			    struct peer *peer)
{
	struct naive_prefix p;
	struct naive_entry **link, *e;

	if (!peer || !prefix_make(&p, family, addr, cidr))
		return -EINVAL;
	link = find(n, &p);
	e = *link;
	if (!e || e->peer != peer)
		return -ENOENT;
	*link = e->next;
	free(e);
	n->count--;
	return 0;
}

void allowedips_naive_remove_by_peer(struct allowedips_naive *n, const struct peer *peer)
{
	struct naive_entry **link, *e;
	size_t i;

	for (i = 0; i < n->nbuckets; i++) {
		link = &n->buckets[i];
		while ((e = *link)) {
			if (e->peer != peer) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			free(e);
			n->count--;
		}
	}
}

struct peer *allowedips_naive_owner(const struct allowedips_naive *n, int family, const void *addr,
				    uint8_t cidr)
{
	struct naive_prefix p;
	struct naive_entry *e;

	if (!prefix_make(&p, family, addr, cidr))
		return NULL;
	e = *find(n, &p);
	return e ? e->peer : NULL;
}

struct peer *allowedips_naive_lookup(const struct allowedips_naive *n, int family, const void *addr)
{
	int cidr = (int)addr_len(family) * 8;
	struct naive_prefix p;
	struct naive_entry *e;

	for (; cidr >= 0 && addr_len(family); cidr--) {
		prefix_make(&p, family, addr, (unsigned int)cidr);
		e = *find(n, &p);
		if (e)
			return e->peer;
	}
	return NULL;
}

struct peer *allowedips_naive_lookup_scan(const struct allowedips_naive *n, int family,
					  const void *addr)
{
	const struct naive_entry *e, *best = NULL;
	struct naive_prefix q;
	size_t i;

	for (i = 0; i < n->nbuckets; i++) {
		for (e = n->buckets[i]; e; e = e->next) {
			if (e->p.family != family || (best && best->p.cidr >= e->p.cidr))
				continue;
			if (prefix_make(&q, family, addr, e->p.cidr) && prefix_equal(&q, &e->p))
				best = e;
		}
	}
	return best ? best->peer : NULL;
}

static int seq_cmp(const void *a, const void *b)
{
	const struct naive_entry *x = *(const struct naive_entry *const *)a;
	const struct naive_entry *y = *(const struct naive_entry *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t allowedips_naive_list_by_peer(const struct allowedips_naive *n, const struct peer *peer,
				     struct naive_prefix *out, size_t max)
{
	struct naive_entry *e, **all = NULL;
	size_t i, count = 0;

	for (i = 0; i < n->nbuckets; i++) {
		for (e = n->buckets[i]; e; e = e->next)
			count += e->peer == peer;
	}
	if (count && !(all = calloc(count, sizeof(*all))))
		abort(); /* a test reference: out of memory is not a case worth handling */
	count = 0;
	for (i = 0; i < n->nbuckets; i++) {
		for (e = n->buckets[i]; e; e = e->next) {
			if (e->peer == peer)
				all[count++] = e;
		}
	}
	if (count)
		qsort(all, count, sizeof(*all), seq_cmp);
	for (i = 0; i < count && i < max; i++)
		out[i] = all[i]->p;
	free(all);
	return count;
}
