#!/bin/bash
# lab-bench.sh: ovslb on the namespace lab against two references in the
# same lab and the same run, reported as medians over rounds and as ratios.
#
#   ovslb       VIP 203.0.113.10 through the ovslb daemons on every node, the
#               edge router spreading connections over the LB nodes;
#   hash        the lab's VIP web2, 203.0.113.11:80 (the same nginx), turned
#               to mode hash (PROTOCOL.md §4): the switches map every
#               segment, the servers answer their own SYNs, nothing is
#               translated;
#   hand-wired  the same VIP and path wired by hand with static OpenFlow
#               flows and no daemons (LAB.md; `ovslb-lab baseline on`): the
#               ceiling of this datapath;
#   haproxy     HAProxy 2.x in TCP mode where a user would put it: on LB node
#               1 (namespace ovslb-lb1), behind the same edge router, on its
#               own VIP 203.0.113.20:80, round robin over the same nginx
#               servers.
#
# HAProxy's plumbing: the edge gets a kernel route 203.0.113.20/32 via lb1's
# north address 10.1.0.11, next to its BGP (or static) routes; lb1's bridge
# passes north traffic that is not for an ovslb VIP to its LOCAL port (the
# classify table, flows/lb-pipeline.c), so lb1's kernel takes it, the
# address being on lb1's lo; HAProxy reaches each server's nginx over the
# underlay at 10.2.0.(100+K):80 (ovslb-lab has nginx listen there too) from
# lb1's br-phy address 10.2.0.11, and answers clients through lb1's default
# route, the edge.  Its config and pid file are in the lab's state directory
# (lb1/haproxy.cfg, lb1/haproxy.pid); it is started before its
# measurements in a round and stopped after them.  The route and the
# address are removed at the end.
#
# Round order: ovslb and haproxy need the ovslb daemons running, hand-wired
# needs them stopped, and each switch costs a restart and a warm-up.  Odd
# rounds run ovslb, haproxy, then (daemons stopped, baseline on) hand-wired;
# even rounds the reverse: hand-wired, then (baseline off, daemons back)
# haproxy, ovslb.  One switch per round instead of two, and a slow drift
# over the run weighs on the three columns alike.  In each, after a short
# warm-up run that is not counted, wrk runs once per concurrency of
# BENCH_CONNS.
#
# Each wrk run (a new TCP connection per request, "Connection: close",
# WRK_SECONDS long) gives:
#   new connections/s;
#   time to first byte p50 and p99: wrk's latency percentiles (the page is a
#       few bytes, so a request's latency is its time to first byte,
#       handshake included);
#   CPU per new connection, in ms, by kind of process: ovs-vswitchd of the
#       LB nodes and of the server nodes (told apart by namespace),
#       ovslb-controller, ovslb-agent, haproxy, nginx; user + system time of
#       the processes in the lab's node namespaces (the kernel's forwarding
#       in softirqs is nobody's), and their sum as a share of one core;
#   packet-ins per new connection (SYN and other, from the controllers'
#       ovslb/stats), and per CPU-second of the controllers;
#   right after the run: the datapath flows of lb1's ovs-vswitchd and the
#       OpenFlow flows in table 10 of lb1's br-int.
# Once per run (round 1): one 256 MiB download of /big per column; one TCP
# stream (iperf3, 5 s, server to client) through the ovslb and the
# hand-wired VIP, and through one plain OVS userspace bridge
# (actions=NORMAL) between two namespaces of its own (pbench-*).  HAProxy
# gets no iperf3 stream: the iperf3 servers listen on the VIP only.
#
# The report (REPORT-FILE; by default, or in a REPORT-DIRECTORY given with a
# trailing slash, the next free lab-bench-YYYY-MM-DD[-N].txt in
# bench/reports/) has per concurrency the medians, the ratios ovslb/other
# and every round's raw figures; next to it a PNG plot of the same name: new
# connections/s and p99 time to first byte against concurrency.
#
# Environment: BENCH_ROUNDS (3), BENCH_CONNS ("8 32"), WRK_SECONDS (10),
# WRK_THREADS (2), OVSLB_BUILDDIR (the build tree; default _build in the
# source tree), OVSLB_LAB_DIR (the lab's state directory, which must not
# exist yet; default /var/run/ovslb-lab), BENCH_CONTROL_NET (where the
# daemons' control messages go: mgmt, the default, a management network
# outside Open vSwitch, as an operator deploys it; or fabric, the underlay
# through each node's switch: ovslb-lab's OVSLB_LAB_CONTROL_NET).  With the defaults a run takes
# about 6 minutes.
#
# Root only.  It builds its own lab (refusing to start while one is up, or
# a pbench-* namespace exists) and tears everything down again on any exit;
# after a failure it keeps the figures so far, wrk's output and the lab's
# logs.  'make bench' builds everything and runs it.
#
# Usage: bench/lab-bench.sh [REPORT-FILE | REPORT-DIRECTORY/]
#
# Sourced rather than run, it only defines its functions (to check the
# report and the plot on made-up figures).
set -eEu
shopt -s inherit_errexit

