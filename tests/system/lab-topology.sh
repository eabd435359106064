#!/bin/bash
# lab-topology.sh: the namespace lab (LAB.md) comes up exactly as specified,
# carries Geneve between nodes, survives a node kill, and 'down' leaves
# nothing behind.  Root only (skips otherwise, or when a lab is already up).

# shellcheck source=tests/system/system-lib.sh
. "$(dirname "$0")/system-lib.sh"

sys_init

N_LB=3
N_SRV=3
LBS="lb1 lb2 lb3"
SRVS="srv1 srv2 srv3"
VIPS="203.0.113.10 203.0.113.11"
TEST_COOKIE=0x1ab0000000000002
D=$OVSLB_LAB_DIR

# ---------------------------------------------------------------------------
# Helpers and predicates (each prints why it fails).

vsctl() {
    local node=$1
    shift
    ovs-vsctl --timeout=5 --db="unix:$D/$node/db.sock" "$@"
}

ofctl() {
    local node=$1 cmd=$2 br=$3
    shift 3
    ovs-ofctl -O OpenFlow15 "$cmd" "unix:$D/$node/$br.mgmt" "$@"
}

appctl() {
    local node=$1
    shift
    ovs-appctl --timeout=5 -t "$D/$node/ovs-vswitchd.ctl" "$@"
}

# Whether process PID runs: it exists and is neither a zombie nor dead
# (this machine's init may not reap detached daemons, and a process that
# is being torn down reads as X, or has no status any more), as
# ovslb-lab's is_running() has it.
running() {
    local state
    [ -n "$1" ] || return 1
    state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) \
        || return 1
    case $state in
        '' | Z | X) return 1 ;;
    esac
}

pid_alive() {
    running "$(cat "$1" 2>/dev/null)"
}

pid_dead() {
    ! pid_alive "$1"
}

