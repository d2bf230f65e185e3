# podtrace: eBPF node agent for Kubernetes semantics.
#   make            build everything into build/
#   make test       install missing deps, build, run every test
#   make demo       install missing deps, build, run the daemon on examples/
#   make install    PREFIX=/usr/local DESTDIR=
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel's BTF

PREFIX ?= /usr/local
DESTDIR ?=
BUILD := build
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser/lib -I$(BUILD) \
	  -include $(BUILD)/version.h -D_GNU_SOURCE
LDLIBS := -lbpf -lelf -lz -lyaml -ljansson -lcgroup -lmicrohttpd -lm
BPF_CFLAGS := -target bpf -g -O2 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Iinclude -Ibpf \
	      -Wall -Wno-unused-function

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(LIB_SRCS))
DAEMON_SRCS := $(wildcard user/daemon/*.c)
DAEMON_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(DAEMON_SRCS))
CLI_SRCS := $(wildcard user/cli/*.c)
CLI_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(CLI_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))

.PHONY: FORCE all deps test unit e2e demo install clean vmlinux bench format

all: $(BUILD)/podtraced $(BUILD)/podtrace $(BUILD)/podtrace-echo $(TOOL_BINS)

# A tiny identity server (TCP/UDP/HTTP) for trying Services: the demo's pods
# run it. Same source as the tests' echo-id.
$(BUILD)/podtrace-echo: tests/tools/echo-id.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

deps:
	@bash tools/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/*.h include/*.h vmlinux/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# The version header is rewritten only when the version changes.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@echo '#define PT_VERSION "$(VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
FORCE:

$(BUILD)/%.o: user/%.c $(wildcard user/*/*.h) include/*.h $(SKELS) $(BUILD)/version.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser/$(firstword $(subst /, ,$*)) -c $< -o $@

$(BUILD)/libpt.a: $(LIB_OBJS)
	ar rcs $@ $^

$(BUILD)/podtraced: $(DAEMON_OBJS) $(BUILD)/libpt.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/podtrace: $(CLI_OBJS) $(BUILD)/libpt.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link the daemon's objects (minus main) and the library.
DAEMON_LIB_OBJS := $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJS))
$(BUILD)/tests/test_%: tests/unit/test_%.c $(DAEMON_LIB_OBJS) $(BUILD)/libpt.a $(BUILD)/version.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser/daemon -o $@ $(filter-out %.h,$^) $(LDLIBS) -lcmocka

# guardctl drives the guard plane through the daemon's own guard.c.
$(BUILD)/tests/guardctl: tests/tools/guardctl.c $(BUILD)/daemon/guard.o $(BUILD)/daemon/dataplane.o $(BUILD)/libpt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser/daemon -o $@ $^ $(LDLIBS)

# tracectl drives the trace plane through the daemon's own trace.c (libbpf only).
$(BUILD)/tests/tracectl: tests/tools/tracectl.c user/daemon/trace.c user/daemon/trace.h include/podtrace.h $(BUILD)/trace.skel.h $(BUILD)/version.h $(BUILD)/libpt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser/daemon -o $@ tests/tools/tracectl.c user/daemon/trace.c $(BUILD)/libpt.a -lbpf -lelf -lz

$(BUILD)/tests/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

unit: $(UNIT_BINS)
	@bash tests/run-unit.sh $(UNIT_BINS)

e2e: all
	@bash tests/run-e2e.sh

test: deps
	$(MAKE) all $(UNIT_BINS)
	@bash tests/run-all.sh

demo: deps all
	@bash tools/demo.sh

# make bench: podtrace vs kube-proxy (iptables, nftables), execsnoop and tc on
# this box; writes docs/benchmarks.md and docs/bench/*.png. QUICK=1: every
# comparison at its smallest size (< 3 min, checks the harness; report in
# build/bench/).
bench: deps all
	@QUICK=$(QUICK) bash tools/bench/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(BUILD)/podtrace $(DESTDIR)$(PREFIX)/bin/podtrace
	install -m 0755 $(BUILD)/podtraced $(DESTDIR)$(PREFIX)/sbin/podtraced
	install -m 0755 $(BUILD)/podtrace-echo $(DESTDIR)$(PREFIX)/bin/podtrace-echo

format:
	clang-format -i $$(git ls-files 'user/*.c' 'user/*.h' 'include/*.h' 'bpf/*.c' 'bpf/*.h' 'tests/*.c')

clean:
	rm -rf $(BUILD)
