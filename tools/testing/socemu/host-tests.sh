#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests that run on the host: the fixtures of the rig's KTAP parser
# (ktap_test.py), then, in the laid kernel tree, the userspace harness of
# vringh's MMIO variant (against the real vringh.c and virtio_ring.c,
# under ASan/UBSan) and its libFuzzer target for a bounded time
# (FUZZ_TIME seconds, default 60; "make fuzz" runs it for 600).
# Writes KTAP to $HOST_KTAP, logs to $HOST_LOG.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
VIRTIO=$CACHE/src/tools/virtio
LOG=${HOST_LOG:-$REPO/logs/host.log}
KTAP=${HOST_KTAP:-/dev/null}
FUZZ_TIME=${FUZZ_TIME:-60}
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

echo "### vringh_mmio_fuzz, ${FUZZ_TIME}s" >> "$LOG"
# A fresh corpus each run, so that a run is repeatable from the seeds.
rm -rf "$VIRTIO/vringh_mmio_corpus"
make -s -C "$VIRTIO" fuzz-short FUZZ_TIME="$FUZZ_TIME" >> "$LOG" 2>&1
result $? "vringh_mmio_fuzz for ${FUZZ_TIME}s (libFuzzer)"
exit $fail
