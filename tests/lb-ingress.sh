#!/bin/sh
# lb-ingress.sh: the LB node's ingress through the switch's connection
# tracker (flows/lb-pipeline.h, tables 10 and 11), with packets, in a real
# ovs-vswitchd with the dummy datapath: the LB pipeline of the lab's LB node
# 1 (tests/pipeline-print lb), an underlay bridge whose port records what
# the Geneve port sends, and the packet-outs ovslb-controller sends
# (tests/pipeline-print forward SERVER, from controller/lb-actions.c).
#
#   - a client SYN is committed with ct_mark 0 and goes to the controller,
#     nothing to a server;
#   - the ACK that follows misses (ct_mark 0) and goes to the controller;
#   - the controller's packet-out of it commits the server and tunnels it;
#   - later segments, 200 KB of them in sequence, follow ct_mark to the
#     server (the Geneve packets on the underlay port are addressed to it)
#     with no controller and no flow of their own (OpenFlow tables 10 and
#     11 keep their static flows; 20 more connections add no datapath
#     flow); the same stream with the switch's TCP sequence checking on
#     reaches the controller (what switch-conntrack.c turns off);
#   - a new SYN on the same client port takes the mapping back (ct_mark 0),
#     so its ACK goes to the controller, not to the old server;
#   - NXT_CT_FLUSH of the CP (what the controller sends when a lease lapses)
#     removes the entry: the next segment misses again;
#   - an IPv6 server in ct_label goes out with tun_ipv6_dst.
set -e
srcdir=${srcdir:-.}
. "$srcdir/tests/ovs-sandbox.sh"
sandbox_need_python scapy.all

sandbox_start
# Datapath flows stay until the test ends (by default they idle out after
# 10 s): the checks compare their count before and after a step, and on a
# loaded machine the steps between may take longer than that.
vsctl set Open_vSwitch . other_config:max-idle=600000
sandbox_underlay
appctl tnl/neigh/set br-phy 10.2.0.102 aa:55:aa:55:00:02 >/dev/null
appctl tnl/neigh/set br-phy 10.2.0.103 aa:55:aa:55:00:03 >/dev/null
appctl dpctl/ct-disable-tcp-seq-chk >/dev/null

./tests/pipeline-print lb > "$SANDBOX/lb.flows"
ofctl add-flows br0 "$SANDBOX/lb.flows"

client="eth_src=02:00:0a:01:00:01,eth_dst=02:00:0a:01:00:0b,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,nw_ttl=64,tp_dst=80"
# hex FLOW [PAYLOAD]: the frame of FLOW with PAYLOAD (hex digits; none by
# default), as hex digits (compose-packet's pcap without its 40 bytes of
# pcap headers).
hex() {
    ovs-ofctl --pcap compose-packet "$1" "${2:-}" | od -An -tx1 -v \
        | tr -d ' \n' | cut -c81-
}
# seg PORT FLAGS: a client segment from 198.51.100.2:PORT.
seg() {
    hex "$client,tp_src=$1,tcp_flags=$2"
}
receive() {
    appctl netdev-dummy/receive north0 "$1" >/dev/null
}
# Counters: packets the Geneve port sent (through the underlay port), and
# packets of table 20's flow to the controller.
tunnelled() {
    ofctl dump-ports br-phy p0 | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}
# (Flow counters of packets that hit a datapath flow are updated by the
# revalidators: wait for a round of them first.)
to_controller() {
    appctl revalidator/wait >/dev/null
    ofctl dump-flows br0 table=20,tcp | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' \
        | awk '{ n += $1 } END { print n + 0 }'
}
syns_to_controller() {
    appctl revalidator/wait >/dev/null
    ofctl dump-flows br0 "table=10,tcp,tcp_flags=+syn-ack" \
        | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p'
}
# conntrack PORT: the zone-1 entry of 198.51.100.2:PORT, or nothing.
conntrack() {
    appctl dpctl/dump-conntrack zone=1 | grep "sport=$1," || true
}
# frames PORT N LEN: N hex frames, one a line, of the client's segments
# from port PORT after its handshake: ACKs with LEN bytes each, sequence
# numbers advancing as a real stream's do (after compose-packet's SYN,
# whose sequence number is 0).
frames() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, bytes_hex
port, n, size = (int(a) for a in sys.argv[1:4])
for i in range(n):
    f = (Ether(src="02:00:0a:01:00:01", dst="02:00:0a:01:00:0b")
         / IP(src="198.51.100.2", dst="203.0.113.10", ttl=64)
         / TCP(sport=port, dport=80, flags="A", seq=1 + i * size, ack=1,
               window=502)
         / Raw(b"x" * size))
    print(bytes_hex(bytes(f)).decode())
