#!/bin/sh
# ctl-wait.sh: 'ovslb-ctl --wait' returns once the running daemons have
# applied a change, and not before.  An LB node (ovslb-controller) and a
# server node (ovslb-agent), each with its own local Open vSwitch database
# and a real ovs-vswitchd with the dummy datapath, follow a config service;
# no root.
#
#   - after '--wait=lb vip-add' the controller's bridge already has the new
#     VIP's flows, and after '--wait=all vip-server-add' the agent's too:
#     no polling;
#   - each daemon has written its node's applied_cfg, and nothing failed;
#   - with a node's ovs-vswitchd stopped (SIGSTOP), the daemon runs but
#     cannot see its new flows confirmed: '--wait' fails at its timeout
#     naming that node, and returns once the switch runs again;
#   - with the agent stopped (SIGSTOP), '--wait=all' blocks, and returns as
#     soon as the agent runs again; with a timeout it fails (exit status 5)
#     naming server-node 101 and the configuration it is at, while
#     '--wait=lb' returns; the same for the controller and '--wait=lb';
#   - a server node row without a daemon holds '--wait=all' (named, "never
#     acknowledged") until it is set administratively down;
#   - read-only commands ignore --wait; 'sync' needs it; --wait needs the
#     Cluster row.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
cfg_vswitch_schema
PATH=$PATH:/usr/sbin:/usr/local/sbin
if [ -z "$VSCHEMA" ] || ! command -v ovs-vsctl >/dev/null 2>&1 ||
   ! command -v ovs-vswitchd >/dev/null 2>&1 ||
   ! command -v ovs-ofctl >/dev/null 2>&1 ||
   ! command -v ovs-appctl >/dev/null 2>&1; then
    echo "SKIP: no ovs-vswitchd, ovs-vsctl, ovs-ofctl, ovs-appctl or vswitch schema"
    exit 77
fi

cfg_start_db ovslb
OCTL="$CTL --db=unix:$TMP/ovslb.sock"

expect 2 "--wait needs the Cluster row" \
    "--wait needs the Cluster row \(run 'ovslb-ctl init' first\)" -- \
    $OCTL --wait=all --timeout=5 lb-node-add 1 127.0.0.21 127.0.0.11
expect 0 "... and nothing was added" "^$" -- $OCTL lb-node-list

# Ports of our own for the control sockets (the lab's are 7700 and 7701).
port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null) || port=$((20000 + $$ % 20000))
$OCTL init >/dev/null &&
    $OCTL set control_port="$port" publish_port=$((port + 1)) &&
    $OCTL lb-node-add 1 127.0.0.21 127.0.0.11 &&
    $OCTL server-add 101 127.0.0.101 &&
    $OCTL vip-add web 192.0.2.10 80 &&
    $OCTL vip-server-add web 101 ||
    { echo "ERROR: ovslb-ctl failed"; exit 99; }

