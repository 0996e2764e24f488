/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing table (whitepaper §2): a path-compressed binary trie per address
 * family, shaped like Linux's allowedips.c, plus per-peer route lists. Pure data
 * structure: no I/O, no clock, no locking; the loop thread owns it.
 */
#include "wgd/allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A prefix is held as two host-order words, most significant bit first: bit i of the
 * address is bit 63 - i % 64 of key[i / 64]. IPv4 fills the top half of key[0] and leaves
 * the rest zero, so one set of bit operations serves both families. Keys are always
 * masked to cidr, which lets removal find a node again by walking down with its own key.
 */
struct allowedips_node {
	struct allowedips_node *bit[2];
	struct peer *peer; /* NULL: glue joining two subtrees; it always has both children */
	struct allowedips_node *prev, *next; /* the peer's list, in insertion order */
	uint64_t key[2];
	uint8_t cidr, bitlen;
};
_Static_assert(sizeof(struct allowedips_node) <= 64, "a node stays within one cache line");

/* One peer's routes; a chain entry in the hash map keyed by the peer pointer. */
struct allowedips_list {
	struct allowedips_list *hash_next;
	struct peer *peer;
	struct allowedips_node *head, *tail;
	size_t count;
};

enum {
	LISTS_MIN_BUCKETS = 16,
	/* cidr strictly grows along a path (0..128), so a path holds at most 129 nodes */
	TRIE_MAX_DEPTH = 129,
};

static uint8_t family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

static void key_load(uint64_t key[2], const void *addr, uint8_t bitlen)
{
	uint32_t w4;
	uint64_t w6[2];

	if (bitlen == 32) {
		memcpy(&w4, addr, sizeof(w4));
		key[0] = (uint64_t)be32toh(w4) << 32;
		key[1] = 0;
	} else {
		memcpy(w6, addr, sizeof(w6));
		key[0] = be64toh(w6[0]);
		key[1] = be64toh(w6[1]);
	}
}

static void key_store(uint8_t addr[16], const uint64_t key[2], uint8_t bitlen)
{
	uint32_t w4;
	uint64_t w6[2];

	if (bitlen == 32) {
		w4 = htobe32((uint32_t)(key[0] >> 32));
		memcpy(addr, &w4, sizeof(w4));
	} else {
		w6[0] = htobe64(key[0]);
		w6[1] = htobe64(key[1]);
		memcpy(addr, w6, sizeof(w6));
	}
}

static void key_mask(uint64_t key[2], uint8_t cidr)
{
	if (cidr == 0) {
		key[0] = key[1] = 0;
	} else if (cidr <= 64) {
		key[0] &= ~0ULL << (64 - cidr);
		key[1] = 0;
	} else {
		key[1] &= ~0ULL << (128 - cidr);
	}
}

/* How many leading bits a and b share: 0..128. */
static unsigned int common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned int)__builtin_clzll(x);
	x = a[1] ^ b[1];
	return x ? 64 + (unsigned int)__builtin_clzll(x) : 128;
}

static bool prefix_matches(const struct allowedips_node *node, const uint64_t key[2])
{
	return common_bits(node->key, key) >= node->cidr;
}

/* The bit of key just past node's prefix, i.e. the child key descends into. */
static unsigned int choose(const struct allowedips_node *node, const uint64_t key[2])
{
	unsigned int i = node->cidr; /* < 128: callers never descend below a full-length node */

	return (key[i / 64] >> (63 - i % 64)) & 1;
}

static struct allowedips_node **root_of(struct allowedips *t, uint8_t bitlen)
{
	return bitlen == 32 ? &t->root4 : &t->root6;
}

static size_t hash_peer(const struct peer *peer, size_t mask)
{
	uint64_t x = (uint64_t)(uintptr_t)peer;

	/* murmur3's 64-bit finaliser: heap pointers differ mostly in their middle bits */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & mask;
}

static struct allowedips_list *list_find(const struct allowedips *t, const struct peer *peer)
{
	struct allowedips_list *l;

	if (!t->lists)
		return NULL;
	for (l = t->lists[hash_peer(peer, t->lists_mask)]; l; l = l->hash_next) {
		if (l->peer == peer)
			return l;
	}
	return NULL;
}

/* Doubles the buckets. On failure the old ones stay: chains grow, lookups stay correct. */
static void lists_grow(struct allowedips *t)
{
	size_t n = t->lists ? (t->lists_mask + 1) * 2 : LISTS_MIN_BUCKETS, i;
	struct allowedips_list **buckets = calloc(n, sizeof(*buckets)), *l, *next;

	if (!buckets)
		return;
	for (i = 0; t->lists && i <= t->lists_mask; i++) {
		for (l = t->lists[i]; l; l = next) {
			next = l->hash_next;
			l->hash_next = buckets[hash_peer(l->peer, n - 1)];
			buckets[hash_peer(l->peer, n - 1)] = l;
		}
	}
	free(t->lists);
	t->lists = buckets;
	t->lists_mask = n - 1;
}

