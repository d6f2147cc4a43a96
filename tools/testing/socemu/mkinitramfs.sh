#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guests' initramfs: mkinitramfs.sh debug|bench OUTPUT
#
# busybox (static), the modules of the kernel build, the guest scripts and
# the test programs.
set -euo pipefail

FLAVOUR=${1:?usage: mkinitramfs.sh debug|bench OUTPUT}
OUTPUT=${2:?usage: mkinitramfs.sh debug|bench OUTPUT}
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VHOST_SOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhost-soc}
BUILD=$CACHE/build-$FLAVOUR
ROOT=$CACHE/initramfs-$FLAVOUR

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib,run,var}
mkdir -p "$ROOT"/usr/share/vsoc/tests
# "ip netns" keeps its namespaces in /run/netns.
ln -s ../run "$ROOT/var/run"

cp /bin/busybox "$ROOT/bin/busybox"
for app in $("$ROOT/bin/busybox" --list-full); do
	[ -e "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
done

# copy_dynamic PROG: the host's PROG, dynamically linked, with the shared
# libraries and the loader it needs (ldd) at their host paths. PROG takes
# the place of busybox's applet of that name if there is one (ip), so that
# what searches PATH runs it, else goes where the host has it. busybox's
# own sh and applets still run the applet for a bare "ip" (Debian builds
# it with FEATURE_SH_STANDALONE): scripts name /sbin/ip (see
# guest/tests/net-lib.sh).
copy_dynamic()
{
	local src dst lib

	src=$(command -v "$1") || {
		echo "mkinitramfs: $1 not installed (setup.sh)" >&2
		return 1
	}
	dst=$("$ROOT/bin/busybox" --list-full | grep -E "(^|/)$1\$" |
	      head -n 1) || dst=${src#/}
	rm -f "$ROOT/$dst"
	mkdir -p "$(dirname "$ROOT/$dst")"
	cp -L "$src" "$ROOT/$dst"
	for lib in $(ldd "$src" | awk '{
			for (i = 1; i <= NF; i++)
				if ($i ~ /^\//)
					print $i
		     }'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$(dirname "$ROOT$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

# The network tests' tools, from Debian's packages, and bash for the
# upstream ntb_test.sh ("#!/bin/bash"), and GNU cmp, which takes the hexadecimal
# sizes ntb_test.sh gives it.
for prog in ip ethtool iperf3 sockperf bash cmp; do
	copy_dynamic "$prog"
done
[ -e "$ROOT/bin/bash" ] || ln -s "/$(command -v bash | sed 's|^/||')" "$ROOT/bin/bash"
# kmod's modprobe for programs that find it in PATH (ntb_test.sh, under
# bash) and for the kernel's module requests: busybox's fails "modprobe -r
# MODULE" when a module MODULE depends on stays in use, kmod's does not.
# busybox sh still runs its own applet for a bare "modprobe".
copy_dynamic kmod
ln -sf "/$(command -v kmod | sed 's|^/||')" "$ROOT/sbin/modprobe"
# The benchmark guests' profiler (vsoc.py bench --profile).
if [ "$FLAVOUR" = bench ]; then
	copy_dynamic perf
fi

# ssh between the two VMs of a boot with a network link (nic=ssh in
# tests.plan; guest/init starts the server): ntb_test.sh -r drives the
# remote NTB port over ssh. Dropbear, with a host key and a client key
# made here, which both VMs share, the host key known for both addresses;
# root's shell is bash, which ntb_test.sh's remote commands need.
copy_dynamic dropbear
copy_dynamic dbclient
install -m 755 "$HERE/guest/ssh" "$ROOT/usr/bin/ssh"
mkdir -p "$ROOT/etc/dropbear" "$ROOT/root/.ssh"
chmod 700 "$ROOT/root" "$ROOT/root/.ssh"
dropbearkey -t ed25519 -f "$ROOT/etc/dropbear/dropbear_ed25519_host_key" \
	> /dev/null 2>&1
dropbearkey -t ed25519 -f "$ROOT/root/.ssh/id_dropbear" 2> /dev/null |
	grep '^ssh-ed25519 ' > "$ROOT/root/.ssh/authorized_keys"
chmod 600 "$ROOT/root/.ssh/authorized_keys"
dropbearkey -y -f "$ROOT/etc/dropbear/dropbear_ed25519_host_key" 2> /dev/null |
	awk '$1 == "ssh-ed25519" { print "10.8.0.1", $1, $2; print "10.8.0.2", $1, $2 }' \
	> "$ROOT/root/.ssh/known_hosts"
echo 'root:x:0:0:root:/root:/bin/bash' > "$ROOT/etc/passwd"
echo 'root:x:0:' > "$ROOT/etc/group"
printf '/bin/sh\n/bin/bash\n' > "$ROOT/etc/shells"

cp -a "$BUILD/modules-install/lib/modules" "$ROOT/lib/"
install -m 755 "$HERE/guest/init" "$ROOT/init"
install -m 755 "$HERE/guest/run-test" "$ROOT/usr/share/vsoc/run-test"
install -m 644 "$HERE/guest/mdev.conf" "$ROOT/etc/mdev.conf"
if [ -d "$HERE/guest/tests" ]; then
	cp -a "$HERE/guest/tests/." "$ROOT/usr/share/vsoc/tests/"
	# Kept without execute permission in the repository (checkpatch
	# wants none on files without a script extension).
	chmod +x "$ROOT"/usr/share/vsoc/tests/*
fi
# The series' kselftests, in the layout of tools/testing/selftests, with
# the upstream KTAP helpers they source.
KSFT=$ROOT/usr/share/vsoc/kselftest
mkdir -p "$KSFT/kselftest"
cp "$CACHE/src/tools/testing/selftests/kselftest/ktap_helpers.sh" \
	"$KSFT/kselftest/"
# The upstream NTB test, unmodified (guest/tests/ntb-hw-socemu runs it).
mkdir -p "$KSFT/ntb"
cp "$CACHE/src/tools/testing/selftests/ntb/ntb_test.sh" "$KSFT/ntb/"
(cd "$HERE/../selftests" && git ls-files -co --exclude-standard -- . |
	while read -r f; do
		mkdir -p "$KSFT/$(dirname "$f")"
		cp -p "$f" "$KSFT/$f"
	done)

# Test programs, static, against the tree's UAPI headers: upstream
# tools/pci/pcitest and the series' C kselftests.
UAPI_INC=$(mktemp -d)
mkdir -p "$UAPI_INC/linux"
cp "$CACHE/src/include/uapi/linux/pcitest.h" \
	"$CACHE/src/include/uapi/linux/virtio_pci_epf.h" \
	"$CACHE/src/include/uapi/linux/rpmsg.h" "$UAPI_INC/linux/"
gcc -static -O2 -Wall -I"$UAPI_INC" -o "$ROOT/usr/bin/pcitest" \
	"$CACHE/src/tools/pci/pcitest.c"
gcc -static -O2 -Wall -Wextra -I"$UAPI_INC" \
	-o "$KSFT/drivers/pci_epf_vhost/hostile_rc" \
	"$HERE/../selftests/drivers/pci_epf_vhost/hostile_rc.c"
mkdir -p "$KSFT/drivers/vhost_rpmsg"
gcc -static -O2 -Wall -Wextra -I"$UAPI_INC" \
	-o "$KSFT/drivers/vhost_rpmsg/rpmsg_msg" \
	"$HERE/../selftests/drivers/vhost_rpmsg/rpmsg_msg.c"
rm -rf "$UAPI_INC"

(cd "$ROOT" && find . | sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$OUTPUT.tmp"
mv "$OUTPUT.tmp" "$OUTPUT"
