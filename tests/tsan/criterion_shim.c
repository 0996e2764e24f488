/* SPDX-License-Identifier: MIT */
/*
 * Linked into the unit tests of the ThreadSanitizer build only (make check-tsan).
 * Criterion's BoxFort maps its shared "inheritable arena" with MAP_FIXED at a random
 * address between 0x200000000000 and 0x7f0000000000 that mincore says is free; most of
 * that range is ThreadSanitizer's shadow memory, mapped, so every try fails and each
 * test binary aborts ("Could not initialize inheritable arena", Criterion issue #274).
 * Here mincore calls the range below 0x7e8000000000 free, and mmap moves exactly such a
 * shared MAP_FIXED request into ThreadSanitizer's high application range (0x7e8000000000
 * up, still inside BoxFort's window), never replacing a mapping; every other call goes
 * on unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

#define SHIM_BOXFORT_LO 0x200000000000ULL /* BoxFort's window */
#define SHIM_TSAN_HI_APP 0x7e8000000000ULL /* ThreadSanitizer's high application memory */

static int in_shadow(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	return a >= SHIM_BOXFORT_LO && a < SHIM_TSAN_HI_APP;
}

int mincore(void *addr, size_t len, unsigned char *vec);

int mincore(void *addr, size_t len, unsigned char *vec)
{
	static int (*next)(void *, size_t, unsigned char *);

	if (in_shadow(addr)) {
		errno = ENOMEM;
		return -1;
	}
	if (!next)
		next = (int (*)(void *, size_t, unsigned char *))dlsym(RTLD_NEXT, "mincore");
	return next(addr, len, vec);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static mmap_fn next;
	static uintptr_t slot;
	if (!next)
		next = (mmap_fn)dlsym(RTLD_NEXT, "mmap64");
	if ((flags & (MAP_FIXED | MAP_SHARED)) == (MAP_FIXED | MAP_SHARED) && fd >= 0 &&
	    in_shadow(addr)) {
		/* one 1 GiB slot per arena of this process, from the bottom of the range */
		addr = (void *)(SHIM_TSAN_HI_APP + (slot++ << 30));
		flags = (flags & ~MAP_FIXED) | MAP_FIXED_NOREPLACE;
	}
	return next(addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap64(addr, len, prot, flags, fd, off);
}

/*
 * Tests fork children of the (threaded) test process that go on running code; Criterion's
 * test processes do not see TSAN_OPTIONS from the environment, hence the default here.
 */
const char *__tsan_default_options(void);

const char *__tsan_default_options(void)
{
	return "die_after_fork=0";
}