/* Returns peer's list, creating an empty one if needed; NULL only when out of memory. */
static struct allowedips_list *list_get(struct allowedips *t, struct peer *peer)
{
	struct allowedips_list *l = list_find(t, peer), **bucket;

	if (l)
		return l;
	if (!t->lists || t->lists_len > t->lists_mask)
		lists_grow(t);
	if (!t->lists)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->peer = peer;
	bucket = &t->lists[hash_peer(peer, t->lists_mask)];
	l->hash_next = *bucket;
	*bucket = l;
	t->lists_len++;
	return l;
}

/* Frees l once it holds no routes, so a removed peer leaves nothing behind. */
static void list_put(struct allowedips *t, struct allowedips_list *l)
{
	struct allowedips_list **link;

	if (l->count)
		return;
	link = &t->lists[hash_peer(l->peer, t->lists_mask)];
	while (*link != l)
		link = &(*link)->hash_next;
	*link = l->hash_next;
	free(l);
	t->lists_len--;
}

static void list_append(struct allowedips_list *l, struct allowedips_node *node)
{
	node->prev = l->tail;
	node->next = NULL;
	if (l->tail)
		l->tail->next = node;
	else
		l->head = node;
	l->tail = node;
	l->count++;
	node->peer = l->peer;
}

static void list_unlink(struct allowedips_list *l, struct allowedips_node *node)
{
	if (node->prev)
		node->prev->next = node->next;
	else
		l->head = node->next;
	if (node->next)
		node->next->prev = node->prev;
	else
		l->tail = node->prev;
	node->prev = node->next = NULL;
	l->count--;
}

static struct allowedips_node *node_new(const uint64_t key[2], uint8_t cidr, uint8_t bitlen)
{
	struct allowedips_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->key[0] = key[0];
	node->key[1] = key[1];
	key_mask(node->key, cidr);
	node->cidr = cidr;
	node->bitlen = bitlen;
	return node;
}

/*
 * Walks down to where the cidr-bit prefix key belongs and returns the link there (the
 * root pointer or a child pointer). It holds the exact node, NULL, or the first node that
 * is not an ancestor of key/cidr, which the new node must then go above or beside.
 */
static struct allowedips_node **placement(struct allowedips_node **link, const uint64_t key[2],
					  uint8_t cidr)
{
	struct allowedips_node *node;

	while ((node = *link) && node->cidr < cidr && prefix_matches(node, key))
		link = &node->bit[choose(node, key)];
	return link;
}

static bool is_exact(const struct allowedips_node *node, const uint64_t key[2], uint8_t cidr)
{
	return node && node->cidr == cidr && prefix_matches(node, key);
}

/* Hooks the new route node in at link, above or beside the subtree already there. */
static int node_link(struct allowedips_node **link, struct allowedips_node *newnode)
{
	struct allowedips_node *down = *link, *glue;
	unsigned int common;

	if (!down) {
		*link = newnode;
		return 0;
	}
	common = common_bits(down->key, newnode->key);
	if (common >= newnode->cidr) {
		/* newnode is a shorter prefix of down: down becomes its child */
		newnode->bit[choose(newnode, down->key)] = down;
		*link = newnode;
		return 0;
	}
	/* They part at bit 'common', before either prefix ends: a glue node joins them. */
	glue = node_new(newnode->key, (uint8_t)common, newnode->bitlen);
	if (!glue)
		return -ENOMEM;
	glue->bit[choose(glue, down->key)] = down;
	glue->bit[choose(glue, newnode->key)] = newnode;
	*link = glue;
	return 0;
}

/* Moves an existing node (route or glue) to the tail of list's peer. */
static void node_assign(struct allowedips *t, struct allowedips_node *node,
			struct allowedips_list *list)
{
	struct allowedips_list *old;

	if (node->peer) {
		old = list_find(t, node->peer);
		list_unlink(old, node);
		if (old != list)
			list_put(t, old);
	}
	list_append(list, node);
}

/* Finds the link that points at target, and the one pointing at its parent (NULL at root). */
static struct allowedips_node **find_link(struct allowedips_node **link,
					  const struct allowedips_node *target,
					  struct allowedips_node ***parent_link)
{
	*parent_link = NULL;
	while (*link != target) {
		*parent_link = link;
		link = &(*link)->bit[choose(*link, target->key)];
	}
	return link;
}

/*
 * Drops a route node that is already off its peer's list. With two children it stays as
 * glue; otherwise its child (if any) takes its place. A leaf's removal can leave its glue
 * parent with a single child, and such a parent is spliced out too, so every glue node
 * keeps two children and the trie never accumulates dead nodes.
 */
