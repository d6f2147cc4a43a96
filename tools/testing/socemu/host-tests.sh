#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests that run on the host: the fixtures of the rig's KTAP parser
# (ktap_test.py), then, in the laid kernel tree, the userspace harness of
# vringh's MMIO variant (against the real vringh.c and virtio_ring.c,
# under ASan/UBSan) and its libFuzzer target for a bounded
# amount of work: FUZZ_RUNS inputs from a fixed seed (default 500000,
# about 35 s here), so that a slow machine does the same work, not less;
# with FUZZ_TIME set instead, for that many seconds ("make fuzz": 600).
# Writes KTAP to $HOST_KTAP, logs to $HOST_LOG.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
VIRTIO=$CACHE/src/tools/virtio
LOG=${HOST_LOG:-$REPO/logs/host.log}
KTAP=${HOST_KTAP:-/dev/null}
FUZZ_TIME=${FUZZ_TIME:-}
FUZZ_RUNS=${FUZZ_RUNS:-500000}
mkdir -p "$(dirname "$LOG")"
: > "$LOG"
n=0
fail=0
printf 'KTAP version 1\n1..3\n' > "$KTAP"

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "host: $2: ok"
		echo "ok $n host: $2" >> "$KTAP"
	else
		echo "host: $2: FAILED (see $LOG)"
		echo "not ok $n host: $2" >> "$KTAP"
		fail=1
	fi
}

echo "### ktap_test.py" >> "$LOG"
python3 "$REPO/tools/testing/socemu/ktap_test.py" >> "$LOG" 2>&1
result $? "ktap parser fixtures"

echo "### vringh_mmio_test" >> "$LOG"
make -s -C "$VIRTIO" vringh_mmio_test >> "$LOG" 2>&1 &&
	(cd "$VIRTIO" && ./vringh_mmio_test) >> "$LOG" 2>&1
result $? "vringh_mmio_test (userspace, ASan/UBSan)"

if [ -n "$FUZZ_TIME" ]; then
	what="for ${FUZZ_TIME}s"
	args=(FUZZ_TIME="$FUZZ_TIME")
else
	# -max_total_time only bounds a run that would hang.
	what="$FUZZ_RUNS inputs, seed 1"
	args=(FUZZ_TIME=3600 FUZZ_EXTRA_ARGS="-runs=$FUZZ_RUNS -seed=1")
fi
echo "### vringh_mmio_fuzz, $what" >> "$LOG"
# A fresh corpus each run, so that a run is repeatable from the seeds.
rm -rf "$VIRTIO/vringh_mmio_corpus"
make -s -C "$VIRTIO" fuzz-short "${args[@]}" >> "$LOG" 2>&1
result $? "vringh_mmio_fuzz, $what (libFuzzer)"
exit $fail
