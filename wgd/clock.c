/* SPDX-License-Identifier: MIT */
/* clock_gettime wrappers; see clock.h for which clock serves what. */
#include <time.h>

#include "wgd/clock.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these two clock ids on Linux >= 2.6.39. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t clock_boottime_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t clock_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
