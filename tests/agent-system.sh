#!/bin/bash
# System test of ovslb-agent alone (root only): one server node with its own
# Open vSwitch, the agent and nginx in namespace agt-srv; the LB tier played
# by tests/agent-lb-peer and the clients in namespace agt-lb, joined by a
# veth pair carrying Geneve, and a config service of one LB node and one
# server node.  Everything it creates is named agt-* or lives in its own
# temporary directory, and is removed at the end.
#
# usage: tests/agent-system.sh [BUILDDIR]   (AGT_KEEP=1 leaves it all up,
#        AGT_SETUP_ONLY=1 stops after the setup and leaves it up;
#        AGT_BIG_MB sets the size of the bulk download, default 256)
set -u

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${1:-${builddir:-.}}
BUILDDIR=$(cd "$BUILDDIR" && pwd)
AGENT=$BUILDDIR/agent/ovslb-agent
PEER=$BUILDDIR/tests/agent-lb-peer
CTL=$BUILDDIR/utilities/ovslb-ctl
SCHEMA=$SRCDIR/schema/ovslb.ovsschema
BIG_MB=${AGT_BIG_MB:-256}

SRV=agt-srv
LB=agt-lb
VIP=203.0.113.10
CLIENT=198.51.100.2
SRV_UNDER=10.2.0.101
LB_UNDER=10.2.0.11
KEY=0123456789abcdef0123456789abcdef

if [ -z "${OVSLB_SYSTEM_TESTS:-}" ]; then
    echo "SKIP: system tests run with 'make check-system'"
    exit 77
fi
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root"
    exit 77
fi
for f in "$AGENT" "$PEER" "$CTL"; do
    [ -x "$f" ] || { echo "SKIP: $f not built"; exit 77; }
done
for t in ip nginx curl ovs-vsctl ovsdb-server ovs-vswitchd socat nstat; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

D=$(mktemp -d /tmp/agt-sys.XXXXXX)
S=$D/srv
C=$D/config
mkdir -p "$S" "$C" "$D/www"
failures=0

log() { printf '%s\n' "$*"; }
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; failures=$((failures + 1)); }
in_srv() {
    ip netns exec $SRV env OVS_RUNDIR=$S OVS_LOGDIR=$S OVS_DBDIR=$S "$@"
}
in_lb() { ip netns exec $LB "$@"; }
vsctl() { in_srv ovs-vsctl --db=unix:$S/db.sock --timeout=10 "$@"; }
actl() { in_srv ovs-appctl -t $S/ovslb-agent.ctl "$@"; }
ctl() { "$CTL" --db=unix:$C/ovslb.sock --timeout=10 "$@" >/dev/null; }