PROG=lab-bench
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OVSLB_BUILDDIR:-$top/_build}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CONNS=${BENCH_CONNS:-8 32}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP_SECONDS=2
BENCH_CONTROL_NET=${BENCH_CONTROL_NET:-mgmt}
LAB=$top/utilities/ovslb-lab
D=${OVSLB_LAB_DIR:-/var/run/ovslb-lab}
case $D in
    /*) ;;
    *) D=$PWD/$D ;;
esac
D=${D%/}
export OVSLB_LAB_DIR=$D

VIP=203.0.113.10
HAP_VIP=203.0.113.20
HASH_VIP=203.0.113.11
LB1_NORTH=10.1.0.11
MODES="ovslb hash hand-wired haproxy"
# Far above any concurrency measured, and its two descriptors a connection
# fit under a hard limit of 20000 open files (this kind of machine's).
HAP_MAXCONN=8000
HAP_THREADS="?"
# The ovslb daemons' flow cookies (lib/node-daemon.h): controller, agent.
DAEMON_COOKIES="0x6f76736c62000001 0x6f76736c62000002"
BIG_SIZE=268435456
PB_NS="pbench-a pbench-b pbench-ovs"

# Set as the run goes, for the cleanup.
TMP=""
LAB_STARTED=""
HAP_WIRED=""
PB_DIR=""

# ---------------------------------------------------------------------------
# Messages, errors, cleanup.

progress() {
    printf '%s: %s\n' "$PROG" "$*" >&2
}

warn() {
    printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

# A warning that the report repeats.
note() {
    warn "$*"
    echo "$*" >>"$TMP/notes"
}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

on_error() {
    if [ "$BASH_SUBSHELL" -eq 0 ]; then
        printf '%s: failed at line %s (exit %s): %s\n' "$PROG" "$1" "$2" "$3" >&2
    fi
}

cleanup() {
    local rc=$?
    # Every step has a timeout: no second Ctrl-C may leave the lab half up.
    trap - ERR
    trap '' HUP INT TERM
    set +e
    haproxy_stop
    if [ -n "$HAP_WIRED" ]; then
        ip -n ovslb-edge route del "$HAP_VIP/32" 2>/dev/null
        ip -n ovslb-lb1 addr del "$HAP_VIP/32" dev lo 2>/dev/null
    fi
    plain_bridge_cleanup
    if [ -n "$LAB_STARTED" ]; then
        if [ "$rc" -ne 0 ]; then
            keep_logs
        fi
        timeout 180 "$LAB" down >/dev/null ||
            warn "'$LAB down' failed: run it by hand"
    fi
    if [ -n "$TMP" ]; then
        if [ "$rc" -eq 0 ]; then
            rm -rf "$TMP"
        else
            warn "the figures so far (results), wrk's output and the lab's logs are kept in $TMP"
        fi
    fi
    exit "$rc"
}

# Copies the lab's logs (but nginx's access logs) and configs into $TMP/lab
# before 'down' removes them.
keep_logs() {
    local f node
    [ -n "$TMP" ] && [ -d "$D" ] || return 0
    for f in "$D"/*/*.log "$D"/*/*.conf "$D"/*/*.cfg; do
        [ -f "$f" ] || continue
        case $f in *-access.log) continue ;; esac
        node=$(basename "$(dirname "$f")")
        mkdir -p "$TMP/lab/$node"
        cp "$f" "$TMP/lab/$node/"
    done
}

# ---------------------------------------------------------------------------
# Checks.

is_count() {
    case $1 in
        '' | *[!0-9]* | 0*) return 1 ;;
    esac
}

check_settings() {
    local c
    is_count "$BENCH_ROUNDS" || die "BENCH_ROUNDS must be a positive number"
    is_count "$WRK_SECONDS" || die "WRK_SECONDS must be a positive number"
    is_count "$WRK_THREADS" || die "WRK_THREADS must be a positive number"
    [ -n "${BENCH_CONNS// /}" ] || die "BENCH_CONNS is empty"
    for c in $BENCH_CONNS; do
        is_count "$c" || die "BENCH_CONNS must be positive numbers, not '$c'"
    done
    # Increasing, each once: the order of the table and of the plot.
    CONNS=$(for c in $BENCH_CONNS; do echo "$c"; done | sort -n -u | tr '\n' ' ')
    CONNS=${CONNS% }
}

check_tools() {
    local missing="" t p v
    for t in wrk:wrk curl:curl iperf3:iperf3 haproxy:haproxy \
             gnuplot:gnuplot-nox timeout:coreutils ip:iproute2 \
             ethtool:ethtool nginx:nginx-light ovs-vsctl:openvswitch-switch \
             ovs-ofctl:openvswitch-switch ovs-appctl:openvswitch-switch \
             ovs-vswitchd:openvswitch-switch ovsdb-server:openvswitch-switch \
             ovsdb-tool:openvswitch-switch; do
        command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t%%:*} (${t#*:})"
    done
    [ -z "$missing" ] ||
        die "missing programs:$missing; utilities/ovslb-bootstrap installs them"
    gnuplot -e 'set terminal pngcairo' </dev/null >/dev/null 2>&1 ||
        die "this gnuplot has no pngcairo terminal (install gnuplot-nox)"
    v=$(haproxy -v 2>/dev/null | sed -n 's/^HA-*Proxy version \([0-9][^ ]*\).*/\1/p')
    case $v in
        [2-9].* | [1-9][0-9]*.*) HAP_VERSION=$v ;;
        *) die "HAProxy 2.x is needed; 'haproxy -v' says: $(haproxy -v 2>&1 | head -n 1)" ;;
    esac
    for p in controller/ovslb-controller agent/ovslb-agent utilities/ovslb-ctl; do
        [ -x "$build/$p" ] ||
            die "$build/$p is not built (run make, or set OVSLB_BUILDDIR to the build tree)"
    done
}

