#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the series' build and test rig need.
# Idempotent: nothing is fetched when every package is already installed.
set -euo pipefail

PKGS=(
	linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev
	cpio kmod dwarves rsync xz-utils python3 perl sparse
	qemu-system-x86 busybox-static clang libclang-rt-14-dev git python3-ply python3-git
	iproute2 ethtool iperf3 sockperf linux-perf dropbear-bin
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
	--no-install-recommends "${missing[@]}"
