/* SPDX-License-Identifier: MIT */
/*
 * wgd/secmem: what secmem.h promises, checked from outside the allocator: slots are
 * zeroed, distinct, aligned and reused; /proc/self/status counts the locked bytes;
 * /proc/self/smaps shows the mapping as excluded from core dumps ("dd"); a write one
 * byte past an object hits a guard page and kills the writer with SIGSEGV.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/secmem.h"

/* A /proc/self/status field in kB, or -1. */
static long status_kb(const char *field)
{
	char line[256];
	long kb = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* The VmFlags line of the smaps entry that contains addr ("" if none). */
static void vm_flags_of(const void *addr, char *out, size_t len)
{
	char line[512];
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)addr;
	bool inside = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	cr_assert_not_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			inside = a >= lo && a < hi;
		else if (inside && !strncmp(line, "VmFlags:", 8))
			snprintf(out, len, "%s", line);
	}
	fclose(f);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

Test(secmem, pool_slots_are_zeroed_distinct_aligned_and_reused)
{
	struct secmem_pool pool;
	uint8_t *slots[49], *again;
	size_t n = sizeof(slots) / sizeof(slots[0]);

	secmem_pool_init(&pool, 4056);
	cr_assert(eq(sz, pool.slot_size, 4096));
	for (size_t i = 0; i < n; i++) {
		slots[i] = secmem_pool_alloc(&pool);
		cr_assert_not_null(slots[i]);
		cr_assert(eq(sz, (uintptr_t)slots[i] % 64, 0));
		cr_assert(all_zero(slots[i], 4056));
		memset(slots[i], 0xa5, 4056);
		for (size_t j = 0; j < i; j++)
			cr_assert(slots[i] + 4096 <= slots[j] || slots[j] + 4096 <= slots[i]);
	}
	cr_assert(eq(sz, pool.live, n));
	/* chunks double from 4: 4 + 8 + 16 + 32 slots hold 49 */
	cr_assert(eq(sz, pool.slots, 60));
	secmem_pool_free(&pool, slots[5]);
	cr_assert(eq(sz, pool.live, n - 1));
	again = secmem_pool_alloc(&pool);
	cr_assert(eq(ptr, again, slots[5]));
	cr_assert(all_zero(again, 4096));
	cr_assert(eq(sz, pool.slots, 60)); /* no new chunk */
	secmem_pool_free(&pool, NULL);
	secmem_pool_destroy(&pool);
	cr_assert(eq(sz, pool.live, 0));
	cr_assert_null(pool.chunks);
}

Test(secmem, memory_is_locked_and_kept_out_of_core_dumps)
{
	long before = status_kb("VmLck");
	uint8_t *p = secmem_alloc(100000);
	char flags[512];

	cr_assert_not_null(p);
	cr_assert(all_zero(p, 100000));
	vm_flags_of(p, flags, sizeof(flags));
	cr_assert(not(eq(ptr, strstr(flags, " dd"), NULL)), "VmFlags: %s", flags);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) /* both make mlock a no-op */
	if (geteuid() == 0 || secmem_unlocked_bytes() == 0) {
		cr_assert(eq(sz, secmem_unlocked_bytes(), 0));
		cr_assert(ge(long, status_kb("VmLck") - before, 100000 / 1024));
		cr_assert(not(eq(ptr, strstr(flags, " lo"), NULL)), "VmFlags: %s", flags);
	}
#endif
	secmem_free(p);
	cr_assert(eq(long, status_kb("VmLck"), before));
	secmem_free(NULL);
}

/* In a child: restore the default SIGSEGV action (a sanitizer installs its own) and
 * write one byte past an object of 128 bytes. */
static int child_writes_past(void)
{
	pid_t pid = fork();
	int status = 0;

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		volatile uint8_t *p = secmem_alloc(128);

		signal(SIGSEGV, SIG_DFL);
		p[127] = 1; /* the last byte is fine */
		p[128] = 1; /* the guard page */
		_exit(0);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	return status;
}

Test(secmem, a_write_past_the_end_hits_the_guard_page)
{
	int status = child_writes_past();
	bool killed = WIFSIGNALED(status);
	int sig = killed ? WTERMSIG(status) : 0;

	cr_assert(killed, "child status %#x", status);
	cr_assert(eq(int, sig, SIGSEGV));
}