# This benchmark builds its own lab and tears it down: never someone else's.
check_no_lab() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        case $ns in
            ovslb-*) die "namespace $ns exists: a lab is up (perhaps someone else's); this benchmark builds its own and tears it down at the end: run 'utilities/ovslb-lab down' first if it is yours" ;;
            pbench-*) die "namespace $ns exists: another benchmark is running, or left it (ip netns del $ns)" ;;
        esac
    done
    [ ! -e "$D" ] ||
        die "$D exists (a lab's state directory?): run 'utilities/ovslb-lab down' or remove it, or set OVSLB_LAB_DIR"
}

# Sets REPORT and PLOT from the argument: a file, or a directory (trailing
# slash, or an existing one) in which to pick the next free name.
choose_report() {
    local arg=${1:-$top/bench/reports/} dir base n
    if [ -d "$arg" ] || [ "${arg%/}" != "$arg" ]; then
        dir=${arg%/}
        base=$dir/lab-bench-$(date -u +%Y-%m-%d)
        REPORT=$base.txt
        n=1
        while [ -e "$REPORT" ] || [ -e "${REPORT%.txt}.png" ]; do
            n=$((n + 1))
            REPORT=$base-$n.txt
        done
    else
        REPORT=$arg
    fi
    [ -d "$(dirname "$REPORT")" ] || die "no directory $(dirname "$REPORT") for the report"
    PLOT=${REPORT%.txt}.png
}

# ---------------------------------------------------------------------------
# The lab.

# ovslb-lab COMMAND..., quietly, within 10 minutes; dies if it fails.
lab() {
    timeout 600 "$LAB" "$@" >/dev/null || die "'ovslb-lab $*' failed"
}

read_lab_env() {
    N_LB=$(sed -n 's/^N_LB=//p' "$D/lab.env")
    N_SRV=$(sed -n 's/^N_SRV=//p' "$D/lab.env")
    ROUTES=$(sed -n 's/^ROUTES=//p' "$D/lab.env")
    CONTROL_NET=$(sed -n 's/^CONTROL_NET=//p' "$D/lab.env")
    if ! is_count "$N_LB" || ! is_count "$N_SRV"; then
        die "cannot read the lab's size in $D/lab.env"
    fi
}

node_names() {
    local k
    for ((k = 1; k <= N_LB; k++)); do echo "lb$k"; done
    for ((k = 1; k <= N_SRV; k++)); do echo "srv$k"; done
}

# Waits (60 s at most) until 20 requests in a row to http://ADDR/ succeed
# from the client namespace.
warm_vip() {
    local streak=0 t_end=$((SECONDS + 60))
    while [ "$streak" -lt 20 ]; do
        if ip netns exec ovslb-cli curl -s -o /dev/null -m 2 \
               -H 'Connection: close' "http://$1/"; then
            streak=$((streak + 1))
        else
            streak=0
        fi
        [ "$SECONDS" -lt "$t_end" ] ||
            die "http://$1/ does not answer reliably from ovslb-cli after 60 s"
    done
}

# The ovslb daemons running (STATE daemons) or stopped with the hand-wired
# flows on (STATE baseline): to_baseline ROUND, to_daemons.
to_baseline() {
    local node cookie
    [ "$STATE" != baseline ] || return 0
    progress "ovslb daemons stopped, hand-wired flows on"
    stop_daemons
    # Their flows stay in the switches (fail_mode=secure): remove them.
    for node in $(node_names); do
        for cookie in $DAEMON_COOKIES; do
            ovs-ofctl -O OpenFlow15 --timeout=10 del-flows \
                "unix:$D/$node/br-int.mgmt" "cookie=$cookie/-1"
        done
    done
    lab baseline on
    check_edge_hops "$1"
    warm_vip "$VIP"
    STATE=baseline
}

# Stops every ovslb daemon at once (one at a time, the others would see it
# fail and could withdraw its BGP routes before they stop themselves).
stop_daemons() {
    local node prog pid comm pids=()
    for node in $(node_names); do
        case $node in lb*) prog=ovslb-controller ;; *) prog=ovslb-agent ;; esac
        pid=$(head -n 1 "$D/$node/$prog.pid" 2>/dev/null) ||
            die "$node: no pid file for $prog"
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || comm=""
        if [ "$comm" != "${prog:0:15}" ] || ! is_running "$pid"; then
            die "$node: $prog is not running (did it crash? see $D/$node/$prog.log)"
        fi
        pids+=("$pid")
    done
    terminate "${pids[@]}" ||
        die "ovslb daemons still running after SIGTERM and SIGKILL: ${pids[*]}"
}

# check_edge_hops ROUND: with BGP, the edge keeps the routes the stopped
# controllers left in their bgpd, and should still spread the VIP over
# every LB node.
check_edge_hops() {
    local hops
    [ "$ROUTES" = bgp ] || return 0
    hops=$(ip -n ovslb-edge route show "$VIP/32" | grep -c 'nexthop via') || true
    if [ "$hops" -ne "$N_LB" ]; then
        note "round $1: hand-wired run with the edge routing the VIP over $hops of $N_LB LB nodes"
    fi
}

