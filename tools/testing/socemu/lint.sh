#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The series' gates: checkpatch --strict, sparse (C=2), W=1 and kernel-doc
# on every file of the series, checkpatch on every patch to an upstream
# file.  Run after build-kernel.sh debug (it uses that build directory).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
SRC=$CACHE/src
OUT=$CACHE/build-debug
LOG=${LINT_LOG:-$REPO/logs/lint.log}
KTAP=${LINT_KTAP:-/dev/null}
mkdir -p "$(dirname "$LOG")"
: > "$LOG"
fail=0
n=0
printf 'KTAP version 1\n1..4\n' > "$KTAP"

cd "$REPO"
# Kernel sources of the series, and the C of its host tools.
mapfile -t KFILES < <(git ls-files -co --exclude-standard -- \
	drivers include samples | grep -E '\.[ch]$')
mapfile -t KBUILD < <(git ls-files -co --exclude-standard -- \
	drivers include samples | grep -E '(Kconfig|Makefile)$')
mapfile -t TOOLC < <(git ls-files -co --exclude-standard -- tools |
	grep -E '\.[ch]$')

gate() {
	local name=$1
	shift
	n=$((n + 1))
	echo "### $name" >> "$LOG"
	if "$@" >> "$LOG" 2>&1; then
		echo "lint: $name: clean"
		echo "ok $n lint: $name" >> "$KTAP"
	else
		echo "lint: $name: FAILED (see $LOG)"
		echo "not ok $n lint: $name" >> "$KTAP"
		fail=1
	fi
}

checkpatch_files() {
	local rc=0 f
	for f in "$@"; do
		(cd "$SRC" && scripts/checkpatch.pl --strict --no-summary \
			--terse --show-types -f "$f") || rc=1
	done
	return $rc
}

checkpatch_patches() {
	local rc=0 p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		(cd "$SRC" && scripts/checkpatch.pl --strict --no-signoff \
			--no-summary --terse "$REPO/patches/$p") || rc=1
	done < patches/series
	return $rc
}

kernel_doc() {
	local out
	out=$(cd "$SRC" && scripts/kernel-doc -none -Wall "${KFILES[@]}" 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# Rebuild the series' directories with sparse on every file and W=1; any
# warning fails.  The next normal build recompiles them without W=1.
# The directories of the series' C files are built with C=2 (sparse on
# every file) and W=1; the gate judges the series' own files and the
# upstream files its patches touch, not the rest of those directories.
sparse_w1() {
	local files dirs out ours
	files=$( { printf '%s\n' "${KFILES[@]}"
		   sed -n 's|^+++ b/\(.*\.[ch]\)$|\1|p' patches/*.patch; } |
		grep -v '^tools/')
	dirs=$(echo "$files" | grep '\.c$' | xargs -r -n1 dirname |
		sort -u | sed 's|$|/|')
	[ -n "$dirs" ] || return 0
	ours=$(echo "$files" | sed 's|^|/|; s|$|:|')
	out=$(make -s -C "$SRC" O="$OUT" ARCH=x86_64 -j"$(nproc)" C=2 W=1 \
		$dirs 2>&1)
	echo "$out"
	! echo "$out" | grep -E 'warning:|error:' | grep -qF "$ours"
}

gate "checkpatch --strict (files)" checkpatch_files "${KFILES[@]}" \
	"${KBUILD[@]}" "${TOOLC[@]}" Kconfig.vhost-soc
gate "checkpatch --strict (patches)" checkpatch_patches
gate "kernel-doc" kernel_doc
gate "sparse C=2 + W=1" sparse_w1
exit $fail
