#!/bin/sh
# lb-hash.sh: a `hash` VIP's Maglev table in the LB node's switch
# (flows/hash-slots.h, table 12 of flows/lb-pipeline.h), with packets, in a
# real ovs-vswitchd with the dummy datapath: the LB pipeline of the lab's LB
# node 1 with a hash VIP (203.0.113.20:80) and the slot flows of its table
# (3 servers, 251 slots), both from tests/pipeline-print lb-hash.
#
#   - the SYN and the ACKs of 60 connections from different client ports
#     are tunnelled to a server at once, with no packet-in and no entry in
#     the switch's connection tracker;
#   - each connection goes to the server that the daemons compute for it
#     (hash_slots_of(), from libopenvswitch's own hash: the switch and the
#     daemons must agree on it), all its packets to the same one, and the
#     60 connections are spread over the 3 servers.
set -e
srcdir=${srcdir:-.}
. "$srcdir/tests/ovs-sandbox.sh"
sandbox_need_python scapy.all scapy.contrib.geneve

sandbox_start
sandbox_underlay
for s in 101 102 103; do
    appctl tnl/neigh/set br-phy 10.2.0.$s aa:55:aa:55:00:$s >/dev/null
done

./tests/pipeline-print lb-hash > "$SANDBOX/lb.flows"
ofctl add-flows br0 "$SANDBOX/lb.flows"

client="eth_src=02:00:0a:01:00:01,eth_dst=02:00:0a:01:00:0b,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.20,nw_ttl=64,tp_dst=80"
# seg PORT FLAGS: the frame of a client segment from 198.51.100.2:PORT, as
# hex digits (compose-packet's pcap without its 40 bytes of pcap headers).
seg() {
    ovs-ofctl --pcap compose-packet "$client,tp_src=$1,tcp_flags=$2" "" \
        | od -An -tx1 -v | tr -d ' \n' | cut -c81-
}
eq() {
    [ "$1" = "$2" ] || { echo "$3: $1, expected $2"; return 1; }
}

ports=$(seq 41000 41059)
for p in $ports; do
    appctl netdev-dummy/receive north0 "$(seg "$p" syn)" >/dev/null
    appctl netdev-dummy/receive north0 "$(seg "$p" ack)" >/dev/null
    appctl netdev-dummy/receive north0 "$(seg "$p" ack)" >/dev/null
done
appctl revalidator/wait >/dev/null

# What the underlay port sent: "CLIENT_PORT SERVER" per Geneve packet.
/usr/bin/python3 - "$SANDBOX/p0.pcap" > "$SANDBOX/sent" <<'PY'
import sys
from scapy.all import rdpcap, IP, TCP, UDP
from scapy.contrib.geneve import GENEVE
for p in rdpcap(sys.argv[1]):
    if IP in p and UDP in p and p[UDP].dport == 6081 and GENEVE in p:
        inner = p[GENEVE].payload
        if TCP in inner:
            print(inner[TCP].sport, p[IP].dst)
PY
# shellcheck disable=SC2086
./tests/pipeline-print hash-server $ports | awk '{ print $1, $3 }' \
    > "$SANDBOX/expected"
sort -u "$SANDBOX/sent" > "$SANDBOX/sent.u"
sort -u "$SANDBOX/expected" > "$SANDBOX/expected.u"

check "every packet is tunnelled" eq "$(wc -l < "$SANDBOX/sent")" 180 "Geneve packets"
check "each connection to one server" eq "$(wc -l < "$SANDBOX/sent.u")" 60 "(port, server) pairs"
check "... the one the daemons compute for it (hash_slots_of)" \
    cmp -s "$SANDBOX/sent.u" "$SANDBOX/expected.u"
check "spread over the 3 servers" \
    eq "$(awk '{ print $2 }' "$SANDBOX/sent.u" | sort -u | wc -l)" 3 "servers"
pi=$(ofctl dump-flows br0 table=20 | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' \
         | awk '{ n += $1 } END { print n + 0 }')
check "no packet-in" eq "$pi" 0 "packets to the controller"
check "no entry in the connection tracker" \
    eq "$(appctl dpctl/dump-conntrack | grep -c 203.0.113.20 || true)" 0 "entries"
if ! cmp -s "$SANDBOX/sent.u" "$SANDBOX/expected.u"; then
    diff "$SANDBOX/expected.u" "$SANDBOX/sent.u" | head -10
fi
finish
