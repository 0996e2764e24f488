/* SPDX-License-Identifier: MIT */
/*
 * Logging: LOG_LEVEL parsing, level filtering, the line format, one line per message
 * whatever the text holds, and the rate limiter as a numbered boundary table driven by
 * explicit times (white-box: includes log.c to reach ratelimit_allow).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "wgd/log.c"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static FILE *captured;

/* Points fd 2 at a temporary file for the rest of this test process. */
static void capture_stderr(void)
{
	captured = tmpfile();
	cr_assert(not(eq(ptr, captured, NULL)));
	cr_assert(eq(int, dup2(fileno(captured), STDERR_FILENO), STDERR_FILENO));
}

/* Everything written since the last call, NUL-terminated. */
static char *take_output(void)
{
	static char buf[8192];
	static long done;
	long end = lseek(fileno(captured), 0, SEEK_END);
	ssize_t n;

	cr_assert(lt(long, end - done, (long)sizeof(buf)));
	n = pread(fileno(captured), buf, (size_t)(end - done), done);
	cr_assert(eq(long, (long)n, end - done));
	buf[n] = '\0';
	done = end;
	return buf;
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(log, level_parse_table)
{
	static const struct {
		const char *in;
		bool ok;
		enum log_level want;
	} cases[] = {
		{ "silent", true, LOG_SILENT },	  { "error", true, LOG_ERROR },
		{ "info", true, LOG_INFO },	  { "verbose", true, LOG_VERBOSE },
		{ "debug", true, LOG_VERBOSE },	  { "VERBOSE", true, LOG_VERBOSE },
		{ "Error", true, LOG_ERROR },	  { "", false, LOG_INFO },
		{ "warn", false, LOG_INFO },	  { "verbose ", false, LOG_INFO },
		{ "silentx", false, LOG_INFO },	  { "0", false, LOG_INFO },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum log_level got = LOG_INFO;

		cr_assert(eq(int, log_level_parse(cases[i].in, &got), cases[i].ok), "case %zu",
			  i + 1);
		cr_assert(eq(int, got, cases[i].want), "case %zu", i + 1);
	}
}

Test(log, init_reads_log_level)
{
	capture_stderr();
	unsetenv("LOG_LEVEL");
	log_init("wg0");
	cr_assert(eq(int, log_get_level(), LOG_INFO));
	setenv("LOG_LEVEL", "debug", 1);
	log_init("wg0");
	cr_assert(eq(int, log_get_level(), LOG_VERBOSE));
	setenv("LOG_LEVEL", "silent", 1);
	log_init("wg0");
	cr_assert(eq(int, log_get_level(), LOG_SILENT));
	cr_assert_str_empty(take_output());
	setenv("LOG_LEVEL", "loud", 1);
	log_init("wg0");
	cr_assert(eq(int, log_get_level(), LOG_INFO));
	cr_assert(not(eq(ptr, strstr(take_output(), "wg0: error: Unknown LOG_LEVEL"), NULL)));
}

Test(log, line_format)
{
	regex_t re;
	char *out;

	capture_stderr();
	unsetenv("LOG_LEVEL");
	log_init("wgtest0");
	log_info("Interface up, port %u", 51820U);
	out = take_output();
	cr_assert(eq(int, regcomp(&re,
				  "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
				  "wgtest0: info: Interface up, port 51820\n$",
				  REG_EXTENDED | REG_NOSUB),
		     0));
	cr_assert(eq(int, regexec(&re, out, 0, NULL, 0), 0), "got: %s", out);
	regfree(&re);
	log_init(NULL);
	log_error("x");
	cr_assert(not(eq(ptr, strstr(take_output(), " wgd: error: x\n"), NULL)));
}

Test(log, levels_filter)
{
	static const struct {
		enum log_level level;
		unsigned int lines; /* of error, info, verbose */
	} cases[] = {
		{ LOG_SILENT, 0 },
		{ LOG_ERROR, 1 },
		{ LOG_INFO, 2 },
		{ LOG_VERBOSE, 3 },
	};

	capture_stderr();
	log_init("wg1");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		log_set_level(cases[i].level);
		cr_assert(eq(int, log_get_level(), cases[i].level));
		log_error("e");
		log_info("i");
		log_verbose("v");
		cr_assert(eq(u32, count_lines(take_output()), cases[i].lines), "case %zu", i + 1);
	}
}

/* Text from the network must not forge extra lines; long text is cut, still one line. */
Test(log, one_line_per_message)
{
	char big[3 * LOG_LINE_MAX];
	char *out;

	capture_stderr();
	log_init("wg2");
	log_set_level(LOG_INFO);
	log_info("a\nb\rc\x7f" "d");
	out = take_output();
	cr_assert(eq(u32, count_lines(out), 1));
	cr_assert(not(eq(ptr, strstr(out, "info: a?b?c?d\n"), NULL)), "got: %s", out);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	out = take_output();
	cr_assert(eq(u32, count_lines(out), 1));
	cr_assert(eq(sz, strlen(out), LOG_LINE_MAX - 1));
	cr_assert(eq(chr, out[strlen(out) - 1], '\n'));
}

#define S (1000000000ULL)

/* The limiter alone, on explicit times: {now, allowed, suppressed reported}. */
Test(log, ratelimit_table)
{
	static const struct {
		uint64_t now_ns;
		unsigned int repeat;
		bool allow;
		unsigned int suppressed;
	} cases[] = {
		{ 5 * S, 10, true, 0 },		    /* 1: the burst */
		{ 5 * S, 1, false, 0 },		    /* 2: 11th in the window */
		{ 5 * S + S - 1, 2, false, 0 },	    /* 3: last ns of the window */
		{ 6 * S, 1, true, 3 },		    /* 4: new window, 3 were dropped */
		{ 6 * S + 1, 9, true, 0 },	    /* 5: rest of the burst */
		{ 6 * S + 2, 1, false, 0 },	    /* 6 */
		{ 7 * S + 1, 1, true, 1 },	    /* 7 */
		{ 100 * S, 1, true, 0 },	    /* 8: quiet window in between */
	};
	struct log_ratelimit rl = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (unsigned int r = 0; r < cases[i].repeat; r++) {
			unsigned int suppressed = 99;
			bool ok = ratelimit_allow(&rl, cases[i].now_ns, &suppressed);

			cr_assert(eq(int, ok, cases[i].allow), "case %zu.%u", i + 1, r + 1);
			cr_assert(eq(u32, suppressed, r ? 0 : cases[i].suppressed), "case %zu.%u",
				  i + 1, r + 1);
		}
	}
}

Test(log, verbose_rl_prints_a_burst_and_only_when_verbose)
{
	struct log_ratelimit rl = { 0 }, quiet = { 0 };

	capture_stderr();
	log_init("wg3");
	log_set_level(LOG_VERBOSE);
	for (int i = 0; i < 100; i++)
		log_verbose_rl(&rl, "Packet %d dropped", i);
	cr_assert(eq(u32, count_lines(take_output()), LOG_RATELIMIT_BURST));
	log_set_level(LOG_INFO);
	log_verbose_rl(&quiet, "x");
	cr_assert_str_empty(take_output());
	cr_assert(eq(u32, quiet.count, 0), "not counted when not printed at all");
}