kill_pidfile() {
    local pid
    [ -r "$1" ] || return 0
    pid=$(cat "$1" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
}

cleanup() {
    if [ "${AGT_KEEP:-}" = 1 ]; then
        log "kept: $D (namespaces $SRV $LB)"
        return
    fi
    actl exit >/dev/null 2>&1     # A clean exit (leak checkers run).
    kill_pidfile $S/ovslb-agent.pid
    kill_pidfile $D/nginx.pid
    kill_pidfile $S/ovs-vswitchd.pid
    kill_pidfile $S/ovsdb-server.pid
    kill_pidfile $C/ovsdb-server.pid
    # Whatever else this script started runs in its namespaces.
    for ns in $SRV $LB; do
        pids=$(ip netns pids $ns 2>/dev/null)
        [ -n "$pids" ] && kill $pids 2>/dev/null
    done
    sleep 0.2
    ip netns del $SRV 2>/dev/null
    ip netns del $LB 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT

# Namespaces and the underlay link.
ip netns del $SRV 2>/dev/null
ip netns del $LB 2>/dev/null
ip netns add $SRV
ip netns add $LB
ip link add agt-s0 netns $SRV type veth peer name agt-l0 netns $LB
ip -n $SRV link set lo up
ip -n $LB link set lo up
ip -n $SRV link set agt-s0 up
ip -n $LB link set agt-l0 up
ip -n $LB addr add $LB_UNDER/24 dev agt-l0
in_srv ethtool -K agt-s0 tx off >/dev/null
in_lb ethtool -K agt-l0 tx off >/dev/null

# Config service.
ovsdb-tool create $C/ovslb.db "$SCHEMA"
ovsdb-server $C/ovslb.db --remote=punix:$C/ovslb.sock \
    --pidfile=$C/ovsdb-server.pid --unixctl=$C/ovsdb-server.ctl \
    --log-file=$C/ovsdb-server.log --detach --no-chdir -vconsole:off
ctl init
ctl set cluster_key=$KEY
ctl lb-node-add 1 10.1.0.11 $LB_UNDER $LB_UNDER
ctl server-add 101 $SRV_UNDER $SRV_UNDER
ctl vip-add web $VIP 80
ctl vip-add banner $VIP 7000
ctl vip-server-add web 101
ctl vip-server-add banner 101

# The server node's Open vSwitch (LAB.md, server node).
ovsdb-tool create $S/conf.db /usr/share/openvswitch/vswitch.ovsschema
in_srv ovsdb-server $S/conf.db --remote=punix:$S/db.sock \
    --pidfile=$S/ovsdb-server.pid --unixctl=$S/ovsdb-server.ctl \
    --log-file=$S/ovsdb-server.log --detach --no-chdir -vconsole:off
vsctl --no-wait init
vsctl --no-wait set Open_vSwitch . external_ids:ovslb-node-id=101 \
    external_ids:ovslb-role=server external_ids:ovslb-bridge=br-int \
    external_ids:ovslb-config=unix:$C/ovslb.sock \
    external_ids:ovslb-store=$S/ovslb.db
in_srv ovs-vswitchd unix:$S/db.sock --pidfile=$S/ovs-vswitchd.pid \
    --unixctl=$S/ovs-vswitchd.ctl --log-file=$S/ovs-vswitchd.log \
    --disable-system --detach --no-chdir -vconsole:off
vsctl -- add-br br-phy -- set bridge br-phy datapath_type=netdev \
      fail_mode=secure -- add-port br-phy agt-s0
vsctl -- add-br br-int -- set bridge br-int datapath_type=netdev \
      fail_mode=secure protocols=OpenFlow13,OpenFlow15 \
      other_config:hwaddr=02:00:0a:02:00:65 \
    -- add-port br-int gnv0 -- set interface gnv0 type=geneve \
       options:remote_ip=flow options:key=flow ofport_request=100 \
    -- add-port br-int xlt0 -- set interface xlt0 type=internal \
       ofport_request=200
in_srv ovs-ofctl add-flow br-phy priority=0,actions=NORMAL
for dev in br-phy br-int; do
    in_srv ethtool -K $dev tx off >/dev/null
    ip -n $SRV link set $dev up
done
ip -n $SRV addr add $SRV_UNDER/24 dev br-phy
ip -n $SRV addr add $VIP/32 dev lo
ip -n $SRV addr add 169.254.1.1/30 dev br-int
ip -n $SRV neigh replace 169.254.1.2 lladdr 02:00:a9:fe:01:02 dev br-int \
    nud permanent
ip -n $SRV route add 198.51.100.0/24 via 169.254.1.2 dev br-int
in_srv sysctl -q -w net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.br-int.rp_filter=0 \
    net.ipv4.conf.lo.rp_filter=0

# The tunnel's underlay neighbour, set as the lab does (OVS native
# tunnelling drops what it sends to a neighbour it has not resolved yet, and
# the datapath may cache that drop for seconds).
lb_mac=$(ip -n $LB -br link show agt-l0 | awk '{ print $3 }')
in_srv ovs-appctl -t $S/ovs-vswitchd.ctl tnl/neigh/set br-phy $LB_UNDER \
    $lb_mac >/dev/null

# nginx: / names the node, /big is random data.
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >$D/www/big
echo srv1 >$D/www/index.html
cat >$D/nginx.conf <<EOF
user root;
worker_processes 1;
pid $D/nginx.pid;
error_log $D/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $D/nginx-access.log;
    client_body_temp_path $D/nginx-body;
    proxy_temp_path $D/nginx-proxy;
    fastcgi_temp_path $D/nginx-fcgi;
    uwsgi_temp_path $D/nginx-uwsgi;
    scgi_temp_path $D/nginx-scgi;
    log_format ovslb '\$remote_addr:\$remote_port "\$request" \$status';
    sendfile on;
    server {
        listen $VIP:80;
        root $D/www;
        access_log $D/nginx-access.log ovslb;
    }
}
EOF
in_srv nginx -q -e $D/nginx-error.log -p $D/ -c $D/nginx.conf

# The agent.
in_srv "$AGENT" --db=unix:$S/db.sock --pidfile=$S/ovslb-agent.pid \
    --log-file=$S/ovslb-agent.log --unixctl=$S/ovslb-agent.ctl --detach \
    -vconsole:off

# The LB tier's stand-in and the client side.
in_lb "$PEER" --key=$KEY --self=1 --server=101 --server-addr=$SRV_UNDER \
    --local=$LB_UNDER --tun=agt-tun >$D/peer.log 2>&1 &
for _ in $(seq 50); do
    ip -n $LB link show agt-tun >/dev/null 2>&1 && break
    sleep 0.1
done
ip -n $LB link set agt-tun up
ip -n $LB addr add $CLIENT/32 dev lo
ip -n $LB route add 203.0.113.0/24 dev agt-tun src $CLIENT
in_lb sysctl -q -w net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.agt-tun.rp_filter=0

# Wait for the agent to be ready.
ready=no
for _ in $(seq 100); do
    if actl ovslb/show 2>/dev/null | grep -q '^ready: yes'; then
        ready=yes
        break
    fi
    sleep 0.1
done
if [ $ready = yes ]; then pass "agent ready"; else
    fail "agent not ready"; actl ovslb/show
fi

# OVS's userspace tunnel path drops Geneve packets for a few seconds after
# ovs-vswitchd starts (seen here, outside the agent): warm it up with
# requests that are not counted.
for i in $(seq 20); do
    out=$(in_lb curl -s --max-time 1 http://$VIP/ 2>/dev/null)
    [ "$out" = srv1 ] && break
done
log "data path warm after $i request(s)"

if [ "${AGT_SETUP_ONLY:-}" = 1 ]; then
    AGT_KEEP=1
    exit 0
fi

counter() { actl ovslb/stats | awk -v k="$1" '{ gsub(/[:=]/, " ");
    for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# 1. Health: the agent answers the peer's PINGs once it is ready.
for _ in $(seq 30); do
    grep -q 'PONG ready=1' $D/peer.log && break
    sleep 0.1
done
if grep -q 'PONG ready=1' $D/peer.log; then pass "PING answered"; else
    fail "no PONG"; fi

# 2. Requests, each a new connection; nginx sees the client's address.
n_ok=0
for i in $(seq 200); do
    out=$(in_lb curl -s --max-time 5 -H 'Connection: close' \
          http://$VIP/ 2>/dev/null)
    if [ "$out" = srv1 ]; then
        n_ok=$((n_ok + 1))
    else
        log "request $i failed at $(date +%T.%N)"
    fi
done
if [ $n_ok = 200 ]; then pass "200/200 requests"; else
    fail "$n_ok/200 requests"; fi
if grep -q "^$CLIENT:" $D/nginx-access.log; then
    pass "server sees the client's address"
else
    fail "server does not see $CLIENT"; tail -3 $D/nginx-access.log
fi

# 3. Server speaks first (banner on port 7000).  The VIP port was
# configured before its service started, so the agent's service check holds
# it down until 'rise' connects succeed; the client comes once it is up.
in_srv socat TCP-LISTEN:7000,bind=$VIP,reuseaddr,fork SYSTEM:'echo hello' &
for i in $(seq 100); do
    actl ovslb/show | grep -q ":7000/tcp tcp: up" && break
    sleep 0.1
done
banner=$(in_lb timeout 5 socat -T2 - TCP:$VIP:7000 </dev/null 2>/dev/null)
if [ "$banner" = hello ]; then pass "banner read"; else
    fail "banner: '$banner'"; fi
kill $(ip netns pids $SRV | xargs -r ps -o pid= -o comm= -p |
        awk '$2 == "socat" { print $1 }') 2>/dev/null

# 4. Bulk download, one connection, options negotiated, checksums right.
in_lb nstat -n
t0=$(date +%s.%N)
sum=$(in_lb curl -s --max-time 300 http://$VIP/big | sha256sum | cut -d' ' -f1)
t1=$(date +%s.%N)
want=$(sha256sum $D/www/big | cut -d' ' -f1)
csum=$(in_lb nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ { print $2 }')
secs=$(echo "$t1 - $t0" | bc)
if [ "$sum" = "$want" ]; then
    rate=$(echo "scale=2; $BIG_MB * 8 / $secs / 1024" | bc)
    pass "$BIG_MB MiB intact in ${secs}s ($rate Gbit/s)"
else
    fail "$BIG_MB MiB download corrupted or incomplete"
fi
if [ "${csum:-0}" = 0 ]; then pass "TcpInCsumErrors 0"; else
    fail "TcpInCsumErrors $csum"; fi

# 5. Restart of the agent (kill -9) during a bulk transfer.
in_lb curl -s --max-time 300 --limit-rate 20M http://$VIP/big \
    -o $D/big.copy &
CURL_PID=$!
sleep 3
actl ovslb/conns >$D/conns.txt
conns=$(grep -c established $D/conns.txt)
# Window scaling (7 towards the client), SACK and timestamps negotiated.
line=$(grep -E 'established .* ws=[0-9]+/7 ts sack' $D/conns.txt | head -1)
if [ -n "$line" ]; then
    pass "window scale, SACK and timestamps translated: $line"
else
    fail "options not negotiated: $(grep established $D/conns.txt | head -1)"
fi
kill -9 "$(cat $S/ovslb-agent.pid)"
sleep 1
in_srv "$AGENT" --db=unix:$S/db.sock --pidfile=$S/ovslb-agent.pid \
    --log-file=$S/ovslb-agent.log --unixctl=$S/ovslb-agent.ctl --detach \
    -vconsole:off
wait $CURL_PID
rc=$?
if [ $rc = 0 ] && cmp -s $D/big.copy $D/www/big; then
    pass "transfer survived kill -9 of the agent ($conns established" \
         "before, $(counter restored) restored)"
else
    fail "transfer after kill -9: curl $rc, restored $(counter restored)"
fi

# 6. Limits: 10 connections per VIP; with TTL 1 the 11th still comes in
#    (this node is the only server).
actl ovslb/set-limits conn=10 >/dev/null
pids=()
for i in $(seq 11); do
    in_lb curl -s --max-time 20 --limit-rate 100k http://$VIP/big \
        -o /dev/null &
    pids+=($!)
    sleep 0.2
done
sleep 2
rejected=$(counter rejected_limit)
if [ "${rejected:-0}" -ge 1 ]; then
    pass "11th connection refused for the limit ($rejected REJECTED limit)"
else
    fail "no REJECTED limit"
fi
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
actl ovslb/set-limits conn=0 >/dev/null

actl ovslb/stats >$D/agent-stats.txt
log "agent counters:"
grep -E 'accepted|rejected_|to_server|to_client|drop_|publish_msgs|restored' \
    $D/agent-stats.txt | grep -v ': 0$'
log "peer: $(tail -1 $D/peer.log)"
if [ $failures = 0 ]; then
    log "all agent system checks passed"
    exit 0
fi
log "$failures failures (logs in $D; AGT_KEEP=1 keeps them)"
exit 1
