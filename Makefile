# SPDX-License-Identifier: MIT
# One flat, non-recursive Makefile for wgd, wgctl and their tests.
# Sources are found by wildcard, so adding a module needs no edit here.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# Where `make install` puts wgd@.service: systemd reads /usr/local/lib/systemd/system and
# /usr/lib/systemd/system; for another PREFIX, set SYSTEMDUNITDIR=/etc/systemd/system.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
RUNSTATEDIR ?= /var/run
# The worker's own system user (wgd(8) USER), created by `make install` unless DESTDIR is set.
WGD_USER ?= wgd
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
# The package installer and the demo (tests/build/first-run.sh replaces both).
DEPS_SH ?= tests/deps.sh
DEMO_SH ?= docs/examples/demo.sh
PKGS := libsodium libcrypto libmnl libcap-ng libseccomp inih
# These are read once, when make parses this file: the targets that install packages
# first (deps, build-deps) therefore build in a second make, which reads them afresh.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -MMD -MP -DRUNSTATEDIR='"$(RUNSTATEDIR)"' \
	  -DSYSCONFDIR='"$(SYSCONFDIR)"' -I. $(PKG_CFLAGS)
CFLAGS += -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	  -Wimplicit-fallthrough -Wundef -Wvla -Wwrite-strings -Wcast-qual -Wpointer-arith
CFLAGS += -fstack-protector-strong -fPIE
LDFLAGS += -pie -Wl,-z,relro,-z,now
ifneq ($(WERROR),0)
CFLAGS += -Werror
endif

# Sanitizer builds live in their own tree so they never mix with release objects.
# TSAN=1: ThreadSanitizer for the crypt threads (make check-tsan).
ifeq ($(TSAN),1)
BUILD ?= build-tsan
CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
# Criterion's arena and ThreadSanitizer's shadow memory: see the shim
TSAN_SHIM = $(BUILD)/tests/tsan/criterion_shim.o
endif
ifeq ($(SANITIZE),1)
BUILD ?= build-san
CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
CFLAGS += -D_FORTIFY_SOURCE=2
endif

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

