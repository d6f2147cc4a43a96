# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers of the feature and config space tests, whichever the
# transport: the vhost bus test client (vhost_test_client, debugfs $VTC)
# on the device side, virtio_vhost_test (debugfs $VVT) on the driver
# side. Sourced after pci-lib.sh.

# The vhost device's status has all the bits of $1.
ep_status_has()
{
	[ $(($(ep_vhost_status) & $1)) -eq $(($1)) ]
}

# A virtio device without a driver: the one whose probe failed.
rc_unbound_dev()
{
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] && [ ! -e "$d/driver" ] && return 0
	done
	return 1
}

# virtio_vhost_test's debugfs file $1 reads $2.
rc_file_is()
{
	v=$(cat $VVT/*/"$1")
	[ "$v" = "$2" ] || { echo "$1: '$v', want '$2'"; return 1; }
}

# The device side changes its config space: the driver side is notified
# and reads the new value.
ep_config_change()
{
	f=$(echo $VTC/vhost*/config)
	printf hello > "$f" &&
	wait_for 30 rc_file_is config_changes 1 &&
	rc_file_is config hello
}

# The echo queue (feature 3): 32 one-page buffers, each in a MiB region
# of its own, echoed by the device side and checked.
rc_scatter()
{
	f=$(echo $VVT/*/scatter) &&
	{ echo "32 1" > "$f"; r=$(cat "$f"); echo "$r"; } &&
	case "$r" in
	"32 buffers echoed over "*" MiB, 0 bytes wrong") ;;
	*) return 1 ;;
	esac
}
