/* SPDX-License-Identifier: MIT */
/*
 * For the targets whose parsers resolve endpoints (the config file, wgctl's argv): a
 * getaddrinfo that only ever accepts numeric hosts, so a fuzzed hostname costs no DNS
 * query and no retry delay, and the result does not depend on the network. It replaces
 * libc's for the whole executable (the fuzz target, or the regression test binary).
 */
#ifndef WGD_TESTS_FUZZ_NUMERIC_DNS_H
#define WGD_TESTS_FUZZ_NUMERIC_DNS_H

#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	struct addrinfo h = { 0 };

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
		if (!real)
			abort();
	}
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

#endif
