#!/bin/bash
# least-conn.sh: the least-connections algorithm fed by the agents' LOAD
# reports, and draining (issue 16).  With server 101 holding 50 long-lived
# connections of the echo VIP (the other two drained while they were
# opened), 300 new connections to that VIP go at least 80 % to the other
# two servers; every LB node shows server 101's reported connections, and
# no report is refused.  Then server 101 is drained (weight 0): no new
# connection goes there, and its 50 streams run to the end unbroken.  Root
# only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
PY=${PYTHON:-python3}
STREAMS=$srcdir/tests/system/streams.py
STREAMS_PID=
trap '[ -z "$STREAMS_PID" ] || kill -KILL "$STREAMS_PID" 2>/dev/null; sys_cleanup' EXIT

# accepted K: connection requests that server node K's agent accepted.
accepted() {
    ovs-appctl --timeout=5 -t "$D/srv$1/ovslb-agent.ctl" ovslb/stats \
        | awk '$1 == "accepted:" { print $2; exit }'
}
# reported_conns K: the connections LB node K last heard server 101 report
# on the echo VIP port (-1 if none).
reported_conns() {
    ovs-appctl --timeout=5 -t "$D/lb$1/ovslb-controller.ctl" ovslb/flows \
        | sed -n "s/^  $VIP:9000\/tcp server 101: conns \([0-9]*\) .*/\1/p" \
        | grep . || echo -1
}
every_lb_sees_50() {
    local k
    for k in 1 2 3; do
        [ "$(reported_conns "$k")" -ge 50 ] || return 1
    done
}
st() { streams_status "$D/streams.status" "$1"; }
established() {
    [ "$(st established)" = 50 ]
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up (demo of 20 requests)" lab demo --requests 20

# 50 long-lived connections, all on server 101: the others drained.
check "echo VIP: least-connections, servers 102 and 103 drained" \
    octl --wait=all vip-set echo algorithm=least-connections \
    -- --may-exist vip-server-add echo 102 0 \
    -- --may-exist vip-server-add echo 103 0
a1=$(accepted 1)
ip netns exec ovslb-cli "$PY" "$STREAMS" run --vip "$VIP" --conns 50 \
    --http-rate 0 --chunk 64 --interval 1 --stall 10 --duration 120 \
    --status "$D/streams.status" --events "$D/streams.events" \
    >"$D/streams.summary" 2>"$D/streams.stderr" &
STREAMS_PID=$!
check "50 streams established" wait_for 30000 established
held=$(( $(accepted 1) - a1 ))
echo "# server 101 accepted $held of the 50 streams"
check "server 101 holds the 50 streams" [ "$held" = 50 ]
check "every LB node has server 101's report of 50 connections" \
    wait_for 10000 every_lb_sees_50
check "servers 102 and 103 back in service" \
    octl --wait=all -- --may-exist vip-server-add echo 102 1 \
    -- --may-exist vip-server-add echo 103 1

# 300 new connections, one after the other: connect, echo a line, close.
b1=$(accepted 1) b2=$(accepted 2) b3=$(accepted 3)
ok=$(echo_conns 300)
n1=$(( $(accepted 1) - b1 )) n2=$(( $(accepted 2) - b2 ))
n3=$(( $(accepted 3) - b3 ))
echo "# 300 new connections: $ok echoed; accepted by 101: $n1, 102: $n2, 103: $n3"
check "all 300 new connections echoed" [ "$ok" = 300 ]
check "at least 80 % of them on servers 102 and 103" \
    [ $((n2 + n3)) -ge 240 ]
check "servers 102 and 103 shared them" \
    bash -c "[ $n2 -ge 60 ] && [ $n3 -ge 60 ]"
check "the LB nodes recorded load reports" [ "$(lb_stat_sum load_entries)" -gt 0 ]
check "no load report refused" [ "$(lb_stat_sum load_rejected)" = 0 ]

# Drain: server 101 at weight 0 gets no new connection, and its 50 streams
# go on (checked at the end).
check "server 101 drained (weight 0)" \
    octl --wait=all -- --may-exist vip-server-add echo 101 0
b1=$(accepted 1)
ok=$(echo_conns 50)
n1=$(( $(accepted 1) - b1 ))
echo "# drained: $ok of 50 new connections echoed, $n1 on server 101"
check "all 50 new connections echoed, none on the drained server" \
    bash -c "[ $ok = 50 ] && [ $n1 = 0 ]"
check "the 50 streams still flow on the drained server" established

kill -TERM "$STREAMS_PID" 2>/dev/null
wait "$STREAMS_PID"
rc=$?
STREAMS_PID=
echo "# streams: $(cat "$D/streams.summary")"
check "the 50 streams ran to the end unbroken" [ "$rc" = 0 ]
check "lab down" lab down
sys_finish
