#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay the series onto the cached kernel tree.
#
# $CACHE/pristine is Debian's linux-source-6.12, unpacked once and never
# written to.  $CACHE/src is the tree we build: pristine plus the series'
# new files at their upstream paths plus patches/ applied to upstream files.
# Only files whose content changed are rewritten, so kbuild rebuilds only
# what the change touches.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
TARBALL=/usr/src/linux-source-6.12.tar.xz

mkdir -p "$CACHE"
if [ ! -f "$CACHE/pristine/Makefile" ]; then
	echo "lay: unpacking $TARBALL into $CACHE/pristine"
	rm -rf "$CACHE/pristine.tmp"
	mkdir -p "$CACHE/pristine.tmp"
	tar -C "$CACHE/pristine.tmp" -xf "$TARBALL"
	mv "$CACHE/pristine.tmp/linux-source-6.12" "$CACHE/pristine"
	rmdir "$CACHE/pristine.tmp"
fi
if [ ! -f "$CACHE/src/Makefile" ]; then
	echo "lay: copying the pristine tree to $CACHE/src"
	rm -rf "$CACHE/src"
	cp -a "$CACHE/pristine" "$CACHE/src.tmp"
	mv "$CACHE/src.tmp" "$CACHE/src"
fi

STAGE="$CACHE/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"

# 1. New files of the series, at their upstream paths.  None may exist
#    upstream: changes to upstream files go through patches/.
cd "$REPO"
git ls-files -co --exclude-standard -- drivers include Documentation samples tools |
while read -r f; do
	[ -f "$f" ] || continue
	if [ -e "$CACHE/pristine/$f" ]; then
		echo "lay: $f exists upstream; change it with a patch in patches/" >&2
		exit 1
	fi
	mkdir -p "$STAGE/$(dirname "$f")"
	cp -p "$f" "$STAGE/$f"
done
# 2. The series' changes to upstream files, applied to pristine copies
#    in series order.  An indented line names a new file that the patch
#    above it adds (step 1 laid it); a patch that only adds files has no
#    diff to apply.
while IFS= read -r p; do
	case "$p" in ''|'#'*|[[:space:]]*) continue ;; esac
	grep -q '^+++ b/' "patches/$p" || continue
	sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "patches/$p" | while read -r f; do
		if [ ! -e "$STAGE/$f" ]; then
			mkdir -p "$STAGE/$(dirname "$f")"
			cp -p "$CACHE/pristine/$f" "$STAGE/$f"
		fi
	done
	if ! patch -s -p1 -d "$STAGE" --no-backup-if-mismatch -r - \
			< "patches/$p"; then
		echo "lay: patches/$p does not apply" >&2
		exit 1
	fi
done < patches/series

# 3. Copy what changed; restore what the series no longer carries.
cd "$STAGE"
find . -type f | sed 's|^\./||' | sort > "$CACHE/manifest.new"
while read -r f; do
	if ! cmp -s "$f" "$CACHE/src/$f"; then
		mkdir -p "$CACHE/src/$(dirname "$f")"
		cp "$f" "$CACHE/src/$f"
	fi
done < "$CACHE/manifest.new"
if [ -f "$CACHE/manifest" ]; then
	comm -23 "$CACHE/manifest" "$CACHE/manifest.new" | while read -r f; do
		if [ -e "$CACHE/pristine/$f" ]; then
			cp "$CACHE/pristine/$f" "$CACHE/src/$f"
		else
			rm -f "$CACHE/src/$f"
		fi
	done
fi
mv "$CACHE/manifest.new" "$CACHE/manifest"