to_daemons() {
    [ "$STATE" != daemons ] || return 0
    progress "hand-wired flows off, ovslb daemons back"
    lab baseline off
    lab up
    wait_cluster
    warm_vip "$VIP"
    STATE=daemons
}

# Waits (30 s at most) until every controller's ring holds every LB node and
# every agent is ready, so that no measurement starts while the cluster
# forms; past that, a warning (kept in the report's notes).
wait_cluster() {
    local k ok t_end=$((SECONDS + 30))
    while :; do
        ok=yes
        for ((k = 1; k <= N_LB; k++)); do
            [ "$(ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" \
                     ovslb/show 2>/dev/null |
                 sed -n 's/^ring: \([0-9]*\) nodes.*/\1/p')" = "$N_LB" ] || ok=no
        done
        for ((k = 1; k <= N_SRV; k++)); do
            ovs-appctl --timeout=5 -t "$D/srv$k/ovslb-agent.ctl" ovslb/show \
                2>/dev/null | grep -q '^ready: yes' || ok=no
        done
        [ "$ok" = no ] || return 0
        if [ "$SECONDS" -ge "$t_end" ]; then
            note "the ovslb cluster had not formed 30 s after the daemons started (a ring short of $N_LB LB nodes, or an agent not ready); measured anyway"
            return 0
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------
# HAProxy on lb1.

# The address on lb1's lo and the edge's route to it.
haproxy_wire() {
    HAP_WIRED=yes
    ip -n ovslb-lb1 addr replace "$HAP_VIP/32" dev lo
    ip -n ovslb-edge route replace "$HAP_VIP/32" via "$LB1_NORTH" dev br-north
}

haproxy_config() {
    local k
    cat <<EOF
# HAProxy of the lab benchmark (bench/lab-bench.sh), in namespace ovslb-lb1:
# TCP, round robin over every server's nginx, reached over the underlay.
global
    pidfile $D/lb1/haproxy.pid
    maxconn $HAP_MAXCONN

defaults
    mode tcp
    maxconn $HAP_MAXCONN
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend vip
    bind $HAP_VIP:80
    default_backend nginx

backend nginx
    balance roundrobin
EOF
    for ((k = 1; k <= N_SRV; k++)); do
        printf '    server srv%d 10.2.0.%d:80\n' "$k" $((100 + k))
    done
}

# Whether process PID exists and is not a zombie (this machine's init may
# not reap daemons that detached).
is_running() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) ||
        return 1
    case $state in
        '' | Z | X) return 1 ;;
    esac
}

# Sends SIGTERM to processes PID..., SIGKILL to those left 5 s later; fails
# if any still runs 2 s after that.
terminate() {
    local n pid alive
    [ $# -gt 0 ] || return 0
    kill "$@" 2>/dev/null || true
    for ((n = 0; n < 70; n++)); do
        alive=no
        for pid in "$@"; do
            if is_running "$pid"; then
                alive=yes
            fi
        done
        [ "$alive" = yes ] || return 0
        if [ "$n" -eq 50 ]; then
            kill -KILL "$@" 2>/dev/null || true
        fi
        sleep 0.1
    done
    return 1
}

# The pid of the running HAProxy, from its pid file.
haproxy_pid() {
    local pid comm
    pid=$(head -n 1 "$D/lb1/haproxy.pid" 2>/dev/null) || return 1
    case $pid in
        '' | *[!0-9]*) return 1 ;;
    esac
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$comm" = haproxy ] || return 1
    is_running "$pid" || return 1
    echo "$pid"
}

haproxy_start() {
    local cfg=$D/lb1/haproxy.cfg n pid
    haproxy_config >"$cfg"
    haproxy -c -q -f "$cfg" >"$TMP/haproxy-check.txt" 2>&1 ||
        die "haproxy rejects $cfg: $(cat "$TMP/haproxy-check.txt")"
    rm -f "$D/lb1/haproxy.pid"
    timeout 10 ip netns exec ovslb-lb1 haproxy -D -f "$cfg" \
        </dev/null >>"$D/lb1/haproxy.log" 2>&1 ||
        die "haproxy did not start (log: $D/lb1/haproxy.log)"
    for ((n = 0; n < 50; n++)); do
        if pid=$(haproxy_pid); then
            HAP_THREADS=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)
            return 0
        fi
        sleep 0.1
    done
    die "haproxy did not start: no live process in $D/lb1/haproxy.pid"
}

haproxy_stop() {
    local pid
    pid=$(haproxy_pid) || return 0
    if terminate "$pid"; then
        rm -f "$D/lb1/haproxy.pid"
    else
        warn "haproxy (pid $pid) survived SIGKILL"
    fi
}

# ---------------------------------------------------------------------------
# Figures of the processes and switches.

# kind_of NODE COMM: the kind of a process named COMM in the namespace of
# node NODE (a row of the report's CPU table), or failure.
kind_of() {
    case $1:$2 in
        lb*:ovs-vswitchd) echo vswitchd-lb ;;
        srv*:ovs-vswitchd) echo vswitchd-srv ;;
        lb*:ovslb-controlle) echo ovslb-controller ;; # comm: 15 characters
        srv*:ovslb-agent) echo ovslb-agent ;;
        lb*:haproxy) echo haproxy ;;
        srv*:nginx) echo nginx ;;
        *) return 1 ;;
    esac
}

