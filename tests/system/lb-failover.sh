#!/bin/bash
# lb-failover.sh: health checking, ring membership and BGP on the namespace
# lab (issue 7), driven by the controllers themselves:
#   - kill -9 of a whole LB node: every other LB node drops it from its ring
#     within 1 s, and the edge router's route for the VIP drops its next hop
#     within 1 s more (no BGP hold timer);
#   - restarted: back in every ring and in the edge's ECMP set within 4 s
#     (1 s to rejoin the rings, then new BGP sessions to open);
#   - two adjacent LB nodes of 5 killed at once: both withdrawn, the others
#     converge, and new connections still succeed;
#   - a server node's agent stopped: unhealthy on every LB node within 2 s
#     and given no new connections; restarted, it gets them again.
# Times are measured from the moment the kill command returns.  Root only;
# run by 'make check-system'; needs FRR (utilities/ovslb-bootstrap).
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
[ -x /usr/lib/frr/bgpd ] || sys_skip "FRR not installed"
D=$OVSLB_LAB_DIR
VIP=203.0.113.10

requests_ok() {   # requests_ok N: N new connections, all answered
    local ok=0
    for _ in $(seq "$1"); do
        in_node cli curl -s -o /dev/null -m 3 "http://$VIP/" && ok=$((ok + 1))
    done
    [ "$ok" = "$1" ]
}

check "lab up (5 LB nodes, 3 server nodes)" lab up --lb 5 --servers 3
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up" lab demo --requests 20
check "edge routes the VIP over 5 LB nodes" wait_for 5000 hops_are 5

# One LB node killed and restarted.
t_kill0=$(now)
lab kill-lb 3 >/dev/null 2>&1
t_kill=$(now)
# The edge's route is polled first (one cheap 'ip route' a poll); when
# each node saw lb3 unhealthy is read from its log, as polling four
# nodes' ovslb/show takes a good part of a second on a loaded machine.
t_edge=$(wait_for 3000 hops_are 4)
t_ring=$(wait_for 3000 rings_are 4 1 2 4 5)
t_seen=$(seen_unhealthy 3 "$t_kill0" "$t_kill" 1 2 4 5)
echo "# lb3 killed: unhealthy on every other node after $t_seen ms (their logs), out of the edge's ECMP set after $t_edge ms; rings polled $t_ring ms later"
check "lb3 out of every other ring" [ "$t_ring" != timeout ]
check_timing "lb3 unhealthy on every other LB node within 1 s" \
    eval "[ '$t_seen' != unknown ] && within 1000 '$t_seen'"
check_timing "lb3 out of the edge's route within 2 s of the kill" \
    within 2000 "$t_edge"
check "new connections succeed without lb3" requests_ok 30
lab start-lb 3 >/dev/null 2>&1
t_back=$(wait_for 5000 rings_are 5 1 2 3 4 5)
t_hops=$(wait_for 5000 hops_are 5)
echo "# lb3 restarted: in every ring after $t_back ms, in the edge's route $t_hops ms later"
# Back in the rings within a second (PROTOCOL.md §8), then its announcers
# open new BGP sessions: a connect (the speaker's connect timer is 1 s),
# the OPENs and the UPDATE, 1.4 s typically, bounded at 3 s by bgp.sh.
# So 4 s (2.02 s seen in CI against the former bound of 2 s).
check_timing "lb3 back in every ring and in the edge's route within 4 s" \
    within 4000 "$t_back" "$t_hops"

# Two adjacent LB nodes killed at once.
lab kill-lb 2 >/dev/null 2>&1 & lab kill-lb 3 >/dev/null 2>&1; wait
t_ring=$(wait_for 3000 rings_are 3 1 4 5)
t_edge=$(wait_for 3000 hops_are 3)
echo "# lb2 and lb3 killed: rings of 3 after $t_ring ms, edge at 3 next hops $t_edge ms later"
check "two adjacent nodes killed: both out of every ring" \
    [ "$t_ring" != timeout ]
check "two adjacent nodes killed: both out of the edge's route" \
    [ "$t_edge" != timeout ]
check "new connections succeed with 3 LB nodes of 5" requests_ok 30
lab start-lb 2 >/dev/null 2>&1
lab start-lb 3 >/dev/null 2>&1
check "both back" wait_for 5000 rings_are 5 1 2 3 4 5

# A server node's agent stopped.
kill -9 "$(cat "$D/srv2/ovslb-agent.pid")"
server_down_everywhere() {
    local k
    for k in 1 2 3 4 5; do
        ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/health \
            | grep -Eq "server +102 +unhealthy" || return 1
    done
}
t_srv=$(wait_for 4000 server_down_everywhere)
echo "# srv2's agent killed: unhealthy on every LB node after $t_srv ms"
check_timing "a stopped agent is unhealthy on every LB node within 2 s" \
    within 2000 "$t_srv"
before=$(grep -c ' /' "$D/srv2/nginx-access.log")
check "new connections succeed without srv2" requests_ok 30
after=$(grep -c ' /' "$D/srv2/nginx-access.log")
check "srv2 got no new connection while its agent was down" \
    [ "$before" = "$after" ]
check "agent restarted" lab up --lb 5 --servers 3
server_up_everywhere() {
    local k
    for k in 1 2 3 4 5; do
        ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/health \
            | grep -Eq "server +102 +healthy" || return 1
    done
}
check "srv2 healthy again everywhere" wait_for 5000 server_up_everywhere
check "srv2 serves again" bash -c "
    for i in \$(seq 60); do
        ip netns exec ovslb-cli curl -s -m 3 http://$VIP/ | grep -q srv2 && exit 0
    done
    exit 1"

# Hostile control messages: a copy of a real message from lb2 to lb1 sent
# again (replayed), and the same with its MAC altered.  Both are rejected
# and counted, and change nothing.
rejected_count() {   # rejected_count PATTERN: lb1's rejections matching it
    ovs-appctl -t "$D/lb1/ovslb-controller.ctl" ovslb/stats \
        | awk -v p="$1" 'index($0, "rejected (") && $0 ~ p { n += $NF }
                         END { print n + 0 }'
}
mac0=$(rejected_count "MAC mismatch")
replay0=$(rejected_count "replayed|below window")
in_node lb2 /usr/bin/python3 - > "$D/hostile.txt" 2>&1 <<'PYTHON'
import socket, sys
from scapy.all import sniff, UDP, conf
conf.verb = 0
pkts = sniff(iface="br-phy",
             filter="udp and src host 10.2.0.12 and dst host 10.2.0.11 "
                    "and dst port 7700", count=1, timeout=5)
if not pkts:
    print("no message from lb2 to lb1 seen"); sys.exit(1)
data = bytes(pkts[0][UDP].payload)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.0.12", 0))
s.sendto(data, ("10.2.0.11", 7700))                  # replayed
bad = bytearray(data); bad[-1] ^= 0x01
s.sendto(bytes(bad), ("10.2.0.11", 7700))            # MAC altered
print("sent a replayed message (type %d) and an altered one" % data[5])
PYTHON
sed 's/^/# /' "$D/hostile.txt"
sleep 0.5
check "a message with an altered MAC is rejected and counted" \
    [ "$(rejected_count "MAC mismatch")" -gt "$mac0" ]
check "a replayed message is rejected and counted" \
    [ "$(rejected_count "replayed|below window")" -gt "$replay0" ]
check "the rings did not change" rings_are 5 1 2 3 4 5

check "lab down" lab down
sys_finish
