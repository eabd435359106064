#!/bin/bash
# bgp.sh: the edge announcement of PROTOCOL.md §9 in the namespace lab.
#
# The edge runs FRR (zebra + bgpd, ECMP); every LB node runs a bgpd that is
# driven through vtysh with the commands of lib/bgp-speaker.c (here by
# 'ovslb-lab bgp-withdraw/bgp-announce', which render the same commands,
# since ovslb-controller does not drive its speaker yet).  Checks that each
# LB node is announced by its two ring neighbours, that the edge's kernel
# route for the VIP has a next hop per LB node, and measures how fast a
# next hop leaves (sessions closed; target < 1 s) and comes back (sessions
# opened; target < 3 s: a connect, and one retry 1 s later).  Root and
# OVSLB_SYSTEM_TESTS only.

# shellcheck source=tests/system/system-lib.sh
. "$(dirname "$0")/system-lib.sh"

sys_init
if ! command -v vtysh >/dev/null 2>&1 || [ ! -x /usr/lib/frr/bgpd ]; then
    sys_skip "FRR not installed (utilities/ovslb-bootstrap)"
fi
export OVSLB_LAB_ROUTES=bgp OVSLB_LAB_ANNOUNCE=lab
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
ROUNDS=3

next_hops() {
    ip -n ovslb-edge route show "$1/32" |
        awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' |
        sort | paste -sd, -
}

# Whether PID runs (a zombie does not: this machine's init may not reap).
running() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

pid_alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && running "$pid"
}

# Whether nothing of the lab is left: namespaces, state, FRR processes.
nothing_left() {
    local pid
    if ip netns list | grep -q '^ovslb-'; then
        echo "namespaces left"
        return 1
    fi
    if [ -e "$D" ] || pgrep -f "$D/" >/dev/null; then
        echo "state directory or processes left"
        return 1
    fi
    for pid in $FRR_PIDS; do
        if running "$pid"; then
            echo "FRR process $pid left"
            return 1
        fi
    done
}

edge_vtysh() {
    vtysh --vty_socket "$D/edge" -d bgpd "$@"
}

# Dynamic neighbours of the edge that are established with prefixes.
established() {
    edge_vtysh -c 'show bgp summary' | awk '$1 ~ /^\*10\.1\./ && $10 ~ /^[0-9]+$/' | wc -l
}

# The session addresses the edge has, as "announcer.announced" pairs.
sessions() {
    edge_vtysh -c 'show bgp summary' |
        awk '$1 ~ /^\*10\.1\./ && $10 ~ /^[0-9]+$/ { sub(/^\*10\.1\./, "", $1); print $1 }' |
        sort | paste -sd' ' -
}

# Seconds until the edge's route for $VIP does (has) or does not (lacks)
# include next hop NH, polling every 10 ms from T0, 5 s at most.
wait_hop() {
    local want=$1 nh=$2 t0=$3
    for ((i = 0; i < 500; i++)); do
        case ",$(next_hops "$VIP")," in
            *",$nh,"*) [ "$want" = has ] && break ;;
            *) [ "$want" = lacks ] && break ;;
        esac
        sleep 0.01
    done
    awk -v t0="$t0" -v t1="$(now)" 'BEGIN { printf "%.3f", t1 - t0 }'
}

lt() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

check "ovslb-lab up --lb 3 --servers 1 (BGP edge)" lab up --lb 3 --servers 1
check_out "lab records BGP routes" '^ROUTES=bgp$' cat "$D/lab.env"
check "edge: zebra and bgpd alive" \
    eval "pid_alive $D/edge/zebra.pid && pid_alive $D/edge/bgpd.pid"
for k in 1 2 3; do
    check "lb$k: bgpd alive, vty socket in the node's directory" \
        eval "pid_alive $D/lb$k/bgpd.pid && test -S $D/lb$k/bgpd.vty"
done
check_out "lb1: session addresses 10.1.1.2 and 10.1.1.3 on br-int" \
    '10\.1\.1\.2/32.*10\.1\.1\.3/32' \
    eval "ip -n ovslb-lb1 -o addr show dev br-int | tr '\n' ' '"