# User + system time of process PID (all its threads), in clock ticks.
proc_ticks() {
    local stat f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # Fields after "pid (comm) ": state is [0], utime [11], stime [12].
    read -ra f <<<"${stat##*) }"
    echo $((f[11] + f[12]))
}

# "KIND PID TICKS" for every process of a kind in the lab's node namespaces.
cpu_snapshot() {
    local node pid comm kind t
    for node in $(node_names); do
        for pid in $(ip netns pids "ovslb-$node" 2>/dev/null); do
            comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
            kind=$(kind_of "$node" "$comm") || continue
            t=$(proc_ticks "$pid") || continue
            echo "$kind $pid $t"
        done
    done
}

# "KIND TICKS" used between snapshots BEFORE and AFTER, for every kind that
# had a process in both.
cpu_delta() {
    awk 'NR == FNR { b[$1 " " $2] = $3; next }
         ($1 " " $2) in b { d[$1] += $3 - b[$1 " " $2] }
         END { for (k in d) print k, d[k] }' "$1" "$2"
}

# "N SYN OTHER": the packet-in counters of the N controllers that answer.
packet_ins() {
    local k line n=0 syn=0 other=0 s o
    for ((k = 1; k <= N_LB; k++)); do
        line=$(ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" \
                   ovslb/stats 2>/dev/null |
               sed -n '1s/^packet-ins: syn \([0-9]*\), other \([0-9]*\),.*/\1 \2/p') ||
            true
        [ -n "$line" ] || continue
        read -r s o <<<"$line"
        n=$((n + 1))
        syn=$((syn + s))
        other=$((other + o))
    done
    echo "$n $syn $other"
}

# Datapath flows of lb1's ovs-vswitchd (not counting dump-flows' title
# line), or "-".  (The hand-wired path has one a connection: tens of
# thousands.)
dp_flows() {
    local out
    out=$(ovs-appctl --timeout=30 -t "$D/lb1/ovs-vswitchd.ctl" dpctl/dump-flows 2>/dev/null) ||
        { echo -; return 0; }
    grep -c 'actions:' <<<"$out" || true
}

# OpenFlow flows in table 10 (ingress) of lb1's br-int, or "-".
table10_flows() {
    local out
    out=$(ovs-ofctl -O OpenFlow15 --timeout=5 dump-flows \
              "unix:$D/lb1/br-int.mgmt" table=10 2>/dev/null) ||
        { echo -; return 0; }
    grep -c priority <<<"$out" || true
}

# wrk's output on stdin: "REQUESTS CONN/S P50-MS P99-MS ERRORS" (socket
# errors and non-2xx/3xx answers).
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        / requests in / { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { err += $NF }
        END { printf "%d %.2f %.3f %.3f %d\n", n, rps, p50, p99, err }'
}

# record MODE CONNS ROUND METRIC VALUE: one figure of the results.
record() {
    echo "$*" >>"$RESULTS"
}

# run_wrk MODE ROUND CONNS ADDR: one measured wrk run against http://ADDR/.
run_wrk() {
    local mode=$1 round=$2 c=$3 addr=$4 out rc=0 t0 t1 threads
    local n rps p50 p99 errs kind ticks total=0 ctl_ticks=""
    local n0 s0 o0 n1 s1 o1 dp t10 pi0 pi1
    threads=$WRK_THREADS
    [ "$threads" -le "$c" ] || threads=$c
    out=$TMP/wrk-$mode-c$c-r$round.txt
    sleep 1
    cpu_snapshot >"$TMP/cpu0"
    pi0=$(packet_ins)
    t0=$(date +%s.%N)
    timeout $((WRK_SECONDS + 30)) ip netns exec ovslb-cli \
        wrk -t"$threads" -c"$c" -d"${WRK_SECONDS}s" --timeout 2s --latency \
        -H "Connection: close" "http://$addr/" >"$out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    cpu_snapshot >"$TMP/cpu1"
    pi1=$(packet_ins)
    dp=$(dp_flows)
    t10=$(table10_flows)
    [ "$rc" -ne 124 ] || die "wrk ($mode, $c connections, round $round) hung and was killed"
    [ "$rc" -eq 0 ] ||
        die "wrk ($mode, $c connections, round $round) failed (exit $rc): $(cat "$out")"
    read -r n rps p50 p99 errs < <(parse_wrk <"$out")
    [ "$n" -gt 0 ] ||
        die "wrk ($mode, $c connections, round $round): no request completed: $(cat "$out")"

    record "$mode" "$c" "$round" rps "$rps"
    record "$mode" "$c" "$round" p50 "$p50"
    record "$mode" "$c" "$round" p99 "$p99"
    record "$mode" "$c" "$round" errors "$errs"
    while read -r kind ticks; do
        record "$mode" "$c" "$round" "cpu.$kind" \
            "$(awk -v t="$ticks" -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.4f", t * 1000 / hz / n }')"
        total=$((total + ticks))
        [ "$kind" != ovslb-controller ] || ctl_ticks=$ticks
    done < <(cpu_delta "$TMP/cpu0" "$TMP/cpu1")
    record "$mode" "$c" "$round" cpu.total \
        "$(awk -v t="$total" -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.4f", t * 1000 / hz / n }')"
    record "$mode" "$c" "$round" cpupct \
        "$(awk -v t="$total" -v hz="$HZ" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", t * 100 / hz / (b - a) }')"
    read -r n0 s0 o0 <<<"$pi0"
    read -r n1 s1 o1 <<<"$pi1"
    if [ "$n0" -gt 0 ] && [ "$n0" -eq "$n1" ]; then
        record "$mode" "$c" "$round" pi \
            "$(awk -v p=$((s1 - s0 + o1 - o0)) -v n="$n" 'BEGIN { printf "%.3f", p / n }')"
        if [ -n "$ctl_ticks" ] && [ "$ctl_ticks" -gt 0 ]; then
            record "$mode" "$c" "$round" pi_per_ctl_s \
                "$(awk -v p=$((s1 - s0 + o1 - o0)) -v t="$ctl_ticks" -v hz="$HZ" 'BEGIN { printf "%.0f", p * hz / t }')"
        fi
    fi
    record "$mode" "$c" "$round" dpflows "$dp"
    record "$mode" "$c" "$round" t10flows "$t10"
    progress "round $round, $mode, $c connections: $rps conn/s, TTFB p50 $p50 ms, p99 $p99 ms, $errs errors"
}

