#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# configfs binding of vhost clients to transports, module autoloading and
# the virtio status rules, seen from userspace.  Uses the in-memory
# transport and test client (CONFIG_VHOST_BUS_TEST_TRANSPORT); the
# transport's debugfs files play the driver side.

DIR=$(dirname "$0")
. "$DIR/../../kselftest/ktap_helpers.sh"

CFS=/sys/kernel/config/vhost
DBG=/sys/kernel/debug/vhost_test_transport
BUS=/sys/bus/vhost/devices
CLIENT=vhost_test_client.65520		# device id 0xfff0
ERR=/tmp/vhost_bus_configfs.err

ktap_print_header

if ! modprobe vhost_bus 2>/dev/null || [ ! -d $CFS ]; then
	ktap_skip_all "vhost bus or configfs not available"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 16

# The newest device with the test client's id.
dev_of() {
	ls $BUS 2>/dev/null | while read -r d; do
		[ "$(cat $BUS/$d/device)" = 0xfff0 ] && echo "$d"
	done | tail -n 1
}

ndevs() {
	ls $BUS 2>/dev/null | wc -l
}

# Run "$@", expect it to fail with message $1 (an errno string).
fails_with() {
	msg=$1
	shift
	if "$@" 2>$ERR; then
		echo "# '$*' succeeded"
		return 1
	fi
	grep -q "$msg" $ERR || { echo "# '$*': $(cat $ERR)"; return 1; }
}

wait_for() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

status() {
	echo "$2" > "$DBG/$1/driver_status" && cat "$DBG/$1/device_status"
}

autoload() {
	[ ! -d /sys/module/vhost_test_client ] || {
		echo "# vhost_test_client already loaded"; return 1; }
	modprobe vhost_test_transport autoadd=0xfff0 || return 1
	wait_for "[ -d /sys/module/vhost_test_client ]" || {
		echo "# the client module was not loaded from its alias"
		return 1; }
	d=$(dev_of)
	wait_for "[ -e $BUS/$d/driver ]" || return 1
	[ "$(basename "$(readlink $BUS/$d/driver)")" = vhost_test_client ] &&
		[ "$(cat $BUS/$d/modalias)" = "vhost:d0000FFF0v00000000" ]
}
ktap_test_result "a device with the client's id loads the client module" autoload

# busybox "modprobe -r" also tries to remove vhost_bus, in use: use rmmod.
reload() {
	rmmod vhost_test_transport || return 1
	[ "$(ndevs)" -eq 0 ] || return 1
	modprobe vhost_test_transport &&
		wait_for "[ -d $CFS/transports/vhost-test.0 ] &&
			  [ -d $CFS/transports/vhost-test.1 ]" &&
		[ "$(cat $CFS/clients/$CLIENT/device)" = 0xfff0 ]
}
ktap_test_result "clients and transports are listed in configfs" reload

bind() {
	ln -s $CFS/clients/$CLIENT $CFS/transports/vhost-test.0/ || return 1
	d=$(dev_of)
	[ -n "$d" ] && [ -e $BUS/$d/driver ] &&
		[ "$(cat $BUS/$d/features)" = 0x000000010000000b ] &&
		[ "$(cat $BUS/$d/status)" = 0x00 ]
}
ktap_test_result "a symlink binds the client and creates a device" bind
DEV=$(dev_of)

# vhost_test_twin matches the same devices as vhost_test_client, which
# registered first: a link to the twin binds the twin.
twin() {
	ln -s $CFS/clients/vhost_test_twin.65520 $CFS/transports/vhost-test.1/ ||
		return 1
	d=$(dev_of)
	wait_for "[ -e $BUS/$d/driver ]" || return 1
	drv=$(basename "$(readlink $BUS/$d/driver)")
	echo "# $d bound to $drv"
	[ "$drv" = vhost_test_twin ] || return 1
	rm $CFS/transports/vhost-test.1/vhost_test_twin.65520 &&
		[ "$(ndevs)" -eq 1 ]
}
ktap_test_result "a link binds the client linked, of two that match" twin

bind_twice() {
	fails_with "File exists" ln -s $CFS/clients/$CLIENT \
		$CFS/transports/vhost-test.0/again &&
		[ "$(ndevs)" -eq 1 ]
}
ktap_test_result "binding twice fails with EEXIST" bind_twice

bind_non_client() {
	fails_with "Invalid argument" ln -s $CFS/transports/vhost-test.1 \
		$CFS/transports/vhost-test.0/t1 &&
		[ "$(ndevs)" -eq 1 ]
}
ktap_test_result "a link to a non-client fails with EINVAL" bind_non_client

