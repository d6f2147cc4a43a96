# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers of the rig's rpmsg tests, sourced after pci-lib.sh.
#
# The endpoint runs vhost_rpmsg on pci-epf-vhost; the root complex runs
# the stock virtio_rpmsg_bus on virtio_pci_epf. In one VM both buses are
# there, told apart by their parent: vhostN (EP) or virtioN (RC).

MSG=/usr/share/vsoc/kselftest/drivers/vhost_rpmsg/rpmsg_msg
RPMSG_CFS=/sys/kernel/config/rpmsg
RPMSG_CLIENT=vhost_rpmsg.7
# The EP's device in /sys/kernel/config/rpmsg: its link's device.
RPMSG_DEV=pci_epf_vhost.0

# rpmsg_ctrl, rpmsg_char and the sample, as a board would load them.
rpmsg_modules()
{
	modprobe rpmsg_ctrl && modprobe rpmsg_char
}

# The class device $2 (/sys/class/rpmsg/X) is on side $1 (ep or rc).
rpmsg_on_side()
{
	case $1:$(basename "$(readlink -f "$2/device")") in
	ep:vhost[0-9]*|rc:virtio[0-9]*) return 0 ;;
	esac
	return 1
}

# The /dev/rpmsg_ctrlN of side $1.
rpmsg_ctrl()
{
	for c in /sys/class/rpmsg/rpmsg_ctrl*; do
		rpmsg_on_side "$1" "$c" &&
			{ echo "/dev/$(basename "$c")"; return 0; }
	done
	return 1
}

# The /dev/rpmsgN of the channel named $2 on side $1 whose address $3
# (src or dst) is $4, once rpmsg_char bound it.
rpmsg_chardev()
{
	for c in /sys/class/rpmsg/rpmsg[0-9]*; do
		[ "$(cat "$c/name")" = "$2" ] &&
			[ "$(cat "$c/$3")" = "$(($4))" ] &&
			rpmsg_on_side "$1" "$c" &&
			{ echo "/dev/$(basename "$c")"; return 0; }
	done
	return 1
}

# An endpoint at $1 exists (the receiver of a stream is ready).
rpmsg_ept_at()
{
	for c in /sys/class/rpmsg/rpmsg[0-9]*; do
		[ "$(cat "$c/src")" = "$(($1))" ] && return 0
	done
	return 1
}

# rpmsg_stream FROM TO N SEED: N mixed messages from side FROM to side TO
# through rpmsg_ctrl endpoints, checked on arrival.
rpmsg_stream()
{
	# (wait_for uses n.)
	s_seed=$4
	s_a=$((0x500 + s_seed * 2)) s_b=$((0x501 + s_seed * 2))
	$MSG ept "$(rpmsg_ctrl "$2")" $s_b $s_a recv "$3" "$s_seed" \
		> /tmp/recv.$s_seed &
	s_pid=$!
	wait_for 10 rpmsg_ept_at $s_b || return 1
	$MSG ept "$(rpmsg_ctrl "$1")" $s_a $s_b send "$3" "$s_seed" || return 1
	wait $s_pid
	s_ret=$?
	cat /tmp/recv.$s_seed >> $T_NOTE
	return $s_ret
}

# The EP's configfs channel $1: name $2, src $3.
rpmsg_cfs_channel()
{
	mkdir -p $RPMSG_CFS/$RPMSG_DEV/$1 &&
	echo "$2" > $RPMSG_CFS/$RPMSG_DEV/$1/name &&
	echo "$3" > $RPMSG_CFS/$RPMSG_DEV/$1/src &&
	echo 1 > $RPMSG_CFS/$RPMSG_DEV/$1/enable
}

rpmsg_cfs_remove()
{
	echo 0 > $RPMSG_CFS/$RPMSG_DEV/$1/enable &&
	rmdir $RPMSG_CFS/$RPMSG_DEV/$1
}

# Lines of the log matching $1.
log_count()
{
	dmesg | grep -c "$1"
}

# wait until at least $2 lines of the log match $1.
log_reaches()
{
	[ "$(log_count "$1")" -ge "$2" ]
}