# ---------------------------------------------------------------------------
# Once per run: bulk and one stream.

# Mbit/s of one download of /big from ADDR, or "-".
bulk_mbps() {
    local out code size t
    out=$(timeout 150 ip netns exec ovslb-cli curl -s -o /dev/null --max-time 120 \
              -w '%{http_code} %{size_download} %{time_total}' "http://$1/big") ||
        { warn "download of http://$1/big failed"; echo -; return 0; }
    read -r code size t <<<"$out"
    if [ "$code" != 200 ] || [ "$size" != "$BIG_SIZE" ]; then
        warn "download of http://$1/big: HTTP $code, $size bytes"
        echo -
        return 0
    fi
    awk -v s="$size" -v t="$t" 'BEGIN { printf "%.0f", s * 8 / t / 1e6 }'
}

# Gbit/s of one iperf3 stream, server to client, or "-": iperf_gbps NS ADDR.
iperf_gbps() {
    local out gbps
    out=$(timeout 30 ip netns exec "$1" iperf3 -c "$2" -R -t 5 -J \
              --connect-timeout 3000 2>/dev/null) ||
        { warn "iperf3 to $2 failed"; echo -; return 0; }
    gbps=$(awk '/"sum_received"/ { r = 1 } r && /"bits_per_second"/ {
                    gsub(/[,]/, "", $2); printf "%.2f", $2 / 1e9; exit }' <<<"$out")
    echo "${gbps:--}"
}

# Sets PB_GBPS: the same stream through one plain OVS userspace bridge:
# namespaces pbench-a and pbench-b joined by veths to a netdev bridge run by
# its own ovsdb-server and ovs-vswitchd in namespace pbench-ovs.
plain_bridge_gbps() {
    local d a=pbench-a b=pbench-b o=pbench-ovs env ns
    PB_DIR=$(mktemp -d /tmp/ovslb-pbench.XXXXXX)
    d=$PB_DIR
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
    ovs-vsctl --db="unix:$d/db.sock" --timeout=10 --no-wait init
    ip netns exec $o "${env[@]}" ovs-vswitchd "unix:$d/db.sock" \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off
    ovs-vsctl --db="unix:$d/db.sock" --timeout=10 add-br br0 \
        -- set bridge br0 datapath_type=netdev \
        -- add-port br0 pa -- add-port br0 pb
    ip netns exec $b iperf3 -s -D -1 --pidfile "$d/iperf3.pid" >/dev/null
    sleep 1
    PB_GBPS=$(iperf_gbps $a 192.0.2.2)
    plain_bridge_cleanup
}

# Stops whatever runs in the pbench-* namespaces (none existed before this
# run: check_no_lab) and deletes them.
plain_bridge_cleanup() {
    local ns pids=()
    for ns in $PB_NS; do
        [ -e "/run/netns/$ns" ] || continue
        mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
    done
    terminate "${pids[@]}" || warn "left running in the pbench namespaces: ${pids[*]}"
    for ns in $PB_NS; do
        if [ -e "/run/netns/$ns" ]; then
            ip netns del "$ns" || warn "could not delete namespace $ns"
        fi
    done
    if [ -n "$PB_DIR" ]; then
        rm -rf "$PB_DIR"
        PB_DIR=""
    fi
}

once_per_run() {
    local mode=$1 addr=$2
    progress "$mode: one download of /big"
    record "$mode" once 1 bulk "$(bulk_mbps "$addr")"
    # The iperf3 servers listen on $VIP only: no stream through hash.
    case $mode in
        ovslb | hand-wired)
            progress "$mode: one iperf3 stream"
            record "$mode" once 1 stream "$(iperf_gbps ovslb-cli "$VIP")" ;;
    esac
    if [ "$mode" = ovslb ]; then
        progress "one iperf3 stream through one plain OVS bridge"
        plain_bridge_gbps
        record plain once 1 stream "$PB_GBPS"
    fi
}

# ---------------------------------------------------------------------------
# One column of one round.