# 'lab up' returns once the edge routes every VIP over the three nodes,
# which one session per node is enough for; a session whose first connect
# failed comes a connect timer (1 s) later.  Wait for all six, 5 s at most.
t0=$(now)
for ((i = 0; i < 50; i++)); do
    [ "$(sessions)" = "1.2 1.3 2.1 2.3 3.1 3.2" ] && break
    sleep 0.1
done
echo "# all sessions established $(since "$t0") s after 'lab up' returned"
check_out "edge: 6 sessions, each node by its two ring neighbours" \
    '^1\.2 1\.3 2\.1 2\.3 3\.1 3\.2$' sessions
check_out "edge: kernel route for $VIP has 3 next hops, learnt by BGP" \
    '^10\.1\.0\.11,10\.1\.0\.12,10\.1\.0\.13$' next_hops "$VIP"
check_out "edge: same for 203.0.113.11" \
    '^10\.1\.0\.11,10\.1\.0\.12,10\.1\.0\.13$' next_hops 203.0.113.11
check_out "edge: no static VIP route left" 'proto bgp' \
    ip -n ovslb-edge route show "$VIP/32"
check_out "status shows the edge's next hops" \
    "routes:bgp zebra:up bgpd:up ecmp: $VIP/3-hops\[10\.1\.0\.11,10\.1\.0\.12,10\.1\.0\.13\]" \
    lab status

# Withdraw lb2 (its announcers lb1 and lb3 close their sessions) and
# announce it again, ROUNDS times.
DROPS="" BACKS=""
for ((r = 1; r <= ROUNDS; r++)); do
    t0=$(now)
    check "round $r: bgp-withdraw 2" lab bgp-withdraw 2
    drop=$(wait_hop lacks 10.1.0.12 "$t0")
    check_out "round $r: next hop 10.1.0.12 gone, the others kept" \
        '^10\.1\.0\.11,10\.1\.0\.13$' next_hops "$VIP"
    check_out "round $r: sessions 1.2 and 3.2 closed" \
        '^1\.3 2\.1 2\.3 3\.1$' sessions
    t0=$(now)
    check "round $r: bgp-announce 2" lab bgp-announce 2
    back=$(wait_hop has 10.1.0.12 "$t0")
    check_out "round $r: next hop 10.1.0.12 back" \
        '^10\.1\.0\.11,10\.1\.0\.12,10\.1\.0\.13$' next_hops "$VIP"
    echo "# round $r: next hop gone after $drop s, back after $back s"
    DROPS="$DROPS $drop" BACKS="$BACKS $back"
done
MAX_DROP=$(echo "$DROPS" | tr ' ' '\n' | sort -n | tail -n 1)
MAX_BACK=$(echo "$BACKS" | tr ' ' '\n' | sort -n | tail -n 1)
echo "# withdrawal (command start to kernel route change):$DROPS s"
echo "# re-announcement:$BACKS s"
check_timing "withdrawal under 1 s (worst $MAX_DROP s)" lt "$MAX_DROP" 1
# Typically 1.4 s back (the speaker's connect timer is 1 s, 'timers
# connect 1', then the exchange of OPENs and UPDATEs); 2.17 s seen in a
# CI run on a busy machine.  A connect attempt that fails is retried a
# second later by design: the bound allows one.
check_timing "re-announcement under 3 s (worst $MAX_BACK s)" lt "$MAX_BACK" 3

# A killed and restarted LB node gets its bgpd and announcements back.
check "kill-lb 3" lab kill-lb 3
check "kill-lb 3: its bgpd gone" eval "! pid_alive $D/lb3/bgpd.pid"
check "start-lb 3" lab start-lb 3
check "start-lb 3: bgpd alive again" pid_alive "$D/lb3/bgpd.pid"
t0=$(now)
for ((i = 0; i < 100; i++)); do
    [ "$(sessions)" = "1.2 1.3 2.1 2.3 3.1 3.2" ] && break
    sleep 0.1
done
check_out "start-lb 3: all 6 sessions established again" \
    '^1\.2 1\.3 2\.1 2\.3 3\.1 3\.2$' sessions

FRR_PIDS=$(cat "$D"/*/bgpd.pid "$D"/*/zebra.pid 2>/dev/null)
check "ovslb-lab down" lab down
check "after down: no FRR process, namespace or state directory left" \
    nothing_left

sys_finish
