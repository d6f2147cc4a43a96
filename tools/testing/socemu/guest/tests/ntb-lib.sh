# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers of the rig's NTB tests, sourced after pci-lib.sh and
# net-lib.sh: the emulated NTB's ports (ntb_hw_socemu, see
# Documentation/dev-tools/socemu.rst), the upstream ntb_test.sh, and
# ntb_netdev. In two VMs (nic=ssh in tests.plan) the rc VM drives the ep
# VM, 10.8.0.1, over ssh.

NTB_A=0000:00:11.0
NTB_B=0000:00:12.0
NTB_TEST=/usr/share/vsoc/kselftest/ntb/ntb_test.sh

ntb_dev()
{
	[ -e "/sys/bus/ntb/devices/$1" ]
}

ntb_up_one()
{
	modprobe ntb_hw_socemu "ports=$1" && wait_for 10 ntb_dev "$NTB_A"
}

# unload MODULE...: rmmod those of MODULE that are loaded, in order.
# Not busybox's modprobe -r, which fails when a module the named one
# depends on stays in use (ntb).
unload()
{
	for ul_mod in "$@"; do
		[ -d /sys/module/$ul_mod ] || continue
		rmmod $ul_mod || return 1
	done
}

# Unload the NTB stack, clients first.
ntb_down_all()
{
	unload ntb_netdev ntb_transport ntb_tool ntb_perf ntb_pingpong \
		ntb_hw_socemu
}

# run_ntb_test SECONDS ARGS...: ntb_test.sh ARGS, killed after SECONDS
# (scaled; some of its waits have no end), its output in the note and,
# line by line as it goes, in the kernel log. On failure, the ports'
# registers follow. Its cleanup trap is never installed
# ("$$DONT_CLEANUP"): unload its modules here.
run_ntb_test()
{
	rt_secs=$(scaled "$1")
	shift
	rm -f /tmp/ntb_test.rc
	{ timeout -s KILL "$rt_secs" bash "$NTB_TEST" "$@" 2>&1
	  echo $? > /tmp/ntb_test.rc; } |
		while read -r nt_line; do
			echo "$nt_line" >> $T_NOTE
			echo "ntb_test.sh: $nt_line" > /dev/kmsg
		done
	rt_rc=$(cat /tmp/ntb_test.rc)
	[ "$rt_rc" = 0 ] || {
		echo "ntb_test.sh: exit $rt_rc"
		cat /sys/kernel/debug/ntb_hw_socemu/*/info
	}
	unload ntb_tool ntb_perf ntb_pingpong
	[ "$rt_rc" = 0 ]
}

# The ntb_netdev interface of NTB device $1.
ntb_if()
{
	for ni in /sys/class/net/*; do
		case "$(readlink -f "$ni/device")" in
		*"/$1/"*) basename "$ni"; return 0 ;;
		esac
	done
	return 1
}

# ntb_netdev's carrier follows ntb_transport's queue link.
ntb_carrier()
{
	if [ "$1" = - ]; then
		[ "$(cat "/sys/class/net/$2/carrier" 2> /dev/null)" = 1 ]
	else
		[ "$(in_ns "$1" cat "/sys/class/net/$2/carrier" 2> /dev/null)" = 1 ]
	fi
}

# ntb_transport's view of its queues (empty while a queue is down) and
# the ports' registers, to say why a link is not up.
transport_state()
{
	for ts in /sys/kernel/debug/ntb_transport/*/qp*/stats \
		  /sys/kernel/debug/ntb_hw_socemu/*/info; do
		echo "$ts:"
		cat "$ts"
	done
}

EP=10.8.0.1
# Files the rc VM makes on the ep VM, over ssh, when it is done with it.
DONE=/tmp/ntb-done

remote()
{
	ssh $EP "$@"
}

ep_has_port()
{
	remote test -e /sys/bus/ntb/devices/$NTB_A
}

# The ep's ntb_netdev interface, up at 10.9.0.1 (by ssh, from the rc).
ep_netdev_up()
{
	remote 'modprobe ntb_netdev &&
		for n in /sys/class/net/*; do
			case "$(readlink -f $n/device)" in
			*/'"$NTB_A"'/*) i=${n##*/} ;;
			esac
		done &&
		/sbin/ip addr replace 10.9.0.1/24 dev $i &&
		/sbin/ip link set dev $i up'
}

rc_netdev_up()
{
	modprobe ntb_netdev && wait_for 30 ntb_if "$NTB_A" &&
	IF_B=$(ntb_if "$NTB_A") &&
	ip addr replace 10.9.0.2/24 dev "$IF_B" &&
	ip link set dev "$IF_B" up
}

rc_ping()
{
	wait_for 60 ntb_carrier - "$IF_B" && ping -c 5 -W 5 10.9.0.1 ||
		{ transport_state; return 1; }
}

ep_wait_done()
{
	wait_for "$1" test -e "$DONE.$2"
}

# Virtio over NTB between the two VMs (Documentation/driver-api/
# virtio-ntb.rst): the ep's transport, and vhost_netdev's instance there.
VT_A=$VHOST_CFS/transports/ntb_vhost.$NTB_A
NET_A=$VHOST_CFS/clients/vhost_netdev.1/net0

# vntb_two_up CLIENT...: ntb_vhost takes the ep's side a from
# ntb_transport, virtio_ntb this side; the ep's CLIENTs (configfs paths)
# are linked once its transport shows, which is after the NTB link came
# up.
vntb_two_up()
{
	remote "rmmod ntb_netdev ntb_transport && modprobe ntb_vhost &&
		modprobe vhost_rng && modprobe vhost_netdev &&
		mkdir -p $NET_A" &&
	unload ntb_netdev ntb_transport && modprobe virtio_ntb &&
	wait_for 60 remote test -d "$VT_A" &&
	remote "ln -s $* $VT_A/"
}

# vntb_net_up: vhost_netdev's interface on the ep at 10.10.0.1,
# virtio_net's here at 10.10.0.2, and a first ping answered.
vntb_net_up()
{
	remote 'for n in $(seq 100); do
			i=$(ls /sys/bus/vhost/devices/vhost*/net 2> /dev/null) &&
				[ -n "$i" ] && break
			sleep 0.1
		done &&
		/sbin/ip addr replace 10.10.0.1/24 dev $i &&
		/sbin/ip link set dev $i up' &&
	wait_for 30 has_rc_if && VIF=$(rc_if) &&
	ip addr replace 10.10.0.2/24 dev "$VIF" && ip link set dev "$VIF" up &&
	wait_for 30 ping -c 1 -W 2 10.10.0.1 > /dev/null
}