measure() {
    local mode=$1 round=$2 addr=$VIP c threads
    case $mode in
        hand-wired) to_baseline "$round" ;;
        *) to_daemons ;;
    esac
    if [ "$mode" = haproxy ]; then
        haproxy_start
        addr=$HAP_VIP
        warm_vip "$addr"
    elif [ "$mode" = hash ]; then
        addr=$HASH_VIP
        warm_vip "$addr"
    fi
    # Warm-up, not counted.
    c=${CONNS%% *}
    threads=$WRK_THREADS
    [ "$threads" -le "$c" ] || threads=$c
    timeout $((WARMUP_SECONDS + 30)) ip netns exec ovslb-cli \
        wrk -t"$threads" -c"$c" -d"${WARMUP_SECONDS}s" --timeout 2s \
        -H "Connection: close" "http://$addr/" >/dev/null 2>&1 ||
        die "warm-up wrk run ($mode, round $round) failed or hung"
    for c in $CONNS; do
        run_wrk "$mode" "$round" "$c" "$addr"
    done
    if [ "$round" -eq 1 ]; then
        once_per_run "$mode" "$addr"
    fi
    if [ "$mode" = haproxy ]; then
        haproxy_stop
    fi
}

# ---------------------------------------------------------------------------
# The report.

# The median over the rounds of METRIC of MODE at CONNS, or "-".
med() {
    awk -v m="$1" -v c="$2" -v k="$3" '
        $1 == m && $2 == c && $4 == k && $5 != "-" { v[++n] = $5 + 0 }
        END {
            if (!n) { print "-"; exit }
            for (i = 2; i <= n; i++) {
                x = v[i]
                for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
                v[j + 1] = x
            }
            print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }' "$RESULTS"
}

# METRIC of MODE at CONNS in ROUND, or "-".
val() {
    awk -v m="$1" -v c="$2" -v r="$3" -v k="$4" '
        $1 == m && $2 == c && $3 == r && $4 == k { v = $5 }
        END { print (v == "") ? "-" : v }' "$RESULTS"
}

# VALUE with DECIMALS decimals; "-" stays.
num() {
    if [ "$1" = - ]; then
        echo -
    else
        awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'
    fi
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# One row of a concurrency's table: row LABEL METRIC DECIMALS [no-ratio]
# (with $c).
row() {
    local o x w h rw rx rh
    o=$(med ovslb "$c" "$2")
    x=$(med hash "$c" "$2")
    w=$(med hand-wired "$c" "$2")
    h=$(med haproxy "$c" "$2")
    if [ -n "${4:-}" ]; then
        rw="" rx="" rh=""
    else
        rw=$(ratio "$o" "$w")
        rx=$(ratio "$x" "$w")
        rh=$(ratio "$o" "$h")
    fi
    printf '%-44s %10s %10s %10s %10s %10s %10s %10s\n' "$1" \
        "$(num "$o" "$3")" "$(num "$x" "$3")" "$(num "$w" "$3")" \
        "$(num "$h" "$3")" "$rw" "$rx" "$rh"
}

header() {
    printf '%-44s %10s %10s %10s %10s %10s %10s %10s\n' "$1" ovslb hash \
        hand-wired haproxy ovslb/hand hash/hand ovslb/hap
}

write_report() {
    local c r mode
    echo "ovslb lab benchmark, $DATE, $(nproc) cores, $N_LB LB + $N_SRV server nodes, edge routes: $ROUTES"
    case ${CONTROL_NET:-fabric} in
        mgmt) echo "control messages: on a management network (kernel veths outside Open vSwitch; health checks still probe the north and south paths)" ;;
        *) echo "control messages: on the underlay, through each node's Open vSwitch" ;;
    esac
    echo "wrk: a new TCP connection per request (\"Connection: close\"), ${WRK_SECONDS} s a run, $BENCH_ROUNDS rounds"
    echo "columns: ovslb, VIP $VIP through the ovslb daemons;"
    echo "  hash, VIP $HASH_VIP:80 (web2) in mode hash through the same daemons;"
    echo "  hand-wired, the same VIP and path with static flows and no daemons;"
    echo "  haproxy, HAProxy $HAP_VERSION on lb1 (mode tcp, roundrobin, threads: $HAP_THREADS, its default), VIP $HAP_VIP"
    echo "order: odd rounds ovslb, hash, haproxy, hand-wired; even rounds hand-wired, haproxy, hash, ovslb"
    echo "figures: medians over the rounds; ratios: ovslb / hand-wired, hash / hand-wired and ovslb / haproxy"
    echo "  (above 1: ovslb is better in connections/s and Mbit/s, worse in ms and CPU)"
    for c in $CONNS; do
        echo
        echo "== $c concurrent connections =="
        echo
        header ""
        row "new connections/s" rps 0
        row "time to first byte p50 (ms)" p50 2
        row "time to first byte p99 (ms)" p99 2
        echo "CPU per new connection (ms):"
        row "  ovs-vswitchd, LB nodes" cpu.vswitchd-lb 3 no-ratio
        row "  ovs-vswitchd, server nodes" cpu.vswitchd-srv 3 no-ratio
        row "  ovslb-controller" cpu.ovslb-controller 3 no-ratio
        row "  ovslb-agent" cpu.ovslb-agent 3 no-ratio
        row "  haproxy" cpu.haproxy 3 no-ratio
        row "  nginx" cpu.nginx 3 no-ratio
        row "  all of these" cpu.total 3
        row "CPU, all of these (one core = 100)" cpupct 0
        row "packet-ins per new connection" pi 2 no-ratio
        row "packet-ins per controller CPU-second" pi_per_ctl_s 0 no-ratio
        row "datapath flows on lb1, after the run" dpflows 0
        row "OpenFlow flows in lb1 br-int table 10" t10flows 0 no-ratio
        row "wrk errors (socket, non-2xx)" errors 0 no-ratio
        echo
        echo "raw, per round: conn/s, TTFB p50 and p99 (ms), CPU ms per connection (all), packet-ins per connection, wrk errors"
        for ((r = 1; r <= BENCH_ROUNDS; r++)); do
            for mode in $MODES; do
                printf '  round %-3s %-11s %10s %8s %8s %8s %8s %6s\n' "$r" "$mode" \
                    "$(val "$mode" "$c" "$r" rps)" "$(val "$mode" "$c" "$r" p50)" \
                    "$(val "$mode" "$c" "$r" p99)" "$(val "$mode" "$c" "$r" cpu.total)" \
                    "$(val "$mode" "$c" "$r" pi)" "$(val "$mode" "$c" "$r" errors)"
            done
        done
    done
    echo
    echo "== once per run (round 1) =="
    echo
    c=once
    header ""
    row "256 MiB download of /big (Mbit/s)" bulk 0
    row "one TCP stream, iperf3 (Gbit/s)" stream 2
    printf '%-44s %10s (ovslb / plain: %s)\n' "one stream through one plain OVS bridge" \
        "$(med plain once stream)" "$(ratio "$(med ovslb once stream)" "$(med plain once stream)")"
    if [ -s "$TMP/notes" ]; then
        echo
        echo "notes:"
        sed 's/^/  /' "$TMP/notes"
    fi
}

