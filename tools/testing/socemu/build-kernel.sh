#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a kernel with the series in-tree: build-kernel.sh debug|bench
#
# The tree and the build directories live in the cache ($VHOST_SOC_CACHE,
# default ~/.cache/vhost-soc) and are reused: a second build only rebuilds
# what changed.  The config is tinyconfig plus the fragments in configs/,
# and every option the fragments ask for is checked to have stuck.
set -euo pipefail

FLAVOUR=${1:?usage: build-kernel.sh debug|bench}
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
SRC=$CACHE/src
OUT=$CACHE/build-$FLAVOUR
JOBS=${JOBS:-$(nproc)}

case "$FLAVOUR" in
debug|bench) ;;
*) echo "build-kernel: unknown flavour $FLAVOUR" >&2; exit 2 ;;
esac

"$HERE/lay-series.sh"

FRAGS=("$HERE/configs/base.config" "$HERE/configs/$FLAVOUR.config")
mkdir -p "$OUT"
KMAKE=(make -s -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS")

# The config is tinyconfig plus the fragments, regenerated whenever they
# or any Kconfig file of the tree changed (a hash of all of them, kept
# next to the config); when nothing changed, kbuild would see the same
# values anyway, and the regeneration takes seconds.
CFG_KEY=$( { cat "${FRAGS[@]}"
	     cd "$SRC" && find . -name 'Kconfig*' -type f | LC_ALL=C sort |
		xargs cat; } | sha256sum | cut -c1-64)
if [ ! -f "$OUT/.config" ] ||
   [ "$(cat "$OUT/.config.key" 2>/dev/null)" != "$CFG_KEY" ]; then
	rm -f "$OUT/.config.key"
	"${KMAKE[@]}" tinyconfig >/dev/null
	KCONFIG_CONFIG="$OUT/.config" "$SRC/scripts/kconfig/merge_config.sh" \
		-m -O "$OUT" "$OUT/.config" "${FRAGS[@]}" >/dev/null
	"${KMAKE[@]}" olddefconfig >/dev/null
	REGENERATED=1
fi

bad=0
for f in "${FRAGS[@]}"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$OUT/.config" || {
				got=$(grep "^${line%%=*}=" "$OUT/.config" ||
				      echo unset)
				echo "build-kernel: $line did not stick ($got)" >&2
				bad=1
			}
			;;
		'# CONFIG_'*' is not set')
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$OUT/.config"; then
				echo "build-kernel: $sym should be unset" >&2
				bad=1
			fi
			;;
		esac
	done < "$f"
done
[ $bad -eq 0 ] || exit 1
[ -z "${REGENERATED:-}" ] || echo "$CFG_KEY" > "$OUT/.config.key"

# Progress: kbuild's one line per step, counted; a line every 250 steps
# and every line that is not a step (warnings, errors) shown as it comes.
progress() {
	awk -v flavour="$FLAVOUR" '
		/^  [A-Z0-9_]+ +/ {
			n++
			if (n % 250 == 0)
				printf "build-kernel: %s: %d steps, at %s\n",
					flavour, n, $2
			fflush()
			next
		}
		{ print; fflush() }
		END { printf "build-kernel: %s: %d steps\n", flavour, n }'
}

echo "build-kernel: building the $FLAVOUR kernel in $OUT"
make -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS" --no-print-directory \
	bzImage modules 2>&1 | progress
rm -rf "$OUT/modules-install"
"${KMAKE[@]}" INSTALL_MOD_PATH="$OUT/modules-install" INSTALL_MOD_STRIP=1 \
	modules_install >/dev/null
echo "build-kernel: $OUT/arch/x86/boot/bzImage"
