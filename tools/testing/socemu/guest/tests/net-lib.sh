# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers of the rig's network tests, sourced after pci-lib.sh.
#
# The tools are Debian's, copied into the initramfs by mkinitramfs.sh: ip
# (iproute2, in place of busybox's), ethtool, iperf3 and sockperf. Each
# end of a link gets a network namespace of its own, so that traffic
# between two interfaces of one VM crosses the link instead of being
# delivered locally.
#
# Debian's busybox runs its own applet for a command named like one,
# whatever PATH holds (it is built with FEATURE_SH_STANDALONE and
# PREFER_APPLETS): in sh and in the applets that run a command (timeout,
# env, xargs, ...), a bare "ip" is busybox's. The real one is named by its
# path there; in the tests' shell, the function ip below does that.
# Programs that are not busybox (ip netns exec) find it in PATH.
#
# ip netns exec runs a program, not a shell function: in_ns NS FUNC does
# not work, nor does ip in in_ns NS sh -c '...' (busybox's); in_ns NS ip
# does.

IPROUTE2=/sbin/ip

ip()
{
	$IPROUTE2 "$@"
}

# Servers started by iperf3_server, their PIDs (a file, so that helpers
# called in subshells share them).
IPERF3_PIDS=/tmp/iperf3.pids
IPERF3_LOG=/tmp/iperf3.log

# netns_setup NAME [IFACE ADDR/PREFIX]: network namespace NAME, its lo up;
# with IFACE, IFACE moved into it at ADDR/PREFIX and up.
netns_setup()
{
	ip netns add "$1" &&
	ip -n "$1" link set dev lo up || return 1
	[ -z "$2" ] && return 0
	netns_move "$@"
}

# netns_move NAME IFACE ADDR/PREFIX: IFACE moved into the namespace NAME
# at ADDR/PREFIX, and up.
netns_move()
{
	ip link set dev "$2" netns "$1" &&
	ip -n "$1" addr add "$3" dev "$2" &&
	ip -n "$1" link set dev "$2" up
}

# netns_del NAME...: delete the network namespaces NAME. A physical
# interface in one goes back to the initial namespace once no process is
# left in it.
netns_del()
{
	nd_rc=0
	for nd_ns in "$@"; do
		ip netns del "$nd_ns" || nd_rc=1
	done
	return $nd_rc
}

# in_ns NAME CMD...: run program CMD in network namespace NAME.
in_ns()
{
	in_ns_name=$1
	shift
	ip netns exec "$in_ns_name" "$@"
}