# node NAME PROGRAM ROLE ID PORTS...: NAME's local database and
# ovs-vswitchd (run directory $TMP/NAME), its bridge br-int with PORTS
# (name=type), the node's settings, and the daemon PROGRAM.
node() {
    name=$1 program=$2 role=$3 id=$4
    shift 4
    mkdir "$TMP/$name"
    ovsdb-tool create "$TMP/$name.db" "$VSCHEMA" || exit 99
    cfg_serve "$name"
    vs="ovs-vsctl --timeout=20 --db=unix:$TMP/$name.sock"
    $vs --no-wait init || exit 99
    OVS_RUNDIR=$TMP/$name ovs-vswitchd --enable-dummy \
        "unix:$TMP/$name.sock" --pidfile="$TMP/$name-vswitchd.pid" \
        --unixctl="$TMP/$name/ovs-vswitchd.ctl" --detach --no-chdir \
        --log-file="$TMP/$name-vswitchd.log" -vconsole:off ||
        { echo "ERROR: ovs-vswitchd did not start"; exit 99; }
    ports=
    for p in "$@"; do
        pname=${p%%=*} ptype=${p#*=}
        if [ "$ptype" = geneve ]; then
            opts="options:remote_ip=flow options:key=flow"
        else
            opts=
        fi
        ports="$ports -- add-port br-int $pname -- set interface $pname type=$ptype $opts"
    done
    # shellcheck disable=SC2086
    $vs add-br br-int -- set bridge br-int datapath_type=dummy \
        fail-mode=secure protocols=OpenFlow13,OpenFlow14,OpenFlow15 \
        $ports || exit 99
    $vs set Open_vSwitch . external_ids:ovslb-node-id="$id" \
        external_ids:ovslb-role="$role" external_ids:ovslb-bridge=br-int \
        external_ids:ovslb-config="unix:$TMP/ovslb.sock" \
        external_ids:ovslb-store="$TMP/$name-store.db" \
        external_ids:ovslb-north-port=north0 || exit 99
    OVS_RUNDIR=$TMP/$name "$program" --db="unix:$TMP/$name.sock" \
        --unixctl="$TMP/$name-d.ctl" --pidfile="$TMP/$name-d.pid" \
        --detach --no-chdir --log-file="$TMP/$name-d.log" -vconsole:off ||
        { echo "ERROR: $program did not start"; exit 99; }
}
node lb controller/ovslb-controller lb 1 north0=dummy gnv0=geneve
node server agent/ovslb-agent server 101 gnv0=geneve xlt0=dummy
LB_PID=$(cat "$TMP/lb-d.pid")
SERVER_PID=$(cat "$TMP/server-d.pid")

# flows NAME: the flows of NAME's bridge.
flows() {
    ovs-ofctl -O OpenFlow15 dump-flows "$TMP/$1/br-int.mgmt"
}
# column TABLE COLUMN [ID]: COLUMN of the row of TABLE (of node ID).
column() {
    ovsdb-client -f csv dump "unix:$TMP/ovslb.sock" OVSLB "$1" |
        awk -F, -v c="$2" -v id="${3:-}" '
            NR == 2 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); k[$i] = i }
                      next }
            NR > 2 && (id == "" || $k["node_id"] == id) { print $k[c]; exit }'
}
applied() { column "$1" applied_cfg "$2"; }
cfg() { column Cluster cfg; }

expect 0 "--wait=all returns once both daemons have applied the configuration" -- \
    $OCTL --wait=all --timeout=60 sync
expect 0 "... the controller's bridge has the VIP's flows" "192\.0\.2\.10" -- \
    flows lb
expect 0 "... the agent's bridge too" "192\.0\.2\.10" -- flows server

expect 0 "--wait=lb vip-add returns" -- \
    $OCTL --wait=lb --timeout=30 vip-add web2 192.0.2.20 8080
expect 0 "... with the new VIP's flows in the controller's bridge already" \
    "nw_(src|dst)=192\.0\.2\.20" -- flows lb
expect 0 "--wait=all vip-server-add returns" -- \
    $OCTL --wait=all --timeout=30 vip-server-add web2 101
expect 0 "... with the new VIP's flows in the agent's bridge already" \
    "nw_dst=192\.0\.2\.20" -- flows server
n=$(cfg)
expect 0 "the Cluster row's cfg counts the changes made with --wait (3)" -- \
    test "$n" = 3
[ "$n" = 3 ] || n=none          # What follows must not compare "" to "".
expect 0 "the controller acknowledged it in its LB_Node row" -- \
    test "$(applied LB_Node 1)" = "$n"
expect 0 "the agent in its Server_Node row" -- \
    test "$(applied Server_Node 101)" = "$n"
$OCTL vip-set web ttl=6 || exit 99
expect 0 "a change without --wait leaves cfg alone" -- test "$(cfg)" = "$n"
expect 0 "ovslb/show of the controller counts its acknowledgements" \
    "config service cfg: $n read, acknowledgements [1-9][0-9]* written, 0 failed" -- \
    ovs-appctl -t "$TMP/lb-d.ctl" ovslb/show
expect 0 "... and of the agent" \
    "config service cfg: $n read, acknowledgements [1-9][0-9]* written, 0 failed" -- \
    ovs-appctl -t "$TMP/server-d.ctl" ovslb/show

# A '--' chain is one transaction: it raises cfg once and waits once;
# --dry-run commits nothing and so waits for nothing.
expect 0 "--wait=all on a chain of a VIP and its server returns" -- \
    $OCTL --wait=all --timeout=30 vip-add webc 192.0.2.40 8081 -- \
    vip-server-add webc 101
expect 0 "... having raised cfg once" -- test "$(cfg)" = "$((n + 1))"
expect 0 "... with the VIP's flows in the agent's bridge already" \
    "nw_dst=192\.0\.2\.40" -- flows server
expect 0 "--dry-run with --wait=all returns" -- \
    $OCTL --dry-run --wait=all --timeout=5 vip-set webc ttl=9
