#!/bin/bash
# control-net.sh: control messages on a management network of their own
# (ovslb-lab with OVSLB_LAB_CONTROL_NET=mgmt: every node's control_address
# on a kernel veth outside Open vSwitch), as an operator deploys them to
# keep the switches' userspace datapath for traffic.  The LB nodes must
# still find one another healthy through their north and south paths,
# find a node whose fabric link is cut unhealthy although its controller
# still answers on the management network, carry every request, and follow
# the control addresses when they move back onto the underlay, live.
# Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10

ctl() {   # ctl K COMMAND: ovs-appctl to LB node K's controller
    ovs-appctl --timeout=5 -t "$D/lb$1/ovslb-controller.ctl" "$2" 2>/dev/null
}
control_socket() {   # control_socket K: the address LB node K's is bound to
    ctl "$1" ovslb/show | sed -n 's/^control socket: \[\(.*\)\]:.*/\1/p'
}
agent_socket() {   # agent_socket K: the same, of server node K's agent
    ovs-appctl --timeout=5 -t "$D/srv$1/ovslb-agent.ctl" ovslb/show \
        2>/dev/null | sed -n 's/^control socket: \[\(.*\)\]:.*/\1/p'
}
south_received() {   # south_received K: datagrams on K's south health port
    ctl "$1" ovslb/stats | sed -n '/^south health port:/,/datagrams/ s/.*datagrams sent [0-9]* received \([0-9]*\).*/\1/p' | head -n 1
}
sockets_on() {   # sockets_on PREFIX: every daemon's control socket in PREFIX
    local k
    for k in 1 2 3; do
        case $(control_socket "$k") in "$1"*) ;; *) return 1 ;; esac
    done
    for k in 1 2; do
        case $(agent_socket "$k") in "$1"*) ;; *) return 1 ;; esac
    done
}

check "lab up with a management network (3 LB nodes, 2 server nodes)" \
    env OVSLB_LAB_CONTROL_NET=mgmt "$LAB" up --lb 3 --servers 2
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "every daemon's control socket is on the management network" \
    wait_for 10000 sockets_on 10.3.0.
check "every LB node's ring has 3 nodes" wait_for 10000 rings_are 3 1 2 3
check "edge routes the VIP over 3 LB nodes" wait_for 10000 hops_are 3
for k in 1 2 3; do
    n=$(south_received "$k")
    echo "# lb$k: ${n:-no} datagrams on its south health port"
    check "lb$k: the south path's health checks reach its own port" \
        [ "${n:-0}" -gt 0 ]
done
check_out "200 requests over new connections, all answered" \
    'latency: .*(200 requests)' lab demo --requests 200

# The fabric link of lb2 cut: its controller still answers on the
# management network, but the tunnels cannot reach it.
check "lb2's fabric link cut" ip -n ovslb-fab link set lb2 down
t=$(wait_for 10000 rings_are 2 1 3)
echo "# lb2 out of lb1's and lb3's rings $t ms after its fabric link went down"
check "lb2, unreachable on the fabric, out of the other rings" \
    [ "$t" != timeout ]
check "lb2's controller still answers on the management network" \
    eval '[ "$(control_socket 2)" = 10.3.0.12 ]'
check "lb2's fabric link back" ip -n ovslb-fab link set lb2 up
check "lb2 back in every ring" wait_for 10000 rings_are 3 1 2 3

# Control back onto the underlay, live: every daemon moves its socket.
# --wait=all: each daemon has bound and keyed its socket on the new
# address when ovslb-ctl returns (ovslb-ctl(8)), so no polling after.
for k in 1 2 3; do
    check "lb$k: control_address back to its south address (--wait=all)" \
        octl --wait=all lb-node-set "$k" "control_address=10.2.0.$((10 + k))"
done
for k in 1 2; do
    check "server $((100 + k)): control_address back to its underlay address (--wait=all)" \
        octl --wait=all server-set $((100 + k)) \
            "control_address=10.2.0.$((100 + k))"
done
check "every daemon's control socket moved to the underlay, at once" \
    sockets_on 10.2.0.
check "every LB node's ring has 3 nodes again" \
    wait_for 10000 rings_are 3 1 2 3
check_out "200 more requests, all answered" \
    'latency: .*(200 requests)' lab demo --requests 200

check "lab down" lab down
sys_finish