# tcp_listening NS PORT [PID]: a TCP socket (IPv4 or IPv6) of namespace
# NS listens on PORT; with PID, one of process PID's. From /proc/net/tcp
# and tcp6 as a process in NS sees them: LISTEN is state 0A, the port is
# in hexadecimal, the socket's inode in column 10.
tcp_listening()
{
	tl_inodes=$(in_ns "$1" cat /proc/net/tcp /proc/net/tcp6 2> /dev/null |
		awk -v port=":$(printf '%04X' "$2")" '
			$4 == "0A" && substr($2, length($2) - 4) == port {
				print $10
			}')
	[ -n "$tl_inodes" ] || return 1
	[ -z "$3" ] && return 0
	for tl_fd in /proc/"$3"/fd/*; do
		tl_sock=$(readlink "$tl_fd" 2> /dev/null) || continue
		for tl_ino in $tl_inodes; do
			[ "$tl_sock" = "socket:[$tl_ino]" ] && return 0
		done
	done
	return 1
}

# iperf3_server NS PORT [ARGS...]: an iperf3 server (iperf3 -s -p PORT
# ARGS) in namespace NS, in the background, once it listens (10 s at most,
# scaled; fails at once if it exits, on a port taken say). It serves until
# iperf3_stop, or one client with ARGS -1. Its output goes to
# /tmp/iperf3-server.PORT.log.
iperf3_server()
{
	i3_ns=$1
	i3_port=$2
	shift 2
	i3_log=/tmp/iperf3-server.$i3_port.log
	# Not the function ip: $! must be the server's PID (ip netns exec
	# execs it), not a subshell's.
	$IPROUTE2 netns exec "$i3_ns" iperf3 -s -p "$i3_port" "$@" \
		> "$i3_log" 2>&1 &
	i3_pid=$!
	echo $i3_pid >> $IPERF3_PIDS
	i3_n=$(($(scaled 10) * 5))
	while ! tcp_listening "$i3_ns" "$i3_port" $i3_pid; do
		if ! running $i3_pid || [ $i3_n -le 0 ]; then
			echo "iperf3 server in $i3_ns: not listening on" \
				"port $i3_port"
			cat "$i3_log"
			kill -9 $i3_pid 2> /dev/null
			wait $i3_pid 2> /dev/null
			return 1
		fi
		sleep 0.2
		i3_n=$((i3_n - 1))
	done
}

# iperf3_stop: stop the servers iperf3_server started (SIGTERM, SIGKILL
# after 5 s, scaled).
iperf3_stop()
{
	i3_pids=$(cat $IPERF3_PIDS 2> /dev/null) || return 0
	for i3_pid in $i3_pids; do
		kill "$i3_pid" 2> /dev/null
	done
	i3_n=$(($(scaled 5) * 5))
	for i3_pid in $i3_pids; do
		while running "$i3_pid" && [ $i3_n -gt 0 ]; do
			sleep 0.2
			i3_n=$((i3_n - 1))
		done
		running "$i3_pid" && kill -9 "$i3_pid" 2> /dev/null
		# Reaps it if it is a child of this shell.
		wait "$i3_pid" 2> /dev/null
	done
	rm -f $IPERF3_PIDS
	return 0
}

# iperf3_run NS SERVER_ADDR PORT SECONDS [ARGS...]: an iperf3 client in
# namespace NS (- for none) against the server at SERVER_ADDR:PORT for SECONDS, with
# ARGS (-R, -u -b RATE, -P N, ...: not ones that change the output's
# format, -J say); prints the throughput the receiver saw, in Mbit/s (the
# sum of the streams with -P). Fails if iperf3 fails, or runs 20 s
# (scaled) longer than asked. Its output stays in /tmp/iperf3.log.
iperf3_run()
{
	i3_ns=$1
	i3_addr=$2
	i3_port=$3
	i3_secs=$4
	shift 4
	i3_exec="$IPROUTE2 netns exec $i3_ns"
	[ "$i3_ns" = - ] && i3_exec=
	if ! timeout -s KILL "$(scaled $((i3_secs + 20)))" \
		$i3_exec iperf3 -c "$i3_addr" \
			-p "$i3_port" -t "$i3_secs" -f m "$@" \
			> $IPERF3_LOG 2>&1; then
		echo "iperf3 -c $i3_addr -p $i3_port in $i3_ns failed:" >&2
		cat $IPERF3_LOG >&2
		return 1
	fi
	# "[SUM]   0.00-2.00   sec   500 MBytes  2097 Mbits/sec   receiver":
	# the last receiver line is the sum when there are several streams.
	awk '/ receiver *$/ {
		for (i = 2; i <= NF; i++)
			if ($i == "Mbits/sec")
				mbps = $(i - 1)
	     }
	     END { if (mbps == "") exit 1; print mbps }' $IPERF3_LOG || {
		echo "no receiver throughput in iperf3's output:" >&2
		cat $IPERF3_LOG >&2
		return 1
	}
}

# sockperf_rtt ADDR: sockperf ping-pong with the server at ADDR, port
# 11111, for 5 s with 64-byte messages, and print "round trip median P50
# us, mean AVG us, 99th percentile P99 us". With --full-rtt sockperf says
# "Summary: Round trip is 123.456 usec", then its percentiles ("--->
# percentile 50.000 =   84.553"). Its output stays in /tmp/pp.log.
sockperf_rtt()
{
	timeout -s KILL 60 sockperf ping-pong -i "$1" -p 11111 -t 5 \
		-m 64 --full-rtt > /tmp/pp.log 2>&1 || {
		cat /tmp/pp.log >&2
		return 1
	}
	sr_avg=$(sed -n 's/.*Summary: Round trip is *\([0-9.]*\).*/\1/p' \
		 /tmp/pp.log)
	sr_p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' \
		 /tmp/pp.log)
	sr_p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' \
		 /tmp/pp.log)
	[ -n "$sr_avg" ] && [ -n "$sr_p50" ] || {
		cat /tmp/pp.log >&2
		return 1
	}
	echo "round trip median $sr_p50 us, mean $sr_avg us," \
	     "99th percentile $sr_p99 us"
}

# The EP's vhost_netdev interface and the RC's virtio_net one, by name
# (empty while there is none), and whether they exist, for wait_for.
ep_if()
{
	ls /sys/bus/vhost/devices/vhost*/net 2> /dev/null | head -n 1
}

rc_if()
{
	ls /sys/bus/virtio/drivers/virtio_net/virtio*/net 2> /dev/null |
		head -n 1
}

has_ep_if()
{
	[ -n "$(ep_if)" ]
}

has_rc_if()
{
	[ -n "$(rc_if)" ]
}

# ethtool_stat NS IFACE STAT: counter STAT of "ethtool -S IFACE" in
# namespace NS (- for none).
ethtool_stat()
{
	es_exec="$IPROUTE2 netns exec $1"
	[ "$1" = - ] && es_exec=
	$es_exec ethtool -S "$2" | awk -v s="$3:" '$1 == s { print $2 }'
}

# profile_start [ON...]: with VSOC_PROFILE set (vsoc.py bench --profile),
# perf samples a whole VM (the kernel and every process) until
# profile_stop [ON...], which prints the symbols that took at least half
# a per cent of its samples. ON is how a command reaches the VM: eval
# (this one, the default) or remote (the ep VM of an ssh pair, see
# ntb-lib.sh).
profile_start()
{
	[ -n "$VSOC_PROFILE" ] || return 0
	[ $# -gt 0 ] || set -- eval
	for pr_on in "$@"; do
		$pr_on 'setsid perf record -a -F 1000 -o /tmp/perf.data \
			< /dev/null > /tmp/perf.log 2>&1 &' || return 1
	done
	sleep 1
}

profile_stop()
{
	[ -n "$VSOC_PROFILE" ] || return 0
	[ $# -gt 0 ] || set -- eval
	for pr_on in "$@"; do
		# perf writes its samples out on SIGINT: wait up to 60 s.
		$pr_on 'kill -INT $(pidof perf) || exit 1
			i=0
			while pidof perf > /dev/null && [ $i -lt 600 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			! pidof perf > /dev/null' || return 1
		pr_role=$VSOC_ROLE
		[ "$pr_on" = eval ] || pr_role=ep
		echo "profile of the $pr_role, $VSOC_PROFILE:" >> $T_NOTE
		$pr_on 'perf report -i /tmp/perf.data --stdio \
			--sort comm,dso,sym --percent-limit 0.5 2>> /tmp/perf.log |
			grep -v "^#" | grep -v "^\$" | head -n 60' >> $T_NOTE
	done
}

# run_bench WHAT CMD...: CMD, unless a profile of another benchmark is
# asked for; profiled if asked for, on the VMs PROFILE_ON names (see
# profile_start; this one by default).
run_bench()
{
	[ -z "$VSOC_PROFILE" ] || [ "$VSOC_PROFILE" = "$1" ] || return 0
	shift
	profile_start $PROFILE_ON && "$@" && profile_stop $PROFILE_ON
}

# per A B: A / B to three places.
per()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b ? a / b : 0 }'
}