PY
}
# sent_to ADDR: how many Geneve packets the underlay port sent to ADDR.
sent_to() {
    /usr/bin/python3 - "$SANDBOX/p0.pcap" "$1" <<'PY'
import sys
from scapy.all import rdpcap, IP, UDP
print(sum(1 for p in rdpcap(sys.argv[1])
          if IP in p and UDP in p and p[UDP].dport == 6081
          and p[IP].dst == sys.argv[2]))
PY
}

# unmarked PORT: the entry of PORT exists and has no ct_mark (0).
unmarked() {
    c=$(conntrack "$1")
    [ -n "$c" ] && ! echo "$c" | grep -q "mark=" || {
        echo "conntrack of port $1: '$c' (expected an entry with mark 0)"
        return 1; }
}
mark_is() {
    conntrack "$1" | grep -q "mark=$2," || {
        echo "conntrack of port $1: $(conntrack "$1") (expected mark=$2)"
        return 1; }
}
eq() {
    [ "$1" = "$2" ] || { echo "$3: $1, expected $2"; return 1; }
}

# 1. A SYN: committed with ct_mark 0, to the controller, not tunnelled.
receive "$(seg 40000 syn)"
check "a SYN goes to the controller" eq "$(syns_to_controller)" 1 "SYN packet-ins"
check "a SYN is committed with ct_mark 0" unmarked 40000
check "a SYN is not tunnelled" eq "$(tunnelled)" 0 "tunnelled"

# 2. The ACK misses (its entry has ct_mark 0).
receive "$(seg 40000 ack)"
check "the first ACK goes to the controller" eq "$(to_controller)" 1 "packet-ins"
check "the first ACK is not tunnelled" eq "$(tunnelled)" 0 "tunnelled"

# 3. The controller's packet-out of it commits the server and tunnels it.
actions=$(./tests/pipeline-print forward 10.2.0.102)
ofctl packet-out br0 "in_port=controller packet=$(seg 40000 ack) actions=$actions"
check "the packet-out tunnels the first ACK" eq "$(tunnelled)" 1 "tunnelled"
check "the packet-out commits the server to ct_mark" mark_is 40000 167903334

# 4. Later segments follow ct_mark, without the controller, past the first
# window (200 segments of 1000 bytes in sequence: the switch's TCP sequence
# checking is off; the control below shows what it would do on).
flows10=$(ofctl dump-flows br0 table=10 | grep -c priority)
flows11=$(ofctl dump-flows br0 table=11 | grep -c priority)
frames 40000 200 1000 > "$SANDBOX/stream"
while read -r f; do
    receive "$f"
done < "$SANDBOX/stream"
check "200 later segments are tunnelled by ct_mark" eq "$(tunnelled)" 201 "tunnelled"
check "... all to the connection's server" eq "$(sent_to 10.2.0.102)" 201 "sent to 10.2.0.102"
check "... and none reaches the controller" eq "$(to_controller)" 1 "packet-ins"
check "... with no flow added to table 10" \
    eq "$(ofctl dump-flows br0 table=10 | grep -c priority)" "$flows10" "flows"
check "... or to table 11" \
    eq "$(ofctl dump-flows br0 table=11 | grep -c priority)" "$flows11" "flows"
few_dp_flows() {
    n=$(appctl dpctl/dump-flows | wc -l)
    [ "$n" -lt 10 ] || { appctl dpctl/dump-flows; return 1; }
}
check "... and no datapath flow per connection" few_dp_flows

