#!/bin/bash
# lab-bench.sh: ovslb on the namespace lab against the same lab wired by
# hand with static OpenFlow flows (LAB.md; `ovslb-lab baseline on`), in one
# run, reported as ratios.
#
#   new connections per second: wrk, "Connection: close" (a new TCP
#       connection per request), WRK_CONNS concurrent clients, WRK_SECONDS;
#   time to first byte: wrk's latency percentiles (the page is 5 bytes, so
#       a request's latency is its time to first byte, handshake included);
#   bulk: one 256 MiB download of /big;
#   CPU: share of one core used by each kind of process during the wrk run;
#   packet-ins: handled per second by the controllers during the wrk run,
#       and per CPU-second of a controller (what one controller can take);
#   one TCP stream (iperf3, 5 s, server to client) through the VIP, against
#       the same through one plain OVS userspace bridge (actions=NORMAL)
#       between two namespaces of its own, in the same run.
#
# Root only.  Needs the lab's programs built (OVSLB_BUILDDIR, default
# ./_build) and wrk.  Usage: bench/lab-bench.sh [REPORT-FILE]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${OVSLB_BUILDDIR:-$top/_build}
report=${1:-}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNS=${WRK_CONNS:-8}
VIP=203.0.113.10

[ "$(id -u)" = 0 ] || { echo "lab-bench: run as root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "lab-bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
PATH=$build/controller:$build/agent:$build/utilities:$PATH
export PATH
LAB=$top/utilities/ovslb-lab
export OVSLB_LAB_DIR=${OVSLB_LAB_DIR:-/var/run/ovslb-lab}
D=$OVSLB_LAB_DIR

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$LAB" up >/dev/null
"$LAB" demo --requests 100 >/dev/null    # warm-up

# Sum of utime+stime (clock ticks) of the processes named $1.
ticks_of() {
    local total=0 pid t
    for pid in $(pgrep -x "${1:0:15}"); do
        t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

packet_ins() {
    local k total=0 n
    for k in 1 2 3; do
        n=$(ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats 2>/dev/null \
            | sed -n 's/^packet-ins: syn \([0-9]*\), other \([0-9]*\),.*/\1 \2/p' \
            | awk '{print $1 + $2}')
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

PROCS="ovs-vswitchd ovslb-controller ovslb-agent nginx"
HZ=$(getconf CLK_TCK)

# run_wrk LABEL: sets RPS, P50, P99 (ms) and CPU_<proc> (% of one core).
run_wrk() {
    local out p after
    declare -gA CPU
    for p in $PROCS; do before[$p]=$(ticks_of "$p"); done
    PI0=$(packet_ins)
    out=$(ip netns exec ovslb-cli wrk -t2 -c"$WRK_CONNS" -d"${WRK_SECONDS}s" \
          --latency -H "Connection: close" "http://$VIP/")
    PI1=$(packet_ins)
    for p in $PROCS; do
        after=$(ticks_of "$p")
        CPU[$1.$p]=$(awk -v a="$after" -v b="${before[$p]}" -v hz="$HZ" \
                     -v s="$WRK_SECONDS" 'BEGIN { printf "%.0f", (a - b) * 100 / hz / s }')
    done
    RPS=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    P50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    P99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    ERRS=$(echo "$out" | awk '/Socket errors|Non-2xx/ {print}' | tr '\n' ' ')
}
declare -A before

bulk_mbps() {
    local t0 t1
    t0=$(date +%s.%N)
    ip netns exec ovslb-cli curl -s -o /dev/null --max-time 120 "http://$VIP/big"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 268435456 * 8 / (b - a) / 1e6 }'
}

# One iperf3 stream, server to client, in Gbit/s: iperf_gbps NS ADDR.
iperf_gbps() {
    ip netns exec "$1" iperf3 -c "$2" -R -t 5 -J 2>/dev/null \
        | awk '/"sum_received"/ { r = 1 } r && /"bits_per_second"/ {
                   gsub(/[,]/, "", $2); printf "%.2f", $2 / 1e9; exit }'
}

# The same stream through one plain OVS userspace bridge: namespaces
# pbench-a and pbench-b joined by veths to a netdev bridge run by its own
# ovsdb-server and ovs-vswitchd in namespace pbench-ovs.
plain_bridge_gbps() {
    local d a=pbench-a b=pbench-b o=pbench-ovs env gbps
    d=$(mktemp -d /tmp/ovslb-pbench.XXXXXX)
    for ns in $a $b $o; do ip netns add "$ns"; done
    ip -n $a link add eth0 type veth peer name pa netns $o
    ip -n $b link add eth0 type veth peer name pb netns $o
    ip -n $a addr add 192.0.2.1/24 dev eth0
    ip -n $b addr add 192.0.2.2/24 dev eth0
    for ns in $a $b; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
    done
    ip -n $o link set pa up
    ip -n $o link set pb up
    env=(env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d")
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ip netns exec $o "${env[@]}" ovsdb-server "$d/conf.db" \
        --remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
        --detach --no-chdir -vconsole:off
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init
    ip netns exec $o "${env[@]}" ovs-vswitchd "unix:$d/db.sock" \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off
    ovs-vsctl --db="unix:$d/db.sock" --timeout=10 add-br br0 \
        -- set bridge br0 datapath_type=netdev \
        -- add-port br0 pa -- add-port br0 pb
    ip netns exec $b iperf3 -s -D -1 --pidfile "$d/iperf3.pid" >/dev/null
    sleep 1
    gbps=$(iperf_gbps $a 192.0.2.2)
    for p in iperf3 ovs-vswitchd ovsdb-server; do
        [ -f "$d/$p.pid" ] && kill "$(cat "$d/$p.pid")" 2>/dev/null
    done
    sleep 0.5
    for ns in $a $b $o; do ip netns del "$ns"; done
    rm -rf "$d"
    echo "${gbps:-0}"
}

# ovslb.
run_wrk ovslb
O_RPS=$RPS O_P50=$P50 O_P99=$P99 O_ERRS=$ERRS
O_PI=$(( (PI1 - PI0) / WRK_SECONDS ))
CTL_TICKS_PCT=${CPU[ovslb.ovslb-controller]}
O_BULK=$(bulk_mbps)
O_STREAM=$(iperf_gbps ovslb-cli "$VIP")
P_STREAM=$(plain_bridge_gbps)

# Baseline: stop the daemons, hand-wired flows.
for k in 1 2 3; do
    kill "$(cat "$D/lb$k/ovslb-controller.pid")" "$(cat "$D/srv$k/ovslb-agent.pid")" 2>/dev/null || true
done
sleep 1
# Their flows stay in the switches (fail_mode=secure): remove them.
for node in lb1 lb2 lb3 srv1 srv2 srv3; do
    for cookie in 0x6f76736c62000001 0x6f76736c62000002; do
        ip netns exec "ovslb-$node" ovs-ofctl -O OpenFlow15 del-flows \
            "unix:$D/$node/br-int.mgmt" "cookie=$cookie/-1"
    done
done
"$LAB" baseline on >/dev/null
"$LAB" demo --requests 20 >/dev/null
run_wrk baseline
B_RPS=$RPS B_P50=$P50 B_P99=$P99 B_ERRS=$ERRS
B_BULK=$(bulk_mbps)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
ms() { echo "$1" | awk '{ v = $1; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } printf "%.2f", v }'; }

{
    echo "ovslb lab benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, 3 LB + 3 server nodes"
    echo "wrk: $WRK_CONNS connections, ${WRK_SECONDS} s, a new TCP connection per request"
    echo
    printf '%-34s %12s %12s %8s\n' "" ovslb baseline ratio
    printf '%-34s %12s %12s %8s\n' "new connections/s" "$O_RPS" "$B_RPS" "$(ratio "$O_RPS" "$B_RPS")"
    printf '%-34s %12s %12s %8s\n' "time to first byte p50 (ms)" "$(ms "$O_P50")" "$(ms "$B_P50")" "$(ratio "$(ms "$O_P50")" "$(ms "$B_P50")")"
    printf '%-34s %12s %12s %8s\n' "time to first byte p99 (ms)" "$(ms "$O_P99")" "$(ms "$B_P99")" "$(ratio "$(ms "$O_P99")" "$(ms "$B_P99")")"
    printf '%-34s %12s %12s %8s\n' "256 MiB download (Mbit/s)" "$O_BULK" "$B_BULK" "$(ratio "$O_BULK" "$B_BULK")"
    printf '%-34s %12s %12s %8s\n' "one stream (Gbit/s; vs one bridge)" "$O_STREAM" "$P_STREAM" "$(ratio "$O_STREAM" "$P_STREAM")"
    for p in $PROCS; do
        printf '%-34s %11s%% %11s%%\n' "CPU, all $p (one core = 100)" "${CPU[ovslb.$p]}" "${CPU[baseline.$p]}"
    done
    echo
    echo "packet-ins handled by the 3 controllers: $O_PI per second during the run"
    if [ "${CTL_TICKS_PCT:-0}" -gt 0 ]; then
        echo "packet-ins per controller CPU-second: $(awk -v p="$O_PI" -v c="$CTL_TICKS_PCT" 'BEGIN { printf "%.0f", p * 100 / c }')"
    fi
    [ -z "$O_ERRS" ] || echo "ovslb wrk errors: $O_ERRS"
    [ -z "$B_ERRS" ] || echo "baseline wrk errors: $B_ERRS"
} | tee ${report:+"$report"}
