#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The series' gates: checkpatch --strict, sparse (C=2), W=1 and kernel-doc
# on every file of the series; the series as patches (git am, bisect) and
# checkpatch --strict on each of them.  Run after build-kernel.sh debug
# (it uses that build directory).
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
printf 'KTAP version 1\n1..5\n' > "$KTAP"

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

# checkpatch's verdict depends only on what it reads: the file, the
# script and its data, the options.  A clean verdict is kept under a hash
# of all of them in $CACHE/checkpatch-ok, so an unchanged file is not
# checked again; anything that is not clean runs (and shows) every time.
CP_OK=$CACHE/checkpatch-ok
CP_TOOL=$(cat "$SRC/scripts/checkpatch.pl" "$SRC/scripts/spelling.txt" \
	"$SRC/scripts/const_structs.checkpatch" | sha256sum | cut -c1-64)

# checkpatch_cached TREE FILE ARGS...: checkpatch ARGS on FILE, run in
# TREE (with Debian's python, whose python3-ply and python3-git spdxcheck
# needs in a git tree).  The key leaves out the lines that match
# $CP_VOLATILE, if set: those that change on every run without changing
# what checkpatch judges.
checkpatch_cached() {
	local tree=$1 f=$2 key
	shift 2
	key=$( { echo "$CP_TOOL $* $f"
		 if [ -n "${CP_VOLATILE:-}" ]; then
			 grep -v "$CP_VOLATILE" "$f"
		 else
			 cat "$f"
		 fi; } | sha256sum | cut -c1-64)
	[ -e "$CP_OK/$key" ] && return 0
	(cd "$tree" && PATH=/usr/bin:$PATH scripts/checkpatch.pl "$@" "$f") ||
		return 1
	mkdir -p "$CP_OK"
	touch "$CP_OK/$key"
}

checkpatch_files() {
	local rc=0 f
	for f in "$@"; do
		(cd "$SRC" && checkpatch_cached "$SRC" "$f" --strict \
			--no-summary --terse --show-types -f) || rc=1
	done
	return $rc
}

# The series as it is submitted: written from patches/, applied with git
# am to the pristine tree, compared with the laid tree, each patch built
# (tools/testing/socemu/series.py).
SERIES_OUT=$CACHE/series-out
series_check() {
	python3 "$REPO/tools/testing/socemu/series.py" check "$SERIES_OUT"
}

# checkpatch --strict on each patch of the series, from its git tree (so
# that spdxcheck runs; it needs python3-ply, hence Debian's python).  Two
# checks are left out, for what this tree cannot tell: UNKNOWN_COMMIT_ID
# (the tree is the tarball's, without history, so the commits that
# Fixes: names are unknown to it) and FILE_PATH_CHANGES (the MAINTAINERS
# entries come in a patch of their own, which checkpatch cannot see from
# the patches that add the files).  Verdicts are cached on the patch
# without its volatile lines (commit id, date).
checkpatch_series() {
	local rc=0 p
	for p in "$SERIES_OUT"/0*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		CP_VOLATILE='^From [0-9a-f]\{40\} \|^Date: ' \
		checkpatch_cached "$CACHE/series-git" "$p" --strict --terse \
			--no-summary --show-types \
			--ignore UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES || rc=1
	done
	return $rc
}

kernel_doc() {
	local out
	out=$(cd "$SRC" && scripts/kernel-doc -none -Wall "${KFILES[@]}" 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# sparse and W=1 on the directories of the series' C files, built in an
# output directory of their own (build-lint, the debug kernel's config) so
# that the lint never makes the test kernel rebuild.  C=1 and W=1 see only
# what kbuild recompiles, so the objects of those directories are thrown
# away unless the previous run of this gate was clean (its stamp): a file
# that had a warning is always compiled, and shown, again.  The gate fails
# on make's exit status, on a missing sparse, and on any warning in the
# series' own files or the upstream files its patches touch (upstream
# neighbours in the same directories are not judged).
LINT_OUT=$CACHE/build-lint
sparse_w1() {
	local files dirs out ours rc d
	command -v sparse > /dev/null || {
		echo "sparse is not installed (apt-get install sparse)"
		return 1
	}
	files=$( { printf '%s\n' "${KFILES[@]}"
		   sed -n 's|^+++ b/\(.*\.[ch]\)$|\1|p' patches/*.patch; } |
		grep -v '^tools/')
	# A directory's build descends into its subdirectories: naming both
	# would build the subdirectory twice at once.
	dirs=$(echo "$files" | grep '\.c$' | xargs -r -n1 dirname |
		sort -u | sed 's|$|/|' |
		awk '{ for (i = 1; i <= n; i++) if (index($0, d[i]) == 1) next
		       d[++n] = $0; print }')
	[ -n "$dirs" ] || return 0
	ours=$(echo "$files" | sed 's|^|/|; s|$|:|')
	mkdir -p "$LINT_OUT"
	cmp -s "$OUT/.config" "$LINT_OUT/.config" ||
		cp "$OUT/.config" "$LINT_OUT/.config"
	if [ ! -e "$LINT_OUT/.lint-clean" ]; then
		for d in $dirs; do
			[ -d "$LINT_OUT/$d" ] &&
				find "$LINT_OUT/$d" -name '*.o' -delete
		done
	fi
	rm -f "$LINT_OUT/.lint-clean"
	out=$(make -s -C "$SRC" O="$LINT_OUT" ARCH=x86_64 -j"$(nproc)" \
		olddefconfig 2>&1 &&
	      make -s -C "$SRC" O="$LINT_OUT" ARCH=x86_64 -j"$(nproc)" \
		C=1 W=1 $dirs 2>&1)
	rc=$?
	echo "$out"
	if [ $rc -ne 0 ]; then
		echo "lint: make failed ($rc)"
		return 1
	fi
	if echo "$out" | grep -E 'warning:|error:' | grep -qF "$ours"; then
		return 1
	fi
	touch "$LINT_OUT/.lint-clean"
}

gate "checkpatch --strict (files)" checkpatch_files "${KFILES[@]}" \
	"${KBUILD[@]}" "${TOOLC[@]}"
gate "series: git am on 6.12, the laid tree, each patch builds" series_check
gate "checkpatch --strict (series)" checkpatch_series
gate "kernel-doc" kernel_doc
gate "sparse + W=1" sparse_w1
exit $fail