static void node_remove(struct allowedips *t, struct allowedips_node *node)
{
	struct allowedips_node **link, **parent_link, *parent, *child;

	node->peer = NULL;
	if (node->bit[0] && node->bit[1])
		return;
	link = find_link(root_of(t, node->bitlen), node, &parent_link);
	child = node->bit[0] ? node->bit[0] : node->bit[1];
	*link = child;
	free(node);
	if (child || !parent_link)
		return;
	parent = *parent_link;
	if (parent->peer)
		return;
	*parent_link = parent->bit[0] ? parent->bit[0] : parent->bit[1];
	free(parent);
}

void allowedips_init(struct allowedips *t)
{
	memset(t, 0, sizeof(*t));
	t->seq = 1;
}

static void trie_free(struct allowedips_node *root)
{
	/* one pending sibling per level plus two children: never more than depth + 1 */
	struct allowedips_node *stack[TRIE_MAX_DEPTH + 1], *node;
	size_t len = 0;

	if (root)
		stack[len++] = root;
	while (len) {
		node = stack[--len];
		if (node->bit[0])
			stack[len++] = node->bit[0];
		if (node->bit[1])
			stack[len++] = node->bit[1];
		free(node);
	}
}

void allowedips_free(struct allowedips *t)
{
	struct allowedips_list *l, *next;
	uint64_t seq = t->seq;
	size_t i;

	trie_free(t->root4);
	trie_free(t->root6);
	for (i = 0; t->lists && i <= t->lists_mask; i++) {
		for (l = t->lists[i]; l; l = next) {
			next = l->hash_next;
			free(l);
		}
	}
	free(t->lists);
	allowedips_init(t);
	t->seq = seq + 1;
}

int allowedips_insert(struct allowedips *t, int family, const void *addr, uint8_t cidr,
		      struct peer *peer)
{
	uint8_t bitlen = family_bits(family);
	struct allowedips_node **link, *node;
	struct allowedips_list *list;
	uint64_t key[2];

	if (!bitlen || cidr > bitlen || !addr || !peer)
		return -EINVAL;
	key_load(key, addr, bitlen);
	key_mask(key, cidr);
	link = placement(root_of(t, bitlen), key, cidr);
	list = list_get(t, peer);
	if (!list)
		return -ENOMEM;
	if (is_exact(*link, key, cidr)) {
		node_assign(t, *link, list);
		t->seq++;
		return 0;
	}
	node = node_new(key, cidr, bitlen);
	if (!node || node_link(link, node) < 0) {
		free(node);
		list_put(t, list);
		return -ENOMEM;
	}
	list_append(list, node);
	t->seq++;
	return 0;
}

int allowedips_remove(struct allowedips *t, int family, const void *addr, uint8_t cidr,
		      struct peer *peer)
{
	uint8_t bitlen = family_bits(family);
	struct allowedips_node *node;
	struct allowedips_list *list;
	uint64_t key[2];

	if (!bitlen || cidr > bitlen || !addr || !peer)
		return -EINVAL;
	key_load(key, addr, bitlen);
	key_mask(key, cidr);
	node = *placement(root_of(t, bitlen), key, cidr);
	if (!is_exact(node, key, cidr) || node->peer != peer)
		return -ENOENT;
	list = list_find(t, peer);
	list_unlink(list, node);
	list_put(t, list);
	node_remove(t, node);
	t->seq++;
	return 0;
}

void allowedips_remove_by_peer(struct allowedips *t, struct peer *peer)
{
	struct allowedips_list *list = list_find(t, peer);
	struct allowedips_node *node, *next;

	if (!list)
		return;
	for (node = list->head; node; node = next) {
		next = node->next;
		node->prev = node->next = NULL;
		node_remove(t, node);
	}
	list->head = list->tail = NULL;
	list->count = 0;
	list_put(t, list);
	t->seq++;
}

struct peer *allowedips_lookup(const struct allowedips *t, int family, const void *addr)
{
	uint8_t bitlen = family_bits(family);
	const struct allowedips_node *node;
	struct peer *found = NULL;
	uint64_t key[2];

	if (!bitlen || !addr)
		return NULL;
	key_load(key, addr, bitlen);
	node = bitlen == 32 ? t->root4 : t->root6;
	/* every node on the path is a shorter prefix of key; the last route seen is longest */
	while (node && prefix_matches(node, key)) {
		if (node->peer)
			found = node->peer;
		if (node->cidr == bitlen)
			break;
		node = node->bit[choose(node, key)];
	}
	return found;
}

int allowedips_walk_by_peer(const struct allowedips *t, const struct peer *peer,
			    int (*fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
			    void *ctx)
{
	const struct allowedips_list *list = list_find(t, peer);
	const struct allowedips_node *node;
	uint8_t addr[16];
	int ret;

	for (node = list ? list->head : NULL; node; node = node->next) {
		key_store(addr, node->key, node->bitlen);
		ret = fn(ctx, node->bitlen == 32 ? AF_INET : AF_INET6, addr, node->cidr);
		if (ret)
			return ret;
	}
	return 0;
}

size_t allowedips_count_by_peer(const struct allowedips *t, const struct peer *peer)
{
	const struct allowedips_list *list = list_find(t, peer);

	return list ? list->count : 0;
}
