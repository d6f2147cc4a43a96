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

# A receiver that the sender must not outrun. msg_bg NAME ARG... starts
# "$MSG ARG..." in the background ($! is its pid); msg_ready NAME waits
# until its endpoint is open (rpmsg_msg makes the file RPMSG_MSG_READY
# names then), and fails if it never opens.
msg_bg()
{
	mb_name=$1
	shift
	rm -f /tmp/msg-ready.$mb_name
	RPMSG_MSG_READY=/tmp/msg-ready.$mb_name $MSG "$@" &
}

msg_ready()
{
	wait_for 10 test -e /tmp/msg-ready.$1
}

# rpmsg_stream FROM TO N SEED: N mixed messages from side FROM to side TO
# through rpmsg_ctrl endpoints, checked on arrival.
rpmsg_stream()
{
	s_seed=$4
	s_a=$((0x500 + s_seed * 2)) s_b=$((0x501 + s_seed * 2))
	msg_bg recv.$s_seed ept "$(rpmsg_ctrl "$2")" $s_b $s_a recv "$3" \
		"$s_seed" > /tmp/recv.$s_seed
	s_pid=$!
	msg_ready recv.$s_seed || return 1
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

# rpmsg_both_ways N SEED1 SEED2: rpmsg_stream RC to EP (SEED1) and EP to
# RC (SEED2) at once.
rpmsg_both_ways()
{
	rpmsg_stream rc ep "$1" "$2" &
	bw_pid=$!
	rpmsg_stream ep rc "$1" "$3"
	bw_ret=$?
	wait $bw_pid && [ $bw_ret = 0 ]
}

# Streams cut in the middle. lossy_start FROM TO SEED starts, in the
# background, a stream of LOSSY_N mixed messages from side FROM to side TO
# through rpmsg_ctrl endpoints (as rpmsg_stream does), far more than can
# go before the cut (which comes once 1000 arrived), yet few enough that a
# stream whose receiver is gone ends by itself within seconds rather than
# minutes; its receiver, in recv-lossy mode, keeps its count in
# /tmp/count.SEED. Call it from the test's own shell, not a subshell:
# lossy_end waits for what it started.
LOSSY_N=20000
LOSSY_PIDS=

lossy_start()
{
	l_a=$((0x500 + $3 * 2)) l_b=$((0x501 + $3 * 2))
	rm -f /tmp/count.$3 /tmp/lossy.$3 /tmp/sent.$3
	msg_bg lossy.$3 ept "$(rpmsg_ctrl "$2")" $l_b $l_a recv-lossy "$3" \
		"$(scaled 5)" /tmp/count.$3 > /tmp/lossy.$3
	eval "LOSSY_RECV_$3=$!"
	LOSSY_PIDS="$LOSSY_PIDS $!"
	msg_ready lossy.$3 || return 1
	$MSG ept "$(rpmsg_ctrl "$1")" $l_a $l_b send $LOSSY_N "$3" \
		> /tmp/sent.$3 &
	eval "LOSSY_SEND_$3=$!"
	LOSSY_PIDS="$LOSSY_PIDS $!"
}

# lossy_flowing MIN SEED...: the receiver of each stream SEED has counted
# MIN messages, and its sender and receiver still run: the streams flow.
lossy_flowing()
{
	lf_min=$1
	shift
	for lf_seed in "$@"; do
		eval "lf_r=\$LOSSY_RECV_$lf_seed lf_s=\$LOSSY_SEND_$lf_seed"
		[ "$(cat /tmp/count.$lf_seed 2> /dev/null || echo 0)" -ge \
			"$lf_min" ] && running "$lf_r" && running "$lf_s" ||
			return 1
	done
}

# lossy_settled MIN SEED...: the streams flow, or one of them has ended
# (and so never will): what to wait for, rather than for them to flow.
lossy_settled()
{
	lossy_flowing "$@" && return 0
	shift
	for ls_seed in "$@"; do
		eval "ls_r=\$LOSSY_RECV_$ls_seed ls_s=\$LOSSY_SEND_$ls_seed"
		running "$ls_r" && running "$ls_s" || return 0
	done
	return 1
}

# lossy_end: wait for what lossy_start started to end by itself, 60 s at
# most (a sender the other side stopped serving may wait 15 s for a
# buffer); then kill what still runs, and fail.
lossy_end()
{
	le_ret=0
	if ! wait_for 60 none_running $LOSSY_PIDS; then
		echo "streams still running: killed"
		kill $LOSSY_PIDS 2> /dev/null
		le_ret=1
	fi
	for l_p in $LOSSY_PIDS; do
		wait "$l_p"
	done
	LOSSY_PIDS=
	return $le_ret
}

# lossy_check SEED MIN: stream SEED was cut: its sender failed, after
# sending some messages; its receiver got at least MIN of them, once each,
# in order and intact (or it fails), none missing: a prefix, up to a
# message that was sent.
lossy_check()
{
	{ echo "stream $1:"; cat /tmp/sent.$1 /tmp/lossy.$1; } >> $T_NOTE
	lc_sent=$(sed -n "s/^sent \([0-9]*\) of $LOSSY_N: .*/\1/p" /tmp/sent.$1)
	lc_line=$(grep "^received [0-9]*, up to message [0-9]*, 0 missing, no duplicate" \
		/tmp/lossy.$1)
	lc_got=$(echo "$lc_line" | sed -n 's/^received \([0-9]*\),.*/\1/p')
	lc_last=$(echo "$lc_line" | sed -n 's/.*up to message \([0-9]*\),.*/\1/p')
	[ -n "$lc_sent" ] ||
		{ echo "stream $1: the sender did not fail"; return 1; }
	# ... with an errno userspace knows: a kernel-internal one (such as
	# ERESTARTSYS, 512) has no name there.
	! grep -q "Unknown error" /tmp/sent.$1 ||
		{ echo "stream $1: the sender got a kernel-internal errno"; return 1; }
	[ -n "$lc_got" ] ||
		{ echo "stream $1: the receiver failed, or missed a message"; return 1; }
	[ "$lc_got" -ge "$2" ] ||
		{ echo "stream $1: $lc_got received, fewer than $2"; return 1; }
	[ "$lc_last" -lt "$lc_sent" ] ||
		{ echo "stream $1: received beyond the sent"; return 1; }
}

# cut_mid_stream SEED1 SEED2 CMD...: streams RC to EP (SEED1) and EP to RC
# (SEED2) at once; once both flow (MIDSTREAM_MIN messages arrived each
# way, senders and receivers running), CMD cuts them. Then each side must
# hold a prefix of what the other sent, of at least MIDSTREAM_MIN.
MIDSTREAM_MIN=1000

cut_mid_stream()
{
	cm_1=$1 cm_2=$2
	shift 2
	if lossy_start rc ep $cm_1 && lossy_start ep rc $cm_2 &&
	   wait_for 120 lossy_settled $MIDSTREAM_MIN $cm_1 $cm_2 &&
	   lossy_flowing $MIDSTREAM_MIN $cm_1 $cm_2; then
		echo "both streams flow: $*" >> $T_NOTE
		"$@"
		cm_ret=$?
	else
		echo "the streams did not both flow:"
		for cm_s in $cm_1 $cm_2; do
			echo "stream $cm_s: $(cat /tmp/count.$cm_s 2> /dev/null) counted;" \
				"$(cat /tmp/sent.$cm_s /tmp/lossy.$cm_s 2> /dev/null)"
		done
		cm_ret=1
	fi
	[ $cm_ret = 0 ] || kill $LOSSY_PIDS 2> /dev/null
	lossy_end || cm_ret=1
	lossy_check $cm_1 $MIDSTREAM_MIN || cm_ret=1
	lossy_check $cm_2 $MIDSTREAM_MIN || cm_ret=1
	return $cm_ret
}