# A second connection to another server: its own mark.
receive "$(seg 40001 syn)"
ofctl packet-out br0 "in_port=controller packet=$(seg 40001 ack) actions=$(./tests/pipeline-print forward 10.2.0.103)"
receive "$(seg 40001 ack)"
check "a second connection follows its own ct_mark" mark_is 40001 167903335
check "... and is tunnelled to its own server" eq "$(sent_to 10.2.0.103)" 2 "sent to 10.2.0.103"

# Many more connections add no datapath flow: their packets match on the
# connection tracker's state and mark, not on their ports.
dp0=$(appctl dpctl/dump-flows | grep -c actions)
port=41000
while [ $port -lt 41020 ]; do
    receive "$(seg $port syn)"
    ofctl packet-out br0 "in_port=controller packet=$(seg $port ack) actions=$actions"
    receive "$(frames $port 1 100)"
    port=$((port + 1))
done
at_most() { [ "$1" -le "$2" ] || { echo "$3: $1, expected at most $2"; appctl dpctl/dump-flows; return 1; }; }
check "20 more connections add no datapath flow" \
    at_most "$(appctl dpctl/dump-flows | grep -c actions)" "$dp0" "datapath flows"
check "... and were all tunnelled" eq "$(sent_to 10.2.0.102)" 241 "sent to 10.2.0.102"

# Control: the same stream with the switch's TCP sequence checking on (as
# ovs-vswitchd starts) goes to the controller, marked invalid once past
# the first window (about 64 KB here: the server's side is never seen):
# what switch-conntrack.c turns off.
appctl dpctl/ct-enable-tcp-seq-chk >/dev/null
receive "$(seg 40010 syn)"
ofctl packet-out br0 "in_port=controller packet=$(seg 40010 ack) actions=$actions"
before=$(to_controller)
frames 40010 100 1000 > "$SANDBOX/stream2"
while read -r f; do
    receive "$f"
done < "$SANDBOX/stream2"
appctl dpctl/ct-disable-tcp-seq-chk >/dev/null
more_than() { [ "$1" -gt "$2" ] || { echo "$3: $1, expected more than $2"; return 1; }; }
check "with sequence checking on, a stream's segments reach the controller" \
    more_than "$(to_controller)" "$before" "packet-ins"

# 5. A new connection reuses client port 40000: its SYN takes the mapping
# back, so its ACK reaches the controller, not the old server.
receive "$(seg 40000 syn)"
check "a SYN reusing the CP resets ct_mark" unmarked 40000
pi=$(to_controller)
sent=$(tunnelled)
receive "$(seg 40000 ack)"
check "... and its ACK goes to the controller" eq "$(to_controller)" $((pi + 1)) "packet-ins"
check "... not to the old server" eq "$(tunnelled)" "$sent" "tunnelled"

# 6. The CP's entry flushed (NXT_CT_FLUSH, as when its lease lapses): gone,
# and the next segment misses.
ofctl ct-flush br0 zone=1 \
    "ct_nw_src=198.51.100.2,ct_nw_dst=203.0.113.10,ct_nw_proto=6,ct_tp_src=40001,ct_tp_dst=80"
check "a flushed connection leaves the connection tracker" eq "$(conntrack 40001)" "" "entry"
receive "$(seg 40001 ack)"
check "... and its next segment goes to the controller" eq "$(to_controller)" $((pi + 2)) "packet-ins"

# 7. An IPv6 underlay: the address in ct_label, out with tun_ipv6_dst.
ofctl packet-out br0 "in_port=controller packet=$(seg 40002 ack) actions=$(./tests/pipeline-print forward fd00::66)"
check "an IPv6 server's address goes to ct_label" \
    mark_is 40002 "1,labels=0xfd000000000000000000000000000066"
appctl ofproto/trace br0 "in_port=1,$client,tp_src=40002,tcp_flags=ack,ct_mark=1,ct_label=0xfd000000000000000000000000000066" \
    --ct-next 'trk,est' > "$SANDBOX/trace6" 2>&1 || true
check "... and a traced segment of it goes to its server (ct_label)" \
    grep -q "tun_ipv6_dst=fd00::66" "$SANDBOX/trace6"
finish