CRYPTO_SRC := $(sort $(wildcard crypto/*.c))
NETLINK_SRC := $(sort $(wildcard netlink/*.c))
WGD_SRC := $(sort $(filter-out wgd/main.c,$(wildcard wgd/*.c)))
CTL_SRC := $(sort $(wildcard ctl/*.c))
REF_SRC := $(sort $(wildcard tests/ref/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
# A tool too big for one file keeps its other modules in a directory of its own (gwload: tests/tools/gw/).
GWLOAD_SRC := $(sort $(wildcard tests/tools/gw/*.c))
PRELOAD_SRC := $(sort $(wildcard tests/preload/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_OBJ := $(call obj,$(CRYPTO_SRC) $(NETLINK_SRC) $(WGD_SRC))
CORE_LIB := $(BUILD)/libwgdcore.a
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
PRELOAD_LIB := $(patsubst tests/preload/%.c,$(BUILD)/tests/preload/%.so,$(PRELOAD_SRC))
ORACLE_H := $(BUILD)/tests/vectors/oracle_vectors.h

ALL_OBJ := $(CORE_OBJ) $(call obj,wgd/main.c $(CTL_SRC) $(REF_SRC) $(UNIT_SRC) $(TOOL_SRC) $(GWLOAD_SRC))
DEPS := $(ALL_OBJ:.o=.d)

.PHONY: all check check-unit check-tsan check-netns check-bench-smoke demo demo-tenants bench fuzz fuzz-smoke lint \
	format-check loc install install-user uninstall clean deps build-deps tools pkg-check \
	soak soak-smoke
.DEFAULT_GOAL := all
# Keep test objects between runs (they are intermediates of the pattern rules).
.SECONDARY:

# Binaries appear as their sources do, so a partial tree still builds.
BINS := $(if $(wildcard wgd/main.c),wgd/wgd) $(if $(CTL_SRC),ctl/wgctl)
all: pkg-check $(BINS) $(CORE_LIB)

# Without the libraries' .pc files every link fails far from the cause: say it first.
pkg-check:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { echo \
		"make: missing build packages ($(PKGS) for $(PKG_CONFIG)): run 'make deps' as root" >&2; \
		exit 1; }

$(BUILD)/%.o: %.c
	$(quiet) CC $<
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The unit tests link against an archive: a white-box test that #includes a
# module's .c defines that module's symbols itself, so the linker never pulls
# the duplicate object out of the archive.
$(CORE_LIB): $(CORE_OBJ)
	$(quiet) AR $@
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

wgd/wgd: $(BUILD)/wgd/main.o $(CORE_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The daemon again inside the build tree, so `make SANITIZE=1 build-san/wgd/wgd` gives an
# ASan/LSan daemon for leak runs without replacing wgd/wgd.
$(BUILD)/wgd/wgd: $(BUILD)/wgd/main.o $(CORE_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

ctl/wgctl: $(call obj,$(CTL_SRC)) $(CORE_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The independent oracle (tests/oracle/wg_oracle.py) writes the packets our C must
# reproduce. It needs Debian's python3-cryptography and python3-nacl, hence /usr/bin/python3.
$(ORACLE_H): tests/oracle/wg_oracle.py
	$(quiet) GEN $@
	@mkdir -p $(dir $@)
	$(Q)/usr/bin/python3 $< > $@.tmp && mv $@.tmp $@

# the shim runs inside ThreadSanitizer's own start-up: it must not be instrumented
$(BUILD)/tests/tsan/criterion_shim.o: CFLAGS := $(filter-out -fsanitize=thread,$(CFLAGS))

$(BUILD)/tests/unit/oracle_test.o: $(ORACLE_H)
$(BUILD)/tests/unit/%.o: CFLAGS += -I$(BUILD)/tests/vectors -Wno-missing-prototypes

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(call obj,$(REF_SRC)) $(CORE_LIB) $(TSAN_SHIM)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread -lm -ldl

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(CORE_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# LD_PRELOAD fault injectors for the namespace tests (tests/preload/).
$(BUILD)/tests/preload/%.so: tests/preload/%.c
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out -fPIE,$(CFLAGS)) -fPIC -shared -o $@ $< -ldl

$(BUILD)/tests/tools/gwload: $(BUILD)/tests/tools/gwload.o $(call obj,$(GWLOAD_SRC)) $(CORE_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

tools: $(TOOL_BIN) $(PRELOAD_LIB)

# deps: install every build and test dependency on Debian 12; build-deps: only what
# `make` and `make install` need. Both are no-ops when the packages are present. Every
# target that depends on them builds in a sub-make, which sees the new packages.
deps:
	@sh $(DEPS_SH)

build-deps:
	@sh $(DEPS_SH) --build

check: deps
	$(Q)$(MAKE) --no-print-directory all tools $(UNIT_BIN)
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 build-san/wgd/wgd
	$(Q)sh tests/check.sh "$(BUILD)" $(UNIT_BIN)

check-unit: $(UNIT_BIN)
	$(Q)sh tests/run-unit.sh $(UNIT_BIN)

# The unit tests, threads.sh, the interop pairs and dataplane.sh under ThreadSanitizer
# (build-tsan/; tests/tsan/check-tsan.sh), not part
# of `make check` (docs/TESTING.md has its time); the namespace part needs root.
check-tsan:
	$(Q)$(MAKE) --no-print-directory TSAN=1 build-tsan/wgd/wgd build-tsan/tests/tools/hsload \
		$(patsubst $(BUILD)/%,build-tsan/%,$(UNIT_BIN))
	$(Q)sh tests/tsan/check-tsan.sh build-tsan

check-netns: all tools
	$(Q)sh tests/netns/run.sh

# The soak (docs/TESTING.md, "Soak"): a 1 000-peer hub under handshakes, UAPI churn,
# reloads, floods and traffic for SOAK_MINUTES; its RSS, fds and peers must hold still.
# SOAK_LSAN=1: the hub is the ASan/UBSan/LSan build. soak-smoke: 1 minute, 200 peers.
SOAK_MINUTES ?= 30
SOAK_PEERS ?= 1000
SOAK_LSAN ?= 0
.PHONY: soak soak-smoke
soak: deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(if $(filter 1,$(SOAK_LSAN)),$(Q)$(MAKE) --no-print-directory SANITIZE=1 build-san/wgd/wgd)
	$(Q)SOAK_MINUTES=$(SOAK_MINUTES) SOAK_PEERS=$(SOAK_PEERS) SOAK_LSAN=$(SOAK_LSAN) \
		bash tests/soak/soak.sh

soak-smoke:
	$(Q)$(MAKE) --no-print-directory soak SOAK_MINUTES=1 SOAK_PEERS=200

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh $(DEMO_SH)

# Gateway redundancy (docs/examples/ha/README.md): HA_MODE=bfd, vrrp or all.
HA_MODE ?= all
.PHONY: demo-ha
demo-ha: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash docs/examples/ha/demo-ha.sh $(HA_MODE)

# Two customers with the same prefixes on one hub (README "One hub, many customers").
demo-tenants: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh docs/examples/demo-tenants.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)sh bench/bench.sh

FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) -g -O1 -DFUZZING \
	-DRUNSTATEDIR='"$(RUNSTATEDIR)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
build-fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(CRYPTO_SRC) $(NETLINK_SRC) $(WGD_SRC)
	@mkdir -p build-fuzz
	$(quiet) FUZZ $@
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(CRYPTO_SRC) $(NETLINK_SRC) $(WGD_SRC) $(PKG_LIBS) -lpthread
# wgctl's target #includes ctl/*.c; its UAPI sockets live where no daemon can listen.
build-fuzz/ctl_argv: $(CTL_SRC)
build-fuzz/ctl_argv: FUZZ_CFLAGS += -URUNSTATEDIR -DRUNSTATEDIR='"/nonexistent/wgd-fuzz"'

fuzz: $(FUZZ_BIN)

fuzz-smoke: fuzz
	$(Q)sh tests/fuzz/smoke.sh $(FUZZ_BIN)

lint:
	$(Q)mandoc -Tlint -Wwarning docs/*.8 docs/*.5 2>/dev/null || mandoc -Tlint -Wwarning docs/*.8
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -I. crypto wgd netlink ctl

format-check:
	$(Q)clang-format --dry-run -Werror $(CRYPTO_SRC) $(WGD_SRC) $(CTL_SRC) $(NETLINK_SRC) \
		$(wildcard crypto/*.h wgd/*.h ctl/*.h netlink/*.h)

loc:
	@for d in crypto wgd netlink ctl tests; do \
		printf '%-8s %6s\n' $$d "$$(cat $$(find $$d -name '*.[ch]') /dev/null | wc -l)"; \
	done

install: build-deps
	$(Q)$(MAKE) --no-print-directory all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 wgd/wgd ctl/wgctl $(DESTDIR)$(BINDIR)/
	install -m 0644 $(wildcard docs/*.8) $(DESTDIR)$(MANDIR)/man8/
	$(if $(wildcard docs/*.5),install -m 0644 $(wildcard docs/*.5) $(DESTDIR)$(MANDIR)/man5/)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		docs/wgd@.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/wgd@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/wgd@.service
	$(Q)$(MAKE) --no-print-directory install-user

# The worker's account: a system user no other service shares, with no shell and no home.
# A staged install (DESTDIR) cannot add users to this machine: the package does that.
install-user:
	@if [ -n "$(DESTDIR)" ]; then \
		echo "make install: DESTDIR is set: not creating the system user $(WGD_USER)"; \
	elif getent passwd $(WGD_USER) >/dev/null; then :; else \
		echo "useradd --system $(WGD_USER)"; \
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --comment "wgd worker" $(WGD_USER); \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wgd $(DESTDIR)$(BINDIR)/wgctl
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/wgd@.service
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard docs/*.8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard docs/*.5)))

clean:
	rm -rf build build-san build-tsan build-fuzz wgd/wgd ctl/wgctl

-include $(DEPS)
