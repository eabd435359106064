# shellcheck shell=bash
# system-lib.sh: helpers of the namespace-lab system tests (tests/system/*.sh).
#
# Sourced by bash test scripts that the automake harness runs from the top
# build directory (with $srcdir set), or by hand from anywhere.  Provides:
#
#   sys_init NAME    skip (exit 77) unless root and no lab is up; find
#                    ovslb-lab ($LAB) and put the build tree's daemons first
#                    on PATH; sets OVSLB_LAB_DIR to a fresh temporary
#                    directory and makes sure the lab goes down on exit.
#   check DESC CMD...  run CMD quietly; print "PASS: DESC" or "FAIL: DESC"
#                    (with CMD's output) and count it.
#   check_timing DESC CMD...  like check, for an assertion whose subject is
#                    a duration or a deadline ("back within 2 s"), which a
#                    loaded shared machine can miss: prints "PASS (timing):
#                    DESC" or "FAIL (timing): DESC".  utilities/ovslb-dev
#                    runs a test again only if all its failed checks are
#                    of this kind (tests/system/rerun-lib.sh).
#   check_out DESC PATTERN CMD...  like check, CMD's output must match the
#                    extended regular expression PATTERN.
#   sys_finish       print "N passed, M failed" (and ", K of them timing"
#                    when K of the M are), exit 0 or 1.
#   lab ARGS...      run ovslb-lab.
#   in_node NODE CMD...  run CMD in the lab node's namespace.
#   now, since T0    wall-clock seconds, for timings.
#   wait_for MAX_MS CMD...  poll CMD until it succeeds; print the ms it
#                    took, or "timeout" (and fail) after MAX_MS.
#   within MAX_MS T...  none of the wait_for times T is "timeout" and they
#                    add up to at most MAX_MS.
#   seen_unhealthy K T0 T K2...  how long after T the last of LB nodes K2...
#                    logged LB node K unhealthy (their own logs: polling
#                    them is slow on a loaded machine), or "unknown".
#   ring_size K, rings_are N K...  LB node K's ring size; whether LB nodes
#                    K... all have N nodes in their ring.
#   edge_hops, hops_are N  the edge router's next hops for $VIP (default
#                    203.0.113.10).
#   octl ARGS...     ovslb-ctl on the lab's config service (over ssl: in a
#                    lab up with OVSLB_LAB_CONFIG_SSL=1).
#   lb_packet_ins    client packet-ins summed over the LB nodes.
#   echo_conns N     N new connections to the echo VIP; prints how many
#                    echoed.

