/* SPDX-License-Identifier: MIT */
/*
 * The endpoint resolver's pure parts: the checks on the records the unprivileged child
 * sends (each field, each way to be wrong), and the retry schedule with time passed in.
 * The child itself and its privileges are tested in tests/netns/resolve.sh.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "wgd/resolver.h"

enum { S = 1000000000 };

/* Three jobs: 0 asked, 1 asked and already answered, 2 not asked. All for port 51820. */
static void jobs_init(struct resolver_job jobs[3])
{
	memset(jobs, 0, 3 * sizeof(*jobs));
	for (int i = 0; i < 3; i++)
		jobs[i].port = 51820;
	jobs[0].is_asked = true;
	jobs[1].is_asked = true;
	jobs[1].is_answered = true;
}

static struct resolver_record v4_ok(void)
{
	struct resolver_record r = { .job = 0, .family = AF_INET, .port = 51820 };

	inet_pton(AF_INET, "198.51.100.1", r.addr);
	return r;
}

static struct resolver_record v6_ok(void)
{
	struct resolver_record r = { .job = 0, .family = AF_INET6, .port = 51820 };

	inet_pton(AF_INET6, "2001:db8::1", r.addr);
	return r;
}

static struct resolver_record failed(int status, int sys_errno)
{
	return (struct resolver_record){ .job = 0, .status = status, .sys_errno = sys_errno };
}

Test(resolver, record_checks_every_field)
{
	struct {
		struct resolver_record rec;
		int want;
	} cases[14];
	struct resolver_job jobs[3];
	size_t n = 0;

	jobs_init(jobs);
	cases[n++] = (typeof(cases[0])){ v4_ok(), 0 };
	cases[n++] = (typeof(cases[0])){ v6_ok(), 0 };
	cases[n++] = (typeof(cases[0])){ failed(EAI_AGAIN, 0), 0 };
	cases[n++] = (typeof(cases[0])){ failed(EAI_SYSTEM, EIO), 0 };
	/* a job out of range, one already answered, one never asked */
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.job = 3;
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.job = 1;
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.job = 2;
	/* an address: the job's port, a known family, IPv4 bytes only, no errno */
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.port = 51821;
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.family = AF_UNIX;
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.addr[4] = 1;
	cases[n] = (typeof(cases[0])){ v4_ok(), -EINVAL };
	cases[n++].rec.sys_errno = EIO;
	/* a failure: a known EAI code, errno only with EAI_SYSTEM and in range, no address */
	cases[n++] = (typeof(cases[0])){ failed(-12345, 0), -EINVAL };
	cases[n++] = (typeof(cases[0])){ failed(EAI_SYSTEM, 5000), -EINVAL };
	cases[n] = (typeof(cases[0])){ failed(EAI_NONAME, 0), -EINVAL };
	cases[n++].rec.addr[0] = 10;
	cr_assert(eq(sz, n, sizeof(cases) / sizeof(cases[0])));
	for (size_t i = 0; i < n; i++)
		cr_expect(eq(int, resolver_record_check(&cases[i].rec, jobs, 3), cases[i].want),
			  "case %zu", i + 1);
	/* two more: an EAI_SYSTEM without errno, an errno without EAI_SYSTEM */
	cases[0].rec = failed(EAI_SYSTEM, 0);
	cr_expect(eq(int, resolver_record_check(&cases[0].rec, jobs, 3), -EINVAL));
	cases[0].rec = failed(EAI_AGAIN, EIO);
	cr_expect(eq(int, resolver_record_check(&cases[0].rec, jobs, 3), -EINVAL));
}

Test(resolver, record_to_sockaddr)
{
	struct resolver_record r4 = v4_ok(), r6 = v6_ok();
	union cfg_sockaddr sa;

	resolver_record_sockaddr(&r4, &sa);
	cr_assert(eq(int, sa.sa.sa_family, AF_INET));
	cr_assert(eq(u16, ntohs(sa.in4.sin_port), 51820));
	cr_assert(zero(int, memcmp(&sa.in4.sin_addr, r4.addr, 4)));
	r6.scope_id = 7;
	resolver_record_sockaddr(&r6, &sa);
	cr_assert(eq(int, sa.sa.sa_family, AF_INET6));
	cr_assert(eq(u16, ntohs(sa.in6.sin6_port), 51820));
	cr_assert(eq(u32, sa.in6.sin6_scope_id, 7));
	cr_assert(zero(int, memcmp(&sa.in6.sin6_addr, r6.addr, 16)));
}

Test(resolver, backoff_doubles_to_a_minute)
{
	static const struct {
		unsigned int failures;
		uint64_t s;
	} cases[] = { { 1, 1 },	 { 2, 2 },  { 3, 4 },  { 4, 8 },     { 5, 16 },
		      { 6, 32 }, { 7, 60 }, { 8, 60 }, { 1000, 60 }, { UINT32_MAX, 60 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect(eq(u64, resolver_backoff_s(cases[i].failures), cases[i].s), "case %zu",
			  i + 1);
}

/* One log line per change of reason, and each retry later than the last. */
Test(resolver, failures_schedule_and_log_on_change)
{
	static const struct {
		uint64_t now_ns;
		int error, sys_errno;
		bool is_news;
		uint64_t retry_ns;
	} cases[] = {
		{ 10ULL * S, EAI_AGAIN, 0, true, 11ULL * S },
		{ 11ULL * S, EAI_AGAIN, 0, false, 13ULL * S },
		{ 13ULL * S, EAI_AGAIN, 0, false, 17ULL * S },
		{ 17ULL * S, EAI_NONAME, 0, true, 25ULL * S },
		{ 25ULL * S, EAI_SYSTEM, EIO, true, 41ULL * S },
		{ 41ULL * S, EAI_SYSTEM, EIO, false, 73ULL * S },
		{ 73ULL * S, EAI_SYSTEM, ENOMEM, true, 133ULL * S },
		{ 133ULL * S, EAI_SYSTEM, ENOMEM, false, 193ULL * S },
	};
	struct resolver_job j = { .port = 1 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect(eq(int,
			     resolver_job_failed(&j, cases[i].error, cases[i].sys_errno,
						 cases[i].now_ns),
			     cases[i].is_news),
			  "case %zu", i + 1);
		cr_expect(eq(u64, j.retry_ns, cases[i].retry_ns), "case %zu", i + 1);
	}
	cr_assert(eq(uint, j.failures, 8));
}

Test(resolver, next_retry_skips_done_and_asked_jobs)
{
	struct resolver_job jobs[4] = {
		{ .retry_ns = 5ULL * S, .is_done = true },
		{ .retry_ns = 6ULL * S, .is_asked = true },
		{ .retry_ns = 9ULL * S },
		{ .retry_ns = 8ULL * S },
	};

	cr_assert(eq(u64, resolver_next_retry_ns(jobs, 4), 8ULL * S));
	cr_assert(eq(u64, resolver_next_retry_ns(jobs, 2), UINT64_MAX));
	cr_assert(eq(u64, resolver_next_retry_ns(jobs, 0), UINT64_MAX));
}