busy() {
	echo Y > $DBG/vhost-test.1/busy
	fails_with "busy" ln -s $CFS/clients/$CLIENT \
		$CFS/transports/vhost-test.1/ || return 1
	[ "$(ndevs)" -eq 1 ] || return 1
	echo N > $DBG/vhost-test.1/busy
	ln -s $CFS/clients/$CLIENT $CFS/transports/vhost-test.1/ &&
		[ "$(ndevs)" -eq 2 ]
}
ktap_test_result "a busy transport refuses with EBUSY, then accepts" busy

pinned() {
	fails_with "" rmmod vhost_test_client &&
		[ -d /sys/module/vhost_test_client ]
}
ktap_test_result "a bound client module cannot be removed" pinned

# Bit 0 of the client, and VIRTIO_F_VERSION_1 (bit 32), which the core
# always offers and requires.
negotiate() {
	echo 0x100000001 > $DBG/$DEV/driver_features
	[ "$(status $DEV 0x3)" = 0x03 ] || return 1
	[ "$(status $DEV 0xb)" = 0x0b ] || return 1
	[ "$(cat $BUS/$DEV/negotiated)" = 0x0000000100000001 ] || return 1
	[ "$(status $DEV 0xf)" = 0x0f ] && [ "$(cat $BUS/$DEV/status)" = 0x0f ]
}
ktap_test_result "features are negotiated and DRIVER_OK starts the client" \
	negotiate

reset_and_refuse() {
	[ "$(status $DEV 0)" = 0x00 ] || return 1
	[ "$(cat $BUS/$DEV/negotiated)" = 0x0000000000000000 ] || return 1
	echo 0x100000005 > $DBG/$DEV/driver_features	# bit 2 is not offered
	status $DEV 0x3 >/dev/null
	[ "$(status $DEV 0xb)" = 0x03 ] || return 1
	# DRIVER_OK without FEATURES_OK: the device needs a reset.
	[ "$(status $DEV 0x7)" = 0x43 ] || return 1
	[ "$(status $DEV 0)" = 0x00 ]
}
ktap_test_result "reset completes; a feature superset is refused" \
	reset_and_refuse

no_version_1() {
	echo 0x1 > $DBG/$DEV/driver_features
	status $DEV 0x3 >/dev/null
	[ "$(status $DEV 0xb)" = 0x03 ] || return 1
	[ "$(status $DEV 0)" = 0x00 ]
}
ktap_test_result "features without VIRTIO_F_VERSION_1 are refused" no_version_1

unbind_active() {
	echo 0x100000001 > $DBG/$DEV/driver_features
	status $DEV 0x3 >/dev/null
	status $DEV 0xb >/dev/null
	[ "$(status $DEV 0xf)" = 0x0f ] || return 1
	rm $CFS/transports/vhost-test.0/$CLIENT || return 1
	[ ! -e $BUS/$DEV ] && [ "$(ndevs)" -eq 1 ]
}
ktap_test_result "unbinding a running device tears it down" unbind_active

transport_gone() {
	rmmod vhost_test_transport || return 1
	[ "$(ndevs)" -eq 0 ] || return 1
	# The bound transport's directory and link stay...
	[ -L $CFS/transports/vhost-test.1/$CLIENT ] || return 1
	wait_for "[ ! -e $CFS/transports/vhost-test.0 ]" || return 1
	# ...and the device comes back with the transport.
	modprobe vhost_test_transport || return 1
	[ "$(ndevs)" -eq 1 ] && [ -e "$BUS/$(dev_of)/driver" ]
}
ktap_test_result "a transport that goes keeps its links for its return" \
	transport_gone

orphan_reaped() {
	rmmod vhost_test_transport || return 1
	rm $CFS/transports/vhost-test.1/$CLIENT || return 1
	wait_for "[ ! -e $CFS/transports/vhost-test.1 ]"
}
ktap_test_result "a departed transport's directory goes with its last link" \
	orphan_reaped

unload() {
	rmmod vhost_test_client || return 1
	[ -z "$(ls $CFS/clients)" ] && wait_for "[ -z \"\$(ls $CFS/transports)\" ]"
}
ktap_test_result "unloading the client removes its configfs entries" unload

bad_param() {
	fails_with "Invalid argument" modprobe vhost_test_transport \
		ntransports=9 &&
		[ ! -d /sys/module/vhost_test_transport ]
}
ktap_test_result "a bad module parameter is refused with EINVAL" bad_param

ktap_finished
