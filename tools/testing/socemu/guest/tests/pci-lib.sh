# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers of the rig's PCI endpoint tests, sourced by them.
#
# KTAP: ktap_plan N, then one t or t_skip per case. t NAME CMD... runs CMD
# and reports its exit status as the result of case NAME. What CMD writes
# to $T_NOTE (figures, say) is shown as KTAP comments whatever the result.
# Each case's time is shown as a comment "# case N: Ss" before its result.

KTAP_N=0
KTAP_FAILED=0
T_NOTE=/tmp/t.note
EPC=pcie-socemu-ep
CFS=/sys/kernel/config/pci_ep

ktap_plan()
{
	echo "KTAP version 1"
	echo "1..$1"
}

# Hundredths of a second since boot.
t_now()
{
	read -r t_up _ < /proc/uptime
	t_up="${t_up%.*}${t_up#*.}"
	# No leading zero: "087" would be read as octal (a boot under 10 s).
	while [ "${t_up#0}" != "$t_up" ]; do
		t_up=${t_up#0}
	done
	echo "${t_up:-0}"
}

t_took()
{
	t_cs=$(($(t_now) - $1))
	printf '# case %d: %d.%02ds\n' "$KTAP_N" $((t_cs / 100)) $((t_cs % 100))
}

t()
{
	name=$1
	shift
	KTAP_N=$((KTAP_N + 1))
	rm -f $T_NOTE
	t_start=$(t_now)
	if "$@" > /tmp/t.out 2>&1; then
		[ -f $T_NOTE ] && sed 's/^/# /' $T_NOTE
		t_took "$t_start"
		echo "ok $KTAP_N $name"
	else
		sed 's/^/# /' /tmp/t.out
		[ -f $T_NOTE ] && sed 's/^/# /' $T_NOTE
		t_took "$t_start"
		echo "not ok $KTAP_N $name"
		KTAP_FAILED=$((KTAP_FAILED + 1))
	fi
}

# t_nested NAME CMD...: like t, for a CMD that prints KTAP of its own,
# shown as a subtest of case NAME.
t_nested()
{
	name=$1
	shift
	KTAP_N=$((KTAP_N + 1))
	t_start=$(t_now)
	if "$@" > /tmp/t.out 2>&1; then
		sed 's/^/    /' /tmp/t.out
		t_took "$t_start"
		echo "ok $KTAP_N $name"
	else
		sed 's/^/    /' /tmp/t.out
		t_took "$t_start"
		echo "not ok $KTAP_N $name"
		KTAP_FAILED=$((KTAP_FAILED + 1))
	fi
}

ktap_done()
{
	[ "$KTAP_FAILED" -eq 0 ]
	exit $?
}

# Time limits stretch by VSOC_SCALE, a percentage that the guest's init
# takes from vsoc.py --timeout-scale: 100 as written, 200 twice as long.
VSOC_SCALE=${VSOC_SCALE:-100}
VSOC_SCALE=${VSOC_SCALE#"${VSOC_SCALE%%[!0]*}"}
case $VSOC_SCALE in
''|*[!0-9]*) VSOC_SCALE=100 ;;
esac

# scaled SECONDS: SECONDS stretched by VSOC_SCALE, rounded up.
scaled()
{
	echo $((($1 * VSOC_SCALE + 99) / 100))
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds, for
# SECONDS stretched by VSOC_SCALE.
wait_for()
{
	wf_n=$((($1 * VSOC_SCALE * 5 + 99) / 100))
	shift
	while [ $wf_n -gt 0 ]; do
		"$@" 2> /dev/null && return 0
		sleep 0.2
		wf_n=$((wf_n - 1))
	done
	echo "timed out waiting for: $*"
	return 1
}

# Assertions on the kernel log look only at what was logged after a mark,
# taken at the start of the step whose effect they check: what an earlier
# test or step logged cannot satisfy them.
#
# log_mark NAME: log the line "vsoc-mark: NAME <n>", n counting the marks
# of the boot, and remember it as mark NAME (in a file, so that it can be
# set and read in subshells too). NAME: letters, digits, _ and -.
LOG_MARKS=/tmp/vsoc-marks

log_mark()
{
	mkdir -p $LOG_MARKS || return 1
	lm_n=$(($(cat $LOG_MARKS/.count 2> /dev/null || echo 0) + 1))
	echo $lm_n > $LOG_MARKS/.count &&
	echo "vsoc-mark: $1 $lm_n" > "$LOG_MARKS/$1" &&
	echo "vsoc-mark: $1 $lm_n" > /dev/kmsg
}

# log_lines_since NAME: the lines logged after mark NAME. None if the mark
# is not in the log (never taken, or rotated out of the log buffer), so
# that a check fails rather than pass on what it cannot see.
log_lines_since()
{
	ls_mark=$(cat "$LOG_MARKS/$1" 2> /dev/null) || {
		echo "no mark $1" >&2
		return 1
	}
	dmesg | sed -n "/$ls_mark\$/,\$p" | sed 1d
}

# log_count_since NAME PATTERN: lines matching PATTERN (grep) after mark
# NAME.
log_count_since()
{
	log_lines_since "$1" | grep -c -- "$2"
}

# log_since NAME PATTERN [N]: at least N (1) such lines.
log_since()
{
	[ "$(log_count_since "$1" "$2")" -ge "${3:-1}" ]
}

# The endpoint end: the controller, a pci-epf-test function bound to it
# through configfs as Documentation/PCI/endpoint/pci-test-howto.rst does,
# and the link started.
ep_start_test_function()
{
	modprobe pcie-socemu-ep "$@" &&
	modprobe pci-epf-test &&
	mkdir $CFS/functions/pci_epf_test/func1 &&
	echo 0x104c > $CFS/functions/pci_epf_test/func1/vendorid &&
	echo 0xb500 > $CFS/functions/pci_epf_test/func1/deviceid &&
	echo 32 > $CFS/functions/pci_epf_test/func1/msi_interrupts &&
	echo 32 > $CFS/functions/pci_epf_test/func1/msix_interrupts &&
	ln -s $CFS/functions/pci_epf_test/func1 $CFS/controllers/$EPC/ &&
	echo 1 > $CFS/controllers/$EPC/start
}

ep_stop_test_function()
{
	echo 0 > $CFS/controllers/$EPC/start &&
	rm $CFS/controllers/$EPC/func1 &&
	rmdir $CFS/functions/pci_epf_test/func1 &&
	rmmod pci-epf-test &&
	rmmod pcie-socemu-ep
}

# The root complex end: the host bridge; mdev loads pci_endpoint_test by
# the function's MODALIAS.
rc_start()
{
	modprobe pcie-socemu-host "$@" &&
	wait_for 120 test -c /dev/pci-endpoint-test.0
}

rc_stop()
{
	rmmod pcie-socemu-host
}

# The upstream pcitest runs of tools/pci/pcitest.sh, one case each, for
# the BARs and interrupts the function offers and the transfer sizes of
# that script.
rc_pcitest()
{
	for bar in 0 1 2 3 4 5; do
		t "pcitest BAR$bar" pcitest -b $bar
	done
	t "pcitest set INTx" pcitest -i 0
	t "pcitest INTx" pcitest -l
	t "pcitest set MSI" pcitest -i 1
	rc_pcitest_vectors MSI -m
	t "pcitest set MSI-X" pcitest -i 2
	rc_pcitest_vectors MSI-X -x
	t "pcitest MSI 33 refused" not pcitest -i 1 -m 33
	t "pcitest set MSI for transfers" pcitest -i 1
	for op in r w c; do
		for size in 1 1024 1025 1024000 1024001; do
			t "pcitest -$op -s $size" pcitest -$op -s $size
		done
	done
}

# pcitest each of the 32 vectors of KIND with FLAG, one case each.
rc_pcitest_vectors()
{
	i=1
	while [ $i -le 32 ]; do
		t "pcitest $1 $i" pcitest "$2" $i
		i=$((i + 1))
	done
}

# Number of cases rc_pcitest reports.
RC_PCITEST_CASES=$((6 + 2 + 1 + 32 + 1 + 32 + 1 + 1 + 15))

not()
{
	! "$@"
}

# refused ERR FILE VALUE: "echo VALUE > FILE" must fail with the error
# ERR (its strerror text).
refused()
{
	err=$1 file=$2
	shift 2
	if sh -c "echo '$*' > $file" 2> /tmp/err; then
		echo "$file took '$*'"
		return 1
	fi
	grep -q "$err" /tmp/err || { cat /tmp/err; return 1; }
}

# running PID: process PID exists and has not exited (a child that exited
# stays a zombie until the shell waits for it, and kill -0 finds those).
running()
{
	r_st=$(cat /proc/"$1"/stat 2> /dev/null) || return 1
	r_st=${r_st##*) }
	[ "${r_st%% *}" != Z ]
}

# none_running PID...: none of PID runs any more.
none_running()
{
	for nr_p in "$@"; do
		running "$nr_p" && return 1
	done
	return 0
}

# The rig's ID for pci-epf-vhost functions: the function has no ID of its
# own, a board vendor uses its own (Documentation/PCI/endpoint/
# pci-vhost-function.rst). 1234 is QEMU's unofficial test vendor.
VEPF_VENDOR=0x1234
VEPF_DEVICE=0x5600
VHOST_CFS=/sys/kernel/config/vhost
# A subsystem ID (configfs subsys_id, with vendor VEPF_VENDOR) that a test
# gives its function, so that the root complex of two VMs tells it from
# the function of the test before, which may not have gone yet; empty for
# none (0).
VEPF_SUBSYS=

# The endpoint end of a vhost function carrying the client $1 (driver.id):
# the controller, the function bound to it, the client bound to the
# function through the vhost configfs, and the link started.
ep_start_vhost_function()
{
	client=$1
	shift
	modprobe pcie-socemu-ep "$@" &&
	modprobe pci-epf-vhost &&
	modprobe "${client%%.*}" &&
	mkdir $CFS/functions/pci_epf_vhost/func1 &&
	echo $VEPF_VENDOR > $CFS/functions/pci_epf_vhost/func1/vendorid &&
	echo $VEPF_DEVICE > $CFS/functions/pci_epf_vhost/func1/deviceid &&
	{ [ -z "$VEPF_SUBSYS" ] ||
	  { echo $VEPF_VENDOR > $CFS/functions/pci_epf_vhost/func1/subsys_vendor_id &&
	    echo $VEPF_SUBSYS > $CFS/functions/pci_epf_vhost/func1/subsys_id; }; } &&
	ln -s $CFS/functions/pci_epf_vhost/func1 $CFS/controllers/$EPC/ &&
	wait_for 10 test -d $VHOST_CFS/transports/pci_epf_vhost.0 &&
	ln -s $VHOST_CFS/clients/$client $VHOST_CFS/transports/pci_epf_vhost.0/ &&
	echo 1 > $CFS/controllers/$EPC/start
}

ep_stop_vhost_function()
{
	client=$1
	echo 0 > $CFS/controllers/$EPC/start &&
	rm $VHOST_CFS/transports/pci_epf_vhost.0/$client &&
	rm $CFS/controllers/$EPC/func1 &&
	rmdir $CFS/functions/pci_epf_vhost/func1 &&
	rmmod "${client%%.*}" &&
	rmmod pci-epf-vhost &&
	rmmod pcie-socemu-ep
}

# The vhost device's status byte as the endpoint's vhost core holds it.
ep_vhost_status()
{
	cat /sys/bus/vhost/devices/*/status 2>/dev/null | head -n 1
}

# The endpoint's device is at DRIVER_OK (with FEATURES_OK), running.
ep_running()
{
	[ "$(ep_vhost_status)" = 0x0f ]
}

# The root complex end: the host bridge. virtio_pci_epf is loaded (by
# its class code's module alias, from the hot-plug event) and binds by
# itself, whatever IDs the EP gave the function.
rc_start_bridge()
{
	modprobe pcie-socemu-host "$@"
}

# No driver binds to devices that appear from now on (for a test that
# pokes the function from userspace first) ...
rc_no_autoprobe()
{
	echo 0 > /sys/bus/pci/drivers_autoprobe
}

# ... until the function is handed to the drivers again.
rc_autoprobe()
{
	echo 1 > /sys/bus/pci/drivers_autoprobe &&
	echo "$(rc_function)" > /sys/bus/pci/drivers_probe
}

# ... and a virtio driver bound to the device it registers.
rc_start_virtio()
{
	rc_start_bridge "$@" &&
	wait_for 120 rc_virtio_dev
}

# The virtio device virtio_pci_epf registered, once a driver is bound.
rc_virtio_dev()
{
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/driver" ] && { basename "$d"; return 0; }
	done
	return 1
}

# 4 KiB from /dev/hwrng (virtio_rng), not all zeroes: buffers went round
# the ring of a vhost_rng device.
rc_read_random()
{
	grep -q virtio_rng /sys/class/misc/hw_random/rng_current || {
		echo "current rng: $(cat /sys/class/misc/hw_random/rng_current)"
		return 1
	}
	dd if=/dev/hwrng of=/tmp/rnd bs=512 count=8 2> /dev/null &&
	[ "$(wc -c < /tmp/rnd)" -eq 4096 ] &&
	[ "$(tr -d '\0' < /tmp/rnd | wc -c)" -gt 3000 ]
}

rc_stop_virtio()
{
	rmmod virtio_pci_epf &&
	rmmod pcie-socemu-host
}

# Root complex generation of the EP's last link up logged after mark $1
# (empty if none). The host bridge counts its binds in the link's
# sideband, so generations only grow: a greater one is a newer root
# complex.
ep_rc_gen()
{
	log_lines_since "$1" |
		sed -n 's/.*pcie-socemu-ep: link up (root complex generation \([0-9]*\)).*/\1/p' |
		tail -n 1
}

# ep_rc_gen_above MARK GEN: the EP's last link up since MARK is of a
# generation above GEN: a new root complex (a reboot) came.
ep_rc_gen_above()
{
	[ "$(ep_rc_gen "$1")" -gt "$2" ] 2> /dev/null
}

# ep_down_after_gen MARK GEN: since MARK, the EP logged a link down after
# its last link up of generation GEN: the link that root complex made went
# down.
ep_down_after_gen()
{
	up="pcie-socemu-ep: link up (root complex generation $2)"
	[ -n "$2" ] && log_lines_since "$1" | awk -v up="$up" '
		index($0, up) { seen = 1; downs = 0 }
		seen && /pcie-socemu-ep: link down/ { downs++ }
		END { exit !(seen && downs) }'
}

# The hostile root complex of tools/testing/selftests/drivers/pci_epf_vhost.
HOSTILE=/usr/share/vsoc/kselftest/drivers/pci_epf_vhost/hostile_rc

# anchors ROLE: the link's limits measured by socemu_bench (the EP pings,
# the RC answers): the doorbell round trip and the window and DMA copy
# bandwidths, into $T_NOTE.
anchors()
{
	modprobe socemu_bench role="$1" || return 1
	rmmod socemu_bench
	dmesg | sed -n 's/.*socemu_bench: \(doorbell\|window\|dma\)/\1/p' > $T_NOTE
}

# The RC's pci-epf-vhost function (1234:5600), its PCI device name; with
# SUBSYS, the one with that subsystem ID.
rc_function()
{
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$VEPF_VENDOR" ] &&
			[ "$(cat "$d/device")" = "$VEPF_DEVICE" ] &&
			{ [ -z "$1" ] ||
			  [ "$(cat "$d/subsystem_device")" = "$1" ]; } &&
			{ basename "$d"; return 0; }
	done
	return 1
}

# The RC's function with subsystem ID VEPF_SUBSYS: the function of this
# test, not one a test before left behind.
rc_subsys_function()
{
	[ -n "$VEPF_SUBSYS" ] && rc_function "$VEPF_SUBSYS"
}
