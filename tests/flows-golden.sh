#!/bin/sh
# flows-golden.sh: the LB node's pipeline (flows/lb-pipeline.c, rendered for
# the lab's LB node 1 by tests/pipeline-print) loaded into a real
# ovs-vswitchd with the dummy datapath, dumped by ovs-ofctl and compared with
# flows/lb-pipeline.golden; then the paths of the data plane traced with
# ofproto/trace: ingress by the connection tracker's mark, ingress misses
# (SYNs and other segments to the controller), egress decapsulation, egress rejection of a foreign inner
# source and of an unknown server node.
#
# OVSLB_UPDATE_GOLDEN=1 rewrites the golden file instead of comparing.
set -e
srcdir=${srcdir:-.}
. "$srcdir/tests/ovs-sandbox.sh"

sandbox_start
sandbox_lb_bridge

./tests/pipeline-print lb > "$SANDBOX/lb.flows"
ofctl add-flows br0 "$SANDBOX/lb.flows"
ofctl --no-stats --sort dump-flows br0 | sed 's/^ *//' > "$SANDBOX/lb.dump"

golden=$srcdir/flows/lb-pipeline.golden
if [ -n "$OVSLB_UPDATE_GOLDEN" ]; then
    cp "$SANDBOX/lb.dump" "$golden"
fi
check "LB pipeline matches $golden" diff -u "$golden" "$SANDBOX/lb.dump"

trace() {
    appctl ofproto/trace br0 "$1" ${3:+--ct-next "$3"} > "$SANDBOX/trace" 2>&1
    grep -q -- "$2" "$SANDBOX/trace" || {
        echo "trace of $1 lacks \"$2\":"; cat "$SANDBOX/trace"; return 1; }
}

client=in_port=1,dl_src=02:00:0a:01:00:01,dl_dst=02:00:0a:01:00:0b,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,tp_dst=80
# (tests/lb-ingress.sh sends real packets through the connection tracker;
# here ofproto/trace gives the tracker's answer with --ct-next.)
check "ingress: a mapped connection is tunnelled by its ct_mark" \
    trace "$client,tp_src=40000,tcp_flags=ack,ct_mark=0x0a020066" \
    "tun_dst=10.2.0.102" "trk,est"
check "ingress: an entry with ct_mark 0 goes to the controller" \
    trace "$client,tp_src=40000,tcp_flags=ack" "userdata=02" "trk,est"
check "ingress: a new connection goes to the controller" \
    trace "$client,tp_src=40001,tcp_flags=ack" "userdata=02" "trk,new"
check "ingress: an invalid segment goes to the controller" \
    trace "$client,tp_src=40001,tcp_flags=ack,ct_mark=0x0a020066" \
    "userdata=02" "trk,inv"
check "ingress: a SYN is committed with ct_mark 0" \
    trace "$client,tp_src=40000,tcp_flags=syn,ct_mark=0x0a020066" \
    "ct(commit,zone=1,exec(set_field:0->ct_mark"
check "... and goes to the SYN queue, never to an old mapping" \
    trace "$client,tp_src=40000,tcp_flags=syn,ct_mark=0x0a020066" "userdata=01"
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
