/* SPDX-License-Identifier: MIT */
/* The ANSI sequences wg(8)'s reports use (wireguard-tools terminal.h), so colours match. */
#ifndef CTL_TERM_H
#define CTL_TERM_H

#define TERM_RESET     "\x1b[0m"
#define TERM_BOLD      "\x1b[1m"
#define TERM_FG_RED    "\x1b[31m"
#define TERM_FG_GREEN  "\x1b[32m"
#define TERM_FG_YELLOW "\x1b[33m"
#define TERM_FG_CYAN   "\x1b[36m"

#endif
