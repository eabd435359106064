#!/bin/sh
# flows-golden.sh: the LB node's pipeline (flows/lb-pipeline.c, rendered for
# the lab's LB node 1 by tests/pipeline-print) loaded into a real
# ovs-vswitchd with the dummy datapath, dumped by ovs-ofctl and compared with
# flows/lb-pipeline.golden; then the paths of the data plane traced with
# ofproto/trace: ingress hit, ingress miss (SYN and other segments to the
# controller), egress decapsulation, egress rejection of a foreign inner
# source and of an unknown server node.
#
# OVSLB_UPDATE_GOLDEN=1 rewrites the golden file instead of comparing.
set -e
srcdir=${srcdir:-.}
. "$srcdir/tests/ovs-sandbox.sh"

sandbox_start
vsctl add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
        protocols=OpenFlow13,OpenFlow15 \
    -- add-port br0 north0 -- set interface north0 type=dummy \
        ofport_request=1 \
    -- add-port br0 gnv0 -- set interface gnv0 type=geneve \
        options:remote_ip=flow options:key=flow ofport_request=100

ofctl add-meter br0 meter=1,pktps,band=type=drop,rate=20000
ofctl add-meter br0 meter=2,pktps,band=type=drop,rate=40000
./tests/pipeline-print lb > "$SANDBOX/lb.flows"
ofctl add-flows br0 "$SANDBOX/lb.flows"
ofctl --no-stats --sort dump-flows br0 | sed 's/^ *//' > "$SANDBOX/lb.dump"

golden=$srcdir/flows/lb-pipeline.golden
if [ -n "$OVSLB_UPDATE_GOLDEN" ]; then
    cp "$SANDBOX/lb.dump" "$golden"
fi
check "LB pipeline matches $golden" diff -u "$golden" "$SANDBOX/lb.dump"

# A mapping as ovslb-controller installs one.
ofctl add-flow br0 "table=10,priority=100,idle_timeout=60,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,tp_src=40000,tp_dst=80,tcp_flags=-syn actions=set_field:10.2.0.102->tun_dst,output:100"

trace() {
    appctl ofproto/trace br0 "$1" > "$SANDBOX/trace" 2>&1
    grep -q -- "$2" "$SANDBOX/trace" || {
        echo "trace of $1 lacks \"$2\":"; cat "$SANDBOX/trace"; return 1; }
}

client=in_port=1,dl_src=02:00:0a:01:00:01,dl_dst=02:00:0a:01:00:0b,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,tp_dst=80
check "ingress hit: mapped flow is tunnelled to its server" \
    trace "$client,tp_src=40000,tcp_flags=ack" \
    "set_field:10.2.0.102->tun_dst"
check "ingress hit skips SYNs (new connection reusing the CP)" \
    trace "$client,tp_src=40000,tcp_flags=syn" "userdata=01"
check "ingress miss: SYN to the controller's SYN queue" \
    trace "$client,tp_src=40001,tcp_flags=syn" "userdata=01"
check "ingress miss: ACK to the controller's other queue" \
    trace "$client,tp_src=40001,tcp_flags=ack" "userdata=02"
check "other traffic to a VIP address: dropped" \
    trace "in_port=1,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,tp_src=1,tp_dst=22" \
    "Datapath actions: drop"
check "egress: reply from a server decapsulated towards the edge" \
    trace "in_port=100,tun_src=10.2.0.101,tun_dst=10.2.0.11,tun_id=0,tcp,nw_src=203.0.113.10,tp_src=80,nw_dst=198.51.100.2,tp_dst=40000" \
    "set_field:02:00:0a:01:00:01->eth_dst"
check "egress: foreign inner source dropped" \
    trace "in_port=100,tun_src=10.2.0.101,tun_dst=10.2.0.11,tun_id=0,tcp,nw_src=10.9.9.9,tp_src=80,nw_dst=198.51.100.2,tp_dst=40000" \
    "Datapath actions: drop"
check "egress: unknown server node dropped" \
    trace "in_port=100,tun_src=10.2.0.199,tun_dst=10.2.0.11,tun_id=0,tcp,nw_src=203.0.113.10,tp_src=80,nw_dst=198.51.100.2,tp_dst=40000" \
    "Datapath actions: drop"
finish
