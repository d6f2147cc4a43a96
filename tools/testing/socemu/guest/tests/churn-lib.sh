# SPDX-License-Identifier: GPL-2.0
#
# Churn: random unbinds and binds at every layer of the link, while
# traffic flows, then the recovery that
# Documentation/PCI/endpoint/pci-vhost-function.rst gives, after which
# traffic must flow again within a bounded time. One VM. Sourced, after
# pci-lib.sh, by a test that sets CLIENT (the vhost client's configfs
# name), RC_DRIVER (the stock virtio driver facing it) and defines
# churn_traffic_start, churn_traffic_stop (which fails if the traffic
# saw damage) and churn_flows (traffic flows now).
#
# Each step takes one layer down, waits a random time with the traffic
# running, and brings it back:
#
#   0  EP: the client's configfs link removed and made again
#   1  RC: $RC_DRIVER unbound and bound again
#   2  RC: virtio_pci_epf unbound and bound again
#   3  EP: the function stopped, unlinked from the controller, linked and
#      started again
#   4  RC: the host bridge unloaded and loaded again (the PCI device goes,
#      as in a reboot of the root complex)
#
# The steps come from a seeded generator: a run with seed S does the same
# steps in the same order with the same waits (the timing of the traffic
# differs). Each round of CHURN_STEPS steps uses the next seed, from
# CHURN_SEED (the kernel command line's vsoc.churn_seed, 1 by default);
# a failing round is replayed with "VSOC_CHURN_SEED=S make test
# ONLY=churn". The kernel log is checked for warnings after each round,
# and by the harness after the test.
#
# Its first runs found a fault of the rig: when the function was
# unlinked, its register block was freed while the root complex, still
# removing the device, wrote into that BAR (a reset command, MSI-X mask
# bits), and so into memory the endpoint's kernel had reused; a process
# hung for good on a corrupted rwsem. A real controller drops such writes
# once the BAR is cleared; the rig's controller now waits, in clear_bar,
# for the host bridge to have removed the device.

FUNC=$CFS/functions/pci_epf_vhost/func1
LINK=$VHOST_CFS/transports/pci_epf_vhost.0/$CLIENT
CHURN_SEED=$(sed -n 's/.*vsoc.churn_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
CHURN_SEED=${CHURN_SEED:-1}
CHURN_ROUNDS=3
CHURN_STEPS=12

ep_driver_ok()
{
	[ "$(ep_vhost_status)" = 0x0f ]
}

# Commands of a step may fail (a driver already gone): only a hang fails
# the step.
step()
{
	timeout 60 sh -c "$1" > /dev/null 2>&1
	[ $? -ne 124 ] || { echo "step hung: $1"; return 1; }
}

msleep()
{
	sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

churn_step()
{
	op=$1
	ms=$2
	vdev=$(rc_virtio_dev)
	dev=$(rc_function)
	echo "step: $op, $ms ms (virtio device ${vdev:-none}, PCI device ${dev:-none})" >> $T_NOTE
	case $op in
	0)
		step "rm $LINK" && msleep "$ms" &&
		step "ln -s $VHOST_CFS/clients/$CLIENT $VHOST_CFS/transports/pci_epf_vhost.0/"
		;;
	1)
		[ -n "$vdev" ] || return 0
		step "echo $vdev > /sys/bus/virtio/drivers/$RC_DRIVER/unbind" &&
		msleep "$ms" &&
		step "echo $vdev > /sys/bus/virtio/drivers/$RC_DRIVER/bind"
		;;
	2)
		[ -n "$dev" ] || return 0
		step "echo $dev > /sys/bus/pci/drivers/virtio_pci_epf/unbind" &&
		msleep "$ms" &&
		step "echo $dev > /sys/bus/pci/drivers/virtio_pci_epf/bind"
		;;
	3)
		step "echo 0 > $CFS/controllers/$EPC/start; rm $CFS/controllers/$EPC/func1" &&
		msleep "$ms" &&
		step "ln -s $FUNC $CFS/controllers/$EPC/; echo 1 > $CFS/controllers/$EPC/start"
		;;
	4)
		step "rmmod $RC_DRIVER; rmmod virtio_pci_epf; rmmod pcie-socemu-host" &&
		msleep "$ms" &&
		step "modprobe pcie-socemu-host doorbell=1"
		;;
	esac
}

# The documented recovery, once the churn stopped: every layer back (the
# client linked, the function linked and started, the host bridge there),
# then the RC's transport driver bound afresh. Traffic must flow again
# within a bounded time (churn_flows, the test's).
recover()
{
	[ -L $LINK ] ||
		ln -s $VHOST_CFS/clients/$CLIENT $VHOST_CFS/transports/pci_epf_vhost.0/
	[ -e $CFS/controllers/$EPC/func1 ] || {
		ln -s $FUNC $CFS/controllers/$EPC/ &&
		echo 1 > $CFS/controllers/$EPC/start
	}
	modprobe pcie-socemu-host doorbell=1 &&
	wait_for 60 rc_function || return 1
	dev=$(rc_function)
	[ -e /sys/bus/pci/drivers/virtio_pci_epf/$dev ] &&
		echo "$dev" > /sys/bus/pci/drivers/virtio_pci_epf/unbind
	echo "$dev" > /sys/bus/pci/drivers/virtio_pci_epf/bind 2> /dev/null
	wait_for 60 rc_virtio_dev && wait_for 30 ep_driver_ok &&
	churn_flows
}

churn_round()
{
	seed=$1
	echo "round with seed $seed" >> $T_NOTE
	log_mark "churn-$seed"
	churn_traffic_start
	ret=0
	awk -v seed="$seed" -v n=$CHURN_STEPS 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			printf "%d %d\n", int(rand() * 5), int(rand() * 400)
	}' > /tmp/churn.steps
	while read -r op ms; do
		churn_step "$op" "$ms" || { ret=1; break; }
	done < /tmp/churn.steps
	churn_traffic_stop || ret=1
	[ $ret = 0 ] || return 1
	recover || { echo "no recovery after seed $seed" >> $T_NOTE; return 1; }
	not log_since "churn-$seed" "WARNING:"
}

# The test: its setup, rounds of churn, and the teardown.
churn_main()
{
	ktap_plan $((CHURN_ROUNDS + 2))
	t "EP: function and $CLIENT bound; RC: $RC_DRIVER works" eval \
		'churn_setup && ep_start_vhost_function $CLIENT &&
		 rc_start_virtio doorbell=1 && wait_for 30 ep_driver_ok && churn_flows'
	r=0
	while [ $r -lt $CHURN_ROUNDS ]; do
		s=$((CHURN_SEED + r))
		t "churn round, seed $s: $CHURN_STEPS random steps, then recovery: traffic flows" \
			churn_round $s
		r=$((r + 1))
	done
	t "both ends torn down" eval \
		'rmmod $RC_DRIVER; rc_stop_virtio; ep_stop_vhost_function $CLIENT'
	ktap_done
}