mac_of_dev() {
    ip -n "ovslb-$1" -o link show "$2" |
        sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# has_addr NODE DEV ADDR/LEN...
has_addr() {
    local node=$1 dev=$2 a
    shift 2
    for a in "$@"; do
        if ! ip -n "ovslb-$node" -o addr show dev "$dev" | grep -q " $a "; then
            echo "$node: no $a on $dev"
            ip -n "ovslb-$node" -o addr show dev "$dev"
            return 1
        fi
    done
}

# equals WHAT EXPECTED ACTUAL
equals() {
    if [ "$2" != "$3" ]; then
        echo "$1: expected '$2', got '$3'"
        return 1
    fi
}

root_links() {
    ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
}

cli_ok() {
    has_addr cli eth0 198.51.100.2/24 &&
        ip -n ovslb-cli route show default | grep -q 'via 198.51.100.1 '
}

edge_ok() {
    has_addr edge cli0 198.51.100.1/24 && has_addr edge br-north 10.1.0.1/24
}

bridge_ports() {
    equals "ports of $2 in $1" "$3" \
        "$(ip -n "ovslb-$1" -o link show master "$2" | wc -l)"
}

srv_route_ok() {
    ip -n "ovslb-$1" route show 198.51.100.0/24 |
        grep -q 'via 169.254.1.2 dev br-int' &&
        ip -n "ovslb-$1" neigh show 169.254.1.2 dev br-int | grep -q PERMANENT
}

tx_csum_off() {
    local node=$1 dev=$2
    ip netns exec "ovslb-$node" ethtool -k "$dev" |
        grep -q '^tx-checksumming: off'
}

ecmp_hops() {
    ip -n ovslb-edge route show "$1/32" |
        grep -c 'nexthop via 10\.1\.0\.[0-9]* dev br-north'
}

edge_sysctls_ok() {
    local e=(ip netns exec ovslb-edge sysctl -n)
    equals policy 3 "$("${e[@]}" net.ipv4.fib_multipath_hash_policy)" &&
        equals fields 55 "$("${e[@]}" net.ipv4.fib_multipath_hash_fields)" &&
        equals ip_forward 1 "$("${e[@]}" net.ipv4.ip_forward)"
}

bridges_ok() {
    local node=$1
    equals bridges "br-int br-phy " "$(vsctl "$node" list-br | tr '\n' ' ')" &&
        equals br-int "netdev secure " \
            "$(vsctl "$node" get bridge br-int datapath_type fail_mode | tr '\n' ' ')" &&
        equals br-phy "netdev secure " \
            "$(vsctl "$node" get bridge br-phy datapath_type fail_mode | tr '\n' ' ')"
}

controller_ok() {
    local node=$1 rate
    vsctl "$node" get bridge br-int protocols | grep -q 'OpenFlow13.*OpenFlow15' ||
        { echo "protocols"; return 1; }
    rate=$(vsctl "$node" get controller br-int controller_rate_limit) &&
        [ "$rate" -gt 0 ]
}

geneve_port_ok() {
    equals gnv0 "geneve 100 flow flow " \
        "$(vsctl "$1" get interface gnv0 type ofport options:remote_ip options:key | tr '\n' ' ')"
}

port_on() {
    vsctl "$1" list-ports "$2" | grep -qx "$3"
}

north_ok() {
    port_on "$1" br-int north0 &&
        equals ofport 1 "$(vsctl "$1" get interface north0 ofport)"
}

ext_id() {
    equals "external_ids:$2" "$3" \
        "$(vsctl "$1" get Open_vSwitch . "external_ids:$2" | tr -d '"')"
}

# ext_ids_ok NODE ID ROLE
ext_ids_ok() {
    ext_id "$1" ovslb-node-id "$2" && ext_id "$1" ovslb-role "$3" &&
        ext_id "$1" ovslb-bridge br-int &&
        ext_id "$1" ovslb-config "unix:$D/config/ovslb.sock" &&
        ext_id "$1" ovslb-store "$D/$1/ovslb.db"
}

srv_nodes_in_status() {
    equals "lines with br-int:ok br-phy:ok" $((N_LB + N_SRV)) \
        "$(lab status | grep -c 'br-int:ok br-phy:ok')"
}

# ---------------------------------------------------------------------------
# Geneve underlay probe: static test flows tunnel ICMP from every LB node's
# bridge to every server node's bridge and back; the echo requests are
# counted by a flow on the server's br-int.  Test addresses on the br-int
# LOCAL ports: LB K 10.99.0.K, server S 10.99.1.S.

geneve_setup() {
    local lb srv k s flows
    for lb in $LBS; do
        k=${lb#lb}
        ip -n "ovslb-$lb" addr add "10.99.0.$k/32" dev br-int || return 1
        ip -n "ovslb-$lb" route add 10.99.1.0/24 dev br-int src "10.99.0.$k" ||
            return 1
        flows="cookie=$TEST_COOKIE,priority=65000,ip,in_port=100,nw_dst=10.99.0.$k actions=LOCAL"
        for srv in $SRVS; do
            s=${srv#srv}
            ip -n "ovslb-$lb" neigh replace "10.99.1.$s" dev br-int \
                nud permanent lladdr "$(mac_of_dev "$srv" br-int)" || return 1
            flows="$flows
cookie=$TEST_COOKIE,priority=65000,ip,in_port=LOCAL,nw_dst=10.99.1.$s actions=set_field:10.2.0.$((100 + s))->tun_dst,output:100"
        done
        printf '%s\n' "$flows" | ofctl "$lb" add-flows br-int - || return 1
    done
    for srv in $SRVS; do
        s=${srv#srv}
        ip -n "ovslb-$srv" addr add "10.99.1.$s/32" dev br-int || return 1
        ip -n "ovslb-$srv" route add 10.99.0.0/24 dev br-int src "10.99.1.$s" ||
            return 1
        flows="cookie=$TEST_COOKIE,priority=65000,ip,in_port=100,nw_dst=10.99.1.$s actions=LOCAL"
        for lb in $LBS; do
            k=${lb#lb}
            ip -n "ovslb-$srv" neigh replace "10.99.0.$k" dev br-int \
                nud permanent lladdr "$(mac_of_dev "$lb" br-int)" || return 1
            flows="$flows
cookie=$TEST_COOKIE,priority=65000,ip,in_port=LOCAL,nw_dst=10.99.0.$k actions=set_field:10.2.0.$((10 + k))->tun_dst,output:100"
        done
        printf '%s\n' "$flows" | ofctl "$srv" add-flows br-int - || return 1
    done
}

geneve_teardown() {
    local lb srv rc=0
    for lb in $LBS; do
        ofctl "$lb" del-flows br-int "cookie=$TEST_COOKIE/-1" || rc=1
        ip -n "ovslb-$lb" route del 10.99.1.0/24 dev br-int || rc=1
        ip -n "ovslb-$lb" neigh flush dev br-int to 10.99.0.0/16 || rc=1
        ip -n "ovslb-$lb" addr del "10.99.0.${lb#lb}/32" dev br-int || rc=1
    done
    for srv in $SRVS; do
        ofctl "$srv" del-flows br-int "cookie=$TEST_COOKIE/-1" || rc=1
        ip -n "ovslb-$srv" route del 10.99.0.0/24 dev br-int || rc=1
        ip -n "ovslb-$srv" neigh flush dev br-int to 10.99.0.0/16 || rc=1
        ip -n "ovslb-$srv" addr del "10.99.1.${srv#srv}/32" dev br-int || rc=1
    done
    return $rc
}

geneve_trace() {
    appctl lb1 ofproto/trace br-int \
        "in_port=LOCAL,icmp,nw_src=10.99.0.1,nw_dst=10.99.1.1,dl_src=$(mac_of_dev lb1 br-int),dl_dst=$(mac_of_dev srv1 br-int)"
}

# The echo requests srv's br-int counted, once it counts at least $2 (flow
# statistics reach OpenFlow from the datapath with the revalidator, within
# about a second), or after 5 s.
echo_requests_seen() {
    local n i
    for ((i = 0; i < 50; i++)); do
        n=$(ofctl "$1" dump-flows br-int "cookie=$TEST_COOKIE/-1,in_port=100" |
            sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -n 1)
        [ "${n:-0}" -ge "$2" ] && break
        sleep 0.1
    done
    echo "$n"
}

# No flow with cookie $1 (any flow if none given) on any br-int, and no
# 10.99/16 address or route left.
br_int_clean() {
    local node filter=()
    [ -n "${1:-}" ] && filter=("cookie=$1/-1")
    for node in $LBS $SRVS; do
        if ofctl "$node" dump-flows br-int "${filter[@]}" | grep -q cookie=; then
            echo "$node: flows left"
            return 1
        fi
        if ip -n "ovslb-$node" -o addr show dev br-int | grep -q ' 10\.99\.' ||
           ip -n "ovslb-$node" route show | grep -q '^10\.99\.'; then
            echo "$node: 10.99/16 address or route left"
            return 1
        fi
    done
}

# ---------------------------------------------------------------------------
# The demo over the hand-wired path.

demo_refused() {
    ! lab demo --requests 10
}

demo_spread() {
    local out
    out=$(lab demo --requests 100) || return 1
    echo "$out"
    [ "$(echo "$out" | awk '/^  lb[0-9]/ && $2 > 0' | wc -l)" -ge 2 ] &&
        [ "$(echo "$out" | awk '/^  srv[0-9]/ && $2 > 0' | wc -l)" -ge 2 ]
}

# ---------------------------------------------------------------------------
# Nothing left after down.

# Every process of the lab: its pid files and whatever runs in its
# namespaces.
lab_pids() {
    local ns
    awk 1 "$D"/*/*.pid 2>/dev/null
    for ns in $(ip netns list | awk '/^ovslb-/ {print $1}'); do
        ip netns pids "$ns"
    done
}

nothing_left() {
    local pid left="" new
    if ip netns list | grep -q '^ovslb-'; then
        echo "namespaces left: $(ip netns list | grep '^ovslb-' | tr '\n' ' ')"
        return 1
    fi
    for pid in $LAB_PIDS; do
        if running "$pid"; then
            left="$left $pid($(cat "/proc/$pid/comm" 2>/dev/null), $(sed -n 's/^State:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null), $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
        fi
    done
    if pgrep -f "$D/" >/dev/null; then
        left="$left $(pgrep -f "$D/" | tr '\n' ' ')"
    fi
    if [ -n "$left" ]; then
        echo "processes left:$left"
        return 1
    fi
    if [ -e "$D" ]; then
        echo "state directory left: $D"
        return 1
    fi
    new=$(root_links | comm -13 <(echo "$ROOT_LINKS_BEFORE") - |
          grep -E '^(north0|south0|cli0|eth0|br-north|br-fab|br-int|br-phy|gnv0|genev_sys_6081|ovs-netdev|lb[0-9]+|srv[0-9]+)$') || true
    if [ -n "$new" ]; then
        echo "links left in the root namespace: $new"
        return 1
    fi
}

# ===========================================================================
# up

ROOT_LINKS_BEFORE=$(root_links)
T0=$(now)
check "ovslb-lab up --lb $N_LB --servers $N_SRV" lab up --lb $N_LB --servers $N_SRV
T_UP=$(since "$T0")
echo "# up took $T_UP s"

# Namespaces, links, addresses.
for ns in cli edge fab $LBS $SRVS; do
    check "namespace ovslb-$ns exists" test -e "/run/netns/ovslb-$ns"
done
check "cli: 198.51.100.2/24 on eth0, default route via 198.51.100.1" cli_ok
check "edge: 198.51.100.1/24 toward clients, 10.1.0.1/24 on the north bridge" edge_ok
check "edge: the north bridge holds the $N_LB LB nodes' north links" \
    bridge_ports edge br-north "$N_LB"
check "fab: the fabric bridge holds the $((N_LB + N_SRV)) underlay links" \
    bridge_ports fab br-fab $((N_LB + N_SRV))
for lb in $LBS; do
    k=${lb#lb}
    check "$lb: north 10.1.0.$((10 + k))/24 on br-int" \
        has_addr "$lb" br-int "10.1.0.$((10 + k))/24"
    check "$lb: underlay 10.2.0.$((10 + k))/24 on br-phy" \
        has_addr "$lb" br-phy "10.2.0.$((10 + k))/24"
done
for srv in $SRVS; do
    k=${srv#srv}
    check "$srv: underlay 10.2.0.$((100 + k))/24 on br-phy" \
        has_addr "$srv" br-phy "10.2.0.$((100 + k))/24"
    check "$srv: VIPs on lo" has_addr "$srv" lo 203.0.113.10/32 203.0.113.11/32
    check "$srv: 169.254.1.1/30 on br-int" has_addr "$srv" br-int 169.254.1.1/30
    check "$srv: client prefix via the permanent neighbour 169.254.1.2" \
        srv_route_ok "$srv"
done
check "tx checksum offload off: lb1 north0" tx_csum_off lb1 north0
check "tx checksum offload off: srv1 south0" tx_csum_off srv1 south0
check "tx checksum offload off: srv1 br-int tap" tx_csum_off srv1 br-int
check "tx checksum offload off: cli eth0" tx_csum_off cli eth0

# Edge ECMP.
for vip in $VIPS; do
    check_out "edge: ECMP route for $vip with $N_LB next hops" "^$N_LB\$" \
        ecmp_hops "$vip"
done
check "edge: L4 multipath hash (policy 3, fields 0x37), forwarding on" \
    edge_sysctls_ok

# OVS per node.
for node in $LBS $SRVS; do
    k=${node#lb}
    k=${k#srv}
    case $node in
        lb*) id=$k role=lb ;;
        *) id=$((100 + k)) role=server ;;
    esac
    check "$node: br-int and br-phy, userspace datapath, fail_mode secure" \
        bridges_ok "$node"
    check "$node: br-int on OpenFlow13,15 with a rate-limited controller" \
        controller_ok "$node"
    check "$node: gnv0 is a flow-based Geneve port at ofport 100" \
        geneve_port_ok "$node"
    check "$node: br-phy holds the underlay port south0" port_on "$node" br-phy south0
    [ "$role" = lb ] && check "$node: north0 on br-int at ofport 1" north_ok "$node"
    check "$node: external_ids node-id $id, role $role, bridge, config, store" \
        ext_ids_ok "$node" "$id" "$role"
    [ "$role" = lb ] && check "$node: external_ids ovslb-north-port north0" \
        ext_id "$node" ovslb-north-port north0
done

# Processes, by pid file.
for node in $LBS $SRVS; do
    progs="ovsdb-server ovs-vswitchd"
    case $node in srv*) progs="$progs nginx iperf3 ovslb-echo unbound" ;; esac
    for prog in $progs; do
        check "$node: $prog alive (pid file)" pid_alive "$D/$node/$prog.pid"
    done
done
if [ -e "$D/config/ovslb.db" ]; then
    check "config service: ovsdb-server alive" pid_alive "$D/config/ovsdb-server.pid"
    check "config service: socket $D/config/ovslb.sock" test -S "$D/config/ovslb.sock"
else
    echo "# config service: no schema/ovslb.ovsschema, not started"
fi
DAEMONS=yes
for node in $LBS $SRVS; do
    case $node in lb*) prog=ovslb-controller ;; *) prog=ovslb-agent ;; esac
    if command -v "$prog" >/dev/null 2>&1; then
        check "$node: $prog alive (pid file)" pid_alive "$D/$node/$prog.pid"
    else
        DAEMONS=no
    fi
done
[ "$DAEMONS" = yes ] || echo "# ovslb-controller / ovslb-agent not built: not checked"
for srv in $SRVS; do
    check_out "$srv: nginx serves / on the VIP, naming the node" "^$srv\$" \
        in_node "$srv" curl -s -m 3 http://203.0.113.10/
    check_out "$srv: the echo service echoes on TCP 9000" "^echo-$srv\$" \
        in_node "$srv" bash -c "echo echo-$srv | timeout 5 socat -t 2 - TCP:203.0.113.10:9000"
    check_out "$srv: unbound answers on UDP 53 of .11, naming the node" \
        "^answered 3 of 3; .*$srv 3" in_node "$srv" "${PYTHON:-python3}" \
        "$(dirname "$0")/dns-client.py" burst 203.0.113.11 3
done
check_out "srv1: /big is 256 MiB" "Content-Length: 268435456" \
    in_node srv1 curl -s -m 3 -I http://203.0.113.11/big

# ---------------------------------------------------------------------------
# Geneve underlay.

check "Geneve probe: static test flows and addresses installed" geneve_setup
check_out "lb1: ofproto/trace tunnels 10.99.1.1 to srv1's underlay address" \
    'tnl_push\(.*dst=10\.2\.0\.101.*geneve' geneve_trace
for lb in $LBS; do
    for srv in $SRVS; do
        check "Geneve: ping from $lb's br-int to $srv's br-int and back" \
            in_node "$lb" ping -q -c 2 -i 0.1 -W 2 "10.99.1.${srv#srv}"
    done
done
for srv in $SRVS; do
    check_out "$srv: br-int counted the $((2 * N_LB)) echo requests tunnelled by the LB nodes" \
        "^$((2 * N_LB))\$" echo_requests_seen "$srv" $((2 * N_LB))
done
check "Geneve probe: test flows, addresses, routes removed" geneve_teardown
check "Geneve probe: nothing of it left" br_int_clean "$TEST_COOKIE"

# ---------------------------------------------------------------------------
# The whole VIP path (client, ECMP edge, LB node, Geneve, server, egress):
# with the hand-wired static flows while the daemons do not exist, through
# the daemons once they do.

if [ "$DAEMONS" = no ]; then
    check_out "demo refuses to run without the daemons, saying so" \
        "not built yet" demo_refused
    check "baseline on (the hand-wired static path of LAB.md)" lab baseline on
    check_out "demo over the baseline path: 200 requests, none failed" \
        "requests: 200 ok, 0 failed" lab demo --requests 200
    check "demo: requests spread over >= 2 LB nodes and >= 2 servers" demo_spread
    check "baseline off" lab baseline off
    check "baseline off left no flow on any br-int" br_int_clean
else
    check_out "demo through the ovslb daemons: 200 requests, none failed" \
        "requests: 200 ok, 0 failed" lab demo --requests 200
fi

# ---------------------------------------------------------------------------
# status, idempotent up, kill/start.

check_out "status: exit 0, a line per node" \
    "^srv3 +ovsdb-server:up ovs-vswitchd:up" lab status
check "status: every LB and server node has both bridges ok" srv_nodes_in_status
PID_LB1=$(cat "$D/lb1/ovs-vswitchd.pid")
check "up again: exit 0" lab up
check "up again: a no-op (lb1's ovs-vswitchd unchanged)" \
    equals pid "$PID_LB1" "$(cat "$D/lb1/ovs-vswitchd.pid")"
check_out "up with fewer nodes while up fails with a clear message" \
    "ovslb-lab down' first" eval '! lab up --lb 2'

PID_LB2=$(cat "$D/lb2/ovs-vswitchd.pid")
check "kill-lb 2" lab kill-lb 2
check "kill-lb 2: ovs-vswitchd gone" pid_dead "$D/lb2/ovs-vswitchd.pid"
check "kill-lb 2: ovsdb-server gone" pid_dead "$D/lb2/ovsdb-server.pid"
check_out "status shows lb2 down and exits non-zero" \
    "^lb2 +ovsdb-server:down ovs-vswitchd:down" eval '! lab status'
check "start-lb 2" lab start-lb 2
check "start-lb 2: a new ovs-vswitchd" \
    eval "pid_alive $D/lb2/ovs-vswitchd.pid && ! equals pid $PID_LB2 \$(cat $D/lb2/ovs-vswitchd.pid)"
check "start-lb 2: bridges and north address back" \
    eval 'bridges_ok lb2 && has_addr lb2 br-int 10.1.0.12/24'
check "kill-server 3 (left dead for down)" lab kill-server 3
check "kill-server 3: ovs-vswitchd and nginx gone" \
    eval "pid_dead $D/srv3/ovs-vswitchd.pid && pid_dead $D/srv3/nginx.pid"

# ---------------------------------------------------------------------------
# down: nothing is left.

LAB_PIDS=$(lab_pids)
T1=$(now)
check "ovslb-lab down" lab down
T_DOWN=$(since "$T1")
echo "# down took $T_DOWN s"
check "after down: no namespace, process, state directory or root link left" \
    nothing_left
TOTAL=$(awk -v a="$T_UP" -v b="$T_DOWN" 'BEGIN { printf "%.1f", a + b }')
echo "# up + down for $N_LB+$N_SRV nodes: $TOTAL s"
check_timing "up + down under 60 s ($TOTAL s)" \
    awk -v t="$TOTAL" 'BEGIN { exit !(t < 60) }'

# ---------------------------------------------------------------------------
# An 'up' interrupted half-way (SIGTERM to its process group: SIGINT is
# ignored by a script's background jobs) leaves a partial lab that 'down'
# still removes completely.

setsid "$LAB" up >/dev/null 2>&1 &
UP_PID=$!
# Somewhere between 0.2 and 0.6 s into it (a whole 'up' takes about 1 s).
sleep "0.$((RANDOM % 5 + 2))"
kill -TERM -- "-$UP_PID" 2>/dev/null
wait "$UP_PID" 2>/dev/null
LAB_PIDS=$(lab_pids)
echo "# interrupted up left $(ip netns list | grep -c '^ovslb-') namespaces," \
     "$(echo "$LAB_PIDS" | wc -w) processes"
check "down after an interrupted up" lab down
check "after that down: nothing of the lab is left" nothing_left

sys_finish
