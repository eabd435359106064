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
#
# Then a UDP hash VIP port (203.0.113.20:53, table 15): 60 flows go to the
# servers the daemons compute, each committed to the connection tracker;
# after every slot is moved to one server (as a change of the server set
# does), the 60 flows keep their servers and new flows take the new one;
# once a server is out of service (the controller's flow in table 15), its
# flows go to their slot's new server.
#
# Last, a TCP hash VIP port of algorithm source (203.0.113.20:443, by the
# client's address alone): 10 clients of 3 connections each, every
# client's connections to the server the daemons compute for the client.
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
udp_client="eth_src=02:00:0a:01:00:01,eth_dst=02:00:0a:01:00:0b,udp,nw_src=198.51.100.2,nw_dst=203.0.113.20,nw_ttl=64,udp_dst=53"
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

# What the underlay port sent: "CLIENT_PORT SERVER" per Geneve packet of
# PROTO (tcp or udp).
sent() {
    /usr/bin/python3 - "$SANDBOX/p0.pcap" "$1" <<'PY'
import sys
from scapy.all import rdpcap, IP, TCP, UDP
from scapy.contrib.geneve import GENEVE
for p in rdpcap(sys.argv[1]):
    if IP in p and UDP in p and p[UDP].dport == 6081 and GENEVE in p:
        inner = p[GENEVE].payload
        if sys.argv[2] == "tcp" and TCP in inner:
            print(inner[TCP].sport, p[IP].dst)
        elif sys.argv[2] == "udp" and UDP in inner:
            print(inner[UDP].sport, p[IP].dst)
PY
}
sent tcp > "$SANDBOX/sent"
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

# UDP.  dgram PORT: a datagram from 198.51.100.2:PORT, as hex digits.
dgram() {
    ovs-ofctl --pcap compose-packet "$udp_client,udp_src=$1" "" \
        | od -An -tx1 -v | tr -d ' \n' | cut -c81-
}
# send_udp PORT...: two datagrams of each flow; then what the underlay
# sent so far for UDP, "CLIENT_PORT SERVER" per datagram, in
# $SANDBOX/udp.
send_udp() {
    for p in "$@"; do
        appctl netdev-dummy/receive north0 "$(dgram "$p")" >/dev/null
        appctl netdev-dummy/receive north0 "$(dgram "$p")" >/dev/null
    done
    appctl revalidator/wait >/dev/null
    sent udp > "$SANDBOX/udp"
}
# last N: the (port, server) pairs of the last N datagrams, one per flow.
last() { tail -n "$1" "$SANDBOX/udp" | sort -u; }

uports=$(seq 42000 42059)
# shellcheck disable=SC2086
send_udp $uports
# shellcheck disable=SC2086
./tests/pipeline-print hash-server-udp $uports | awk '{ print $1, $3 }' \
    | sort -u > "$SANDBOX/uexpected"
last 120 > "$SANDBOX/ubefore"
check "udp: every datagram is tunnelled" \
    eq "$(wc -l < "$SANDBOX/udp")" 120 "Geneve packets"
check "udp: each flow to the server the daemons compute for it" \
    cmp -s "$SANDBOX/ubefore" "$SANDBOX/uexpected"
check "udp: spread over the 3 servers" \
    eq "$(awk '{ print $2 }' "$SANDBOX/ubefore" | sort -u | wc -l)" 3 "servers"
check "udp: each flow has its entry in the connection tracker" \
    eq "$(appctl dpctl/dump-conntrack | grep -c 'udp.*dst=203.0.113.20' || true)" 60 "entries"

# Every slot of the UDP VIP to 10.2.0.103, as a change of the server set
# rewrites the slots that move.
ofctl mod-flows br0 "table=12,udp,reg1=2 actions=ct(commit,zone=1,exec(set_field:0x0a020067->ct_mark)),set_field:10.2.0.103->tun_dst,output:100"
# shellcheck disable=SC2086
send_udp $uports
check "udp: after the change, every flow keeps its server" \
    cmp -s "$SANDBOX/ubefore" "$(last 120 > "$SANDBOX/uafter"; echo "$SANDBOX/uafter")"
nports=$(seq 43000 43019)
# shellcheck disable=SC2086
send_udp $nports
check "udp: new flows take the slot's new server" \
    eq "$(last 40 | awk '{ print $2 }' | sort -u)" 10.2.0.103 "servers"

# 10.2.0.101 out of service for the VIP: its flows go to their slot's
# server (10.2.0.103), the others stay.
ofctl add-flow br0 "table=15,priority=110,reg1=2,ct_mark=0x0a020065 actions=resubmit(,12)"
# shellcheck disable=SC2086
send_udp $uports
awk '{ print $1, ($2 == "10.2.0.101" ? "10.2.0.103" : $2) }' \
    "$SANDBOX/ubefore" | sort -u > "$SANDBOX/uexpected2"
check "udp: flows of a server out of service move, the others stay" \
    cmp -s "$SANDBOX/uexpected2" "$(last 120 > "$SANDBOX/uafter2"; echo "$SANDBOX/uafter2")"
# By source.  syn_from CLIENT PORT: the frame of a SYN to port 443.
syn_from() {
    ovs-ofctl --pcap compose-packet "eth_src=02:00:0a:01:00:01,eth_dst=02:00:0a:01:00:0b,tcp,nw_src=$1,nw_dst=203.0.113.20,nw_ttl=64,tp_dst=443,tp_src=$2,tcp_flags=syn" "" \
        | od -An -tx1 -v | tr -d ' \n' | cut -c81-
}
clients=$(seq -f '198.51.100.%g' 10 19)
for c in $clients; do
    for p in 45000 45001 45002; do
        appctl netdev-dummy/receive north0 "$(syn_from "$c" "$p")" >/dev/null
    done
done
appctl revalidator/wait >/dev/null
/usr/bin/python3 - "$SANDBOX/p0.pcap" > "$SANDBOX/bysource" <<'PY'
import sys
from scapy.all import rdpcap, IP, TCP, UDP
from scapy.contrib.geneve import GENEVE
for p in rdpcap(sys.argv[1]):
    if IP in p and UDP in p and p[UDP].dport == 6081 and GENEVE in p:
        inner = p[GENEVE].payload
        if TCP in inner and inner[TCP].dport == 443:
            print(inner[IP].src, p[IP].dst)
PY
# shellcheck disable=SC2086
./tests/pipeline-print hash-server-source $clients | awk '{ print $1, $3 }' \
    | sort -u > "$SANDBOX/sexpected"
check "by source: every SYN is tunnelled" \
    eq "$(wc -l < "$SANDBOX/bysource")" 30 "Geneve packets"
check "by source: each client's connections to the server the daemons compute for it" \
    cmp -s "$SANDBOX/sexpected" "$(sort -u "$SANDBOX/bysource" > "$SANDBOX/sgot"; echo "$SANDBOX/sgot")"
check "by source: the 10 clients spread over more than one server" \
    test "$(awk '{ print $2 }' "$SANDBOX/sgot" | sort -u | wc -l)" -ge 2
check "udp: no packet-in" eq "$(ofctl dump-flows br0 table=20 \
    | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')" 0 "packets"
finish
