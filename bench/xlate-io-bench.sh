#!/bin/sh
# xlate-io-bench.sh: the agent's own packet I/O ceiling, OVS out of the way.
#
# On a veth pair xio-a/xio-b in a namespace of its own (xio-bench-PID,
# removed at exit), a generator pinned to one CPU floods xio-b with TCP
# segments; bench/xlate-io-bench, pinned to another CPU, reads them from
# xio-a through the agent's translation path (agent/xlate-path.c),
# translates them (lib/seq-xlate.c), rewrites the MACs and writes them back.
# Reports frames/s forwarded one way on one core, for full-size segments
# and for bare ACKs, the frames that came back out of xio-b, and the round
# trip of one frame at a time through an idle path; with a receive ring of
# frames (TPACKET_V2) and of blocks (TPACKET_V3).  The forwarder's CPU per
# frame (its own user and system time) is the figure to compare: the
# frames/s also depend on what else the machine runs.
#
# Root only.  Usage: bench/xlate-io-bench.sh [BUILDDIR] [SECONDS]
# ('make bench-xlate-io' runs it on its build tree.)
set -e
build=${1:-_build}
seconds=${2:-5}
prog=$build/bench/xlate-io-bench
if [ "$(id -u)" != 0 ]; then
    echo "xlate-io-bench.sh: needs root (namespaces, raw sockets)" >&2
    exit 77
fi
ncpu=$(nproc)
fwd_cpu=0
gen_cpu=$((ncpu > 1 ? 1 : 0))

ns=xio-bench-$$
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip -n "$ns" link add xio-a type veth peer name xio-b
for dev in xio-a xio-b; do
    ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=1"
    ip -n "$ns" link set "$dev" up
done
ip -n "$ns" link set lo up

rx_b() {
    ip netns exec "$ns" cat /sys/class/net/xio-b/statistics/rx_packets
}

echo "xlate-io-bench: $(uname -r), $ncpu CPUs, forwarder on CPU $fwd_cpu," \
     "generator on CPU $gen_cpu, $seconds s per run"
for ring in frames blocks; do
    for payload in 1448 0; do
        echo "--- $ring ring, segments of $payload payload bytes"
        out=$(mktemp)
        before=$(rx_b)
        ip netns exec "$ns" taskset -c $fwd_cpu "$prog" fwd xio-a \
            "$((seconds + 2))" $ring > "$out" 2>/dev/null &
        fwd=$!
        sleep 0.5
        ip netns exec "$ns" taskset -c $gen_cpu "$prog" gen xio-b \
            "$seconds" "$payload"
        wait $fwd
        after=$(rx_b)
        cat "$out"
        rm -f "$out"
        echo "came back out of xio-b: $((after - before)) frames"
    done

    echo "--- $ring ring, one frame at a time (idle path)"
    ip netns exec "$ns" taskset -c $fwd_cpu "$prog" fwd xio-a 30 $ring \
        > /dev/null 2>&1 &
    fwd=$!
    sleep 0.5
    ip netns exec "$ns" taskset -c $gen_cpu "$prog" ping xio-b 2000
    wait $fwd
done
