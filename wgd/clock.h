/* SPDX-License-Identifier: MIT */
/*
 * The daemon's two clocks. Protocol timers run on CLOCK_BOOTTIME so that a suspended
 * machine still sees its keys age (as Linux WireGuard uses ktime_get_boottime); wall-clock
 * time is only for TAI64N handshake timestamps and the "last handshake" shown to users.
 * Nothing below crypto/ reads a clock: callers pass now_ns down.
 */
#ifndef WGD_CLOCK_H
#define WGD_CLOCK_H

#include <stdint.h>

/* Nanoseconds of CLOCK_BOOTTIME: monotonic, counts suspend. */
uint64_t clock_boottime_ns(void);

/* Nanoseconds since the Unix epoch, CLOCK_REALTIME: may jump. */
uint64_t clock_realtime_ns(void);

#endif