SYS_PASSED=0
SYS_FAILED=0
SYS_FAILED_TIMING=0
SYS_NAME=${0##*/}

sys_skip() {
    echo "SKIP: $SYS_NAME: $*"
    exit 77
}

sys_error() {
    echo "ERROR: $SYS_NAME: $*"
    exit 99
}

# Finds ovslb-lab and the programs of the build tree.
sys_find_programs() {
    local here top build
    here=$(cd "$(dirname "$0")" && pwd)
    top=${srcdir:+$(cd "$srcdir" && pwd)}
    top=${top:-$(cd "$here/../.." && pwd)}
    LAB=${OVSLB_LAB:-$top/utilities/ovslb-lab}
    [ -x "$LAB" ] || sys_error "no ovslb-lab at $LAB"
    # Built programs: the automake harness runs us from the top build
    # directory; by hand, OVSLB_BUILDDIR may name it.
    build=${OVSLB_BUILDDIR:-$PWD}
    local d
    for d in agent controller utilities; do
        if [ -d "$build/$d" ]; then
            PATH=$build/$d:$PATH
        fi
    done
    export PATH
}

# Whether any trace of a lab exists (namespaces or the default state dir).
sys_lab_exists() {
    ip netns list 2>/dev/null | grep -q '^ovslb-' && return 0
    [ -e /var/run/ovslb-lab ] && return 0
    return 1
}

sys_init() {
    [ -n "$OVSLB_SYSTEM_TESTS" ] || sys_skip "system tests run with 'make check-system'"
    [ "$(id -u)" = 0 ] || sys_skip "needs root (network namespaces, OVS)"
    local t
    for t in ip ovs-vswitchd ovsdb-server ovs-vsctl ovs-ofctl nginx curl; do
        command -v "$t" >/dev/null 2>&1 || sys_skip "$t not installed (utilities/ovslb-bootstrap)"
    done
    if sys_lab_exists; then
        # Asked for explicitly: a lab in the way is an error, not a skip.
        echo "a lab is already up (ovslb-* namespaces or /var/run/ovslb-lab); run 'ovslb-lab down' first"
        exit 99
    fi
    sys_find_programs
    OVSLB_LAB_DIR=$(mktemp -d /tmp/ovslb-lab-test.XXXXXX)
    export OVSLB_LAB_DIR
    SYS_OUT=$(mktemp /tmp/ovslb-lab-test-out.XXXXXX)
    trap sys_cleanup EXIT
    echo "# $SYS_NAME: ovslb-lab $LAB, state $OVSLB_LAB_DIR"
}

# Keeps what a failed test's lab wrote (daemon logs, request logs, the
# nodes' SQLite journals, configuration) in SYS_KEEP_DIR, by default
# tests/system/NAME.lab beside the test's own log, so that a failure in CI
# can be explained after the lab is gone.
sys_keep_lab() {
    local keep=${SYS_KEEP_DIR:-$PWD/tests/system/${SYS_NAME%.sh}.lab}
    [ -d "$OVSLB_LAB_DIR" ] || return 0
    rm -rf "$keep" && mkdir -p "$keep" || return 0
    (cd "$OVSLB_LAB_DIR" && find . -type f \( -name '*.log' -o -name '*.db' \
        -o -name '*.db-wal' -o -name '*.conf' -o -name '*.env' \
        -o -name 'streams.*' -o -name '*.stderr' \) -print0 \
        | xargs -0r cp --parents -t "$keep") 2>/dev/null || true
    echo "# lab state kept in $keep"
}

# On any exit: take down whatever lab this test left up, keeping its logs
# if a check failed.
sys_cleanup() {
    local rc=$?
    if [ "$rc" -ne 0 ] || [ "${SYS_FAILED:-0}" -gt 0 ]; then
        sys_keep_lab
    fi
    if ip netns list 2>/dev/null | grep -q '^ovslb-' || [ -e "$OVSLB_LAB_DIR" ]; then
        echo "# cleanup: ovslb-lab down"
        "$LAB" down >/dev/null 2>&1 || true
        rmdir "$OVSLB_LAB_DIR" 2>/dev/null || true
    fi
    rm -f "$SYS_OUT"
}

lab() {
    if [ "${1:-}" = down ] && [ "$SYS_FAILED" -gt 0 ]; then
        sys_keep_lab
    fi
    "$LAB" "$@"
}

in_node() {
    local node=$1
    shift
    ip netns exec "ovslb-$node" "$@"
}

# sys_pass DESC [timing], sys_fail DESC [timing]: a check's verdict, the
# prefix of its line naming a timing check as such.
sys_pass() {
    SYS_PASSED=$((SYS_PASSED + 1))
    echo "PASS${2:+ ($2)}: $1"
}

sys_fail() {
    SYS_FAILED=$((SYS_FAILED + 1))
    [ "${2:-}" != timing ] || SYS_FAILED_TIMING=$((SYS_FAILED_TIMING + 1))
    echo "FAIL${2:+ ($2)}: $1"
    if [ -s "$SYS_OUT" ]; then
        sed 's/^/#   /' "$SYS_OUT" | head -n 20
    fi
}

check() {
    local desc=$1
    shift
    if "$@" >"$SYS_OUT" 2>&1; then
        sys_pass "$desc"
    else
        sys_fail "$desc"
    fi
}

# With OVSLB_TIMING_CHECKS=report (the run under AddressSanitizer, whose
# daemons are several times slower: timing is not what it checks), a missed
# deadline is printed, not counted.
check_timing() {
    local desc=$1
    shift
    if "$@" >"$SYS_OUT" 2>&1; then
        sys_pass "$desc" timing
    elif [ "${OVSLB_TIMING_CHECKS:-}" = report ]; then
        echo "MISSED (timing, not checked in this run): $desc"
    else
        sys_fail "$desc" timing
    fi
}

check_out() {
    local desc=$1 pattern=$2
    shift 2
    if "$@" >"$SYS_OUT" 2>&1 && grep -Eq -- "$pattern" "$SYS_OUT"; then
        sys_pass "$desc"
    else
        echo "(expected to match: $pattern)" >>"$SYS_OUT"
        sys_fail "$desc"
    fi
}

now() {
    date +%s.%N
}

since() {
    awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.1f", t1 - t0 }'
}

ms_since() {   # ms_since T_NS: ms since T_NS (date +%s%N)
    echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

wait_for() {
    local max=$1 t0
    shift
    t0=$(date +%s%N)
    while ! "$@"; do
        if [ "$(ms_since "$t0")" -gt "$max" ]; then
            echo timeout
            return 1
        fi
        sleep 0.02
    done
    ms_since "$t0"
}

within() {
    local max=$1 sum=0 t
    shift
    for t in "$@"; do
        [ "$t" != timeout ] || return 1
        sum=$((sum + t))
    done
    [ "$sum" -le "$max" ]
}

# seen_unhealthy K T0 T K2...: how long after T (ms, at least 0) the last
# of nodes K2... logged LB node K unhealthy, by the first such line of each
# log at or after T0 (seconds, fractional); "unknown" if a log lacks it.
seen_unhealthy() {
    local node=$1 t0=$2 t=$3 k line ts max=0 ms since
    shift 3
    since=$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S.%3N)
    for k in "$@"; do
        line=$(awk -F'|' -v since="$since" -v pat="LB node $node: .*-> unhealthy" \
                   'substr($1, 1, 23) >= since && $0 ~ pat { print substr($1, 1, 23); exit }' \
                   "$OVSLB_LAB_DIR/lb$k/ovslb-controller.log" 2>/dev/null)
        [ -n "$line" ] || { echo unknown; return; }
        ts=$(date -u -d "${line/T/ } UTC" +%s.%N)
        ms=$(awk -v a="$t" -v b="$ts" 'BEGIN { d = (b - a) * 1000; printf "%d", (d > 0 ? d : 0) }')
        [ "$ms" -le "$max" ] || max=$ms
    done
    echo "$max"
}
ring_size() {
    ovs-appctl --timeout=5 -t "$OVSLB_LAB_DIR/lb$1/ovslb-controller.ctl" \
        ovslb/show 2>/dev/null | sed -n 's/^ring: \([0-9]*\) nodes.*/\1/p'
}

rings_are() {
    local n=$1 k
    shift
    for k in "$@"; do [ "$(ring_size "$k")" = "$n" ] || return 1; done
}

edge_hops() {
    ip -n ovslb-edge route show "${VIP:-203.0.113.10}" | grep -c "nexthop via"
}

hops_are() {
    [ "$(edge_hops)" = "$1" ]
}

# octl ARGS...: ovslb-ctl on the lab's config service; in a lab up with
# OVSLB_LAB_CONFIG_SSL=1, over ssl: as the nodes reach it ('ovslb-lab ctl').
octl() {
    if grep -qx 'CONFIG_SSL=1' "$OVSLB_LAB_DIR/lab.env" 2>/dev/null; then
        "$LAB" ctl --timeout=30 "$@"
    else
        ovslb-ctl --db="unix:$OVSLB_LAB_DIR/config/ovslb.sock" --timeout=30 "$@"
    fi
}

# stat_sum KIND KEY: a counter of ovslb/stats (the line whose first word is
# KEY) summed over the lab's three nodes of KIND: lb (the controllers) or
# srv (the agents).
stat_sum() {
    local k daemon=ovslb-controller
    [ "$1" = lb ] || daemon=ovslb-agent
    for k in 1 2 3; do
        ovs-appctl --timeout=5 -t "$OVSLB_LAB_DIR/$1$k/$daemon.ctl" \
            ovslb/stats
    done | awk -v c="$2" '$1 == c { s += $2 } END { print s + 0 }'
}
lb_stat_sum() { stat_sum lb "$1"; }

# lb_packet_ins: packet-ins of client packets (SYN and other, not ARP)
# summed over the lab's three LB nodes.
lb_packet_ins() {
    local k
    for k in 1 2 3; do
        ovs-appctl --timeout=5 -t "$OVSLB_LAB_DIR/lb$k/ovslb-controller.ctl" \
            ovslb/stats
    done | sed -n 's/^packet-ins: syn \([0-9]*\), other \([0-9]*\),.*/\1 \2/p' \
        | awk '{ s += $1 + $2 } END { print s + 0 }'
}

# keepalive_start NAME ADDR N: N keep-alive HTTP connections to ADDR:80
# from the client namespace (keepalive.py) in the background, writing
# $OVSLB_LAB_DIR/NAME.out and NAME.err; KA_PID is its pid.
keepalive_start() {
    ip netns exec ovslb-cli "${PYTHON:-python3}" \
        "$srcdir/tests/system/keepalive.py" "$2" "$3" \
        >"$OVSLB_LAB_DIR/$1.out" 2>"$OVSLB_LAB_DIR/$1.err" &
    KA_PID=$!
}
# keepalive_stop NAME: stops it, prints its summary and first breaks; KA_RC
# is its exit status (0: none broke).
keepalive_stop() {
    kill -TERM "$KA_PID" 2>/dev/null
    wait "$KA_PID"
    KA_RC=$?
    KA_PID=
    echo "# $1: $(tail -1 "$OVSLB_LAB_DIR/$1.out")"
    head -5 "$OVSLB_LAB_DIR/$1.err"
}

# every_lb_shows PATTERN: the ovslb/show of each of the lab's three LB nodes
# has a line matching PATTERN (grep).
every_lb_shows() {
    local k
    for k in 1 2 3; do
        ovs-appctl --timeout=5 -t "$OVSLB_LAB_DIR/lb$k/ovslb-controller.ctl" \
            ovslb/show | grep -q "$1" || return 1
    done
}
agent_stat_sum() { stat_sum srv "$1"; }

# streams_status FILE KEY: a value of streams.py's status file FILE (0 if
# it has none yet).
streams_status() {
    awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' \
        "$1" 2>/dev/null
}

# json_num JSON KEY: a number of streams.py's one-line JSON summary JSON,
# -1 if it has none.
json_num() {
    printf '%s' "$1" | "${PYTHON:-python3}" -c \
        'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], -1))' "$2" \
        2>/dev/null || echo -1
}

# echo_conns N: N new connections to the lab's echo VIP ($VIP, port 9000),
# one after the other (connect, echo a line, close); prints how many came
# back echoed.
echo_conns() {
    ip netns exec ovslb-cli "${PYTHON:-python3}" - "${VIP:-203.0.113.10}" "$1" <<'PYEOF'
import socket, sys
vip, n = sys.argv[1], int(sys.argv[2])
ok = 0
for i in range(n):
    try:
        with socket.create_connection((vip, 9000), timeout=5) as s:
            line = b"echo %d\n" % i
            s.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
            ok += got == line
    except OSError:
        pass
print(ok)
PYEOF
}

sys_finish() {
    echo "$SYS_PASSED passed, $SYS_FAILED failed$( [ "$SYS_FAILED_TIMING" = 0 ] \
        || echo ", $SYS_FAILED_TIMING of them timing")"
    [ "$SYS_FAILED" -eq 0 ]
}
