/* SPDX-License-Identifier: MIT */
/*
 * wgd/netns: names that are not a file of /run/netns are refused before any open, a
 * missing namespace is ENOENT, and entering our own namespace (root only) works while an
 * fd of something else is refused by the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/netns.h"

Test(netns, bad_names_refused)
{
	cr_expect(eq(int, netns_open(""), -EINVAL));
	cr_expect(eq(int, netns_open("."), -EINVAL));
	cr_expect(eq(int, netns_open(".."), -EINVAL));
	cr_expect(eq(int, netns_open("../../proc/self/ns/net"), -EINVAL));
	cr_expect(eq(int, netns_open(NULL), -EINVAL));
}

Test(netns, missing_namespace_is_enoent)
{
	cr_expect(eq(int, netns_open("wgd-unit-test-no-such-namespace"), -ENOENT));
}

Test(netns, enter_own_namespace)
{
	int self = netns_open_self(), other;

	cr_assert(ge(int, self, 0));
	if (geteuid() == 0)
		cr_expect(eq(int, netns_enter(self), 0));
	else
		cr_expect(eq(int, netns_enter(self), -EPERM));
	other = open("/", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, other, 0));
	cr_expect(lt(int, netns_enter(other), 0));
	close(other);
	close(self);
}
