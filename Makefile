# SPDX-License-Identifier: GPL-2.0
#
# The vhost-soc series: build it in-tree against Linux 6.12 and test it on
# an emulated pair of SoCs in QEMU.  See README.md.
#
#   make check       build what is stale, run the lint gates and the tests
#   make demo        boot the two-SoC pair and show the rig's self-test
#   make kernel      the debug kernel, its initramfs and the host tools
#   make bench-kernel  the benchmark kernel (no debug options)
#   make bench       the benchmarks, next to the link's own limits
#   make lint        checkpatch --strict, sparse, W=1, kernel-doc
#   make test        the QEMU tests only (ONLY=boot-name to pick boots)
#   make host-test   the host tests: vringh MMIO harness, 60 s of fuzzing
#   make series      the series as patches with a cover letter, in SERIES_OUT
#   make fuzz        the vringh MMIO fuzzer for 10 minutes
#
# The kernel tree and builds live in $(VHOST_SOC_CACHE), outside the
# repository, and are reused.

RIG		:= tools/testing/socemu
VHOST_SOC_CACHE	?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vhost-soc
export VHOST_SOC_CACHE
LOGS		?= $(CURDIR)/logs
SERIES_OUT	?= $(CURDIR)/series-out
HOSTBIN		:= $(VHOST_SOC_CACHE)/host-bin
HOSTCFLAGS	:= -O2 -g -Wall -Wextra -Werror -std=gnu11
# Stretches every time limit, the host's and the guests' (slow machines).
TIMEOUT_SCALE	?= 1
VSOC		:= python3 $(RIG)/vsoc.py --logs $(LOGS) --timeout-scale $(TIMEOUT_SCALE)

.PHONY: all setup kernel bench-kernel bench host lint test host-test fuzz \
	check demo series clean

all: kernel

setup:
	@$(RIG)/setup.sh

host: setup $(HOSTBIN)/ivshmem-server

$(HOSTBIN)/ivshmem-server: $(RIG)/ivshmem-server.c
	@mkdir -p $(HOSTBIN)
	$(CC) $(HOSTCFLAGS) -o $@ $<

# One run at a time per cache: a second "make check" on the machine waits
# for the first instead of rebuilding the kernel under its VMs.  The goals
# that use the cache run again, inside make, under the cache's lock.
LOCKED_GOALS	:= kernel bench-kernel bench lint test host-test fuzz check demo \
		   series

ifneq ($(VHOST_SOC_LOCKED),1)

$(LOCKED_GOALS):
	@mkdir -p $(VHOST_SOC_CACHE)
	@flock -n $(VHOST_SOC_CACHE)/lock true || \
		echo "make: another run holds $(VHOST_SOC_CACHE)/lock; waiting"
	@VHOST_SOC_LOCKED=1 flock $(VHOST_SOC_CACHE)/lock \
		$(MAKE) --no-print-directory $@

else
export VHOST_SOC_LOCKED

kernel: setup host
	@$(RIG)/build-kernel.sh debug
	@$(RIG)/mkinitramfs.sh debug $(VHOST_SOC_CACHE)/initramfs-debug.cpio.gz

bench-kernel: setup host
	@$(RIG)/build-kernel.sh bench
	@$(RIG)/mkinitramfs.sh bench $(VHOST_SOC_CACHE)/initramfs-bench.cpio.gz

bench: bench-kernel
	@$(VSOC) bench

lint: kernel
	@LINT_LOG=$(LOGS)/lint.log $(RIG)/lint.sh

test: kernel
	@$(VSOC) test $(addprefix --only ,$(ONLY))

host-test: kernel
	@HOST_LOG=$(LOGS)/host.log $(RIG)/host-tests.sh

fuzz: kernel
	@HOST_LOG=$(LOGS)/fuzz.log FUZZ_TIME=600 $(RIG)/host-tests.sh

# The lint gates first, then the boots with the host tests beside them;
# the QEMU tests run even when the lint fails, and every gate and host
# test counts in the summary, so one run reports everything.
check: kernel
	@LINT_LOG=$(LOGS)/lint.log LINT_KTAP=$(LOGS)/lint.ktap $(RIG)/lint.sh; \
	$(VSOC) test --host-tests \
		--lint-ktap $(LOGS)/lint.ktap

demo: kernel
	@$(VSOC) demo

# Written from patches/ and the repository's files, signed by your git
# identity; "make lint" (and so "make check") also applies them with git
# am to the pristine tree and builds each one.
series: setup
	@$(RIG)/lay-series.sh
	@python3 $(RIG)/series.py write $(SERIES_OUT)

endif

clean:
	rm -rf $(LOGS)
