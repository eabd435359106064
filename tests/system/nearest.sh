#!/bin/bash
# nearest.sh: the "nearest" selection algorithm in the 3 + 3 lab (issue
# 16).  Every LB node and server 101 are in zone a, servers 102 and 103 in
# zone b: new connections to the echo VIP go to server 101 (at least 95 %
# of 300); with server 101 drained (weight 0) they go to 102 and 103, and
# with zones cleared they spread over all three again.  Root only; run by
# 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
trap 'sys_cleanup' EXIT

accepted() {
    ovs-appctl --timeout=5 -t "$D/srv$1/ovslb-agent.ctl" ovslb/stats \
        | awk '$1 == "accepted:" { print $2; exit }'
}
zones_shown() {   # every LB node's ovslb/show names its zone and 101's
    local k
    for k in 1 2 3; do
        ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" ovslb/show \
            | grep -q "^LB node $k, zone a$" || return 1
        ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" ovslb/show \
            | grep -q ' 101(w1,zone=a)' || return 1
    done
}
# spread N: opens N echo connections; prints "ok n1 n2 n3"
spread() {
    local b1 b2 b3 ok
    b1=$(accepted 1) b2=$(accepted 2) b3=$(accepted 3)
    ok=$(echo_conns "$1")
    echo "$ok $(( $(accepted 1) - b1 )) $(( $(accepted 2) - b2 )) $(( $(accepted 3) - b3 ))"
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up (demo of 20 requests)" lab demo --requests 20

check "zones: LB nodes 1-3 and server 101 in a, servers 102 and 103 in b; echo VIP nearest" \
    octl --wait=all lb-node-set 1 zone=a -- lb-node-set 2 zone=a \
    -- lb-node-set 3 zone=a -- server-set 101 zone=a \
    -- server-set 102 zone=b -- server-set 103 zone=b \
    -- vip-set echo algorithm=nearest
check "every LB node shows its zone and server 101's" wait_for 10000 zones_shown

read -r ok n1 n2 n3 < <(spread 300)
echo "# nearest, 300 new connections: $ok echoed; accepted by 101: $n1, 102: $n2, 103: $n3"
check "all 300 new connections echoed" [ "$ok" = 300 ]
check "at least 95 % of them on server 101, the only one in the LB nodes' zone" \
    [ "$n1" -ge 285 ]

check "server 101 drained (weight 0)" \
    octl --wait=all -- --may-exist vip-server-add echo 101 0
read -r ok n1 n2 n3 < <(spread 100)
echo "# 101 drained, 100 new connections: $ok echoed; accepted by 101: $n1, 102: $n2, 103: $n3"
check "all 100 echoed, none on the drained server, both others used" \
    bash -c "[ $ok = 100 ] && [ $n1 = 0 ] && [ $n2 -ge 20 ] && [ $n3 -ge 20 ]"

check "server 101 back; every zone cleared" \
    octl --wait=all -- --may-exist vip-server-add echo 101 1 \
    -- lb-node-set 1 zone= -- lb-node-set 2 zone= -- lb-node-set 3 zone= \
    -- server-set 101 zone= -- server-set 102 zone= -- server-set 103 zone=
read -r ok n1 n2 n3 < <(spread 150)
echo "# no zones, 150 new connections: $ok echoed; accepted by 101: $n1, 102: $n2, 103: $n3"
check "all 150 echoed, spread over the three servers" \
    bash -c "[ $ok = 150 ] && [ $n1 -ge 20 ] && [ $n2 -ge 20 ] && [ $n3 -ge 20 ]"

check "lab down" lab down
sys_finish