# The plot's data: per concurrency, the medians of conn/s and p99 TTFB.
write_plot_data() {
    local c mode
    echo "# concurrency, conn/s ($MODES), TTFB p99 ms ($MODES)"
    for c in $CONNS; do
        printf '%s' "$c"
        for mode in $MODES; do printf ' %s' "$(med "$mode" "$c" rps)"; done
        for mode in $MODES; do printf ' %s' "$(med "$mode" "$c" p99)"; done
        printf '\n'
    done
}

# plot_png DATA PNG TITLE: two panels, new connections/s and p99 TTFB (on a
# log scale: the columns may be 10x apart) against concurrency, a line per
# column.
plot_png() {
    gnuplot <<EOF
set terminal pngcairo size 1200,500 font "sans,10"
set output '$2'
set datafile missing "-"
set multiplot layout 1,2 title "$3"
set logscale x 2
set offsets graph 0.05, graph 0.05, 0, 0
set xlabel "concurrent connections (wrk, a new connection per request)"
set grid
set key below horizontal
set bmargin 6
set yrange [0:*]
set ylabel "new connections/s"
plot '$1' using 1:2:xtic(1) with linespoints lw 2 pt 7 title "ovslb (tracked)", \
     '' using 1:3 with linespoints lw 2 pt 11 title "ovslb (hash)", \
     '' using 1:4 with linespoints lw 2 pt 5 title "hand-wired", \
     '' using 1:5 with linespoints lw 2 pt 9 title "HAProxy on lb1"
set ylabel "time to first byte, p99 (ms, log scale)"
set logscale y
set yrange [*:*]
plot '$1' using 1:6:xtic(1) with linespoints lw 2 pt 7 title "ovslb (tracked)", \
     '' using 1:7 with linespoints lw 2 pt 11 title "ovslb (hash)", \
     '' using 1:8 with linespoints lw 2 pt 5 title "hand-wired", \
     '' using 1:9 with linespoints lw 2 pt 9 title "HAProxy on lb1"
unset multiplot
EOF
}

# ---------------------------------------------------------------------------

main() {
    local r mode
    [ "$(id -u)" = 0 ] || die "run as root"
    choose_report "${1:-}"
    check_settings
    check_tools
    check_no_lab
    PATH=$build/controller:$build/agent:$build/utilities:$PATH
    export PATH
    HZ=$(getconf CLK_TCK)
    DATE=$(date -u +%Y-%m-%dT%H:%MZ)
    TMP=$(mktemp -d /tmp/ovslb-lab-bench.XXXXXX)
    RESULTS=$TMP/results
    : >"$RESULTS"
    trap cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM

    progress "lab up (report: $REPORT)"
    LAB_STARTED=yes
    OVSLB_LAB_CONTROL_NET=$BENCH_CONTROL_NET lab up
    read_lab_env
    haproxy_wire
    STATE=daemons
    wait_cluster
    warm_vip "$VIP"
    timeout 60 ovslb-ctl --db="unix:$D/config/ovslb.sock" --timeout=30 \
        --wait=all vip-set web2 mode=hash algorithm=hash >/dev/null ||
        die "cannot turn VIP web2 to mode hash"
    warm_vip "$HASH_VIP"

    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        if [ $((r % 2)) -eq 1 ]; then
            for mode in ovslb hash haproxy hand-wired; do
                measure "$mode" "$r"
            done
        else
            for mode in hand-wired haproxy hash ovslb; do
                measure "$mode" "$r"
            done
        fi
    done

    write_report >"$REPORT"
    write_plot_data >"$TMP/plot.dat"
    plot_png "$TMP/plot.dat" "$PLOT" \
        "ovslb lab benchmark, $DATE: medians of $BENCH_ROUNDS rounds" ||
        die "gnuplot failed to draw $PLOT (the report is written: $REPORT)"
    cat "$REPORT"
    progress "report: $REPORT, plot: $PLOT"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    trap 'on_error "$LINENO" "$?" "$BASH_COMMAND"' ERR
    main "$@"
fi