expect 0 "... leaving cfg alone" -- test "$(cfg)" = "$((n + 1))"
expect 0 "... and the VIP" -- sh -c "! $OCTL show | grep -q 'ttl: 9\$'"

# A switch stopped: the daemon runs, but its flows cannot be confirmed.
kill -STOP "$(cat "$TMP/lb-vswitchd.pid")"
expect 5 "with the LB node's switch stopped, --wait=lb vip-add waits for the flows (exit 5)" \
    "1 node has not applied it: lb-node 1 \(at [0-9]+\)$" -- \
    $OCTL --wait=lb --timeout=2 vip-add web3 192.0.2.30 80
kill -CONT "$(cat "$TMP/lb-vswitchd.pid")"
expect 0 "... and returns once the switch runs again" -- \
    $OCTL --wait=lb --timeout=60 sync
expect 0 "... with the VIP's flows in the bridge" "nw_(src|dst)=192\.0\.2\.30" -- \
    flows lb
kill -STOP "$(cat "$TMP/server-vswitchd.pid")"
expect 5 "with the server node's switch stopped, --wait=all vip-server-add names the server node alone" \
    "1 node has not applied it: server-node 101 \(at [0-9]+\)$" -- \
    $OCTL --wait=all --timeout=2 vip-server-add web3 101
kill -CONT "$(cat "$TMP/server-vswitchd.pid")"
expect 0 "... and returns once the switch runs again" -- \
    $OCTL --wait=all --timeout=60 sync
expect 0 "... with the VIP's flows in the bridge" "nw_dst=192\.0\.2\.30" -- \
    flows server

# The agent stopped: --wait=all blocks until it runs again.
kill -STOP "$SERVER_PID"
$OCTL --wait=all --timeout=60 vip-set web ttl=7 >"$TMP/blocked.out" 2>&1 &
blocked=$!
sleep 1                         # Long enough for a running agent.
expect 0 "with the agent stopped, --wait=all is still waiting after 1 s" -- \
    kill -0 "$blocked"
expect 0 "... --wait=lb returns meanwhile" -- \
    $OCTL --wait=lb --timeout=30 sync
kill -CONT "$SERVER_PID"
wait "$blocked"
rc=$?
expect 0 "... and --wait=all returns (exit 0) once the agent runs again" -- \
    test "$rc" = 0

kill -STOP "$SERVER_PID"
n=$(cfg)
expect 5 "with the agent stopped and a timeout, --wait=all fails naming it" \
    "timeout: the change was committed as configuration $((n + 1)), but 1 node has not applied it: server-node 101 \(at $n\)$" -- \
    $OCTL --wait=all --timeout=2 vip-set web ttl=8
expect 0 "... the change was committed all the same" "ttl=8|ttl: 8" -- \
    $OCTL show
expect 0 "read-only commands ignore --wait" "^8$" -- \
    sh -c "$OCTL --wait=all --timeout=2 show | sed -n 's/^ *ttl: \([0-9]*\)$/\1/p' | head -n 1"
kill -CONT "$SERVER_PID"
expect 0 "the agent catches up" -- $OCTL --wait=all --timeout=60 sync

kill -STOP "$LB_PID"
expect 5 "with the controller stopped, --wait=lb fails naming it" \
    "but 1 node has not applied it: lb-node 1 \(at [0-9]+\)$" -- \
    $OCTL --wait=lb --timeout=2 sync
kill -CONT "$LB_PID"
expect 0 "the controller catches up" -- $OCTL --wait=lb --timeout=60 sync

# A node row without a daemon.
$OCTL server-add 102 127.0.0.102 || exit 99
expect 5 "a server node without a daemon holds --wait=all, named" \
    "1 node has not applied it: server-node 102 \(never acknowledged\)$" -- \
    $OCTL --wait=all --timeout=2 sync
expect 0 "... --wait=lb does not wait for it" -- \
    $OCTL --wait=lb --timeout=30 sync
expect 0 "... and, administratively down, it is no longer waited for" -- \
    $OCTL --wait=all --timeout=30 server-set 102 admin_state=down
expect 0 "the daemons never failed an acknowledgement" \
    "acknowledgements [0-9]+ written, 0 failed" -- \
    ovs-appctl -t "$TMP/server-d.ctl" ovslb/show

expect 1 "sync needs --wait" "'sync' does nothing without --wait" -- \
    $OCTL sync
expect 1 "--wait takes none, lb or all" "is not none, lb or all" -- \
    $OCTL --wait=some sync

cfg_finish
